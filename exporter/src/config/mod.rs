//! The YACE configuration file (`apiVersion: v1alpha1`), read in two steps: serde structs that
//! mirror the YAML ([`raw`]), then one validation pass into the typed [`Config`] the scraper
//! uses, with YACE's defaults applied. This module and its children are the only code that
//! knows YAML exists.
//!
//! Every error and warning names the key path (`discovery.jobs[1].metrics[0].period`) and the
//! line it is on ([`lines`]). Unknown keys are warnings, as in YACE, so a config that YACE
//! accepts is accepted here; what YACE accepts but CloudWatch or Prometheus would reject is
//! warned about and left out.

mod cache;
mod lines;
mod logs;
mod raw;
pub mod web;

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

pub use cache::{Cache, DEFAULT_ACCOUNT_TTL};
pub use logs::{LogsJob, MAX_GROUPS_PER_QUERY, Matcher, Pattern, QueryMode};
pub use raw::is_cloudwatch_statistic;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Region for STS calls; `None` means each job's own region.
    pub sts_region: Option<String>,
    pub discovery_jobs: Vec<DiscoveryJob>,
    pub static_jobs: Vec<StaticJob>,
    pub custom_namespace_jobs: Vec<CustomNamespaceJob>,
    /// The `logs:` section's jobs (not part of YACE's format).
    pub logs_jobs: Vec<LogsJob>,
    /// How long a failing job keeps serving its last good series (`staleness`, ours); zero
    /// drops them at the first failure, as YACE does.
    pub staleness: Duration,
    /// How long slowly changing AWS answers are reused (`cache`, ours).
    pub cache: Cache,
}

/// `staleness` when the file does not set it: two scrapes at YACE's default interval.
pub const DEFAULT_STALENESS: Duration = Duration::from_secs(600);

/// Credentials a job runs with: the ambient ones, or a role assumed from them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Role {
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
}

/// A job that finds its resources through the tagging API and its metrics through ListMetrics.
#[derive(Debug, Clone)]
pub struct DiscoveryJob {
    /// A namespace of the supported services (`AWS/Lambda`).
    pub namespace: String,
    pub regions: Vec<String>,
    pub roles: Vec<Role>,
    /// Tag key and a pattern its value must match (unanchored); all must match.
    pub search_tags: Vec<(String, regex::Regex)>,
    pub custom_tags: Vec<(String, String)>,
    /// When set, only metrics with exactly these dimension names are kept.
    pub dimension_name_requirements: Vec<String>,
    pub recently_active_only: bool,
    pub include_context_on_info_metrics: bool,
    /// Keep metrics of resources the tagging API did not return (`includeUntagged`, ours),
    /// named by the ARN their dimensions spell; YACE drops them.
    pub include_untagged: bool,
    /// Tag keys copied onto every series as `tag_<key>` (`exportedTagsOnMetrics`).
    pub exported_tags: Vec<String>,
    pub metrics: Vec<Metric>,
}

/// A job over any namespace: every metric ListMetrics returns is kept, named after the job.
#[derive(Debug, Clone)]
pub struct CustomNamespaceJob {
    pub name: String,
    pub namespace: String,
    pub regions: Vec<String>,
    pub roles: Vec<Role>,
    pub custom_tags: Vec<(String, String)>,
    pub dimension_name_requirements: Vec<String>,
    pub recently_active_only: bool,
    pub metrics: Vec<Metric>,
}

/// A job with fixed dimensions: no discovery, one series per metric and statistic.
#[derive(Debug, Clone)]
pub struct StaticJob {
    /// Becomes the `name` label of every series of the job.
    pub name: String,
    pub namespace: String,
    pub regions: Vec<String>,
    pub roles: Vec<Role>,
    pub custom_tags: Vec<(String, String)>,
    pub dimensions: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
}

/// One CloudWatch metric to fetch, with YACE's defaults resolved (metric, then job, then
/// built-in).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub statistics: Vec<String>,
    /// Seconds per CloudWatch datapoint.
    pub period: u32,
    /// Seconds of history to ask for; never less than `period`.
    pub length: u32,
    /// Seconds the window ends before now; only a job sets it.
    pub delay: u32,
    pub nil_to_zero: bool,
    pub add_cloudwatch_timestamp: bool,
    pub export_all_data_points: bool,
}

/// A finding about one key of the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Diagnostic {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            key: key.into(),
            line: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

