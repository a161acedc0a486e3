//! The README's run command: the local stack with sample Lambda data, until Ctrl-C.
//!
//! Starts the AWS emulator, feeds it the image processor's Lambda metrics, runs the exporter
//! (built next to this binary) and a real Prometheus scraping it, prints where everything is
//! and what the users' three queries answer, then keeps the function busy with a new burst
//! every 15 seconds.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use devstack::lambda::{self, Burst};
use devstack::{Error, Exporter, Moto, Prometheus};

const EXAMPLE_CONFIG: &str = "exporter/examples/lambda.yml";
const SCRAPE_SECONDS: u32 = 2;
const BURST_EVERY: Duration = Duration::from_secs(15);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Stopped) => {
            println!("\nStopped before the stack was up; nothing is left running.");
            ExitCode::from(130)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let root = devstack::workspace_root();
    let dir = root.join("target/devstack");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let exporter_binary = std::env::current_exe()?
        .parent()
        .map(|bin_dir| bin_dir.join("exporter"))
        .unwrap_or_else(|| PathBuf::from("exporter"));
    let stop = ctrl_c();

    let moto = Moto::start(&dir, Some(4566))?;
    let config = root.join(EXAMPLE_CONFIG);
    let exporter = Exporter::start(
        &exporter_binary,
        &config,
        &moto,
        SCRAPE_SECONDS,
        &dir,
        Some(5000),
    )?;
    let prometheus = Prometheus::start(&dir, &[exporter.address()], SCRAPE_SECONDS, Some(9090))?;

    println!(
        "AWS emulator (moto)  {}   pid {}",
        moto.endpoint(),
        moto.pid()
    );
    println!(
        "exporter             http://{}/metrics   pid {}",
        exporter.address(),
        exporter.pid()
    );
    println!(
        "Prometheus           {}   pid {}",
        prometheus.url(),
        prometheus.pid()
    );
    println!("config               {}", config.display());
    println!("logs                 {}", dir.display());
    println!();
    println!("Waiting for Prometheus to see the idle function, then a burst of uploads...");

    lambda::put_idle(&moto)?;
    lambda::wait_for_idle(&prometheus)?;
    let burst = burst_for(0);
    lambda::put_burst(&moto, &burst)?;
    let scraped_at = lambda::wait_for_burst(&prometheus, &burst)?;
    println!(
        "Put {} invocations, {} errors, mean duration {:.1} ms. The queries answer:",
        burst.total_invocations(),
        burst.total_errors(),
        burst.mean_duration_ms()
    );
    for (query, samples) in lambda::answers(&prometheus, Some(scraped_at))? {
        let values: Vec<String> = samples.iter().map(|s| s.value.to_string()).collect();
        println!("  {query}\n    = {}", values.join(", "));
    }
    println!();
    println!(
        "A new burst every {} s. Ctrl-C stops everything.",
        BURST_EVERY.as_secs()
    );

    for round in 1.. {
        match stop.recv_timeout(BURST_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => lambda::put_burst(&moto, &burst_for(round))?,
            _ => break,
        }
    }
    drop((prometheus, exporter, moto));
    println!("\nStopped the emulator, the exporter and Prometheus.");
    Ok(())
}

/// A burst that varies from round to round, so the graphs move.
fn burst_for(round: u32) -> Burst {
    let n = f64::from(round % 5);
    Burst {
        invocations: vec![3.0 + n, 4.0],
        errors: vec![f64::from(1 + round % 3)],
        durations_ms: vec![120.0 + 10.0 * n, 80.0, 250.5],
    }
}

/// A channel that receives once Ctrl-C (SIGINT) or SIGTERM arrives; the signal also stops
/// any wait of the start-up.
fn ctrl_c() -> mpsc::Receiver<()> {
    let (sender, receiver) = mpsc::channel();
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
        let _ = sender.send(());
    });
    receiver
}
