//! The S3-triggered Lambda that resizes, converts and compresses uploaded images into a
//! destination bucket.
//!
//! - [`config`]: the environment, validated once at start-up.
//! - [`event`]: what invoked the function (direct S3 events, SQS batches, S3's test event).
//! - [`pipeline`]: the pure image transform, bytes to encoded variants.
//! - [`s3_key`]: object keys decoded the way S3 encodes them in events.
//! - [`error`]: the crate's one error type and its bounded metric labels.
//!
//! Not here yet: S3 reads and writes, the Lambda handler and the metrics.

pub mod config;
pub mod error;
pub mod event;
pub mod pipeline;
pub mod s3_key;

pub use error::{Error, ErrorType};
