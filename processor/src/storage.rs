//! The narrow seam between the processor and Amazon S3. The handler sees only the [`Storage`]
//! trait and the plain types here; [`S3`] is the one place that names `aws_sdk_s3`, and the one
//! place that reads S3's answers: which ones mean the event is stale, which ones are worth a
//! retry.
//!
//! Two calls, the two the function's role allows:
//! - GetObject, pinned to what fired the event ([`Pin`]). Its response headers carry the
//!   object's size, which is checked against the limit before any of the body is read, so no
//!   HeadObject round trip is needed.
//! - PutObject, for variants and failure reports.
//!
//! Each attempt of a call is bounded by [`ATTEMPT_TIMEOUT`] (connect included), so one stuck
//! connection costs a retry, not the invocation's whole time budget.
//!
//! The command-line backfill also lists the source bucket and reads the metadata of outputs
//! ([`S3::list`], [`S3::metadata`]), outside the trait, since the Lambda does neither.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use crate::error::{Error, StorageFailure};

/// The longest one attempt of an S3 call may take until its response headers (a body is then
/// bounded by the invocation's deadline): far above S3's usual tens of milliseconds, far below a
/// Lambda timeout, so the SDK's retries still fit.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a connection may take to open (within an attempt).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The object an event names, and how to make sure the bytes read are the ones it announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceObject {
    pub bucket: String,
    pub key: String,
    pub pin: Pin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// The current object, only while its ETag is this one (`If-Match`): a newer upload or a
    /// deletion makes the event stale.
    ETag(String),
    /// This version of the object, for events that carry a version id but no ETag.
    Version(String),
    /// Whatever the key holds now, for events that carry neither.
    Latest,
}

/// The answer to a GetObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    Found(Fetched),
    /// The object is no longer the one the event announced. A newer upload sends its own event;
    /// a deletion means there is nothing left to do.
    Stale(Stale),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// Without the quotes S3 puts around it.
    pub e_tag: Option<String>,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// No such key, or no such version (404).
    Gone,
    /// The key now holds another object (412 on `If-Match`).
    Changed,
}

impl Stale {
    pub fn as_str(self) -> &'static str {
        match self {
            Stale::Gone => "gone",
            Stale::Changed => "changed",
        }
    }
}

/// An object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    pub bucket: String,
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: String,
    pub cache_control: Option<String>,
    /// User metadata (`x-amz-meta-<name>`); names and values printable ASCII.
    pub metadata: Vec<(String, String)>,
}

/// What the handler needs from S3.
pub trait Storage: Send + Sync {
    /// Reads `source`. An object of more than `max_bytes` is [`Error::TooLarge`], refused on
    /// its announced size before the body is read. A failed call is [`Error::Storage`].
    fn get(
        &self,
        source: &SourceObject,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Fetch, Error>> + Send;

    /// Writes `object`, replacing what its key held. A failed call is [`Error::Storage`].
    fn put(&self, object: NewObject) -> impl Future<Output = Result<(), Error>> + Send;
}

/// [`Storage`] over the AWS SDK.
#[derive(Debug, Clone)]
pub struct S3 {
    sdk: aws_sdk_s3::Client,
}

impl S3 {
    /// A client from the shared configuration. Path-style addressing when an endpoint is set
    /// (`AWS_ENDPOINT_URL`, the local emulator, which has no per-bucket host names); the SDK's
    /// own choice against AWS, where virtual-hosted style is the one S3 keeps supporting.
    pub fn new(shared: &aws_config::SdkConfig) -> Self {
        S3::with_attempt_timeout(shared, ATTEMPT_TIMEOUT)
    }

    /// [`S3::new`] with another bound on each attempt.
    pub fn with_attempt_timeout(shared: &aws_config::SdkConfig, attempt: Duration) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(attempt.min(CONNECT_TIMEOUT))
            .operation_attempt_timeout(attempt)
            .build();
        let config = aws_sdk_s3::config::Builder::from(shared)
            .force_path_style(shared.endpoint_url().is_some())
            .timeout_config(timeouts)
            .build();
        S3::from_sdk(aws_sdk_s3::Client::from_conf(config))
    }

    pub fn from_sdk(sdk: aws_sdk_s3::Client) -> Self {
        S3 { sdk }
    }

