//! The exporter's entry point: parse YACE-style flags, start logging, run, map to an exit code.

use std::process::ExitCode;

use exporter::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_yace_style(std::env::args_os());
    cli::init_logging(cli.log_level, cli.log_format);
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
