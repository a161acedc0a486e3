//! The exporter binary, run as users run it: its own process, YACE-style flags, pointed at the
//! emulator through the standard AWS environment variables.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::moto::Moto;
use crate::process::Process;
use crate::{Error, free_port, http_get};

#[derive(Debug)]
pub struct Exporter {
    process: Process,
    address: String,
}

impl Exporter {
    /// Starts `binary` with `config`, scraping every `interval_seconds`, and waits until it
    /// serves HTTP.
    pub fn start(
        binary: &Path,
        config: &Path,
        moto: &Moto,
        interval_seconds: u32,
        log_dir: &Path,
        preferred_port: Option<u16>,
    ) -> Result<Self, Error> {
        Self::start_with_args(
            binary,
            config,
            moto,
            interval_seconds,
            log_dir,
            preferred_port,
            &[],
        )
    }

    /// [`Exporter::start`] with more flags after the usual ones.
    pub fn start_with_args(
        binary: &Path,
        config: &Path,
        moto: &Moto,
        interval_seconds: u32,
        log_dir: &Path,
        preferred_port: Option<u16>,
        args: &[&str],
    ) -> Result<Self, Error> {
        if !binary.exists() {
            return Err(Error::Missing {
                what: "the exporter binary",
                path: binary.to_owned(),
            });
        }
        let address = format!("127.0.0.1:{}", free_port(preferred_port)?);
        let mut command = Command::new(binary);
        command
            .arg("-config.file")
            .arg(config)
            .args(["-listen-address", &address])
            .args(["-scraping-interval", &interval_seconds.to_string()])
            .args(["-log.format", "logfmt"])
            .args(args)
            .envs(moto.aws_env());
        let mut process = Process::spawn("exporter", command, log_dir)?;
        process.wait_for_http(
            &format!("http://{address}/healthz"),
            Duration::from_secs(30),
        )?;
        Ok(Exporter { process, address })
    }

    /// `host:port`, as a Prometheus target.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The exporter's log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The body of `/metrics`.
    pub fn metrics(&self) -> Result<String, Error> {
        let url = format!("http://{}/metrics", self.address);
        match http_get(&url, &[])? {
            (200, body) => Ok(body),
            (status, body) => Err(Error::Http {
                url,
                message: format!("status {status}: {body}"),
            }),
        }
    }
}
