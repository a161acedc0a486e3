//! The crate's one error type. Each variant maps to an [`ErrorType`], a bounded label for the
//! `ErrorType` metric dimension, so a new failure mode is a new variant here and nowhere else.
//!
//! [`Error::is_retried`] splits them in two. The pipeline's errors and unreadable events are
//! permanent: the same bytes fail the same way on every retry, so they are recorded and
//! acknowledged. A failed S3 call or a deadline reached is not the upload's fault: the event is
//! left for Lambda to retry and, when retries run out, to dead-letter, so nothing is lost while
//! S3, the permissions or the configuration are being fixed.

use crate::s3_key::KeyError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The environment does not describe a usable function; every problem found, one per entry,
    /// each naming its variable.
    #[error("invalid configuration: {}", .0.join("; "))]
    Config(Vec<String>),
    /// The invocation payload, an SQS message or an S3 record cannot be read.
    #[error("unreadable event: {0}")]
    Event(String),
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Not an image, or an image in a format (or a variant of one) the pipeline does not read or
    /// write.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    /// The object has more bytes than the configured maximum.
    #[error("the object is {size} bytes, over the limit of {limit}")]
    TooLarge { size: u64, limit: u64 },
    /// The image has more pixels than the configured maximum, or a decoder hit its allocation
    /// limit.
    #[error("the image is too large to decode: {0}")]
    TooManyPixels(String),
    /// The bytes claim a supported format but do not decode as one.
    #[error("the {format} image cannot be decoded: {message}")]
    Corrupt {
        format: &'static str,
        message: String,
    },
    /// Resizing or colour conversion failed on a decoded image.
    #[error("the image cannot be transformed: {0}")]
    Transform(String),
    #[error("{format} encoding failed: {message}")]
    Encode {
        format: &'static str,
        message: String,
    },
    /// An S3 call failed; `message` carries the SDK's whole error chain.
    #[error("S3 {operation} failed ({failure}): {message}")]
    Storage {
        operation: &'static str,
        failure: StorageFailure,
        message: String,
    },
    /// Too little of the invocation's time was left for the step named.
    #[error("the invocation's deadline is near: {0}")]
    Deadline(String),
}

/// Why an S3 call failed, as far as the answer tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFailure {
    /// S3 could not answer now: a 5xx, throttling, a timeout, a broken connection.
    Unavailable,
    /// S3 answered no: access denied, no such bucket, an invalid request. A fix of the
    /// permissions or the configuration makes the same call succeed.
    Refused,
}

impl std::fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StorageFailure::Unavailable => "unavailable",
            StorageFailure::Refused => "refused",
        })
    }
}

/// The `ErrorType` metric dimension: a closed set, so the metric's cardinality stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorType {
    Config,
    Event,
    UnsupportedFormat,
    TooLarge,
    TooManyPixels,
    Corrupt,
    Transform,
    Encode,
    S3Unavailable,
    S3Refused,
    Deadline,
}

impl ErrorType {
    /// Every label.
    pub const ALL: [ErrorType; 11] = [
        ErrorType::Config,
        ErrorType::Event,
        ErrorType::UnsupportedFormat,
        ErrorType::TooLarge,
        ErrorType::TooManyPixels,
        ErrorType::Corrupt,
        ErrorType::Transform,
        ErrorType::Encode,
        ErrorType::S3Unavailable,
        ErrorType::S3Refused,
        ErrorType::Deadline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Config => "Config",
            ErrorType::Event => "Event",
            ErrorType::UnsupportedFormat => "UnsupportedFormat",
            ErrorType::TooLarge => "TooLarge",
            ErrorType::TooManyPixels => "TooManyPixels",
            ErrorType::Corrupt => "Corrupt",
            ErrorType::Transform => "Transform",
            ErrorType::Encode => "Encode",
            ErrorType::S3Unavailable => "S3Unavailable",
            ErrorType::S3Refused => "S3Refused",
            ErrorType::Deadline => "Deadline",
        }
    }
}

impl Error {
    pub fn error_type(&self) -> ErrorType {
        match self {
            Error::Config(_) => ErrorType::Config,
            Error::Event(_) | Error::Key(_) => ErrorType::Event,
            Error::UnsupportedFormat(_) => ErrorType::UnsupportedFormat,
            Error::TooLarge { .. } => ErrorType::TooLarge,
            Error::TooManyPixels(_) => ErrorType::TooManyPixels,
            Error::Corrupt { .. } => ErrorType::Corrupt,
            Error::Transform(_) => ErrorType::Transform,
            Error::Encode { .. } => ErrorType::Encode,
            Error::Storage {
                failure: StorageFailure::Unavailable,
                ..
            } => ErrorType::S3Unavailable,
            Error::Storage {
                failure: StorageFailure::Refused,
                ..
            } => ErrorType::S3Refused,
            Error::Deadline(_) => ErrorType::Deadline,
        }
    }

    /// True when the event must be retried (and in the end dead-lettered) rather than
    /// acknowledged: the failure is S3's, the setup's or the clock's, not the upload's.
    pub fn is_retried(&self) -> bool {
        matches!(self, Error::Storage { .. } | Error::Deadline(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_labels_are_distinct_and_cover_every_variant() {
        let labels: std::collections::HashSet<_> =
            ErrorType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(labels.len(), ErrorType::ALL.len());
        let samples = [
            Error::Config(vec!["X: missing".into()]),
            Error::Event("no Records".into()),
            Error::Key(KeyError::BadEscape("%".into())),
            Error::UnsupportedFormat("empty".into()),
            Error::TooLarge { size: 2, limit: 1 },
            Error::TooManyPixels("big".into()),
            Error::Corrupt {
                format: "PNG",
                message: "bad".into(),
            },
            Error::Transform("bad".into()),
            Error::Encode {
                format: "JPEG",
                message: "bad".into(),
            },
            Error::Storage {
                operation: "GetObject",
                failure: StorageFailure::Unavailable,
                message: "503 SlowDown".into(),
            },
            Error::Storage {
                operation: "GetObject",
                failure: StorageFailure::Refused,
                message: "NoSuchBucket".into(),
            },
            Error::Deadline("variant thumbnail".into()),
        ];
        let covered: std::collections::HashSet<_> = samples.iter().map(Error::error_type).collect();
        assert_eq!(covered.len(), ErrorType::ALL.len());
    }

    #[test]
    fn only_failures_outside_the_upload_are_retried() {
        let retried = Error::Storage {
            operation: "PutObject",
            failure: StorageFailure::Refused,
            message: "AccessDenied".into(),
        };
        assert!(retried.is_retried());
        assert!(Error::Deadline("record".into()).is_retried());
        assert!(!Error::TooLarge { size: 2, limit: 1 }.is_retried());
        assert!(!Error::Event("no bucket".into()).is_retried());
    }

    #[test]
    fn config_error_lists_every_problem_in_one_message() {
        let error = Error::Config(vec!["A: missing".into(), "B: not a number".into()]);
        assert_eq!(
            error.to_string(),
            "invalid configuration: A: missing; B: not a number"
        );
    }
}
