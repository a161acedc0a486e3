//! `/metrics` encode time and peak memory at 1k, 10k and 100k series, against the targets of
//! issue 3: at 100k series, one encode within 100 ms and a peak RSS within 64 MB.
//!
//! What a running exporter holds at its peak is modelled step by step. Series are built as a
//! discovery scrape builds them (YACE's labels: `name` ARN, `dimension_FunctionName`, `region`,
//! `account_id`, `tag_*`; one label set per function through the job's [`Interner`], shared by
//! all its metrics). A first scrape's snapshot is served behind [`Latest`] while a second
//! scrape's series, kept to the end as the scheduler keeps a job's last good series, are built
//! into the next snapshot; that one replaces the first, and the server's own
//! [`Exposition::stream`] writes the whole `/metrics` body, self-metrics included, chunk by
//! chunk as hyper sends it, the bytes counted and dropped. Both formats are timed, each as the
//! median of [`RUNS`] bodies (uncompressed: gzip is the scraper's choice), and the slower one is
//! held to the target. Not in the figures: AWS clients, the Tokio runtime, HTTP connections,
//! and the CloudWatch queries a scrape builds on its way to the series.
//!
//! Peak RSS is the process's `ru_maxrss` after building and encoding; the peak reached by the
//! end of building the second snapshot is printed beside it, to show which step sets it. Each
//! size runs in a child process (this binary again, with [`CHILD`] and the size) so that one
//! size's peak does not carry over into the next. Needs neither AWS nor the emulator:
//! `cargo bench -p exporter --bench exposition`.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use exporter::labels::Interner;
use exporter::scrape::Series;
use exporter::self_metrics::SelfMetrics;
use exporter::server::Exposition;
use exporter::snapshot::{Latest, Snapshot};
use prometheus_client::registry::Registry;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// Encodes per size; the median is reported.
const RUNS: usize = 9;
/// The targets, which apply at the largest size.
const ENCODE_TARGET_MS: f64 = 100.0;
const RSS_TARGET_MB: f64 = 64.0;
/// Tells this binary to measure one size and print
/// `series text_bytes text_ms openmetrics_ms build_peak_rss_kib peak_rss_kib`.
const CHILD: &str = "--measure-series";

/// Lambda metric families as YACE names them; each function has one series in each.
const FAMILIES: [&str; 10] = [
    "aws_lambda_invocations_sum",
    "aws_lambda_errors_sum",
    "aws_lambda_throttles_sum",
    "aws_lambda_duration_average",
    "aws_lambda_duration_maximum",
    "aws_lambda_duration_p99",
    "aws_lambda_concurrent_executions_maximum",
    "aws_lambda_iterator_age_maximum",
    "aws_lambda_dead_letter_errors_sum",
    "aws_lambda_async_events_received_sum",
];

/// `count` series: every family for `count / 10` functions, in the order a scrape yields them
/// (metric by metric), with the labels a discovery job with four exported tags gives them,
/// through one interner as the job's scrape does.
fn series(count: usize) -> Vec<Series> {
    let functions = count / FAMILIES.len();
    let mut interner = Interner::default();
    let mut series = Vec::with_capacity(count);
    for (family, name) in FAMILIES.iter().enumerate() {
        let name = interner.text(name);
        for function in 0..functions {
            let function_name = format!("image-resize-prod-{function:06}");
            let labels = [
                (
                    "name",
                    format!("arn:aws:lambda:eu-west-1:123456789012:function:{function_name}"),
                ),
                ("dimension_FunctionName", function_name),
                ("region", "eu-west-1".to_owned()),
                ("account_id", "123456789012".to_owned()),
                ("tag_env", "prod".to_owned()),
                ("tag_team", format!("team-{}", function % 13)),
                ("tag_service", format!("image-pipeline-{}", function % 97)),
                ("tag_cost_center", format!("cc-{}", 1000 + function % 41)),
            ];
            series.push(Series {
                name: name.clone(),
                labels: interner.labels(labels),
                // Varied values, so that float formatting costs what it does for real data.
                value: (function * (family + 1)) as f64 * 0.37,
                // YACE's default: no CloudWatch timestamp on the sample.
                timestamp: None,
            });
        }
    }
    series
}

/// The process's peak resident set size so far, in KiB (Linux reports `ru_maxrss` in KiB).
#[allow(unsafe_code)]
fn peak_rss_kib() -> libc::c_long {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size of `rusage`, which getrusage fills.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    assert_eq!(status, 0, "getrusage(RUSAGE_SELF) cannot fail");
    // SAFETY: zero-initialised, then filled by the successful call; all fields are integers.
    unsafe { usage.assume_init() }.ru_maxrss
}

