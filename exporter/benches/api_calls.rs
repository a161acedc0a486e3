//! AWS API calls of one scrape: ours, YACE's and the floor, side by side, for a reference
//! configuration of N resources x M metrics x S statistics at a few sizes.
//!
//! "Ours" is measured: the real [`discovery_job`] runs against counting fakes of the
//! [`CloudWatch`] and [`Tagging`] seams that stand for one account. The fakes count calls the
//! way AWS serves and bills them: one GetResources call per page of 100 resources, one
//! ListMetrics call per page of 500 metrics, and one GetMetricData call per chunk of
//! [`MAX_QUERIES_PER_CALL`] queries of each seam call, as the SDK adapter chunks them (each
//! answer is taken to fit one page, as a window of a few datapoints per query does, for YACE
//! as for us).
//! "YACE" is a formula, YACE 0.67's algorithm as `yace-compat.md` §4.2-4.3 states it, not a
//! run of YACE: GetResources pages per job, ListMetrics pages per configured metric, and
//! GetMetricData batches of at most 500 queries per (period, delay) group of a job. The floor
//! for GetMetricData is ceil(queries / 500) per (period, delay) group, since one call carries
//! one time window; YACE's grouping meets it by construction.
//!
//! The configuration is YACE YAML, parsed by our config module: one discovery job per service
//! of the seed stack (Lambda, SQS, DynamoDB, Step Functions, API Gateway, S3), N/6 tagged
//! resources each, one region, one role. API Gateway's GetRestApis and GetApis calls (free, as
//! GetResources is) are counted with GetResources. STS calls are not counted: the scheduler
//! makes them outside these seams; YACE's count is printed for reference.
//!
//! The second table is the cost of a simulated day, priced per month: see [`day`].
//!
//! Needs neither AWS nor the emulator: `cargo bench -p exporter --bench api_calls` (the figures
//! are counts, not timings, so `--profile dev` gives the same table and builds faster).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use exporter::Error;
use exporter::apigateway::ApiGateway;
use exporter::associator::Resource;
use exporter::cache::{Cached, Clock};
use exporter::cloudwatch::{
    CloudWatch, Datapoint, MAX_QUERIES_PER_CALL, Query, Window, billed_metrics,
};
use exporter::config::DiscoveryJob;
use exporter::discovery::discovery_job;
use exporter::scrape::Context;
use exporter::tagging::Tagging;

/// Resources, metrics per job and statistics per metric: from a small account to a large one.
const SIZES: [(usize, usize, usize); 4] = [(10, 4, 2), (100, 9, 3), (1000, 9, 5), (5000, 11, 2)];
const STATISTICS: [&str; 5] = ["Sum", "Average", "Maximum", "Minimum", "SampleCount"];
/// AWS page sizes: GetResources serves at most 100 resources (YACE asks for 100), ListMetrics
/// 500 metrics.
const RESOURCES_PER_PAGE: usize = 100;
const METRICS_PER_PAGE: usize = 500;
const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";

/// A dimension's value in a set that CloudWatch lists: the resource's own (its name, or its
/// ARN for Step Functions) or a constant such as a DynamoDB operation.
#[derive(Clone, Copy)]
enum Value {
    Resource,
    Fixed(&'static str),
}

type DimensionSet = &'static [(&'static str, Value)];

/// What CloudWatch lists for one metric: sets repeated for every resource, and account-level
/// sets listed once, which association keeps as `name="global"`.
struct Listing {
    per_resource: &'static [DimensionSet],
    account: &'static [DimensionSet],
}

