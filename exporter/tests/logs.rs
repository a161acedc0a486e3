//! Logs jobs against a real local AWS emulator (moto server): Lambda-shaped START/END/REPORT
//! and timeout lines and the processor's JSON error lines are put into log groups, the job
//! scrapes them through [`exporter::logs::Client`] (FilterLogEvents), and the exposition is
//! compared whole. Also pins what the emulator's FilterLogEvents does with patterns it cannot
//! read. Logs Insights is in `logs_mocks.rs`: the emulator ignores `filter` and `stats`.
//! Needs moto in `.venv/`; `scripts/test` installs it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use devstack::Moto;
use devstack::moto::REGION;
use exporter::config::{self, LogsJob};
use exporter::logs::{self, Logs, Tally, Window};
use exporter::scrape::Context;
use exporter::snapshot::{self, Snapshot};

const PROCESSOR: &str = "/aws/lambda/image-processor-dev-processor";
const THUMBS: &str = "/aws/lambda/thumbs";

struct Emulator {
    _moto: Moto,
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    sdk: aws_sdk_cloudwatchlogs::Client,
    client: logs::Client,
}

impl Emulator {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let moto = Moto::start(dir.path(), None).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let config = runtime.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .endpoint_url(moto.endpoint())
                .region(Region::new(REGION))
                .credentials_provider(Credentials::new("test", "test", None, None, "logs"))
                .load(),
        );
        Emulator {
            client: logs::Client::new(&config, REGION, Default::default()),
            sdk: aws_sdk_cloudwatchlogs::Client::new(&config),
            runtime,
            _moto: moto,
            _dir: dir,
        }
    }

    /// Creates `group` with one stream holding `lines`, each at its time in milliseconds.
    fn put(&self, group: &str, lines: &[(i64, String)]) {
        self.runtime.block_on(async {
            self.sdk
                .create_log_group()
                .log_group_name(group)
                .send()
                .await
                .unwrap();
            self.sdk
                .create_log_stream()
                .log_group_name(group)
                .log_stream_name("2026/12/01/[$LATEST]0123456789abcdef")
                .send()
                .await
                .unwrap();
            let events = lines.iter().map(|(time, message)| {
                InputLogEvent::builder()
                    .timestamp(*time)
                    .message(message)
                    .build()
                    .unwrap()
            });
            self.sdk
                .put_log_events()
                .log_group_name(group)
                .log_stream_name("2026/12/01/[$LATEST]0123456789abcdef")
                .set_log_events(Some(events.collect()))
                .send()
                .await
                .unwrap();
        });
    }
}

/// A whole second some minutes ago, so the emulator takes the events as recent.
fn base() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(now - 1800).unwrap() * 1000
}

fn at(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap())
}

/// One invocation as Lambda logs it: START, the function's own lines, END, REPORT.
fn invocation(id: &str, own: &[String], init_ms: Option<f64>, used_mb: u32) -> Vec<String> {
    let mut lines = vec![format!("START RequestId: {id} Version: $LATEST\n")];
    lines.extend(own.iter().cloned());
    lines.push(format!("END RequestId: {id}\n"));
    let init = init_ms.map_or(String::new(), |ms| format!("Init Duration: {ms:.2} ms\t"));
    lines.push(format!(
        "REPORT RequestId: {id}\tDuration: 812.43 ms\tBilled Duration: 813 ms\tMemory Size: 1024 MB\tMax Memory Used: {used_mb} MB\t{init}\n"
    ));
    lines
}

/// A line of the processor's JSON log format for a failed record.
fn failed(id: &str, error_type: &str) -> String {
    format!(
        "{{\"timestamp\":\"2026-12-01T22:00:00.000000Z\",\"level\":\"WARN\",\"requestId\":\"{id}\",\"messageId\":\"m-{id}\",\"outcome\":\"failed\",\"errorType\":\"{error_type}\",\"error\":\"cannot decode the image\",\"message\":\"record unreadable\"}}\n"
    )
}

