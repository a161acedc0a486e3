//! What the local emulator cannot show, with scripted SDK answers (`aws-smithy-mocks`) instead:
//! moto answers HTTP 500 to percentile statistics, and accepts any number of queries in one
//! GetMetricData call where AWS refuses more than 500. Everything else about the CloudWatch
//! adapter is tested against the emulator (`tests/aws_seams.rs`).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataInput, GetMetricDataOutput};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::MetricDataResult;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use exporter::cloudwatch::{self, CloudWatch, Query, Window};

fn query(metric: &str, statistic: &str) -> Query {
    Query {
        namespace: "AWS/Lambda".into(),
        metric: metric.into(),
        dimensions: vec![("FunctionName".into(), "resize".into())],
        period: 60,
        statistic: statistic.into(),
    }
}

fn window() -> Window {
    let end = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Window {
        start: end - Duration::from_secs(300),
        end,
    }
}

/// Answers every query of a request with one datapoint whose value is a function of the query.
fn answer(request: &GetMetricDataInput, value: impl Fn(&str, &str) -> f64) -> GetMetricDataOutput {
    let results = request.metric_data_queries().iter().map(|q| {
        let stat = q.metric_stat().unwrap();
        let metric = stat.metric().and_then(|m| m.metric_name()).unwrap();
        MetricDataResult::builder()
            .id(q.id().unwrap())
            .timestamps(DateTime::from_secs(1_800_000_000 - 60))
            .values(value(metric, stat.stat().unwrap()))
            .build()
    });
    GetMetricDataOutput::builder()
        .set_metric_data_results(Some(results.collect()))
        .build()
}

#[tokio::test]
async fn percentile_statistics_are_asked_for_by_name_and_read_back() {
    let percentiles = HashMap::from([("p50", 120.0), ("p90", 480.5), ("p99.9", 2_950.25)]);
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .then_compute_output(move |request| answer(request, |_, stat| percentiles[stat]));
    let sdk = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let client = cloudwatch::Client::from_sdk(sdk, 500, Default::default());

    let queries = [
        query("Duration", "p50"),
        query("Duration", "p90"),
        query("Duration", "p99.9"),
    ];
    let answers = client.get_metric_data(&queries, window()).await.unwrap();
    let values: Vec<f64> = answers.iter().map(|points| points[0].value).collect();
    assert_eq!(values, [120.0, 480.5, 2_950.25]);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn more_than_500_queries_go_out_in_calls_of_at_most_500_and_map_back() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|request| request.metric_data_queries().len() <= 500)
        .then_compute_output(|request| {
            // The value names the query: metric `m<n>` answers n.
            answer(request, |metric, _| metric[1..].parse().unwrap())
        });
    let sdk = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let client = cloudwatch::Client::from_sdk(sdk, 500, Default::default());

    let queries: Vec<Query> = (0..1_201).map(|n| query(&format!("m{n}"), "Sum")).collect();
    let answers = client.get_metric_data(&queries, window()).await.unwrap();
    assert_eq!(rule.num_calls(), 3);
    for (n, points) in answers.iter().enumerate() {
        assert_eq!(points[0].value, n as f64, "query {n}");
    }
}

#[tokio::test]
async fn metrics_per_query_lowers_the_batch_size() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|request| request.metric_data_queries().len() <= 100)
        .then_compute_output(|request| answer(request, |_, _| 1.0));
    let sdk = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let client = cloudwatch::Client::from_sdk(sdk, 100, Default::default());

    let queries: Vec<Query> = (0..250).map(|n| query(&format!("m{n}"), "Sum")).collect();
    client.get_metric_data(&queries, window()).await.unwrap();
    assert_eq!(rule.num_calls(), 3);
}
