//! Every AWS request the exporter makes goes through [`Calls::send`]: it waits for its API's
//! share of a rate budget, sends, retries throttling with exponential backoff and full jitter,
//! retries a timed-out or unreachable attempt once, and counts each step in the health metrics
//! (`cloudwatch_exporter_api_*_total`). The SDK's own retries are turned off for the clients
//! built here (see [`sdk_retries_off`]), so the counts are the requests AWS really saw.
//!
//! A [`Budgets`] is shared by every job that runs in one region under one set of credentials,
//! because that is what AWS throttles: an account's requests per second in a region, summed
//! over every caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use tokio::time::Instant;

use crate::self_metrics::SelfMetrics;

/// Requests per second allowed per API, per account and region. The CloudWatch rates are the
/// default TPS quotas AWS publishes in "CloudWatch service quotas"
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html>):
/// GetMetricData 50, ListMetrics 25, GetMetricStatistics 400. AWS publishes no per-second
/// quota for the others we call; their rates are deliberately modest guesses, far above what a
/// scrape needs (a few pages per job), so they only bind in a runaway loop. The CloudWatch Logs
/// calls of logs jobs are budgeted the same way, the Logs Insights ones lower: a query's
/// results are polled, and Insights caps concurrent queries per account.
const RATES: &[(&str, f64)] = &[
    ("GetMetricData", 50.0),
    ("ListMetrics", 25.0),
    ("GetMetricStatistics", 400.0),
    ("GetResources", 10.0),
    ("GetRestApis", 5.0),
    ("GetApis", 5.0),
    ("GetCallerIdentity", 10.0),
    ("ListAccountAliases", 5.0),
    ("FilterLogEvents", 10.0),
    ("StartQuery", 2.0),
    ("GetQueryResults", 5.0),
    ("StopQuery", 2.0),
];

/// Error codes AWS services answer a throttled request with (HTTP 400 or 429).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// How many attempts a call gets in all, by the kind of its failure.
const THROTTLED_ATTEMPTS: u32 = 5;
const TRANSIENT_ATTEMPTS: u32 = 2;

/// The SDK's retries are off where [`Calls`] does them, so no request is retried twice over.
pub fn sdk_retries_off(shared: &aws_config::SdkConfig) -> aws_config::SdkConfig {
    shared
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build()
}

/// One token bucket per API: refilled at the API's rate, holding at most one second's worth.
#[derive(Debug)]
pub struct Budgets {
    buckets: HashMap<&'static str, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    per_second: f64,
    /// Tokens left (negative: reserved ahead by waiting callers) and when that was computed.
    state: Mutex<(f64, Instant)>,
}

impl Budgets {
    /// AWS's default rates ([`RATES`]).
    pub fn aws() -> Self {
        Self::with_rates(RATES)
    }

    /// Custom rates, requests per second by API; an API left out is not limited.
    pub fn with_rates(rates: &[(&'static str, f64)]) -> Self {
        let buckets = rates
            .iter()
            .map(|&(api, per_second)| {
                let bucket = Bucket {
                    per_second,
                    state: Mutex::new((per_second, Instant::now())),
                };
                (api, bucket)
            })
            .collect();
        Budgets { buckets }
    }

    /// Waits until `api` may send one more request. Each caller reserves its token at once
    /// and sleeps off its debt, so waiting callers go out in arrival order, evenly spaced.
    pub async fn take(&self, api: &str) {
        let Some(bucket) = self.buckets.get(api) else {
            return;
        };
        let wait = {
            let mut state = bucket
                .state
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            let (tokens, then) = *state;
            let now = Instant::now();
            let refilled = (tokens + now.duration_since(then).as_secs_f64() * bucket.per_second)
                .min(bucket.per_second);
            *state = (refilled - 1.0, now);
            (refilled < 1.0).then(|| Duration::from_secs_f64((1.0 - refilled) / bucket.per_second))
        };
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
    }
}

impl Default for Budgets {
    fn default() -> Self {
        Self::aws()
    }
}

/// What went wrong with one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// AWS refused the request for its rate: wait and try again.
    Throttled,
    /// Timed out, unreachable, or a 5xx: worth one more try.
    Transient,
    /// Anything else (access denied, a bad request): retrying would not help.
    Permanent,
}

/// Sorts an SDK error into a [`Failure`].
pub fn classify<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Failure {
    let status = error
        .raw_response()
        .map(|response| response.status().as_u16());
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient
        }
        SdkError::ServiceError(_)
            if status == Some(429)
                || error
                    .code()
                    .is_some_and(|code| THROTTLING_CODES.contains(&code)) =>
        {
            Failure::Throttled
        }
        SdkError::ServiceError(_) if status.is_some_and(|status| status >= 500) => {
            Failure::Transient
        }
        _ => Failure::Permanent,
    }
}

