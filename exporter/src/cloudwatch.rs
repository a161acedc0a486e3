//! The narrow seam between the exporter and Amazon CloudWatch. Scrape logic sees only the
//! [`CloudWatch`] trait and the plain types here; [`Client`] is the one place that names
//! `aws_sdk_cloudwatch`, so the SDK pin in the workspace `Cargo.toml` (kept for the local
//! emulator's sake) is a one-line change. Batching and pagination live inside the adapter.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, RecentlyActive, ScanBy,
};

use crate::Error;
use crate::calls::{Budgets, Calls};
use crate::self_metrics::SelfMetrics;

/// The most queries one GetMetricData call may carry (an AWS limit).
pub const MAX_QUERIES_PER_CALL: usize = 500;

/// Statistics of one metric that GetMetricData bills as one metric requested (AWS pricing:
/// "up to 5 statistics for the same metric within a single GetMetricData API request").
pub const STATISTICS_PER_BILLED_METRIC: usize = 5;

/// The metrics one GetMetricData request carrying `queries` is billed for: each distinct
/// metric (namespace, name and dimensions) once per five of its statistics. YACE's
/// `..._metrics_requested_total` counts queries instead, which overstates the bill.
pub fn billed_metrics(queries: &[Query]) -> usize {
    // (namespace, metric name, sorted dimensions) -> statistics asked.
    type Key<'a> = (&'a str, &'a str, Vec<&'a (String, String)>);
    let mut statistics: HashMap<Key, usize> = HashMap::new();
    for query in queries {
        let mut dimensions: Vec<&(String, String)> = query.dimensions.iter().collect();
        dimensions.sort();
        *statistics
            .entry((&query.namespace, &query.metric, dimensions))
            .or_default() += 1;
    }
    statistics
        .values()
        .map(|count| count.div_ceil(STATISTICS_PER_BILLED_METRIC))
        .sum()
}

/// One metric and statistic to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    /// Seconds per datapoint.
    pub period: u32,
    pub statistic: String,
}

/// The time range asked for, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: SystemTime,
    pub end: SystemTime,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    pub timestamp: SystemTime,
    pub value: f64,
}

/// What the scraper needs from CloudWatch.
pub trait CloudWatch: Send + Sync {
    /// Fetches every query over `window`. The answer has one entry per query, in query order,
    /// each holding that query's datapoints newest first (empty when CloudWatch has none).
    fn get_metric_data(
        &self,
        queries: &[Query],
        window: Window,
    ) -> impl Future<Output = Result<Vec<Vec<Datapoint>>, Error>> + Send;

    /// The dimension sets of every metric called `metric` in `namespace`, all pages of them;
    /// with `recently_active`, only those with data in the last three hours.
    fn list_metrics(
        &self,
        namespace: &str,
        metric: &str,
        recently_active: bool,
    ) -> impl Future<Output = Result<Vec<Vec<(String, String)>>, Error>> + Send;
}

/// [`CloudWatch`] over the AWS SDK, for one region.
#[derive(Debug, Clone)]
pub struct Client {
    sdk: aws_sdk_cloudwatch::Client,
    queries_per_call: usize,
    metrics: Arc<SelfMetrics>,
    calls: Calls,
}

impl Client {
    /// A client for `region`; `queries_per_call` is YACE's `-metrics-per-query`, capped at the
    /// AWS limit. Every request is counted in `metrics`.
    pub fn new(
        shared: &aws_config::SdkConfig,
        region: &str,
        queries_per_call: usize,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        let config =
            aws_sdk_cloudwatch::config::Builder::from(&crate::calls::sdk_retries_off(shared))
                .region(aws_config::Region::new(region.to_owned()))
                .build();
        let sdk = aws_sdk_cloudwatch::Client::from_conf(config);
        Self::from_sdk(sdk, queries_per_call, metrics)
    }

    /// Wraps an SDK client built elsewhere (tests script one with `aws-smithy-mocks`).
    pub fn from_sdk(
        sdk: aws_sdk_cloudwatch::Client,
        queries_per_call: usize,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        Client {
            sdk,
            queries_per_call: queries_per_call.clamp(1, MAX_QUERIES_PER_CALL),
            calls: Calls::new(metrics.clone(), Arc::default()),
            metrics,
        }
    }

    /// Shares `budgets` (those of the region and credentials) instead of its own.
    pub fn with_budgets(mut self, budgets: Arc<Budgets>) -> Self {
        self.calls = Calls::new(self.metrics.clone(), budgets);
        self
    }

    /// Retries with `calls`' backoff and budgets (tests make the backoff short).
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    async fn fetch_batch(
        &self,
        queries: &[Query],
        window: Window,
        answers: &mut [Vec<Datapoint>],
    ) -> Result<(), Error> {
        let billed = billed_metrics(queries);
        let request = self
            .sdk
            .get_metric_data()
            .set_metric_data_queries(Some(queries.iter().enumerate().map(to_sdk).collect()))
            .start_time(DateTime::from(window.start))
            .end_time(DateTime::from(window.end))
            .scan_by(ScanBy::TimestampDescending);
        let mut next_token = None;
        loop {
            let page = request.clone().set_next_token(next_token);
            let page = self
                .calls
                .send("GetMetricData", || page.clone().send())
                .await;
            self.metrics
                .get_metric_data_request(queries.len(), billed, page.is_err());
            let page = page.map_err(|error| Error::aws("GetMetricData", error))?;
            for result in page.metric_data_results() {
                // Ids are `id_<index in batch>`, the scheme YACE uses too.
                let Some(index) = result
                    .id()
                    .and_then(|id| id.strip_prefix("id_"))
                    .and_then(|index| index.parse::<usize>().ok())
                    .filter(|&index| index < answers.len())
                else {
                    continue;
                };
                let points = result.timestamps().iter().zip(result.values());
                answers[index].extend(points.filter_map(|(timestamp, &value)| {
                    let timestamp = SystemTime::try_from(*timestamp).ok()?;
                    Some(Datapoint { timestamp, value })
                }));
            }
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(());
            }
        }
    }
}

