//! YACE's command line: the same flags, spelled with one dash or two, the same defaults, and
//! the `verify-config` and `version` subcommands. [`run`] wires the parts together; `main`
//! only turns its result into an exit code.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use prometheus_client::registry::Registry;
use tokio::sync::mpsc;

use crate::scheduler::{Scheduler, Settings};
use crate::self_metrics::SelfMetrics;
use crate::shard::Shard;
use crate::snapshot::Latest;
use crate::{Error, config, plan, server};

#[derive(Debug, Parser)]
#[command(
    name = "exporter",
    version,
    about = "CloudWatch metrics for Prometheus, a drop-in replacement for YACE"
)]
pub struct Cli {
    /// Address to serve /metrics on; `:5000` means every interface.
    #[arg(
        long = "listen-address",
        env = "listen-address",
        default_value = ":5000"
    )]
    pub listen_address: String,
    /// The YACE configuration file.
    #[arg(
        long = "config.file",
        env = "config.file",
        default_value = "config.yml"
    )]
    pub config_file: PathBuf,
    /// The Prometheus exporters' web configuration file (TLS, basic auth, headers, rate
    /// limit); without it, plain HTTP open to all.
    #[arg(long = "web.config.file", env = "web.config.file")]
    pub web_config_file: Option<PathBuf>,
    /// Seconds between two scrapes of CloudWatch.
    #[arg(long = "scraping-interval", env = "scraping-interval", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub scraping_interval: u64,
    /// Queries per GetMetricData call (at most 500, the AWS limit).
    #[arg(long = "metrics-per-query", env = "metrics-per-query", default_value_t = 500,
          value_parser = clap::value_parser!(u16).range(1..=500))]
    pub metrics_per_query: u16,
    /// Spell label names derived from dimensions and tags in snake case.
    #[arg(long = "labels-snake-case", num_args = 0..=1, require_equals = true,
          default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub labels_snake_case: bool,
    /// Run as shard K of N replicas (`2/4`): scrape only this shard's part of the jobs ×
    /// regions × roles, split by a stable hash. Every replica reads the same file.
    #[arg(long = "shard", env = "shard", default_value = "1/1")]
    pub shard: Shard,
    /// Seconds one AWS request may take (connecting, sending, reading) before it is abandoned
    /// as timed out; a timed-out request is retried once.
    #[arg(long = "aws.timeout", env = "aws.timeout", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub aws_timeout: u64,
    /// Least severe log level written.
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub log_level: LogLevel,
    /// Log line format.
    #[arg(long = "log.format", value_enum, default_value = "json")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub inert: InertFlags,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// YACE flags that are accepted, so existing command lines start, but change nothing yet.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Accepted for YACE compatibility, without effect yet")]
pub struct InertFlags {
    #[arg(long = "fips", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    fips: Option<bool>,
    #[arg(long = "cloudwatch-concurrency", value_parser = positive())]
    cloudwatch_concurrency: Option<u32>,
    #[arg(long = "cloudwatch-concurrency.per-api-limit-enabled", num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    per_api_limit_enabled: Option<bool>,
    #[arg(long = "cloudwatch-concurrency.list-metrics-limit", value_parser = positive())]
    list_metrics_limit: Option<u32>,
    #[arg(long = "cloudwatch-concurrency.get-metric-data-limit", value_parser = positive())]
    get_metric_data_limit: Option<u32>,
    #[arg(long = "cloudwatch-concurrency.get-metric-statistics-limit", value_parser = positive())]
    get_metric_statistics_limit: Option<u32>,
    #[arg(long = "tag-concurrency", value_parser = positive())]
    tag_concurrency: Option<u32>,
    #[arg(long = "enable-feature", value_delimiter = ',')]
    enable_feature: Vec<String>,
    #[arg(long = "profiling.enabled", num_args = 0..=1, require_equals = true,
          default_missing_value = "true")]
    profiling_enabled: Option<bool>,
}

/// YACE refuses a concurrency limit of 0 at start-up.
fn positive() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1..)
}

