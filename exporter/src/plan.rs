//! `plan`: what a configuration will cost in CloudWatch API calls, before it runs. Each job ×
//! region × role is scraped once against recording seams: the tagging API and ListMetrics are
//! really asked (or, with `--offline`, answered by an assumed account of N resources per job),
//! GetMetricData is never sent, only recorded. The scrape logic is the exporter's own, so the
//! queries counted are the ones a real scrape would send.
//!
//! From one scrape to a month (30 days) at `-scraping-interval` I: GetResources and
//! ListMetrics are asked once per TTL of `cache:` (rounded up to whole scrapes, at least every
//! scrape); GetMetricData for a discovery or custom-namespace job once per window, every
//! max(I, period), when `cache.datapoints` is on (assuming the window's newest datapoint is
//! there at its first fetch), otherwise every scrape; static jobs' windows move every scrape.
//! YACE's column is the same queries asked every scrape, billed by the same AWS rule.
//!
//! List prices (us-east-1, before the free tier): GetMetricData USD 0.01 per 1,000 metrics
//! requested (up to five statistics of one metric in one request are one metric), ListMetrics
//! USD 0.01 per 1,000 requests; GetResources, API Gateway's GET calls and STS are free.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::Error;
use crate::apigateway::{self, ApiGateway};
use crate::associator::Resource;
use crate::cloudwatch::{self, CloudWatch, Datapoint, Query, Window, billed_metrics};
use crate::config::{Cache, Config, Role};
use crate::scrape::{self, Context};
use crate::self_metrics::SelfMetrics;
use crate::services;
use crate::tagging::{self, Tagging};
use crate::{discovery, scheduler};

/// The month the plan is priced over.
pub const MONTH: Duration = Duration::from_secs(30 * 86_400);
/// USD per GetMetricData metric requested.
pub const PRICE_PER_METRIC: f64 = 0.01 / 1000.0;
/// USD per ListMetrics request.
pub const PRICE_PER_LIST_REQUEST: f64 = 0.01 / 1000.0;
/// GetResources pages hold 100 resources, ListMetrics pages 500 metrics.
const RESOURCES_PER_PAGE: usize = 100;
const METRICS_PER_PAGE: usize = 500;

/// Where the plan's resources and metrics come from.
#[derive(Debug, Clone, Copy)]
pub enum Inventory {
    /// Asked of AWS: the tagging API and ListMetrics, once per job × region × role.
    Discovered,
    /// `--offline`: every job finds this many resources, each listed once per metric.
    Assumed(usize),
}

/// GetMetricData of one scrape for one period.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    pub calls: u64,
    pub queries: u64,
    pub billed: u64,
}

/// What one job × region × role asks of AWS in one scrape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PerScrape {
    pub get_resources: u64,
    pub api_gateway: u64,
    pub list_metrics: u64,
    /// By period.
    pub get_metric_data: BTreeMap<u32, Fetch>,
    /// The windows are aligned to the period (discovery, custom namespace), so a window
    /// holds still between scrapes; static jobs' windows move every scrape.
    pub aligned: bool,
}

/// The same over a month.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct PerMonth {
    pub get_resources: f64,
    pub list_metrics: f64,
    pub get_metric_data: f64,
    pub billed: f64,
}

impl PerMonth {
    pub fn cost(&self) -> f64 {
        self.billed * PRICE_PER_METRIC + self.list_metrics * PRICE_PER_LIST_REQUEST
    }
}

impl std::ops::AddAssign for PerMonth {
    fn add_assign(&mut self, other: Self) {
        self.get_resources += other.get_resources;
        self.list_metrics += other.list_metrics;
        self.get_metric_data += other.get_metric_data;
        self.billed += other.billed;
    }
}

