//! The whole image pipeline, locally: what the README's run command plays and what the
//! whole-pipeline test checks, the same code for both.
//!
//! [`Pipeline::start`] starts the AWS emulator and creates the stack in it
//! (`devstack/seed/pipeline.py`: buckets, events queue and dead-letter queue, function, table,
//! state machine, with terraform/'s names and tags, in the region `deploy/exporter.yml` watches);
//! runs the processor (`bootstrap`) behind cargo-lambda's Runtime API with the environment
//! terraform/ gives it; then the exporter with `deploy/exporter.yml`, Prometheus with
//! `deploy/prometheus.yml` (and the rules of `alert-rules/`) and Alertmanager with
//! `deploy/alertmanager.yml`, all on the ports those files name.
//!
//! [`Pipeline::play_round`] uploads `demo-images/` to the source bucket and does what AWS would
//! do next, with the real processor:
//! - S3 notifies the events queue (moto does this itself);
//! - the local stand-in for Lambda's SQS event source mapping takes the messages off the queue,
//!   invokes the function with them in batches of up to 10, and deletes what the function did
//!   not report as failed (failed messages come back after the visibility timeout and end in the
//!   dead-letter queue after five receives, moto's redrive);
//! - the local stand-in for CloudWatch Logs forwards the function's EMF lines to CloudWatch
//!   (namespace `ImageProcessing`) with PutMetricData;
//! - the local stand-in for the Lambda service publishes, per invocation, the metrics Lambda
//!   itself publishes: `AWS/Lambda` Invocations, Errors, Duration and Throttles by FunctionName.
//!
//! What is not simulated: SQS, DynamoDB, Step Functions and API Gateway metrics (moto publishes
//! none, and nothing here stands in for those services), so their dashboards stay empty.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::alertmanager::Alertmanager;
use crate::cargo_lambda::{Answer, CargoLambda};
use crate::prometheus::{Alert, Prometheus, Sample};
use crate::{Error, Exporter, Moto, emf, require_port, run_python_output, wait_for};

/// The ports `deploy/prometheus.yml` names (the compose stack's, on one host). moto's is only
/// preferred: the exporter is told where it is.
pub const EXPORTER_PORT: u16 = 5000;
pub const PROMETHEUS_PORT: u16 = 9090;
pub const ALERTMANAGER_PORT: u16 = 9093;
pub const MOTO_PORT: u16 = 4566;

/// How often the exporter asks CloudWatch. `deploy/exporter.yml` asks for whole minutes that
/// ended two minutes ago, so asking more often than the compose stack's 60 s only shows a new
/// minute sooner; the rules sample once a minute either way.
const EXPORTER_INTERVAL_SECONDS: u32 = 10;
/// How often a round of uploads is played: three a minute keeps every minute of the rules'
/// five-minute windows busy.
pub const ROUND_EVERY: Duration = Duration::from_secs(20);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a long wait says it is still waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

const SEED: &str = "devstack/seed/pipeline.py";
const DEMO_IMAGES: &str = "demo-images";
const EXPORTER_CONFIG: &str = "deploy/exporter.yml";
const PROMETHEUS_CONFIG: &str = "deploy/prometheus.yml";
const ALERTMANAGER_CONFIG: &str = "deploy/alertmanager.yml";

/// The README's queries: the users' three Lambda queries and the processor's own view.
pub const QUERIES: [&str; 6] = [
    crate::lambda::QUERIES[0],
    crate::lambda::QUERIES[1],
    crate::lambda::QUERIES[2],
    r#"aws_imageprocessing_images_processed_sum{dimension_FunctionName="image-processor-dev-processor"}"#,
    r#"aws_imageprocessing_processing_errors_sum{dimension_ErrorType!=""}"#,
    "aws_imageprocessing:error_ratio:ratio5m",
];

/// Where progress goes: a line at a time.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// The binaries the pipeline runs, built beforehand.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub exporter: PathBuf,
    pub bootstrap: PathBuf,
}

impl Binaries {
    /// The exporter and the processor's `bootstrap` in `dir` (a cargo profile directory).
    pub fn in_dir(dir: &Path) -> Self {
        Binaries {
            exporter: dir.join("exporter"),
            bootstrap: dir.join("bootstrap"),
        }
    }
}

