//! The S3-triggered Lambda that resizes, converts and compresses uploaded images into a
//! destination bucket.
//!
//! - [`config`]: the environment, validated once at start-up.
//! - [`event`]: what invoked the function (direct S3 events, SQS batches, S3's test event).
//! - [`handler`]: one invocation, record by record: read, transform, write, report, log.
//! - [`pipeline`]: the pure image transform, bytes to encoded variants.
//! - [`storage`]: the S3 seam, a trait with the two calls used and its SDK adapter.
//! - [`metrics`]: the invocation's counts as CloudWatch Embedded Metric Format documents.
//! - [`logging`]: the JSON log format.
//! - [`s3_key`]: object keys decoded the way S3 encodes them in events.
//! - [`error`]: the crate's one error type and its bounded metric labels.

pub mod config;
pub mod error;
pub mod event;
pub mod handler;
pub mod logging;
pub mod metrics;
pub mod pipeline;
pub mod s3_key;
pub mod storage;

pub use error::{Error, ErrorType};