    /// Every object under `prefix` in `bucket` (ListObjectsV2, page by page), in key order.
    /// Not part of [`Storage`]: the backfill lists, the Lambda never does (its role may not).
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Listed>, Error> {
        let mut pages = self
            .sdk
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut listed = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|error| storage_error("ListObjectsV2", failure(&error), &error))?;
            listed.extend(page.contents().iter().filter_map(|object| {
                Some(Listed {
                    key: object.key()?.to_owned(),
                    e_tag: object.e_tag().map(|e_tag| unquoted(e_tag).to_owned()),
                    size: object.size().and_then(|size| u64::try_from(size).ok()),
                })
            }));
        }
        Ok(listed)
    }

    /// The user metadata of the object at `key`, `None` when there is no such object
    /// (HeadObject). For the backfill's check of what is already done.
    pub async fn metadata(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<HashMap<String, String>>, Error> {
        match self.sdk.head_object().bucket(bucket).key(key).send().await {
            Ok(head) => Ok(Some(head.metadata().cloned().unwrap_or_default())),
            // A HEAD answer has no body, so no error code: 404 alone says the key is free.
            Err(error) if error.raw_response().map(|raw| raw.status().as_u16()) == Some(404) => {
                Ok(None)
            }
            Err(error) => Err(storage_error("HeadObject", failure(&error), &error)),
        }
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    /// Without quotes.
    pub e_tag: Option<String>,
    pub size: Option<u64>,
}

impl Storage for S3 {
    async fn get(&self, source: &SourceObject, max_bytes: u64) -> Result<Fetch, Error> {
        let request = self
            .sdk
            .get_object()
            .bucket(&source.bucket)
            .key(&source.key);
        let request = match &source.pin {
            Pin::ETag(e_tag) => request.if_match(format!("\"{}\"", unquoted(e_tag))),
            Pin::Version(version_id) => request.version_id(version_id),
            Pin::Latest => request,
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return match answer(&error) {
                    Answer::Stale(stale) => Ok(Fetch::Stale(stale)),
                    Answer::Failed(failure) => Err(storage_error("GetObject", failure, &error)),
                };
            }
        };
        let announced = response
            .content_length()
            .and_then(|length| u64::try_from(length).ok());
        if let Some(size) = announced
            && size > max_bytes
        {
            // Dropping the body closes the connection without reading the rest.
            return Err(Error::TooLarge {
                size,
                limit: max_bytes,
            });
        }
        let e_tag = response.e_tag().map(|e_tag| unquoted(e_tag).to_owned());
        let version_id = response.version_id().map(str::to_owned);
        let mut body = response.body;
        let capacity = announced.and_then(|size| usize::try_from(size).ok());
        let mut bytes = Vec::with_capacity(capacity.unwrap_or_default());
        // The announced size is S3's word; the count here does not depend on it.
        while let Some(chunk) = body.try_next().await.map_err(|error| Error::Storage {
            operation: "GetObject",
            failure: StorageFailure::Unavailable,
            message: format!("reading the body: {}", DisplayErrorContext(&error)),
        })? {
            let size = u64::try_from(bytes.len() + chunk.len()).unwrap_or(u64::MAX);
            if size > max_bytes {
                return Err(Error::TooLarge {
                    size,
                    limit: max_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetch::Found(Fetched {
            bytes,
            e_tag,
            version_id,
        }))
    }

    async fn put(&self, object: NewObject) -> Result<(), Error> {
        let request = self
            .sdk
            .put_object()
            .bucket(object.bucket)
            .key(object.key)
            .body(ByteStream::from(object.body))
            .content_type(object.content_type)
            .set_cache_control(object.cache_control)
            .set_metadata(Some(object.metadata.into_iter().collect::<HashMap<_, _>>()));
        match request.send().await {
            Ok(_) => Ok(()),
            // Nothing a PutObject answers makes an event stale.
            Err(error) => Err(storage_error("PutObject", failure(&error), &error)),
        }
    }
}

/// S3 quotes ETags in headers; events carry them bare.
pub fn unquoted(e_tag: &str) -> &str {
    e_tag.trim_matches('"')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Stale(Stale),
    Failed(StorageFailure),
}

fn answer<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Answer {
    match error {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let status = error.raw_response().map(|raw| raw.status().as_u16());
            classify(status.unwrap_or_default(), error.code())
        }
        // Our own request could not be built or sent as asked; no retry changes that.
        SdkError::ConstructionFailure(_) => Answer::Failed(StorageFailure::Refused),
        SdkError::DispatchFailure(failure) if failure.is_user() => {
            Answer::Failed(StorageFailure::Refused)
        }
        // Timeouts, connection failures, and whatever the SDK adds later.
        _ => Answer::Failed(StorageFailure::Unavailable),
    }
}

/// The failure of a call that reads no particular version, where "stale" means nothing.
fn failure<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> StorageFailure {
    match answer(error) {
        Answer::Failed(failure) => failure,
        Answer::Stale(_) => StorageFailure::Refused,
    }
}

/// What an S3 error answer means, from its HTTP status and error code.
fn classify(status: u16, code: Option<&str>) -> Answer {
    match (status, code) {
        (404, Some("NoSuchKey" | "NoSuchVersion")) => Answer::Stale(Stale::Gone),
        (412, _) | (_, Some("PreconditionFailed")) => Answer::Stale(Stale::Changed),
        (
            _,
            Some(
                "SlowDown"
                | "Throttling"
                | "ThrottlingException"
                | "RequestTimeout"
                | "InternalError"
                | "ServiceUnavailable",
            ),
        ) => Answer::Failed(StorageFailure::Unavailable),
        (408 | 429 | 500..=599, _) => Answer::Failed(StorageFailure::Unavailable),
        // No such bucket, access denied, an invalid request, a response that cannot be read.
        _ => Answer::Failed(StorageFailure::Refused),
    }
}

fn storage_error(
    operation: &'static str,
    failure: StorageFailure,
    error: &(impl std::error::Error + 'static),
) -> Error {
    Error::Storage {
        operation,
        failure,
        message: DisplayErrorContext(error).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_s3_that_never_answers_is_unavailable_after_the_attempt_timeouts() {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
        // Accepts connections and never answers them.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = silent.local_addr().unwrap();
        let _held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((connection, _)) = silent.accept().await {
                held.push(connection);
            }
        });
        let shared = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(format!("http://{address}"))
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
                Credentials::for_tests(),
            ))
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .build();
        let s3 = S3::with_attempt_timeout(&shared, Duration::from_millis(200));
        let source = SourceObject {
            bucket: "uploads".into(),
            key: "photo.jpg".into(),
            pin: Pin::Latest,
        };
        let started = std::time::Instant::now();
        let error = s3.get(&source, 1 << 20).await.unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(
                error,
                Error::Storage {
                    operation: "GetObject",
                    failure: StorageFailure::Unavailable,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.is_retried(), "{error}");
        // Two attempts of 200 ms and the backoff between them, not the SDK's default of none.
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn missing_key_or_version_is_a_stale_event() {
        assert_eq!(classify(404, Some("NoSuchKey")), Answer::Stale(Stale::Gone));
        assert_eq!(
            classify(404, Some("NoSuchVersion")),
            Answer::Stale(Stale::Gone)
        );
    }

    #[test]
    fn failed_if_match_is_a_stale_event() {
        assert_eq!(
            classify(412, Some("PreconditionFailed")),
            Answer::Stale(Stale::Changed)
        );
        assert_eq!(classify(412, None), Answer::Stale(Stale::Changed));
    }

    #[test]
    fn server_errors_and_throttling_are_unavailable() {
        for (status, code) in [
            (500, Some("InternalError")),
            (503, Some("SlowDown")),
            (503, None),
            (400, Some("RequestTimeout")),
            (429, None),
        ] {
            assert_eq!(
                classify(status, code),
                Answer::Failed(StorageFailure::Unavailable),
                "{status} {code:?}"
            );
        }
    }

    #[test]
    fn missing_bucket_and_denied_access_are_refusals_not_stale_events() {
        for (status, code) in [
            (404, Some("NoSuchBucket")),
            (404, None),
            (403, Some("AccessDenied")),
            (400, Some("InvalidArgument")),
        ] {
            assert_eq!(
                classify(status, code),
                Answer::Failed(StorageFailure::Refused),
                "{status} {code:?}"
            );
        }
    }

    #[test]
    fn etags_lose_their_quotes() {
        assert_eq!(unquoted("\"abc-2\""), "abc-2");
        assert_eq!(unquoted("abc"), "abc");
    }
}