/// What `devstack/seed/pipeline.py create` made, by name.
#[derive(Debug, Clone)]
pub struct Resources {
    pub region: String,
    pub function: String,
    pub source_bucket: String,
    pub destination_bucket: String,
    pub queue: String,
    pub dead_letter_queue: String,
    pub table: String,
    pub state_machine: String,
    function_environment: Vec<(String, String)>,
}

impl Resources {
    fn from_json(text: &str) -> Result<Self, Error> {
        let unreadable = |why: &str| Error::Answer {
            expected: "the stack's names from pipeline.py create",
            answer: format!("{why}: {text}"),
        };
        let json: Value = serde_json::from_str(text).map_err(|e| unreadable(&e.to_string()))?;
        let field = |name: &str| {
            json[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| unreadable(&format!("no {name}")))
        };
        let function_environment = json["function_environment"]
            .as_object()
            .ok_or_else(|| unreadable("no function_environment"))?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        Ok(Resources {
            region: field("region")?,
            function: field("function")?,
            source_bucket: field("source_bucket")?,
            destination_bucket: field("destination_bucket")?,
            queue: field("queue")?,
            dead_letter_queue: field("dead_letter_queue")?,
            table: field("table")?,
            state_machine: field("state_machine")?,
            function_environment,
        })
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Round {
    pub number: u32,
    pub uploads: usize,
    pub invocations: usize,
    pub records: usize,
    /// Invocations the function failed as a whole (Lambda's `Errors`).
    pub failed_invocations: usize,
    /// Messages the function reported as failed, left on the queue for a retry.
    pub batch_item_failures: usize,
    /// From the forwarded EMF documents.
    pub images_processed: f64,
    pub processing_errors: f64,
}

impl std::fmt::Display for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "round {}: {} uploads, {} invocation(s) of {} SQS record(s), {} failed invocation(s), \
             {} message(s) left for retry; the processor's EMF: {} processed, {} failed",
            self.number,
            self.uploads,
            self.invocations,
            self.records,
            self.failed_invocations,
            self.batch_item_failures,
            self.images_processed,
            self.processing_errors
        )
    }
}

/// The running pipeline; dropped, it stops every process it started, by PID.
#[derive(Debug)]
pub struct Pipeline {
    // Dropped in this order: what reads others first.
    alertmanager: Alertmanager,
    prometheus: Prometheus,
    exporter: Exporter,
    lambda: CargoLambda,
    moto: Moto,
    resources: Resources,
    root: PathBuf,
    /// How much of the function's log has been read for EMF lines.
    function_log_read: usize,
    rounds: u32,
    last_round: Option<Instant>,
}

impl Pipeline {
    /// Starts everything, logs under `log_dir`, telling `progress` each step.
    pub fn start(binaries: &Binaries, log_dir: &Path, progress: Progress) -> Result<Self, Error> {
        let root = crate::workspace_root();
        require_port(EXPORTER_PORT, "the exporter", PROMETHEUS_CONFIG)?;
        require_port(PROMETHEUS_PORT, "Prometheus", PROMETHEUS_CONFIG)?;
        require_port(ALERTMANAGER_PORT, "Alertmanager", PROMETHEUS_CONFIG)?;

        progress("starting the AWS emulator (moto server)");
        let moto = Moto::start(log_dir, Some(MOTO_PORT))?;
        progress("creating the buckets, queues, function, table and state machine");
        let resources = Resources::from_json(&seed(&moto, &["create"])?)?;

        progress("starting the processor behind cargo-lambda's Runtime API");
        let mut env = moto.aws_env();
        env.retain(|(name, _)| *name != "AWS_REGION");
        env.push(("AWS_REGION", resources.region.clone()));
        env.push(("AWS_LAMBDA_LOG_FORMAT", "JSON".into()));
        let function_env: Vec<(&str, String)> = resources
            .function_environment
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        env.extend(function_env);
        let lambda = CargoLambda::start(&binaries.bootstrap, &resources.function, &env, log_dir)?;

        progress("starting the exporter with deploy/exporter.yml");
        let exporter = Exporter::start(
            &binaries.exporter,
            &root.join(EXPORTER_CONFIG),
            &moto,
            EXPORTER_INTERVAL_SECONDS,
            log_dir,
            Some(EXPORTER_PORT),
        )?;
        progress("starting Prometheus with deploy/prometheus.yml and alert-rules/");
        let prometheus =
            Prometheus::start_with_config(&root.join(PROMETHEUS_CONFIG), log_dir, PROMETHEUS_PORT)?;
        progress("starting Alertmanager with deploy/alertmanager.yml");
        let alertmanager =
            Alertmanager::start(&root.join(ALERTMANAGER_CONFIG), log_dir, ALERTMANAGER_PORT)?;
        Ok(Pipeline {
            alertmanager,
            prometheus,
            exporter,
            lambda,
            moto,
            resources,
            root,
            function_log_read: 0,
            rounds: 0,
            last_round: None,
        })
    }

