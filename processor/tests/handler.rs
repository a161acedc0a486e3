//! The handler against a real local S3 (moto server): images uploaded with the SDK, events
//! built the way S3 and the emulator shape them (keys `quote_plus`-encoded, no
//! `userIdentity`, `requestParameters` or `responseElements`), and the buckets read back
//! afterwards. Needs moto in `.venv/`; `scripts/test` installs it.

mod support;

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use devstack::Moto;
use devstack::moto::REGION;
use image::{DynamicImage, ImageFormat, RgbImage};
use processor::config::{Config, DEFAULT_CACHE_CONTROL};
use processor::error::StorageFailure;
use processor::event::Invocation;
use processor::handler::{self, Handled, Reply};
use processor::logging;
use processor::storage::S3;
use processor::{Error, ErrorType};
use serde_json::{Value, json};

const SOURCE: &str = "uploads";
const DESTINATION: &str = "processed";
const VARIANTS: &str = r#"[
    {"name": "thumb", "width": 100, "height": 100, "fit": "cover", "format": "webp", "quality": 80},
    {"name": "medium", "width": 800, "height": 800, "fit": "inside", "format": "jpeg", "quality": 85},
    {"name": "icon", "width": 64, "height": 64, "fit": "contain", "format": "png", "quality": 90}
]"#;

/// moto, a runtime and two clients on it: the handler's storage and a plain SDK client for
/// setting up and checking.
struct Stack {
    _moto: Moto,
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    sdk: aws_sdk_s3::Client,
    storage: S3,
}

/// What a GetObject returned, for assertions.
#[derive(Debug)]
struct Stored {
    bytes: Vec<u8>,
    content_type: Option<String>,
    cache_control: Option<String>,
    metadata: HashMap<String, String>,
    e_tag: String,
}

impl Stack {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let moto = Moto::start(dir.path(), None).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (shared, sdk) = support::moto_clients(&moto, &runtime);
        let stack = Stack {
            _moto: moto,
            _dir: dir,
            runtime,
            sdk,
            storage: S3::new(&shared),
        };
        for bucket in [SOURCE, DESTINATION] {
            stack
                .runtime
                .block_on(stack.sdk.create_bucket().bucket(bucket).send())
                .unwrap();
        }
        stack
    }

    /// Uploads `bytes` and returns the ETag as an event carries it, without quotes.
    fn upload(&self, key: &str, bytes: &[u8]) -> String {
        support::upload(&self.runtime, &self.sdk, SOURCE, key, bytes)
    }

    fn delete(&self, key: &str) {
        let delete = self.sdk.delete_object().bucket(SOURCE).key(key).send();
        self.runtime.block_on(delete).unwrap();
    }

    fn get(&self, bucket: &str, key: &str) -> Stored {
        self.runtime.block_on(async {
            let output = self
                .sdk
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
            Stored {
                content_type: output.content_type().map(str::to_owned),
                cache_control: output.cache_control().map(str::to_owned),
                metadata: output.metadata().cloned().unwrap_or_default(),
                e_tag: output.e_tag().unwrap_or_default().to_owned(),
                bytes: output.body.collect().await.unwrap().to_vec(),
            }
        })
    }

    fn keys(&self, bucket: &str) -> Vec<String> {
        let list = self.sdk.list_objects_v2().bucket(bucket).send();
        let output = self.runtime.block_on(list).unwrap();
        let mut keys: Vec<String> = output
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }

    fn handle(&self, config: &Config, payload: &Value) -> Handled {
        self.handle_logged(config, payload).0
    }

    /// Handles `payload` and returns the JSON log lines written meanwhile, in the format
    /// `main` installs.
    fn handle_logged(&self, config: &Config, payload: &Value) -> (Handled, Vec<Value>) {
        let invocation = Invocation::from_value(payload).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let buffer = Buffer::default();
        let logs = logging::subscriber(buffer.clone(), tracing::level_filters::LevelFilter::INFO);
        let handled = tracing::subscriber::with_default(logs, || {
            self.runtime.block_on(handler::handle(
                config,
                &self.storage,
                invocation,
                "req-1",
                deadline,
            ))
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        (handled, lines)
    }
}

/// Log output kept in memory.
#[derive(Debug, Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

fn config(overrides: &[(&str, &str)]) -> Config {
    let mut env: HashMap<&str, &str> = HashMap::from([
        ("SOURCE_BUCKET", SOURCE),
        ("SOURCE_PREFIX", "in/"),
        ("DESTINATION_BUCKET", DESTINATION),
        ("DESTINATION_PREFIX", "out/"),
        ("VARIANTS", VARIANTS),
        ("ENVIRONMENT", "test"),
    ]);
    env.extend(overrides.iter().copied());
    Config::from_lookup(|name| env.get(name).map(|value| (*value).to_owned())).unwrap()
}

/// Python's `urllib.parse.quote_plus`, which the emulator applies to keys in events.
fn quote_plus(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An `ObjectCreated:Put` record as the emulator writes it.
fn record(bucket: &str, key: &str, e_tag: &str) -> Value {
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2026-11-21T09:49:42.275Z", "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "processor",
            "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": quote_plus(key), "size": 1, "eTag": e_tag}
        }
    })
}