impl PerScrape {
    /// This scrape's calls over a month at `interval`, with `cache`.
    pub fn per_month(&self, interval: Duration, cache: &Cache) -> PerMonth {
        let every = |seconds: f64| MONTH.as_secs_f64() / seconds;
        let interval = interval.as_secs_f64().max(1.0);
        // A cached answer is asked again at the first scrape after its TTL.
        let refresh = |ttl: Duration| (ttl.as_secs_f64() / interval).ceil().max(1.0) * interval;
        let mut month = PerMonth {
            get_resources: (self.get_resources + self.api_gateway) as f64
                * every(refresh(cache.resources)),
            list_metrics: self.list_metrics as f64 * every(refresh(cache.list_metrics)),
            ..PerMonth::default()
        };
        for (&period, fetch) in &self.get_metric_data {
            let fetched = if cache.datapoints && self.aligned {
                interval.max(f64::from(period))
            } else {
                interval
            };
            month.get_metric_data += fetch.calls as f64 * every(fetched);
            month.billed += fetch.billed as f64 * every(fetched);
        }
        month
    }

    /// YACE's month for the same scrape: everything asked every scrape.
    pub fn yace_month(&self, interval: Duration) -> PerMonth {
        let yace = Cache {
            resources: Duration::ZERO,
            list_metrics: Duration::ZERO,
            account: Duration::ZERO,
            datapoints: false,
        };
        self.per_month(interval, &yace)
    }
}

/// One line of the plan.
#[derive(Debug, Clone)]
pub struct Line {
    /// `discovery AWS/Lambda`, `static <name>`, `custom_namespace <name>`.
    pub job: String,
    pub region: String,
    pub role: String,
    pub per_scrape: PerScrape,
}

/// Counts what one scrape asks of the seams it wraps; GetMetricData is recorded, not sent.
#[derive(Debug)]
struct Recorder<'a, T> {
    inner: &'a T,
    queries_per_call: usize,
    seen: Mutex<PerScrape>,
}

impl<T> Recorder<'_, T> {
    fn seen(&self) -> std::sync::MutexGuard<'_, PerScrape> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn pages(items: usize, per_page: usize) -> u64 {
    items.div_ceil(per_page).max(1) as u64
}

impl<T: CloudWatch> CloudWatch for Recorder<'_, T> {
    async fn get_metric_data(
        &self,
        queries: &[Query],
        _window: Window,
    ) -> Result<Vec<Vec<Datapoint>>, Error> {
        let mut seen = self.seen();
        for chunk in queries.chunks(self.queries_per_call) {
            let fetch = seen.get_metric_data.entry(chunk[0].period).or_default();
            fetch.calls += 1;
            fetch.queries += chunk.len() as u64;
            fetch.billed += billed_metrics(chunk) as u64;
        }
        Ok(vec![Vec::new(); queries.len()])
    }

    async fn list_metrics(
        &self,
        namespace: &str,
        metric: &str,
        recently_active: bool,
    ) -> Result<Vec<Vec<(String, String)>>, Error> {
        let listed = self
            .inner
            .list_metrics(namespace, metric, recently_active)
            .await?;
        self.seen().list_metrics += pages(listed.len(), METRICS_PER_PAGE);
        Ok(listed)
    }
}

impl<T: Tagging> Tagging for Recorder<'_, T> {
    async fn get_resources(
        &self,
        resource_types: &[&str],
        tag_keys: &[String],
    ) -> Result<Vec<Resource>, Error> {
        let found = self.inner.get_resources(resource_types, tag_keys).await?;
        self.seen().get_resources += pages(found.len(), RESOURCES_PER_PAGE);
        Ok(found)
    }
}

impl<T: ApiGateway> ApiGateway for Recorder<'_, T> {
    async fn rest_apis(&self) -> Result<Vec<(String, String)>, Error> {
        let found = self.inner.rest_apis().await?;
        // GetRestApis pages hold up to 500 APIs.
        self.seen().api_gateway += pages(found.len(), 500);
        Ok(found)
    }

    async fn http_apis(&self) -> Result<Vec<String>, Error> {
        self.seen().api_gateway += 1;
        self.inner.http_apis().await
    }
}

/// An account in which every job finds `count` resources, each listed once per metric under
/// the dimensions its service's ARN spells (`Resource` for custom namespaces).
#[derive(Debug)]
struct Assumed {
    count: usize,
    region: String,
}

