//! The binary's behaviour on good and bad configuration, as a user meets it: exit codes and
//! the message on stderr, never a panic.

use std::path::Path;
use std::process::{Command, Output};

fn exporter(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exporter"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_example_config_verifies() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        if path
            .extension()
            .is_some_and(|ext| ext == "yml" || ext == "yaml")
        {
            let output = exporter(&["verify-config", "-config.file", path.to_str().unwrap()]);
            assert!(
                output.status.success(),
                "{}: {}",
                path.display(),
                stderr(&output)
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no example configs found");
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let output = exporter(&[
        "-config.file",
        "/nonexistent/config.yml",
        "-listen-address",
        "127.0.0.1:0",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim(),
        "error: cannot read config file /nonexistent/config.yml: No such file or directory (os error 2)"
    );
}

#[test]
fn a_bad_config_names_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yml");
    std::fs::write(
        &path,
        "apiVersion: v1alpha1\nstatic:\n  - name: lambda\n    namespace: AWS/Lambda\n    regions: [us-east-1]\n    metrics:\n      - name: Errors\n        statistics: [Sum]\n        length: often\n",
    )
    .unwrap();
    let output = exporter(&["vc", "--config.file", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: static[0].metrics[0].length: invalid type: string \"often\""),
        "{message}"
    );
    assert!(message.trim_end().ends_with("(line 9)"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}
