//! The function's CloudWatch metrics, as Embedded Metric Format documents: JSON objects written
//! one a line straight to stdout, which CloudWatch Logs turns into metrics without a call to
//! CloudWatch. They bypass the log formatter, which would nest them in its own JSON where
//! CloudWatch no longer finds them.
//!
//! One invocation's [`Tally`] becomes:
//! - one document under the dimension set `[FunctionName, Environment]` with every metric,
//!   zeros included, so the alarms on that set see data whenever the function ran;
//! - one document per error type that occurred, `ProcessingErrors` under
//!   `[FunctionName, Environment, ErrorType]`. Types that did not occur are not written as
//!   zeros: the alarm reads the total above, and eleven zero lines per invocation would only
//!   cost log ingestion;
//! - when more than 100 images were timed (EMF's limit of values in one array), documents with
//!   the rest of the `ProcessingTime` values.
//!
//! `ImagesSkipped` counts stale events. `BytesIn` and `BytesOut` count processed images only,
//! so their ratio is the size reduction achieved.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::error::ErrorType;

pub const NAMESPACE: &str = "ImageProcessing";
/// EMF's limit of values in one metric array.
const MAX_VALUES: usize = 100;

/// What one invocation did, counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub images_processed: u64,
    pub images_skipped: u64,
    /// Milliseconds per processed image.
    pub processing_time_ms: Vec<f64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub errors: BTreeMap<ErrorType, u64>,
}

impl Tally {
    pub fn processed(&mut self, milliseconds: f64, bytes_in: u64, bytes_out: u64) {
        self.images_processed += 1;
        self.processing_time_ms.push(milliseconds);
        self.bytes_in += bytes_in;
        self.bytes_out += bytes_out;
    }

    pub fn skipped(&mut self) {
        self.images_skipped += 1;
    }

    pub fn failed(&mut self, error_type: ErrorType) {
        *self.errors.entry(error_type).or_default() += 1;
    }

    pub fn processing_errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The values of the dimensions every metric carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimensions {
    pub function_name: String,
    pub environment: String,
}

/// The EMF documents for `tally`, stamped `time`. `request_id` is a property (searchable in
/// the logs), never a dimension: each of its values would be a separately billed metric.
pub fn documents(
    tally: &Tally,
    dimensions: &Dimensions,
    request_id: &str,
    time: SystemTime,
) -> Vec<Value> {
    let timestamp = time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    });
    let document = |dimension_names: &[&str], metrics: &[(&str, &str, Value)]| {
        let mut members = Map::new();
        members.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [dimension_names],
                    "Metrics": metrics
                        .iter()
                        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                        .collect::<Vec<_>>(),
                }],
            }),
        );
        members.insert(
            "FunctionName".into(),
            dimensions.function_name.clone().into(),
        );
        members.insert("Environment".into(), dimensions.environment.clone().into());
        members.insert("requestId".into(), request_id.into());
        for (name, _, value) in metrics {
            members.insert((*name).into(), value.clone());
        }
        members
    };
    const SHARED: [&str; 2] = ["FunctionName", "Environment"];

    let mut times = tally.processing_time_ms.chunks(MAX_VALUES);
    let mut totals = vec![
        ("ImagesProcessed", "Count", tally.images_processed.into()),
        ("ImagesSkipped", "Count", tally.images_skipped.into()),
        (
            "ProcessingErrors",
            "Count",
            tally.processing_errors().into(),
        ),
        ("BytesIn", "Bytes", tally.bytes_in.into()),
        ("BytesOut", "Bytes", tally.bytes_out.into()),
    ];
    // An empty array would be a metric without a value; idle invocations have no times.
    if let Some(first) = times.next() {
        totals.push(("ProcessingTime", "Milliseconds", first.into()));
    }
    let mut documents = vec![Value::Object(document(&SHARED, &totals))];
    for (error_type, count) in &tally.errors {
        let mut members = document(
            &["FunctionName", "Environment", "ErrorType"],
            &[("ProcessingErrors", "Count", (*count).into())],
        );
        members.insert("ErrorType".into(), error_type.as_str().into());
        documents.push(Value::Object(members));
    }
    for rest in times {
        documents.push(Value::Object(document(
            &SHARED,
            &[("ProcessingTime", "Milliseconds", rest.into())],
        )));
    }
    documents
}

/// Writes `documents` one a line, in one write, so no other output lands between them.
pub fn write(out: &mut impl Write, documents: &[Value]) -> std::io::Result<()> {
    let mut lines = String::new();
    for document in documents {
        lines.push_str(&document.to_string());
        lines.push('\n');
    }
    out.write_all(lines.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimensions() -> Dimensions {
        Dimensions {
            function_name: "f".into(),
            environment: "dev".into(),
        }
    }

    #[test]
    fn idle_invocation_still_reports_zero_errors() {
        let documents = documents(&Tally::default(), &dimensions(), "r", UNIX_EPOCH);
        assert_eq!(documents.len(), 1);
        assert_eq!(documents[0]["ProcessingErrors"], 0);
        assert_eq!(documents[0]["ImagesProcessed"], 0);
        assert!(documents[0].get("ProcessingTime").is_none());
    }

    #[test]
    fn more_than_a_hundred_times_are_split_across_documents() {
        let mut tally = Tally::default();
        for i in 0..250 {
            tally.processed(f64::from(i), 1, 1);
        }
        let documents = documents(&tally, &dimensions(), "r", UNIX_EPOCH);
        let sizes: Vec<usize> = documents
            .iter()
            .map(|d| d["ProcessingTime"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert_eq!(documents[0]["ImagesProcessed"], 250);
        assert!(documents[1].get("ImagesProcessed").is_none());
    }

    #[test]
    fn documents_are_written_one_a_line() {
        let mut tally = Tally::default();
        tally.failed(ErrorType::Corrupt);
        let mut out = Vec::new();
        write(&mut out, &documents(&tally, &dimensions(), "r", UNIX_EPOCH)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for line in lines {
            assert!(serde_json::from_str::<Value>(line).unwrap().is_object());
        }
    }
}
