//! The log format: one JSON object a line, the event's fields at the top level (not nested under
//! `fields`), no span lists, so CloudWatch Logs Insights and metric filters such as
//! `{ $.level = "ERROR" }` read each field by its name. Metrics never go through here; see
//! `metrics`.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The subscriber `main` installs, writing to `writer` at `level` and above.
pub fn subscriber<W>(writer: W, level: LevelFilter) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(level)
        .with_writer(writer)
        .finish()
}

/// The level Lambda's logging configuration asks for: `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
/// else INFO.
pub fn level_from_env() -> LevelFilter {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(LevelFilter::INFO)
}