const ASSUMED_ACCOUNT: &str = "123456789012";

impl Assumed {
    fn names(&self) -> impl Iterator<Item = String> {
        (0..self.count).map(|i| format!("resource-{i}"))
    }

    /// The dimension the first ARN pattern of `namespace` is spelled from.
    fn dimension(namespace: &str) -> String {
        services::by_namespace(namespace)
            .and_then(|service| service.arn_patterns.first())
            .and_then(|pattern| {
                let open = pattern.rfind('{')?;
                Some(pattern[open + 1..pattern.len() - 1].to_owned())
            })
            .unwrap_or_else(|| "Resource".to_owned())
    }
}

impl CloudWatch for Assumed {
    async fn get_metric_data(
        &self,
        queries: &[Query],
        _window: Window,
    ) -> Result<Vec<Vec<Datapoint>>, Error> {
        Ok(vec![Vec::new(); queries.len()])
    }

    async fn list_metrics(
        &self,
        namespace: &str,
        _metric: &str,
        _recently_active: bool,
    ) -> Result<Vec<Vec<(String, String)>>, Error> {
        let dimension = Self::dimension(namespace);
        Ok(self
            .names()
            .map(|name| vec![(dimension.clone(), name)])
            .collect())
    }
}

impl Tagging for Assumed {
    async fn get_resources(
        &self,
        resource_types: &[&str],
        _tag_keys: &[String],
    ) -> Result<Vec<Resource>, Error> {
        let Some(service) = services::SERVICES
            .iter()
            .find(|service| service.resource_filters == resource_types)
        else {
            return Ok(Vec::new());
        };
        let dimension = Self::dimension(service.namespace);
        Ok(self
            .names()
            .filter_map(|name| {
                let arn = service.arn_from_dimensions(
                    &[(dimension.clone(), name)],
                    &self.region,
                    ASSUMED_ACCOUNT,
                )?;
                Some(Resource {
                    arn,
                    tags: Vec::new(),
                })
            })
            .collect())
    }
}

impl ApiGateway for Assumed {
    async fn rest_apis(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(self.names().map(|name| (name.clone(), name)).collect())
    }

    async fn http_apis(&self) -> Result<Vec<String>, Error> {
        Ok(Vec::new())
    }
}

#[derive(Debug, Clone, Copy)]
enum JobRef {
    Discovery(usize),
    Static(usize),
    CustomNamespace(usize),
}

/// Scrapes `job` once through recording seams and returns what it asked.
#[allow(clippy::too_many_arguments)]
async fn record(
    config: &Config,
    job: JobRef,
    region: &str,
    cloudwatch: &impl CloudWatch,
    tagging: &impl Tagging,
    api_gateway: &impl ApiGateway,
    queries_per_call: usize,
) -> Result<PerScrape, Error> {
    let cloudwatch = Recorder {
        inner: cloudwatch,
        queries_per_call,
        seen: Mutex::default(),
    };
    let tagging = Recorder {
        inner: tagging,
        queries_per_call,
        seen: Mutex::default(),
    };
    let api_gateway = Recorder {
        inner: api_gateway,
        queries_per_call,
        seen: Mutex::default(),
    };
    let context = Context {
        region,
        account_id: ASSUMED_ACCOUNT,
        account_alias: None,
        snake_case: false,
    };
    let now = SystemTime::now();
    let aligned = match job {
        JobRef::Discovery(i) => {
            let job = &config.discovery_jobs[i];
            discovery::discovery_job(job, context, &cloudwatch, &tagging, &api_gateway, now)
                .await?;
            true
        }
        JobRef::Static(i) => {
            scrape::static_job(&config.static_jobs[i], context, &cloudwatch, now).await?;
            false
        }
        JobRef::CustomNamespace(i) => {
            let job = &config.custom_namespace_jobs[i];
            discovery::custom_namespace_job(job, context, &cloudwatch, now).await?;
            true
        }
    };
    let mut seen = cloudwatch.seen().clone();
    seen.get_resources = tagging.seen().get_resources;
    seen.api_gateway = api_gateway.seen().api_gateway;
    seen.aligned = aligned;
    Ok(seen)
}

