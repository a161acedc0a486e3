//! Discovery for real: the exporter binary against the local AWS emulator seeded with tagged
//! and untagged resources of five services and with the dimension sets those services
//! publish, aggregates included. The whole exposition must equal the golden file
//! `tests/golden/discovery.prom`, self-metrics included, so the API calls one scrape makes are
//! pinned too (after `UPDATE_GOLDEN=1 cargo test --test discovery`, review the diff: it is the
//! contract with YACE's users).

use std::path::Path;
use std::time::{Duration, SystemTime};

use devstack::{Exporter, Moto, wait_for};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
const FUNCTION: &str = "image-processor-dev-processor";

#[test]
fn discovered_series_match_the_golden_exposition() {
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start(dir.path(), None).unwrap();
    moto.seed_resources().unwrap();
    // Two minutes ago lies inside every job's window, whatever minute the scrape lands in:
    // windows end at the last whole minute and reach five minutes back.
    let recent = SystemTime::now() - Duration::from_secs(120);
    let put = |namespace: &str, dimensions: &[(&str, &str)], metrics: &[(&str, &[f64])]| {
        moto.put_metrics_at(recent, namespace, dimensions, metrics)
            .unwrap();
    };
    put(
        "AWS/Lambda",
        &[("FunctionName", FUNCTION)],
        &[("Invocations", &[3.0, 4.0])],
    );
    put(
        "AWS/Lambda",
        &[("FunctionName", FUNCTION), ("Resource", FUNCTION)],
        &[("Invocations", &[2.0])],
    );
    // Account-level: no dimensions, so `name="global"`. Moto answers a query without
    // dimensions with every Invocations datapoint of the namespace (23 in the golden file);
    // real CloudWatch would answer this one's 9. The labels are what this test is about.
    put("AWS/Lambda", &[], &[("Invocations", &[9.0])]);
    // The untagged function's metric is dropped, as YACE drops it.
    put(
        "AWS/Lambda",
        &[("FunctionName", "untagged-fn")],
        &[("Invocations", &[5.0])],
    );
    // Listed, but with no datapoint in the window: NaN, or 0 with nilToZero.
    let long_ago = SystemTime::now() - Duration::from_secs(7200);
    for metric in ["Errors", "Throttles"] {
        moto.put_metrics_at(
            long_ago,
            "AWS/Lambda",
            &[("FunctionName", FUNCTION)],
            &[(metric, &[1.0])],
        )
        .unwrap();
    }
    put(
        "AWS/SQS",
        &[("QueueName", "image-processor-dev-dlq")],
        &[("ApproximateNumberOfMessagesVisible", &[2.0])],
    );
    // Tagged Project=other: the job's search tag leaves it out.
    put(
        "AWS/SQS",
        &[("QueueName", "other-queue")],
        &[("ApproximateNumberOfMessagesVisible", &[8.0])],
    );
    put(
        "AWS/DynamoDB",
        &[("TableName", "images")],
        &[("ConsumedReadCapacityUnits", &[10.0, 20.0])],
    );
    put(
        "AWS/DynamoDB",
        &[("TableName", "images"), ("Operation", "GetItem")],
        &[("SuccessfulRequestLatency", &[4.0, 6.0])],
    );
    put(
        "AWS/States",
        &[(
            "StateMachineArn",
            "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline",
        )],
        &[("ExecutionsFailed", &[1.0])],
    );
    // No AWS/ApiGateway datapoints: moto's GetResources returns no API Gateway resource, so
    // the golden config's API Gateway job stops before ListMetrics whatever is put here (with
    // {ApiName=images-api} or the HTTP API's random {ApiId}); only its GetResources, GetRestApis
    // and GetApis calls show, in the self-metrics. Association is tested with fakes instead.
    put(
        "AWS/S3",
        &[
            ("BucketName", "image-processor-dev-source"),
            ("StorageType", "StandardStorage"),
        ],
        &[("BucketSizeBytes", &[1024.0])],
    );
    put(
        "ImageProcessing",
        &[("FunctionName", FUNCTION), ("Environment", "dev")],
        &[("ImagesProcessed", &[12.0])],
    );

    let exporter = Exporter::start(
        Path::new(env!("CARGO_BIN_EXE_exporter")),
        &Path::new(GOLDEN).join("discovery.yml"),
        &moto,
        300,
        dir.path(),
        None,
    )
    .unwrap();
    let exposition = wait_for("the first scrape", Duration::from_secs(60), || {
        let metrics = exporter.metrics()?;
        Ok(metrics.contains("aws_s3_info").then_some(metrics))
    })
    .unwrap_or_else(|error| panic!("{error}\n{}", exporter.log()));

    let golden = Path::new(GOLDEN).join("discovery.prom");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &exposition).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    // Series of one name are sorted, but the self-metrics' label sets come in hash order:
    // compare the lines, not their order. The exporter's own health families
    // (`cloudwatch_exporter_*`) carry durations and wall-clock times; tests/health.rs checks
    // them, so they are left out here.
    let sorted = |text: &str| {
        let health = |line: &&str| {
            let name = line
                .trim_start_matches("# HELP ")
                .trim_start_matches("# TYPE ");
            name.starts_with("cloudwatch_exporter_")
        };
        let mut lines: Vec<&str> = text.lines().filter(|line| !health(line)).collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    assert!(
        sorted(&exposition) == sorted(&expected),
        "the exposition differs from {}:\n{exposition}\nexporter log:\n{}",
        golden.display(),
        exporter.log()
    );
}