/// A service of the reference as the fake account publishes it.
struct Service {
    namespace: &'static str,
    /// A size with M metrics configures the first M names.
    metrics: [&'static str; 11],
    /// The i-th resource's ARN and the value its metrics carry.
    resource: fn(usize) -> (String, String),
    /// What ListMetrics returns for a metric name, per the reference's typical sets (§3).
    listing: fn(&str) -> Listing,
    /// Period and length a typical YACE config gives the metric.
    timing: fn(&str) -> (u32, u32),
}

/// Sets listed for every resource and none for the account.
const fn per_resource(sets: &'static [DimensionSet]) -> Listing {
    Listing {
        per_resource: sets,
        account: &[],
    }
}

// The dimension sets of the reference's services (§3).
const QUEUE: &[DimensionSet] = &[&[("QueueName", Value::Resource)]];
const STATE_MACHINE: &[DimensionSet] = &[&[("StateMachineArn", Value::Resource)]];
const TABLE: &[DimensionSet] = &[&[("TableName", Value::Resource)]];
const TABLE_OPERATION: &[DimensionSet] = &[
    &[
        ("TableName", Value::Resource),
        ("Operation", Value::Fixed("GetItem")),
    ],
    &[
        ("TableName", Value::Resource),
        ("Operation", Value::Fixed("Query")),
    ],
];
/// Per function and per function version or alias; the account-wide aggregate follows.
const FUNCTION: &[DimensionSet] = &[
    &[("FunctionName", Value::Resource)],
    &[
        ("FunctionName", Value::Resource),
        ("Resource", Value::Resource),
    ],
];
const BUCKET_STANDARD: &[DimensionSet] = &[&[
    ("BucketName", Value::Resource),
    ("StorageType", Value::Fixed("StandardStorage")),
]];
const BUCKET_ALL_TYPES: &[DimensionSet] = &[&[
    ("BucketName", Value::Resource),
    ("StorageType", Value::Fixed("AllStorageTypes")),
]];
const BUCKET_FILTER: &[DimensionSet] = &[&[
    ("BucketName", Value::Resource),
    ("FilterId", Value::Fixed("EntireBucket")),
]];
const API: &[DimensionSet] = &[
    &[("ApiName", Value::Resource)],
    &[
        ("ApiName", Value::Resource),
        ("Stage", Value::Fixed("prod")),
    ],
];
/// The account-level set without dimensions, kept as `name="global"`.
const ACCOUNT_WIDE: &[DimensionSet] = &[&[]];

fn five_minutes(_: &str) -> (u32, u32) {
    (300, 300)
}

static SERVICES: [Service; 6] = [
    Service {
        namespace: "AWS/Lambda",
        metrics: [
            "Invocations",
            "Errors",
            "Throttles",
            "Duration",
            "ConcurrentExecutions",
            "DeadLetterErrors",
            "IteratorAge",
            "AsyncEventsReceived",
            "AsyncEventAge",
            "AsyncEventsDropped",
            "DestinationDeliveryFailures",
        ],
        resource: |i| {
            let name = format!("image-resize-{i:05}");
            (
                format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
                name,
            )
        },
        listing: |_| Listing {
            per_resource: FUNCTION,
            account: ACCOUNT_WIDE,
        },
        timing: five_minutes,
    },
    Service {
        namespace: "AWS/SQS",
        metrics: [
            "ApproximateNumberOfMessagesVisible",
            "ApproximateAgeOfOldestMessage",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
            "NumberOfMessagesSent",
            "NumberOfMessagesReceived",
            "NumberOfMessagesDeleted",
            "NumberOfEmptyReceives",
            "SentMessageSize",
            "NumberOfDeduplicatedSentMessages",
            "ApproximateNumberOfGroupsWithInflightMessages",
        ],
        resource: |i| {
            let name = format!("orders-{i:05}");
            (format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"), name)
        },
        listing: |_| per_resource(QUEUE),
        timing: five_minutes,
    },
    Service {
        namespace: "AWS/DynamoDB",
        metrics: [
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "ProvisionedReadCapacityUnits",
            "ProvisionedWriteCapacityUnits",
            "ReadThrottleEvents",
            "SuccessfulRequestLatency",
            "ThrottledRequests",
            "SystemErrors",
            "ReturnedItemCount",
            "UserErrors",
            "ConditionalCheckFailedRequests",
        ],
        resource: |i| {
            let name = format!("sessions-{i:05}");
            (
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"),
                name,
            )
        },
        // Latency and errors per table and operation; UserErrors per account only.
        listing: |metric| match metric {
            "SuccessfulRequestLatency"
            | "ThrottledRequests"
            | "SystemErrors"
            | "ReturnedItemCount" => per_resource(TABLE_OPERATION),
            "UserErrors" => Listing {
                per_resource: &[],
                account: ACCOUNT_WIDE,
            },
            _ => per_resource(TABLE),
        },
        timing: five_minutes,
    },
    Service {
        namespace: "AWS/States",
        metrics: [
            "ExecutionsStarted",
            "ExecutionsSucceeded",
            "ExecutionsFailed",
            "ExecutionsAborted",
            "ExecutionsTimedOut",
            "ExecutionThrottled",
            "ExecutionTime",
            "ExecutionsRedriven",
            "ExpressExecutionMemory",
            "ExpressExecutionBilledDuration",
            "ExpressExecutionBilledMemory",
        ],
        // The dimension is the whole ARN.
        resource: |i| {
            let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:checkout-{i:05}");
            (arn.clone(), arn)
        },
        listing: |_| per_resource(STATE_MACHINE),
        timing: five_minutes,
    },
    Service {
        namespace: "AWS/ApiGateway",
        metrics: [
            "Count",
            "Latency",
            "IntegrationLatency",
            "5XXError",
            "4XXError",
            "CacheHitCount",
            "CacheMissCount",
            "DataProcessed",
            "ConnectCount",
            "MessageCount",
            "ClientError",
        ],
        // REST APIs: the tagging API knows the id, the metrics carry the name.
        resource: |i| {
            (
                format!("arn:aws:apigateway:{REGION}::/restapis/a{i:09}"),
                format!("images-api-{i:05}"),
            )
        },
        listing: |_| per_resource(API),
        timing: five_minutes,
    },
    Service {
        namespace: "AWS/S3",
        metrics: [
            "BucketSizeBytes",
            "NumberOfObjects",
            "AllRequests",
            "GetRequests",
            "PutRequests",
            "DeleteRequests",
            "HeadRequests",
            "ListRequests",
            "BytesDownloaded",
            "4xxErrors",
            "5xxErrors",
        ],
        resource: |i| {
            let name = format!("media-{i:05}");
            (format!("arn:aws:s3:::{name}"), name)
        },
        // Storage metrics per storage type, once a day; request metrics per filter, per minute.
        listing: |metric| match metric {
            "BucketSizeBytes" => per_resource(BUCKET_STANDARD),
            "NumberOfObjects" => per_resource(BUCKET_ALL_TYPES),
            _ => per_resource(BUCKET_FILTER),
        },
        // Daily storage metrics need two days of window to hold one complete datapoint, which
        // puts them in another (period, delay) group than the request metrics.
        timing: |metric| match metric {
            "BucketSizeBytes" | "NumberOfObjects" => (86_400, 172_800),
            _ => (60, 60),
        },
    },
];

/// API calls of one scrape, or of one job.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Calls {
    /// With API Gateway's GetRestApis and GetApis.
    get_resources: usize,
    list_metrics: usize,
    get_metric_data: usize,
    /// GetMetricData queries, the figure the floor is computed from.
    queries: usize,
}

impl std::ops::AddAssign for Calls {
    fn add_assign(&mut self, other: Self) {
        self.get_resources += other.get_resources;
        self.list_metrics += other.list_metrics;
        self.get_metric_data += other.get_metric_data;
        self.queries += other.queries;
    }
}

/// Calls a paginated API makes for `items`: AWS answers an empty result with one page too.
fn pages(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page).max(1)
}

