//! Throttling and timeouts of single AWS requests, with scripted SDK answers: the local
//! emulator never throttles, so `aws-smithy-mocks` answers HTTP 400 `Throttling` (the body
//! CloudWatch sends, parsed by the real SDK), and a request that never gets an answer comes
//! from the SDK's own test connector that never responds (`NeverClient`, aws-smithy-runtime's
//! test utilities). A whole scrape against a stopped emulator is in `tests/health.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::MetricDataResult;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use exporter::calls::{Backoff, Budgets, Calls};
use exporter::cloudwatch::{self, CloudWatch, Query, Window};
use exporter::self_metrics::SelfMetrics;

/// CloudWatch's answer to a throttled awsQuery request.
const THROTTLED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                         <Message>Rate exceeded</Message></Error><RequestId>1</RequestId>\
                         </ErrorResponse>";
const DENIED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                      <Message>not authorized</Message></Error><RequestId>2</RequestId>\
                      </ErrorResponse>";

fn query() -> Query {
    Query {
        namespace: "AWS/SQS".into(),
        metric: "NumberOfMessagesSent".into(),
        dimensions: vec![("QueueName".into(), "jobs".into())],
        period: 60,
        statistic: "Sum".into(),
    }
}

fn window() -> Window {
    let end = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Window {
        start: end - Duration::from_secs(60),
        end,
    }
}

fn answered() -> GetMetricDataOutput {
    let result = MetricDataResult::builder()
        .id("id_0")
        .timestamps(DateTime::from_secs(1_800_000_000 - 60))
        .values(42.0)
        .build();
    GetMetricDataOutput::builder()
        .metric_data_results(result)
        .build()
}

/// A client over `sdk` whose retries wait at most `cap` each, counting into `metrics`.
fn client(
    sdk: aws_sdk_cloudwatch::Client,
    metrics: &Arc<SelfMetrics>,
    cap: Duration,
) -> cloudwatch::Client {
    let calls = Calls::new(metrics.clone(), Arc::new(Budgets::aws()))
        .with_backoff(Backoff { base: cap / 4, cap });
    cloudwatch::Client::from_sdk(sdk, 500, metrics.clone()).with_calls(calls)
}

fn counts(metrics: &SelfMetrics) -> [u64; 4] {
    ["requests", "throttles", "retries", "errors"].map(|c| metrics.api_count(c, "GetMetricData"))
}

#[tokio::test]
async fn throttled_twice_then_answered_is_retried_with_backoff_and_counted() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .times(2)
        .output(answered)
        .build();
    let sdk = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let metrics = Arc::new(SelfMetrics::default());
    let client = client(sdk, &metrics, Duration::from_millis(400));

    let started = Instant::now();
    let answers = client.get_metric_data(&[query()], window()).await.unwrap();
    assert_eq!(answers[0][0].value, 42.0);
    assert_eq!(rule.num_calls(), 3);
    // requests, throttles, retries, errors: three sent, two throttled and retried, no error.
    assert_eq!(counts(&metrics), [3, 2, 2, 0]);
    // Two waits of at most 100 ms and 200 ms (the ceilings of retries 1 and 2).
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn throttling_that_never_ends_gives_up_after_five_attempts() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .repeatedly()
        .build();
    let sdk = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let metrics = Arc::new(SelfMetrics::default());
    let client = client(sdk, &metrics, Duration::from_millis(40));

    let error = client
        .get_metric_data(&[query()], window())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("Rate exceeded"), "{error}");
    assert_eq!(rule.num_calls(), 5);
    assert_eq!(counts(&metrics), [5, 5, 4, 1]);
}

#[tokio::test]
async fn a_refusal_that_is_not_throttling_is_not_retried() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_status(400, Some(DENIED.into()))
        .output(answered)
        .build();
    let sdk = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let metrics = Arc::new(SelfMetrics::default());
    let client = client(sdk, &metrics, Duration::from_millis(40));

    let error = client
        .get_metric_data(&[query()], window())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not authorized"), "{error}");
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(counts(&metrics), [1, 0, 0, 1]);
}

#[tokio::test]
async fn a_request_that_gets_no_answer_times_out_and_is_retried_once() {
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::for_tests())
        .http_client(aws_smithy_runtime::client::http::test_util::NeverClient::new())
        .timeout_config(
            aws_sdk_cloudwatch::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(300))
                .build(),
        )
        .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled())
        .build();
    let sdk = aws_sdk_cloudwatch::Client::from_conf(config);
    let metrics = Arc::new(SelfMetrics::default());
    let client = client(sdk, &metrics, Duration::from_millis(40));

    let started = Instant::now();
    let error = client
        .get_metric_data(&[query()], window())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(error.to_string().contains("timeout"), "{error}");
    // Two attempts of 300 ms each and one short wait: bounded, not hanging.
    assert!(
        (Duration::from_millis(600)..Duration::from_millis(1_500)).contains(&elapsed),
        "{elapsed:?}"
    );
    assert_eq!(counts(&metrics), [2, 0, 1, 1]);
}
