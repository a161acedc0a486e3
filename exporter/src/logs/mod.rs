//! Logs jobs: counters read from CloudWatch Logs groups, which CloudWatch metrics do not have.
//! For Lambda groups, invocations, cold starts and their init time, timeouts, and memory used
//! against memory size, from Lambda's REPORT and timeout lines ([`lambda`]); for any group,
//! the lines matching a pattern, optionally by the value of one JSON field.
//!
//! Each scrape counts one window of event times, `[end of the last window, now - delay)`, and
//! adds it to totals kept across scrapes, so a line is counted once: windows meet exactly,
//! a failed window is retried whole by the next scrape, and `delay` leaves time for ingestion.
//! The first scrape opens the first window, so counters start at zero when the job starts (or
//! is reloaded). A job reads through [`Logs`] only: FilterLogEvents brings every matching line
//! here to be counted, Logs Insights `stats` queries count at AWS.

pub mod client;
pub mod lambda;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::MetricType;

pub use client::{Client, Logs, Row, Window};

use crate::Error;
use crate::config::{LogsJob, MAX_GROUPS_PER_QUERY, Pattern, QueryMode};
use crate::labels::Interner;
use crate::scrape::{Context, Series, context_labels};

/// Every series name a logs job produces, its type and help text. Counters are named without
/// `_total`, which the encoder appends.
const SERIES: [(&str, MetricType, &str); 7] = [
    (
        INVOCATIONS,
        MetricType::Counter,
        "Lambda invocations finished (REPORT lines) in the log group",
    ),
    (
        COLD_STARTS,
        MetricType::Counter,
        "Lambda invocations that began with an init phase (REPORT lines with an Init Duration)",
    ),
    (
        INIT_SECONDS,
        MetricType::Counter,
        "Seconds Lambda spent in init phases, summed over cold starts",
    ),
    (
        TIMEOUTS,
        MetricType::Counter,
        "Lambda invocations that timed out (Task timed out lines)",
    ),
    (
        MAX_MEMORY,
        MetricType::Gauge,
        "Largest Max Memory Used of the last window with invocations, in bytes (Lambda MB as 10^6)",
    ),
    (
        MEMORY_SIZE,
        MetricType::Gauge,
        "Memory Size of the function in the last window with invocations, in bytes (Lambda MB as 10^6)",
    ),
    (
        MATCHED,
        MetricType::Counter,
        "Log lines matching the job's pattern, by pattern and grouped field value",
    ),
];
const INVOCATIONS: &str = "aws_logs_lambda_invocations";
const COLD_STARTS: &str = "aws_logs_lambda_cold_starts";
const INIT_SECONDS: &str = "aws_logs_lambda_init_duration_seconds";
const TIMEOUTS: &str = "aws_logs_lambda_timeouts";
const MAX_MEMORY: &str = "aws_logs_lambda_max_memory_used_bytes";
const MEMORY_SIZE: &str = "aws_logs_lambda_memory_size_bytes";
const MATCHED: &str = "aws_logs_matched_lines";

/// The type and help text of a logs series, for the encoder; `None` for any other name.
pub fn descriptor(name: &str) -> Option<(MetricType, &'static str)> {
    SERIES
        .iter()
        .find(|(known, _, _)| *known == name)
        .map(|(_, kind, help)| (*kind, *help))
}

/// What one job × region × role has counted since it started.
#[derive(Debug, Default)]
pub struct Tally(Mutex<Totals>);

#[derive(Debug, Default, Clone)]
struct Totals {
    /// Where the next window starts, in milliseconds; none before the first scrape.
    cursor: Option<i64>,
    groups: BTreeMap<String, Group>,
}

/// One log group's figures, for one window or summed over many.
#[derive(Debug, Default, Clone, PartialEq)]
struct Group {
    invocations: f64,
    cold_starts: f64,
    init_seconds: f64,
    timeouts: f64,
    max_memory_bytes: Option<f64>,
    memory_size_bytes: Option<f64>,
    /// (pattern name, grouped field value or "") -> lines.
    matched: BTreeMap<(String, String), f64>,
}

impl Group {
    fn add(&mut self, window: Group) {
        self.invocations += window.invocations;
        self.cold_starts += window.cold_starts;
        self.init_seconds += window.init_seconds;
        self.timeouts += window.timeouts;
        if window.invocations > 0.0 {
            self.max_memory_bytes = window.max_memory_bytes.or(self.max_memory_bytes);
            self.memory_size_bytes = window.memory_size_bytes.or(self.memory_size_bytes);
        }
        for (key, lines) in window.matched {
            *self.matched.entry(key).or_default() += lines;
        }
    }