    pub fn moto(&self) -> &Moto {
        &self.moto
    }

    pub fn exporter(&self) -> &Exporter {
        &self.exporter
    }

    pub fn prometheus(&self) -> &Prometheus {
        &self.prometheus
    }

    pub fn alertmanager(&self) -> &Alertmanager {
        &self.alertmanager
    }

    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The processor's PID.
    pub fn function_pid(&self) -> u32 {
        self.lambda.pid()
    }

    /// Uploads `demo-images/` under a prefix of its own and processes what follows.
    pub fn play_round(&mut self) -> Result<Round, Error> {
        self.last_round = Some(Instant::now());
        let mut round = Round {
            number: self.rounds,
            ..Round::default()
        };
        self.rounds += 1;
        let folder = self.root.join(DEMO_IMAGES);
        let prefix = format!("round-{}/", round.number);
        let keys = parse_list(
            &seed(
                &self.moto,
                &["upload", &folder.to_string_lossy(), prefix.as_str()],
            )?,
            "the uploaded keys",
        )?;
        round.uploads = keys.len();

        let events = parse_list(&seed(&self.moto, &["receive"])?, "the SQS events")?;
        let mut done = Vec::new();
        for event in &events {
            let records = event["Records"].as_array().map_or(&[][..], Vec::as_slice);
            round.invocations += 1;
            round.records += records.len();
            let started = Instant::now();
            let answer = self.lambda.invoke(event, INVOKE_TIMEOUT)?;
            let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
            let failed = matches!(answer, Answer::Failed { .. });
            self.publish_lambda_service_metrics(duration_ms, failed)?;
            let (processed, errors) = self.forward_emf()?;
            round.images_processed += processed;
            round.processing_errors += errors;
            let Answer::Returned(payload) = answer else {
                round.failed_invocations += 1;
                continue;
            };
            let retry: Vec<&str> = payload["batchItemFailures"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|failure| failure["itemIdentifier"].as_str())
                .collect();
            round.batch_item_failures += retry.len();
            done.extend(records.iter().filter_map(|record| {
                let id = record["messageId"].as_str()?;
                let receipt = record["receiptHandle"].as_str()?;
                (!retry.contains(&id)).then(|| receipt.to_owned())
            }));
        }
        if !done.is_empty() {
            let mut args = vec!["delete"];
            args.extend(done.iter().map(String::as_str));
            seed(&self.moto, &args)?;
        }
        Ok(round)
    }

    /// The local stand-in for the Lambda service: the metrics Lambda publishes for each
    /// invocation. Duration is the invocation's wall time through the Runtime API.
    fn publish_lambda_service_metrics(&self, duration_ms: f64, failed: bool) -> Result<(), Error> {
        self.moto.put_metrics_in(
            &self.resources.region,
            SystemTime::now(),
            "AWS/Lambda",
            &[("FunctionName", &self.resources.function)],
            &[
                ("Invocations", &[1.0]),
                ("Errors", &[if failed { 1.0 } else { 0.0 }]),
                ("Throttles", &[0.0]),
                ("Duration", &[duration_ms]),
            ],
        )
    }

