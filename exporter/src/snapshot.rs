//! A finished scrape, frozen for serving. Building a [`Snapshot`] applies YACE's consistency
//! rules: every series of a metric name carries the union of that name's label names (missing
//! ones as `""`), and a later series with the same name, labels and timestamp as an earlier one
//! is dropped and counted. Series are sorted by labels, then timestamp, within each name.
//! `/metrics` only encodes the latest snapshot; it never calls AWS.
//!
//! A snapshot stores each family's samples as a label set, a value and a timestamp; a padded
//! label set is built once per resource and family shape and shared by all the families of that
//! shape ([`Interner`]), its strings shared with the scrape's series.
//!
//! The snapshot writes its own exposition ([`Snapshot::write`]), a piece at a time, so that
//! `/metrics` streams it: prometheus-client can only write a registry whole, and cannot write a
//! sample timestamp. The families without a timestamp come first, by name, in the shape and
//! spelling prometheus-client gave them when it wrote them; then the families with a timestamp
//! on any series, whole, each value with its timestamp: seconds in OpenMetrics, integer
//! milliseconds in the classic text format. [`encode`] writes one snapshot whole.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::MetricType;

use crate::labels::{Interner, Labels};
use crate::logs;
use crate::scrape::Series;

/// YACE's HELP text for every CloudWatch series; kept so the exposition matches.
const HELP: &str = "Help is not implemented yet.";

/// One series' labels, or one of its datapoints with `exportAllDataPoints`.
#[derive(Debug, PartialEq)]
struct Sample {
    /// Sorted by name, padded to the family's label names.
    labels: Labels,
    timestamp: Option<SystemTime>,
    value: f64,
}

/// The samples of one metric name, with how they are written.
#[derive(Debug, PartialEq)]
struct Family {
    name: Arc<str>,
    /// A logs job's counter; every other family is a gauge.
    counter: bool,
    help: &'static str,
    /// A timestamp on any of its samples: the family is written whole, after the others.
    timestamped: bool,
    /// Never empty.
    samples: Vec<Sample>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Snapshot {
    /// In the order they are written: those without timestamps by name, then the others.
    families: Vec<Family>,
    duplicates: usize,
}

/// How far [`Snapshot::write`] has got: the next sample to write.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursor {
    family: usize,
    sample: usize,
}

impl Snapshot {
    pub fn new(series: impl IntoIterator<Item = Series>) -> Self {
        let mut by_name: BTreeMap<Arc<str>, Vec<Sample>> = BTreeMap::new();
        for s in series {
            by_name.entry(s.name).or_default().push(Sample {
                labels: s.labels,
                timestamp: s.timestamp,
                value: s.value,
            });
        }

        let mut interner = Interner::default();
        let missing = interner.text("");
        let mut duplicates = 0;
        let mut families: Vec<Family> = by_name
            .into_iter()
            .map(|(name, mut samples)| {
                let names: BTreeSet<Arc<str>> = samples
                    .iter()
                    .flat_map(|sample| sample.labels.pairs().iter().map(|(name, _)| name.clone()))
                    .collect();
                // One padded set per resource and family shape, whatever the families.
                for sample in &mut samples {
                    sample.labels = interner.share(padded(&sample.labels, &names, &missing));
                }

                // A stable order, whatever order the jobs finished in: diffs and golden files
                // stay readable; oldest first within a series, as OpenMetrics requires. The sort
                // is stable, so of samples with the same labels and timestamp
                // (`exportAllDataPoints` gives one series several timestamps) the first one
                // scraped is the one kept.
                samples.sort_by(|a, b| (&a.labels, a.timestamp).cmp(&(&b.labels, b.timestamp)));
                let before = samples.len();
                samples.dedup_by(|later, earlier| {
                    later.labels == earlier.labels && later.timestamp == earlier.timestamp
                });
                duplicates += before - samples.len();
                Family::new(name, samples)
            })
            .collect();
        // Stable: by name within each part.
        families.sort_by_key(|family| family.timestamped);
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
        self.families
            .iter()
            .map(|family| family.samples.len())
            .sum()
    }

