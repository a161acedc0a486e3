//! A finished scrape, frozen for serving. Building a [`Snapshot`] applies YACE's consistency
//! rules: every series of a metric name carries the union of that name's label names (missing
//! ones as `""`), and a later series with the same name and labels as an earlier one is dropped
//! and counted. Series are sorted by labels within each name. `/metrics` only encodes the
//! latest snapshot; it never calls AWS.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::scrape::Series;

/// YACE's HELP text for every CloudWatch series; kept so the exposition matches.
const HELP: &str = "Help is not implemented yet.";

type Labels = Vec<(String, String)>;

#[derive(Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Metric name -> series, labels sorted by name.
    families: BTreeMap<String, Vec<(Labels, f64)>>,
    duplicates: usize,
}

impl Snapshot {
    pub fn new(series: Vec<Series>) -> Self {
        let mut label_names: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for s in &series {
            let names = label_names.entry(&s.name).or_default();
            names.extend(s.labels.iter().map(|(name, _)| name.as_str()));
        }

        let mut families: BTreeMap<String, Vec<(Labels, f64)>> = BTreeMap::new();
        let mut seen = HashSet::new();
        let mut duplicates = 0;
        for s in &series {
            let mut labels: BTreeMap<&str, &str> = label_names[s.name.as_str()]
                .iter()
                .map(|&name| (name, ""))
                .collect();
            for (name, value) in &s.labels {
                labels.insert(name, value);
            }
            let labels: Labels = labels
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect();
            if !seen.insert((s.name.clone(), labels.clone())) {
                duplicates += 1;
                continue;
            }
            families
                .entry(s.name.clone())
                .or_default()
                .push((labels, s.value));
        }
        // A stable order, whatever order the jobs finished in: diffs and golden files stay
        // readable.
        for series in families.values_mut() {
            series.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Snapshot {
            families,
            duplicates,
        }
    }

    /// Series dropped because an earlier one had the same name and labels.
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    pub fn series_count(&self) -> usize {
        self.families.values().map(Vec::len).sum()
    }
}

/// The snapshot being served, replaced whole by each finished scrape.
#[derive(Debug, Default)]
pub struct Latest(RwLock<Arc<Snapshot>>);

impl Latest {
    pub fn replace(&self, snapshot: Snapshot) {
        *self.0.write().unwrap_or_else(|poison| poison.into_inner()) = Arc::new(snapshot);
    }

    pub fn get(&self) -> Arc<Snapshot> {
        self.0
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

/// Encodes the latest snapshot into a prometheus-client registry at scrape time.
#[derive(Debug)]
pub struct SnapshotCollector(pub Arc<Latest>);

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshot = self.0.get();
        for (name, series) in &snapshot.families {
            let mut family = encoder.encode_descriptor(name, HELP, None, MetricType::Gauge)?;
            for (labels, value) in series {
                ConstGauge::new(*value).encode(family.encode_family(labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::registry::Registry;

    use super::*;

    fn series(name: &str, labels: &[(&str, &str)], value: f64) -> Series {
        Series {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    fn exposition(snapshot: Snapshot) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(SnapshotCollector(Arc::new(Latest(RwLock::new(
            Arc::new(snapshot),
        ))))));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn label_sets_are_padded_to_their_union_and_duplicates_dropped() {
        let snapshot = Snapshot::new(vec![
            series(
                "aws_lambda_errors_sum",
                &[("name", "a"), ("region", "r")],
                1.0,
            ),
            series(
                "aws_lambda_errors_sum",
                &[("name", "b"), ("region", "r"), ("dimension_Resource", "x")],
                2.0,
            ),
            series(
                "aws_lambda_errors_sum",
                &[("region", "r"), ("name", "a")],
                3.0,
            ),
        ]);
        assert_eq!(snapshot.duplicates(), 1);
        assert_eq!(snapshot.series_count(), 2);
        assert_eq!(
            exposition(snapshot),
            "# HELP aws_lambda_errors_sum Help is not implemented yet.\n\
             # TYPE aws_lambda_errors_sum gauge\n\
             aws_lambda_errors_sum{dimension_Resource=\"\",name=\"a\",region=\"r\"} 1.0\n\
             aws_lambda_errors_sum{dimension_Resource=\"x\",name=\"b\",region=\"r\"} 2.0\n\
             # EOF\n"
        );
    }

    #[test]
    fn label_values_are_escaped_and_nan_is_spelled_out() {
        let snapshot = Snapshot::new(vec![series(
            "aws_custom_x_average",
            &[("name", "say \"hi\"\\\n")],
            f64::NAN,
        )]);
        let text = exposition(snapshot);
        assert!(
            text.contains("aws_custom_x_average{name=\"say \\\"hi\\\"\\\\\\n\"} NaN\n"),
            "{text}"
        );
    }
}
