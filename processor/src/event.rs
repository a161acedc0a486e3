//! What invoked the function, read leniently: an S3 event delivered directly (asynchronous
//! invocation), a batch of SQS messages whose bodies are S3 events (or SNS notifications
//! wrapping them), or S3's `s3:TestEvent`.
//!
//! Only the fields the processor uses are read; the rest of a record may be missing or shaped
//! differently (the AWS emulator omits `userIdentity`, `requestParameters` and
//! `responseElements`), which is why these are our own structs and not `aws_lambda_events`'
//! strict `S3Event`. A record that cannot be used is kept as [`Record::Invalid`] beside the good
//! ones, and an unreadable SQS body as [`MessageBody::Unreadable`] with its message id, so one
//! bad entry never hides the others and every SQS message can be reported in
//! `batchItemFailures`.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::s3_key;

/// One invocation's payload.
#[derive(Debug)]
pub enum Invocation {
    /// S3 invoked the function directly.
    S3(Vec<Record>),
    /// Lambda polled these messages from an SQS queue.
    Sqs(Vec<Message>),
    /// S3's `s3:TestEvent`, sent when a notification configuration is saved: acknowledge it.
    TestEvent,
}

#[derive(Debug)]
pub struct Message {
    /// The id to report in `batchItemFailures` when this message must be retried.
    pub message_id: String,
    pub body: MessageBody,
}

#[derive(Debug)]
pub enum MessageBody {
    Records(Vec<Record>),
    TestEvent,
    /// Neither an S3 event nor a test event; retrying will not change that.
    Unreadable(Error),
}

#[derive(Debug)]
pub enum Record {
    Created(ObjectCreated),
    /// A record of another event type (`ObjectRemoved:*`, ...): nothing to do.
    Ignored {
        event_name: String,
    },
    /// An S3 record the processor cannot act on (no bucket, an undecodable key, ...).
    Invalid(Error),
}

/// An `ObjectCreated:*` record: the object to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    /// As S3 wrote it, for example `ObjectCreated:Put`.
    pub event_name: String,
    pub bucket: String,
    /// Decoded from the event's form encoding.
    pub key: String,
    pub size: Option<u64>,
    pub e_tag: Option<String>,
    pub version_id: Option<String>,
    /// Orders events for the same key (hexadecimal, compare as strings of equal length).
    pub sequencer: Option<String>,
}

impl Invocation {
    pub fn from_slice(payload: &[u8]) -> Result<Invocation, Error> {
        let value: Value = serde_json::from_slice(payload)
            .map_err(|e| Error::Event(format!("the payload is not JSON: {e}")))?;
        Invocation::from_value(&value)
    }

    /// Reads an invocation payload. Fails only when the payload as a whole is unusable.
    pub fn from_value(payload: &Value) -> Result<Invocation, Error> {
        if is_test_event(payload) {
            return Ok(Invocation::TestEvent);
        }
        let Some(records) = payload.get("Records").and_then(Value::as_array) else {
            return Err(Error::Event(
                "the payload has no Records list and is not an S3 test event".into(),
            ));
        };
        if records.first().is_some_and(is_sqs_record) {
            records
                .iter()
                .enumerate()
                .map(|(index, record)| message(index, record))
                .collect::<Result<_, _>>()
                .map(Invocation::Sqs)
        } else {
            Ok(Invocation::S3(records.iter().map(s3_record).collect()))
        }
    }
}