/// Every job × region × role of `config`, named, in configuration order.
fn units(config: &Config) -> Vec<(JobRef, String, String, Role)> {
    let mut units = Vec::new();
    let mut add = |job: JobRef, name: String, regions: &[String], roles: &[Role]| {
        for region in regions {
            for role in roles {
                units.push((job, name.clone(), region.clone(), role.clone()));
            }
        }
    };
    for (i, job) in config.discovery_jobs.iter().enumerate() {
        let name = format!("discovery {}", job.namespace);
        add(JobRef::Discovery(i), name, &job.regions, &job.roles);
    }
    for (i, job) in config.static_jobs.iter().enumerate() {
        let name = format!("static {}", job.name);
        add(JobRef::Static(i), name, &job.regions, &job.roles);
    }
    for (i, job) in config.custom_namespace_jobs.iter().enumerate() {
        let name = format!("custom_namespace {}", job.name);
        add(JobRef::CustomNamespace(i), name, &job.regions, &job.roles);
    }
    units
}

/// One scrape of every job × region × role of `config`, recorded. `sdk` is asked only for a
/// discovered inventory.
pub async fn plan(
    config: &Config,
    inventory: Inventory,
    sdk: &aws_config::SdkConfig,
    queries_per_call: usize,
) -> Result<Vec<Line>, Error> {
    let queries_per_call = queries_per_call.clamp(1, cloudwatch::MAX_QUERIES_PER_CALL);
    let mut lines = Vec::new();
    for (job, name, region, role) in units(config) {
        let per_scrape = match inventory {
            Inventory::Assumed(count) => {
                let account = Assumed {
                    count,
                    region: region.clone(),
                };
                record(
                    config,
                    job,
                    &region,
                    &account,
                    &account,
                    &account,
                    queries_per_call,
                )
                .await?
            }
            Inventory::Discovered => {
                let metrics = Arc::new(SelfMetrics::default());
                let sts_region = config.sts_region.as_ref().unwrap_or(&region);
                let credentials = scheduler::credentials(sdk, &role, sts_region, &metrics).await;
                let cloudwatch = cloudwatch::Client::new(
                    &credentials,
                    &region,
                    queries_per_call,
                    metrics.clone(),
                );
                let tagging = tagging::Client::new(&credentials, &region, metrics.clone());
                let api_gateway = apigateway::Client::new(&credentials, &region, metrics);
                record(
                    config,
                    job,
                    &region,
                    &cloudwatch,
                    &tagging,
                    &api_gateway,
                    queries_per_call,
                )
                .await?
            }
        };
        lines.push(Line {
            job: name,
            region,
            role: role.role_arn.unwrap_or_default(),
            per_scrape,
        });
    }
    Ok(lines)
}