fn to_sdk((index, query): (usize, &Query)) -> MetricDataQuery {
    let dimensions = query
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    let metric = Metric::builder()
        .namespace(&query.namespace)
        .metric_name(&query.metric)
        .set_dimensions(Some(dimensions))
        .build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(i32::try_from(query.period).unwrap_or(i32::MAX))
        .stat(&query.statistic)
        .build();
    MetricDataQuery::builder()
        .id(format!("id_{index}"))
        .metric_stat(stat)
        .return_data(true)
        .build()
}

impl CloudWatch for Client {
    async fn get_metric_data(
        &self,
        queries: &[Query],
        window: Window,
    ) -> Result<Vec<Vec<Datapoint>>, Error> {
        let mut answers = vec![Vec::new(); queries.len()];
        for (batch, answers) in queries
            .chunks(self.queries_per_call)
            .zip(answers.chunks_mut(self.queries_per_call))
        {
            self.fetch_batch(batch, window, answers).await?;
        }
        for points in &mut answers {
            // Pages may interleave; keep the promise of newest first.
            points.sort_by_key(|point| std::cmp::Reverse(point.timestamp));
        }
        Ok(answers)
    }

    async fn list_metrics(
        &self,
        namespace: &str,
        metric: &str,
        recently_active: bool,
    ) -> Result<Vec<Vec<(String, String)>>, Error> {
        let mut request = self
            .sdk
            .list_metrics()
            .namespace(namespace)
            .metric_name(metric);
        if recently_active {
            request = request.recently_active(RecentlyActive::Pt3H);
        }
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut next_token = None;
        loop {
            let page = request.clone().set_next_token(next_token);
            let page = self.calls.send("ListMetrics", || page.clone().send()).await;
            self.metrics
                .cloudwatch_request("ListMetrics", page.is_err());
            let page = page.map_err(|error| Error::aws("ListMetrics", error))?;
            for metric in page.metrics() {
                let dimensions: Vec<(String, String)> = metric
                    .dimensions()
                    .iter()
                    .map(|d| {
                        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
                        (text(d.name()), text(d.value()))
                    })
                    .collect();
                // A metric listed twice (the emulator does it) would be fetched and billed
                // twice; the order of dimensions does not make another metric.
                let mut key = dimensions.clone();
                key.sort();
                if seen.insert(key) {
                    found.push(dimensions);
                }
            }
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(found);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(metric: &str, function: &str, statistic: &str) -> Query {
        Query {
            namespace: "AWS/Lambda".into(),
            metric: metric.into(),
            dimensions: vec![("FunctionName".into(), function.into())],
            period: 60,
            statistic: statistic.into(),
        }
    }

    #[test]
    fn up_to_five_statistics_of_one_metric_are_billed_as_one() {
        let stats = ["Sum", "Average", "Maximum", "Minimum", "SampleCount", "p99"];
        let five: Vec<Query> = stats[..5]
            .iter()
            .map(|s| query("Duration", "resize", s))
            .collect();
        assert_eq!(billed_metrics(&five), 1);
        let six: Vec<Query> = stats
            .iter()
            .map(|s| query("Duration", "resize", s))
            .collect();
        assert_eq!(billed_metrics(&six), 2);
        // Another function or another metric name is another metric.
        let mixed = [
            query("Duration", "resize", "Sum"),
            query("Duration", "thumb", "Sum"),
            query("Errors", "resize", "Sum"),
        ];
        assert_eq!(billed_metrics(&mixed), 3);
        assert_eq!(billed_metrics(&[]), 0);
    }
}

/// A [`CloudWatch`] for tests of the scrape logic.
#[cfg(test)]
pub(crate) mod fake {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// Lists `listed` for every metric name and answers each query with the values given for
    /// its statistic, newest first, one per minute bucket back from the window's end (the
    /// newest bucket starts a minute before it); records each call's query count and window.
    #[derive(Default)]
    pub(crate) struct FakeCloudWatch {
        pub(crate) listed: Vec<Vec<(String, String)>>,
        pub(crate) values: Vec<(&'static str, Vec<f64>)>,
        pub(crate) windows: Mutex<Vec<(usize, Window)>>,
    }

    impl CloudWatch for FakeCloudWatch {
        async fn get_metric_data(
            &self,
            queries: &[Query],
            window: Window,
        ) -> Result<Vec<Vec<Datapoint>>, Error> {
            self.windows.lock().unwrap().push((queries.len(), window));
            Ok(queries
                .iter()
                .map(|query| {
                    let values = self
                        .values
                        .iter()
                        .find(|(statistic, _)| *statistic == query.statistic)
                        .map(|(_, values)| values.clone())
                        .unwrap_or_default();
                    values
                        .into_iter()
                        .enumerate()
                        .map(|(age, value)| Datapoint {
                            timestamp: window.end - Duration::from_secs(60 * (age as u64 + 1)),
                            value,
                        })
                        .collect()
                })
                .collect())
        }

        async fn list_metrics(
            &self,
            _namespace: &str,
            _metric: &str,
            _recently_active: bool,
        ) -> Result<Vec<Vec<(String, String)>>, Error> {
            Ok(self.listed.clone())
        }
    }
}
