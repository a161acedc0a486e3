//! The cost features for real: `includeUntagged` and datapoint reuse against the local AWS
//! emulator (moto server) with the exporter binary, and the `plan` subcommand's output, both
//! offline for a fixture config (`tests/golden/plan.txt`; `UPDATE_GOLDEN=1` rewrites it,
//! review the diff) and with resources discovered in the emulator.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use devstack::{Exporter, Moto, wait_for};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
const BINARY: &str = env!("CARGO_BIN_EXE_exporter");
const ACCOUNT: &str = "123456789012";

/// The value of the first sample of `series` (name and labels, as exposed) in `exposition`.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

fn lines_with<'a>(exposition: &'a str, name: &str) -> Vec<&'a str> {
    exposition
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .collect()
}

#[test]
fn include_untagged_keeps_an_untagged_function_and_queue_under_their_arns() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    moto.seed_resources().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seed/untagged_queue.py");
    devstack::run_python(&[
        script.as_os_str(),
        moto.endpoint().as_ref(),
        "untagged-queue".as_ref(),
    ])
    .unwrap();
    let recent = SystemTime::now() - Duration::from_secs(120);
    let put = |namespace: &str, dimension: (&str, &str), metric: &str, value: f64| {
        moto.put_metrics_at(recent, namespace, &[dimension], &[(metric, &[value])])
            .unwrap();
    };
    put(
        "AWS/Lambda",
        ("FunctionName", "untagged-fn"),
        "Invocations",
        5.0,
    );
    put(
        "AWS/Lambda",
        ("FunctionName", "image-processor-dev-processor"),
        "Invocations",
        3.0,
    );
    put(
        "AWS/SQS",
        ("QueueName", "untagged-queue"),
        "NumberOfMessagesSent",
        7.0,
    );
    put(
        "AWS/SQS",
        ("QueueName", "other-queue"),
        "NumberOfMessagesSent",
        8.0,
    );
    put(
        "AWS/SQS",
        ("QueueName", "image-processor-dev-dlq"),
        "NumberOfMessagesSent",
        2.0,
    );

    let exporter = Exporter::start(
        Path::new(BINARY),
        &Path::new(GOLDEN).join("untagged.yml"),
        &moto,
        300,
        dir.path(),
        None,
    )
    .unwrap();
    let exposition = wait_for("the first scrape", Duration::from_secs(60), || {
        let metrics = exporter.metrics()?;
        Ok(metrics
            .contains("aws_sqs_number_of_messages_sent_sum{")
            .then_some(metrics))
    })
    .unwrap_or_else(|error| panic!("{error}\n{}", exporter.log()));

    let function = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:untagged-fn");
    let untagged = |name: &str, arn: &str| {
        lines_with(&exposition, name)
            .into_iter()
            .filter(|line| line.contains(&format!("name=\"{arn}\"")))
            .count()
    };
    assert_eq!(
        untagged("aws_lambda_invocations_sum", &function),
        1,
        "{exposition}"
    );
    let queue = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:untagged-queue");
    assert_eq!(untagged("aws_sqs_number_of_messages_sent_sum", &queue), 1);
    assert_eq!(
        untagged("aws_sqs_number_of_messages_sent_maximum", &queue),
        1
    );
    // Tagged, but not with the searched value: still left out.
    let other = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:other-queue");
    assert!(!exposition.contains(&other), "{exposition}");
    let sums: Vec<&str> = lines_with(&exposition, "aws_sqs_number_of_messages_sent_sum");
    assert_eq!(sums.len(), 2, "{sums:#?}");
    // The untagged queue's value is the one put; no info series stands for it.
    let value = sums
        .iter()
        .find(|line| line.contains(&queue))
        .and_then(|line| line.rsplit(' ').next()?.parse::<f64>().ok());
    assert_eq!(value, Some(7.0));
    assert!(
        lines_with(&exposition, "aws_sqs_info")
            .iter()
            .all(|line| !line.contains("untagged"))
    );
}

