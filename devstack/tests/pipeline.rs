//! The README's run command, checked: the same [`Pipeline`] `scripts/run` plays (the emulator,
//! the real processor behind cargo-lambda's Runtime API, the exporter with
//! `deploy/exporter.yml`, Prometheus with `deploy/prometheus.yml` and the rules, Alertmanager with
//! `deploy/alertmanager.yml`), played until the bad demo image's alerts are active, exactly
//! those and no other. Then every Grafana panel is run against that Prometheus: those whose
//! data the local run produces must return data, and those listed in [`NO_LOCAL_DATA`] must
//! return none, so the list stays true.
//!
//! It takes about five minutes: `deploy/exporter.yml` reads minutes that ended two minutes ago.
//! It stops at "pending" rather than waiting out the alerts' `for: 5m` (another five minutes
//! and more): `promtool test rules` shows each alert silent before its `for` and firing after,
//! and `scripts/run` shows them fire and reach Alertmanager. It uses the fixed ports of
//! `deploy/prometheus.yml` (5000, 9090, 9093), so it cannot run beside `scripts/run`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use devstack::grafana;
use devstack::pipeline::{Binaries, Pipeline};

/// Panels that stay empty in the local run, with why. Every other panel must return data.
const NO_LOCAL_DATA: [(&str, &str, &str); 17] = [
    ("image-pipeline-api-gateway", "5XX errors", API_GATEWAY),
    (
        "image-pipeline-api-gateway",
        "Latency: average and p99",
        API_GATEWAY,
    ),
    (
        "image-pipeline-api-gateway",
        "5XX errors in 5 minutes",
        API_GATEWAY,
    ),
    (
        "image-pipeline-api-gateway",
        "Latency over 5 minutes",
        API_GATEWAY,
    ),
    ("image-pipeline-dynamodb", "Read throttle events", DYNAMODB),
    ("image-pipeline-dynamodb", "Write throttle events", DYNAMODB),
    (
        "image-pipeline-dynamodb",
        "Successful request latency",
        DYNAMODB,
    ),
    (
        "image-pipeline-dynamodb",
        "Throttle events in 5 minutes",
        DYNAMODB,
    ),
    ("image-pipeline-sqs", "Visible messages", SQS),
    ("image-pipeline-sqs", "Age of the oldest message", SQS),
    ("image-pipeline-sqs", "Largest backlog in 5 minutes", SQS),
    ("image-pipeline-overview", "Dead letters", SQS),
    (
        "image-pipeline-step-functions",
        "Executions failed",
        STEP_FUNCTIONS,
    ),
    (
        "image-pipeline-step-functions",
        "Executions timed out",
        STEP_FUNCTIONS,
    ),
    (
        "image-pipeline-step-functions",
        "Failed and timed out in 5 minutes",
        STEP_FUNCTIONS,
    ),
    (
        "image-pipeline-lambda",
        "Duration p90",
        "deploy/exporter.yml asks for no p90 statistic, and moto cannot compute percentiles",
    ),
    (
        "image-pipeline-exporter",
        "AWS API errors, throttles and retries",
        "the exporter counts errors, throttles and retries of an API from the first one, and \
         moto neither fails nor throttles the exporter's requests",
    ),
];
const API_GATEWAY: &str = "the local run has no API in front of the bucket and nothing stands in \
                           for API Gateway's metrics (moto publishes none)";
const DYNAMODB: &str = "the table exists and is discovered, but nothing uses it and moto \
                        publishes no AWS/DynamoDB metrics";
const SQS: &str = "the queues are real (moto's), but moto publishes no AWS/SQS metrics and \
                   nothing stands in for them";
const STEP_FUNCTIONS: &str = "the state machine exists and is discovered, but nothing starts \
                              it and moto publishes no AWS/States metrics";

/// What the bad image (one upload in six fails) must make active, and nothing else may.
const EXPECTED_ACTIVE: [(&str, &str); 2] = [
    // 1 failed of 6 attempted: above 10 %, below the critical's 50 %.
    ("ImageProcessingErrorRatioHigh", "warning"),
    // Three failures a minute: more than 5 in five minutes.
    ("ImageProcessingErrorsHigh", "warning"),
];

/// The exporter and `bootstrap` the workspace's test build made beside this test. Building
/// them here instead would rebuild their dependencies with other features, and overwrite
/// binaries that other tests are running.
fn binaries() -> Binaries {
    let profile_dir: PathBuf = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .to_owned();
    for binary in ["exporter", "bootstrap"] {
        assert!(
            profile_dir.join(binary).exists(),
            "{binary} is not built in {}: run the workspace's tests (scripts/test, or cargo \
             nextest run --workspace), which build it",
            profile_dir.display()
        );
    }
    Binaries::in_dir(&profile_dir)
}

#[test]
fn bad_demo_image_makes_its_alerts_active_and_every_panel_with_local_data_returns_data() {
    let dir = tempfile::tempdir().unwrap();
    let say = &mut |line: &str| eprintln!("{line}");
    let mut pipeline = Pipeline::start(&binaries(), dir.path(), say).unwrap();

    let expected: BTreeSet<(String, String)> = EXPECTED_ACTIVE
        .iter()
        .map(|(name, severity)| (name.to_string(), severity.to_string()))
        .collect();
    let active = pipeline
        .play_until(
            "the bad image's alerts to be active",
            Duration::from_secs(12 * 60),
            say,
            |pipeline| {
                // Pending or firing: the expression holds on the pipeline's data.
                let active: BTreeSet<(String, String)> = pipeline
                    .alerts()?
                    .into_iter()
                    .map(|alert| (alert.name.clone(), alert.severity().to_owned()))
                    .collect();
                Ok(active.is_superset(&expected).then_some(active))
            },
        )
        .unwrap();
    assert_eq!(active, expected, "pending or firing alerts");

    for (query, samples) in pipeline.answers().unwrap() {
        assert!(
            !samples.is_empty(),
            "the README's query {query} has no data"
        );
    }
    check_panels(&pipeline);
}

/// Each panel's queries against the pipeline's Prometheus, held to [`NO_LOCAL_DATA`]. A panel
/// returns data when one of its queries does, as Grafana then draws something.
fn check_panels(pipeline: &Pipeline) {
    let dashboards = grafana::dashboards(&devstack::workspace_root()).unwrap();
    let mut has_data: BTreeMap<(String, String), bool> = BTreeMap::new();
    for query in dashboards.iter().flat_map(|d| d.queries()) {
        let samples = pipeline.prometheus().query(&query.promql, None).unwrap();
        *has_data
            .entry((query.dashboard.clone(), query.panel.clone()))
            .or_default() |= !samples.is_empty();
    }
    let no_data: BTreeMap<(String, String), &str> = NO_LOCAL_DATA
        .iter()
        .map(|(uid, panel, why)| ((uid.to_string(), panel.to_string()), *why))
        .collect();
    let mut wrong = Vec::new();
    for ((uid, panel), data) in &has_data {
        match (no_data.get(&(uid.clone(), panel.clone())), data) {
            (None, false) => wrong.push(format!("{uid} / {panel}: no data")),
            (Some(why), true) => wrong.push(format!(
                "{uid} / {panel}: listed as having no local data ({why}), but returns data"
            )),
            _ => {}
        }
    }
    for (uid, panel) in no_data.keys() {
        if !has_data.contains_key(&(uid.clone(), panel.clone())) {
            wrong.push(format!("{uid} / {panel}: listed, but no such panel"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        has_data.len() > NO_LOCAL_DATA.len() + 20,
        "only {} panels",
        has_data.len()
    );
}
