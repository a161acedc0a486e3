//! A finished scrape, frozen for serving. Building a [`Snapshot`] applies YACE's consistency
//! rules: every series of a metric name carries the union of that name's label names (missing
//! ones as `""`), and a later series with the same name, labels and timestamp as an earlier one
//! is dropped and counted. Series are sorted by labels, then timestamp, within each name.
//! `/metrics` only encodes the latest snapshot; it never calls AWS.
//!
//! prometheus-client cannot write a sample timestamp, so it encodes only the families without
//! any (through [`SnapshotCollector`]); a family with a timestamp on any of its series is written
//! whole by [`Snapshot::write_timestamped`], in the same shape. [`encode`] does both from one
//! snapshot, so one exposition never mixes two scrapes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode_registry;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::logs;
use crate::scrape::Series;

/// YACE's HELP text for every CloudWatch series; kept so the exposition matches.
const HELP: &str = "Help is not implemented yet.";

type Labels = Vec<(String, String)>;

/// One series' labels, or one of its datapoints with `exportAllDataPoints`.
#[derive(Debug, PartialEq)]
struct Sample {
    labels: Labels,
    timestamp: Option<SystemTime>,
    value: f64,
}

#[derive(Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Metric name -> samples, labels sorted by name.
    families: BTreeMap<String, Vec<Sample>>,
    duplicates: usize,
}

impl Snapshot {
    pub fn new(series: Vec<Series>) -> Self {
        let mut label_names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in &series {
            let names = label_names.entry(s.name.clone()).or_default();
            for (name, _) in &s.labels {
                if !names.contains(name) {
                    names.insert(name.clone());
                }
            }
        }

        // Series are consumed as they are sorted into families, so their labels are moved,
        // not copied: at 100k series a copy is hundreds of megabytes.
        let mut families: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
        for s in series {
            let mut given: BTreeMap<String, String> = s.labels.into_iter().collect();
            let labels: Labels = label_names[&s.name]
                .iter()
                .map(|name| {
                    given
                        .remove_entry(name)
                        .unwrap_or_else(|| (name.clone(), String::new()))
                })
                .collect();
            families.entry(s.name).or_default().push(Sample {
                labels,
                timestamp: s.timestamp,
                value: s.value,
            });
        }

        // A stable order, whatever order the jobs finished in: diffs and golden files stay
        // readable; oldest first within a series, as OpenMetrics requires. The sort is stable,
        // so of samples with the same labels and timestamp (`exportAllDataPoints` gives one
        // series several timestamps) the first one scraped is the one kept.
        let mut duplicates = 0;
        for samples in families.values_mut() {
            samples.sort_by(|a, b| (&a.labels, a.timestamp).cmp(&(&b.labels, b.timestamp)));
            let before = samples.len();
            samples.dedup_by(|later, earlier| {
                later.labels == earlier.labels && later.timestamp == earlier.timestamp
            });
            duplicates += before - samples.len();
        }
        Snapshot {
            families,
            duplicates,
        }
    }

    /// Series dropped because an earlier one had the same name, labels and timestamp.
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    pub fn series_count(&self) -> usize {
        self.families.values().map(Vec::len).sum()
    }

    /// Writes the families that carry timestamps, which [`SnapshotCollector`] leaves out, in the
    /// shape prometheus-client writes the others, plus each sample's timestamp: seconds in
    /// OpenMetrics, integer milliseconds in the classic text format.
    pub fn write_timestamped(&self, out: &mut String, openmetrics: bool) -> std::fmt::Result {
        for (name, samples) in self.families.iter().filter(|(_, s)| timestamped(s)) {
            writeln!(out, "# HELP {name} {HELP}")?;
            writeln!(out, "# TYPE {name} gauge")?;
            for sample in samples {
                out.push_str(name);
                out.push('{');
                for (index, (label, value)) in sample.labels.iter().enumerate() {
                    let comma = if index == 0 { "" } else { "," };
                    write!(out, "{comma}{label}=\"{}\"", escape(value))?;
                }
                write!(out, "}} {}", number(sample.value))?;
                if let Some(timestamp) = sample.timestamp {
                    write!(out, " {}", unix_time(timestamp, openmetrics))?;
                }
                out.push('\n');
            }
        }
        Ok(())
    }
}

