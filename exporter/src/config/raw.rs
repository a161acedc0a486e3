//! The configuration as written: serde structs that mirror YACE's YAML key for key, and the one
//! validation pass that turns them into the typed [`Config`], applying YACE's defaults and
//! rules. Every finding names its key path; `parse` adds the line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    Config, ConfigError, CustomNamespaceJob, Diagnostic, DiscoveryJob, Metric, Role, StaticJob,
};
use crate::{naming, services};

/// Period and length when neither the metric nor the job sets them (YACE's defaults).
const DEFAULT_SECONDS: i64 = 300;

/// What validation found besides errors.
#[derive(Debug, Default)]
pub(super) struct Findings {
    pub(super) warnings: Vec<Diagnostic>,
}

impl Findings {
    pub(super) fn warn(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Diagnostic::new(key, message));
    }
}

pub(super) fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(Diagnostic::new(key, message))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(
    expecting = "a mapping of apiVersion, sts-region, discovery, static, customNamespace, logs, staleness, cache"
)]
pub(super) struct RawConfig {
    api_version: Option<String>,
    #[serde(rename = "sts-region")]
    sts_region: Option<String>,
    discovery: Option<RawDiscovery>,
    #[serde(rename = "static")]
    static_jobs: Option<Vec<RawStaticJob>>,
    custom_namespace: Option<Vec<RawCustomNamespaceJob>>,
    /// This exporter's own section; see `logs.rs`.
    logs: Option<super::logs::RawLogs>,
    /// Ours, not YACE's: seconds a failing job keeps serving its last good series.
    staleness: Option<i64>,
    /// Ours, not YACE's: TTLs of the answers reused across scrapes; see `cache.rs`.
    cache: Option<super::cache::RawCache>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a mapping of exportedTagsOnMetrics and jobs")]
struct RawDiscovery {
    #[serde(default)]
    exported_tags_on_metrics: BTreeMap<String, Vec<String>>,
    jobs: Option<Vec<RawDiscoveryJob>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a discovery job: a mapping with type, regions, metrics")]
struct RawDiscoveryJob {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    roles: Vec<RawRole>,
    #[serde(default)]
    search_tags: Vec<RawTag>,
    #[serde(default)]
    custom_tags: Vec<RawTag>,
    #[serde(default)]
    dimension_name_requirements: Vec<String>,
    rounding_period: Option<i64>,
    #[serde(default)]
    recently_active_only: bool,
    #[serde(default)]
    include_context_on_info_metrics: bool,
    /// Ours, not YACE's: keep metrics of resources the tagging API did not return.
    #[serde(default)]
    include_untagged: bool,
    #[serde(default)]
    enhanced_metrics: Vec<RawEnhancedMetric>,
    #[serde(default)]
    metrics: Vec<RawMetric>,
    // YACE's job-level metric fields, the defaults of every metric of the job. Written out
    // here and in RawCustomNamespaceJob rather than shared through `#[serde(flatten)]`:
    // flattening buffers the keys and would hide unknown ones from the warnings.
    #[serde(default)]
    statistics: Vec<String>,
    period: Option<i64>,
    length: Option<i64>,
    delay: Option<i64>,
    nil_to_zero: Option<bool>,
    add_cloudwatch_timestamp: Option<bool>,
    export_all_data_points: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a custom namespace job: a mapping with name, namespace, regions, metrics")]
struct RawCustomNamespaceJob {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    roles: Vec<RawRole>,
    #[serde(default)]
    custom_tags: Vec<RawTag>,
    #[serde(default)]
    dimension_name_requirements: Vec<String>,
    rounding_period: Option<i64>,
    #[serde(default)]
    recently_active_only: bool,
    #[serde(default)]
    metrics: Vec<RawMetric>,
    #[serde(default)]
    statistics: Vec<String>,
    period: Option<i64>,
    length: Option<i64>,
    delay: Option<i64>,
    nil_to_zero: Option<bool>,
    add_cloudwatch_timestamp: Option<bool>,
    export_all_data_points: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a static job: a mapping with name, namespace, regions, metrics")]
struct RawStaticJob {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    roles: Vec<RawRole>,
    #[serde(default)]
    custom_tags: Vec<RawTag>,
    #[serde(default)]
    dimensions: Vec<RawDimension>,
    #[serde(default)]
    metrics: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a role: a mapping with roleArn and externalId")]
pub(super) struct RawRole {
    #[serde(default)]
    role_arn: String,
    #[serde(default)]
    external_id: String,
}

#[derive(Deserialize)]
#[serde(expecting = "a tag: a mapping with key and value")]
struct RawTag {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(expecting = "a dimension: a mapping with name and value")]
struct RawDimension {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(expecting = "an enhanced metric: a mapping with name")]
struct RawEnhancedMetric {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a metric: a mapping with name, statistics, period, length")]
struct RawMetric {
    name: Option<String>,
    #[serde(default)]
    statistics: Vec<String>,
    period: Option<i64>,
    length: Option<i64>,
    delay: Option<i64>,
    nil_to_zero: Option<bool>,
    add_cloudwatch_timestamp: Option<bool>,
    export_all_data_points: Option<bool>,
}

/// The job-level metric fields, which a metric's own fields override.
#[derive(Default)]
struct JobDefaults {
    statistics: Vec<String>,
    period: Option<i64>,
    length: Option<i64>,
    delay: Option<i64>,
    nil_to_zero: Option<bool>,
    add_cloudwatch_timestamp: Option<bool>,
    export_all_data_points: Option<bool>,
}

impl RawConfig {
    pub(super) fn validate(self, findings: &mut Findings) -> Result<Config, ConfigError> {
        match self.api_version.as_deref() {
            Some("v1alpha1") => {}
            None | Some("") => findings.warn("apiVersion", "missing; v1alpha1 is assumed"),
            Some(other) => {
                return Err(invalid(
                    "apiVersion",
                    format!("unknown value {other:?}, expected \"v1alpha1\""),
                ));
            }
        }
        let (exported_tags, discovery_jobs) = match self.discovery {
            Some(discovery) => (discovery.exported_tags_on_metrics, discovery.jobs),
            None => (BTreeMap::new(), None),
        };
        let logs = self.logs.filter(|logs| logs.has_jobs());
        if discovery_jobs.is_none()
            && self.static_jobs.is_none()
            && self.custom_namespace.is_none()
            && logs.is_none()
        {
            return Err(invalid(
                "discovery.jobs",
                "no jobs are configured: at least one discovery, static, customNamespace or logs job is required",
            ));
        }
        let discovery_jobs = validate_all(
            discovery_jobs.unwrap_or_default(),
            "discovery.jobs",
            |job, key| job.validate(key, &exported_tags, findings),
        )?;
        check_exported_tags(&exported_tags, &discovery_jobs)?;
        let static_jobs = validate_all(
            self.static_jobs.unwrap_or_default(),
            "static",
            |job, key| job.validate(key, findings),
        )?;
        let custom_namespace_jobs = validate_all(
            self.custom_namespace.unwrap_or_default(),
            "customNamespace",
            |job, key| job.validate(key, findings),
        )?;
        let logs_jobs = match logs {
            Some(logs) => logs.validate()?,
            None => Vec::new(),
        };
        let staleness = match self.staleness {
            None => super::DEFAULT_STALENESS,
            Some(seconds) => {
                std::time::Duration::from_secs(u64::try_from(seconds).map_err(|_| {
                    invalid(
                        "staleness",
                        format!("must be 0 or more seconds, not {seconds}"),
                    )
                })?)
            }
        };
        let cache = match self.cache {
            Some(cache) => cache.validate()?,
            None => super::Cache::default(),
        };
        Ok(Config {
            staleness,
            cache,
            sts_region: self.sts_region.filter(|region| !region.is_empty()),
            discovery_jobs,
            static_jobs,
            custom_namespace_jobs,
            logs_jobs,
        })
    }
}

/// Validates each item of a list, its key path being `<key>[<index>]`.
fn validate_all<R, T>(
    items: Vec<R>,
    key: &str,
    mut validate: impl FnMut(R, &str) -> Result<T, ConfigError>,
) -> Result<Vec<T>, ConfigError> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| validate(item, &format!("{key}[{index}]")))
        .collect()
}

/// `exportedTagsOnMetrics` keys must be namespaces (not aliases) that some discovery job scrapes.
fn check_exported_tags(
    exported: &BTreeMap<String, Vec<String>>,
    jobs: &[DiscoveryJob],
) -> Result<(), ConfigError> {
    for namespace in exported.keys() {
        let key = format!("discovery.exportedTagsOnMetrics.{namespace}");
        service(namespace, &key)?;
        if !jobs.iter().any(|job| &job.namespace == namespace) {
            return Err(invalid(key, "matches no discovery job's type"));
        }
    }
    Ok(())
}

/// The supported service named by `namespace`; an alias or an unknown name is an error.
fn service(namespace: &str, key: &str) -> Result<&'static services::Service, ConfigError> {
    if let Some(service) = services::by_namespace(namespace) {
        return Ok(service);
    }
    Err(match services::by_alias(namespace) {
        Some(service) => invalid(
            key,
            format!(
                "use the namespace {:?} rather than the alias {namespace:?}",
                service.namespace
            ),
        ),
        None => invalid(key, format!("{namespace:?} is not a supported service")),
    })
}

impl RawDiscoveryJob {
    fn validate(
        self,
        key: &str,
        exported_tags: &BTreeMap<String, Vec<String>>,
        findings: &mut Findings,
    ) -> Result<DiscoveryJob, ConfigError> {
        let kind = required(self.kind, &format!("{key}.type"))?;
        let namespace = service(&kind, &format!("{key}.type"))?.namespace;
        let regions = regions(self.regions, key)?;
        let roles = roles(self.roles, key)?;
        if self.metrics.is_empty() && self.enhanced_metrics.is_empty() {
            return Err(invalid(
                format!("{key}.metrics"),
                "at least one metric (or enhanced metric) is required",
            ));
        }
        for (index, enhanced) in self.enhanced_metrics.iter().enumerate() {
            findings.warn(
                format!("{key}.enhancedMetrics[{index}]"),
                format!(
                    "{:?}: enhanced metrics are experimental in YACE and not scraped by this exporter; ignored",
                    enhanced.name
                ),
            );
        }
        rounding_period_deprecated(self.rounding_period, key, findings);
        let mut search_tags = Vec::with_capacity(self.search_tags.len());
        for (index, tag) in self.search_tags.into_iter().enumerate() {
            let pattern = regex::Regex::new(&tag.value).map_err(|error| {
                invalid(
                    format!("{key}.searchTags[{index}].value"),
                    format!("not a valid regular expression: {error}"),
                )
            })?;
            search_tags.push((tag.key, pattern));
        }
        let defaults = JobDefaults {
            statistics: self.statistics,
            period: self.period,
            length: self.length,
            delay: self.delay,
            nil_to_zero: self.nil_to_zero,
            add_cloudwatch_timestamp: self.add_cloudwatch_timestamp,
            export_all_data_points: self.export_all_data_points,
        };
        let metrics = validate_all(self.metrics, &format!("{key}.metrics"), |metric, key| {
            metric.validate(key, namespace, Some(&defaults), findings)
        })?;
        Ok(DiscoveryJob {
            namespace: namespace.to_owned(),
            regions,
            roles,
            search_tags,
            custom_tags: labelled(self.custom_tags, &format!("{key}.customTags"), findings),
            dimension_name_requirements: self.dimension_name_requirements,
            recently_active_only: self.recently_active_only,
            include_context_on_info_metrics: self.include_context_on_info_metrics,
            include_untagged: self.include_untagged,
            exported_tags: exported_tags.get(namespace).cloned().unwrap_or_default(),
            metrics,
        })
    }
}

impl RawCustomNamespaceJob {
    fn validate(
        self,
        key: &str,
        findings: &mut Findings,
    ) -> Result<CustomNamespaceJob, ConfigError> {
        let name = required(self.name, &format!("{key}.name"))?;
        let namespace = required(self.namespace, &format!("{key}.namespace"))?;
        let regions = regions(self.regions, key)?;
        let roles = roles(self.roles, key)?;
        if self.metrics.is_empty() {
            return Err(invalid(
                format!("{key}.metrics"),
                "at least one metric is required",
            ));
        }
        rounding_period_deprecated(self.rounding_period, key, findings);
        let defaults = JobDefaults {
            statistics: self.statistics,
            period: self.period,
            length: self.length,
            delay: self.delay,
            nil_to_zero: self.nil_to_zero,
            add_cloudwatch_timestamp: self.add_cloudwatch_timestamp,
            export_all_data_points: self.export_all_data_points,
        };
        let metrics = validate_all(self.metrics, &format!("{key}.metrics"), |metric, key| {
            metric.validate(key, &namespace, Some(&defaults), findings)
        })?;
        Ok(CustomNamespaceJob {
            name,
            namespace,
            regions,
            roles,
            custom_tags: labelled(self.custom_tags, &format!("{key}.customTags"), findings),
            dimension_name_requirements: self.dimension_name_requirements,
            recently_active_only: self.recently_active_only,
            metrics,
        })
    }
}

impl RawStaticJob {
    fn validate(self, key: &str, findings: &mut Findings) -> Result<StaticJob, ConfigError> {
        let name = required(self.name, &format!("{key}.name"))?;
        let namespace = required(self.namespace, &format!("{key}.namespace"))?;
        let regions = regions(self.regions, key)?;
        let roles = roles(self.roles, key)?;
        let metrics = validate_all(self.metrics, &format!("{key}.metrics"), |metric, key| {
            metric.validate(key, &namespace, None, findings)
        })?;
        let dimensions = self
            .dimensions
            .into_iter()
            .map(|dimension| RawTag {
                key: dimension.name,
                value: dimension.value,
            })
            .collect();
        Ok(StaticJob {
            name,
            namespace,
            regions,
            roles,
            custom_tags: labelled(self.custom_tags, &format!("{key}.customTags"), findings),
            dimensions: labelled(dimensions, &format!("{key}.dimensions"), findings),
            metrics,
        })
    }
}

pub(super) fn required(value: Option<String>, key: &str) -> Result<String, ConfigError> {
    value
        .filter(|value| !value.is_empty())
        .ok_or_else(|| invalid(key, "is required and must not be empty"))
}

pub(super) fn regions(regions: Vec<String>, job: &str) -> Result<Vec<String>, ConfigError> {
    if regions.is_empty() {
        return Err(invalid(
            format!("{job}.regions"),
            "at least one region is required",
        ));
    }
    Ok(regions)
}

/// A job's roles; none means the ambient credentials, as in YACE.
pub(super) fn roles(roles: Vec<RawRole>, job: &str) -> Result<Vec<Role>, ConfigError> {
    if roles.is_empty() {
        return Ok(vec![Role::default()]);
    }
    roles
        .into_iter()
        .enumerate()
        .map(|(index, role)| {
            if role.role_arn.is_empty() && !role.external_id.is_empty() {
                return Err(invalid(
                    format!("{job}.roles[{index}].externalId"),
                    "needs a roleArn",
                ));
            }
            let set = |value: String| (!value.is_empty()).then_some(value);
            Ok(Role {
                role_arn: set(role.role_arn),
                external_id: set(role.external_id),
            })
        })
        .collect()
}

fn rounding_period_deprecated(rounding_period: Option<i64>, job: &str, findings: &mut Findings) {
    if rounding_period.is_some() {
        findings.warn(
            format!("{job}.roundingPeriod"),
            "deprecated and ignored: the window is always rounded to the metric's period",
        );
    }
}

/// Passes tags or dimensions through, warning once, at load, about each name that cannot
/// become a Prometheus label name: such labels are left out of every series, as YACE does.
fn labelled(pairs: Vec<RawTag>, key: &str, findings: &mut Findings) -> Vec<(String, String)> {
    let field = if key.ends_with("dimensions") {
        "name"
    } else {
        "key"
    };
    pairs
        .into_iter()
        .enumerate()
        .map(|(index, pair)| {
            // Snake case changes only letter case and underscores, so validity is the same.
            if naming::dimension_label(&pair.key, false).is_none() {
                findings.warn(
                    format!("{key}[{index}].{field}"),
                    format!(
                        "{:?} cannot be a Prometheus label name; the label is left out",
                        pair.key
                    ),
                );
            }
            (pair.key, pair.value)
        })
        .collect()
}

impl RawMetric {
    /// `job` is `None` for static jobs, which have no job-level metric fields, and whose
    /// statistics YACE neither defaults nor requires.
    fn validate(
        self,
        key: &str,
        namespace: &str,
        job: Option<&JobDefaults>,
        findings: &mut Findings,
    ) -> Result<Metric, ConfigError> {
        let name = required(self.name, &format!("{key}.name"))?;
        let defaults = job.map_or_else(JobDefaults::default, |job| JobDefaults {
            statistics: job.statistics.clone(),
            ..*job
        });
        let mut statistics = self.statistics;
        if statistics.is_empty() {
            statistics = defaults.statistics;
        }
        if statistics.is_empty() && job.is_some() {
            return Err(invalid(
                format!("{key}.statistics"),
                "at least one statistic is required, on the metric or its job",
            ));
        }
        if self.delay.is_some_and(|delay| delay != 0) {
            findings.warn(
                format!("{key}.delay"),
                "ignored: YACE never honoured a metric-level delay; set it on the job",
            );
        }
        let nil_to_zero = self.nil_to_zero.or(defaults.nil_to_zero).unwrap_or(false);
        if nil_to_zero && job.is_none() {
            findings.warn(
                format!("{key}.nilToZero"),
                "has no effect on static jobs: a metric without datapoints has no series",
            );
        }
        let timestamps = self
            .add_cloudwatch_timestamp
            .or(defaults.add_cloudwatch_timestamp)
            .unwrap_or(false);
        let all_points = self
            .export_all_data_points
            .or(defaults.export_all_data_points)
            .unwrap_or(false);
        if all_points && !timestamps {
            return Err(invalid(
                format!("{key}.exportAllDataPoints"),
                "needs addCloudwatchTimestamp: true",
            ));
        }
        let period = seconds(self.period.or(defaults.period), &format!("{key}.period"))?;
        let length = seconds(self.length.or(defaults.length), &format!("{key}.length"))?;
        if length < period {
            return Err(invalid(
                format!("{key}.length"),
                format!(
                    "length ({length}) is smaller than period ({period}), which leaves gaps in the data"
                ),
            ));
        }
        let delay = match defaults.delay {
            Some(delay) => u32::try_from(delay).map_err(|_| {
                invalid(
                    format!("{key}.delay"),
                    format!("the job's delay must be 0 or more seconds, got {delay}"),
                )
            })?,
            None => 0,
        };

        // YACE accepts what CloudWatch then rejects, and loses the metric. Here the query
        // would share a GetMetricData call with others and take them down too, so it is left
        // out up front, with a warning.
        if !is_cloudwatch_period(period) {
            findings.warn(
                format!("{key}.period"),
                format!(
                    "CloudWatch accepts 1, 5, 10, 20, 30 or a multiple of 60, not {period}; metric {name} is skipped"
                ),
            );
            statistics.clear();
        }
        statistics.retain(|statistic| {
            let known = is_cloudwatch_statistic(statistic);
            if !known {
                findings.warn(
                    format!("{key}.statistics"),
                    format!("{statistic:?} is not a CloudWatch statistic; it is skipped"),
                );
            }
            known
        });
        // A series name Prometheus cannot parse would fail the whole scrape (YACE #1564).
        statistics.retain(|statistic| {
            let series = naming::metric_name(namespace, &name, statistic);
            let valid = naming::is_valid_metric_name(&series);
            if !valid {
                findings.warn(
                    key,
                    format!(
                        "{series:?} is not a valid Prometheus metric name; statistic {statistic} is skipped"
                    ),
                );
            }
            valid
        });
        if statistics.is_empty() {
            findings.warn(
                key,
                format!("metric {name} has no statistic and produces no series"),
            );
        }
        Ok(Metric {
            name,
            statistics,
            period,
            length,
            delay,
            nil_to_zero,
            add_cloudwatch_timestamp: timestamps,
            export_all_data_points: all_points,
        })
    }
}

/// Periods CloudWatch serves: high resolution 1, 5, 10, 20, 30 s, or whole minutes.
fn is_cloudwatch_period(period: u32) -> bool {
    matches!(period, 1 | 5 | 10 | 20 | 30) || period.is_multiple_of(60)
}

/// The statistics GetMetricData accepts: the five basic ones, `IQM`, percentile-style
/// `p99`, `tm99.5`, `wm90`, `tc90`, `ts90`, and the range forms `TM(10%:90%)`, `PR(:300)`.
pub fn is_cloudwatch_statistic(statistic: &str) -> bool {
    const BASIC: [&str; 6] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"];
    if BASIC.contains(&statistic) {
        return true;
    }
    let is_number = |text: &str| {
        !text.is_empty()
            && text.chars().all(|c| c.is_ascii_digit() || c == '.')
            && text.parse::<f64>().is_ok()
    };
    for prefix in ["p", "tm", "wm", "tc", "ts"] {
        if let Some(rest) = statistic.strip_prefix(prefix)
            && is_number(rest)
        {
            return rest.parse::<f64>().is_ok_and(|n| n > 0.0 && n <= 100.0);
        }
    }
    for prefix in ["PR", "TM", "WM", "TC", "TS"] {
        if let Some(range) = statistic
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('('))
            .and_then(|rest| rest.strip_suffix(')'))
            && let Some((low, high)) = range.split_once(':')
        {
            let bound = |b: &str| b.is_empty() || is_number(b.strip_suffix('%').unwrap_or(b));
            return (!low.is_empty() || !high.is_empty()) && bound(low) && bound(high);
        }
    }
    false
}

/// A period or length in seconds; YACE treats 0 as unset.
fn seconds(value: Option<i64>, key: &str) -> Result<u32, ConfigError> {
    let value = value.filter(|&v| v != 0).unwrap_or(DEFAULT_SECONDS);
    // The API carries seconds as a 32-bit signed integer.
    u32::try_from(value)
        .ok()
        .filter(|&v| v >= 1 && i32::try_from(v).is_ok())
        .ok_or_else(|| {
            invalid(
                key,
                format!("must be a positive number of seconds, got {value}"),
            )
        })
}