#[test]
fn a_daily_series_is_fetched_once_while_scrapes_run_every_second() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    moto.seed_resources().unwrap();
    // Yesterday's datapoint, the newest a daily window can hold.
    let today = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400
        * 86_400;
    let yesterday = UNIX_EPOCH + Duration::from_secs(today - 86_400 + 3600);
    moto.put_metrics_at(
        yesterday,
        "AWS/S3",
        &[
            ("BucketName", "image-processor-dev-source"),
            ("StorageType", "StandardStorage"),
        ],
        &[("BucketSizeBytes", &[2048.0])],
    )
    .unwrap();

    let exporter = Exporter::start(
        Path::new(BINARY),
        &Path::new(GOLDEN).join("daily.yml"),
        &moto,
        1,
        dir.path(),
        None,
    )
    .unwrap();
    let scrapes = |exposition: &str| sample(exposition, "cloudwatch_exporter_scrapes_total");
    let exposition = wait_for("five scrapes", Duration::from_secs(60), || {
        let metrics = exporter.metrics()?;
        Ok(scrapes(&metrics)
            .is_some_and(|count| count >= 6.0)
            .then_some(metrics))
    })
    .unwrap_or_else(|error| panic!("{error}\n{}", exporter.log()));
    let bucket = "arn:aws:s3:::image-processor-dev-source";
    let average = lines_with(&exposition, "aws_s3_bucket_size_bytes_average");
    assert!(
        average
            .iter()
            .any(|line| line.contains(bucket) && line.ends_with(" 2048.0")),
        "{exposition}"
    );
    let requests = |api: &str| {
        sample(
            &exposition,
            &format!("yace_cloudwatch_requests_total{{api_name=\"{api}\"}}"),
        )
    };
    // Five and more scrapes: one GetMetricData request, one ListMetrics (cached an hour).
    assert_eq!(requests("GetMetricData"), Some(1.0), "{exposition}");
    assert_eq!(requests("ListMetrics"), Some(1.0));
    // Two statistics of one metric are billed as one metric; YACE's counter says two.
    assert_eq!(
        sample(
            &exposition,
            "cloudwatch_exporter_getmetricdata_billed_metrics_total"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &exposition,
            "yace_cloudwatch_getmetricdata_metrics_requested_total"
        ),
        Some(2.0)
    );
}

fn plan(args: &[&str], envs: Vec<(&'static str, String)>) -> String {
    let output = Command::new(BINARY)
        .arg("plan")
        .args(args)
        .envs(envs)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    stdout
}

#[test]
fn offline_plan_of_the_fixture_config_matches_the_golden_table() {
    let config = Path::new(GOLDEN).join("plan.yml");
    let config = config.to_str().unwrap();
    let printed = plan(
        &["-config.file", config, "-offline", "-assume-resources", "3"],
        Vec::new(),
    );
    // The global flag goes before the subcommand in YACE's style; here the default 300 s.
    let golden = Path::new(GOLDEN).join("plan.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &printed).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(printed, expected);
}

#[test]
fn discovered_plan_counts_the_emulators_resources() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    moto.seed_resources().unwrap();
    for function in ["image-processor-dev-processor", "untagged-fn"] {
        moto.put_metrics(
            "AWS/Lambda",
            &[("FunctionName", function)],
            &[("Invocations", &[1.0]), ("Duration", &[120.0])],
        )
        .unwrap();
    }
    let config = Path::new(GOLDEN).join("untagged.yml");
    let printed = plan(&["-config.file", config.to_str().unwrap()], moto.aws_env());
    let lambda = printed
        .lines()
        .find(|line| line.starts_with("discovery AWS/Lambda"))
        .unwrap_or_else(|| panic!("{printed}"));
    let cells: Vec<&str> = lambda.split_whitespace().collect();
    // job (2 words), region, |, GetResources, ListMetrics, GetMetricData, billed: both
    // functions' Invocations (includeUntagged), one call, two billed metrics.
    assert_eq!(
        &cells[2..8],
        ["us-east-1", "|", "1", "1", "1", "2"],
        "{printed}"
    );
}