    fn report(&mut self, report: &lambda::Report) {
        self.invocations += 1.0;
        if let Some(init) = report.init_duration_seconds {
            self.cold_starts += 1.0;
            self.init_seconds += init;
        }
        let larger = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.max_memory_bytes = larger(self.max_memory_bytes, report.max_memory_used_bytes);
        self.memory_size_bytes = larger(self.memory_size_bytes, report.memory_size_bytes);
    }
}

/// Scrapes one logs job in one region: counts the window that ends `delay` before `now`,
/// adds it to `tally` and returns the totals. On an error nothing is added and the window
/// stays open, to be counted whole by the next scrape.
pub async fn logs_job(
    job: &LogsJob,
    context: Context<'_>,
    logs: &impl Logs,
    tally: &Tally,
    now: SystemTime,
) -> Result<Vec<Series>, Error> {
    let end = window_end(now, job.delay);
    let start = lock(tally).cursor.unwrap_or(end);
    let mut counted = BTreeMap::new();
    if start < end {
        let window = Window {
            start_ms: start,
            end_ms: end,
        };
        counted = match job.mode {
            QueryMode::Filter => filter_window(job, logs, window).await?,
            QueryMode::Insights => insights_window(job, logs, window).await?,
        };
    }
    let mut totals = lock(tally);
    totals.cursor = Some(end.max(start));
    for group in &job.log_groups {
        let window = counted.remove(group).unwrap_or_default();
        totals.groups.entry(group.clone()).or_default().add(window);
    }
    Ok(series(job, context, &totals))
}

fn lock(tally: &Tally) -> std::sync::MutexGuard<'_, Totals> {
    tally.0.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// `now - delay`, floored to a whole second (Logs Insights takes seconds), in milliseconds.
fn window_end(now: SystemTime, delay: u32) -> i64 {
    let end = now
        .checked_sub(Duration::from_secs(delay.into()))
        .unwrap_or(UNIX_EPOCH);
    let seconds = end.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    i64::try_from(seconds).unwrap_or(i64::MAX / 1000) * 1000
}

/// Counts a window with FilterLogEvents: one narrowed read per group for Lambda's lines and
/// one per pattern. Every line is checked here again, so a pattern the service reads more
/// loosely (as the local emulator does) cannot inflate a count.
async fn filter_window(
    job: &LogsJob,
    logs: &impl Logs,
    window: Window,
) -> Result<BTreeMap<String, Group>, Error> {
    let mut counted = BTreeMap::new();
    for group in &job.log_groups {
        let mut figures = Group::default();
        if job.lambda {
            for line in logs
                .filter_log_events(group, lambda::FILTER_PATTERN, window)
                .await?
            {
                match lambda::read(&line) {
                    Some(lambda::Line::Report(report)) => figures.report(&report),
                    Some(lambda::Line::Timeout) => figures.timeouts += 1.0,
                    None => {}
                }
            }
        }
        for pattern in &job.patterns {
            let lines = logs
                .filter_log_events(group, &pattern.matcher.filter_pattern(), window)
                .await?;
            for line in lines.iter().filter(|line| pattern.matcher.matches(line)) {
                let value = pattern
                    .group_by
                    .as_ref()
                    .map(|(field, _)| json_field(line, field))
                    .unwrap_or_default();
                *figures
                    .matched
                    .entry((pattern.name.clone(), value))
                    .or_default() += 1.0;
            }
        }
        counted.insert(group.clone(), figures);
    }
    Ok(counted)
}

