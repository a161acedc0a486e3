//! A drop-in replacement for YACE (yet-another-cloudwatch-exporter): reads YACE's configuration,
//! polls CloudWatch in the background and serves the last complete scrape on `/metrics` under
//! YACE's exact series names and labels, so existing queries and dashboards keep working.
//!
//! The flow is config -> scrape -> snapshot -> HTTP: [`config`] validates the file once,
//! [`scrape`] turns jobs into CloudWatch queries and the answers into series (their
//! [`labels`] shared, not copied), [`snapshot`] freezes a scrape for encoding, [`server`] only
//! ever encodes the latest snapshot.

pub mod apigateway;
pub mod associator;
pub mod cache;
pub mod calls;
pub mod cli;
pub mod cloudwatch;
pub mod config;
pub mod discovery;
pub mod error;
pub mod labels;
pub mod logs;
pub mod naming;
pub mod plan;
pub mod scheduler;
pub mod scrape;
pub mod self_metrics;
pub mod server;
pub mod services;
pub mod shard;
pub mod snapshot;
pub mod tagging;

pub use error::Error;
