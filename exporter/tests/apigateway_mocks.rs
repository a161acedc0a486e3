//! What the local emulator cannot show about the API Gateway adapter, with scripted SDK answers
//! (`aws-smithy-mocks`) instead: moto serves every API in one page, ignoring GetRestApis'
//! `limit` and `position` and GetApis' `NextToken`, so pagination and the counting of one
//! request per page are shown here. Listing against the emulator is in `tests/aws_seams.rs`.

use std::sync::Arc;

use aws_sdk_apigateway::operation::get_rest_apis::GetRestApisOutput;
use aws_sdk_apigateway::types::RestApi;
use aws_sdk_apigatewayv2::operation::get_apis::GetApisOutput;
use aws_sdk_apigatewayv2::types::Api;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use exporter::apigateway::{self, ApiGateway};
use exporter::self_metrics::SelfMetrics;
use prometheus_client::registry::Registry;

/// The value of the self-metric sample `name` in the text exposition.
fn counted(metrics: &SelfMetrics, name: &str) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let prefix = format!("{name} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .to_owned()
}

/// A v2 client that is never asked: the v1 tests script v1 only.
fn unused_v2() -> aws_sdk_apigatewayv2::Client {
    mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [])
}

#[tokio::test]
async fn rest_apis_follow_position_across_pages_of_500() {
    // Page `n` (position `n`, none for the first) holds APIs 500n..; 1,001 APIs in all.
    let rule = mock!(aws_sdk_apigateway::Client::get_rest_apis)
        .match_requests(|request| request.limit() == Some(500))
        .then_compute_output(|request| {
            let page: usize = request.position().map_or(0, |p| p.parse().unwrap());
            let items = (page * 500..((page + 1) * 500).min(1_001)).map(|n| {
                RestApi::builder()
                    .id(format!("id{n:04}"))
                    .name(format!("api-{n}"))
                    .build()
            });
            let next = (page < 2).then(|| (page + 1).to_string());
            GetRestApisOutput::builder()
                .set_items(Some(items.collect()))
                .set_position(next)
                .build()
        });
    let v1 = mock_client!(aws_sdk_apigateway, RuleMode::MatchAny, [&rule]);
    let metrics = Arc::new(SelfMetrics::default());
    let client = apigateway::Client::from_sdk(v1, unused_v2(), metrics.clone());

    let apis = client.rest_apis().await.unwrap();
    assert_eq!(apis.len(), 1_001);
    assert_eq!(apis[1_000], ("id1000".to_owned(), "api-1000".to_owned()));
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(
        counted(&metrics, "yace_cloudwatch_apigatewayapi_requests_total"),
        "3"
    );
}

#[tokio::test]
async fn http_apis_follow_next_token_until_there_is_none() {
    let first = mock!(aws_sdk_apigatewayv2::Client::get_apis)
        .match_requests(|request| request.next_token().is_none())
        .then_output(|| {
            GetApisOutput::builder()
                .items(Api::builder().api_id("a1").build())
                .items(Api::builder().api_id("a2").build())
                .next_token("t1")
                .build()
        });
    let last = mock!(aws_sdk_apigatewayv2::Client::get_apis)
        .match_requests(|request| request.next_token() == Some("t1"))
        .then_output(|| {
            GetApisOutput::builder()
                .items(Api::builder().api_id("a3").build())
                .build()
        });
    let v1 = mock_client!(aws_sdk_apigateway, RuleMode::MatchAny, []);
    let v2 = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&first, &last]);
    let metrics = Arc::new(SelfMetrics::default());
    let client = apigateway::Client::from_sdk(v1, v2, metrics.clone());

    assert_eq!(client.http_apis().await.unwrap(), ["a1", "a2", "a3"]);
    assert_eq!((first.num_calls(), last.num_calls()), (1, 1));
    assert_eq!(
        counted(&metrics, "yace_cloudwatch_apigatewayapiv2_requests_total"),
        "2"
    );
}

#[tokio::test]
async fn a_failed_page_is_an_error_naming_its_api_and_is_counted() {
    let rule = mock!(aws_sdk_apigatewayv2::Client::get_apis).then_error(|| {
        aws_sdk_apigatewayv2::operation::get_apis::GetApisError::unhandled("throttled")
    });
    let v1 = mock_client!(aws_sdk_apigateway, RuleMode::MatchAny, []);
    let v2 = mock_client!(aws_sdk_apigatewayv2, RuleMode::MatchAny, [&rule]);
    let metrics = Arc::new(SelfMetrics::default());
    let client = apigateway::Client::from_sdk(v1, v2, metrics.clone());

    let error = client.http_apis().await.unwrap_err().to_string();
    assert!(error.starts_with("GetApis failed: "), "{error}");
    assert_eq!(
        counted(&metrics, "yace_cloudwatch_apigatewayapiv2_requests_total"),
        "1"
    );
}