/// A configuration together with the warnings that reading it raised.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The YAML does not parse, or a value has the wrong type or shape.
    #[error("{0}")]
    Syntax(Diagnostic),
    /// The YAML is well formed but breaks one of YACE's rules.
    #[error("{0}")]
    Invalid(Diagnostic),
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
    let lines = lines::Lines::index(text);
    let located = |mut diagnostic: Diagnostic| {
        diagnostic.line = diagnostic.line.or_else(|| lines.line(&diagnostic.key));
        diagnostic
    };

    let mut findings = raw::Findings::default();
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let mut on_unknown = |path: serde_ignored::Path| {
        findings.warn(ignored_path(&path), "unknown key, ignored");
    };
    let ignored = serde_ignored::Deserializer::new(deserializer, &mut on_unknown);
    let raw = raw::RawConfig::deserialize(ignored).map_err(|error| {
        let (key, message) = split_path(&strip_location(&error.to_string()));
        let mut diagnostic = Diagnostic::new(key, message);
        diagnostic.line = error.location().map(|location| location.line());
        ConfigError::Syntax(located(diagnostic))
    })?;
    let config = raw.validate(&mut findings).map_err(|error| match error {
        ConfigError::Invalid(diagnostic) => ConfigError::Invalid(located(diagnostic)),
        other => other,
    })?;
    let warnings = findings.warnings.into_iter().map(located).collect();
    Ok(Loaded { config, warnings })
}

/// serde_yaml_ng appends " at line L column C" to its messages; the line is reported apart.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// serde_yaml_ng starts a message with the key path (`static[0].name: invalid type ...`)
/// when it knows one.
fn split_path(message: &str) -> (String, String) {
    match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (path.to_owned(), rest.to_owned()),
        _ => (String::new(), message.to_owned()),
    }
}

fn ignored_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
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

    const DISCOVERY: &str = r#"
apiVersion: v1alpha1
sts-region: eu-west-1
discovery:
  exportedTagsOnMetrics:
    AWS/SQS: [team]
  jobs:
    - type: AWS/SQS
      regions: [eu-west-1, us-east-1]
      searchTags:
        - key: env
          value: ^(dev|prod)$
      period: 60
      length: 300
      delay: 120
      nilToZero: true
      statistics: [Sum]
      metrics:
        - name: NumberOfMessagesSent
        - name: ApproximateAgeOfOldestMessage
          statistics: [Maximum]
          nilToZero: false
          period: 300
customNamespace:
  - name: app
    namespace: MyApp
    regions: [eu-west-1]
    roles:
      - roleArn: arn:aws:iam::123456789012:role/reader
        externalId: abc
    statistics: [Average]
    metrics:
      - name: Latency
