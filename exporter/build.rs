//! Tells the crate its source revision and compiler for `cloudwatch_exporter_build_info`:
//! `EXPORTER_REVISION` from the environment when set (a build from a source archive), else
//! `git rev-parse --short=12 HEAD`, else `unknown`; `EXPORTER_RUSTC_VERSION` from `rustc -V`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=EXPORTER_REVISION");
    let revision = std::env::var("EXPORTER_REVISION")
        .ok()
        .or_else(|| output("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    // Rebuilt when HEAD moves: HEAD itself (detached) and the branch file it points to.
    if let Some(file) = output("git", &["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={file}");
    }
    if let Some(branch) = output("git", &["symbolic-ref", "-q", "HEAD"])
        && let Some(file) = output("git", &["rev-parse", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={file}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = output(&rustc, &["--version"])
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=EXPORTER_REVISION={revision}");
    println!("cargo:rustc-env=EXPORTER_RUSTC_VERSION={rustc_version}");
}

/// The trimmed standard output of a command that succeeded.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}