impl InertFlags {
    /// The flags given on the command line.
    fn given(&self) -> Vec<&'static str> {
        [
            ("-fips", self.fips.is_some()),
            (
                "-cloudwatch-concurrency",
                self.cloudwatch_concurrency.is_some(),
            ),
            (
                "-cloudwatch-concurrency.per-api-limit-enabled",
                self.per_api_limit_enabled.is_some(),
            ),
            (
                "-cloudwatch-concurrency.list-metrics-limit",
                self.list_metrics_limit.is_some(),
            ),
            (
                "-cloudwatch-concurrency.get-metric-data-limit",
                self.get_metric_data_limit.is_some(),
            ),
            (
                "-cloudwatch-concurrency.get-metric-statistics-limit",
                self.get_metric_statistics_limit.is_some(),
            ),
            ("-tag-concurrency", self.tag_concurrency.is_some()),
            ("-enable-feature", !self.enable_feature.is_empty()),
            ("-profiling.enabled", self.profiling_enabled.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read and validate the configuration file, then exit (0 when it is valid).
    #[command(visible_alias = "vc")]
    VerifyConfig {
        #[arg(long = "config.file")]
        config_file: Option<PathBuf>,
    },
    /// Print the version and exit.
    #[command(visible_alias = "v")]
    Version,
    /// Print, per job, the CloudWatch API calls of one scrape and of a month at
    /// -scraping-interval, and the monthly cost at list prices; resources are discovered
    /// (the tagging API and ListMetrics are asked once; GetMetricData is never sent).
    Plan {
        #[arg(long = "config.file")]
        config_file: Option<PathBuf>,
        /// Ask AWS nothing: assume every job finds --assume-resources resources.
        #[arg(long = "offline", num_args = 0..=1, require_equals = true,
              default_value_t = false, default_missing_value = "true",
              action = clap::ArgAction::Set)]
        offline: bool,
        /// Resources each job is assumed to find with --offline.
        #[arg(long = "assume-resources", default_value_t = 10)]
        assume_resources: usize,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

impl Cli {
    /// Parses YACE-style arguments: `-config.file x` is read as `--config.file x`.
    pub fn parse_yace_style(args: impl IntoIterator<Item = OsString>) -> Self {
        Cli::parse_from(
            args.into_iter()
                .enumerate()
                .map(|(position, arg)| match arg.to_str() {
                    Some(flag)
                        if position > 0
                            && flag.len() > 2
                            && flag.starts_with('-')
                            && !flag.starts_with("--") =>
                    {
                        OsString::from(format!("-{flag}"))
                    }
                    _ => arg,
                }),
        )
    }
}

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Some(Command::Version) => {
            println!("exporter {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(Command::VerifyConfig { ref config_file }) => {
            let path = config_file.as_ref().unwrap_or(&cli.config_file);
            load_config(path)?;
            println!("{}: the configuration is valid", path.display());
            Ok(())
        }
        Some(Command::Plan {
            ref config_file,
            offline,
            assume_resources,
        }) => {
            let path = config_file.as_ref().unwrap_or(&cli.config_file);
            let config = load_config(path)?;
            let inventory = if offline {
                plan::Inventory::Assumed(assume_resources)
            } else {
                plan::Inventory::Discovered
            };
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .timeout_config(timeouts(Duration::from_secs(cli.aws_timeout)))
                .load()
                .await;
            let lines = plan::plan(&config, inventory, &sdk, cli.metrics_per_query.into()).await?;
            let interval = Duration::from_secs(cli.scraping_interval);
            print!(
                "{}",
                plan::render(&lines, interval, &config.cache, inventory)
            );
            if !config.logs_jobs.is_empty() {
                println!(
                    "logs jobs are not in the plan: FilterLogEvents and Logs Insights are billed apart (see the README)"
                );
            }
            Ok(())
        }
        None => serve(cli).await,
    }
}

fn load_config(path: &std::path::Path) -> Result<config::Config, Error> {
    let loaded = config::load(path)?;
    for warning in &loaded.warnings {
        tracing::warn!(file = %path.display(), "{warning}");
    }
    Ok(loaded.config)
}

async fn serve(cli: Cli) -> Result<(), Error> {
    for flag in cli.inert.given() {
        tracing::warn!(
            flag,
            "accepted for YACE compatibility; it has no effect yet"
        );
    }
    let config = load_config(&cli.config_file)?;
    let guard = Arc::new(server::Guard::open(cli.web_config_file.clone())?);
    let listener = server::bind(&cli.listen_address).await?;
    tracing::info!(address = %cli.listen_address, config = %cli.config_file.display(), "serving /metrics");

    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts(Duration::from_secs(cli.aws_timeout)))
        .load()
        .await;
    let metrics = Arc::new(SelfMetrics::default());
    let latest = Arc::new(Latest::default());
    let mut own = Registry::default();
    metrics.register(&mut own);
    let (reload, mut reloads) = mpsc::channel(1);
    let exposition = Arc::new(server::Exposition {
        own,
        latest: latest.clone(),
    });
    let start = |config| {
        let (sdk, metrics, latest) = (sdk.clone(), metrics.clone(), latest.clone());
        let settings = Settings {
            queries_per_call: cli.metrics_per_query.into(),
            snake_case: cli.labels_snake_case,
            shard: cli.shard,
        };
        let interval = Duration::from_secs(cli.scraping_interval);
        tokio::spawn(async move {
            let scheduler = Scheduler::new(config, &sdk, settings, metrics).await;
            Arc::new(scheduler).run(latest, interval).await;
        })
    };

