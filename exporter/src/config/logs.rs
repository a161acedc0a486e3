//! The `logs:` section, this exporter's own addition to YACE's format: jobs that count lines of
//! CloudWatch Logs groups. Raw serde shapes and their validation into [`LogsJob`]; a file
//! without the section reads exactly as before.

use serde::Deserialize;

use super::raw::{RawRole, invalid, regions, required, roles};
use super::{ConfigError, Role};
use crate::naming;

/// Seconds a window ends before the scrape, for CloudWatch Logs' ingestion delay.
const DEFAULT_DELAY: i64 = 120;
/// Seconds a Logs Insights query may run before it is stopped and the window retried.
const DEFAULT_QUERY_TIMEOUT: i64 = 60;
/// StartQuery takes at most 50 log groups.
pub const MAX_GROUPS_PER_QUERY: usize = 50;

/// Labels every logs series carries; a `groupBy` label may not take one of these names.
const FIXED_LABELS: [&str; 6] = [
    "name",
    "log_group",
    "pattern",
    "region",
    "account_id",
    "account_alias",
];

#[derive(Deserialize)]
#[serde(expecting = "a mapping with jobs")]
pub(super) struct RawLogs {
    #[serde(default)]
    jobs: Vec<RawLogsJob>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a logs job: a mapping with name, regions, logGroups, lambda, patterns")]
struct RawLogsJob {
    name: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    roles: Vec<RawRole>,
    #[serde(default)]
    log_groups: Vec<String>,
    query: Option<String>,
    delay: Option<i64>,
    query_timeout: Option<i64>,
    #[serde(default)]
    lambda: bool,
    #[serde(default)]
    patterns: Vec<RawPattern>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(expecting = "a pattern: a mapping with name, match, groupBy")]
struct RawPattern {
    name: Option<String>,
    #[serde(rename = "match")]
    matcher: Option<String>,
    group_by: Option<String>,
}

impl RawLogs {
    pub(super) fn validate(self) -> Result<Vec<LogsJob>, ConfigError> {
        self.jobs
            .into_iter()
            .enumerate()
            .map(|(index, job)| job.validate(&format!("logs.jobs[{index}]")))
            .collect()
    }

