//! One invocation, from the parsed event to what Lambda is told: each record read, transformed
//! and written through [`Storage`], each isolated from the others, each logged on one JSON line
//! and counted in a [`Tally`] for the metrics. No SDK, no runtime, no stdout here: `main` wires
//! those in, tests pass the emulator or a fake.
//!
//! What happens to a record:
//! - Processed: every variant written to `<DESTINATION_PREFIX><variant>/<key without
//!   extension>.<ext>`, so a retry overwrites instead of duplicating. Two sources differing only
//!   in their extension share outputs; the later upload wins.
//! - Stale (the object was deleted or replaced since the event): skipped and counted; the newer
//!   upload has its own event.
//! - Failed for good (the upload is corrupt, unsupported, too large, too many pixels): a JSON
//!   report is written to `<DESTINATION_PREFIX>_failed/<key>.json`, the record is acknowledged
//!   and the source left as it is. A report object rather than a tag on the source, because the
//!   role may write only under the destination prefix (no `s3:PutObjectTagging`, nothing in the
//!   source bucket), and an operator lists one prefix to find every failure. Variants written
//!   before a late failure stay. Unreadable records have no object to report on; they are
//!   logged and counted only.
//! - Failed for now (an S3 call failed, the deadline is near; see [`Error::is_retried`]): the
//!   invocation fails (direct S3 events) or the message is listed in `batchItemFailures` (SQS),
//!   so Lambda retries it and in the end dead-letters it.
//!
//! [`process_object`] is one record's path on its own, for the command-line tools (`local`,
//! `backfill`), so they share every rule above with the Lambda.
//!
//! A record from the destination bucket under the destination prefix is refused unread: it is
//! one of our outputs, and processing it would start a loop.
//!
//! The pipeline (decoding, each variant's render) runs in tokio's blocking pool: it is
//! CPU-bound for tens to hundreds of milliseconds, which would stall the runtime's worker thread
//! and with it the S3 client's timers and connections.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tracing::{error, info, warn};

use crate::config::{Config, FAILURE_REPORTS};
use crate::error::Error;
use crate::event::{Invocation, MessageBody, ObjectCreated, Record};
use crate::metrics::Tally;
use crate::pipeline::{OutputFormat, Source, SourceFormat, sniff};
use crate::storage::{Fetch, NewObject, Pin, SourceObject, Stale, Storage, unquoted};

/// No record or variant is started, and no S3 call left running, once the invocation's deadline
/// is this close: the time to return the batch response and flush the logs and metrics.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// The user metadata on every output and failure report naming the source's ETag, by which a
/// backfill tells an object already processed from one changed since.
pub const SOURCE_ETAG: &str = "source-etag";

/// The time left before an invocation's deadline, given as the Runtime API's
/// `Lambda-Runtime-Deadline-Ms` (milliseconds since the Unix epoch). Local emulators differ:
/// cargo-lambda 1.9 sends the timeout itself (600000, ten minutes), which read as an instant
/// lies in 1970. A value before 2001 is no deadline any real invocation has, so it is read as
/// that duration rather than as a deadline already passed.
pub fn time_left(deadline_ms: u64, now: std::time::SystemTime) -> Duration {
    const EPOCH_2001_MS: u64 = 978_307_200_000;
    if deadline_ms < EPOCH_2001_MS {
        return Duration::from_millis(deadline_ms);
    }
    (std::time::UNIX_EPOCH + Duration::from_millis(deadline_ms))
        .duration_since(now)
        .unwrap_or_default()
}

/// What the invocation did and what Lambda is to be told.
#[derive(Debug)]
pub struct Handled {
    pub reply: Reply,
    pub tally: Tally,
}

#[derive(Debug)]
pub enum Reply {
    /// Nothing to retry.
    Done,
    /// An SQS batch: the ids of the messages to retry, none when all went through.
    BatchItemFailures(Vec<String>),
    /// A direct invocation with a record to retry: fail it, so Lambda retries the event.
    Retry(Error),
}

