//! The built `bootstrap` binary as Lambda runs it: its own process polling cargo-lambda's
//! Runtime API emulator, configured through the environment, reading and writing a real local
//! S3 (moto server), and invoked with `cargo lambda invoke` and the event fixtures in
//! `tests/events/` (a direct S3 event in AWS's full shape, an SQS batch in the emulator's
//! shape, S3's test event). Needs moto and cargo-lambda in `.venv/`; `scripts/test` installs
//! them.

mod support;

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

use devstack::Moto;
use devstack::cargo_lambda::{Answer, CargoLambda};
use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::{Value, json};

const FUNCTION: &str = "image-processor-test";
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// moto, the function behind the emulator, and an SDK client for setting up and checking.
struct Stack {
    // Dropped in this order: the function before the emulator it talks to.
    lambda: CargoLambda,
    _moto: Moto,
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    sdk: aws_sdk_s3::Client,
}

impl Stack {
    /// Starts everything with `buckets` created.
    fn start(buckets: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let moto = Moto::start(dir.path(), None).unwrap();
        let mut env = moto.aws_env();
        env.extend([
            ("SOURCE_BUCKET", "uploads".into()),
            ("SOURCE_PREFIX", "in/".into()),
            ("DESTINATION_BUCKET", "processed".into()),
            ("DESTINATION_PREFIX", "out/".into()),
            (
                "VARIANTS",
                json!([
                    {"name": "thumb", "width": 120, "height": 120, "fit": "cover", "format": "webp", "quality": 80},
                    {"name": "large", "width": 800, "height": 800, "fit": "inside", "format": "jpeg", "quality": 80}
                ])
                .to_string(),
            ),
            ("ENVIRONMENT", "test".into()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ]);
        let lambda = CargoLambda::start(
            Path::new(env!("CARGO_BIN_EXE_bootstrap")),
            FUNCTION,
            &env,
            dir.path(),
        )
        .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (_, sdk) = support::moto_clients(&moto, &runtime);
        for bucket in buckets {
            runtime
                .block_on(sdk.create_bucket().bucket(*bucket).send())
                .unwrap();
        }
        Stack {
            lambda,
            _moto: moto,
            _dir: dir,
            runtime,
            sdk,
        }
    }

    /// Uploads `bytes` to the source bucket and returns the ETag without its quotes.
    fn upload(&self, key: &str, bytes: &[u8]) -> String {
        support::upload(&self.runtime, &self.sdk, "uploads", key, bytes)
    }

    /// The object's body and Content-Type.
    fn get(&self, bucket: &str, key: &str) -> (Vec<u8>, Option<String>) {
        self.runtime.block_on(async {
            let output = self
                .sdk
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
            let content_type = output.content_type().map(str::to_owned);
            (output.body.collect().await.unwrap().to_vec(), content_type)
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

    /// Invokes the function and returns its answer with the lines it wrote meanwhile.
    fn invoke(&mut self, payload: &Value) -> (Answer, Vec<Value>) {
        let before = self.lambda.function_log().len();
        let answer = self.lambda.invoke(payload, INVOKE_TIMEOUT).unwrap();
        let lines = self.lambda.function_log()[before..]
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        (answer, lines)
    }
}

/// An event fixture from `tests/events/`.
fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Puts the ETag of each uploaded object into the records naming its (event-encoded) key, in
/// the event itself or in its SQS messages' bodies, as S3 would have written it.
fn pin_etags(event: &mut Value, e_tags: &HashMap<&str, String>) {
    for record in event["Records"].as_array_mut().unwrap() {
        let Some(body) = record["body"].as_str() else {
            pin_etag(record, e_tags);
            continue;
        };
        let mut inner: Value = serde_json::from_str(body).unwrap();
        for inner_record in inner["Records"].as_array_mut().into_iter().flatten() {
            pin_etag(inner_record, e_tags);
        }
        record["body"] = json!(inner.to_string());
    }
}

fn pin_etag(record: &mut Value, e_tags: &HashMap<&str, String>) {
    let object = &mut record["s3"]["object"];
    if let Some(e_tag) = object["key"].as_str().and_then(|key| e_tags.get(key)) {
        object["eTag"] = json!(e_tag);
    }
}

/// A photo-like gradient, `format`-encoded.
fn photo(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 96])
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

/// The function's EMF document among `lines` with the invocation's totals: the one carrying
/// `_aws` and no `ErrorType` (each error type gets a document of its own).
fn metrics(lines: &[Value]) -> &Value {
    let documents: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("_aws").is_some() && line.get("ErrorType").is_none())
        .collect();
    let [document] = documents.as_slice() else {
        panic!("expected one EMF document of totals, got {lines:?}");
    };
    document
}

/// The `ProcessingErrors` count of the EMF document for `error_type`.
fn errors_of_type(lines: &[Value], error_type: &str) -> Option<u64> {
    lines
        .iter()
        .find(|line| line.get("_aws").is_some() && line["ErrorType"] == error_type)
        .and_then(|line| line["ProcessingErrors"].as_u64())
}

#[test]
fn direct_s3_event_makes_the_variants_and_reports_the_broken_upload() {
    let mut stack = Stack::start(&["uploads", "processed"]);
    let photo_bytes = photo(1600, 1200, ImageFormat::Jpeg);
    let broken = &photo(64, 64, ImageFormat::Png)[..200];
    let e_tags = HashMap::from([
        (
            "in/holiday/summer+photo+%281%29.jpg",
            stack.upload("in/holiday/summer photo (1).jpg", &photo_bytes),
        ),
        (
            "in/scan-broken.png",
            stack.upload("in/scan-broken.png", broken),
        ),
    ]);
    let mut event = fixture("s3-put.json");
    pin_etags(&mut event, &e_tags);

    let (answer, lines) = stack.invoke(&event);

    assert_eq!(answer, Answer::Returned(json!({})));
    assert_eq!(
        stack.keys("processed"),
        [
            "out/_failed/in/scan-broken.png.json",
            "out/large/in/holiday/summer photo (1).jpg",
            "out/thumb/in/holiday/summer photo (1).webp",
        ]
    );
    let (large, content_type) = stack.get("processed", "out/large/in/holiday/summer photo (1).jpg");
    assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(dimensions(&large, ImageFormat::Jpeg), (800, 600));
    let (thumb, content_type) =
        stack.get("processed", "out/thumb/in/holiday/summer photo (1).webp");
    assert_eq!(content_type.as_deref(), Some("image/webp"));
    assert_eq!(dimensions(&thumb, ImageFormat::WebP), (120, 120));
    let (report, _) = stack.get("processed", "out/_failed/in/scan-broken.png.json");
    let report: Value = serde_json::from_slice(&report).unwrap();
    assert_eq!(report["errorType"], "Corrupt");
    assert_eq!(stack.get("uploads", "in/scan-broken.png").0, broken);

    let emf = metrics(&lines);
    assert_eq!(emf["FunctionName"], FUNCTION);
    assert_eq!(emf["Environment"], "test");
    assert_eq!(emf["ImagesProcessed"], 1);
    assert_eq!(emf["ProcessingErrors"], 1);
    // Bytes in count the images that made variants.
    assert_eq!(emf["BytesIn"], photo_bytes.len());
    assert_eq!(emf["BytesOut"], large.len() + thumb.len());
    assert_eq!(errors_of_type(&lines, "Corrupt"), Some(1));
    let outcomes: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["processed", "failed"], "{lines:?}");
}

#[test]
fn sqs_batch_answers_with_only_the_message_to_retry() {
    let mut stack = Stack::start(&["uploads", "processed"]);
    let source = photo(900, 300, ImageFormat::Png);
    let e_tags = HashMap::from([(
        "in/caf%C3%A9+%C3%A0+la+une.png",
        stack.upload("in/café à la une.png", &source),
    )]);
    let mut event = fixture("sqs-batch.json");
    pin_etags(&mut event, &e_tags);

    let (answer, lines) = stack.invoke(&event);

    // The test event is acknowledged, the upload processed, and the record from a bucket that
    // no longer exists handed back for a retry and, after that, the dead-letter queue.
    assert_eq!(
        answer,
        Answer::Returned(json!({
            "batchItemFailures": [{"itemIdentifier": "a5e1b2c3-1111-4a4a-9b9b-0123456789ab"}]
        }))
    );
    assert_eq!(
        stack.keys("processed"),
        [
            "out/large/in/café à la une.jpg",
            "out/thumb/in/café à la une.webp",
        ]
    );
    let (large, _) = stack.get("processed", "out/large/in/café à la une.jpg");
    assert_eq!(dimensions(&large, ImageFormat::Jpeg), (800, 267));
    let emf = metrics(&lines);
    assert_eq!(emf["ImagesProcessed"], 1);
    assert_eq!(emf["ProcessingErrors"], 1);
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "S3 test event acknowledged"),
        "{lines:?}"
    );
}

#[test]
fn s3_test_event_is_acknowledged_and_changes_nothing() {
    let mut stack = Stack::start(&["uploads", "processed"]);

    let (answer, lines) = stack.invoke(&fixture("s3-test-event.json"));

    assert_eq!(answer, Answer::Returned(json!({})));
    assert!(stack.keys("processed").is_empty());
    let emf = metrics(&lines);
    assert_eq!(emf["ImagesProcessed"], 0);
    assert_eq!(emf["ProcessingErrors"], 0);
}

#[test]
fn direct_event_whose_source_bucket_is_gone_fails_the_invocation_for_a_retry() {
    let mut stack = Stack::start(&["processed"]);

    let (answer, lines) = stack.invoke(&fixture("s3-put.json"));

    let Answer::Failed {
        error_type,
        message,
    } = answer
    else {
        panic!("expected a failed invocation, got {answer:?}");
    };
    assert_eq!(error_type, "S3Refused", "{message}");
    assert!(message.contains("uploads"), "{message}");
    assert!(stack.keys("processed").is_empty());
    assert_eq!(metrics(&lines)["ImagesProcessed"], 0);
    assert_eq!(errors_of_type(&lines, "S3Refused"), Some(2));
}