    /// Appends the exposition from `cursor` on to `out`, whole lines, until `out` holds `bytes`
    /// or more (at least one sample is written) or the snapshot is written to the end; returns
    /// whether any is left. In the classic text format a counter family is named after its
    /// samples (`x_total`), as `promtool check metrics` expects; OpenMetrics names it `x`.
    pub fn write(
        &self,
        cursor: &mut Cursor,
        out: &mut String,
        bytes: usize,
        openmetrics: bool,
    ) -> bool {
        while let Some(family) = self.families.get(cursor.family) {
            if cursor.sample == 0 {
                family.write_descriptor(out, openmetrics);
            }
            family.write_sample(&family.samples[cursor.sample], out, openmetrics);
            cursor.sample += 1;
            if cursor.sample == family.samples.len() {
                *cursor = Cursor {
                    family: cursor.family + 1,
                    sample: 0,
                };
            }
            if out.len() >= bytes {
                break;
            }
        }
        cursor.family < self.families.len()
    }
}

/// `labels` with exactly `names`, in their order: the last value given for a name, as YACE's
/// map of labels reads a repeated one, and `missing` for a name not given.
fn padded(labels: &Labels, names: &BTreeSet<Arc<str>>, missing: &Arc<str>) -> Labels {
    names
        .iter()
        .map(|name| {
            let given = labels.pairs().iter().rev().find(|(given, _)| given == name);
            (
                name.clone(),
                given.map_or(missing, |(_, value)| value).clone(),
            )
        })
        .collect()
}

impl Family {
    fn new(name: Arc<str>, samples: Vec<Sample>) -> Self {
        let timestamped = samples.iter().any(|sample| sample.timestamp.is_some());
        // Logs jobs' series have help text and counters of their own; CloudWatch's are gauges
        // with YACE's help text, and so is any family with timestamps.
        let (kind, help) = match timestamped {
            true => None,
            false => logs::descriptor(&name),
        }
        .unwrap_or((MetricType::Gauge, HELP));
        Family {
            name,
            counter: matches!(kind, MetricType::Counter),
            help,
            timestamped,
            samples,
        }
    }

    fn write_descriptor(&self, out: &mut String, openmetrics: bool) {
        let (suffix, kind) = match (self.counter, openmetrics) {
            (true, true) => ("", "counter"),
            (true, false) => ("_total", "counter"),
            (false, _) => ("", "gauge"),
        };
        for (line, text) in [("# HELP ", self.help), ("# TYPE ", kind)] {
            out.push_str(line);
            out.push_str(&self.name);
            out.push_str(suffix);
            out.push(' ');
            out.push_str(text);
            out.push('\n');
        }
    }

    fn write_sample(&self, sample: &Sample, out: &mut String, openmetrics: bool) {
        out.push_str(&self.name);
        if self.counter {
            out.push_str("_total");
        }
        out.push('{');
        for (index, (label, value)) in sample.labels.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(label);
            out.push_str("=\"");
            escape(value, out);
            out.push('"');
        }
        out.push_str("} ");
        match sample.value {
            // The exposition formats' spellings (Go's client, so YACE's), where
            // prometheus-client and dtoa write `inf`.
            f64::INFINITY => out.push_str("+Inf"),
            f64::NEG_INFINITY => out.push_str("-Inf"),
            // The shortest decimal that reads back the same (`1.0`, as prometheus-client
            // writes, but `1e20` where it writes `100000000000000000000.0`).
            value if self.timestamped => out.push_str(&format!("{value:?}")),
            value => out.push_str(dtoa::Buffer::new().format(value)),
        }
        if let Some(timestamp) = sample.timestamp {
            out.push(' ');
            out.push_str(&unix_time(timestamp, openmetrics));
        }
        out.push('\n');
    }
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
fn escape(value: &str, out: &mut String) {
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(character),
        }
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