/// One account holding `count` tagged resources of `service`, counting what is asked of it.
struct FakeAccount {
    service: &'static Service,
    resources: Vec<Resource>,
    /// The value each resource's metrics carry, by resource.
    values: Vec<String>,
    get_resources: AtomicUsize,
    list_metrics: AtomicUsize,
    get_metric_data: AtomicUsize,
    queries: AtomicUsize,
    billed: AtomicUsize,
    /// With a clock, a datapoint is published `publish_lag` after its period ends; without
    /// one, every datapoint is there.
    clock: Option<Clock>,
}

/// How long after its period ends a datapoint can be read: a minute's or five minutes'
/// within seconds, a daily S3 storage datapoint hours later.
fn publish_lag(period: u32) -> Duration {
    if period >= 86_400 {
        Duration::from_secs(6 * 3600)
    } else {
        Duration::from_secs(20)
    }
}

impl FakeAccount {
    fn new(service: &'static Service, count: usize) -> Self {
        let (resources, values) = (0..count)
            .map(|i| {
                let (arn, value) = (service.resource)(i);
                let tags = vec![
                    ("team".to_owned(), format!("team-{}", i % 7)),
                    ("env".to_owned(), "prod".to_owned()),
                ];
                (Resource { arn, tags }, value)
            })
            .unzip();
        FakeAccount {
            service,
            resources,
            values,
            get_resources: AtomicUsize::new(0),
            list_metrics: AtomicUsize::new(0),
            get_metric_data: AtomicUsize::new(0),
            queries: AtomicUsize::new(0),
            billed: AtomicUsize::new(0),
            clock: None,
        }
    }

    fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    fn calls(&self) -> Calls {
        Calls {
            get_resources: self.get_resources.load(Ordering::Relaxed),
            list_metrics: self.list_metrics.load(Ordering::Relaxed),
            get_metric_data: self.get_metric_data.load(Ordering::Relaxed),
            queries: self.queries.load(Ordering::Relaxed),
        }
    }
}

impl Tagging for FakeAccount {
    async fn get_resources(
        &self,
        _resource_types: &[&str],
        _tag_keys: &[String],
    ) -> Result<Vec<Resource>, Error> {
        let served = pages(self.resources.len(), RESOURCES_PER_PAGE);
        self.get_resources.fetch_add(served, Ordering::Relaxed);
        Ok(self.resources.clone())
    }
}

/// REST APIs only: each resource's id (the end of its ARN) and name (its metrics' value).
impl ApiGateway for FakeAccount {
    async fn rest_apis(&self) -> Result<Vec<(String, String)>, Error> {
        assert_eq!(self.service.namespace, "AWS/ApiGateway");
        // GetRestApis pages hold 500 APIs.
        let served = pages(self.resources.len(), 500);
        self.get_resources.fetch_add(served, Ordering::Relaxed);
        Ok(self
            .resources
            .iter()
            .zip(&self.values)
            .map(|(resource, name)| {
                let id = resource.arn.rsplit('/').next().unwrap_or_default();
                (id.to_owned(), name.clone())
            })
            .collect())
    }

    async fn http_apis(&self) -> Result<Vec<String>, Error> {
        self.get_resources.fetch_add(1, Ordering::Relaxed);
        Ok(Vec::new())
    }
}

impl CloudWatch for FakeAccount {
    async fn get_metric_data(
        &self,
        queries: &[Query],
        window: Window,
    ) -> Result<Vec<Vec<Datapoint>>, Error> {
        // The adapter sends one call per chunk of at most MAX_QUERIES_PER_CALL queries.
        let calls = queries.len().div_ceil(MAX_QUERIES_PER_CALL);
        self.get_metric_data.fetch_add(calls, Ordering::Relaxed);
        self.queries.fetch_add(queries.len(), Ordering::Relaxed);
        let billed: usize = queries
            .chunks(MAX_QUERIES_PER_CALL)
            .map(billed_metrics)
            .sum();
        self.billed.fetch_add(billed, Ordering::Relaxed);
        Ok(queries
            .iter()
            .map(|query| {
                let period = Duration::from_secs(query.period.into());
                // The newest published period of the window.
                let mut start = window.end - period;
                if let Some(clock) = &self.clock
                    && start + period + publish_lag(query.period) > clock.now()
                {
                    start -= period;
                }
                (start >= window.start)
                    .then_some(Datapoint {
                        timestamp: start,
                        value: 1.0,
                    })
                    .into_iter()
                    .collect()
            })
            .collect())
    }

    async fn list_metrics(
        &self,
        namespace: &str,
        metric: &str,
        _recently_active: bool,
    ) -> Result<Vec<Vec<(String, String)>>, Error> {
        assert_eq!(namespace, self.service.namespace);
        let listing = (self.service.listing)(metric);
        let dimensions = |set: DimensionSet, resource: &str| -> Vec<(String, String)> {
            set.iter()
                .map(|&(name, value)| {
                    let value = match value {
                        Value::Resource => resource,
                        Value::Fixed(value) => value,
                    };
                    (name.to_owned(), value.to_owned())
                })
                .collect()
        };
        let mut listed: Vec<Vec<(String, String)>> = self
            .values
            .iter()
            .flat_map(|value| {
                listing
                    .per_resource
                    .iter()
                    .map(|set| dimensions(set, value))
            })
            .collect();
        listed.extend(listing.account.iter().map(|set| dimensions(set, "")));
        let served = pages(listed.len(), METRICS_PER_PAGE);
        self.list_metrics.fetch_add(served, Ordering::Relaxed);
        Ok(listed)
    }
}

