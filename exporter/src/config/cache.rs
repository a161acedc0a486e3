//! The top-level `cache:` section (ours, not YACE's): how long answers that change slowly are
//! reused across scrapes. Every TTL is whole seconds; `0` asks again on every scrape, which is
//! what YACE does. A reload starts with every cache empty.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::raw::invalid;

/// How long each kind of AWS answer is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cache {
    /// GetResources answers (and API Gateway's GetRestApis/GetApis lists).
    pub resources: Duration,
    /// ListMetrics answers.
    pub list_metrics: Duration,
    /// The account id (STS GetCallerIdentity) and alias (IAM ListAccountAliases).
    pub account: Duration,
    /// Reuse a series' GetMetricData answer while its window is unchanged and already holds
    /// its newest possible datapoint, instead of asking again.
    pub datapoints: bool,
}

/// The account of a set of credentials does not change; a day bounds a rename of the alias.
pub const DEFAULT_ACCOUNT_TTL: Duration = Duration::from_secs(86_400);

impl Default for Cache {
    /// YACE's behaviour for the lists (asked every scrape), the account kept for a day, and
    /// datapoints reused while no newer one can exist.
    fn default() -> Self {
        Cache {
            resources: Duration::ZERO,
            list_metrics: Duration::ZERO,
            account: DEFAULT_ACCOUNT_TTL,
            datapoints: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a mapping of resources, listMetrics, account, datapoints")]
pub(super) struct RawCache {
    resources: Option<i64>,
    list_metrics: Option<i64>,
    account: Option<i64>,
    datapoints: Option<bool>,
}

impl RawCache {
    pub(super) fn validate(self) -> Result<Cache, ConfigError> {
        let defaults = Cache::default();
        Ok(Cache {
            resources: ttl(self.resources, "cache.resources", defaults.resources)?,
            list_metrics: ttl(
                self.list_metrics,
                "cache.listMetrics",
                defaults.list_metrics,
            )?,
            account: ttl(self.account, "cache.account", defaults.account)?,
            datapoints: self.datapoints.unwrap_or(defaults.datapoints),
        })
    }
}

fn ttl(value: Option<i64>, key: &str, default: Duration) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(seconds) => u64::try_from(seconds)
            .map(Duration::from_secs)
            .map_err(|_| invalid(key, format!("must be 0 or more seconds, not {seconds}"))),
    }
}