impl Reply {
    /// The response payload, or the error that fails the invocation.
    pub fn into_result(self) -> Result<Value, Error> {
        match self {
            Reply::Done => Ok(json!({})),
            Reply::BatchItemFailures(ids) => Ok(json!({
                "batchItemFailures": ids
                    .into_iter()
                    .map(|id| json!({"itemIdentifier": id}))
                    .collect::<Vec<_>>(),
            })),
            Reply::Retry(error) => Err(error),
        }
    }
}

/// Handles one invocation that must be finished by `deadline`.
pub async fn handle<S: Storage>(
    config: &Config,
    storage: &S,
    invocation: Invocation,
    request_id: &str,
    deadline: Instant,
) -> Handled {
    let mut run = Run::new(config, storage, request_id, deadline);
    let reply = match invocation {
        Invocation::TestEvent => {
            info!(requestId = request_id, "S3 test event acknowledged");
            Reply::Done
        }
        Invocation::S3(records) => match run.records(&records).await {
            Some(error) => Reply::Retry(error),
            None => Reply::Done,
        },
        Invocation::Sqs(messages) => {
            let mut failures = Vec::new();
            for message in messages {
                match &message.body {
                    MessageBody::Records(records) => {
                        if run.records(records).await.is_some() {
                            failures.push(message.message_id);
                        }
                    }
                    MessageBody::TestEvent => {
                        info!(
                            requestId = request_id,
                            messageId = message.message_id,
                            "S3 test event acknowledged"
                        );
                    }
                    MessageBody::Unreadable(error) => {
                        run.unreadable(error, Some(&message.message_id));
                    }
                }
            }
            Reply::BatchItemFailures(failures)
        }
    };
    Handled {
        reply,
        tally: run.tally,
    }
}

/// The [`Handled`] of a payload that is not an invocation the function knows: counted, logged,
/// and failed, so Lambda keeps the payload for its dead-letter queue.
pub fn unknown_payload(error: Error, request_id: &str) -> Handled {
    let mut tally = Tally::default();
    tally.failed(error.error_type());
    error!(
        requestId = request_id,
        errorType = error.error_type().as_str(),
        error = %error,
        "the payload is not an S3 or SQS event"
    );
    Handled {
        reply: Reply::Retry(error),
        tally,
    }
}

/// Processes one source object into its variants exactly as a record of an invocation is
/// processed (fetch pinned to `object`'s ETag or version, variants written under their output
/// keys with provenance metadata, a report for a permanent failure, one log line), with
/// `deadline` bounding the work. The command-line tools call this, so what they produce is what
/// the Lambda produces.
pub async fn process_object<S: Storage>(
    config: &Config,
    storage: &S,
    object: &ObjectCreated,
    request_id: &str,
    deadline: Instant,
) -> Processed {
    Run::new(config, storage, request_id, deadline)
        .process(object)
        .await
}

struct Run<'a, S> {
    config: &'a Config,
    storage: &'a S,
    request_id: &'a str,
    /// When work stops: the deadline less the margin.
    cutoff: tokio::time::Instant,
    tally: Tally,
}

/// What became of one source object.
#[derive(Debug)]
pub struct Processed {
    pub seen: Seen,
    /// An error for which [`Error::is_retried`] holds left the object for a retry; any other
    /// was reported under `_failed/` (or, for an output sent back to the function, logged).
    pub result: Result<Done, Error>,
    pub milliseconds: f64,
}

/// What was learnt about one image, for its log line, whatever the outcome.
#[derive(Debug, Default)]
pub struct Seen {
    pub bytes_in: Option<u64>,
    pub format_in: Option<&'static str>,
    pub width_in: Option<u32>,
    pub height_in: Option<u32>,
    pub e_tag: Option<String>,
    pub version_id: Option<String>,
    pub outputs: Vec<Written>,
    /// The key of the failure report, once written.
    pub report: Option<String>,
}

impl Seen {
    pub fn bytes_out(&self) -> u64 {
        self.outputs.iter().map(|o| o.bytes).sum()
    }

    /// The variants written, as the log line and the CLI show them:
    /// `thumb 200x150 jpeg 8123 B, large 800x600 webp 51234 B`.
    pub fn outputs_line(&self) -> String {
        let mut line = String::new();
        for (index, output) in self.outputs.iter().enumerate() {
            let separator = if index == 0 { "" } else { ", " };
            let _ = write!(
                line,
                "{separator}{} {}x{} {} {} B",
                output.variant,
                output.width,
                output.height,
                output.format.name(),
                output.bytes
            );
        }
        line
    }
}

