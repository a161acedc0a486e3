//! `processor-cli backfill` against a real local S3 and SQS (moto server): objects uploaded
//! before the run, the built binary run as a user runs it, and the buckets read back. Then a
//! rerun that finds everything done, one object replaced and only it done again; and
//! `--via-queue`, whose messages are handed to the Lambda's handler as Lambda's SQS poller would
//! hand them. Needs moto in `.venv/`; `scripts/test` installs it.

mod support;

use std::collections::HashMap;
use std::io::Cursor;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use devstack::Moto;
use devstack::moto::REGION;
use image::{DynamicImage, ImageFormat, RgbImage};
use processor::config::Config;
use processor::event::Invocation;
use processor::handler::{self, Reply};
use processor::storage::S3;
use serde_json::json;

const SOURCE: &str = "uploads";
const DESTINATION: &str = "processed";
const VARIANTS: &str = r#"[{"name": "thumb", "width": 64, "height": 64, "fit": "cover", "format": "webp", "quality": 80}, {"name": "same", "width": 120, "height": 120, "fit": "inside", "format": "same", "quality": 80}]"#;

struct Stack {
    moto: Moto,
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    shared: aws_config::SdkConfig,
    s3: aws_sdk_s3::Client,
}

impl Stack {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let moto = Moto::start(dir.path(), None).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (shared, s3) = support::moto_clients(&moto, &runtime);
        for bucket in [SOURCE, DESTINATION] {
            runtime
                .block_on(s3.create_bucket().bucket(bucket).send())
                .unwrap();
        }
        Stack {
            moto,
            _dir: dir,
            runtime,
            shared,
            s3,
        }
    }

    /// Uploads `bytes`; the ETag without quotes.
    fn upload(&self, key: &str, bytes: &[u8]) -> String {
        support::upload(&self.runtime, &self.s3, SOURCE, key, bytes)
    }

    /// The user metadata of an object of the destination, `None` when it does not exist.
    fn metadata(&self, key: &str) -> Option<HashMap<String, String>> {
        let head = self.s3.head_object().bucket(DESTINATION).key(key).send();
        self.runtime
            .block_on(head)
            .ok()
            .map(|head| head.metadata().cloned().unwrap_or_default())
    }

    fn source_etag(&self, key: &str) -> Option<String> {
        self.metadata(key)?.get("source-etag").cloned()
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.moto.aws_env();
        env.extend([
            ("SOURCE_BUCKET", SOURCE.to_owned()),
            ("SOURCE_PREFIX", "in/".to_owned()),
            ("DESTINATION_BUCKET", DESTINATION.to_owned()),
            ("DESTINATION_PREFIX", "v1/".to_owned()),
            ("VARIANTS", VARIANTS.to_owned()),
            ("ENVIRONMENT", "test".to_owned()),
        ]);
        env
    }

    fn config(&self) -> Config {
        let env: HashMap<_, _> = self.env().into_iter().collect();
        Config::from_lookup(|name| env.get(name).cloned()).unwrap()
    }

    fn backfill(&self, args: &[&str]) -> (Option<i32>, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = Command::new(env!("CARGO_BIN_EXE_processor-cli"))
            .arg("backfill")
            .args(args)
            .env_remove("RUST_LOG")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .envs(self.env())
            .output()
            .unwrap();
        let stdout = String::from_utf8(stdout).unwrap();
        let stderr = String::from_utf8(stderr).unwrap();
        (status.code(), format!("{stdout}{stderr}"))
    }
}

fn photo(width: u32, height: u32, blue: u8, format: ImageFormat) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, blue])
    });
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut bytes, format)
        .unwrap();
    bytes.into_inner()
}