fn s3_event(records: &[Value]) -> Value {
    json!({ "Records": records })
}

fn sqs_event(messages: &[(&str, Value)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": "AQEB", "body": body.to_string(),
                "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                "md5OfBody": "x", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:uploads",
                "awsRegion": REGION
            })
        })
        .collect();
    json!({ "Records": records })
}

/// A photo-like gradient, `format`-encoded.
fn image_bytes(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut bytes, format)
        .unwrap();
    bytes.into_inner()
}

fn dimensions(bytes: &[u8], format: ImageFormat) -> (u32, u32) {
    let image = image::load_from_memory_with_format(bytes, format).unwrap();
    (image.width(), image.height())
}

#[test]
fn upload_becomes_every_variant_with_its_type_metadata_and_size() {
    let stack = Stack::start();
    let config = config(&[]);
    let key = "in/fotos/été 2026 (1)+a.jpg";
    let source = image_bytes(640, 480, ImageFormat::Jpeg);
    let e_tag = stack.upload(key, &source);

    let (handled, logs) = stack.handle_logged(&config, &s3_event(&[record(SOURCE, key, &e_tag)]));

    assert!(matches!(handled.reply, Reply::Done), "{:?}", handled.reply);
    let expected = [
        ("thumb", "webp", "image/webp", ImageFormat::WebP, (100, 100)),
        ("medium", "jpg", "image/jpeg", ImageFormat::Jpeg, (640, 480)),
        ("icon", "png", "image/png", ImageFormat::Png, (64, 64)),
    ];
    let mut bytes_out = 0;
    for (variant, extension, content_type, format, size) in expected {
        let output_key = format!("out/{variant}/in/fotos/été 2026 (1)+a.{extension}");
        let stored = stack.get(DESTINATION, &output_key);
        assert_eq!(stored.content_type.as_deref(), Some(content_type));
        assert_eq!(stored.cache_control.as_deref(), Some(DEFAULT_CACHE_CONTROL));
        assert_eq!(dimensions(&stored.bytes, format), size, "{output_key}");
        let metadata: HashMap<&str, &str> = stored
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            metadata,
            HashMap::from([
                ("source-bucket", SOURCE),
                ("source-key", "in/fotos/%C3%A9t%C3%A9 2026 (1)+a.jpg"),
                ("source-etag", e_tag.as_str()),
                ("variant", variant),
                ("width", size.0.to_string().as_str()),
                ("height", size.1.to_string().as_str()),
            ])
        );
        bytes_out += stored.bytes.len() as u64;
    }
    assert_eq!(stack.keys(DESTINATION).len(), 3);
    assert_eq!(handled.tally.images_processed, 1);
    assert_eq!(handled.tally.bytes_in, source.len() as u64);
    assert_eq!(handled.tally.bytes_out, bytes_out);
    assert_eq!(handled.tally.processing_errors(), 0);

    let [line] = logs.as_slice() else {
        panic!("expected one log line, got {logs:?}");
    };
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["requestId"], "req-1");
    assert_eq!(line["bucket"], SOURCE);
    assert_eq!(line["key"], key);
    assert_eq!(line["outcome"], "processed");
    assert_eq!(line["formatIn"], "JPEG");
    assert_eq!(
        (&line["widthIn"], &line["heightIn"]),
        (&json!(640), &json!(480))
    );
    assert_eq!(line["bytesIn"], source.len());
    assert_eq!(line["bytesOut"], bytes_out);
    assert!(line["durationMs"].as_f64().unwrap() > 0.0, "{line}");
    let outputs = line["outputs"].as_str().unwrap();
    assert!(outputs.starts_with("thumb 100x100 WebP "), "{outputs}");
    assert!(outputs.contains("medium 640x480 JPEG "), "{outputs}");
}

