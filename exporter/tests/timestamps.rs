//! `addCloudwatchTimestamp` and `exportAllDataPoints` as Prometheus reads them: the classic
//! text exposition, built by the same `server::Exposition` the binary serves (self-metrics
//! and the latest snapshot), must
//! parse and lint clean in `promtool check metrics` with sample timestamps in it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use devstack::promtool;
use exporter::scrape::Series;
use exporter::self_metrics::SelfMetrics;
use exporter::server;
use exporter::snapshot::{Latest, Snapshot};
use prometheus_client::registry::Registry;

fn series(name: &str, queue: &str, value: f64, timestamp: Option<SystemTime>) -> Series {
    Series {
        name: name.into(),
        labels: [
            ("name", "arn:aws:sqs:eu-west-1:123456789012:images"),
            ("dimension_queue_name", queue),
            ("region", "eu-west-1"),
            ("account_id", "123456789012"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        value,
        timestamp,
    }
}

#[test]
fn promtool_accepts_the_classic_text_exposition_with_timestamps() {
    let minute =
        |n: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 60 * n));
    let visible = "aws_sqs_approximate_number_of_messages_visible_maximum";
    let snapshot = Snapshot::new(vec![
        // exportAllDataPoints: one series, three samples, newest first as CloudWatch answers.
        series(visible, "images", 4.0, minute(2)),
        series(visible, "images", 2.0, minute(1)),
        series(visible, "images", 0.0, minute(0)),
        // addCloudwatchTimestamp: the newest datapoint only.
        series(visible, "images-dlq", 1.0, minute(2)),
        // Neither: left to prometheus-client.
        series(
            "aws_sqs_approximate_age_of_oldest_message_maximum",
            "images",
            f64::NAN,
            None,
        ),
    ]);
    let latest = Arc::new(Latest::default());
    latest.replace(snapshot);
    let metrics = SelfMetrics::default();
    metrics.cloudwatch_request("GetMetricData", false);
    let mut own = Registry::default();
    metrics.register(&mut own);
    let exposition = server::Exposition { own, latest };

    let (content_type, text) = exposition.render(false).unwrap();
    assert!(content_type.starts_with("text/plain; version=0.0.4"));
    let samples: Vec<&str> = text.lines().filter(|l| l.starts_with(visible)).collect();
    let labels = "account_id=\"123456789012\",dimension_queue_name=\"images\",\
                  name=\"arn:aws:sqs:eu-west-1:123456789012:images\",region=\"eu-west-1\"";
    assert_eq!(
        samples[..3],
        [
            format!("{visible}{{{labels}}} 0.0 1800000000000"),
            format!("{visible}{{{labels}}} 2.0 1800000060000"),
            format!("{visible}{{{labels}}} 4.0 1800000120000"),
        ]
    );
    assert_eq!(samples.len(), 4, "{text}");

    let problems = promtool::check_metrics(&text).unwrap();
    assert!(problems.is_empty(), "{problems:?}\n{text}");
}