    pub(super) fn has_jobs(&self) -> bool {
        !self.jobs.is_empty()
    }
}

impl RawLogsJob {
    fn validate(self, key: &str) -> Result<LogsJob, ConfigError> {
        let name = required(self.name, &format!("{key}.name"))?;
        let regions = regions(self.regions, key)?;
        let roles = roles(self.roles, key)?;
        if self.log_groups.is_empty() {
            return Err(invalid(
                format!("{key}.logGroups"),
                "at least one log group is required",
            ));
        }
        for (index, group) in self.log_groups.iter().enumerate() {
            if group.is_empty() {
                return Err(invalid(
                    format!("{key}.logGroups[{index}]"),
                    "must not be empty",
                ));
            }
        }
        let mode = match self.query.as_deref() {
            None | Some("filter") => QueryMode::Filter,
            Some("insights") => QueryMode::Insights,
            Some(other) => {
                return Err(invalid(
                    format!("{key}.query"),
                    format!("unknown value {other:?}, expected \"filter\" or \"insights\""),
                ));
            }
        };
        if !self.lambda && self.patterns.is_empty() {
            return Err(invalid(
                format!("{key}.patterns"),
                "the job counts nothing: set lambda: true or give at least one pattern",
            ));
        }
        let delay = whole_seconds(self.delay, DEFAULT_DELAY, 0, &format!("{key}.delay"))?;
        let query_timeout = whole_seconds(
            self.query_timeout,
            DEFAULT_QUERY_TIMEOUT,
            1,
            &format!("{key}.queryTimeout"),
        )?;
        let mut patterns = Vec::with_capacity(self.patterns.len());
        for (index, pattern) in self.patterns.into_iter().enumerate() {
            let pattern = pattern.validate(&format!("{key}.patterns[{index}]"))?;
            if patterns.iter().any(|p: &Pattern| p.name == pattern.name) {
                return Err(invalid(
                    format!("{key}.patterns[{index}].name"),
                    format!("{:?} is already the name of another pattern", pattern.name),
                ));
            }
            patterns.push(pattern);
        }
        Ok(LogsJob {
            name,
            regions,
            roles,
            log_groups: self.log_groups,
            mode,
            delay,
            query_timeout,
            lambda: self.lambda,
            patterns,
        })
    }
}

impl RawPattern {
    fn validate(self, key: &str) -> Result<Pattern, ConfigError> {
        let name = required(self.name, &format!("{key}.name"))?;
        let text = required(self.matcher, &format!("{key}.match"))?;
        let matcher = Matcher::parse(&text).ok_or_else(|| {
            invalid(
                format!("{key}.match"),
                format!(
                    "{text:?} is neither one plain term (letters, digits, _ . : / without spaces) nor a quoted phrase without quotes inside"
                ),
            )
        })?;
        let group_by = match self.group_by.filter(|field| !field.is_empty()) {
            None => None,
            Some(field) => {
                let label = naming::prom_string(&field);
                let plain = field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !plain || !naming::is_valid_label_name(&label) {
                    return Err(invalid(
                        format!("{key}.groupBy"),
                        format!(
                            "{field:?} must be a top-level JSON field name of letters, digits and _"
                        ),
                    ));
                }
                if FIXED_LABELS.contains(&label.as_str()) {
                    return Err(invalid(
                        format!("{key}.groupBy"),
                        format!(
                            "{field:?} would become the label {label:?}, which every logs series already carries"
                        ),
                    ));
                }
                Some((field, label))
            }
        };
        Ok(Pattern {
            name,
            matcher,
            group_by,
        })
    }
}

/// A number of seconds of at least `min`; unset is `default`.
fn whole_seconds(
    value: Option<i64>,
    default: i64,
    min: i64,
    key: &str,
) -> Result<u32, ConfigError> {
    let value = value.unwrap_or(default);
    u32::try_from(value)
        .ok()
        .filter(|&v| i64::from(v) >= min && v <= 86_400)
        .ok_or_else(|| {
            invalid(
                key,
                format!("must be between {min} and 86400 seconds, got {value}"),
            )
        })
}

/// A validated logs job.
#[derive(Debug, Clone)]
pub struct LogsJob {
    /// Becomes the `name` label of every series of the job.
    pub name: String,
    pub regions: Vec<String>,
    pub roles: Vec<Role>,
    pub log_groups: Vec<String>,
    pub mode: QueryMode,
    /// Seconds each window ends before the scrape: lines arriving later than this are missed.
    pub delay: u32,
    /// Seconds a Logs Insights query may take before it is stopped (Insights only).
    pub query_timeout: u32,
    /// Whether to read Lambda's START/END/REPORT and timeout lines.
    pub lambda: bool,
    pub patterns: Vec<Pattern>,
}

/// How a logs job reads its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryMode {
    /// FilterLogEvents: every matching line is fetched and counted here; billed per call.
    Filter,
    /// Logs Insights `stats`: AWS counts; billed per GB scanned.
    Insights,
}

/// Lines of a log group to count, by the value of a JSON field when `group_by` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// Becomes the `pattern` label.
    pub name: String,
    pub matcher: Matcher,
    /// The top-level JSON field whose value labels the count, and that label's name.
    pub group_by: Option<(String, String)>,
}

/// What a line must contain: the two kinds of filter pattern that mean the same to
/// FilterLogEvents, to Logs Insights' `like "..."` and to a substring test here, so the count
/// does not depend on where it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// One term without spaces (`ERROR`, `errorType`).
    Term(String),
    /// A quoted phrase (`"Task timed out"`), written without its quotes here.
    Phrase(String),
}

impl Matcher {
    /// `ERROR` or `"Task timed out"`; `None` for anything FilterLogEvents would read as
    /// another kind of pattern (JSON, space-delimited, `?` alternatives, exclusions).
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            let fine = !inner.is_empty() && !inner.contains(['"', '\\', '\n']);
            return fine.then(|| Matcher::Phrase(inner.to_owned()));
        }
        let fine = text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '/'));
        fine.then(|| Matcher::Term(text.to_owned()))
    }

    /// The text a matching line contains.
    pub fn text(&self) -> &str {
        match self {
            Matcher::Term(text) | Matcher::Phrase(text) => text,
        }
    }

    pub fn matches(&self, line: &str) -> bool {
        line.contains(self.text())
    }

    /// The FilterLogEvents pattern: the term, or the phrase in quotes.
    pub fn filter_pattern(&self) -> String {
        match self {
            Matcher::Term(text) => text.clone(),
            Matcher::Phrase(text) => format!("\"{text}\""),
        }
    }
}
