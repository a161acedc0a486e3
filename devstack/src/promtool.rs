//! `promtool check metrics`: Prometheus' own parser and linter for an exposition.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::Error;

/// One lint finding: the metric family and what promtool says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub metric: String,
    pub text: String,
}

/// Lints `exposition`. An exposition promtool cannot parse is an error; a parsed one gives
/// its lint problems, none when promtool is satisfied.
pub fn check_metrics(exposition: &str) -> Result<Vec<Problem>, Error> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::Missing {
                what: "promtool",
                path: "promtool".into(),
            },
            _ => Error::Spawn {
                program: "promtool".into(),
                source,
            },
        })?;
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(exposition.as_bytes())?;
    let output = child.wait_with_output()?;
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    // promtool exits 0 when clean, 3 when it only found lint problems, 1 when it could not
    // parse the input.
    match output.status.code() {
        Some(0) => Ok(Vec::new()),
        Some(3) => Ok(report
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(metric, text)| Problem {
                metric: metric.to_owned(),
                text: text.to_owned(),
            })
            .collect()),
        _ => Err(Error::Exited {
            process: "promtool check metrics",
            status: output.status,
            log: report,
        }),
    }
}
