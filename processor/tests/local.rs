//! `processor-cli local` run as a user runs it: the built binary over a folder of generated
//! good and bad images, its exit code, its lines and the files it wrote, compared byte for byte
//! with what the pipeline renders for the same variant.

use std::io::{Cursor, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use processor::config::Config;
use serde_json::Value;

const VARIANTS: &str = r#"[{"name": "thumb", "width": 100, "height": 100, "fit": "cover", "format": "webp", "quality": 80}, {"name": "medium", "width": 200, "height": 200, "fit": "inside", "format": "jpeg", "quality": 85}]"#;

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

fn photo(width: u32, height: u32) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 96])
    });
    encoded(DynamicImage::ImageRgb8(pixels), ImageFormat::Jpeg)
}

fn logo() -> Vec<u8> {
    let pixels = RgbaImage::from_fn(64, 64, |x, y| {
        image::Rgba([200, 40, 40, ((x + y) * 2) as u8])
    });
    encoded(DynamicImage::ImageRgba8(pixels), ImageFormat::Png)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn env_file(dir: &Path, variants: &str) -> std::path::PathBuf {
    let path = dir.join("variants.env");
    std::fs::write(
        &path,
        format!(
            "# what the dev function runs with\nVARIANTS='{variants}'\nDESTINATION_PREFIX=out/\n"
        ),
    )
    .unwrap();
    path
}

fn cli(args: &[&std::ffi::OsStr], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_processor-cli"))
        .args(args)
        .env_remove("VARIANTS")
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The configuration `local` reads from the file: the pipeline's own rendering is compared
/// with what the command wrote.
fn config() -> Config {
    Config::from_lookup(|name| {
        Some(
            match name {
                "SOURCE_BUCKET" => "local-source",
                "DESTINATION_BUCKET" => "local-output",
                "ENVIRONMENT" => "local",
                "VARIANTS" => VARIANTS,
                _ => return None,
            }
            .to_owned(),
        )
    })
    .unwrap()
}

#[test]
fn folder_of_good_and_bad_images_gives_variants_per_file_errors_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let sunset = photo(320, 200);
    write(&input.join("photos/sunset.jpg"), &sunset);
    write(&input.join("logo.png"), &logo());
    write(&input.join("broken.jpg"), &sunset[..300]);
    write(&input.join("notes.jpg"), b"not an image at all");
    let out = dir.path().join("out");
    let env = env_file(dir.path(), VARIANTS);

    let output = cli(
        &[
            "local".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
            "--env-file".as_ref(),
            env.as_os_str(),
            "--jobs".as_ref(),
            "2".as_ref(),
        ],
        None,
    );
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&output.stderr)
    );

    let line = |key: &str| {
        stdout
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(key))
            .unwrap_or_else(|| panic!("no line for {key} in\n{stdout}"))
    };
    assert!(
        line("photos/sunset.jpg").starts_with(&format!(
            "ok      photos/sunset.jpg  JPEG 320x200 {} B -> thumb 100x100 WebP",
            sunset.len()
        )),
        "{stdout}"
    );
    assert!(
        line("photos/sunset.jpg").contains("medium 200x125 JPEG"),
        "{stdout}"
    );
    assert!(
        line("logo.png").starts_with("ok      logo.png  PNG 64x64"),
        "{stdout}"
    );
    assert!(
        line("broken.jpg").starts_with("failed  broken.jpg  Corrupt: "),
        "{stdout}"
    );
    assert!(
        line("notes.jpg").starts_with("failed  notes.jpg  UnsupportedFormat: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("4 inputs: 2 processed, 0 skipped, 2 failed;"),
        "{stdout}"
    );
    assert!(stdout.contains("on 2 workers"), "{stdout}");

    // The Lambda's output keys, and the pipeline's own bytes.
    let config = config();
    for (key, variant) in [
        ("out/thumb/photos/sunset.webp", 0),
        ("out/medium/photos/sunset.jpg", 1),
    ] {
        let written = std::fs::read(out.join(key)).unwrap();
        let expected =
            processor::pipeline::process(&sunset, &config.variants[variant], &config.limits)
                .unwrap();
        assert_eq!(written, expected.bytes, "{key}");
    }
    // Smaller than the variant: never upscaled, as in the Lambda.
    let thumb =
        image::load_from_memory(&std::fs::read(out.join("out/thumb/logo.webp")).unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (64, 64));
    assert!(out.join("out/medium/logo.jpg").is_file());

    // Failures leave their report where the Lambda leaves it, and no variant.
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("out/_failed/broken.jpg.json")).unwrap())
            .unwrap();
    assert_eq!(report["errorType"], "Corrupt");
    assert_eq!(report["sourceKey"], "broken.jpg");
    assert!(out.join("out/_failed/notes.jpg.json").is_file());
    assert!(!out.join("out/thumb/notes.webp").exists());
}

#[test]
fn image_on_standard_input_is_rendered_and_exit_code_is_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let env = env_file(dir.path(), VARIANTS);
    let output = cli(
        &[
            "local".as_ref(),
            "-".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
            "--env-file".as_ref(),
            env.as_os_str(),
        ],
        Some(&photo(640, 480)),
    );
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.starts_with("ok      stdin  JPEG 640x480"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 inputs: 1 processed, 0 skipped, 0 failed;"),
        "{stdout}"
    );
    let medium =
        image::load_from_memory(&std::fs::read(out.join("out/medium/stdin.jpg")).unwrap()).unwrap();
    assert_eq!((medium.width(), medium.height()), (200, 150));
}

#[test]
fn missing_input_is_reported_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jpg");
    write(&good, &photo(50, 50));
    let env = env_file(dir.path(), VARIANTS);
    let out = dir.path().join("out");
    let missing = dir.path().join("missing.jpg");
    let output = cli(
        &[
            "local".as_ref(),
            missing.as_os_str(),
            good.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
            "--env-file".as_ref(),
            env.as_os_str(),
        ],
        None,
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("failed  ") && stdout.contains("missing.jpg"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 inputs: 1 processed, 0 skipped, 1 failed;"),
        "{stdout}"
    );
    assert!(out.join("out/thumb/good.webp").is_file());
}

#[test]
fn invalid_variants_stop_the_run_with_the_variable_named_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jpg");
    write(&good, &photo(50, 50));
    let env = env_file(dir.path(), r#"[{"name": "thumb", "width": 0}]"#);
    let out = dir.path().join("out");
    let output = cli(
        &[
            "local".as_ref(),
            good.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
            "--env-file".as_ref(),
            env.as_os_str(),
        ],
        None,
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid configuration: VARIANTS"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}