    let mut scraping = start(config);
    let mut server = tokio::spawn(server::serve(listener, exposition, reload, guard));
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .expect("installing a SIGHUP handler");
    loop {
        let answer = tokio::select! {
            Some(answer) = reloads.recv() => Some(answer),
            _ = hangups.recv() => None,
            () = shutdown() => break,
            _ = &mut server => break,
        };
        // A bad file is refused with its message; the running configuration keeps serving.
        let outcome = load_config(&cli.config_file).map(|config| {
            scraping.abort();
            scraping = start(config);
        });
        match &outcome {
            Ok(()) => tracing::info!(config = %cli.config_file.display(), "configuration reloaded"),
            Err(error) => {
                tracing::error!(%error, "reload refused; the running configuration stays")
            }
        }
        if let Some(answer) = answer {
            let _ = answer.send(outcome.map_err(|error| error.to_string()));
        }
    }
    tracing::info!("shutting down");
    Ok(())
}

/// Every AWS request is bounded by `limit`: the connection, each attempt, and the whole
/// operation (the exporter makes its own retries, each a new operation).
fn timeouts(limit: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(limit.min(Duration::from_secs(10)))
        .operation_attempt_timeout(limit)
        .operation_timeout(limit)
        .build()
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Installs the log subscriber the flags ask for; logs go to stderr.
pub fn init_logging(level: LogLevel, format: LogFormat) {
    let level = match level {
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error => tracing::Level::ERROR,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Logfmt => builder.with_ansi(false).init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::parse_yace_style(
            std::iter::once("exporter")
                .chain(args.iter().copied())
                .map(OsString::from),
        )
    }

    #[test]
    fn defaults_are_yace_defaults() {
        let cli = parse(&[]);
        assert_eq!(cli.listen_address, ":5000");
        assert_eq!(cli.config_file, PathBuf::from("config.yml"));
        assert_eq!(cli.scraping_interval, 300);
        assert_eq!(cli.metrics_per_query, 500);
        assert!(!cli.labels_snake_case);
    }

    #[test]
    fn single_and_double_dash_flags_are_both_read() {
        let cli = parse(&[
            "-config.file",
            "a.yml",
            "--listen-address=127.0.0.1:9",
            "-scraping-interval=60",
            "-labels-snake-case",
        ]);
        assert_eq!(cli.config_file, PathBuf::from("a.yml"));
        assert_eq!(cli.listen_address, "127.0.0.1:9");
        assert_eq!(cli.scraping_interval, 60);
        assert!(cli.labels_snake_case);
    }

    #[test]
    fn a_bare_bool_flag_never_takes_the_next_argument() {
        let cli = parse(&["-labels-snake-case", "vc"]);
        assert!(cli.labels_snake_case);
        assert!(matches!(cli.command, Some(Command::VerifyConfig { .. })));
        assert!(!parse(&["-labels-snake-case=false"]).labels_snake_case);
    }

    #[test]
    fn yace_flags_without_effect_yet_are_accepted_and_reported() {
        let cli = parse(&[
            "-cloudwatch-concurrency",
            "10",
            "-fips",
            "--enable-feature=always-return-info-metrics",
            "-tag-concurrency=3",
        ]);
        assert_eq!(
            cli.inert.given(),
            [
                "-fips",
                "-cloudwatch-concurrency",
                "-tag-concurrency",
                "-enable-feature"
            ]
        );
        let zero = Cli::try_parse_from(["exporter", "--cloudwatch-concurrency", "0"]);
        assert!(zero.is_err());
    }

    #[test]
    fn shard_and_aws_timeout_flags_are_read_and_checked() {
        let cli = parse(&[]);
        assert_eq!((cli.shard, cli.aws_timeout), (Shard::WHOLE, 30));
        let cli = parse(&["-shard", "2/4", "-aws.timeout=5"]);
        assert_eq!(cli.shard, "2/4".parse().unwrap());
        assert_eq!(cli.aws_timeout, 5);
        for bad in [
            ["--shard", "5/4"],
            ["--shard", "0/1"],
            ["--aws.timeout", "0"],
        ] {
            let args = std::iter::once("exporter").chain(bad);
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn plan_takes_its_config_offline_and_resource_flags() {
        let cli = parse(&[
            "plan",
            "-config.file",
            "c.yml",
            "-offline",
            "-assume-resources",
            "7",
        ]);
        assert!(matches!(
            cli.command,
            Some(Command::Plan { config_file: Some(ref path), offline: true, assume_resources: 7 })
                if path == &PathBuf::from("c.yml")
        ));
        let cli = parse(&["plan"]);
        assert!(matches!(
            cli.command,
            Some(Command::Plan {
                config_file: None,
                offline: false,
                assume_resources: 10
            })
        ));
    }

    #[test]
    fn verify_config_takes_its_own_config_flag() {
        let cli = parse(&["vc", "-config.file", "b.yml"]);
        assert!(matches!(
            cli.command,
            Some(Command::VerifyConfig { config_file: Some(ref path) }) if path == &PathBuf::from("b.yml")
        ));
    }
}