"#;

    /// The 1-based line of the first line of `text` containing `needle`.
    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|line| line.contains(needle)).unwrap() + 1
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn warnings_of(text: &str) -> Vec<String> {
        let loaded = parse(text).unwrap();
        loaded.warnings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn static_job_is_read_with_yace_defaults() {
        let loaded = parse(LAMBDA).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let job = &loaded.config.static_jobs[0];
        assert_eq!(job.name, "image-processor");
        assert_eq!(job.namespace, "AWS/Lambda");
        assert_eq!(job.regions, ["eu-west-1"]);
        assert_eq!(job.roles, [Role::default()]);
        assert_eq!(
            job.dimensions,
            [(
                "FunctionName".into(),
                "image-processor-dev-processor".into()
            )]
        );
        assert_eq!(job.custom_tags, [("team".into(), "media".into())]);
        let periods: Vec<_> = job
            .metrics
            .iter()
            .map(|m| (m.period, m.length, m.delay))
            .collect();
        assert_eq!(periods, [(60, 120, 0), (300, 300, 0)]);
    }

    #[test]
    fn staleness_is_whole_seconds_and_defaults_to_ten_minutes() {
        assert_eq!(
            parse(DISCOVERY).unwrap().config.staleness,
            DEFAULT_STALENESS
        );
        let zero = format!("{DISCOVERY}staleness: 0\n");
        assert_eq!(parse(&zero).unwrap().config.staleness, Duration::ZERO);
        let hour = format!("staleness: 3600\n{DISCOVERY}");
        assert_eq!(
            parse(&hour).unwrap().config.staleness,
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn cache_ttls_are_read_and_default_to_yaces_behaviour_for_lists() {
        assert_eq!(parse(DISCOVERY).unwrap().config.cache, Cache::default());
        let text = format!(
            "cache:\n  resources: 600\n  listMetrics: 300\n  account: 0\n  datapoints: false\n{DISCOVERY}"
        );
        let loaded = parse(&text).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(
            loaded.config.cache,
            Cache {
                resources: Duration::from_secs(600),
                list_metrics: Duration::from_secs(300),
                account: Duration::ZERO,
                datapoints: false,
            }
        );
        let typo = format!("cache:\n  listMetric: 600\n{DISCOVERY}");
        assert_eq!(
            warnings_of(&typo),
            ["cache.listMetric: unknown key, ignored (line 2)"]
        );
    }

    #[test]
    fn include_untagged_is_off_unless_a_discovery_job_asks_for_it() {
        let config = parse(DISCOVERY).unwrap().config;
        assert!(!config.discovery_jobs[0].include_untagged);
        let text = DISCOVERY.replace(
            "      regions: [eu-west-1, us-east-1]",
            "      regions: [eu-west-1, us-east-1]\n      includeUntagged: true",
        );
        let loaded = parse(&text).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert!(loaded.config.discovery_jobs[0].include_untagged);
    }

    #[test]
    fn metric_fields_fall_back_to_the_job_then_to_yace_defaults() {
        let loaded = parse(DISCOVERY).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let config = &loaded.config;
        assert_eq!(config.sts_region.as_deref(), Some("eu-west-1"));
        let job = &config.discovery_jobs[0];
        assert_eq!(job.namespace, "AWS/SQS");
        assert_eq!(job.exported_tags, ["team"]);
        assert_eq!(job.search_tags[0].0, "env");
        assert!(job.search_tags[0].1.is_match("prod"));
        let sent = &job.metrics[0];
        assert_eq!(
            (
                sent.statistics.as_slice(),
                sent.period,
                sent.length,
                sent.delay,
                sent.nil_to_zero
            ),
            (&["Sum".to_owned()][..], 60, 300, 120, true)
        );
        let age = &job.metrics[1];
        assert_eq!(
            (
                age.statistics.as_slice(),
                age.period,
                age.length,
                age.delay,
                age.nil_to_zero
            ),
            (&["Maximum".to_owned()][..], 300, 300, 120, false)
        );
        let custom = &config.custom_namespace_jobs[0];
        assert_eq!(
            (custom.name.as_str(), custom.namespace.as_str()),
            ("app", "MyApp")
        );
        assert_eq!(custom.metrics[0].statistics, ["Average"]);
        assert_eq!(
            custom.roles,
            [Role {
                role_arn: Some("arn:aws:iam::123456789012:role/reader".into()),
                external_id: Some("abc".into()),
            }]
        );
    }

    #[test]
    fn unknown_keys_are_warnings_naming_their_path_and_line() {
        let text = LAMBDA.replace("period: 60", "period: 60\n        colour: blue");
        assert_eq!(
            warnings_of(&text),
            [format!(
                "static[0].metrics[0].colour: unknown key, ignored (line {})",
                line_of(&text, "colour")
            )]
        );
        // Static jobs have no job-level metric fields in YACE: there they are unknown keys.
        let text = LAMBDA.replace(
            "    regions: [eu-west-1]",
            "    regions: [eu-west-1]\n    period: 600",
        );
        assert_eq!(
            warnings_of(&text),
            [format!(
                "static[0].period: unknown key, ignored (line {})",
                line_of(&text, "period: 600")
            )]
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
        assert!(
            message.ends_with(&format!("(line {})", line_of(&text, "sixty"))),
            "{message}"
        );
    }

    #[test]
    fn length_below_period_is_rejected_with_its_path_and_line() {
        let text = LAMBDA.replace("length: 120", "length: 30");
        assert_eq!(
            error_of(&text),
            format!(
                "static[0].metrics[0].length: length (30) is smaller than period (60), which leaves gaps in the data (line {})",
                line_of(&text, "length: 30")
            )
        );
        let text = DISCOVERY.replace("      length: 300", "      length: 30");
        assert_eq!(
            error_of(&text),
            format!(
                "discovery.jobs[0].metrics[0].length: length (30) is smaller than period (60), which leaves gaps in the data (line {})",
                line_of(&text, "- name: NumberOfMessagesSent")
            )
        );
    }

    #[test]
    fn a_missing_key_is_reported_at_its_parent() {
        let text = LAMBDA.replace("    namespace: AWS/Lambda\n", "");
        assert_eq!(
            error_of(&text),
            format!(
                "static[0].namespace: is required and must not be empty (line {})",
                line_of(&text, "- name: image-processor")
            )
        );
        let text = LAMBDA.replace("regions: [eu-west-1]", "regions: []");
        assert_eq!(
            error_of(&text),
            format!(
                "static[0].regions: at least one region is required (line {})",
                line_of(&text, "regions")
            )
        );
    }

    #[test]
    fn unknown_api_version_is_rejected_and_missing_one_warns() {
        let text = LAMBDA.replace("v1alpha1", "v2");
        assert_eq!(
            error_of(&text),
            "apiVersion: unknown value \"v2\", expected \"v1alpha1\" (line 2)"
        );
        let text = LAMBDA.replace("apiVersion: v1alpha1\n", "");
        assert_eq!(
            warnings_of(&text),
            ["apiVersion: missing; v1alpha1 is assumed"]
        );
    }

    #[test]
    fn discovery_type_must_be_a_supported_namespace_not_an_alias() {
        let text = DISCOVERY.replace("- type: AWS/SQS", "- type: sqs");
        assert_eq!(
            error_of(&text),
            format!(
                "discovery.jobs[0].type: use the namespace \"AWS/SQS\" rather than the alias \"sqs\" (line {})",
                line_of(&text, "type: sqs")
            )
        );
        let text = DISCOVERY.replace("- type: AWS/SQS", "- type: AWS/Nope");
        assert!(
            error_of(&text)
                .starts_with("discovery.jobs[0].type: \"AWS/Nope\" is not a supported service")
        );
    }

    #[test]
    fn exported_tags_must_name_a_discovery_job_namespace() {
        let text = DISCOVERY.replace("    AWS/SQS: [team]", "    AWS/Lambda: [team]");
        assert_eq!(
            error_of(&text),
            format!(
                "discovery.exportedTagsOnMetrics.AWS/Lambda: matches no discovery job's type (line {})",
                line_of(&text, "AWS/Lambda: [team]")
            )
        );
        let text = DISCOVERY.replace("    AWS/SQS: [team]", "    sqs: [team]");
        assert!(
            error_of(&text).contains("use the namespace \"AWS/SQS\" rather than the alias \"sqs\"")
        );
    }

    #[test]
    fn discovery_metrics_need_statistics_on_the_metric_or_the_job() {
        let text = DISCOVERY.replace("      statistics: [Sum]\n", "");
        assert_eq!(
            error_of(&text),
            format!(
                "discovery.jobs[0].metrics[0].statistics: at least one statistic is required, on the metric or its job (line {})",
                line_of(&text, "- name: NumberOfMessagesSent")
            )
        );
    }

    #[test]
    fn an_invalid_search_tag_pattern_is_rejected() {
        let text = DISCOVERY.replace("^(dev|prod)$", "(unclosed");
        let message = error_of(&text);
        assert!(
            message.starts_with(
                "discovery.jobs[0].searchTags[0].value: not a valid regular expression"
            ),
            "{message}"
        );
    }

    #[test]
    fn deprecated_keys_warn() {
        let text = DISCOVERY
            .replace(
                "      delay: 120",
                "      delay: 120\n      roundingPeriod: 60",
            )
            .replace(
                "          period: 300",
                "          period: 300\n          delay: 60",
            );
        assert_eq!(
            warnings_of(&text),
            [
                format!(
                    "discovery.jobs[0].roundingPeriod: deprecated and ignored: the window is always rounded to the metric's period (line {})",
                    line_of(&text, "roundingPeriod")
                ),
                format!(
                    "discovery.jobs[0].metrics[1].delay: ignored: YACE never honoured a metric-level delay; set it on the job (line {})",
                    line_of(&text, "delay: 60")
                ),
            ]
        );
    }

    #[test]
    fn statistics_and_periods_cloudwatch_rejects_are_skipped_with_a_warning() {
        let text = LAMBDA.replace(
            "period: 60\n        length: 120",
            "period: 45\n        length: 90",
        );
        let loaded = parse(&text).unwrap();
        assert!(
            loaded.config.static_jobs[0].metrics[0]
                .statistics
                .is_empty()
        );
        assert_eq!(
            loaded.warnings[0].to_string(),
            format!(
                "static[0].metrics[0].period: CloudWatch accepts 1, 5, 10, 20, 30 or a multiple of 60, not 45; metric Invocations is skipped (line {})",
                line_of(&text, "period: 45")
            )
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
            warnings_of(&text),
            [format!(
                "static[0].metrics[0].statistics: \"Avg\" is not a CloudWatch statistic; it is skipped (line {})",
                line_of(&text, "Avg")
            )]
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
            warnings_of(&text),
            [format!(
                "static[0].dimensions[0].name: \"Größe\" cannot be a Prometheus label name; the label is left out (line {})",
                line_of(&text, "Größe")
            )]
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
        assert!(loaded.warnings[0].to_string().starts_with(
            "static[0].metrics[0]: \"aws_lambda_calls#total_sum\" is not a valid Prometheus metric name; statistic Sum is skipped"
        ));
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
            format!(
                "static[0].metrics[0].exportAllDataPoints: needs addCloudwatchTimestamp: true (line {})",
                line_of(&text, "exportAllDataPoints")
            )
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
            format!(
                "static[0].roles[0].externalId: needs a roleArn (line {})",
                line_of(&text, "externalId")
            )
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
