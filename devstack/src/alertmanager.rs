//! A real Alertmanager (Debian's `prometheus-alertmanager`) in the foreground on loopback, with
//! a repository configuration file as it is and a throw-away data directory, and the alerts it
//! has received.
//!
//! It runs with the configuration file's folder as its working directory: Alertmanager 0.25
//! resolves the secret-file paths of `deploy/alertmanager.yml` (`secrets/...`) against its
//! working directory, as the compose stack's `working_dir` does. Without those files it still
//! starts and receives alerts; only sending a notification fails, which it logs.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::process::Process;
use crate::prometheus::Alert;
use crate::{Error, http_get};

#[derive(Debug)]
pub struct Alertmanager {
    process: Process,
    url: String,
}

impl Alertmanager {
    /// Starts Alertmanager with `config` on `port`, its data and log under `dir`, and waits
    /// until it is ready.
    pub fn start(config: &Path, dir: &Path, port: u16) -> Result<Self, Error> {
        let program =
            std::env::var("ALERTMANAGER").unwrap_or_else(|_| "prometheus-alertmanager".into());
        let config = std::path::absolute(config)?;
        let mut command = Command::new(&program);
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.join("alertmanager-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No gossip with peers: one instance, and no second port to collide on.
            .arg("--cluster.listen-address=");
        if let Some(folder) = config.parent() {
            command.current_dir(folder);
        }
        let mut process = match Process::spawn("alertmanager", command, dir) {
            Err(Error::Spawn { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Missing {
                    what: "Alertmanager",
                    path: program.into(),
                });
            }
            other => other?,
        };
        let url = format!("http://127.0.0.1:{port}");
        process.wait_for_http(&format!("{url}/-/ready"), Duration::from_secs(30))?;
        Ok(Alertmanager { process, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The alerts Alertmanager holds now, with their state (`active`, `suppressed`, ...).
    pub fn alerts(&self) -> Result<Vec<Alert>, Error> {
        let url = format!("{}/api/v2/alerts", self.url);
        let (status, body) = http_get(&url, &[])?;
        let body: Value = serde_json::from_str(&body).map_err(|error| Error::Http {
            url: url.clone(),
            message: format!("status {status}, unreadable answer: {error}"),
        })?;
        let alerts = body.as_array().cloned().unwrap_or_default();
        Ok(alerts.iter().map(Alert::from_json).collect())
    }
}
