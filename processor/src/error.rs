//! The crate's one error type. Each variant maps to an [`ErrorType`], a bounded label for the
//! `ErrorType` metric dimension, so a new failure mode is a new variant here and nowhere else.
//! The pipeline's errors are all permanent: the same bytes fail the same way on every retry.

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
}

/// The `ErrorType` metric dimension: a closed set, so the metric's cardinality stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    Config,
    Event,
    UnsupportedFormat,
    TooLarge,
    TooManyPixels,
    Corrupt,
    Transform,
    Encode,
}

impl ErrorType {
    /// Every label, for emitting zeros so alarms always see data.
    pub const ALL: [ErrorType; 8] = [
        ErrorType::Config,
        ErrorType::Event,
        ErrorType::UnsupportedFormat,
        ErrorType::TooLarge,
        ErrorType::TooManyPixels,
        ErrorType::Corrupt,
        ErrorType::Transform,
        ErrorType::Encode,
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
        }
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
        ];
        for error in &samples {
            assert!(ErrorType::ALL.contains(&error.error_type()), "{error}");
        }
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