#[test]
fn corrupt_upload_gets_a_report_no_outputs_and_stays_untouched() {
    let stack = Stack::start();
    let config = config(&[]);
    // A PNG cut in half: its decoder refuses a missing end (as the pipeline does a JPEG's).
    let whole = image_bytes(640, 480, ImageFormat::Png);
    let truncated = &whole[..whole.len() / 2];
    let e_tag = stack.upload("in/broken.jpg", truncated);
    let before = stack.get(SOURCE, "in/broken.jpg");

    let (handled, logs) = stack.handle_logged(
        &config,
        &s3_event(&[record(SOURCE, "in/broken.jpg", &e_tag)]),
    );

    assert!(matches!(handled.reply, Reply::Done), "{:?}", handled.reply);
    assert_eq!(stack.keys(DESTINATION), ["out/_failed/in/broken.jpg.json"]);
    let report = stack.get(DESTINATION, "out/_failed/in/broken.jpg.json");
    assert_eq!(report.content_type.as_deref(), Some("application/json"));
    assert_eq!(report.metadata["error-type"], "Corrupt");
    let body: Value = serde_json::from_slice(&report.bytes).unwrap();
    assert_eq!(body["errorType"], "Corrupt");
    assert_eq!(body["sourceBucket"], SOURCE);
    assert_eq!(body["sourceKey"], "in/broken.jpg");
    assert_eq!(body["sourceETag"], e_tag.as_str());
    assert_eq!(body["sourceBytes"], truncated.len());
    assert_eq!(body["sourceFormat"], "PNG");
    assert_eq!(body["requestId"], "req-1");

    let after = stack.get(SOURCE, "in/broken.jpg");
    assert_eq!(after.bytes, truncated);
    assert_eq!(after.e_tag, before.e_tag);
    assert_eq!(after.metadata, before.metadata);
    assert_eq!(handled.tally.errors[&ErrorType::Corrupt], 1);
    assert_eq!(handled.tally.images_processed, 0);
    let [line] = logs.as_slice() else {
        panic!("expected one log line, got {logs:?}");
    };
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["outcome"], "failed");
    assert_eq!(line["errorType"], "Corrupt");
    assert_eq!(line["formatIn"], "PNG");
    assert_eq!(line["report"], "out/_failed/in/broken.jpg.json");
}

#[test]
fn upload_over_the_byte_limit_is_reported_without_outputs() {
    let stack = Stack::start();
    let config = config(&[("MAX_INPUT_BYTES", "1000")]);
    let source = image_bytes(640, 480, ImageFormat::Png);
    let e_tag = stack.upload("in/big.png", &source);

    let handled = stack.handle(&config, &s3_event(&[record(SOURCE, "in/big.png", &e_tag)]));

    assert!(matches!(handled.reply, Reply::Done), "{:?}", handled.reply);
    assert_eq!(stack.keys(DESTINATION), ["out/_failed/in/big.png.json"]);
    let report = stack.get(DESTINATION, "out/_failed/in/big.png.json");
    let body: Value = serde_json::from_slice(&report.bytes).unwrap();
    assert_eq!(body["errorType"], "TooLarge");
    assert_eq!(handled.tally.errors[&ErrorType::TooLarge], 1);
}