/// One variant written.
#[derive(Debug)]
pub struct Written {
    pub variant: String,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

#[derive(Debug)]
pub enum Done {
    Processed,
    Stale(Stale),
}

impl<'a, S: Storage> Run<'a, S> {
    fn new(config: &'a Config, storage: &'a S, request_id: &'a str, deadline: Instant) -> Self {
        Run {
            config,
            storage,
            request_id,
            cutoff: tokio::time::Instant::from_std(
                deadline
                    .checked_sub(DEADLINE_MARGIN)
                    .unwrap_or_else(Instant::now),
            ),
            tally: Tally::default(),
        }
    }

    /// Handles every record; the first failure to retry, if any.
    async fn records(&mut self, records: &[Record]) -> Option<Error> {
        let mut retry = None;
        for record in records {
            match record {
                Record::Created(object) => {
                    if let Err(error) = self.image(object).await {
                        retry.get_or_insert(error);
                    }
                }
                Record::Ignored { event_name } => {
                    info!(
                        requestId = self.request_id,
                        eventName = event_name,
                        "record ignored"
                    );
                }
                Record::Invalid(error) => self.unreadable(error, None),
            }
        }
        retry
    }

    fn unreadable(&mut self, error: &Error, message_id: Option<&str>) {
        self.tally.failed(error.error_type());
        warn!(
            requestId = self.request_id,
            messageId = message_id,
            outcome = "failed",
            errorType = error.error_type().as_str(),
            error = %error,
            "record unreadable"
        );
    }