#[test]
fn backfill_processes_what_is_there_then_nothing_then_only_the_changed_object() {
    let stack = Stack::start();
    let a = stack.upload("in/a.jpg", &photo(300, 200, 10, ImageFormat::Jpeg));
    let b = stack.upload("in/sub dir/b.png", &photo(90, 160, 20, ImageFormat::Png));
    let c = stack.upload("in/c.jpg", &photo(500, 500, 30, ImageFormat::Jpeg));
    let broken = stack.upload(
        "in/broken.jpg",
        &photo(200, 200, 40, ImageFormat::Jpeg)[..300],
    );
    stack.upload("in/", b"");
    stack.upload("elsewhere/d.jpg", &photo(50, 50, 50, ImageFormat::Jpeg));

    let (code, out) = stack.backfill(&["--dry-run"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("s3://uploads/in/: 4 objects"), "{out}");
    assert!(out.contains("to process 4; skipped 0"), "{out}");
    assert_eq!(
        stack.metadata("v1/thumb/in/a.webp"),
        None,
        "a dry run writes nothing"
    );

    let (code, out) = stack.backfill(&["--concurrency", "3"]);
    assert_eq!(code, Some(1), "the broken upload fails the run: {out}");
    assert!(out.contains("processed 3 in "), "{out}");
    assert!(out.contains("; failed 1"), "{out}");
    assert!(out.contains("failed  in/broken.jpg  Corrupt: "), "{out}");
    for (key, e_tag) in [
        ("v1/thumb/in/a.webp", &a),
        ("v1/same/in/a.jpg", &a),
        ("v1/thumb/in/sub dir/b.webp", &b),
        ("v1/same/in/sub dir/b.png", &b),
        ("v1/thumb/in/c.webp", &c),
        ("v1/same/in/c.jpg", &c),
        ("v1/_failed/in/broken.jpg.json", &broken),
    ] {
        assert_eq!(stack.source_etag(key).as_ref(), Some(e_tag), "{key}");
    }
    let metadata = stack.metadata("v1/same/in/c.jpg").unwrap();
    assert_eq!(metadata["width"], "120");
    assert_eq!(metadata["source-key"], "in/c.jpg");
    assert_eq!(stack.metadata("v1/thumb/elsewhere/d.webp"), None);

    let (code, out) = stack.backfill(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("processed 0 in ")
            && out.contains("skipped 4 (3 up to date, 1 reported as failed before, 0 changed")
            && out.contains("; failed 0"),
        "{out}"
    );

    let b2 = stack.upload("in/sub dir/b.png", &photo(160, 90, 99, ImageFormat::Png));
    assert_ne!(b, b2);
    let (code, out) = stack.backfill(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("processed 1 in ")
            && out.contains("skipped 3 (2 up to date, 1 reported as failed before"),
        "{out}"
    );
    assert_eq!(
        stack.source_etag("v1/thumb/in/sub dir/b.webp"),
        Some(b2.clone())
    );
    assert_eq!(stack.source_etag("v1/same/in/sub dir/b.png"), Some(b2));
    assert_eq!(stack.source_etag("v1/thumb/in/a.webp"), Some(a));
}

#[test]
fn prefix_outside_source_prefix_is_refused_with_exit_code_2() {
    let stack = Stack::start();
    let (code, out) = stack.backfill(&["--prefix", "elsewhere/"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("outside SOURCE_PREFIX"), "{out}");
}

#[test]
fn via_queue_enqueues_one_event_per_object_that_the_sqs_handler_processes() {
    let stack = Stack::start();
    let sqs = aws_sdk_sqs::Client::new(&stack.shared);
    let url = stack
        .runtime
        .block_on(sqs.create_queue().queue_name("processor-queue").send())
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let keys = ["in/one.jpg", "in/two (2).png", "in/three+.jpg"];
    let e_tags: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            let format = if key.ends_with(".png") {
                ImageFormat::Png
            } else {
                ImageFormat::Jpeg
            };
            stack.upload(key, &photo(100 + index as u32 * 10, 80, 60, format))
        })
        .collect();

    let (code, out) = stack.backfill(&["--via-queue", &url]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("enqueued 3 on {url}; skipped 0")),
        "{out}"
    );
    assert_eq!(
        stack.metadata("v1/thumb/in/one.webp"),
        None,
        "nothing is processed locally"
    );

    // What Lambda's SQS poller hands the function: the messages in its event shape.
    let mut records = Vec::new();
    let started = Instant::now();
    while records.len() < keys.len() && started.elapsed() < Duration::from_secs(20) {
        let received = stack
            .runtime
            .block_on(
                sqs.receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .send(),
            )
            .unwrap();
        for message in received.messages() {
            records.push(json!({
                "messageId": message.message_id().unwrap(),
                "receiptHandle": message.receipt_handle().unwrap(),
                "body": message.body().unwrap(),
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:processor-queue"),
                "awsRegion": REGION,
            }));
        }
    }
    assert_eq!(records.len(), keys.len(), "one message per object");
    let invocation = Invocation::from_value(&json!({"Records": records})).unwrap();
    let handled = stack.runtime.block_on(handler::handle(
        &stack.config(),
        &S3::new(&stack.shared),
        invocation,
        "req-1",
        Instant::now() + Duration::from_secs(60),
    ));
    match handled.reply {
        Reply::BatchItemFailures(failures) => assert!(failures.is_empty(), "{failures:?}"),
        other => panic!("not an SQS batch reply: {other:?}"),
    }
    for ((key, e_tag), output) in keys.iter().zip(&e_tags).zip([
        "v1/thumb/in/one.webp",
        "v1/thumb/in/two (2).webp",
        "v1/thumb/in/three+.webp",
    ]) {
        assert_eq!(stack.source_etag(output).as_ref(), Some(e_tag), "{key}");
    }

    let (code, out) = stack.backfill(&["--via-queue", &url]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("enqueued 0 on ") && out.contains("skipped 3 (3 up to date"),
        "{out}"
    );
}
