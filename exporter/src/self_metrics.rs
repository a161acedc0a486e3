//! The exporter's own metrics, under YACE's names and labels so that users' cost and health
//! dashboards built on `yace_cloudwatch_*` keep working, with help text that says what each
//! counts. The AWS adapters count their calls here, one per API page as AWS bills them.
//!
//! Two of YACE's counters have no `_total` suffix (`yace_cloudwatch_request_errors`,
//! `yace_cloudwatch_duplicate_metrics_filtered`); OpenMetrics requires it on counters, so
//! those two are exposed as gauges that only grow, keeping the names queries use.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type ByApi = Family<[(&'static str, &'static str); 1], Counter>;
type ErrorsByApi = Family<[(&'static str, &'static str); 1], Gauge>;

#[derive(Debug, Default)]
pub struct SelfMetrics {
    requests: ByApi,
    request_errors: ErrorsByApi,
    metrics_requested: Counter,
    get_metric_data_requests: Counter,
    tagging_requests: Counter,
    api_gateway_requests: Counter,
    api_gateway_v2_requests: Counter,
    duplicates: Gauge,
}

impl SelfMetrics {
    /// Adds every metric to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "yace_cloudwatch_requests",
            "CloudWatch API requests made, one per page, by API",
            self.requests.clone(),
        );
        registry.register(
            "yace_cloudwatch_request_errors",
            "CloudWatch API requests that failed, by API",
            self.request_errors.clone(),
        );
        registry.register(
            "yace_cloudwatch_getmetricdata_metrics_requested",
            "Queries sent in GetMetricData requests: the unit GetMetricData is billed in",
            self.metrics_requested.clone(),
        );
        registry.register(
            "yace_cloudwatch_getmetricdata_requests",
            "GetMetricData requests made (also counted in yace_cloudwatch_requests_total)",
            self.get_metric_data_requests.clone(),
        );
        registry.register(
            "yace_cloudwatch_resourcegrouptaggingapi_requests",
            "Resource Groups Tagging API GetResources requests made, one per page",
            self.tagging_requests.clone(),
        );
        registry.register(
            "yace_cloudwatch_apigatewayapi_requests",
            "API Gateway GetRestApis requests made by AWS/ApiGateway discovery, one per page",
            self.api_gateway_requests.clone(),
        );
        registry.register(
            "yace_cloudwatch_apigatewayapiv2_requests",
            "API Gateway v2 GetApis requests made by AWS/ApiGateway discovery, one per page",
            self.api_gateway_v2_requests.clone(),
        );
        registry.register(
            "yace_cloudwatch_duplicate_metrics_filtered",
            "Series dropped because an earlier one had the same name and labels",
            self.duplicates.clone(),
        );
    }

    /// One CloudWatch request of `api` was sent; `failed` when it came back with an error.
    pub fn cloudwatch_request(&self, api: &'static str, failed: bool) {
        self.requests.get_or_create(&[("api_name", api)]).inc();
        if failed {
            self.request_errors
                .get_or_create(&[("api_name", api)])
                .inc();
        }
    }

    /// One GetMetricData request carrying `queries` queries was sent.
    pub fn get_metric_data_request(&self, queries: usize, failed: bool) {
        self.cloudwatch_request("GetMetricData", failed);
        self.get_metric_data_requests.inc();
        self.metrics_requested.inc_by(queries as u64);
    }

    pub fn tagging_request(&self) {
        self.tagging_requests.inc();
    }

    pub fn api_gateway_request(&self) {
        self.api_gateway_requests.inc();
    }

    pub fn api_gateway_v2_request(&self) {
        self.api_gateway_v2_requests.inc();
    }

    pub fn duplicates_filtered(&self, count: usize) {
        self.duplicates
            .inc_by(i64::try_from(count).unwrap_or(i64::MAX));
    }
}
