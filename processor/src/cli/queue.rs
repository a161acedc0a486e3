//! `backfill --via-queue`: one S3 event notification per object, sent to the processor's SQS
//! queue (Terraform's SQS-buffered mode), so the deployed function does the work with its own
//! concurrency, retries and dead-letter queue. The message is what S3 itself would send for the
//! upload, in the fields the function reads, with the listed ETag: an object replaced before
//! its message is handled is a stale event, skipped, since the new upload has its own.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use processor::s3_key;
use processor::storage::Listed;
use serde_json::{Value, json};

/// SQS's most messages per SendMessageBatch.
pub const BATCH: usize = 10;

/// The S3 event name of enqueued messages: an `ObjectCreated:*` the function handles like an
/// upload, and that tells an operator reading a failure report where the event came from.
pub const EVENT_NAME: &str = "ObjectCreated:Backfill";

#[derive(Debug, Clone)]
pub struct Queue {
    sdk: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(shared: &aws_config::SdkConfig, url: String) -> Self {
        Queue {
            sdk: aws_sdk_sqs::Client::new(shared),
            url,
        }
    }

    /// Sends one message per object in one call; the keys of those not enqueued, with why.
    pub async fn send(
        &self,
        bucket: &str,
        region: &str,
        objects: &[Listed],
    ) -> Vec<(String, String)> {
        let entries = objects
            .iter()
            .enumerate()
            .map(|(index, object)| {
                SendMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .message_body(event(bucket, region, object).to_string())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>();
        let request = match entries {
            Ok(entries) => self
                .sdk
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send(),
            Err(error) => return every(objects, &error.to_string()),
        };
        match request.await {
            Ok(answer) => answer
                .failed()
                .iter()
                .filter_map(|failed| {
                    let object = objects.get(failed.id().parse::<usize>().ok()?)?;
                    let message = failed.message().unwrap_or_default();
                    Some((
                        object.key.clone(),
                        format!("SQS {}: {message}", failed.code()),
                    ))
                })
                .collect(),
            Err(error) => every(
                objects,
                &format!(
                    "SQS SendMessageBatch failed: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(&error)
                ),
            ),
        }
    }
}

fn every(objects: &[Listed], message: &str) -> Vec<(String, String)> {
    objects
        .iter()
        .map(|object| (object.key.clone(), message.to_owned()))
        .collect()
}

/// An S3 event notification with one `ObjectCreated` record for `object`.
pub fn event(bucket: &str, region: &str, object: &Listed) -> Value {
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": region,
            "eventName": EVENT_NAME,
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                "object": {
                    "key": s3_key::encode(&object.key),
                    "size": object.size,
                    "eTag": object.e_tag,
                },
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use processor::event::{Invocation, MessageBody, Record};

    use super::*;

    #[test]
    fn enqueued_event_reads_back_as_the_listed_object() {
        let listed = Listed {
            key: "in/cat photo+1 été.jpg".to_owned(),
            e_tag: Some("abc123".to_owned()),
            size: Some(42),
        };
        let body = event("uploads", "eu-west-1", &listed).to_string();
        let sqs =
            json!({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": body}]});
        let Invocation::Sqs(messages) = Invocation::from_value(&sqs).unwrap() else {
            panic!("not read as an SQS batch");
        };
        let MessageBody::Records(records) = &messages[0].body else {
            panic!("body not read as S3 records: {:?}", messages[0].body);
        };
        let [Record::Created(object)] = records.as_slice() else {
            panic!("not one ObjectCreated record: {records:?}");
        };
        assert_eq!(object.bucket, "uploads");
        assert_eq!(object.key, listed.key);
        assert_eq!(object.e_tag.as_deref(), Some("abc123"));
        assert_eq!(object.size, Some(42));
        assert_eq!(object.event_name, EVENT_NAME);
    }
}
