//! A real Prometheus in the foreground on loopback, with a throw-away data directory, and the
//! parts of its HTTP API that the stack reads.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::process::Process;
use crate::{Error, free_port, http_get};

#[derive(Debug)]
pub struct Prometheus {
    process: Process,
    url: String,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// An alert as Prometheus or Alertmanager reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Alert {
    pub name: String,
    /// Prometheus: `pending` or `firing`; Alertmanager: `active`, `suppressed`, ...
    pub state: String,
    pub labels: BTreeMap<String, String>,
}

/// A JSON object of strings (a label set) as a map; anything else as an empty one.
fn string_map(object: &Value) -> BTreeMap<String, String> {
    object
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

impl Alert {
    /// Reads Prometheus' `/api/v1/alerts` element or Alertmanager's `/api/v2/alerts` one.
    pub fn from_json(alert: &Value) -> Self {
        let labels = string_map(&alert["labels"]);
        let state = alert["state"]
            .as_str()
            .or_else(|| alert["status"]["state"].as_str())
            .unwrap_or_default()
            .to_owned();
        Alert {
            name: labels.get("alertname").cloned().unwrap_or_default(),
            state,
            labels,
        }
    }

    pub fn severity(&self) -> &str {
        self.labels.get("severity").map_or("", String::as_str)
    }
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` (`host:port`) every `scrape_seconds`, keeping its
    /// configuration, data and log under `dir`.
    pub fn start(
        dir: &Path,
        targets: &[&str],
        scrape_seconds: u32,
        preferred_port: Option<u16>,
    ) -> Result<Self, Error> {
        let port = free_port(preferred_port)?;
        let config = dir.join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: {scrape_seconds}s\n  evaluation_interval: {scrape_seconds}s\n\
                 scrape_configs:\n  - job_name: cloudwatch-exporter\n    static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ),
        )?;
        Self::start_with_config(&config, dir, port)
    }

    /// Starts Prometheus with a configuration file of the repository (`deploy/prometheus.yml`)
    /// as it is, on `port`, keeping its data and log under `dir`. Its rule files are found
    /// relative to `config`, as Prometheus does.
    pub fn start_with_config(config: &Path, dir: &Path, port: u16) -> Result<Self, Error> {
        let program = std::env::var("PROMETHEUS").unwrap_or_else(|_| "prometheus".into());
        let mut command = Command::new(&program);
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut process = match Process::spawn("prometheus", command, dir) {
            Err(Error::Spawn { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Missing {
                    what: "Prometheus",
                    path: program.into(),
                });
            }
            other => other?,
        };
        let url = format!("http://127.0.0.1:{port}");
        process.wait_for_http(&format!("{url}/-/ready"), Duration::from_secs(60))?;
        Ok(Prometheus { process, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Evaluates `expr` as an instant query, at `time` (Unix seconds) or now.
    pub fn query(&self, expr: &str, time: Option<f64>) -> Result<Vec<Sample>, Error> {
        let data = self.api(expr, time)?;
        let result = data["result"].as_array().cloned().unwrap_or_default();
        result
            .iter()
            .map(|element| {
                let labels = string_map(&element["metric"]);
                Ok(Sample {
                    labels,
                    value: number(&element["value"][1])?,
                })
            })
            .collect()
    }

    /// The stored samples `(unix seconds, value)` of a range selector such as `x{a="b"}[1m]`,
    /// oldest first, for the first series that matches.
    pub fn samples(&self, range_selector: &str) -> Result<Vec<(f64, f64)>, Error> {
        let data = self.api(range_selector, None)?;
        let Some(values) = data["result"][0]["values"].as_array() else {
            return Ok(Vec::new());
        };
        values
            .iter()
            .map(|pair| Ok((pair[0].as_f64().unwrap_or_default(), number(&pair[1])?)))
            .collect()
    }

    /// The alerts of the loaded rules that are pending or firing now.
    pub fn alerts(&self) -> Result<Vec<Alert>, Error> {
        let url = format!("{}/api/v1/alerts", self.url);
        let (status, body) = http_get(&url, &[])?;
        let body: Value = serde_json::from_str(&body).map_err(|error| Error::Http {
            url: url.clone(),
            message: format!("status {status}, unreadable answer: {error}"),
        })?;
        let alerts = body["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(alerts.iter().map(Alert::from_json).collect())
    }

    fn api(&self, expr: &str, time: Option<f64>) -> Result<Value, Error> {
        let url = format!("{}/api/v1/query", self.url);
        let time = time.map(|t| format!("{t:.3}"));
        let mut query = vec![("query", expr)];
        if let Some(time) = &time {
            query.push(("time", time));
        }
        let (status, body) = http_get(&url, &query)?;
        let failed = |message: String| Error::Http {
            url: url.clone(),
            message,
        };
        let body: Value = serde_json::from_str(&body)
            .map_err(|error| failed(format!("status {status}, unreadable answer: {error}")))?;
        if body["status"] != "success" {
            return Err(failed(format!("{expr}: {}", body["error"])));
        }
        Ok(body["data"].clone())
    }
}

/// Prometheus writes sample values as strings ("7", "NaN").
fn number(value: &Value) -> Result<f64, Error> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| Error::Answer {
            expected: "a sample value",
            answer: value.to_string(),
        })
}