/// The plan as a table: per job, the calls of one scrape, of a month, and the month's cost,
/// ours and YACE's; then the totals.
pub fn render(lines: &[Line], interval: Duration, cache: &Cache, inventory: Inventory) -> String {
    let mut out = String::new();
    let resources = match inventory {
        Inventory::Discovered => "resources and metrics as discovered now".to_owned(),
        Inventory::Assumed(count) => {
            format!("assumed: {count} resources per job, each listed once per metric (--offline)")
        }
    };
    let _ = writeln!(
        out,
        "CloudWatch API calls and cost at -scraping-interval {}s; a month is 30 days; list prices (us-east-1): GetMetricData USD 0.01 per 1000 metrics, ListMetrics USD 0.01 per 1000 requests, GetResources free",
        interval.as_secs()
    );
    let _ = writeln!(out, "{resources}");
    let _ = writeln!(
        out,
        "cache: resources {}s, listMetrics {}s, datapoints {}",
        cache.resources.as_secs(),
        cache.list_metrics.as_secs(),
        if cache.datapoints {
            "reused"
        } else {
            "not reused"
        }
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<36} {:<14} | {:>6} {:>6} {:>6} {:>7} | {:>9} {:>9} {:>11} | {:>9} {:>9}",
        "", "", "per scrape", "", "", "", "per month", "", "", "USD/month", ""
    );
    let _ = writeln!(
        out,
        "{:<36} {:<14} | {:>6} {:>6} {:>6} {:>7} | {:>9} {:>9} {:>11} | {:>9} {:>9}",
        "job",
        "region",
        "GetRes",
        "ListM",
        "GetMD",
        "billed",
        "ListM",
        "GetMD",
        "billed",
        "ours",
        "YACE"
    );
    let (mut ours, mut yace) = (PerMonth::default(), PerMonth::default());
    for line in lines {
        let scrape = &line.per_scrape;
        let month = scrape.per_month(interval, cache);
        let yace_month = scrape.yace_month(interval);
        let calls: u64 = scrape.get_metric_data.values().map(|f| f.calls).sum();
        let billed: u64 = scrape.get_metric_data.values().map(|f| f.billed).sum();
        let mut job = line.job.clone();
        if !line.role.is_empty() {
            let _ = write!(job, " ({})", line.role);
        }
        let _ = writeln!(
            out,
            "{:<36} {:<14} | {:>6} {:>6} {:>6} {:>7} | {:>9.0} {:>9.0} {:>11.0} | {:>9.2} {:>9.2}",
            job,
            line.region,
            scrape.get_resources + scrape.api_gateway,
            scrape.list_metrics,
            calls,
            billed,
            month.list_metrics,
            month.get_metric_data,
            month.billed,
            month.cost(),
            yace_month.cost()
        );
        ours += month;
        yace += yace_month;
    }
    let _ = writeln!(
        out,
        "{:<36} {:<14} | {:>6} {:>6} {:>6} {:>7} | {:>9.0} {:>9.0} {:>11.0} | {:>9.2} {:>9.2}",
        "total",
        "",
        "",
        "",
        "",
        "",
        ours.list_metrics,
        ours.get_metric_data,
        ours.billed,
        ours.cost(),
        yace.cost()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(period: u32, billed: u64, aligned: bool) -> PerScrape {
        PerScrape {
            get_resources: 1,
            api_gateway: 0,
            list_metrics: 3,
            get_metric_data: BTreeMap::from([(
                period,
                Fetch {
                    calls: 1,
                    queries: billed,
                    billed,
                },
            )]),
            aligned,
        }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_daily_metric_is_priced_once_a_day_and_a_minute_one_every_scrape() {
        let cache = Cache::default();
        let daily = scrape(86_400, 10, true).per_month(MINUTE, &cache);
        assert_eq!(daily.billed, 300.0);
        assert_eq!(daily.get_metric_data, 30.0);
        let minute = scrape(60, 10, true).per_month(MINUTE, &cache);
        assert_eq!(minute.billed, 10.0 * 43_200.0);
        // YACE asks the daily one every scrape too.
        assert_eq!(
            scrape(86_400, 10, true).yace_month(MINUTE).billed,
            432_000.0
        );
        // A static job's window moves every scrape.
        assert_eq!(
            scrape(86_400, 10, false).per_month(MINUTE, &cache).billed,
            432_000.0
        );
    }

    #[test]
    fn lists_are_priced_once_per_ttl_rounded_up_to_whole_scrapes() {
        let cache = Cache {
            list_metrics: Duration::from_secs(600),
            resources: Duration::from_secs(90),
            ..Cache::default()
        };
        let month = scrape(60, 1, true).per_month(MINUTE, &cache);
        assert_eq!(month.list_metrics, 3.0 * 4320.0);
        // 90 s at a 60 s interval: asked again at the second scrape after, every 120 s.
        assert_eq!(month.get_resources, 21_600.0);
        let yace = scrape(60, 1, true).yace_month(MINUTE);
        assert_eq!(yace.list_metrics, 3.0 * 43_200.0);
        assert!((yace.cost() - (43_200.0 + 3.0 * 43_200.0) * 0.01 / 1000.0).abs() < 1e-9);
    }
}