/// A family goes to [`Snapshot::write_timestamped`] whole as soon as one series has a
/// timestamp: a family split between two writers would be exposed twice.
fn timestamped(samples: &[Sample]) -> bool {
    samples.iter().any(|sample| sample.timestamp.is_some())
}

/// Seconds since the epoch in OpenMetrics (fractional only when needed), whole milliseconds
/// in the classic text format.
fn unix_time(timestamp: SystemTime, openmetrics: bool) -> String {
    let since_epoch = timestamp.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (seconds, nanos) = (since_epoch.as_secs(), since_epoch.subsec_nanos());
    if !openmetrics {
        since_epoch.as_millis().to_string()
    } else if nanos == 0 {
        seconds.to_string()
    } else {
        let fraction = format!("{nanos:09}");
        format!("{seconds}.{}", fraction.trim_end_matches('0'))
    }
}

/// A label value as prometheus-client escapes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: the shortest decimal that reads back the same, `1.0` rather than `1` as
/// prometheus-client writes, and the exposition formats' spellings of the non-finite values.
fn number(value: f64) -> String {
    match value {
        f64::INFINITY => "+Inf".to_owned(),
        f64::NEG_INFINITY => "-Inf".to_owned(),
        _ => format!("{value:?}"),
    }
}

/// The snapshot being served, replaced whole by each finished scrape.
#[derive(Debug, Default)]
pub struct Latest {
    snapshot: RwLock<Arc<Snapshot>>,
    /// A scrape has finished (a reload keeps it: the last snapshot goes on being served).
    ready: std::sync::atomic::AtomicBool,
}

impl Latest {
    pub fn replace(&self, snapshot: Snapshot) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(|poison| poison.into_inner()) = Arc::new(snapshot);
        self.ready.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether a first scrape has finished.
    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn get(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

/// Encodes one snapshot through prometheus-client, all but the families with timestamps,
/// which [`Snapshot::write_timestamped`] writes.
#[derive(Debug)]
pub struct SnapshotCollector(pub Arc<Snapshot>);

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (name, samples) in &self.0.families {
            if timestamped(samples) {
                continue;
            }
            // Logs jobs' series have help text and counters of their own; CloudWatch's are
            // gauges with YACE's help text.
            let (kind, help) = logs::descriptor(name).unwrap_or((MetricType::Gauge, HELP));
            let mut family = encoder.encode_descriptor(name, help, None, kind)?;
            for sample in samples {
                let encoder = family.encode_family(&sample.labels)?;
                match kind {
                    MetricType::Counter => ConstCounter::new(sample.value).encode(encoder)?,
                    _ => ConstGauge::new(sample.value).encode(encoder)?,
                }
            }
        }
        Ok(())
    }
}

