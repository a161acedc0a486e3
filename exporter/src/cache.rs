//! Answers that change slowly, reused across scrapes: [`Cached`] wraps a [`CloudWatch`],
//! [`Tagging`] or [`ApiGateway`] seam and answers from memory while an answer is younger than
//! its TTL (`cache:` in the configuration). Scrape logic does not know it is there.
//!
//! GetMetricData answers are reused per series, not by age: a series asked again for the same
//! window, whose answer already holds the window's last datapoint, cannot have a newer one, so
//! it is served from memory until the window moves (every `period`; a daily S3 metric is asked
//! once a day, not every scrape). A series whose newest datapoint is missing is asked again
//! once a 24th of its period has passed, since that datapoint may still arrive: on every scrape
//! for periods of minutes, hourly for a daily metric, whose datapoint CloudWatch publishes hours
//! after the day ends. Revisions of a datapoint already read are seen when the window moves; a
//! job's `delay` is the way to wait for late data, as with YACE.
//!
//! Time comes from a [`Clock`], so tests and the cost benchmark can run a simulated day in no
//! time. A cache lives in the scheduler's clients, so a reload starts with every cache empty.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::Error;
use crate::apigateway::ApiGateway;
use crate::associator::Resource;
use crate::cloudwatch::{CloudWatch, Datapoint, Query, Window};
use crate::config::Cache;
use crate::tagging::Tagging;

/// A series without its newest datapoint is asked again after this share of its period.
const RETRY_PER_PERIOD: u32 = 24;

/// A series not asked for this long (and for two of its periods) is forgotten: its resource
/// or job is gone.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Where caches read the time: the system's, or one that a test or a benchmark sets.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(Arc<Mutex<SystemTime>>),
}