#[test]
fn event_for_a_deleted_object_is_skipped() {
    let stack = Stack::start();
    let config = config(&[]);
    let e_tag = stack.upload("in/gone.jpg", &image_bytes(64, 64, ImageFormat::Jpeg));
    stack.delete("in/gone.jpg");

    let handled = stack.handle(&config, &s3_event(&[record(SOURCE, "in/gone.jpg", &e_tag)]));

    assert!(matches!(handled.reply, Reply::Done), "{:?}", handled.reply);
    assert_eq!(stack.keys(DESTINATION), Vec::<String>::new());
    assert_eq!(handled.tally.images_skipped, 1);
    assert_eq!(handled.tally.processing_errors(), 0);
}

#[test]
fn event_for_a_replaced_object_is_skipped_and_the_newer_event_processed() {
    let stack = Stack::start();
    let config = config(&[]);
    let old = stack.upload("in/cat.jpg", &image_bytes(640, 480, ImageFormat::Jpeg));
    let new = stack.upload("in/cat.jpg", &image_bytes(320, 240, ImageFormat::Jpeg));
    assert_ne!(old, new);

    let stale = stack.handle(&config, &s3_event(&[record(SOURCE, "in/cat.jpg", &old)]));
    assert_eq!(stale.tally.images_skipped, 1);
    assert_eq!(stack.keys(DESTINATION), Vec::<String>::new());

    let fresh = stack.handle(&config, &s3_event(&[record(SOURCE, "in/cat.jpg", &new)]));
    assert_eq!(fresh.tally.images_processed, 1);
    let medium = stack.get(DESTINATION, "out/medium/in/cat.jpg");
    assert_eq!(dimensions(&medium.bytes, ImageFormat::Jpeg), (320, 240));
    assert_eq!(medium.metadata["source-etag"], new);
}

/// A record naming a bucket that does not exist is S3 refusing the read, not a fault of the
/// upload and not proof the object is gone (a wrong region or a missing permission answers
/// alike): it is retried, and dead-lettered if it keeps failing, never dropped.
#[test]
fn sqs_batch_retries_only_the_message_whose_bucket_is_missing() {
    let stack = Stack::start();
    let config = config(&[]);
    let a = stack.upload("in/a.jpg", &image_bytes(300, 200, ImageFormat::Jpeg));
    let c = stack.upload("in/c.png", &image_bytes(200, 300, ImageFormat::Png));
    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent",
        "Time": "2026-11-21T09:49:42.275Z", "Bucket": SOURCE});

    let handled = stack.handle(
        &config,
        &sqs_event(&[
            ("m-1", s3_event(&[record(SOURCE, "in/a.jpg", &a)])),
            (
                "m-2",
                s3_event(&[record("no-such-bucket", "in/b.jpg", "0123")]),
            ),
            ("m-3", test_event),
            ("m-4", s3_event(&[record(SOURCE, "in/c.png", &c)])),
        ]),
    );

    assert_eq!(
        handled.reply.into_result().unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
    );
    let outputs = stack.keys(DESTINATION);
    assert!(
        outputs.contains(&"out/thumb/in/a.webp".to_owned()),
        "{outputs:?}"
    );
    assert!(
        outputs.contains(&"out/thumb/in/c.webp".to_owned()),
        "{outputs:?}"
    );
    assert_eq!(outputs.len(), 6, "{outputs:?}");
    assert_eq!(handled.tally.images_processed, 2);
    assert_eq!(handled.tally.errors[&ErrorType::S3Refused], 1);
}

#[test]
fn direct_event_for_a_missing_bucket_fails_the_invocation() {
    let stack = Stack::start();
    let config = config(&[]);

    let handled = stack.handle(
        &config,
        &s3_event(&[record("no-such-bucket", "in/b.jpg", "0123")]),
    );

    match handled.reply {
        Reply::Retry(Error::Storage {
            operation: "GetObject",
            failure: StorageFailure::Refused,
            message,
        }) => assert!(message.contains("NoSuchBucket"), "{message}"),
        other => panic!("expected a refused GetObject, got {other:?}"),
    }
    assert_eq!(stack.keys(DESTINATION), Vec::<String>::new());
}