/// Writes `snapshot` whole after whatever `out` holds: without the self-metrics and without
/// OpenMetrics' `# EOF`, which the server adds.
pub fn encode(out: &mut String, snapshot: Arc<Snapshot>, openmetrics: bool) -> std::fmt::Result {
    snapshot.write(&mut Cursor::default(), out, usize::MAX, openmetrics);
    Ok(())
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

    /// What [`encode`] writes, before the server's self-metrics and `# EOF`.
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
    fn a_family_with_one_timestamp_is_written_whole_after_the_families_without() {
        let snapshot = Snapshot::new(vec![
            series("aws_x_sum", &[("name", "a")], 1.0),
            stamped(series("aws_x_sum", &[("name", "b")], 2.0), 5_000),
            series("aws_z_sum", &[("name", "a")], 3.0),
        ]);
        assert_eq!(
            exposition(snapshot, false),
            "# HELP aws_z_sum Help is not implemented yet.\n\
             # TYPE aws_z_sum gauge\n\
             aws_z_sum{name=\"a\"} 3.0\n\
             # HELP aws_x_sum Help is not implemented yet.\n\
             # TYPE aws_x_sum gauge\n\
             aws_x_sum{name=\"a\"} 1.0\n\
             aws_x_sum{name=\"b\"} 2.0 5000\n"
        );
    }

    #[test]
    fn written_in_pieces_the_exposition_is_the_whole_one_cut_at_line_ends() {
        let mut all = Vec::new();
        for function in 0..40 {
            let name = format!("f{function}");
            all.push(series("aws_lambda_errors_sum", &[("name", &name)], 1.0));
            all.push(series(
                "aws_logs_lambda_invocations",
                &[("name", &name)],
                2.0,
            ));
            all.push(stamped(
                series("aws_lambda_duration_p99", &[("name", &name)], 3.0),
                1_000 * function,
            ));
        }
        let snapshot = Snapshot::new(all);
        for openmetrics in [false, true] {
            let mut whole = String::new();
            let more =
                Snapshot::default().write(&mut Cursor::default(), &mut whole, 1, openmetrics);
            assert!(!more && whole.is_empty());
            snapshot.write(&mut Cursor::default(), &mut whole, usize::MAX, openmetrics);
            for bytes in [1, 100, 1000] {
                let (mut cursor, mut pieces) = (Cursor::default(), Vec::new());
                loop {
                    let mut piece = String::new();
                    let more = snapshot.write(&mut cursor, &mut piece, bytes, openmetrics);
                    assert!(piece.ends_with('\n'), "{piece:?}");
                    pieces.push(piece);
                    if !more {
                        break;
                    }
                }
                // At one byte, a piece is one sample (and its family's descriptor, first).
                if bytes == 1 {
                    assert_eq!(pieces.len(), snapshot.series_count());
                }
                assert_eq!(pieces.concat(), whole);
            }
        }
    }

    #[test]
    fn a_resources_padded_label_set_is_one_allocation_for_all_its_families() {
        let labels = [("name", "f"), ("region", "r")];
        let snapshot = Snapshot::new(vec![
            series("aws_lambda_errors_sum", &labels, 1.0),
            series("aws_lambda_invocations_sum", &labels, 2.0),
            series("aws_lambda_invocations_sum", &[("name", "g")], 3.0),
        ]);
        let [errors, invocations] = &snapshot.families[..] else {
            panic!("two families: {snapshot:?}");
        };
        assert!(std::ptr::eq(
            errors.samples[0].labels.pairs(),
            invocations.samples[0].labels.pairs()
        ));
        assert_eq!(
            invocations.samples[1].labels.iter().collect::<Vec<_>>(),
            [("name", "g"), ("region", "")]
        );
    }
}
