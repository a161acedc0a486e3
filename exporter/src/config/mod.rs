//! The YACE configuration file (`apiVersion: v1alpha1`), read in two steps: serde structs that
//! mirror the YAML, then one validation pass into the typed [`Config`] the scraper uses, with
//! YACE's defaults applied. This is the only module that knows YAML exists.
//!
//! Errors name the key path (`static[0].metrics[1].period`) and, where the YAML parser knows
//! it, the line. Unknown keys are warnings, as in YACE, so a config that YACE accepts is
//! accepted here. Parts of the format that this exporter does not scrape yet (discovery and
//! custom-namespace jobs, assumed roles, CloudWatch timestamps) are refused with a clear error
//! rather than silently ignored.

use std::path::Path;

use serde::Deserialize;

use crate::naming;

/// Period and length when neither the metric nor the job sets them (YACE's defaults).
const DEFAULT_SECONDS: i64 = 300;

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Region for STS calls; `None` means the SDK's default region.
    pub sts_region: Option<String>,
    pub static_jobs: Vec<StaticJob>,
}

/// A job with fixed dimensions: no discovery, one series per metric and statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticJob {
    /// Becomes the `name` label of every series of the job.
    pub name: String,
    pub namespace: String,
    pub regions: Vec<String>,
    pub custom_tags: Vec<(String, String)>,
    pub dimensions: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
}

/// One CloudWatch metric to fetch, with its defaults resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub statistics: Vec<String>,
    /// Seconds per CloudWatch datapoint.
    pub period: u32,
    /// Seconds of history to ask for; never less than `period`.
    pub length: u32,
}

/// A configuration together with the warnings that reading it raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The YAML does not parse, or a value has the wrong type; serde_yaml_ng puts the key
    /// path at the front of `message`.
    #[error("{message}{}", line_suffix(*line))]
    Syntax {
        line: Option<usize>,
        message: String,
    },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|line| format!(" (line {line})"))
        .unwrap_or_default()
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

/// Validates a configuration given as YAML text.
pub fn parse(text: &str) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let mut on_unknown = |path: serde_ignored::Path| {
        warnings.push(format!("unknown key {} is ignored", ignored_path(&path)));
    };
    let ignored = serde_ignored::Deserializer::new(deserializer, &mut on_unknown);
    let raw = RawConfig::deserialize(ignored).map_err(|error| ConfigError::Syntax {
        line: error.location().map(|location| location.line()),
        message: strip_location(&error.to_string()),
    })?;
    let config = raw.validate(&mut warnings)?;
    Ok(Loaded { config, warnings })
}

/// serde_yaml_ng appends " at line L column C" to its messages; the line is reported apart.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