/// The value of a top-level field of a JSON line, as text; "" when the line is not JSON or
/// lacks the field.
fn json_field(line: &str, field: &str) -> String {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(line.trim()) else {
        return String::new();
    };
    match object.get(field) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The Insights query for Lambda's figures, per log group. Lambda's REPORT lines carry the
/// discovered fields `@maxMemoryUsed` and `@memorySize` (bytes) and, on a cold start,
/// `@initDuration` (milliseconds); `count` of a field counts the lines that have it.
const LAMBDA_QUERY: &str = "filter @type = \"REPORT\" or @message like \"Task timed out after\" \
| stats count(@maxMemoryUsed) as invocations, count(@initDuration) as coldStarts, \
sum(@initDuration) as initMs, max(@maxMemoryUsed) as maxMemoryUsed, max(@memorySize) as memorySize, \
sum(strcontains(@message, \"Task timed out after\")) as timeouts by @log";

/// The Insights query counting one pattern's lines per log group (and field value).
fn pattern_query(pattern: &Pattern) -> String {
    let by = match &pattern.group_by {
        Some((field, _)) => format!("@log, `{field}`"),
        None => "@log".to_owned(),
    };
    format!(
        "filter @message like \"{}\" | stats count(*) as lines by {by}",
        pattern.matcher.text()
    )
}

/// Counts a window with Logs Insights: one query for Lambda's figures and one per pattern,
/// each over up to 50 groups at a time.
async fn insights_window(
    job: &LogsJob,
    logs: &impl Logs,
    window: Window,
) -> Result<BTreeMap<String, Group>, Error> {
    let timeout = Duration::from_secs(job.query_timeout.into());
    let mut counted: BTreeMap<String, Group> = BTreeMap::new();
    for groups in job.log_groups.chunks(MAX_GROUPS_PER_QUERY) {
        if job.lambda {
            for row in logs.insights(groups, LAMBDA_QUERY, window, timeout).await? {
                let Some(group) = row_group(&row) else {
                    continue;
                };
                let number = |name: &str| field(&row, name).and_then(|v| v.parse::<f64>().ok());
                let figures = counted.entry(group).or_default();
                figures.invocations += number("invocations").unwrap_or(0.0);
                figures.cold_starts += number("coldStarts").unwrap_or(0.0);
                figures.init_seconds += field(&row, "initMs")
                    .and_then(lambda::milliseconds_as_seconds)
                    .unwrap_or(0.0);
                figures.timeouts += number("timeouts").unwrap_or(0.0);
                figures.max_memory_bytes = number("maxMemoryUsed");
                figures.memory_size_bytes = number("memorySize");
            }
        }
        for pattern in &job.patterns {
            let query = pattern_query(pattern);
            for row in logs.insights(groups, &query, window, timeout).await? {
                let Some(group) = row_group(&row) else {
                    continue;
                };
                let value = pattern
                    .group_by
                    .as_ref()
                    .and_then(|(name, _)| field(&row, name))
                    .unwrap_or_default()
                    .to_owned();
                let lines = field(&row, "lines").and_then(|v| v.parse::<f64>().ok());
                *counted
                    .entry(group)
                    .or_default()
                    .matched
                    .entry((pattern.name.clone(), value))
                    .or_default() += lines.unwrap_or(0.0);
            }
        }
    }
    Ok(counted)
}

fn field<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.as_str())
}

/// The log group of a result row: `@log` is `<account id>:<group name>`.
fn row_group(row: &Row) -> Option<String> {
    let log = field(row, "@log")?;
    Some(match log.split_once(':') {
        Some((account, group)) if account.chars().all(|c| c.is_ascii_digit()) => group.to_owned(),
        _ => log.to_owned(),
    })
}

/// The totals as series: Lambda's for every group of a Lambda job (zero until counted), and a
/// pattern's for every value seen (zero for a pattern without `groupBy`).
fn series(job: &LogsJob, context: Context<'_>, totals: &Totals) -> Vec<Series> {
    let context = context_labels(context, &[]);
    let mut interner = Interner::default();
    let mut out = Vec::new();
    for (group, figures) in &totals.groups {
        let labels = |extra: Vec<(String, String)>| {
            let mut labels = vec![
                ("name".to_owned(), job.name.clone()),
                ("log_group".to_owned(), group.clone()),
            ];
            labels.extend(extra);
            labels.extend(context.iter().cloned());
            labels
        };
        let mut push = |name: &str, labels: Vec<(String, String)>, value: f64| {
            out.push(Series {
                name: interner.text(name),
                labels: interner.labels(labels),
                value,
                timestamp: None,
            });
        };
        if job.lambda {
            push(INVOCATIONS, labels(vec![]), figures.invocations);
            push(COLD_STARTS, labels(vec![]), figures.cold_starts);
            push(INIT_SECONDS, labels(vec![]), figures.init_seconds);
            push(TIMEOUTS, labels(vec![]), figures.timeouts);
            if let Some(bytes) = figures.max_memory_bytes {
                push(MAX_MEMORY, labels(vec![]), bytes);
            }
            if let Some(bytes) = figures.memory_size_bytes {
                push(MEMORY_SIZE, labels(vec![]), bytes);
            }
        }
        for pattern in &job.patterns {
            let mut seen = figures
                .matched
                .iter()
                .filter(|((name, _), _)| *name == pattern.name)
                .peekable();
            if seen.peek().is_none() && pattern.group_by.is_none() {
                push(MATCHED, labels(pattern_labels(pattern, None)), 0.0);
            }
            for ((_, value), lines) in seen {
                push(
                    MATCHED,
                    labels(pattern_labels(pattern, Some(value))),
                    *lines,
                );
            }
        }
    }
    out
}