/// Encodes `snapshot` whole (prometheus-client's OpenMetrics without `# EOF`, then the
/// timestamped families in the format asked for) after whatever `out` holds.
pub fn encode(out: &mut String, snapshot: Arc<Snapshot>, openmetrics: bool) -> std::fmt::Result {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector(snapshot.clone())));
    encode_registry(out, &registry)?;
    snapshot.write_timestamped(out, openmetrics)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn series(name: &str, labels: &[(&str, &str)], value: f64) -> Series {
        Series {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
            timestamp: None,
        }
    }

    fn stamped(series: Series, millis_since_epoch: u64) -> Series {
        Series {
            timestamp: Some(UNIX_EPOCH + Duration::from_millis(millis_since_epoch)),
            ..series
        }
    }

    /// What [`encode`] writes, before the server's `# EOF` or classic renaming.
    fn exposition(snapshot: Snapshot, openmetrics: bool) -> String {
        let mut text = String::new();
        encode(&mut text, Arc::new(snapshot), openmetrics).unwrap();
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
            exposition(snapshot, true),
            "# HELP aws_lambda_errors_sum Help is not implemented yet.\n\
             # TYPE aws_lambda_errors_sum gauge\n\
             aws_lambda_errors_sum{dimension_Resource=\"\",name=\"a\",region=\"r\"} 1.0\n\
             aws_lambda_errors_sum{dimension_Resource=\"x\",name=\"b\",region=\"r\"} 2.0\n"
        );
    }

    #[test]
    fn label_values_are_escaped_and_nan_is_spelled_out() {
        let snapshot = Snapshot::new(vec![series(
            "aws_custom_x_average",
            &[("name", "say \"hi\"\\\n")],
            f64::NAN,
        )]);
        let text = exposition(snapshot, false);
        assert!(
            text.contains("aws_custom_x_average{name=\"say \\\"hi\\\"\\\\\\n\"} NaN\n"),
            "{text}"
        );
    }

    #[test]
    fn timestamped_label_values_are_escaped_as_prometheus_client_escapes_them() {
        let value = "say \"hi\"\\\n";
        let plain = exposition(
            Snapshot::new(vec![series("aws_x_average", &[("name", value)], 1.0)]),
            false,
        );
        let timestamped = exposition(
            Snapshot::new(vec![stamped(
                series("aws_x_average", &[("name", value)], 1.0),
                1_000,
            )]),
            false,
        );
        assert_eq!(timestamped, plain.replace(" 1.0\n", " 1.0 1000\n"));
    }

    #[test]
    fn timestamps_are_seconds_in_openmetrics_and_milliseconds_in_classic_text() {
        let snapshot = || {
            Snapshot::new(vec![
                stamped(
                    series("aws_sqs_sent_sum", &[("name", "q"), ("region", "r")], 3.0),
                    1_800_000_000_000,
                ),
                stamped(
                    series("aws_sqs_sent_sum", &[("name", "p")], 2.5),
                    1_800_000_060_250,
                ),
                series("aws_sqs_age_maximum", &[("name", "q")], 7.0),
            ])
        };
        // prometheus-client writes the family without timestamps; the timestamped one follows.
        let families = "# HELP aws_sqs_age_maximum Help is not implemented yet.\n\
                        # TYPE aws_sqs_age_maximum gauge\n\
                        aws_sqs_age_maximum{name=\"q\"} 7.0\n\
                        # HELP aws_sqs_sent_sum Help is not implemented yet.\n\
                        # TYPE aws_sqs_sent_sum gauge\n";
        assert_eq!(
            exposition(snapshot(), true),
            format!(
                "{families}\
                 aws_sqs_sent_sum{{name=\"p\",region=\"\"}} 2.5 1800000060.25\n\
                 aws_sqs_sent_sum{{name=\"q\",region=\"r\"}} 3.0 1800000000\n"
            )
        );
        assert_eq!(
            exposition(snapshot(), false),
            format!(
                "{families}\
                 aws_sqs_sent_sum{{name=\"p\",region=\"\"}} 2.5 1800000060250\n\
                 aws_sqs_sent_sum{{name=\"q\",region=\"r\"}} 3.0 1800000000000\n"
            )
        );
    }

    #[test]
    fn same_labels_with_different_timestamps_are_all_kept_oldest_first() {
        let point = |value, millis| stamped(series("aws_x_sum", &[("name", "a")], value), millis);
        let snapshot = Snapshot::new(vec![
            point(3.0, 120_000),
            point(2.0, 60_000),
            point(9.0, 120_000),
            point(1.0, 0),
        ]);
        // Only the repeat of (labels, 120 s) is a duplicate.
        assert_eq!(snapshot.duplicates(), 1);
        assert_eq!(
            exposition(snapshot, false),
            "# HELP aws_x_sum Help is not implemented yet.\n\
             # TYPE aws_x_sum gauge\n\
             aws_x_sum{name=\"a\"} 1.0 0\n\
             aws_x_sum{name=\"a\"} 2.0 60000\n\
             aws_x_sum{name=\"a\"} 3.0 120000\n"
        );
    }

    #[test]
    fn a_family_with_one_timestamp_is_written_whole_by_the_timestamped_writer_only() {
        let snapshot = || {
            Snapshot::new(vec![
                series("aws_x_sum", &[("name", "a")], 1.0),
                stamped(series("aws_x_sum", &[("name", "b")], 2.0), 5_000),
            ])
        };
        let mut registry = Registry::default();
        registry.register_collector(Box::new(SnapshotCollector(Arc::new(snapshot()))));
        let mut by_prometheus_client = String::new();
        encode_registry(&mut by_prometheus_client, &registry).unwrap();
        assert_eq!(by_prometheus_client, "");
        assert_eq!(
            exposition(snapshot(), false),
            "# HELP aws_x_sum Help is not implemented yet.\n\
             # TYPE aws_x_sum gauge\n\
             aws_x_sum{name=\"a\"} 1.0\n\
             aws_x_sum{name=\"b\"} 2.0 5000\n"
        );
    }
}