fn stamped(start: i64, lines: Vec<String>) -> Vec<(i64, String)> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| (start + i64::try_from(i).unwrap() * 10, line))
        .collect()
}

#[test]
fn moto_filters_terms_and_phrases_but_reads_alternatives_as_match_all() {
    let emulator = Emulator::start();
    let t = base();
    let mut lines = invocation("a1", &[failed("a1", "Corrupt")], Some(120.0), 80);
    lines.push("2026-12-01T22:00:03.012Z a2 Task timed out after 3.00 seconds\n".into());
    let lines = stamped(t, lines);
    emulator.put(PROCESSOR, &lines);
    let window = Window {
        start_ms: t,
        end_ms: t + 60_000,
    };
    let read = |pattern: &str| {
        emulator
            .runtime
            .block_on(
                emulator
                    .client
                    .filter_log_events(PROCESSOR, pattern, window),
            )
            .unwrap()
    };
    assert_eq!(read("errorType"), [failed("a1", "Corrupt")]);
    assert_eq!(read("\"Task timed out after\""), [lines[4].1.clone()]);
    // On AWS this reads REPORT and timeout lines only; the emulator returns every line,
    // which is why the job checks each line again itself.
    assert_eq!(read(logs::lambda::FILTER_PATTERN).len(), lines.len());
    // The window's end is exclusive: a window ending at the first line reads nothing.
    let before = Window {
        start_ms: t - 60_000,
        end_ms: t,
    };
    let none = emulator
        .runtime
        .block_on(
            emulator
                .client
                .filter_log_events(PROCESSOR, "errorType", before),
        )
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}

const CONFIG: &str = r#"
apiVersion: v1alpha1
logs:
  jobs:
    - name: functions
      regions: [us-east-1]
      logGroups: [/aws/lambda/image-processor-dev-processor, /aws/lambda/thumbs]
      delay: 60
      lambda: true
      patterns:
        - name: failed_records
          match: errorType
          groupBy: errorType
"#;