/// The reference configuration in YACE's YAML: one discovery job per service, each exporting
/// the `team` tag and searching for resources that carry it.
fn reference_config(
    metrics: usize,
    statistics: usize,
    timing: fn(&Service, &str) -> (u32, u32),
    cache: &str,
) -> String {
    let mut yaml = format!("apiVersion: v1alpha1\n{cache}discovery:\n  exportedTagsOnMetrics:\n");
    for service in &SERVICES {
        writeln!(yaml, "    {}: [team]", service.namespace).unwrap();
    }
    yaml.push_str("  jobs:\n");
    let statistics = STATISTICS[..statistics].join(", ");
    for service in &SERVICES {
        writeln!(yaml, "    - type: {}", service.namespace).unwrap();
        writeln!(yaml, "      regions: [{REGION}]").unwrap();
        yaml.push_str("      searchTags:\n        - key: team\n          value: \"^team-\"\n");
        yaml.push_str("      metrics:\n");
        for &metric in &service.metrics[..metrics] {
            let (period, length) = timing(service, metric);
            writeln!(yaml, "        - name: {metric}").unwrap();
            writeln!(yaml, "          statistics: [{statistics}]").unwrap();
            writeln!(yaml, "          period: {period}").unwrap();
            writeln!(yaml, "          length: {length}").unwrap();
        }
    }
    yaml
}

/// Where the simulated jobs run: one region of one account, YACE's label spelling.
const CONTEXT: Context<'static> = Context {
    region: REGION,
    account_id: ACCOUNT,
    account_alias: None,
    snake_case: false,
};

/// Our calls: the real discovery job against a fresh fake account.
fn ours(job: &DiscoveryJob, service: &'static Service, resources: usize) -> Calls {
    let account = FakeAccount::new(service, resources);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime needs no resources");
    let scrape = discovery_job(
        job,
        CONTEXT,
        &account,
        &account,
        &account,
        SystemTime::now(),
    );
    let series = runtime.block_on(scrape).expect("the fakes never fail");
    assert!(!series.is_empty(), "{} yielded nothing", service.namespace);
    account.calls()
}

/// YACE's calls for the same job, by its algorithm, and the GetMetricData floor. Every listed
/// metric is kept, since each listed set carries either a tagged resource's value or no
/// resource dimension at all; `ours` checks that by comparing query counts.
fn yace_and_floor(job: &DiscoveryJob, service: &Service, resources: usize) -> (Calls, usize) {
    let mut calls = Calls {
        get_resources: pages(resources, RESOURCES_PER_PAGE),
        ..Calls::default()
    };
    if service.namespace == "AWS/ApiGateway" {
        // GetRestApis (500 per page) and one GetApis.
        calls.get_resources += pages(resources, 500) + 1;
    }
    let mut groups: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for metric in &job.metrics {
        let listing = (service.listing)(&metric.name);
        let listed = resources * listing.per_resource.len() + listing.account.len();
        calls.list_metrics += pages(listed, METRICS_PER_PAGE);
        let queries = listed * metric.statistics.len();
        *groups.entry((metric.period, metric.delay)).or_default() += queries;
        calls.queries += queries;
    }
    // YACE batches each (period, delay) group by 500, which is the floor itself.
    let floor: usize = groups
        .values()
        .map(|queries| queries.div_ceil(MAX_QUERIES_PER_CALL))
        .sum();
    calls.get_metric_data = floor;
    (calls, floor)
}

struct Row {
    size: (usize, usize, usize),
    ours: Calls,
    yace: Calls,
    floor: usize,
}

fn measure((resources, metrics, statistics): (usize, usize, usize)) -> Row {
    let yaml = reference_config(metrics, statistics, |s, m| (s.timing)(m), "");
    let loaded = exporter::config::parse(&yaml).expect("the reference configuration is valid YACE");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let config = loaded.config;
    let per_service = resources / SERVICES.len();
    let mut row = Row {
        size: (resources, metrics, statistics),
        ours: Calls::default(),
        yace: Calls::default(),
        floor: 0,
    };
    for (job, service) in config.discovery_jobs.iter().zip(&SERVICES) {
        assert_eq!(job.namespace, service.namespace);
        row.ours += ours(job, service, per_service);
        let (yace, floor) = yace_and_floor(job, service, per_service);
        row.yace += yace;
        row.floor += floor;
    }
    row
}

