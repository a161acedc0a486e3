//! A Lambda function binary run the way the Lambda service runs it, locally: cargo-lambda's
//! Runtime API emulator (`cargo lambda watch --only-lambda-apis`) on a free loopback port, the
//! function as its own process polling that API, and each event sent with
//! `cargo lambda invoke`. Both processes are stopped by their PIDs when the handle is dropped.
//!
//! The emulator is told not to build anything: the caller passes a binary it already built
//! (an integration test's `CARGO_BIN_EXE_bootstrap`), so no second `cargo build` with other
//! features runs behind its back. cargo-lambda comes from the git-ignored `.venv/`
//! (`scripts/setup.sh`); `CARGO_LAMBDA` overrides where it is looked for.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::process::Process;
use crate::{Error, free_port};

/// The name cargo-lambda gives the function started outside it; invocations address it.
const DEFAULT_FUNCTION: &str = "_";

/// The emulator and the function polling it.
#[derive(Debug)]
pub struct CargoLambda {
    // Declared first so it is stopped first: a function losing its Runtime API mid-poll
    // would otherwise log connection errors into the test's output.
    function: Process,
    _emulator: Process,
    program: PathBuf,
    port: u16,
}

/// How an invocation ended, as the Runtime API reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The function returned this payload.
    Returned(Value),
    /// The function returned an error: Lambda's `errorType` and `errorMessage`.
    Failed { error_type: String, message: String },
}

impl CargoLambda {
    /// Starts the emulator, then `binary` with `env` (the function's configuration) plus the
    /// variables the Lambda service sets (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`
    /// = `function_name`, version, memory size). Logs go to `<log_dir>/cargo-lambda.log` and
    /// `<log_dir>/function.log`.
    pub fn start(
        binary: &Path,
        function_name: &str,
        env: &[(&str, String)],
        log_dir: &Path,
    ) -> Result<Self, Error> {
        let program = std::env::var_os("CARGO_LAMBDA")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::workspace_root().join(".venv/bin/cargo-lambda"));
        if !program.exists() {
            return Err(Error::Missing {
                what: "cargo-lambda",
                path: program,
            });
        }
        if !binary.exists() {
            return Err(Error::Missing {
                what: "the function binary",
                path: binary.to_owned(),
            });
        }
        let port = free_port(None)?;
        // cargo-lambda is a cargo subcommand: called directly, its first argument is the
        // subcommand's name. It reads the workspace's metadata, hence the working directory.
        let mut command = Command::new(&program);
        command
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(port.to_string())
            .current_dir(crate::workspace_root());
        let mut emulator = Process::spawn("cargo-lambda", command, log_dir)?;
        emulator.wait_for_log("starting Runtime server", Duration::from_secs(30))?;

        let mut command = Command::new(binary);
        command
            .envs(env.iter().map(|(name, value)| (name, value)))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024");
        let function = Process::spawn("function", command, log_dir)?;
        Ok(CargoLambda {
            function,
            _emulator: emulator,
            program,
            port,
        })
    }

    /// The function's PID.
    pub fn pid(&self) -> u32 {
        self.function.id()
    }

    /// What the function has written so far: its JSON logs and metrics lines.
    pub fn function_log(&self) -> String {
        self.function.log()
    }

    /// Sends `payload` with `cargo lambda invoke` and waits up to `timeout` for the answer,
    /// failing early if the function exits meanwhile.
    pub fn invoke(&mut self, payload: &Value, timeout: Duration) -> Result<Answer, Error> {
        let mut command = Command::new(&self.program);
        command
            .args([
                "lambda",
                "invoke",
                DEFAULT_FUNCTION,
                "--output-format",
                "json",
            ])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(self.port.to_string())
            .arg("--data-ascii")
            .arg(payload.to_string())
            .current_dir(crate::workspace_root());
        let output = self.run_while_alive(command, timeout)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return serde_json::from_str(&stdout)
                .map(Answer::Returned)
                .map_err(|error| Error::Http {
                    url: "cargo lambda invoke".into(),
                    message: format!("the answer is not JSON ({error}): {stdout}"),
                });
        }
        parse_failure(&stderr).ok_or_else(|| Error::Exited {
            process: "cargo lambda invoke",
            status: output.status,
            log: format!("{stdout}{stderr}"),
        })
    }

    /// Runs `command` to its end, killing it after `timeout` or when the function exits.
    fn run_while_alive(
        &mut self,
        mut command: Command,
        timeout: Duration,
    ) -> Result<Output, Error> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn {
                program: self.program.display().to_string(),
                source,
            })?;
        let pid = child.id();
        let (sender, receiver) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _ = sender.send(child.wait_with_output());
        });
        let deadline = Instant::now() + timeout;
        let stopped = loop {
            match receiver.recv_timeout(Duration::from_millis(100)) {
                Ok(output) => {
                    let _ = waiter.join();
                    return Ok(output?);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Io(std::io::Error::other(
                        "the invoke waiter ended without an answer",
                    )));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(status) = self.function.exited()? {
                break Error::Exited {
                    process: "the function",
                    status,
                    log: self.function.log(),
                };
            }
            if crate::stop_requested() {
                break Error::Stopped;
            }
            if Instant::now() > deadline {
                break Error::Timeout {
                    what: "the invocation's answer".into(),
                    seconds: timeout.as_secs(),
                    log: self.function.log(),
                };
            }
        };
        kill(pid);
        let _ = waiter.join();
        Err(stopped)
    }
}

/// The `errorType` and `errorMessage` of a failed invocation, from the report `cargo lambda
/// invoke` prints for it:
///
/// ```text
/// Error: S3Refused
///
///   × reading s3://uploads/in/a.jpg: the bucket is missing or access is denied; the message
///   │ wraps at the terminal's width
/// ```
fn parse_failure(stderr: &str) -> Option<Answer> {
    let mut lines = stderr.lines();
    let error_type = lines.next()?.strip_prefix("Error: ")?.trim().to_owned();
    let mut message = Vec::new();
    for line in lines.map(str::trim) {
        if let Some(start) = line.strip_prefix('×') {
            message.push(start.trim());
        } else if let Some(more) = line.strip_prefix('│').filter(|_| !message.is_empty()) {
            message.push(more.trim());
        } else if !message.is_empty() {
            break;
        }
    }
    (!error_type.is_empty() && !message.is_empty()).then(|| Answer::Failed {
        error_type,
        message: message.join(" "),
    })
}

#[allow(unsafe_code)]
fn kill(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) on a PID of our own child, which has not been reaped yet (its waiter
        // thread reaps it after this).
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_report_gives_the_error_type_and_the_unwrapped_message() {
        let stderr = "Error: S3Refused\n\n  × reading s3://uploads/in/a.jpg: the bucket is\n  │ missing\n\n  \
                      Was this behavior unexpected?\n";
        assert_eq!(
            parse_failure(stderr),
            Some(Answer::Failed {
                error_type: "S3Refused".into(),
                message: "reading s3://uploads/in/a.jpg: the bucket is missing".into(),
            })
        );
    }

    #[test]
    fn output_that_is_no_failure_report_is_not_read_as_one() {
        assert_eq!(parse_failure("connection refused\n"), None);
        assert_eq!(parse_failure("Error: Missing\n"), None);
    }
}
