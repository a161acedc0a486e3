//! Health you can alert on, for real: the exporter binary scrapes the local AWS emulator (moto
//! server), which is then frozen (SIGSTOP) in the middle of the run, so that every request
//! times out. The job keeps serving its last good series for the configuration's `staleness`,
//! then drops them, and its health series say which of the two it is doing; when the emulator
//! comes back, so does the job. promtool lints the health series.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use devstack::{Exporter, Moto, promtool, wait_for};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lambda.yml");
const STALENESS_SECONDS: f64 = 6.0;
const JOB: &[(&str, &str)] = &[
    ("job_type", "static"),
    ("job_name", "image-processor"),
    ("region", "us-east-1"),
    ("role", ""),
];

/// The value of the sample `name` whose labels include `labels`, in a text exposition.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            return None;
        }
        let (series, value) = rest.rsplit_once(' ')?;
        labels
            .iter()
            .all(|(key, value)| series.contains(&format!("{key}=\"{value}\"")))
            .then(|| value.parse().ok())?
    })
}

fn job(metrics: &str, name: &str) -> Option<f64> {
    sample(metrics, name, JOB)
}

fn put_lambda_datapoints(moto: &Moto) {
    moto.put_metrics(
        "AWS/Lambda",
        &[("FunctionName", "image-processor-dev-processor")],
        &[
            ("Invocations", &[3.0]),
            ("Errors", &[1.0]),
            ("Duration", &[120.0]),
        ],
    )
    .unwrap();
}

fn signal(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn a_frozen_emulator_serves_stale_series_within_the_bound_then_none_and_health_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    let config = dir.path().join("config.yml");
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    std::fs::write(
        &config,
        format!("{example}staleness: {STALENESS_SECONDS}\n"),
    )
    .unwrap();
    put_lambda_datapoints(&moto);
    let exporter = Exporter::start_with_args(
        Path::new(env!("CARGO_BIN_EXE_exporter")),
        &config,
        &moto,
        1,
        dir.path(),
        None,
        &["-aws.timeout", "1"],
    )
    .unwrap();

    // Healthy: three series, fresh, and the health series lint clean.
    let metrics = wait_for("a successful scrape", Duration::from_secs(30), || {
        let metrics = exporter.metrics()?;
        let healthy = job(&metrics, "cloudwatch_exporter_job_scrape_success") == Some(1.0)
            && sample(&metrics, "aws_lambda_invocations_sum", &[]) == Some(3.0);
        Ok(healthy.then_some(metrics))
    })
    .unwrap();
    assert_eq!(job(&metrics, "cloudwatch_exporter_job_series"), Some(3.0));
    assert_eq!(job(&metrics, "cloudwatch_exporter_job_stale"), Some(0.0));
    let duration = job(&metrics, "cloudwatch_exporter_job_scrape_duration_seconds").unwrap();
    assert!((0.0..1.0).contains(&duration), "{duration}");
    let last_success = job(
        &metrics,
        "cloudwatch_exporter_job_last_success_timestamp_seconds",
    );
    assert!((unix_now() - last_success.unwrap()).abs() < 10.0);
    assert!(sample(&metrics, "cloudwatch_exporter_scrapes_total", &[]).unwrap() >= 1.0);
    let requests = [("api", "GetMetricData")];
    assert!(
        sample(
            &metrics,
            "cloudwatch_exporter_api_requests_total",
            &requests
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        sample(
            &metrics,
            "cloudwatch_exporter_api_requests_total",
            &[("api", "GetCallerIdentity")]
        ) == Some(1.0)
    );
    let build = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(
        sample(&metrics, "cloudwatch_exporter_build_info", &build),
        Some(1.0)
    );
    let problems = promtool::check_metrics(&metrics).unwrap();
    let ours: Vec<_> = problems
        .iter()
        .filter(|p| p.metric.starts_with("cloudwatch_exporter_"))
        .collect();
    assert!(ours.is_empty(), "promtool: {ours:?}");

    // Frozen: every request now times out. Until the bound the last good series stay.
    signal("-STOP", moto.pid());
    let frozen = Instant::now();
    let mut stale_seen = false;
    let dropped = wait_for(
        "the stale series to be dropped",
        Duration::from_secs(40),
        || {
            let metrics = exporter.metrics()?;
            let last_success = job(
                &metrics,
                "cloudwatch_exporter_job_last_success_timestamp_seconds",
            )
            .unwrap();
            let value = sample(&metrics, "aws_lambda_invocations_sum", &[]);
            let stale = job(&metrics, "cloudwatch_exporter_job_stale");
            if unix_now() < last_success + STALENESS_SECONDS {
                assert_eq!(value, Some(3.0), "dropped before the bound:\n{metrics}");
            }
            if stale == Some(1.0) {
                stale_seen = true;
                assert_eq!(value, Some(3.0), "stale but not served:\n{metrics}");
                assert_eq!(
                    job(&metrics, "cloudwatch_exporter_job_scrape_success"),
                    Some(0.0)
                );
                assert_eq!(job(&metrics, "cloudwatch_exporter_job_series"), Some(3.0));
            }
            let gone = value.is_none() && stale == Some(0.0);
            Ok(gone.then_some((metrics, last_success)))
        },
    );
    let (metrics, last_success) = dropped.unwrap();
    let dropped_after = unix_now() - last_success;
    assert!(stale_seen, "never served stale series");
    // Dropped once past the bound: by the next scrape (two timed-out attempts of 1 s each
    // and a tick) after it, with slack for a loaded machine.
    assert!(
        (STALENESS_SECONDS..STALENESS_SECONDS + 8.0).contains(&dropped_after),
        "dropped {dropped_after:.1} s after the last success"
    );
    assert_eq!(
        job(&metrics, "cloudwatch_exporter_job_scrape_success"),
        Some(0.0)
    );
    assert_eq!(job(&metrics, "cloudwatch_exporter_job_series"), Some(0.0));
    assert!(sample(&metrics, "aws_lambda_duration_average", &[]).is_none());
    for counter in ["errors", "retries"] {
        let name = format!("cloudwatch_exporter_api_{counter}_total");
        assert!(sample(&metrics, &name, &requests).unwrap() >= 1.0, "{name}");
    }
    // A failed scrape takes two 1 s attempts, longer than the 1 s interval: ticks are
    // skipped, never run on top of the scrape.
    assert!(sample(&metrics, "cloudwatch_exporter_scrapes_skipped_total", &[]).unwrap() >= 1.0);
    assert!(exporter.log().contains("job failed"), "{}", exporter.log());
    assert!(frozen.elapsed() >= Duration::from_secs_f64(STALENESS_SECONDS - 2.0));

    // Back: the next scrape succeeds and serves fresh series.
    signal("-CONT", moto.pid());
    put_lambda_datapoints(&moto);
    wait_for("the job to recover", Duration::from_secs(30), || {
        let metrics = exporter.metrics()?;
        let back = job(&metrics, "cloudwatch_exporter_job_scrape_success") == Some(1.0)
            && job(&metrics, "cloudwatch_exporter_job_stale") == Some(0.0)
            && sample(&metrics, "aws_lambda_invocations_sum", &[]).is_some();
        Ok(back.then_some(()))
    })
    .unwrap();
}