fn is_test_event(value: &Value) -> bool {
    value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

fn is_sqs_record(record: &Value) -> bool {
    record.get("eventSource").and_then(Value::as_str) == Some("aws:sqs")
        || record.get("messageId").is_some()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    message_id: String,
    body: String,
}

/// An SQS message without an id cannot be reported back, so it fails the whole batch.
fn message(index: usize, record: &Value) -> Result<Message, Error> {
    let raw = RawMessage::deserialize(record)
        .map_err(|e| Error::Event(format!("SQS record {index}: {e}")))?;
    Ok(Message {
        message_id: raw.message_id,
        body: message_body(&raw.body),
    })
}

fn message_body(body: &str) -> MessageBody {
    let value = match serde_json::from_str::<Value>(body) {
        Ok(value) => value,
        Err(e) => return MessageBody::Unreadable(Error::Event(format!("body is not JSON: {e}"))),
    };
    // S3 -> SNS -> SQS without raw delivery: the S3 event is the SNS notification's Message.
    let value = match (
        value.get("Type").and_then(Value::as_str),
        value.get("Message"),
    ) {
        (Some("Notification"), Some(Value::String(inner))) => {
            match serde_json::from_str::<Value>(inner) {
                Ok(inner) => inner,
                Err(e) => {
                    return MessageBody::Unreadable(Error::Event(format!(
                        "the SNS notification's Message is not JSON: {e}"
                    )));
                }
            }
        }
        _ => value,
    };
    if is_test_event(&value) {
        return MessageBody::TestEvent;
    }
    match value.get("Records").and_then(Value::as_array) {
        Some(records) => MessageBody::Records(records.iter().map(s3_record).collect()),
        None => MessageBody::Unreadable(Error::Event(
            "body has no Records list and is not an S3 test event".into(),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawS3Record {
    event_name: Option<String>,
    s3: Option<RawS3>,
}

#[derive(Deserialize)]
struct RawS3 {
    bucket: Option<RawBucket>,
    object: Option<RawObject>,
}

#[derive(Deserialize)]
struct RawBucket {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObject {
    key: Option<String>,
    size: Option<Size>,
    #[serde(alias = "etag")]
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// S3 writes a number; some producers write a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Number(u64),
    Text(String),
}

fn s3_record(record: &Value) -> Record {
    let raw = match RawS3Record::deserialize(record) {
        Ok(raw) => raw,
        Err(e) => return Record::Invalid(Error::Event(format!("S3 record: {e}"))),
    };
    let event_name = raw.event_name.unwrap_or_default();
    let bare_name = event_name.strip_prefix("s3:").unwrap_or(&event_name);
    if !bare_name.starts_with("ObjectCreated:") {
        return Record::Ignored { event_name };
    }
    let (bucket, object) = match raw.s3 {
        Some(RawS3 {
            bucket: Some(RawBucket { name: Some(bucket) }),
            object: Some(object),
        }) if !bucket.is_empty() => (bucket, object),
        _ => {
            return Record::Invalid(Error::Event(format!(
                "{event_name} record without s3.bucket.name or s3.object"
            )));
        }
    };
    let Some(encoded_key) = object.key.filter(|key| !key.is_empty()) else {
        return Record::Invalid(Error::Event(format!(
            "{event_name} record in bucket {bucket:?} without s3.object.key"
        )));
    };
    let key = match s3_key::decode(&encoded_key) {
        Ok(key) => key,
        Err(e) => return Record::Invalid(e.into()),
    };
    let size = match object.size {
        None => None,
        Some(Size::Number(size)) => Some(size),
        Some(Size::Text(text)) => match text.parse() {
            Ok(size) => Some(size),
            Err(_) => {
                return Record::Invalid(Error::Event(format!(
                    "s3://{bucket}/{key}: size {text:?} is not a number"
                )));
            }
        },
    };
    let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
    Record::Created(ObjectCreated {
        event_name,
        bucket,
        key,
        size,
        e_tag: non_empty(object.e_tag),
        version_id: non_empty(object.version_id),
        sequencer: non_empty(object.sequencer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as real S3 sends it, every field present.
    const S3_RECORD: &str = r#"{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
        "eventTime": "2026-11-21T09:49:42.275Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "processor",
            "bucket": {"name": "uploads", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                       "arn": "arn:aws:s3:::uploads"},
            "object": {"key": "uploads/cat+photo%C3%A9.jpg", "size": 1024,
                       "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                       "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                       "sequencer": "0055AED6DCD90281E5"}
        }
    }"#;

    /// A record as the AWS emulator (moto) sends it: no identity, request or response fields,
    /// no version id or sequencer, and `/` encoded in the key.
    const EMULATOR_RECORD: &str = r#"{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-21T09:49:42.275Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": "uploads", "arn": "arn:aws:s3:::uploads"},
               "object": {"key": "in%2Fcat+photo.jpg", "size": 12, "eTag": "abc"}}
    }"#;

    const TEST_EVENT: &str = r#"{"Service": "Amazon S3", "Event": "s3:TestEvent",
        "Time": "2026-11-21T09:49:42.275Z", "Bucket": "uploads",
        "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}"#;

    fn s3_event(records: &[&str]) -> String {
        format!(r#"{{"Records": [{}]}}"#, records.join(","))
    }

    fn sqs_event(bodies: &[(&str, &str)]) -> String {
        let records: Vec<String> = bodies
            .iter()
            .map(|(id, body)| {
                serde_json::json!({
                    "messageId": id, "receiptHandle": "AQEB", "body": body,
                    "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                    "md5OfBody": "x", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:uploads",
                    "awsRegion": "us-east-1"
                })
                .to_string()
            })
            .collect();
        format!(r#"{{"Records": [{}]}}"#, records.join(","))
    }

    fn direct(payload: &str) -> Vec<Record> {
        match Invocation::from_slice(payload.as_bytes()).unwrap() {
            Invocation::S3(records) => records,
            other => panic!("expected S3 records, got {other:?}"),
        }
    }

    fn created(record: &Record) -> &ObjectCreated {
        match record {
            Record::Created(created) => created,
            other => panic!("expected ObjectCreated, got {other:?}"),
        }
    }

    #[test]
    fn direct_s3_event_keeps_the_fields_the_processor_uses() {
        let records = direct(&s3_event(&[S3_RECORD]));
        assert_eq!(
            created(&records[0]),
            &ObjectCreated {
                event_name: "ObjectCreated:Put".into(),
                bucket: "uploads".into(),
                key: "uploads/cat photoé.jpg".into(),
                size: Some(1024),
                e_tag: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
                version_id: Some("096fKKXTRTtl3on89fVO.nfljtsv6qko".into()),
                sequencer: Some("0055AED6DCD90281E5".into()),
            }
        );
    }

    #[test]
    fn emulator_record_without_identity_fields_is_read() {
        let records = direct(&s3_event(&[EMULATOR_RECORD]));
        let object = created(&records[0]);
        assert_eq!(object.key, "in/cat photo.jpg");
        assert_eq!(object.size, Some(12));
        assert_eq!(object.version_id, None);
        assert_eq!(object.sequencer, None);
    }

    #[test]
    fn only_object_created_records_are_to_be_processed() {
        let removed = S3_RECORD.replace("ObjectCreated:Put", "ObjectRemoved:Delete");
        let prefixed = S3_RECORD.replace(
            "ObjectCreated:Put",
            "s3:ObjectCreated:CompleteMultipartUpload",
        );
        let records = direct(&s3_event(&[&removed, &prefixed]));
        assert!(
            matches!(&records[0], Record::Ignored { event_name } if event_name == "ObjectRemoved:Delete")
        );
        assert_eq!(
            created(&records[1]).event_name,
            "s3:ObjectCreated:CompleteMultipartUpload"
        );
    }

    #[test]
    fn a_bad_record_does_not_hide_the_good_ones() {
        let bad_key = EMULATOR_RECORD.replace("in%2Fcat+photo.jpg", "bad%zz.jpg");
        let no_bucket = r#"{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "a.jpg"}}}"#;
        let records = direct(&s3_event(&[&bad_key, EMULATOR_RECORD, no_bucket, "42"]));
        assert!(
            matches!(&records[0], Record::Invalid(Error::Key(_))),
            "{:?}",
            records[0]
        );
        assert_eq!(created(&records[1]).key, "in/cat photo.jpg");
        assert!(
            matches!(&records[2], Record::Invalid(Error::Event(_))),
            "{:?}",
            records[2]
        );
        assert!(
            matches!(&records[3], Record::Invalid(Error::Event(_))),
            "{:?}",
            records[3]
        );
    }

    #[test]
    fn size_written_as_a_string_is_read() {
        let record = EMULATOR_RECORD.replace(r#""size": 12"#, r#""size": "12""#);
        assert_eq!(created(&direct(&s3_event(&[&record]))[0]).size, Some(12));
    }

    #[test]
    fn sqs_messages_keep_their_ids_and_bodies() {
        let payload = sqs_event(&[
            ("m-1", &s3_event(&[EMULATOR_RECORD])),
            ("m-2", TEST_EVENT),
            ("m-3", "not json"),
            ("m-4", r#"{"hello": "world"}"#),
        ]);
        let Invocation::Sqs(messages) = Invocation::from_slice(payload.as_bytes()).unwrap() else {
            panic!("expected an SQS batch");
        };
        let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids, ["m-1", "m-2", "m-3", "m-4"]);
        let MessageBody::Records(records) = &messages[0].body else {
            panic!("expected records, got {:?}", messages[0].body);
        };
        assert_eq!(created(&records[0]).key, "in/cat photo.jpg");
        assert!(matches!(messages[1].body, MessageBody::TestEvent));
        assert!(matches!(messages[2].body, MessageBody::Unreadable(_)));
        assert!(matches!(messages[3].body, MessageBody::Unreadable(_)));
    }

    #[test]
    fn s3_event_inside_an_sns_notification_is_read() {
        let notification = serde_json::json!({
            "Type": "Notification", "MessageId": "n-1",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads",
            "Message": s3_event(&[EMULATOR_RECORD])
        })
        .to_string();
        let payload = sqs_event(&[("m-1", &notification)]);
        let Invocation::Sqs(messages) = Invocation::from_slice(payload.as_bytes()).unwrap() else {
            panic!("expected an SQS batch");
        };
        let MessageBody::Records(records) = &messages[0].body else {
            panic!("expected records, got {:?}", messages[0].body);
        };
        assert_eq!(created(&records[0]).bucket, "uploads");
    }

    #[test]
    fn test_event_is_recognised_directly_too() {
        assert!(matches!(
            Invocation::from_slice(TEST_EVENT.as_bytes()).unwrap(),
            Invocation::TestEvent
        ));
    }

    #[test]
    fn sqs_record_without_a_message_id_fails_the_batch() {
        let payload = r#"{"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}"#;
        let error = Invocation::from_slice(payload.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("messageId"), "{error}");
    }

    #[test]
    fn payload_of_another_shape_is_an_event_error() {
        for payload in [r#"{"detail-type": "Object Created"}"#, "[]", "nonsense"] {
            let error = Invocation::from_slice(payload.as_bytes()).unwrap_err();
            assert!(matches!(error, Error::Event(_)), "{payload}: {error}");
        }
    }
}