#[test]
fn lambda_and_processor_lines_in_the_emulator_become_the_exact_exposition() {
    let emulator = Emulator::start();
    let t = base();
    // The job starts at t + 60 s: its first window opens at t (the 60 s delay).
    let mut processor = stamped(
        t - 5_000,
        invocation("early", &[failed("early", "Corrupt")], Some(300.0), 99),
    );
    processor.extend(stamped(
        t + 1_000,
        invocation(
            "p1",
            &[failed("p1", "Corrupt"), failed("p1", "TooLarge")],
            Some(221.95),
            187,
        ),
    ));
    processor.extend(stamped(
        t + 120_000,
        invocation("p2", &[failed("p2", "Corrupt")], None, 201),
    ));
    processor.push((
        t + 200_000,
        "2026-12-01T22:03:20.000Z p3 Task timed out after 30.00 seconds\n".into(),
    ));
    processor.extend(stamped(t + 200_010, invocation("p3", &[], None, 240)));
    // Exactly at the end of the second window (t + 300 s): counted by the third.
    processor.extend(stamped(
        t + 300_000,
        invocation("p4", &[failed("p4", "S3Unavailable")], Some(180.0), 150),
    ));
    emulator.put(PROCESSOR, &processor);
    emulator.put(
        THUMBS,
        &stamped(t + 30_000, invocation("t1", &[], Some(95.5), 60)),
    );

    let job: LogsJob = config::parse(CONFIG).unwrap().config.logs_jobs.remove(0);
    let context = Context {
        region: REGION,
        account_id: "123456789012",
        account_alias: None,
        snake_case: false,
    };
    let tally = Tally::default();
    let scrape = |now: i64| {
        let series = emulator
            .runtime
            .block_on(logs::logs_job(
                &job,
                context,
                &emulator.client,
                &tally,
                at(now),
            ))
            .unwrap();
        let mut text = String::new();
        snapshot::encode(&mut text, Arc::new(Snapshot::new(series)), true).unwrap();
        text
    };
    let first = scrape(t + 60_000);
    assert!(first.contains("aws_logs_lambda_invocations_total{account_id=\"123456789012\",log_group=\"/aws/lambda/thumbs\",name=\"functions\",region=\"us-east-1\"} 0.0\n"), "{first}");
    let second = scrape(t + 360_000);
    let labels = |group: &str| {
        format!(
            "account_id=\"123456789012\",log_group=\"{group}\",name=\"functions\",region=\"us-east-1\""
        )
    };
    let (p, th) = (labels(PROCESSOR), labels(THUMBS));
    let expected = format!(
        "# HELP aws_logs_lambda_cold_starts Lambda invocations that began with an init phase (REPORT lines with an Init Duration)\n\
         # TYPE aws_logs_lambda_cold_starts counter\n\
         aws_logs_lambda_cold_starts_total{{{p}}} 1.0\n\
         aws_logs_lambda_cold_starts_total{{{th}}} 1.0\n\
         # HELP aws_logs_lambda_init_duration_seconds Seconds Lambda spent in init phases, summed over cold starts\n\
         # TYPE aws_logs_lambda_init_duration_seconds counter\n\
         aws_logs_lambda_init_duration_seconds_total{{{p}}} 0.22195\n\
         aws_logs_lambda_init_duration_seconds_total{{{th}}} 0.0955\n\
         # HELP aws_logs_lambda_invocations Lambda invocations finished (REPORT lines) in the log group\n\
         # TYPE aws_logs_lambda_invocations counter\n\
         aws_logs_lambda_invocations_total{{{p}}} 3.0\n\
         aws_logs_lambda_invocations_total{{{th}}} 1.0\n\
         # HELP aws_logs_lambda_max_memory_used_bytes Largest Max Memory Used of the last window with invocations, in bytes (Lambda MB as 10^6)\n\
         # TYPE aws_logs_lambda_max_memory_used_bytes gauge\n\
         aws_logs_lambda_max_memory_used_bytes{{{p}}} 240000000.0\n\
         aws_logs_lambda_max_memory_used_bytes{{{th}}} 60000000.0\n\
         # HELP aws_logs_lambda_memory_size_bytes Memory Size of the function in the last window with invocations, in bytes (Lambda MB as 10^6)\n\
         # TYPE aws_logs_lambda_memory_size_bytes gauge\n\
         aws_logs_lambda_memory_size_bytes{{{p}}} 1024000000.0\n\
         aws_logs_lambda_memory_size_bytes{{{th}}} 1024000000.0\n\
         # HELP aws_logs_lambda_timeouts Lambda invocations that timed out (Task timed out lines)\n\
         # TYPE aws_logs_lambda_timeouts counter\n\
         aws_logs_lambda_timeouts_total{{{p}}} 1.0\n\
         aws_logs_lambda_timeouts_total{{{th}}} 0.0\n\
         # HELP aws_logs_matched_lines Log lines matching the job's pattern, by pattern and grouped field value\n\
         # TYPE aws_logs_matched_lines counter\n\
         aws_logs_matched_lines_total{{account_id=\"123456789012\",error_type=\"Corrupt\",log_group=\"{PROCESSOR}\",name=\"functions\",pattern=\"failed_records\",region=\"us-east-1\"}} 2.0\n\
         aws_logs_matched_lines_total{{account_id=\"123456789012\",error_type=\"TooLarge\",log_group=\"{PROCESSOR}\",name=\"functions\",pattern=\"failed_records\",region=\"us-east-1\"}} 1.0\n"
    );
    assert_eq!(second, expected);

    let third = scrape(t + 660_000);
    assert!(
        third.contains(&format!("aws_logs_lambda_invocations_total{{{p}}} 4.0\n")),
        "{third}"
    );
    assert!(
        third.contains(&format!("aws_logs_lambda_cold_starts_total{{{p}}} 2.0\n")),
        "{third}"
    );
    assert!(third.contains("error_type=\"S3Unavailable\""), "{third}");
}
