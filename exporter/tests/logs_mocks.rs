//! The Logs Insights path of [`exporter::logs::Client`] with scripted SDK answers
//! (`aws-smithy-mocks`): the local emulator runs StartQuery but ignores `filter` and `stats`
//! (a `stats` query returns only `@ptr` rows), so it cannot show counting at AWS. What is
//! checked here is the adapter's side: the query and its whole-second bounds as sent, polling
//! until Complete, rows read back, and a query that overruns its timeout stopped and failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
use aws_sdk_cloudwatchlogs::operation::stop_query::StopQueryOutput;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use exporter::logs::{self, Logs, Window};

const WINDOW: Window = Window {
    start_ms: 1_800_000_000_000,
    end_ms: 1_800_000_300_000,
};

fn field(name: &str, value: &str) -> ResultField {
    ResultField::builder().field(name).value(value).build()
}

#[tokio::test]
async fn insights_queries_are_polled_until_complete_and_their_rows_read_back() {
    let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
        .match_requests(|request| {
            request.log_group_names() == ["/aws/lambda/a".to_owned(), "/aws/lambda/b".to_owned()]
                && request.start_time() == Some(1_800_000_000)
                // Both bounds are inclusive seconds: the window's last second.
                && request.end_time() == Some(1_800_000_299)
                && request.query_string() == Some("stats count(*) as lines by @log")
        })
        .then_output(|| StartQueryOutput::builder().query_id("q-1").build());
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    let results = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results)
        .match_requests(|request| request.query_id() == Some("q-1"))
        .then_compute_output(move |_| {
            let status = match counted.fetch_add(1, Ordering::SeqCst) {
                0 => QueryStatus::Scheduled,
                1 => QueryStatus::Running,
                _ => QueryStatus::Complete,
            };
            let rows = vec![
                vec![
                    field("@log", "123456789012:/aws/lambda/a"),
                    field("lines", "7"),
                ],
                vec![
                    field("@log", "123456789012:/aws/lambda/b"),
                    field("lines", "2"),
                ],
            ];
            let builder = GetQueryResultsOutput::builder().status(status.clone());
            match status {
                QueryStatus::Complete => builder.set_results(Some(rows)).build(),
                _ => builder.build(),
            }
        });
    let sdk = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        [&start, &results]
    );
    let client = logs::Client::from_sdk(sdk, Default::default())
        .with_poll_interval(Duration::from_millis(5));
    let groups = ["/aws/lambda/a".to_owned(), "/aws/lambda/b".to_owned()];
    let rows = client
        .insights(
            &groups,
            "stats count(*) as lines by @log",
            WINDOW,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        rows,
        [
            vec![
                pair("@log", "123456789012:/aws/lambda/a"),
                pair("lines", "7")
            ],
            vec![
                pair("@log", "123456789012:/aws/lambda/b"),
                pair("lines", "2")
            ],
        ]
    );
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn a_query_still_running_at_its_timeout_is_stopped_and_fails() {
    let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
        .then_output(|| StartQueryOutput::builder().query_id("slow").build());
    let results = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results).then_output(|| {
        GetQueryResultsOutput::builder()
            .status(QueryStatus::Running)
            .build()
    });
    let stop = mock!(aws_sdk_cloudwatchlogs::Client::stop_query)
        .match_requests(|request| request.query_id() == Some("slow"))
        .then_output(|| StopQueryOutput::builder().success(true).build());
    let sdk = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        [&start, &results, &stop]
    );
    let client = logs::Client::from_sdk(sdk, Default::default())
        .with_poll_interval(Duration::from_millis(20));
    let error = client
        .insights(
            &["/aws/lambda/a".to_owned()],
            "stats count(*)",
            WINDOW,
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not complete after"), "{error}");
    assert_eq!(stop.num_calls(), 1);
    assert!(
        (4..=6).contains(&results.num_calls()),
        "{}",
        results.num_calls()
    );
}

#[tokio::test]
async fn a_failed_query_is_an_error_naming_its_status() {
    let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
        .then_output(|| StartQueryOutput::builder().query_id("bad").build());
    let results = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results).then_output(|| {
        GetQueryResultsOutput::builder()
            .status(QueryStatus::Failed)
            .build()
    });
    let sdk = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        [&start, &results]
    );
    let client = logs::Client::from_sdk(sdk, Default::default());
    let error = client
        .insights(
            &["/aws/lambda/a".to_owned()],
            "stats count(*)",
            WINDOW,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "GetQueryResults failed: Logs Insights query bad ended Failed"
    );
}

#[tokio::test]
async fn a_throttled_filter_log_events_is_retried_and_counted_like_every_aws_call() {
    use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
    use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
    // CloudWatch Logs speaks awsJson: a throttled request is HTTP 400 with this body.
    const THROTTLED: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let rule = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .output(|| {
            FilterLogEventsOutput::builder()
                .events(FilteredLogEvent::builder().message("REPORT a").build())
                .build()
        })
        .build();
    let sdk = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&rule]);
    let metrics = Arc::new(exporter::self_metrics::SelfMetrics::default());
    let client = logs::Client::from_sdk(sdk, metrics.clone());
    let lines = client
        .filter_log_events("/aws/lambda/a", "REPORT", WINDOW)
        .await
        .unwrap();
    assert_eq!(lines, ["REPORT a"]);
    assert_eq!(rule.num_calls(), 2);
    let counts = ["requests", "throttles", "retries", "errors"]
        .map(|count| metrics.api_count(count, "FilterLogEvents"));
    assert_eq!(counts, [2, 1, 1, 0]);
}
