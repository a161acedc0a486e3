//! The crate's one error type. Variants stay coarse so they can later become bounded label
//! values of the exporter's own health metrics.

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An AWS API call failed; `message` carries the SDK's whole error chain.
    #[error("{api} failed: {message}")]
    Aws { api: &'static str, message: String },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an SDK error with the name of the API that raised it, keeping every cause.
    pub fn aws(api: &'static str, error: impl std::error::Error) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Error::Aws { api, message }
    }
}
