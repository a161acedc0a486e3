//! The local stack that the README's run command and the end-to-end tests share: the AWS
//! emulator (moto server), a function behind cargo-lambda's Runtime API, the exporter, a real
//! Prometheus and Alertmanager, each a child process on loopback, each stopped by its PID when
//! its handle is dropped (and by the kernel if the thread that started it dies first); and
//! [`pipeline`], the whole image pipeline they play. Nothing here is mocked; it only starts,
//! feeds and queries the real programs.
//!
//! The programs come from `scripts/setup.sh`: moto and cargo-lambda in the git-ignored `.venv/`,
//! Prometheus and Alertmanager from Debian's packages. `MOTO_SERVER`, `CARGO_LAMBDA`,
//! `PROMETHEUS` and `ALERTMANAGER` override where they are looked for.

pub mod alertmanager;
pub mod cargo_lambda;
pub mod emf;
pub mod exporter;
pub mod grafana;
pub mod lambda;
pub mod moto;
pub mod pipeline;
pub mod process;
pub mod prometheus;
pub mod promtool;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use alertmanager::Alertmanager;
pub use cargo_lambda::CargoLambda;
pub use exporter::Exporter;
pub use moto::Moto;
pub use pipeline::Pipeline;
pub use prometheus::Prometheus;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} not found at {path}; `scripts/test` or `scripts/run` installs it")]
    Missing { what: &'static str, path: PathBuf },
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{what} did not happen within {seconds} s{}", log_tail(log))]
    Timeout {
        what: String,
        seconds: u64,
        log: String,
    },
    #[error("{process} exited early ({status}){}", log_tail(log))]
    Exited {
        process: &'static str,
        status: std::process::ExitStatus,
        log: String,
    },
    #[error("HTTP request to {url} failed: {message}")]
    Http { url: String, message: String },
    #[error("Prometheus answered {answer}, not {expected}")]
    Answer {
        expected: &'static str,
        answer: String,
    },
    #[error("port {port} is taken, and {file} names it for {what}; stop what listens there")]
    PortTaken {
        port: u16,
        what: &'static str,
        file: &'static str,
    },
    #[error("stopped on request")]
    Stopped,
    #[error("{0}")]
    Aws(String),
    #[error(transparent)]
    Emf(#[from] emf::Invalid),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn log_tail(log: &str) -> String {
    if log.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("; its log ends with:\n{tail}")
}

/// The workspace root, where `.venv/` lives.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// A loopback port that was free a moment ago. `preferred` is taken when it is free, so the
/// run command can print familiar URLs.
pub fn free_port(preferred: Option<u16>) -> Result<u16, Error> {
    if let Some(port) = preferred
        && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
    {
        return Ok(port);
    }
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

static STOP: AtomicBool = AtomicBool::new(false);

/// Makes every [`wait_for`], running or to come, fail with [`Error::Stopped`]: how Ctrl-C
/// interrupts a start-up that is still waiting.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether [`request_stop`] was called.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Polls `check` every 200 ms until it returns `Some`, or fails after `timeout` or once
/// [`request_stop`] was called.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Option<T>, Error>,
) -> Result<T, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        if stop_requested() {
            return Err(Error::Stopped);
        }
        if let Some(found) = check()? {
            return Ok(found);
        }
        if Instant::now() > deadline {
            return Err(Error::Timeout {
                what: what.to_owned(),
                seconds: timeout.as_secs(),
                log: String::new(),
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs the git-ignored venv's Python (which has boto3, from moto) with `args`.
pub fn run_python(args: &[&std::ffi::OsStr]) -> Result<(), Error> {
    run_python_output(args).map(drop)
}

/// [`run_python`], giving what the script printed on stdout.
pub fn run_python_output(args: &[&std::ffi::OsStr]) -> Result<String, Error> {
    let program = workspace_root().join(".venv/bin/python");
    if !program.exists() {
        return Err(Error::Missing {
            what: "the venv's Python",
            path: program,
        });
    }
    let output = std::process::Command::new(&program)
        .args(args)
        .output()
        .map_err(|source| Error::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Err(Error::Exited {
        process: "python",
        status: output.status,
        log: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// GET `url` with query parameters; the status and the body, whatever the status.
pub fn http_get(url: &str, query: &[(&str, &str)]) -> Result<(u16, String), Error> {
    request(url, |agent| {
        agent.get(url).query_pairs(query.iter().copied()).call()
    })
}

/// Fails with [`Error::PortTaken`] unless `port` is free on loopback: for the ports the
/// deploy files name, where another port would not be found.
pub fn require_port(port: u16, what: &'static str, file: &'static str) -> Result<u16, Error> {
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(port),
        Err(_) => Err(Error::PortTaken { port, what, file }),
    }
}

/// POST to `url` with an empty body; the status and the body, whatever the status.
pub fn http_post(url: &str) -> Result<(u16, String), Error> {
    request(url, |agent| agent.post(url).send_empty())
}

fn request(
    url: &str,
    send: impl FnOnce(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String), Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let failed = |error: ureq::Error| Error::Http {
        url: url.to_owned(),
        message: error.to_string(),
    };
    let mut response = send(&agent).map_err(failed)?;
    let body = response.body_mut().read_to_string().map_err(failed)?;
    Ok((response.status().as_u16(), body))
}
