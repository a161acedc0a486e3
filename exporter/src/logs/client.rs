//! The narrow seam between logs jobs and CloudWatch Logs: [`Logs`] has the two reads a job
//! makes, FilterLogEvents (every page of one group's matching lines) and a Logs Insights query
//! run to its end (StartQuery, GetQueryResults polled at most until a timeout, StopQuery when
//! it is overrun). [`Client`] is the one place that names `aws_sdk_cloudwatchlogs`; its
//! requests go through [`Calls`] like every other AWS request (rate budget, retries, health
//! counts).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::QueryStatus;

use crate::Error;
use crate::calls::{Budgets, Calls};
use crate::self_metrics::SelfMetrics;

/// Event times from `start` up to but not including `end`, in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One row of a Logs Insights result: field name and value, in the order AWS gave them.
pub type Row = Vec<(String, String)>;

/// What logs jobs need from CloudWatch Logs.
pub trait Logs: Send + Sync {
    /// The messages of every event of `group` in `window` that `pattern` (a FilterLogEvents
    /// filter pattern) matches; all pages.
    fn filter_log_events(
        &self,
        group: &str,
        pattern: &str,
        window: Window,
    ) -> impl Future<Output = Result<Vec<String>, Error>> + Send;

    /// The rows of a Logs Insights `query` over `groups` (at most 50) in `window`, once the
    /// query is complete; an error when it fails or is not done within `timeout`.
    fn insights(
        &self,
        groups: &[String],
        query: &str,
        window: Window,
        timeout: Duration,
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;
}

/// [`Logs`] over the AWS SDK, for one region.
#[derive(Debug, Clone)]
pub struct Client {
    sdk: aws_sdk_cloudwatchlogs::Client,
    metrics: Arc<SelfMetrics>,
    calls: Calls,
    poll: Duration,
}

impl Client {
    /// A client for `region`; every request is counted in `metrics`.
    pub fn new(shared: &aws_config::SdkConfig, region: &str, metrics: Arc<SelfMetrics>) -> Self {
        let config =
            aws_sdk_cloudwatchlogs::config::Builder::from(&crate::calls::sdk_retries_off(shared))
                .region(aws_config::Region::new(region.to_owned()))
                .build();
        Client::from_sdk(aws_sdk_cloudwatchlogs::Client::from_conf(config), metrics)
    }

    /// A client over a ready SDK client (scripted answers in tests), polling Insights every
    /// second.
    pub fn from_sdk(sdk: aws_sdk_cloudwatchlogs::Client, metrics: Arc<SelfMetrics>) -> Self {
        // Retries are [`Calls`]' job alone, whatever the given client was built with.
        let config = sdk
            .config()
            .to_builder()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        Client {
            sdk: aws_sdk_cloudwatchlogs::Client::from_conf(config),
            calls: Calls::new(metrics.clone(), Arc::default()),
            metrics,
            poll: Duration::from_secs(1),
        }
    }

    /// Shares `budgets` (those of the region and credentials) instead of its own.
    pub fn with_budgets(mut self, budgets: Arc<Budgets>) -> Self {
        self.calls = Calls::new(self.metrics.clone(), budgets);
        self
    }

    /// Sets how long to wait between two GetQueryResults calls.
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    fn counted<T, E>(&self, api: &'static str, answer: Result<T, E>) -> Result<T, Error>
    where
        E: std::error::Error,
    {
        self.metrics.cloudwatch_request(api, answer.is_err());
        answer.map_err(|error| Error::aws(api, error))
    }
}

impl Logs for Client {
    async fn filter_log_events(
        &self,
        group: &str,
        pattern: &str,
        window: Window,
    ) -> Result<Vec<String>, Error> {
        // Both bounds of FilterLogEvents are inclusive; the window's end is not.
        let request = self
            .sdk
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(pattern)
            .start_time(window.start_ms)
            .end_time(window.end_ms - 1);
        let mut messages = Vec::new();
        let mut next_token = None;
        loop {
            let page = request.clone().set_next_token(next_token);
            let page = self
                .calls
                .send("FilterLogEvents", || page.clone().send())
                .await;
            let page = self.counted("FilterLogEvents", page)?;
            messages.extend(
                page.events()
                    .iter()
                    .filter_map(|event| event.message().map(str::to_owned)),
            );
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(messages);
            }
        }
    }

    async fn insights(
        &self,
        groups: &[String],
        query: &str,
        window: Window,
        timeout: Duration,
    ) -> Result<Vec<Row>, Error> {
        // StartQuery takes whole seconds, both bounds inclusive: windows are whole seconds, so
        // the last second of this one is `end - 1`.
        let start = self
            .sdk
            .start_query()
            .set_log_group_names(Some(groups.to_vec()))
            .start_time(window.start_ms / 1000)
            .end_time(window.end_ms / 1000 - 1)
            .query_string(query);
        let started = self.calls.send("StartQuery", || start.clone().send()).await;
        let started = self.counted("StartQuery", started)?;
        let id = started.query_id().unwrap_or_default().to_owned();
        let deadline = Instant::now() + timeout;
        loop {
            let ask = self.sdk.get_query_results().query_id(&id);
            let answer = self
                .calls
                .send("GetQueryResults", || ask.clone().send())
                .await;
            let answer = self.counted("GetQueryResults", answer)?;
            match answer.status() {
                Some(QueryStatus::Complete) => {
                    let rows = answer.results().iter().map(|row| {
                        row.iter()
                            .map(|field| {
                                let text =
                                    |value: Option<&str>| value.unwrap_or_default().to_owned();
                                (text(field.field()), text(field.value()))
                            })
                            .collect()
                    });
                    return Ok(rows.collect());
                }
                Some(QueryStatus::Running | QueryStatus::Scheduled) | None => {}
                Some(other) => {
                    return Err(Error::Aws {
                        api: "GetQueryResults",
                        message: format!("Logs Insights query {id} ended {}", other.as_str()),
                    });
                }
            }
            if Instant::now() + self.poll > deadline {
                // Stopping frees the account's concurrent-query slot; its failure changes nothing.
                let stop = self.sdk.stop_query().query_id(&id);
                let stopped = self.calls.send("StopQuery", || stop.clone().send()).await;
                let _ = self.counted("StopQuery", stopped);
                return Err(Error::Aws {
                    api: "GetQueryResults",
                    message: format!(
                        "Logs Insights query {id} not complete after {} s; stopped",
                        timeout.as_secs()
                    ),
                });
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}