fn ignored_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let mut out = ignored_path(parent);
            push_key(&mut out, key);
            out
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a mapping of apiVersion, sts-region, discovery, static, customNamespace")]
struct RawConfig {
    api_version: Option<String>,
    #[serde(rename = "sts-region")]
    sts_region: Option<String>,
    discovery: Option<serde::de::IgnoredAny>,
    #[serde(rename = "static")]
    static_jobs: Option<Vec<RawStaticJob>>,
    custom_namespace: Option<serde::de::IgnoredAny>,
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
struct RawRole {
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

impl RawConfig {
    fn validate(self, warnings: &mut Vec<String>) -> Result<Config, ConfigError> {
        match self.api_version.as_deref() {
            Some("v1alpha1") => {}
            None | Some("") => warnings.push("apiVersion is missing; v1alpha1 is assumed".into()),
            Some(other) => {
                return Err(invalid(
                    "apiVersion",
                    format!("unknown value {other:?}, expected \"v1alpha1\""),
                ));
            }
        }
        if self.discovery.is_some() {
            return Err(unsupported("discovery", "discovery jobs"));
        }
        if self.custom_namespace.is_some() {
            return Err(unsupported("customNamespace", "custom namespace jobs"));
        }
        let Some(static_jobs) = self.static_jobs else {
            return Err(invalid(
                "static",
                "no jobs are configured: at least one discovery, static or customNamespace job is required",
            ));
        };
        let static_jobs = static_jobs
            .into_iter()
            .enumerate()
            .map(|(index, job)| job.validate(&format!("static[{index}]"), warnings))
            .collect::<Result<_, _>>()?;
        Ok(Config {
            sts_region: self.sts_region.filter(|region| !region.is_empty()),
            static_jobs,
        })
    }
}

fn unsupported(key: &str, what: &str) -> ConfigError {
    invalid(
        key,
        format!("{what} are not supported by this version of the exporter yet"),
    )
}

impl RawStaticJob {
    fn validate(self, key: &str, warnings: &mut Vec<String>) -> Result<StaticJob, ConfigError> {
        let name = required(self.name, &format!("{key}.name"))?;
        let namespace = required(self.namespace, &format!("{key}.namespace"))?;
        if self.regions.is_empty() {
            return Err(invalid(
                format!("{key}.regions"),
                "at least one region is required",
            ));
        }
        for (index, role) in self.roles.iter().enumerate() {
            let role_key = format!("{key}.roles[{index}]");
            if role.role_arn.is_empty() && !role.external_id.is_empty() {
                return Err(invalid(
                    format!("{role_key}.externalId"),
                    "externalId needs a roleArn",
                ));
            }
            if !role.role_arn.is_empty() {
                return Err(unsupported(&format!("{role_key}.roleArn"), "assumed roles"));
            }
        }
        let metrics = self
            .metrics
            .into_iter()
            .enumerate()
            .map(|(index, metric)| {
                metric.validate(&format!("{key}.metrics[{index}]"), &namespace, warnings)
            })
            .collect::<Result<_, _>>()?;
        let custom_tags = labelled(
            self.custom_tags.into_iter().map(|tag| (tag.key, tag.value)),
            &format!("{key}.customTags"),
            "key",
            warnings,
        );
        let dimensions = labelled(
            self.dimensions.into_iter().map(|d| (d.name, d.value)),
            &format!("{key}.dimensions"),
            "name",
            warnings,
        );
        Ok(StaticJob {
            name,
            namespace,
            regions: self.regions,
            custom_tags,
            dimensions,
            metrics,
        })
    }
}

/// Passes `pairs` through, warning once, at load, about each name that cannot become a
/// Prometheus label name: such labels are left out of every series, as YACE leaves them out.
fn labelled(
    pairs: impl Iterator<Item = (String, String)>,
    key: &str,
    field: &str,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    let pairs: Vec<_> = pairs.collect();
    for (index, (name, _)) in pairs.iter().enumerate() {
        // Snake case changes only letter case and underscores, so validity is the same.
        if naming::dimension_label(name, false).is_none() {
            warnings.push(format!(
                "{key}[{index}].{field}: {name:?} cannot be a Prometheus label name; the label is left out"
            ));
        }
    }
    pairs
}

fn required(value: Option<String>, key: &str) -> Result<String, ConfigError> {
    value
        .filter(|value| !value.is_empty())
        .ok_or_else(|| invalid(key, "is required and must not be empty"))
}

impl RawMetric {
    fn validate(
        self,
        key: &str,
        namespace: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Metric, ConfigError> {
        let name = required(self.name, &format!("{key}.name"))?;
        if self.delay.is_some_and(|delay| delay != 0) {
            warnings.push(format!(
                "{key}.delay is ignored: YACE never honoured a metric-level delay"
            ));
        }
        if self.nil_to_zero == Some(true) {
            warnings.push(format!(
                "{key}.nilToZero has no effect on static jobs: a metric without datapoints has no series"
            ));
        }
        let timestamps = self.add_cloudwatch_timestamp.unwrap_or(false);
        if self.export_all_data_points.unwrap_or(false) && !timestamps {
            return Err(invalid(
                format!("{key}.exportAllDataPoints"),
                "needs addCloudwatchTimestamp: true",
            ));
        }
        if timestamps {
            return Err(unsupported(
                &format!("{key}.addCloudwatchTimestamp"),
                "CloudWatch timestamps",
            ));
        }
        let period = seconds(self.period, &format!("{key}.period"))?;
        let length = seconds(self.length, &format!("{key}.length"))?;
        if length < period {
            return Err(invalid(
                format!("{key}.length"),
                format!(
                    "length ({length}) is smaller than period ({period}), which leaves gaps in the data"
                ),
            ));
        }

        // YACE accepts what CloudWatch then rejects, and loses the metric. Here the query
        // would share a GetMetricData call with others and take them down too, so it is left
        // out up front, with a warning.
        let mut statistics = self.statistics;
        if !is_cloudwatch_period(period) {
            warnings.push(format!(
                "{key}.period: CloudWatch accepts 1, 5, 10, 20, 30 or a multiple of 60, not {period}; metric {name} is skipped"
            ));
            statistics.clear();
        }
        statistics.retain(|statistic| {
            let known = is_cloudwatch_statistic(statistic);
            if !known {
                warnings.push(format!(
                    "{key}.statistics: {statistic:?} is not a CloudWatch statistic; it is skipped"
                ));
            }
            known
        });
        // A series name Prometheus cannot parse would fail the whole scrape (YACE #1564).
        statistics.retain(|statistic| {
            let series = naming::metric_name(namespace, &name, statistic);
            let valid = naming::is_valid_metric_name(&series);
            if !valid {
                warnings.push(format!(
                    "{key}: {series:?} is not a valid Prometheus metric name; statistic {statistic} is skipped"
                ));
            }
            valid
        });
        if statistics.is_empty() {
            warnings.push(format!(
                "{key}: metric {name} has no statistic and produces no series"
            ));
        }
        Ok(Metric {
            name,
            statistics,
            period,
            length,
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

#[cfg(test)]
mod tests {
    use super::*;

    const LAMBDA: &str = r#"
apiVersion: v1alpha1
static:
  - name: image-processor
    namespace: AWS/Lambda
    regions: [eu-west-1]
    dimensions:
      - name: FunctionName
        value: image-processor-dev-processor
    customTags:
      - key: team
        value: media
    metrics:
      - name: Invocations
        statistics: [Sum]
        period: 60
        length: 120
      - name: Duration
        statistics: [Average]
"#;

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn static_job_is_read_with_yace_defaults() {
        let loaded = parse(LAMBDA).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let job = &loaded.config.static_jobs[0];
        assert_eq!(job.name, "image-processor");
        assert_eq!(job.namespace, "AWS/Lambda");
        assert_eq!(job.regions, ["eu-west-1"]);
        assert_eq!(
            job.dimensions,
            [(
                "FunctionName".into(),
                "image-processor-dev-processor".into()
            )]
        );
        assert_eq!(job.custom_tags, [("team".into(), "media".into())]);
        let periods: Vec<_> = job.metrics.iter().map(|m| (m.period, m.length)).collect();
        assert_eq!(periods, [(60, 120), (300, 300)]);
    }

    #[test]
    fn unknown_keys_are_warnings_naming_their_path() {
        let text = LAMBDA.replace("period: 60", "period: 60\n        colour: blue");
        let loaded = parse(&text).unwrap();
        assert_eq!(
            loaded.warnings,
            ["unknown key static[0].metrics[0].colour is ignored"]
        );
    }

    #[test]
    fn wrong_type_names_the_key_path_and_line() {
        let text = LAMBDA.replace("period: 60", "period: sixty");
        let message = error_of(&text);
        assert!(
            message.starts_with("static[0].metrics[0].period: invalid type: string \"sixty\""),
            "{message}"
        );
        assert!(message.ends_with("(line 16)"), "{message}");
    }

    #[test]
    fn length_below_period_is_rejected_with_its_path() {
        let text = LAMBDA.replace("length: 120", "length: 30");
        assert_eq!(
            error_of(&text),
            "static[0].metrics[0].length: length (30) is smaller than period (60), which leaves gaps in the data"
        );
    }

    #[test]
    fn missing_name_and_regions_are_rejected() {
        let text = LAMBDA.replace("name: image-processor", "name: ''");
        assert_eq!(
            error_of(&text),
            "static[0].name: is required and must not be empty"
        );
        let text = LAMBDA.replace("regions: [eu-west-1]", "regions: []");
        assert_eq!(
            error_of(&text),
            "static[0].regions: at least one region is required"
        );
    }

    #[test]
    fn unknown_api_version_is_rejected_and_missing_one_warns() {
        let text = LAMBDA.replace("v1alpha1", "v2");
        assert_eq!(
            error_of(&text),
            "apiVersion: unknown value \"v2\", expected \"v1alpha1\""
        );
        let text = LAMBDA.replace("apiVersion: v1alpha1\n", "");
        assert_eq!(
            parse(&text).unwrap().warnings,
            ["apiVersion is missing; v1alpha1 is assumed"]
        );
    }

    #[test]
    fn statistics_and_periods_cloudwatch_rejects_are_skipped_with_a_warning() {
        let text = LAMBDA.replace(
            "period: 60\n        length: 120",
            "period: 45\n        length: 90",
        );
        let loaded = parse(&text).unwrap();
        assert_eq!(
            loaded.config.static_jobs[0].metrics[0].statistics,
            Vec::<String>::new()
        );
        assert_eq!(
            loaded.warnings[0],
            "static[0].metrics[0].period: CloudWatch accepts 1, 5, 10, 20, 30 or a multiple of 60, not 45; metric Invocations is skipped"
        );

        let text = LAMBDA.replace(
            "statistics: [Sum]",
            "statistics: [Sum, Avg, p99.5, TM(10%:90%)]",
        );
        let loaded = parse(&text).unwrap();
        assert_eq!(
            loaded.config.static_jobs[0].metrics[0].statistics,
            ["Sum", "p99.5", "TM(10%:90%)"]
        );
        assert_eq!(
            loaded.warnings,
            [
                "static[0].metrics[0].statistics: \"Avg\" is not a CloudWatch statistic; it is skipped"
            ]
        );
    }

    #[test]
    fn cloudwatch_statistics_are_recognised() {
        for good in [
            "Sum",
            "SampleCount",
            "IQM",
            "p99",
            "p99.9",
            "p100",
            "tm99",
            "wm90.5",
            "tc10",
            "ts50",
            "TM(10%:90%)",
            "PR(:300)",
            "TC(0.005:0.030)",
            "TS(80%:)",
        ] {
            assert!(is_cloudwatch_statistic(good), "{good}");
        }
        for bad in [
            "Avg",
            "sum",
            "p",
            "p0",
            "p101",
            "p9x",
            "TM()",
            "TM(:)",
            "PR(a:b)",
            "TM(10%:90%",
            "x99",
        ] {
            assert!(!is_cloudwatch_statistic(bad), "{bad}");
        }
    }

    #[test]
    fn label_names_prometheus_cannot_take_are_warned_about_once() {
        let text = LAMBDA.replace("name: FunctionName", "name: Größe");
        assert_eq!(
            parse(&text).unwrap().warnings,
            [
                "static[0].dimensions[0].name: \"Größe\" cannot be a Prometheus label name; the label is left out"
            ]
        );
    }

    #[test]
    fn a_series_name_prometheus_cannot_parse_is_skipped() {
        let text = LAMBDA.replace("name: Invocations", "name: Calls#Total");
        let loaded = parse(&text).unwrap();
        assert!(
            loaded.config.static_jobs[0].metrics[0]
                .statistics
                .is_empty()
        );
        assert_eq!(
            loaded.warnings[0],
            "static[0].metrics[0]: \"aws_lambda_calls#total_sum\" is not a valid Prometheus metric name; statistic Sum is skipped"
        );
    }

    #[test]
    fn a_config_without_jobs_is_rejected() {
        assert!(error_of("apiVersion: v1alpha1\n").contains("no jobs are configured"));
    }

    #[test]
    fn export_all_data_points_needs_timestamps() {
        let text = LAMBDA.replace(
            "length: 120",
            "length: 120\n        exportAllDataPoints: true",
        );
        assert_eq!(
            error_of(&text),
            "static[0].metrics[0].exportAllDataPoints: needs addCloudwatchTimestamp: true"
        );
    }

    #[test]
    fn external_id_without_role_arn_is_rejected() {
        let text = LAMBDA.replace(
            "regions: [eu-west-1]",
            "regions: [eu-west-1]\n    roles:\n      - externalId: abc",
        );
        assert_eq!(
            error_of(&text),
            "static[0].roles[0].externalId: externalId needs a roleArn"
        );
    }

    #[test]
    fn broken_yaml_names_the_line() {
        let message = error_of("static:\n  - name: [unclosed\n");
        assert!(message.contains("(line "), "{message}");
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let message = load(Path::new("/nonexistent/config.yml"))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("cannot read config file /nonexistent/config.yml:"),
            "{message}"
        );
    }
}