/// The simulated day: the reference configuration with the periods of YACE's examples for
/// each service (§1.8: SQS 60 s; Lambda, API Gateway and the others 300 s; S3's storage
/// metrics 86,400 s over two days), scraped every 60 s, the shortest period, as one YACE
/// process with one `-scraping-interval` must be to serve its SQS data fresh (#1346).
///
/// Ours is measured: 1,440 real scrapes through [`discovery_job`] and the exporter's own
/// [`Cached`] seams over fake accounts whose datapoints appear [`publish_lag`] after their
/// period ends, on a simulated clock. YACE's is its algorithm: every call every scrape. Both
/// are billed by AWS's rule ([`billed_metrics`]) and priced per month (30 days).
mod day {
    use super::*;

    pub const SCRAPES: usize = 1440;
    pub const INTERVAL: u64 = 60;

    pub fn timing(service: &Service, metric: &str) -> (u32, u32) {
        match (service.namespace, metric) {
            ("AWS/SQS", _) => (60, 60),
            ("AWS/S3", "BucketSizeBytes" | "NumberOfObjects") => (86_400, 172_800),
            _ => (300, 300),
        }
    }

    /// Calls of the day and their cost per month.
    #[derive(Debug, Default, Clone, Copy)]
    pub struct Day {
        pub list_metrics: usize,
        pub get_metric_data: usize,
        pub billed: usize,
    }

    impl Day {
        /// USD per 30-day month at list prices.
        pub fn monthly_cost(&self) -> f64 {
            30.0 * (self.billed as f64 + self.list_metrics as f64) * 0.01 / 1000.0
        }
    }

