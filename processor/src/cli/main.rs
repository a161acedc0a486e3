//! `processor-cli`: the Lambda's engine on the command line. `local` renders files and folders
//! into an output folder; `backfill` processes the objects of the source bucket whose variants
//! are missing or stale, here or (`--via-queue`) by the deployed function. Both go through
//! [`processor::handler::process_object`], the path every record of an invocation takes, so
//! their outputs, keys, metadata and errors are the Lambda's.
//!
//! Images run on a worker per core, each image on one thread (the pipeline is single-threaded),
//! which is how a workstation's cores are used while the Lambda runs one image at a time.
//!
//! Exit codes: 0 when every object went through, 1 when some failed, 2 when the command could
//! not run (arguments, configuration, listing).

mod backfill;
mod env_file;
mod local;
mod queue;

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use processor::config::Config;
use tracing::level_filters::LevelFilter;

#[derive(Debug, Parser)]
#[command(
    name = "processor-cli",
    about = "The image processor's engine on the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render image files (or every file in folders, `-` for standard input) into an output
    /// folder, with the variants and output names the Lambda would use.
    Local(local::LocalArgs),
    /// Process every object of SOURCE_BUCKET (under SOURCE_PREFIX) whose variants are missing or
    /// were made from an older upload.
    Backfill(backfill::BackfillArgs),
}

/// Where the function's configuration comes from.
#[derive(Debug, Args)]
struct ConfigSource {
    /// A file of NAME=VALUE lines with the Lambda's variables (SOURCE_BUCKET, VARIANTS, ...),
    /// read instead of the environment.
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
}

impl ConfigSource {
    /// The configuration from the file or the environment; `fallback` fills variables neither
    /// sets.
    fn load(&self, fallback: &[(&str, &str)]) -> Result<Config, Failure> {
        let variables = match &self.env_file {
            Some(path) => Some(env_file::read(path)?),
            None => None,
        };
        let lookup = |name: &str| {
            let set = match &variables {
                Some(variables) => variables.get(name).cloned(),
                None => std::env::var(name).ok(),
            };
            set.or_else(|| {
                fallback
                    .iter()
                    .find(|(fallback, _)| *fallback == name)
                    .map(|(_, value)| (*value).to_owned())
            })
        };
        Ok(Config::from_lookup(lookup)?)
    }
}

/// Why a command could not run at all (exit code 2). Per-object failures are not these: they
/// are reported per object and counted.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Processor(#[from] processor::Error),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("the runtime cannot start: {0}")]
    Runtime(std::io::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The handler's JSON log lines only when asked for: the commands print their own report.
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(LevelFilter::OFF);
    let logs = processor::logging::subscriber(std::io::stderr, level);
    if tracing::subscriber::set_global_default(logs).is_err() {
        eprintln!("processor-cli: logging could not be set up");
    }
    let result = match cli.command {
        Command::Local(args) => local::run(args),
        Command::Backfill(args) => backfill::run(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(failure) => {
            eprintln!("processor-cli: {failure}");
            ExitCode::from(2)
        }
    }
}

/// The deadline of one object: Lambda's longest timeout. Nothing local takes this long; the
/// bound keeps a hung S3 call from holding a worker for ever.
const PER_IMAGE: Duration = Duration::from_secs(15 * 60);

/// A worker per core.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// A runtime of `workers` threads: each image runs on the worker that polls it, start to end.
fn runtime(workers: usize) -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(Failure::Runtime)
}

/// Runs `work` on every item, at most `limit` at once, handing each result to `done` as it
/// comes.
async fn bounded<I, T, F>(
    items: impl IntoIterator<Item = I>,
    limit: usize,
    work: impl Fn(I) -> F,
    mut done: impl FnMut(T),
) where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut running = tokio::task::JoinSet::new();
    let mut items = items.into_iter();
    loop {
        while running.len() < limit.max(1) {
            let Some(item) = items.next() else { break };
            running.spawn(work(item));
        }
        match running.join_next().await {
            Some(Ok(result)) => done(result),
            // The pipeline turns decoder panics into errors; any other is a bug to surface.
            Some(Err(error)) => std::panic::resume_unwind(error.into_panic()),
            None => break,
        }
    }
}

/// An object's error on one line: a decoder's message may hold line breaks.
fn described(error: &processor::Error) -> String {
    let text = error.to_string();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}: {text}", error.error_type().as_str())
}

/// `1 worker`, `2 workers`.
fn workers(count: usize) -> String {
    match count {
        1 => "1 worker".to_owned(),
        _ => format!("{count} workers"),
    }
}

/// `1234567 B` as `1.23 MB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}
