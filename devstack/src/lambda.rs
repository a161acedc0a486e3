//! The sample scenario both the run command and the end-to-end test play: the image
//! processor's Lambda function is idle for a moment, then handles a burst of uploads. Users
//! watch it with the three queries below, verbatim from their dashboards.

use std::time::Duration;

use crate::moto::Moto;
use crate::prometheus::{Prometheus, Sample};
use crate::{Error, wait_for};

pub const FUNCTION: &str = "image-processor-dev-processor";

/// The queries users already run against YACE's series.
pub const QUERIES: [&str; 3] = [
    r#"increase(aws_lambda_invocations_sum{dimension_FunctionName="image-processor-dev-processor"}[1m])"#,
    r#"increase(aws_lambda_errors_sum{dimension_FunctionName="image-processor-dev-processor"}[1m])"#,
    r#"aws_lambda_duration_average{dimension_FunctionName="image-processor-dev-processor"}"#,
];

/// A burst of work: datapoints as the Lambda service reports them.
#[derive(Debug, Clone)]
pub struct Burst {
    pub invocations: Vec<f64>,
    pub errors: Vec<f64>,
    pub durations_ms: Vec<f64>,
}

impl Burst {
    pub fn total_invocations(&self) -> f64 {
        self.invocations.iter().sum()
    }

    pub fn total_errors(&self) -> f64 {
        self.errors.iter().sum()
    }

    pub fn mean_duration_ms(&self) -> f64 {
        self.durations_ms.iter().sum::<f64>() / self.durations_ms.len() as f64
    }
}

/// An idle function still reports zero invocations and zero errors.
pub fn put_idle(moto: &Moto) -> Result<(), Error> {
    put(moto, &[("Invocations", &[0.0]), ("Errors", &[0.0])])
}

pub fn put_burst(moto: &Moto, burst: &Burst) -> Result<(), Error> {
    put(
        moto,
        &[
            ("Invocations", &burst.invocations),
            ("Errors", &burst.errors),
            ("Duration", &burst.durations_ms),
        ],
    )
}

fn put(moto: &Moto, metrics: &[(&str, &[f64])]) -> Result<(), Error> {
    moto.put_metrics("AWS/Lambda", &[("FunctionName", FUNCTION)], metrics)
}

/// Waits until Prometheus has scraped the idle function at least twice.
pub fn wait_for_idle(prometheus: &Prometheus) -> Result<(), Error> {
    wait_for(
        "two scrapes of the idle function",
        Duration::from_secs(60),
        || {
            let samples = prometheus.samples(&format!("{}[1m]", series("invocations_sum")))?;
            Ok((samples.iter().filter(|(_, value)| *value == 0.0).count() >= 2).then_some(()))
        },
    )
}

/// Waits until one Prometheus scrape holds the whole burst and returns its timestamp.
pub fn wait_for_burst(prometheus: &Prometheus, burst: &Burst) -> Result<f64, Error> {
    let expected = [
        ("invocations_sum", burst.total_invocations()),
        ("errors_sum", burst.total_errors()),
        ("duration_average", burst.mean_duration_ms()),
    ];
    wait_for("a scrape of the burst", Duration::from_secs(60), || {
        let mut newest = Vec::new();
        for (suffix, value) in expected {
            let samples = prometheus.samples(&format!("{}[1m]", series(suffix)))?;
            match samples.last() {
                Some(&(time, seen)) if (seen - value).abs() < 1e-9 => newest.push(time),
                _ => return Ok(None),
            }
        }
        Ok(newest
            .windows(2)
            .all(|pair| pair[0] == pair[1])
            .then(|| newest[0]))
    })
}

fn series(suffix: &str) -> String {
    format!("aws_lambda_{suffix}{{dimension_FunctionName=\"{FUNCTION}\"}}")
}

/// Each of [`QUERIES`] with its answer at `time`.
pub fn answers(
    prometheus: &Prometheus,
    time: Option<f64>,
) -> Result<Vec<(&'static str, Vec<Sample>)>, Error> {
    QUERIES
        .iter()
        .map(|query| Ok((*query, prometheus.query(query, time)?)))
        .collect()
}