    /// Processes one object and counts it; an error only when the record must be retried.
    async fn image(&mut self, object: &ObjectCreated) -> Result<(), Error> {
        let Processed {
            seen,
            result,
            milliseconds,
        } = self.process(object).await;
        match result {
            Ok(Done::Processed) => {
                self.tally.processed(
                    milliseconds,
                    seen.bytes_in.unwrap_or_default(),
                    seen.bytes_out(),
                );
                Ok(())
            }
            Ok(Done::Stale(_)) => {
                self.tally.skipped();
                Ok(())
            }
            Err(error) => {
                self.tally.failed(error.error_type());
                if error.is_retried() {
                    Err(error)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Processes one object: its variants or its failure report, and its log line.
    async fn process(&self, object: &ObjectCreated) -> Processed {
        let started = Instant::now();
        let mut seen = Seen {
            e_tag: object.e_tag.as_deref().map(|e| unquoted(e).to_owned()),
            version_id: object.version_id.clone(),
            ..Seen::default()
        };
        let result = if object.bucket == self.config.destination_bucket
            && object.key.starts_with(&self.config.destination_prefix)
        {
            Err(Error::Event(format!(
                "s3://{}/{} is under DESTINATION_PREFIX: processing an output again would \
                 loop; the bucket notification must cover SOURCE_PREFIX only",
                object.bucket, object.key
            )))
        } else {
            self.transform(object, &mut seen).await
        };
        let result = match result {
            Err(error) if !error.is_retried() && !matches!(error, Error::Event(_)) => {
                // A report that cannot be written leaves the record to be retried.
                match self.report(object, &mut seen, &error).await {
                    Ok(()) => Err(error),
                    Err(report_error) => {
                        warn!(
                            requestId = self.request_id,
                            bucket = object.bucket,
                            key = object.key,
                            errorType = error.error_type().as_str(),
                            error = %error,
                            "image failed; its report could not be written"
                        );
                        Err(report_error)
                    }
                }
            }
            other => other,
        };
        let milliseconds = started.elapsed().as_secs_f64() * 1000.0;
        self.log(object, &seen, &result, milliseconds);
        Processed {
            seen,
            result,
            milliseconds,
        }
    }

    async fn transform(&self, object: &ObjectCreated, seen: &mut Seen) -> Result<Done, Error> {
        self.before_deadline("reading the image")?;
        let source = SourceObject {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            pin: match (&seen.e_tag, &object.version_id) {
                (Some(e_tag), _) => Pin::ETag(e_tag.clone()),
                (None, Some(version_id)) => Pin::Version(version_id.clone()),
                (None, None) => Pin::Latest,
            },
        };
        let limits = &self.config.limits;
        let fetched = match self
            .within_deadline(
                "GetObject",
                self.storage.get(&source, limits.max_input_bytes),
            )
            .await?
        {
            Fetch::Found(fetched) => fetched,
            Fetch::Stale(stale) => return Ok(Done::Stale(stale)),
        };
        seen.bytes_in = u64::try_from(fetched.bytes.len()).ok();
        if fetched.e_tag.is_some() {
            seen.e_tag = fetched.e_tag;
        }
        if fetched.version_id.is_some() {
            seen.version_id = fetched.version_id;
        }

        // Known before decoding, so a report of a corrupt file names what it claimed to be.
        seen.format_in = sniff(&fetched.bytes).ok().map(SourceFormat::name);
        let (bytes, limits) = (fetched.bytes, *limits);
        let variants = self.config.variants.clone();
        let image = Arc::new(
            off_the_runtime(move || Source::decode_for(&bytes, &limits, &variants)).await?,
        );
        seen.width_in = Some(image.width());
        seen.height_in = Some(image.height());

        for variant in &self.config.variants {
            self.before_deadline(&format!("variant {}", variant.name))?;
            let (image, to_render) = (Arc::clone(&image), variant.clone());
            let output = off_the_runtime(move || image.render(&to_render)).await?;
            let bytes = u64::try_from(output.bytes.len()).unwrap_or(u64::MAX);
            let mut metadata = self.provenance(object, seen);
            metadata.extend([
                ("variant".to_owned(), variant.name.clone()),
                ("width".to_owned(), output.width.to_string()),
                ("height".to_owned(), output.height.to_string()),
            ]);
            let put = self.storage.put(NewObject {
                bucket: self.config.destination_bucket.clone(),
                key: output_key(
                    &self.config.destination_prefix,
                    &variant.name,
                    &object.key,
                    output.format,
                ),
                body: output.bytes,
                content_type: output.content_type.to_owned(),
                cache_control: Some(self.config.cache_control.clone()),
                metadata,
            });
            self.within_deadline("PutObject", put).await?;
            seen.outputs.push(Written {
                variant: variant.name.clone(),
                format: output.format,
                width: output.width,
                height: output.height,
                bytes,
            });
        }
        Ok(Done::Processed)
    }

    /// Writes the failure report of `object`.
    async fn report(
        &self,
        object: &ObjectCreated,
        seen: &mut Seen,
        error: &Error,
    ) -> Result<(), Error> {
        let body = json!({
            "sourceBucket": object.bucket,
            "sourceKey": object.key,
            "sourceETag": seen.e_tag,
            "sourceVersionId": seen.version_id,
            "sourceBytes": seen.bytes_in,
            "sourceFormat": seen.format_in,
            "eventName": object.event_name,
            "errorType": error.error_type().as_str(),
            "error": error.to_string(),
            "requestId": self.request_id,
        });
        let mut metadata = self.provenance(object, seen);
        metadata.push((
            "error-type".to_owned(),
            error.error_type().as_str().to_owned(),
        ));
        let key = report_key(&self.config.destination_prefix, &object.key);
        let put = self.storage.put(NewObject {
            bucket: self.config.destination_bucket.clone(),
            key: key.clone(),
            body: serde_json::to_vec_pretty(&body).unwrap_or_default(),
            content_type: "application/json".to_owned(),
            cache_control: None,
            metadata,
        });
        self.within_deadline("PutObject", put).await?;
        seen.report = Some(key);
        Ok(())
    }

    /// The metadata that links an output or a report back to its source.
    fn provenance(&self, object: &ObjectCreated, seen: &Seen) -> Vec<(String, String)> {
        let mut metadata = vec![
            ("source-bucket".to_owned(), object.bucket.clone()),
            (
                "source-key".to_owned(),
                header_safe(&object.key).into_owned(),
            ),
        ];
        if let Some(e_tag) = &seen.e_tag {
            metadata.push((SOURCE_ETAG.to_owned(), header_safe(e_tag).into_owned()));
        }
        if let Some(version_id) = &seen.version_id {
            metadata.push((
                "source-version-id".to_owned(),
                header_safe(version_id).into_owned(),
            ));
        }
        metadata
    }

    fn before_deadline(&self, step: &str) -> Result<(), Error> {
        if tokio::time::Instant::now() >= self.cutoff {
            return Err(Error::Deadline(format!("{step} not started")));
        }
        Ok(())
    }

    async fn within_deadline<T>(
        &self,
        operation: &str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        tokio::time::timeout_at(self.cutoff, call)
            .await
            .unwrap_or_else(|_| Err(Error::Deadline(format!("{operation} abandoned"))))
    }

    /// The image's one log line.
    fn log(
        &self,
        object: &ObjectCreated,
        seen: &Seen,
        result: &Result<Done, Error>,
        milliseconds: f64,
    ) {
        let outputs = seen.outputs_line();
        let bytes_out = seen.bytes_out();
        let (outcome, error) = match result {
            Ok(Done::Processed) => ("processed", None),
            Ok(Done::Stale(_)) => ("stale", None),
            Err(error) if error.is_retried() => ("retry", Some(error)),
            Err(error) => ("failed", Some(error)),
        };
        let stale = match result {
            Ok(Done::Stale(stale)) => Some(stale.as_str()),
            _ => None,
        };
        let error_type = error.map(|e| e.error_type().as_str());
        let error = error.map(tracing::field::display);
        macro_rules! line {
            ($level:ident, $message:literal) => {
                $level!(
                    requestId = self.request_id,
                    bucket = object.bucket,
                    key = object.key,
                    bytesIn = seen.bytes_in,
                    formatIn = seen.format_in,
                    widthIn = seen.width_in,
                    heightIn = seen.height_in,
                    bytesOut = bytes_out,
                    outputs = outputs,
                    durationMs = milliseconds,
                    outcome = outcome,
                    stale = stale,
                    errorType = error_type,
                    error = error,
                    report = seen.report,
                    $message
                )
            };
        }
        match outcome {
            "processed" => line!(info, "image processed"),
            "stale" => line!(info, "stale event skipped"),
            // The upload's fault: counted in ProcessingErrors, reported, not an operator's
            // emergency.
            "failed" => line!(warn, "image failed"),
            _ => line!(error, "image left for a retry"),
        }
    }
}

/// Runs a pipeline step on tokio's blocking pool. The step catches its decoders' panics itself;
/// one escaping anyway is a bug of ours and fails this image as a transform error, not the batch.
async fn off_the_runtime<T: Send + 'static>(
    step: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(step)
        .await
        .unwrap_or_else(|joined| Err(Error::Transform(format!("the pipeline stopped: {joined}"))))
}

/// `<prefix><variant>/<source key without its extension>.<ext>`.
pub fn output_key(prefix: &str, variant: &str, source_key: &str, format: OutputFormat) -> String {
    format!(
        "{prefix}{variant}/{}.{}",
        without_extension(source_key),
        format.extension()
    )
}

/// `<prefix>_failed/<source key>.json`.
pub fn report_key(prefix: &str, source_key: &str) -> String {
    format!("{prefix}{FAILURE_REPORTS}/{source_key}.json")
}

/// The key less the last `.<ext>` of its last segment; a leading dot is a name, not an extension.
fn without_extension(key: &str) -> &str {
    let name = key.rfind('/').map_or(0, |slash| slash + 1);
    match key[name..].rfind('.') {
        Some(dot) if dot > 0 => &key[..name + dot],
        _ => key,
    }
}

/// User metadata travels in HTTP headers, printable ASCII only: other bytes, and `%`, are
/// percent-encoded as in a URL (`été` -> `%C3%A9t%C3%A9`).
pub fn header_safe(value: &str) -> Cow<'_, str> {
    let plain = |b: u8| (0x20..0x7F).contains(&b) && b != b'%';
    if value.bytes().all(plain) {
        return Cow::Borrowed(value);
    }
    let mut encoded = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if plain(byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    Cow::Owned(encoded)
}

#[cfg(test)]
mod tests;
