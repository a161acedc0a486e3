//! The exporter's own metrics. Two sets:
//!
//! - YACE's, under YACE's names and labels so that users' cost dashboards built on
//!   `yace_cloudwatch_*` keep working. The AWS adapters count their calls here, one per API
//!   page as AWS bills them.
//! - Ours, `cloudwatch_exporter_*`, the health one can alert on: per job (job type and name,
//!   region, role) whether its last scrape worked, how long it took, when it last worked, how
//!   many series it gave and whether those are stale; scrapes run and skipped; and per AWS API
//!   the requests sent, the calls that failed for good, throttled answers and retries
//!   ([`crate::calls`] counts those).
//!
//! Two of YACE's counters have no `_total` suffix (`yace_cloudwatch_request_errors`,
//! `yace_cloudwatch_duplicate_metrics_filtered`); OpenMetrics requires it on counters, so
//! those two are exposed as gauges that only grow, keeping the names queries use.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type ByApi = Family<[(&'static str, &'static str); 1], Counter>;
type ErrorsByApi = Family<[(&'static str, &'static str); 1], Gauge>;
type PerJob<M> = Family<[(&'static str, String); 4], M>;
type Seconds = Gauge<f64, AtomicU64>;

/// Which job a health series is about: one job of the configuration in one region under one
/// role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobLabels {
    /// `discovery`, `static` or `custom_namespace`.
    pub job_type: &'static str,
    /// The job's `name`, or its namespace when it has none (discovery jobs).
    pub job_name: String,
    pub region: String,
    /// The role ARN, `""` for the ambient credentials.
    pub role: String,
}

impl JobLabels {
    fn encode(&self) -> [(&'static str, String); 4] {
        [
            ("job_type", self.job_type.to_owned()),
            ("job_name", self.job_name.clone()),
            ("region", self.region.clone()),
            ("role", self.role.clone()),
        ]
    }
}

/// How one job's scrape ended, as the health metrics tell it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobOutcome {
    pub duration: Duration,
    /// When the job last succeeded, this scrape or an earlier one; `None` if never.
    pub last_success: Option<SystemTime>,
    pub succeeded: bool,
    /// Series the job contributes to `/metrics`, fresh or stale.
    pub series: usize,
    /// Whether those series are the last good ones, kept after a failure.
    pub stale: bool,
}

/// The health metrics of jobs and scrapes.
#[derive(Debug, Default)]
struct Health {
    duration: PerJob<Seconds>,
    success: PerJob<Gauge>,
    last_success: PerJob<Seconds>,
    series: PerJob<Gauge>,
    stale: PerJob<Gauge>,
    scrapes: Counter,
    skipped: Counter,
    api_requests: ByApi,
    api_errors: ByApi,
    api_throttles: ByApi,
    api_retries: ByApi,
}

#[derive(Debug, Default)]
pub struct SelfMetrics {
    requests: ByApi,
    request_errors: ErrorsByApi,
    metrics_requested: Counter,
    metrics_billed: Counter,
    get_metric_data_requests: Counter,
    tagging_requests: Counter,
    api_gateway_requests: Counter,
    api_gateway_v2_requests: Counter,
    duplicates: Gauge,
    health: Health,
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
            "cloudwatch_exporter_getmetricdata_billed_metrics",
            "Metrics GetMetricData bills for: each distinct metric of a request, once per five statistics of it",
            self.metrics_billed.clone(),
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
        self.register_health(registry);
    }

    fn register_health(&self, registry: &mut Registry) {
        let health = &self.health;
        let prefix = registry.sub_registry_with_prefix("cloudwatch_exporter");
        prefix.register(
            "job_scrape_duration_seconds",
            "Seconds the last scrape of the job took, in one region under one role",
            health.duration.clone(),
        );
        prefix.register(
            "job_scrape_success",
            "1 if the last scrape of the job succeeded, 0 if it failed",
            health.success.clone(),
        );
        prefix.register(
            "job_last_success_timestamp_seconds",
            "Unix time the job last scraped successfully; absent until it has once",
            health.last_success.clone(),
        );
        prefix.register(
            "job_series",
            "Series the job serves on /metrics after its last scrape, fresh or stale",
            health.series.clone(),
        );
        prefix.register(
            "job_stale",
            "1 while the job serves its last good series after failing, within the staleness bound",
            health.stale.clone(),
        );
        prefix.register(
            "scrapes",
            "Scrapes of every job started by the background loop",
            health.scrapes.clone(),
        );
        prefix.register(
            "scrapes_skipped",
            "Scrape ticks skipped because the previous scrape was still running",
            health.skipped.clone(),
        );
        prefix.register(
            "api_requests",
            "AWS API requests sent, every attempt and page counted, by API",
            health.api_requests.clone(),
        );
        prefix.register(
            "api_errors",
            "AWS API calls that failed for good, after any retries, by API",
            health.api_errors.clone(),
        );
        prefix.register(
            "api_throttles",
            "AWS API requests answered with a throttling error, by API",
            health.api_throttles.clone(),
        );
        prefix.register(
            "api_retries",
            "AWS API requests sent again after a throttled, timed-out or failed attempt, by API",
            health.api_retries.clone(),
        );
        let build_info: Family<[(&'static str, &'static str); 3], Gauge> = Family::default();
        build_info
            .get_or_create(&[
                ("version", env!("CARGO_PKG_VERSION")),
                ("revision", env!("EXPORTER_REVISION")),
                ("rustc_version", env!("EXPORTER_RUSTC_VERSION")),
            ])
            .set(1);
        prefix.register(
            "build_info",
            "Always 1; the labels tell the exporter's version, source revision and compiler",
            build_info,
        );
    }

    /// Records how one job's scrape ended.
    pub fn job_scraped(&self, job: &JobLabels, outcome: JobOutcome) {
        let (labels, health) = (job.encode(), &self.health);
        health
            .duration
            .get_or_create(&labels)
            .set(outcome.duration.as_secs_f64());
        health
            .success
            .get_or_create(&labels)
            .set(outcome.succeeded.into());
        if let Some(at) = outcome.last_success {
            let seconds = at.duration_since(UNIX_EPOCH).unwrap_or_default();
            health
                .last_success
                .get_or_create(&labels)
                .set(seconds.as_secs_f64());
        }
        health
            .series
            .get_or_create(&labels)
            .set(i64::try_from(outcome.series).unwrap_or(i64::MAX));
        health
            .stale
            .get_or_create(&labels)
            .set(outcome.stale.into());
    }

    /// Forgets every job's health series: a reloaded configuration may have dropped jobs.
    pub fn forget_jobs(&self) {
        let health = &self.health;
        health.duration.clear();
        health.success.clear();
        health.last_success.clear();
        health.series.clear();
        health.stale.clear();
    }

    pub fn scrape_started(&self) {
        self.health.scrapes.inc();
    }

    pub fn scrape_skipped(&self) {
        self.health.skipped.inc();
    }

    /// One request (attempt or page) of `api` was sent.
    pub fn api_request(&self, api: &'static str) {
        self.health
            .api_requests
            .get_or_create(&[("api", api)])
            .inc();
    }

    /// A call of `api` failed and will not be retried.
    pub fn api_error(&self, api: &'static str) {
        self.health.api_errors.get_or_create(&[("api", api)]).inc();
    }

    pub fn api_throttle(&self, api: &'static str) {
        self.health
            .api_throttles
            .get_or_create(&[("api", api)])
            .inc();
    }

    pub fn api_retry(&self, api: &'static str) {
        self.health.api_retries.get_or_create(&[("api", api)]).inc();
    }

    /// The current value of an `api` counter, by its name without prefix and suffix
    /// (`requests`, `errors`, `throttles`, `retries`); for tests.
    pub fn api_count(&self, counter: &str, api: &'static str) -> u64 {
        let health = &self.health;
        let family = match counter {
            "requests" => &health.api_requests,
            "errors" => &health.api_errors,
            "throttles" => &health.api_throttles,
            "retries" => &health.api_retries,
            other => panic!("no api counter {other:?}"),
        };
        family
            .get(&[("api", api)])
            .map_or(0, |counter| counter.get())
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

    /// One GetMetricData request carrying `queries` queries, billed as `billed` metrics, was
    /// sent.
    pub fn get_metric_data_request(&self, queries: usize, billed: usize, failed: bool) {
        self.cloudwatch_request("GetMetricData", failed);
        self.get_metric_data_requests.inc();
        self.metrics_requested.inc_by(queries as u64);
        self.metrics_billed.inc_by(billed as u64);
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
