//! The whole path, for real: datapoints put into the local CloudWatch (moto server) reach a
//! real Prometheus through the exporter binary and answer the PromQL our users already run.
//! Needs moto in `.venv/` and Prometheus on PATH; `scripts/test` installs both.

use std::path::Path;

use devstack::lambda::{self, Burst, QUERIES};
use devstack::{Exporter, Moto, Prometheus, promtool};

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lambda.yml");

#[test]
fn lambda_datapoints_answer_user_queries_through_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    let exporter = Exporter::start(
        Path::new(env!("CARGO_BIN_EXE_exporter")),
        Path::new(CONFIG),
        &moto,
        1,
        dir.path(),
        None,
    )
    .unwrap();
    let prometheus = Prometheus::start(dir.path(), &[exporter.address()], 1, None).unwrap();
    // The idle datapoint goes in once everything runs, so it is still inside the exporter's
    // one-minute window when the burst arrives, however slow the start-up was.
    lambda::put_idle(&moto).unwrap();
    lambda::wait_for_idle(&prometheus).unwrap();

    let burst = Burst {
        invocations: vec![3.0, 4.0],
        errors: vec![1.0, 1.0],
        durations_ms: vec![120.0, 80.0, 250.5],
    };
    lambda::put_burst(&moto, &burst).unwrap();
    let scraped_at = lambda::wait_for_burst(&prometheus, &burst).unwrap();

    // Evaluated at the sample's own timestamp, `increase` needs no extrapolation: over the
    // last minute the counters went from the idle 0 to the burst.
    let answers = lambda::answers(&prometheus, Some(scraped_at)).unwrap();
    let expected = [
        burst.total_invocations(),
        burst.total_errors(),
        burst.mean_duration_ms(),
    ];
    for ((query, samples), expected) in answers.iter().zip(expected) {
        assert_eq!(samples.len(), 1, "{query}: {samples:?}");
        let sample = &samples[0];
        assert!(
            (sample.value - expected).abs() < 1e-9,
            "{query} = {}, expected {expected}",
            sample.value
        );
        assert_eq!(sample.labels["name"], "image-processor", "{query}");
        assert_eq!(sample.labels["region"], "us-east-1", "{query}");
        assert_eq!(sample.labels["account_id"], "123456789012", "{query}");
    }
    assert_eq!(answers.len(), QUERIES.len());

    // The exposition itself: YACE's exact name and label set, gauges, lint-clean.
    let metrics = exporter.metrics().unwrap();
    let line = metrics
        .lines()
        .find(|line| line.starts_with("aws_lambda_duration_average{"))
        .unwrap_or_else(|| panic!("no duration series in:\n{metrics}"));
    let (series, value) = line.rsplit_once(' ').unwrap();
    assert_eq!(
        series,
        "aws_lambda_duration_average{account_id=\"123456789012\",\
         dimension_FunctionName=\"image-processor-dev-processor\",\
         name=\"image-processor\",region=\"us-east-1\"}"
    );
    assert!((value.parse::<f64>().unwrap() - burst.mean_duration_ms()).abs() < 1e-9);
    assert!(metrics.contains("# TYPE aws_lambda_invocations_sum gauge\n"));
    assert_promtool_accepts(&metrics);
}

/// Prometheus must parse the exposition, and promtool's linter may object only to what YACE
/// compatibility dictates: gauges named `..._sum` and camel-case dimension labels such as
/// `dimension_FunctionName`, both spelled so because users' queries name them.
fn assert_promtool_accepts(metrics: &str) {
    let problems = promtool::check_metrics(metrics).unwrap();
    let dictated = [
        "label names should be written in 'snake_case' not 'camelCase'",
        "non-histogram and non-summary metrics should not have \"_sum\" suffix",
    ];
    let other: Vec<_> = problems
        .iter()
        .filter(|p| !(p.metric.starts_with("aws_") && dictated.contains(&p.text.as_str())))
        .collect();
    assert!(
        other.is_empty(),
        "promtool check metrics: {other:?}\n{metrics}"
    );
}
