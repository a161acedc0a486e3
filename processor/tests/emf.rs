//! The metrics documents against the Embedded Metric Format's rules and against a golden
//! file, `tests/golden/emf.jsonl`, one document a line as stdout gets them. After a deliberate
//! change, `UPDATE_GOLDEN=1 cargo test -p processor --test emf` rewrites the file; review the
//! diff, it is what CloudWatch will extract.

use std::collections::HashSet;
use std::time::{Duration, UNIX_EPOCH};

use processor::ErrorType;
use processor::metrics::{self, Dimensions, NAMESPACE, Tally};
use serde_json::Value;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/emf.jsonl");

/// The units CloudWatch accepts.
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Every way `document` breaks the format's rules: the `_aws` member with a millisecond
/// `Timestamp` and `CloudWatchMetrics` directives, each with a `Namespace`, `Dimensions` as a
/// list of lists of root members holding strings, and `Metrics` naming root members holding a
/// number or at most 100 numbers, with a known unit.
fn violations(document: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let Some(root) = document.as_object() else {
        return vec!["the document is not an object".into()];
    };
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else {
        return vec!["no _aws object".into()];
    };
    // Milliseconds: from 2001 on, an integer of at least 13 digits.
    match aws.get("Timestamp").and_then(Value::as_u64) {
        Some(ms) if ms >= 1_000_000_000_000 => {}
        other => found.push(format!(
            "_aws.Timestamp {other:?} is not epoch milliseconds"
        )),
    }
    let Some(directives) = aws.get("CloudWatchMetrics").and_then(Value::as_array) else {
        found.push("_aws.CloudWatchMetrics is not a list".into());
        return found;
    };
    if directives.is_empty() {
        found.push("_aws.CloudWatchMetrics is empty".into());
    }
    for (d, directive) in directives.iter().enumerate() {
        let at = format!("CloudWatchMetrics[{d}]");
        match directive.get("Namespace").and_then(Value::as_str) {
            Some(namespace) if (1..=255).contains(&namespace.len()) => {}
            other => found.push(format!("{at}.Namespace {other:?}")),
        }
        let mut dimension_names = HashSet::new();
        match directive.get("Dimensions").and_then(Value::as_array) {
            None => found.push(format!("{at}.Dimensions is not a list")),
            Some(sets) => {
                for (s, set) in sets.iter().enumerate() {
                    let Some(names) = set.as_array() else {
                        found.push(format!("{at}.Dimensions[{s}] is not a list"));
                        continue;
                    };
                    if names.len() > 30 {
                        found.push(format!("{at}.Dimensions[{s}] has over 30 dimensions"));
                    }
                    for name in names {
                        let name = name.as_str().unwrap_or_default();
                        dimension_names.insert(name);
                        if !root.get(name).is_some_and(Value::is_string) {
                            found.push(format!("dimension {name:?} is not a root string member"));
                        }
                    }
                }
            }
        }
        match directive.get("Metrics").and_then(Value::as_array) {
            None => found.push(format!("{at}.Metrics is not a list")),
            Some(metrics) if metrics.is_empty() || metrics.len() > 100 => {
                found.push(format!("{at}.Metrics has {} entries", metrics.len()));
            }
            Some(metrics) => {
                for metric in metrics {
                    let name = metric
                        .get("Name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let value_ok = match root.get(name) {
                        Some(Value::Number(_)) => true,
                        Some(Value::Array(values)) => {
                            (1..=100).contains(&values.len()) && values.iter().all(Value::is_number)
                        }
                        _ => false,
                    };
                    if !value_ok {
                        found.push(format!("metric {name:?} has no number or list of numbers"));
                    }
                    if dimension_names.contains(name) {
                        found.push(format!("{name:?} is both a dimension and a metric"));
                    }
                    match metric.get("Unit").and_then(Value::as_str) {
                        Some(unit) if UNITS.contains(&unit) => {}
                        other => found.push(format!("metric {name:?} has unit {other:?}")),
                    }
                }
            }
        }
    }
    found
}

fn tally() -> Tally {
    let mut tally = Tally::default();
    tally.processed(41.5, 2_400_000, 310_000);
    tally.processed(38.25, 1_200_000, 150_000);
    tally.skipped();
    tally.failed(ErrorType::Corrupt);
    tally.failed(ErrorType::Corrupt);
    tally.failed(ErrorType::S3Unavailable);
    tally
}

fn dimensions() -> Dimensions {
    Dimensions {
        function_name: "image-processor-dev-processor".into(),
        environment: "dev".into(),
    }
}

#[test]
fn documents_match_the_golden_file_and_the_format_rules() {
    let time = UNIX_EPOCH + Duration::from_millis(1_767_225_600_123);
    let documents = metrics::documents(&tally(), &dimensions(), "req-1", time);
    let mut written = Vec::new();
    metrics::write(&mut written, &documents).unwrap();
    let written = String::from_utf8(written).unwrap();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &written).unwrap();
    }

    for (line, document) in written.lines().zip(&documents) {
        assert_eq!(violations(document), Vec::<String>::new(), "{line}");
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            NAMESPACE
        );
    }
    // Compared as JSON values: the order of members is not part of the format.
    let golden: Vec<Value> = std::fs::read_to_string(GOLDEN)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let written: Vec<Value> = written
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(written, golden);
}

#[test]
fn errors_count_under_both_dimension_sets() {
    let documents = metrics::documents(&tally(), &dimensions(), "req-1", UNIX_EPOCH);
    let sets: Vec<(&Value, &Value)> = documents
        .iter()
        .filter(|d| d.get("ProcessingErrors").is_some())
        .map(|d| {
            (
                &d["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
                &d["ProcessingErrors"],
            )
        })
        .collect();
    let shared = serde_json::json!([["FunctionName", "Environment"]]);
    let by_type = serde_json::json!([["FunctionName", "Environment", "ErrorType"]]);
    assert_eq!(
        sets,
        [
            (&shared, &Value::from(3)),
            (&by_type, &Value::from(2)),
            (&by_type, &Value::from(1)),
        ]
    );
    assert_eq!(documents[1]["ErrorType"], "Corrupt");
    assert_eq!(documents[2]["ErrorType"], "S3Unavailable");
}

#[test]
fn checker_catches_a_broken_document() {
    let broken = serde_json::json!({
        "_aws": {"Timestamp": 1_767_225_600, "CloudWatchMetrics": [{
            "Namespace": "ImageProcessing",
            "Dimensions": [["FunctionName"]],
            "Metrics": [{"Name": "ImagesProcessed", "Unit": "Images"}]
        }]},
        "FunctionName": 7
    });
    assert_eq!(
        violations(&broken),
        [
            "_aws.Timestamp Some(1767225600) is not epoch milliseconds",
            "dimension \"FunctionName\" is not a root string member",
            "metric \"ImagesProcessed\" has no number or list of numbers",
            "metric \"ImagesProcessed\" has unit Some(\"Images\")",
        ]
    );
}
