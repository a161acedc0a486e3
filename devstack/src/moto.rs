//! The AWS emulator, moto server, on a free loopback port, and what the stack puts into it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

use crate::process::Process;
use crate::{Error, free_port};

/// The region everything local lives in.
pub const REGION: &str = "us-east-1";

#[derive(Debug)]
pub struct Moto {
    process: Process,
    endpoint: String,
    runtime: tokio::runtime::Runtime,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Moto {
    /// Starts moto server and waits until it answers.
    pub fn start(log_dir: &Path, preferred_port: Option<u16>) -> Result<Self, Error> {
        let program = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::workspace_root().join(".venv/bin/moto_server"));
        if !program.exists() {
            return Err(Error::Missing {
                what: "moto server",
                path: program,
            });
        }
        let port = free_port(preferred_port)?;
        let mut command = Command::new(&program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut process = Process::spawn("moto", command, log_dir)?;
        let endpoint = format!("http://127.0.0.1:{port}");
        process.wait_for_http(&format!("{endpoint}/moto-api/"), Duration::from_secs(30))?;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let config = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "devstack"))
            .build();
        Ok(Moto {
            process,
            endpoint,
            runtime,
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(config),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The environment that points an AWS SDK at the emulator, with dummy credentials.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", REGION.into()),
        ]
    }

    /// Creates the resources of `devstack/seed/resources.py` (tagged and untagged Lambda
    /// functions, SQS queues, a DynamoDB table, a state machine, an S3 bucket, a REST API and
    /// an HTTP API).
    pub fn seed_resources(&self) -> Result<(), Error> {
        let script = crate::workspace_root().join("devstack/seed/resources.py");
        crate::run_python(&[script.as_os_str(), self.endpoint.as_ref()])
    }

    /// Puts each metric's `values` as datapoints stamped now, in one PutMetricData call, the
    /// way a running service reports them.
    pub fn put_metrics(
        &self,
        namespace: &str,
        dimensions: &[(&str, &str)],
        metrics: &[(&str, &[f64])],
    ) -> Result<(), Error> {
        self.put_metrics_at(SystemTime::now(), namespace, dimensions, metrics)
    }

    /// [`Moto::put_metrics`] with datapoints stamped `time`.
    pub fn put_metrics_at(
        &self,
        time: SystemTime,
        namespace: &str,
        dimensions: &[(&str, &str)],
        metrics: &[(&str, &[f64])],
    ) -> Result<(), Error> {
        self.send_metrics(&self.cloudwatch, time, namespace, dimensions, metrics)
    }

    /// [`Moto::put_metrics_at`] into the CloudWatch of `region` rather than [`REGION`].
    pub fn put_metrics_in(
        &self,
        region: &str,
        time: SystemTime,
        namespace: &str,
        dimensions: &[(&str, &str)],
        metrics: &[(&str, &[f64])],
    ) -> Result<(), Error> {
        let config = self
            .cloudwatch
            .config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        let client = aws_sdk_cloudwatch::Client::from_conf(config);
        self.send_metrics(&client, time, namespace, dimensions, metrics)
    }

    fn send_metrics(
        &self,
        client: &aws_sdk_cloudwatch::Client,
        time: SystemTime,
        namespace: &str,
        dimensions: &[(&str, &str)],
        metrics: &[(&str, &[f64])],
    ) -> Result<(), Error> {
        let dimensions: Vec<Dimension> = dimensions
            .iter()
            .map(|(name, value)| Dimension::builder().name(*name).value(*value).build())
            .collect();
        let time = DateTime::from(time);
        let data = metrics
            .iter()
            .map(|(metric, values)| {
                MetricDatum::builder()
                    .metric_name(*metric)
                    .set_dimensions(Some(dimensions.clone()))
                    .set_values(Some(values.to_vec()))
                    .timestamp(time)
                    .build()
            })
            .collect();
        let request = client
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(data))
            .send();
        self.runtime
            .block_on(request)
            .map_err(|error| Error::Aws(format!("PutMetricData: {error:?}")))?;
        Ok(())
    }
}
