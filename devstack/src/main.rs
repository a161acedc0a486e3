//! The README's run command: the whole image pipeline locally, until Ctrl-C.
//!
//! Plays [`devstack::pipeline`]: the emulator with the stack in it, the processor behind
//! cargo-lambda's Runtime API, the exporter, Prometheus and Alertmanager with the deploy/ files;
//! a round of demo-image uploads every 20 s. Prints where everything is, the README's queries
//! once the first data reached Prometheus, and every alert as it turns pending, firing, arrives
//! at Alertmanager or resolves. The exporter and `bootstrap` are taken from beside this binary
//! (`scripts/run` builds them).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use devstack::Error;
use devstack::pipeline::{self, Binaries, Pipeline};

/// From the first upload: the exporter reads minutes that ended two minutes ago.
const DATA_TIMEOUT: Duration = Duration::from_secs(420);

fn main() -> ExitCode {
    // Ctrl-C also reaches the short-lived helpers in the terminal's process group (the seed
    // script, `cargo lambda invoke`), so whatever failed after it is the stop itself.
    let result = match run() {
        Err(_) if devstack::stop_requested() => Err(Error::Stopped),
        other => other,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Stopped) => {
            println!("\nStopped before the pipeline was up; nothing is left running.");
            ExitCode::from(130)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let started = Instant::now();
    let root = devstack::workspace_root();
    let dir = root.join("target/devstack");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let binaries = std::env::current_exe()?
        .parent()
        .map(Binaries::in_dir)
        .ok_or_else(|| std::io::Error::other("this binary has no folder"))?;
    ctrl_c();

    let say = &mut |line: &str| println!("{line}");
    let mut pipeline = Pipeline::start(&binaries, &dir, say)?;
    match watch(&mut pipeline, &dir, started) {
        Err(_) if devstack::stop_requested() => {}
        other => other?,
    }
    drop(pipeline);
    println!(
        "\nStopped the emulator, the processor and cargo-lambda, the exporter, Prometheus and \
         Alertmanager."
    );
    Ok(())
}

/// Prints where everything is, then plays rounds and reports until Ctrl-C.
fn watch(pipeline: &mut Pipeline, dir: &std::path::Path, started: Instant) -> Result<(), Error> {
    let say = &mut |line: &str| println!("{line}");
    let resources = pipeline.resources().clone();
    println!();
    println!(
        "AWS emulator (moto)  {}   pid {}",
        pipeline.moto().endpoint(),
        pipeline.moto().pid()
    );
    println!(
        "processor            {} (bootstrap behind cargo-lambda)   pid {}",
        resources.function,
        pipeline.function_pid()
    );
    println!(
        "exporter             http://{}/metrics   pid {}",
        pipeline.exporter().address(),
        pipeline.exporter().pid()
    );
    println!(
        "Prometheus           {}   pid {}",
        pipeline.prometheus().url(),
        pipeline.prometheus().pid()
    );
    println!(
        "Alertmanager         {}   pid {}",
        pipeline.alertmanager().url(),
        pipeline.alertmanager().pid()
    );
    println!(
        "stack ({})     s3://{}/uploads/ -> SQS {} (dead letters: {}) -> {} -> s3://{}/processed/; \
         table {}, state machine {}",
        resources.region,
        resources.source_bucket,
        resources.queue,
        resources.dead_letter_queue,
        resources.function,
        resources.destination_bucket,
        resources.table,
        resources.state_machine
    );
    println!("logs                 {}", dir.display());
    println!(
        "All up after {:.1} s. A round of demo-images/ uploads every {} s; per invocation the \
         local stand-in for the Lambda service publishes AWS/Lambda Invocations, Errors, Duration \
         and Throttles.",
        started.elapsed().as_secs_f64(),
        pipeline::ROUND_EVERY.as_secs()
    );
    println!();

    pipeline.play_until(
        "data in every query (the exporter reads minutes that ended 2 min ago, the rules run once a minute)",
        DATA_TIMEOUT,
        say,
        |pipeline| Ok(pipeline.data_arrived()?.then_some(())),
    )?;
    println!(
        "\nData in Prometheus after {:.1} s. The queries answer:",
        started.elapsed().as_secs_f64()
    );
    for (query, samples) in pipeline.answers()? {
        let values: Vec<String> = samples.iter().map(|s| format!("{:.3}", s.value)).collect();
        let values = if values.is_empty() {
            "no data yet".to_owned()
        } else {
            values.join(", ")
        };
        println!("  {query}\n    = {values}");
    }
    println!(
        "\nThe bad image (demo-images/broken-truncated.jpg) fails every round; alerts follow as \
         their rules' `for` passes. Ctrl-C stops everything.\n"
    );

    // Alert name and labels -> what was last said of it.
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    pipeline.play_forever(say, |pipeline| {
        let mut now: BTreeMap<String, String> = BTreeMap::new();
        for alert in pipeline.alerts()? {
            now.insert(describe(&alert), alert.state.clone());
        }
        for alert in pipeline.alertmanager().alerts()? {
            now.entry(describe(&alert))
                .and_modify(|state| *state = format!("{state}, {} in Alertmanager", alert.state));
        }
        for (alert, state) in &now {
            if known.get(alert) != Some(state) {
                println!("alert {alert}: {state}");
            }
        }
        for alert in known.keys().filter(|alert| !now.contains_key(*alert)) {
            println!("alert {alert}: resolved");
        }
        known = now;
        Ok(())
    })
}

/// `Name{severity="..."}`: what tells the alerts of the run apart.
fn describe(alert: &devstack::prometheus::Alert) -> String {
    format!("{}{{severity=\"{}\"}}", alert.name, alert.severity())
}

/// Ctrl-C (SIGINT) or SIGTERM makes every wait of the pipeline, start-up included, end with
/// [`Error::Stopped`].
fn ctrl_c() {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        devstack::request_stop();
    });
}