/// The median time of `RUNS` `/metrics` bodies, read to the end as hyper reads them, and the
/// body's size.
fn time_render(exposition: &Exposition, openmetrics: bool) -> (f64, usize) {
    let mut times = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let (_, body) = exposition
            .stream(openmetrics, false)
            .expect("the self-metrics encode");
        bytes = body
            .map(|chunk| chunk.expect("an uncompressed body cannot fail").len())
            .sum();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[RUNS / 2], bytes)
}

/// One size, in this process: scrape, serve that snapshot while the next scrape's is built,
/// render `/metrics` from the next in both formats, report.
fn measure(count: usize) {
    let latest = Arc::new(Latest::default());
    let first = series(count);
    latest.replace(Snapshot::new(first.iter().cloned()));
    // The next scrape's series replace the first's as the scheduler's last good ones; the
    // served snapshot still holds the first's strings.
    drop(first);
    let kept = series(count);
    let next = Snapshot::new(kept.iter().cloned());
    // Which of building and encoding sets the peak tells where memory work would pay off.
    let build_peak = peak_rss_kib();
    latest.replace(next);
    assert_eq!(latest.get().series_count(), count);
    let mut own = Registry::default();
    SelfMetrics::default().register(&mut own);
    let exposition = Exposition { own, latest };

    let (text_ms, bytes) = time_render(&exposition, false);
    let (openmetrics_ms, _) = time_render(&exposition, true);
    println!(
        "{count} {bytes} {text_ms} {openmetrics_ms} {build_peak} {}",
        peak_rss_kib()
    );
    // Held to the end, as the scheduler holds them.
    drop(kept);
}

struct Row {
    series: usize,
    bytes: usize,
    text_ms: f64,
    openmetrics_ms: f64,
    build_rss_mb: f64,
    rss_mb: f64,
}

/// Runs one size in a child process and reads back its figures.
fn child(count: usize) -> Row {
    let exe = std::env::current_exe().expect("the benchmark knows its own path");
    let output = Command::new(exe)
        .arg(CHILD)
        .arg(count.to_string())
        .output()
        .expect("the benchmark can run itself");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "measuring {count} series failed: {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    let [
        series,
        bytes,
        text_ms,
        openmetrics_ms,
        build_rss_kib,
        rss_kib,
    ] = fields[..]
    else {
        panic!("unexpected report from the child: {stdout:?}");
    };
    let number = |field: &str| -> f64 { field.parse().expect("the child prints numbers") };
    Row {
        series: series.parse().expect("the child prints the count"),
        bytes: bytes.parse().expect("the child prints the size"),
        text_ms: number(text_ms),
        openmetrics_ms: number(openmetrics_ms),
        build_rss_mb: number(build_rss_kib) / 1024.0,
        rss_mb: number(rss_kib) / 1024.0,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == CHILD) {
        let count = args
            .get(position + 1)
            .and_then(|count| count.parse().ok())
            .expect("a series count follows the flag");
        measure(count);
        return;
    }

    // One size at a time: the machine is shared and the sizes must not compete for it.
    let rows: Vec<Row> = SIZES.into_iter().map(child).collect();
    let largest = SIZES[SIZES.len() - 1];
    println!(
        "/metrics streamed from the next snapshot while the kept series are held, in one process"
    );
    println!("(not a full exporter: no AWS clients, runtime or connections); build MB = peak with");
    println!("the served snapshot, the kept series and the next snapshot all alive");
    println!(
        "encode = median of {RUNS} streamed bodies, classic text (YACE's) and OpenMetrics; MB = 2^20 bytes"
    );
    println!(
        "{:>8} {:>8} {:>9} {:>9} {:>9} {:>10}  targets at {largest} series",
        "series", "body MB", "text ms", "OM ms", "RSS MB", "build MB"
    );
    for row in &rows {
        let targets = if row.series == largest {
            let met = |ok: bool| if ok { "met" } else { "NOT met" };
            let slower = row.text_ms.max(row.openmetrics_ms);
            format!(
                "encode <= {ENCODE_TARGET_MS} ms: {}; RSS <= {RSS_TARGET_MB} MB: {}",
                met(slower <= ENCODE_TARGET_MS),
                met(row.rss_mb <= RSS_TARGET_MB)
            )
        } else {
            "-".to_owned()
        };
        println!(
            "{:>8} {:>8.1} {:>9.1} {:>9.1} {:>9.1} {:>10.1}  {targets}",
            row.series,
            row.bytes as f64 / (1024.0 * 1024.0),
            row.text_ms,
            row.openmetrics_ms,
            row.rss_mb,
            row.build_rss_mb,
        );
    }
}
