//! The handler's decisions that need no S3: keys, header encoding, the deadline and the loop
//! guard, with a storage that fails the test if it is called. Everything that reads and writes
//! objects is tested against the emulator in `tests/handler.rs`.

use std::time::{Duration, Instant};

use super::*;
use crate::error::ErrorType;
use crate::event::Message;

/// A storage the handler must not touch.
struct Untouchable;

impl Storage for Untouchable {
    async fn get(&self, source: &SourceObject, _: u64) -> Result<Fetch, Error> {
        panic!("unexpected GetObject of {source:?}");
    }

    async fn put(&self, object: NewObject) -> Result<(), Error> {
        panic!("unexpected PutObject of {}", object.key);
    }
}

fn config() -> Config {
    let variants = r#"[{"name": "thumb", "width": 10, "height": 10, "fit": "cover", "format": "webp", "quality": 80}]"#;
    Config::from_lookup(|name| {
        Some(
            match name {
                "SOURCE_BUCKET" => "uploads",
                "SOURCE_PREFIX" => "in/",
                "DESTINATION_BUCKET" => "uploads",
                "DESTINATION_PREFIX" => "out/",
                "VARIANTS" => variants,
                "ENVIRONMENT" => "test",
                _ => return None,
            }
            .to_owned(),
        )
    })
    .unwrap()
}

fn created(bucket: &str, key: &str) -> Record {
    Record::Created(ObjectCreated {
        event_name: "ObjectCreated:Put".into(),
        bucket: bucket.into(),
        key: key.into(),
        size: Some(10),
        e_tag: Some("abc".into()),
        version_id: None,
        sequencer: None,
    })
}

fn run(invocation: Invocation, deadline: Instant) -> Handled {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(handle(&config(), &Untouchable, invocation, "r-1", deadline))
}

#[test]
fn output_key_replaces_the_last_extension_only() {
    let key = |source| output_key("out/", "thumb", source, OutputFormat::Webp);
    assert_eq!(key("in/cat photo.jpg"), "out/thumb/in/cat photo.webp");
    assert_eq!(
        key("in/a.b/photo.tar.png"),
        "out/thumb/in/a.b/photo.tar.webp"
    );
    assert_eq!(key("in/a.b/photo"), "out/thumb/in/a.b/photo.webp");
    assert_eq!(key("in/.hidden"), "out/thumb/in/.hidden.webp");
}

#[test]
fn report_key_keeps_the_whole_source_key() {
    assert_eq!(
        report_key("out/", "in/cat.jpg"),
        "out/_failed/in/cat.jpg.json"
    );
}

#[test]
fn metadata_values_outside_printable_ascii_are_percent_encoded() {
    assert_eq!(header_safe("in/cat photo.jpg"), "in/cat photo.jpg");
    assert_eq!(
        header_safe("fotos/été 100%.jpg"),
        "fotos/%C3%A9t%C3%A9 100%25.jpg"
    );
    assert_eq!(header_safe("a\nb"), "a%0Ab");
}

#[test]
fn no_record_starts_when_the_deadline_is_within_the_margin() {
    let messages = ["m-1", "m-2"]
        .map(|id| Message {
            message_id: id.into(),
            body: MessageBody::Records(vec![created("uploads", "in/cat.jpg")]),
        })
        .into();
    let handled = run(
        Invocation::Sqs(messages),
        Instant::now() + DEADLINE_MARGIN - Duration::from_millis(100),
    );
    assert!(
        matches!(&handled.reply, Reply::BatchItemFailures(ids) if ids == &["m-1", "m-2"]),
        "{:?}",
        handled.reply
    );
    assert_eq!(handled.tally.errors[&ErrorType::Deadline], 2);
}

#[test]
fn direct_invocation_past_its_deadline_fails_for_a_retry() {
    let handled = run(
        Invocation::S3(vec![created("uploads", "in/cat.jpg")]),
        Instant::now(),
    );
    assert!(
        matches!(handled.reply, Reply::Retry(Error::Deadline(_))),
        "{:?}",
        handled.reply
    );
}

#[test]
fn record_of_an_output_is_refused_unread_and_not_retried() {
    let handled = run(
        Invocation::S3(vec![created("uploads", "out/thumb/in/cat.webp")]),
        Instant::now() + Duration::from_secs(60),
    );
    assert!(matches!(handled.reply, Reply::Done), "{:?}", handled.reply);
    assert_eq!(handled.tally.errors[&ErrorType::Event], 1);
    assert_eq!(handled.tally.images_processed, 0);
}

#[test]
fn unreadable_messages_and_test_events_are_acknowledged() {
    let messages = vec![
        Message {
            message_id: "m-1".into(),
            body: MessageBody::TestEvent,
        },
        Message {
            message_id: "m-2".into(),
            body: MessageBody::Unreadable(Error::Event("body is not JSON".into())),
        },
        Message {
            message_id: "m-3".into(),
            body: MessageBody::Records(vec![Record::Ignored {
                event_name: "ObjectRemoved:Delete".into(),
            }]),
        },
    ];
    let handled = run(
        Invocation::Sqs(messages),
        Instant::now() + Duration::from_secs(60),
    );
    assert_eq!(
        handled.reply.into_result().unwrap(),
        json!({"batchItemFailures": []})
    );
    assert_eq!(handled.tally.processing_errors(), 1);
}

#[test]
fn batch_response_names_each_message_to_retry() {
    let reply = Reply::BatchItemFailures(vec!["m-2".into(), "m-5".into()]);
    assert_eq!(
        reply.into_result().unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-5"}]})
    );
}

#[test]
fn deadline_as_an_instant_leaves_the_time_until_it() {
    let now = std::time::UNIX_EPOCH + Duration::from_millis(1_796_160_000_000);
    assert_eq!(time_left(1_796_160_030_000, now), Duration::from_secs(30));
    assert_eq!(time_left(1_796_159_000_000, now), Duration::ZERO);
}

#[test]
fn deadline_sent_as_a_duration_by_an_emulator_is_that_duration() {
    let now = std::time::UNIX_EPOCH + Duration::from_millis(1_796_160_000_000);
    assert_eq!(time_left(600_000, now), Duration::from_secs(600));
}