/// Exponential backoff with full jitter: before retry `n` (1-based), a uniformly random wait in
/// `[0, min(cap, base * 2^(n-1))]`, so callers throttled together do not come back together.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1 << retry.saturating_sub(1).min(16))
            .min(self.cap);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Sends AWS requests within budgets, with retries, counting them.
#[derive(Debug, Clone)]
pub struct Calls {
    metrics: Arc<SelfMetrics>,
    budgets: Arc<Budgets>,
    backoff: Backoff,
}

impl Calls {
    pub fn new(metrics: Arc<SelfMetrics>, budgets: Arc<Budgets>) -> Self {
        Calls {
            metrics,
            budgets,
            backoff: Backoff::default(),
        }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn metrics(&self) -> &Arc<SelfMetrics> {
        &self.metrics
    }

    /// Sends one request of `api`, built afresh by `attempt` for every try, and answers its
    /// last outcome.
    pub async fn send<T, E, F, Fut>(
        &self,
        api: &'static str,
        mut attempt: F,
    ) -> Result<T, SdkError<E, HttpResponse>>
    where
        E: ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        let mut tries = 1;
        loop {
            self.budgets.take(api).await;
            self.metrics.api_request(api);
            let error = match attempt().await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            let failure = classify(&error);
            let allowed = match failure {
                Failure::Throttled => {
                    self.metrics.api_throttle(api);
                    THROTTLED_ATTEMPTS
                }
                Failure::Transient => TRANSIENT_ATTEMPTS,
                Failure::Permanent => 1,
            };
            if tries >= allowed {
                self.metrics.api_error(api);
                return Err(error);
            }
            self.metrics.api_retry(api);
            tracing::debug!(api, ?failure, tries, "retrying an AWS request");
            tokio::time::sleep(self.backoff.delay(tries)).await;
            tries += 1;
        }
    }
}

impl Default for Calls {
    fn default() -> Self {
        Calls::new(Arc::default(), Arc::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_budget_spaces_requests_beyond_its_burst_at_its_rate() {
        let budgets = Budgets::with_rates(&[("ListMetrics", 25.0)]);
        let started = Instant::now();
        // One second's worth goes at once; the next 15 take 0.6 s at 25 a second.
        for _ in 0..40 {
            budgets.take("ListMetrics").await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        assert!((0.6..0.9).contains(&elapsed), "{elapsed}");
        // An API without a budget never waits.
        let unlimited = Instant::now();
        for _ in 0..10_000 {
            budgets.take("GetResources").await;
        }
        assert!(unlimited.elapsed() < Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_budget_refills_while_idle_but_never_above_one_second_of_requests() {
        let budgets = Budgets::with_rates(&[("GetMetricData", 50.0)]);
        for _ in 0..50 {
            budgets.take("GetMetricData").await;
        }
        // Idle long enough to refill more than its size: still only 50 go at once.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let started = Instant::now();
        for _ in 0..60 {
            budgets.take("GetMetricData").await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        assert!((0.2..0.45).contains(&elapsed), "{elapsed}");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_never_exceeds_the_ceiling() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for retry in 1..=20 {
            let ceiling =
                Duration::from_millis(100 * (1 << (retry - 1).min(16))).min(Duration::from_secs(1));
            let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(retry)).collect();
            assert!(
                delays.iter().all(|delay| *delay <= ceiling),
                "retry {retry}"
            );
            // Jitter: the waits are spread, not all the same.
            assert!(
                delays.iter().any(|delay| *delay < ceiling / 2),
                "retry {retry}"
            );
            assert!(
                delays.iter().any(|delay| *delay > ceiling / 2),
                "retry {retry}"
            );
        }
    }
}