impl Clock {
    /// A clock that stands at `start` until [`Clock::set`] moves it.
    pub fn manual(start: SystemTime) -> Self {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> SystemTime {
        match self {
            Clock::System => SystemTime::now(),
            Clock::Manual(at) => *at.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a manual clock to `at`; the system clock cannot be set.
    pub fn set(&self, at: SystemTime) {
        if let Clock::Manual(now) = self {
            *now.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    fn since(&self, then: SystemTime) -> Duration {
        self.now().duration_since(then).unwrap_or_default()
    }
}

/// Answers keyed by request, each kept for `ttl`; a zero TTL keeps nothing.
#[derive(Debug)]
pub struct Ttl<K, V> {
    ttl: Duration,
    clock: Clock,
    entries: Mutex<HashMap<K, (SystemTime, V)>>,
}

impl<K: Eq + Hash, V: Clone> Ttl<K, V> {
    pub fn new(ttl: Duration, clock: Clock) -> Self {
        Ttl {
            ttl,
            clock,
            entries: Mutex::default(),
        }
    }

    /// The kept answer for `key` while it is younger than the TTL, otherwise `fetch`'s, which
    /// is kept when it succeeds (a failure is not).
    pub async fn get_or(
        &self,
        key: K,
        fetch: impl Future<Output = Result<V, Error>>,
    ) -> Result<V, Error> {
        if self.ttl.is_zero() {
            return fetch.await;
        }
        if let Some((at, value)) = self.lock().get(&key)
            && self.clock.since(*at) < self.ttl
        {
            return Ok(value.clone());
        }
        let value = fetch.await?;
        self.lock().insert(key, (self.clock.now(), value.clone()));
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (SystemTime, V)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A series' last answer: the window it was for and its datapoints, newest first.
#[derive(Debug)]
struct Answer {
    window: Window,
    points: Vec<Datapoint>,
    fetched: SystemTime,
    used: SystemTime,
}

impl Answer {
    /// Whether this answer still stands for `window` at `now`: the window is the same and
    /// either its last period has its datapoint (nothing newer can exist in this window) or the
    /// answer is younger than a [`RETRY_PER_PERIOD`]th of the period.
    fn serves(&self, window: Window, period: u32, clock: &Clock) -> bool {
        let period = Duration::from_secs(period.into());
        let complete = self
            .points
            .first()
            .is_some_and(|newest| newest.timestamp + period >= self.window.end);
        self.window == window && (complete || clock.since(self.fetched) < period / RETRY_PER_PERIOD)
    }
}

type Dimensions = Vec<(String, String)>;

/// A seam with its slowly changing answers kept; see the module docs.
#[derive(Debug)]
pub struct Cached<T> {
    inner: T,
    clock: Clock,
    reuse_datapoints: bool,
    resources: Ttl<(Vec<String>, Vec<String>), Vec<Resource>>,
    rest_apis: Ttl<(), Vec<(String, String)>>,
    http_apis: Ttl<(), Vec<String>>,
    listed: Ttl<(String, String, bool), Vec<Dimensions>>,
    answers: Mutex<HashMap<Query, Answer>>,
}

impl<T> Cached<T> {
    pub fn new(inner: T, cache: Cache, clock: Clock) -> Self {
        Cached {
            inner,
            reuse_datapoints: cache.datapoints,
            resources: Ttl::new(cache.resources, clock.clone()),
            rest_apis: Ttl::new(cache.resources, clock.clone()),
            http_apis: Ttl::new(cache.resources, clock.clone()),
            listed: Ttl::new(cache.list_metrics, clock.clone()),
            clock,
            answers: Mutex::default(),
        }
    }

    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, HashMap<Query, Answer>> {
        self.answers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<T: CloudWatch> CloudWatch for Cached<T> {
    async fn get_metric_data(
        &self,
        queries: &[Query],
        window: Window,
    ) -> Result<Vec<Vec<Datapoint>>, Error> {
        if !self.reuse_datapoints {
            return self.inner.get_metric_data(queries, window).await;
        }
        let mut answers: Vec<Option<Vec<Datapoint>>> = {
            let mut kept = self.answers();
            queries
                .iter()
                .map(|query| {
                    let answer = kept.get_mut(query)?;
                    answer.used = self.clock.now();
                    answer
                        .serves(window, query.period, &self.clock)
                        .then(|| answer.points.clone())
                })
                .collect()
        };
        let missing: Vec<usize> = (0..queries.len())
            .filter(|&index| answers[index].is_none())
            .collect();
        if !missing.is_empty() {
            let asked: Vec<Query> = missing.iter().map(|&i| queries[i].clone()).collect();
            let fetched = self.inner.get_metric_data(&asked, window).await?;
            let mut kept = self.answers();
            for ((index, query), points) in missing.into_iter().zip(asked).zip(fetched) {
                let answer = Answer {
                    window,
                    points: points.clone(),
                    fetched: self.clock.now(),
                    used: self.clock.now(),
                };
                kept.insert(query, answer);
                answers[index] = Some(points);
            }
            kept.retain(|query, answer| {
                let period = Duration::from_secs(2 * u64::from(query.period));
                self.clock.since(answer.used) < FORGET_AFTER.max(period)
            });
        }
        Ok(answers.into_iter().map(Option::unwrap_or_default).collect())
    }

    async fn list_metrics(
        &self,
        namespace: &str,
        metric: &str,
        recently_active: bool,
    ) -> Result<Vec<Dimensions>, Error> {
        let key = (namespace.to_owned(), metric.to_owned(), recently_active);
        let fetch = self.inner.list_metrics(namespace, metric, recently_active);
        self.listed.get_or(key, fetch).await
    }
}

impl<T: Tagging> Tagging for Cached<T> {
    async fn get_resources(
        &self,
        resource_types: &[&str],
        tag_keys: &[String],
    ) -> Result<Vec<Resource>, Error> {
        let types = resource_types.iter().map(|&t| t.to_owned()).collect();
        let fetch = self.inner.get_resources(resource_types, tag_keys);
        self.resources
            .get_or((types, tag_keys.to_vec()), fetch)
            .await
    }
}

impl<T: ApiGateway> ApiGateway for Cached<T> {
    async fn rest_apis(&self) -> Result<Vec<(String, String)>, Error> {
        self.rest_apis.get_or((), self.inner.rest_apis()).await
    }

    async fn http_apis(&self) -> Result<Vec<String>, Error> {
        self.http_apis.get_or((), self.inner.http_apis()).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::discovery::window;

    /// Answers each query with datapoints up to `newest` (seconds since the epoch, one per
    /// period), counting the queries it is asked.
    struct Publishing {
        newest: Mutex<u64>,
        asked: AtomicUsize,
        listed: AtomicUsize,
    }

    impl Publishing {
        fn new() -> Self {
            Publishing {
                newest: Mutex::new(0),
                asked: AtomicUsize::new(0),
                listed: AtomicUsize::new(0),
            }
        }
    }

    impl CloudWatch for Publishing {
        async fn get_metric_data(
            &self,
            queries: &[Query],
            window: Window,
        ) -> Result<Vec<Vec<Datapoint>>, Error> {
            self.asked.fetch_add(queries.len(), Ordering::Relaxed);
            let newest = UNIX_EPOCH + Duration::from_secs(*self.newest.lock().unwrap());
            Ok(queries
                .iter()
                .map(|query| {
                    let period = Duration::from_secs(query.period.into());
                    let mut points = Vec::new();
                    let mut at = window.end - period;
                    while at >= window.start {
                        if at <= newest {
                            points.push(Datapoint {
                                timestamp: at,
                                value: 1.0,
                            });
                        }
                        at -= period;
                    }
                    points
                })
                .collect())
        }

        async fn list_metrics(
            &self,
            _namespace: &str,
            _metric: &str,
            _recently_active: bool,
        ) -> Result<Vec<Dimensions>, Error> {
            self.listed.fetch_add(1, Ordering::Relaxed);
            Ok(vec![Vec::new()])
        }
    }

    fn daily(name: &str) -> Query {
        Query {
            namespace: "AWS/S3".into(),
            metric: name.into(),
            dimensions: vec![("BucketName".into(), "media".into())],
            period: 86_400,
            statistic: "Average".into(),
        }
    }

    const DAY: u64 = 86_400;

    #[tokio::test]
    async fn a_daily_series_is_asked_hourly_until_its_datapoint_arrives_then_next_day() {
        let start = 20_000 * DAY;
        let clock = Clock::manual(UNIX_EPOCH);
        let cached = Cached::new(Publishing::new(), Cache::default(), clock.clone());
        let queries = [daily("BucketSizeBytes"), daily("NumberOfObjects")];
        // Yesterday's datapoint is published at 00:50.
        *cached.inner.newest.lock().unwrap() = start - 2 * DAY;
        let mut asked = Vec::new();
        for minutes in [5, 10, 15, 60, 70, 600] {
            let now = UNIX_EPOCH + Duration::from_secs(start + minutes * 60);
            clock.set(now);
            if minutes >= 50 {
                *cached.inner.newest.lock().unwrap() = start - DAY;
            }
            let answer = cached
                .get_metric_data(&queries, window(now, 86_400, 172_800, 0))
                .await
                .unwrap();
            assert_eq!(answer.len(), 2);
            asked.push(cached.inner.asked.load(Ordering::Relaxed));
        }
        // Asked at 00:05, again an hour later when the datapoint is there, then not at all.
        assert_eq!(asked, [2, 2, 2, 2, 4, 4]);
        let tomorrow = UNIX_EPOCH + Duration::from_secs(start + DAY + 300);
        clock.set(tomorrow);
        cached
            .get_metric_data(&queries, window(tomorrow, 86_400, 172_800, 0))
            .await
            .unwrap();
        assert_eq!(cached.inner.asked.load(Ordering::Relaxed), 6);
    }

    #[tokio::test]
    async fn a_minute_series_without_its_datapoint_is_asked_every_scrape() {
        let clock = Clock::manual(UNIX_EPOCH);
        let cached = Cached::new(Publishing::new(), Cache::default(), clock.clone());
        let mut query = daily("Invocations");
        query.period = 60;
        let now = UNIX_EPOCH + Duration::from_secs(20_000 * DAY + 30);
        for step in 0..3 {
            clock.set(now + Duration::from_secs(10 * step));
            cached
                .get_metric_data(std::slice::from_ref(&query), window(now, 60, 60, 0))
                .await
                .unwrap();
        }
        assert_eq!(cached.inner.asked.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn reused_answers_are_the_ones_fetched() {
        let cached = Cached::new(Publishing::new(), Cache::default(), Clock::System);
        *cached.inner.newest.lock().unwrap() = 30 * DAY;
        let now = UNIX_EPOCH + Duration::from_secs(31 * DAY + 60);
        let w = window(now, 86_400, 172_800, 0);
        let first = cached.get_metric_data(&[daily("A")], w).await.unwrap();
        let again = cached.get_metric_data(&[daily("A")], w).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(first[0].len(), 2);
        assert_eq!(cached.inner.asked.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn without_datapoint_reuse_every_call_is_asked() {
        let cache = Cache {
            datapoints: false,
            ..Cache::default()
        };
        let cached = Cached::new(Publishing::new(), cache, Clock::System);
        *cached.inner.newest.lock().unwrap() = 30 * DAY;
        let w = window(SystemTime::now(), 86_400, 172_800, 0);
        for _ in 0..3 {
            cached.get_metric_data(&[daily("A")], w).await.unwrap();
        }
        assert_eq!(cached.inner.asked.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn list_answers_are_kept_for_their_ttl_only() {
        let cache = Cache {
            list_metrics: Duration::from_secs(600),
            ..Cache::default()
        };
        let start = UNIX_EPOCH + Duration::from_secs(20_000 * DAY);
        let clock = Clock::manual(start);
        let cached = Cached::new(Publishing::new(), cache, clock.clone());
        let mut listed = Vec::new();
        for step in 0..4 {
            clock.set(start + Duration::from_secs(300 * step));
            cached.list_metrics("AWS/S3", "A", false).await.unwrap();
            cached.list_metrics("AWS/S3", "B", false).await.unwrap();
            listed.push(cached.inner.listed.load(Ordering::Relaxed));
        }
        // Two names, asked at 0 s and again at 600 s.
        assert_eq!(listed, [2, 2, 4, 4]);

        let yace = Cached::new(Publishing::new(), Cache::default(), Clock::System);
        for _ in 0..3 {
            yace.list_metrics("AWS/S3", "A", false).await.unwrap();
        }
        assert_eq!(yace.inner.listed.load(Ordering::Relaxed), 3);
    }
}