    /// The local stand-in for CloudWatch Logs' EMF extraction: the EMF lines the function
    /// printed since the last call, put into CloudWatch. Returns the images processed and the
    /// processing errors they count (under the all-errors dimension set).
    fn forward_emf(&mut self) -> Result<(f64, f64), Error> {
        let log = self.lambda.function_log();
        let Some(end) = log
            .get(self.function_log_read..)
            .and_then(|fresh| fresh.rfind('\n'))
        else {
            return Ok((0.0, 0.0));
        };
        let end = self.function_log_read + end + 1;
        let fresh = &log[self.function_log_read..end];
        let (mut processed, mut errors) = (0.0, 0.0);
        for line in fresh.lines() {
            for datum in emf::datapoints(line)? {
                let dimensions: Vec<(&str, &str)> = datum
                    .dimensions
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                let by_type = dimensions.iter().any(|(name, _)| *name == "ErrorType");
                let total: f64 = datum.values.iter().sum();
                match datum.metric.as_str() {
                    "ImagesProcessed" => processed += total,
                    "ProcessingErrors" if !by_type => errors += total,
                    _ => {}
                }
                self.moto.put_metrics_in(
                    &self.resources.region,
                    datum.time,
                    &datum.namespace,
                    &dimensions,
                    &[(datum.metric.as_str(), &datum.values)],
                )?;
            }
        }
        self.function_log_read = end;
        Ok((processed, errors))
    }

    /// Plays a round every [`ROUND_EVERY`] until `check` gives `Some`, telling `progress` each
    /// round and, every 15 s, that it is still waiting for `what`. Fails after `timeout` or on
    /// Ctrl-C ([`crate::request_stop`]).
    pub fn play_until<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        progress: Progress,
        check: impl FnMut(&Self) -> Result<Option<T>, Error>,
    ) -> Result<T, Error> {
        self.play(what, timeout, true, progress, check)
    }

    /// Plays a round every [`ROUND_EVERY`], calling `watch` in between, until Ctrl-C (then
    /// [`Error::Stopped`]) or an error.
    pub fn play_forever(
        &mut self,
        progress: Progress,
        mut watch: impl FnMut(&Self) -> Result<(), Error>,
    ) -> Result<(), Error> {
        const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
        self.play("Ctrl-C", FOREVER, false, progress, |pipeline| {
            watch(pipeline).map(|()| None)
        })
    }

    fn play<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        announce: bool,
        progress: Progress,
        mut check: impl FnMut(&Self) -> Result<Option<T>, Error>,
    ) -> Result<T, Error> {
        let started = Instant::now();
        let mut said = Instant::now();
        wait_for(what, timeout, || {
            if self
                .last_round
                .is_none_or(|last| last.elapsed() >= ROUND_EVERY)
            {
                let round = self.play_round()?;
                progress(&round.to_string());
            }
            if announce && said.elapsed() >= PROGRESS_EVERY {
                said = Instant::now();
                progress(&format!(
                    "waiting for {what} ({} s)",
                    started.elapsed().as_secs()
                ));
            }
            check(self)
        })
    }

    /// Whether every one of [`QUERIES`] has a value (not NaN) yet: data of the processor's
    /// EMF and of the Lambda stand-in has reached Prometheus, and the five-minute rules ran.
    pub fn data_arrived(&self) -> Result<bool, Error> {
        for (_, samples) in self.answers()? {
            if !samples.iter().any(|sample| !sample.value.is_nan()) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Each of [`QUERIES`] with its answer now.
    pub fn answers(&self) -> Result<Vec<(&'static str, Vec<Sample>)>, Error> {
        QUERIES
            .iter()
            .map(|query| Ok((*query, self.prometheus.query(query, None)?)))
            .collect()
    }

    /// Prometheus' pending and firing alerts, sorted.
    pub fn alerts(&self) -> Result<Vec<Alert>, Error> {
        let mut alerts = self.prometheus.alerts()?;
        alerts.sort();
        Ok(alerts)
    }
}

/// Runs `devstack/seed/pipeline.py ENDPOINT args...`; its stdout.
fn seed(moto: &Moto, args: &[&str]) -> Result<String, Error> {
    let script = crate::workspace_root().join(SEED);
    let mut argv = vec![script.into_os_string(), moto.endpoint().into()];
    argv.extend(args.iter().map(std::ffi::OsString::from));
    let argv: Vec<&std::ffi::OsStr> = argv.iter().map(|arg| arg.as_os_str()).collect();
    run_python_output(&argv)
}

/// The JSON list `text`, which the seed script printed.
fn parse_list(text: &str, what: &'static str) -> Result<Vec<Value>, Error> {
    serde_json::from_str(text).map_err(|error| Error::Answer {
        expected: what,
        answer: format!("{error}: {text}"),
    })
}