    /// Our day with the given `cache:` section.
    pub fn ours(resources: usize, metrics: usize, statistics: usize, cache: &str) -> Day {
        let yaml = reference_config(metrics, statistics, timing, cache);
        let config = exporter::config::parse(&yaml).expect("valid").config;
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(20_000 * 86_400);
        let clock = Clock::manual(start);
        let accounts: Vec<Cached<FakeAccount>> = SERVICES
            .iter()
            .map(|service| {
                let account =
                    FakeAccount::new(service, resources / SERVICES.len()).with_clock(clock.clone());
                Cached::new(account, config.cache, clock.clone())
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime needs no resources");
        for scrape in 0..SCRAPES as u64 {
            // Half a minute into each minute, as a scheduler started at any time would be.
            let now = start + Duration::from_secs(30 + scrape * INTERVAL);
            clock.set(now);
            for (job, account) in config.discovery_jobs.iter().zip(&accounts) {
                let scrape = discovery_job(job, CONTEXT, account, account, account, now);
                runtime.block_on(scrape).expect("the fakes never fail");
            }
        }
        let mut day = Day::default();
        for account in &accounts {
            let calls = account.inner().calls();
            day.list_metrics += calls.list_metrics;
            day.get_metric_data += calls.get_metric_data;
            day.billed += account.inner().billed.load(Ordering::Relaxed);
        }
        day
    }

    /// YACE's day: one scrape's calls, by its algorithm, every scrape.
    pub fn yace(resources: usize, metrics: usize, statistics: usize) -> Day {
        let yaml = reference_config(metrics, statistics, timing, "");
        let config = exporter::config::parse(&yaml).expect("valid").config;
        let mut day = Day::default();
        for (job, service) in config.discovery_jobs.iter().zip(&SERVICES) {
            let per_service = resources / SERVICES.len();
            let (calls, _) = yace_and_floor(job, service, per_service);
            day.list_metrics += calls.list_metrics * SCRAPES;
            day.get_metric_data += calls.get_metric_data * SCRAPES;
            // Each listed metric's statistics travel in one request: one billed metric per
            // five of them.
            let billed: usize = job
                .metrics
                .iter()
                .map(|metric| {
                    let listing = (service.listing)(&metric.name);
                    let listed = per_service * listing.per_resource.len() + listing.account.len();
                    listed * metric.statistics.len().div_ceil(5)
                })
                .sum();
            day.billed += billed * SCRAPES;
        }
        day
    }
}

/// Resources, metrics per job and statistics per metric of the simulated day: the seed stack
/// (one resource per service) and larger accounts.
const DAY_SIZES: [(usize, usize, usize); 3] = [(6, 4, 2), (30, 6, 2), (120, 9, 3)];

fn print_day() {
    println!();
    println!(
        "Simulated day: {} scrapes at -scraping-interval {} s; periods SQS 60 s, Lambda/DynamoDB/States/API Gateway 300 s, S3 storage 86400 s; monthly cost = 30 days at list prices",
        day::SCRAPES,
        day::INTERVAL
    );
    println!(
        "ours: measured, real scrapes through the cache on a simulated clock; YACE: its algorithm (every call every scrape); both billed by AWS's rule"
    );
    println!();
    println!(
        "{:<12} | {:^30} | {:^30} | {:^30} | {:>6}",
        "", "YACE", "ours, datapoint reuse only", "ours, + lists cached 600 s", ""
    );
    println!(
        "{:<12} | {:>6} {:>7} {:>7} {:>7} | {:>6} {:>7} {:>7} {:>7} | {:>6} {:>7} {:>7} {:>7} | {:>6}",
        "N x M x S",
        "ListM",
        "GetMD",
        "billed",
        "USD/mo",
        "ListM",
        "GetMD",
        "billed",
        "USD/mo",
        "ListM",
        "GetMD",
        "billed",
        "USD/mo",
        "ratio"
    );
    let mut ratios = Vec::new();
    for (n, m, s) in DAY_SIZES {
        let yace = day::yace(n, m, s);
        let reuse = day::ours(n, m, s, "");
        let cached = day::ours(n, m, s, "cache:\n  resources: 600\n  listMetrics: 600\n");
        let ratio = cached.monthly_cost() / yace.monthly_cost();
        ratios.push(ratio);
        let cells = |d: &day::Day| {
            format!(
                "{:>6} {:>7} {:>7} {:>7.2}",
                d.list_metrics,
                d.get_metric_data,
                d.billed,
                d.monthly_cost()
            )
        };
        println!(
            "{:<12} | {} | {} | {} | {:>6.3}",
            format!("{n} x {m} x {s}"),
            cells(&yace),
            cells(&reuse),
            cells(&cached),
            ratio
        );
    }
    let met = ratios.iter().all(|&ratio| ratio <= 1.0 / 3.0);
    println!(
        "verdict: ours (lists cached) <= 1/3 of YACE's monthly cost at every size: {}",
        if met { "yes" } else { "NO" }
    );
}

fn main() {
    let rows: Vec<Row> = SIZES.into_iter().map(measure).collect();

    let namespaces: Vec<&str> = SERVICES.iter().map(|s| s.namespace).collect();
    println!(
        "API calls of one scrape: {} discovery jobs ({}), N/{} resources each, one region, one role",
        SERVICES.len(),
        namespaces.join(", "),
        SERVICES.len()
    );
    println!("ours: measured through discovery_job; YACE: its algorithm as a formula (not a run)");
    println!();
    println!(
        "{:<16} {:>8} | {:^13} | {:^13} | {:^19}",
        "", "", "GetResources", "ListMetrics", "GetMetricData"
    );
    println!(
        "{:<16} {:>8} | {:>6} {:>6} | {:>6} {:>6} | {:>5} {:>6} {:>6}",
        "N x M x S", "queries", "ours", "YACE", "ours", "YACE", "ours", "YACE", "floor"
    );
    for row in &rows {
        let (n, m, s) = row.size;
        println!(
            "{:<16} {:>8} | {:>6} {:>6} | {:>6} {:>6} | {:>5} {:>6} {:>6}",
            format!("{n} x {m} x {s}"),
            row.ours.queries,
            row.ours.get_resources,
            row.yace.get_resources,
            row.ours.list_metrics,
            row.yace.list_metrics,
            row.ours.get_metric_data,
            row.yace.get_metric_data,
            row.floor,
        );
    }
    println!();
    // STS is outside the seams; YACE asks GetCallerIdentity and ListAccountAliases once per
    // job x region x role on every scrape (§4.1).
    println!(
        "not counted here: STS/IAM. YACE makes 2 per job x region x role per scrape ({} for this config).",
        2 * SERVICES.len()
    );

    let same_queries = rows.iter().all(|r| r.ours.queries == r.yace.queries);
    let at_floor = rows.iter().all(|r| r.ours.get_metric_data == r.floor);
    let within_yace = rows.iter().all(|r| {
        r.ours.get_resources <= r.yace.get_resources && r.ours.list_metrics <= r.yace.list_metrics
    });
    let verdict = |met: bool| if met { "yes" } else { "NO" };
    println!(
        "verdict: GetMetricData ours = floor at every size: {}; GetResources and ListMetrics ours <= YACE at every size: {}; same queries as YACE's algorithm: {}",
        verdict(at_floor),
        verdict(within_yace),
        verdict(same_queries),
    );

    print_day();
}