fn pattern_labels(pattern: &Pattern, value: Option<&str>) -> Vec<(String, String)> {
    let mut labels = vec![("pattern".to_owned(), pattern.name.clone())];
    if let Some((_, label)) = &pattern.group_by {
        labels.push((label.clone(), value.unwrap_or_default().to_owned()));
    }
    labels
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::config::{Matcher, Role};

    /// Answers FilterLogEvents with every event of the group in the window, whatever the
    /// pattern (as the emulator does for the patterns it cannot read), and Insights with
    /// scripted rows; fails the first `failures` calls.
    #[derive(Default)]
    struct FakeLogs {
        events: Vec<(&'static str, i64, String)>,
        rows: Vec<Row>,
        failures: AtomicUsize,
        calls: Mutex<Vec<(String, String, Window)>>,
    }

    impl FakeLogs {
        fn fail(&self) -> Result<(), Error> {
            let left = self.failures.load(Ordering::SeqCst);
            if left > 0 {
                self.failures.store(left - 1, Ordering::SeqCst);
                return Err(Error::Aws {
                    api: "FilterLogEvents",
                    message: "ThrottlingException".into(),
                });
            }
            Ok(())
        }
    }

    impl Logs for FakeLogs {
        async fn filter_log_events(
            &self,
            group: &str,
            pattern: &str,
            window: Window,
        ) -> Result<Vec<String>, Error> {
            self.fail()?;
            self.calls
                .lock()
                .unwrap()
                .push((group.into(), pattern.into(), window));
            Ok(self
                .events
                .iter()
                .filter(|(g, t, _)| *g == group && (window.start_ms..window.end_ms).contains(t))
                .map(|(_, _, message)| message.clone())
                .collect())
        }

        async fn insights(
            &self,
            groups: &[String],
            query: &str,
            window: Window,
            _timeout: Duration,
        ) -> Result<Vec<Row>, Error> {
            self.fail()?;
            self.calls
                .lock()
                .unwrap()
                .push((groups.join(","), query.into(), window));
            Ok(self.rows.clone())
        }
    }

    const GROUP: &str = "/aws/lambda/image-processor";
    const T0: u64 = 1_800_000_000;

    fn job(mode: QueryMode) -> LogsJob {
        LogsJob {
            name: "processor".into(),
            regions: vec!["eu-west-1".into()],
            roles: vec![Role::default()],
            log_groups: vec![GROUP.into()],
            mode,
            delay: 60,
            query_timeout: 30,
            lambda: true,
            patterns: vec![Pattern {
                name: "errors".into(),
                matcher: Matcher::Term("errorType".into()),
                group_by: Some(("errorType".into(), "error_type".into())),
            }],
        }
    }

    const CONTEXT: Context = Context {
        region: "eu-west-1",
        account_id: "123456789012",
        account_alias: None,
        snake_case: false,
    };

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn report(init: Option<f64>, used: u32) -> String {
        let init = init.map_or(String::new(), |ms| format!("Init Duration: {ms} ms\t"));
        format!(
            "REPORT RequestId: r\tDuration: 10.0 ms\tBilled Duration: 11 ms\tMemory Size: 512 MB\tMax Memory Used: {used} MB\t{init}"
        )
    }

    fn values(series: &[Series]) -> Vec<(String, Vec<String>, f64)> {
        series
            .iter()
            .map(|s| {
                let extra = s
                    .labels
                    .iter()
                    .filter(|(k, _)| *k == "pattern" || *k == "error_type")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                (s.name.to_string(), extra, s.value)
            })
            .collect()
    }

    fn get<'a>(series: &'a [Series], name: &str, error_type: Option<&str>) -> Option<&'a Series> {
        series.iter().find(|s| {
            &*s.name == name
                && error_type
                    .is_none_or(|t| s.labels.iter().any(|(k, v)| k == "error_type" && v == t))
        })
    }

    #[tokio::test]
    async fn windows_meet_exactly_so_every_line_is_counted_once() {
        let ms = |seconds: u64| i64::try_from(seconds * 1000).unwrap();
        // The first window opens at T0 - 60 (the delay): lines before it predate the job.
        let fake = FakeLogs {
            events: vec![
                (GROUP, ms(T0 - 61), report(Some(300.0), 100)),
                (GROUP, ms(T0 - 60), report(Some(250.0), 120)),
                (GROUP, ms(T0 + 100), report(None, 140)),
                // Exactly at the second window's end: the third window's line.
                (GROUP, ms(T0 + 240), report(None, 90)),
                (
                    GROUP,
                    ms(T0 + 250),
                    "x Task timed out after 3.00 seconds".into(),
                ),
                (
                    GROUP,
                    ms(T0 + 260),
                    "START RequestId: r Version: $LATEST".into(),
                ),
            ],
            ..FakeLogs::default()
        };
        let (job, tally) = (job(QueryMode::Filter), Tally::default());
        let first = logs_job(&job, CONTEXT, &fake, &tally, at(T0))
            .await
            .unwrap();
        assert!(
            fake.calls.lock().unwrap().is_empty(),
            "the first scrape opens the window"
        );
        assert_eq!(get(&first, INVOCATIONS, None).unwrap().value, 0.0);
        assert!(get(&first, MAX_MEMORY, None).is_none());

        let second = logs_job(&job, CONTEXT, &fake, &tally, at(T0 + 300))
            .await
            .unwrap();
        let third = logs_job(&job, CONTEXT, &fake, &tally, at(T0 + 600))
            .await
            .unwrap();
        let windows: Vec<Window> = fake.calls.lock().unwrap().iter().map(|c| c.2).collect();
        assert_eq!(
            windows,
            [
                Window {
                    start_ms: ms(T0 - 60),
                    end_ms: ms(T0 + 240)
                },
                Window {
                    start_ms: ms(T0 - 60),
                    end_ms: ms(T0 + 240)
                },
                Window {
                    start_ms: ms(T0 + 240),
                    end_ms: ms(T0 + 540)
                },
                Window {
                    start_ms: ms(T0 + 240),
                    end_ms: ms(T0 + 540)
                },
            ]
        );
        let lambda = |series: &[Series]| -> Vec<f64> {
            [
                INVOCATIONS,
                COLD_STARTS,
                INIT_SECONDS,
                TIMEOUTS,
                MAX_MEMORY,
                MEMORY_SIZE,
            ]
            .iter()
            .map(|name| get(series, name, None).unwrap().value)
            .collect()
        };
        assert_eq!(lambda(&second), [2.0, 1.0, 0.25, 0.0, 140e6, 512e6]);
        // Counters grow; the memory gauges are the last window's.
        assert_eq!(lambda(&third), [3.0, 1.0, 0.25, 1.0, 90e6, 512e6]);
    }

    #[tokio::test]
    async fn a_failed_window_is_counted_whole_by_the_next_scrape() {
        let fake = FakeLogs {
            events: vec![(GROUP, 1_800_000_100_000, report(Some(100.0), 50))],
            ..FakeLogs::default()
        };
        let (job, tally) = (job(QueryMode::Filter), Tally::default());
        logs_job(&job, CONTEXT, &fake, &tally, at(T0))
            .await
            .unwrap();
        fake.failures.store(1, Ordering::SeqCst);
        assert!(
            logs_job(&job, CONTEXT, &fake, &tally, at(T0 + 300))
                .await
                .is_err()
        );
        let retried = logs_job(&job, CONTEXT, &fake, &tally, at(T0 + 600))
            .await
            .unwrap();
        assert_eq!(get(&retried, COLD_STARTS, None).unwrap().value, 1.0);
        let last = fake.calls.lock().unwrap().last().unwrap().2;
        assert_eq!(
            last.start_ms, 1_799_999_940_000,
            "the failed window's start"
        );
    }

    #[tokio::test]
    async fn pattern_lines_are_checked_here_and_counted_by_field_value() {
        let line = |level: &str, error_type: &str| {
            format!(
                "{{\"timestamp\":\"2026-12-01T22:00:00Z\",\"level\":\"{level}\",\"requestId\":\"r\",\"errorType\":\"{error_type}\",\"message\":\"record unreadable\"}}"
            )
        };
        let fake = FakeLogs {
            events: vec![
                (GROUP, 1_800_000_001_000, line("WARN", "Corrupt")),
                (GROUP, 1_800_000_002_000, line("WARN", "Corrupt")),
                (GROUP, 1_800_000_003_000, line("ERROR", "S3Unavailable")),
                // The fake returns it (the emulator would too); it lacks the term.
                (
                    GROUP,
                    1_800_000_004_000,
                    "{\"level\":\"INFO\",\"message\":\"done\"}".into(),
                ),
            ],
            ..FakeLogs::default()
        };
        let mut job = job(QueryMode::Filter);
        job.lambda = false;
        let tally = Tally::default();
        logs_job(&job, CONTEXT, &fake, &tally, at(T0))
            .await
            .unwrap();
        let series = logs_job(&job, CONTEXT, &fake, &tally, at(T0 + 300))
            .await
            .unwrap();
        assert_eq!(
            values(&series),
            [
                (
                    MATCHED.into(),
                    vec!["pattern=errors".into(), "error_type=Corrupt".into()],
                    2.0
                ),
                (
                    MATCHED.into(),
                    vec!["pattern=errors".into(), "error_type=S3Unavailable".into()],
                    1.0
                ),
            ]
        );
        assert_eq!(fake.calls.lock().unwrap()[0].1, "errorType");
    }

    #[tokio::test]
    async fn insights_rows_become_the_same_totals() {
        let row = |fields: &[(&str, &str)]| -> Row {
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let log = format!("123456789012:{GROUP}");
        let fake = FakeLogs {
            rows: vec![row(&[
                ("@log", &log),
                ("invocations", "5"),
                ("coldStarts", "2"),
                ("initMs", "450.5"),
                ("maxMemoryUsed", "187000000"),
                ("memorySize", "1024000000"),
                ("timeouts", "1"),
                ("errorType", "Corrupt"),
                ("lines", "3"),
            ])],
            ..FakeLogs::default()
        };
        let (job, tally) = (job(QueryMode::Insights), Tally::default());
        logs_job(&job, CONTEXT, &fake, &tally, at(T0))
            .await
            .unwrap();
        let series = logs_job(&job, CONTEXT, &fake, &tally, at(T0 + 300))
            .await
            .unwrap();
        let got = |name, error_type| get(&series, name, error_type).unwrap().value;
        assert_eq!(got(INVOCATIONS, None), 5.0);
        assert_eq!(got(COLD_STARTS, None), 2.0);
        assert_eq!(got(INIT_SECONDS, None), 0.4505);
        assert_eq!(got(TIMEOUTS, None), 1.0);
        assert_eq!(got(MAX_MEMORY, None), 187e6);
        assert_eq!(got(MATCHED, Some("Corrupt")), 3.0);
        let calls = fake.calls.lock().unwrap();
        let queries: Vec<&str> = calls.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(
            queries,
            [
                LAMBDA_QUERY,
                "filter @message like \"errorType\" | stats count(*) as lines by @log, `errorType`"
            ]
        );
    }

    #[tokio::test]
    async fn series_carry_the_job_group_and_context_labels_and_counters_are_typed() {
        let mut job = job(QueryMode::Filter);
        job.patterns[0].group_by = None;
        let series = logs_job(
            &job,
            CONTEXT,
            &FakeLogs::default(),
            &Tally::default(),
            at(T0),
        )
        .await
        .unwrap();
        let matched = get(&series, MATCHED, None).unwrap();
        let labels: Vec<(&str, &str)> = matched.labels.iter().collect();
        assert_eq!(
            labels,
            [
                ("name", "processor"),
                ("log_group", GROUP),
                ("pattern", "errors"),
                ("region", "eu-west-1"),
                ("account_id", "123456789012"),
            ]
        );
        assert!(matches!(
            descriptor(MATCHED),
            Some((MetricType::Counter, _))
        ));
        assert!(matches!(
            descriptor(MAX_MEMORY),
            Some((MetricType::Gauge, _))
        ));
        assert!(descriptor("aws_lambda_errors_sum").is_none());
    }
}
