//! The processor's benchmark against Pillow and sharp (see `../run`, which drives it): the Rust
//! side of one run. Not a criterion bench: its figures are read side by side with the other
//! engines' from the same corpus, the same task and the same single core.
//!
//! Modes (`cargo bench -p processor --bench pipeline -- MODE ...`):
//! - `generate PHOTO DIR`: the corpus' 12 MP and 24 MP images, made from one real photograph
//!   (Lanczos3 up, plus grain so the detail is not merely interpolated), JPEG q90.
//! - `run CORPUS OUT ROUNDS`: the task with our pipeline. Each image is decoded once and rendered
//!   twice, fit inside 800x800 with Lanczos3 as JPEG q80 and as WebP q80, as the handler does
//!   with two variants; the outputs go to OUT, one JSON line of figures to stdout. Then the
//!   task's floor: each image decoded at 1/8, beside the WebP variant's time.
//! - `report CORPUS RESULTS ENGINE...`: scores every engine's outputs (`ssim`) and prints the
//!   table with the ratios and the targets each row misses.
//! - `coldstart BOOTSTRAP RUNS`: the bootstrap's start until its first `GET .../next` (`cold`).

mod cold;
mod report;
mod ssim;

use std::path::{Path, PathBuf};
use std::time::Instant;

use processor::pipeline::{Fit, Limits, OutputFormat, Source, TargetFormat, Variant};

/// The longest side of the box outputs fit inside.
pub const BOX: u32 = 800;
pub const QUALITY: u8 = 80;

fn main() {
    // cargo passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["generate", photo, dir] => generate(Path::new(photo), Path::new(dir)),
        ["run", corpus, out, rounds] => run(
            Path::new(corpus),
            Path::new(out),
            rounds.parse().expect("ROUNDS is a number"),
        ),
        ["report", corpus, results, engines @ ..] => {
            report::print(Path::new(corpus), Path::new(results), engines)
        }
        ["coldstart", bootstrap, runs] => cold::measure(
            Path::new(bootstrap),
            runs.parse().expect("RUNS is a number"),
        ),
        _ => {
            eprintln!(
                "usage: pipeline generate PHOTO DIR | run CORPUS OUT ROUNDS | \
                 report CORPUS RESULTS ENGINE... | coldstart BOOTSTRAP RUNS"
            );
            std::process::exit(2);
        }
    }
}

/// The corpus' files, in name order.
pub fn corpus(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// The peak resident set of this process so far, in KiB (`VmHWM`, what the other engines read).
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

fn run(corpus_dir: &Path, out: &Path, rounds: u32) {
    let sources: Vec<(String, Vec<u8>)> = corpus(corpus_dir)
        .iter()
        .map(|path| {
            let stem = path.file_stem().expect("a file name").to_string_lossy();
            (stem.into_owned(), std::fs::read(path).expect("readable"))
        })
        .collect();
    let limits = Limits {
        max_input_bytes: 200 << 20,
        max_pixels: 100_000_000,
    };
    let variants = [OutputFormat::Jpeg, OutputFormat::Webp].map(|format| Variant {
        name: format.extension().into(),
        width: BOX,
        height: BOX,
        fit: Fit::Inside,
        format: TargetFormat::Fixed(format),
        quality: QUALITY,
    });
    std::fs::create_dir_all(out).expect("the output directory");
    // Seconds spent decoding, then rendering each variant (resize and encode), over timed rounds.
    let once = |write: bool, stages: &mut [f64; 3]| {
        for (stem, bytes) in &sources {
            let started = Instant::now();
            let source = Source::decode_for(bytes, &limits, &variants).expect("decodable");
            stages[0] += started.elapsed().as_secs_f64();
            for (index, variant) in variants.iter().enumerate() {
                let started = Instant::now();
                let output = source.render(variant).expect("renderable");
                stages[index + 1] += started.elapsed().as_secs_f64();
                if write {
                    let path = out.join(format!("{stem}.{}", output.format.extension()));
                    std::fs::write(path, &output.bytes).expect("writable");
                }
            }
        }
    };
    // The first round writes the outputs scored later and warms the caches; it is not timed.
    once(true, &mut [0.0; 3]);
    let mut stages = [0.0; 3];
    let started = Instant::now();
    for _ in 0..rounds {
        once(false, &mut stages);
    }
    let seconds = started.elapsed().as_secs_f64();
    let images = (sources.len() * rounds as usize) as f64;
    let [decode, jpeg, webp] = stages.map(|total| total * 1000.0 / images);
    eprintln!(
        "ours, per image: decode {decode:.1} ms, JPEG variant {jpeg:.1} ms, WebP variant {webp:.1} ms"
    );
    // The task's floor on this core: no engine can skip decoding the whole entropy-coded scan,
    // and the cheapest decode of it is libjpeg-turbo's at 1/8 (here alone, no checks, no
    // resize); every engine encodes the WebP with libwebp at its default method, 4.
    let started = Instant::now();
    for _ in 0..rounds {
        for (_, bytes) in &sources {
            let mut decoder = mozjpeg::Decompress::new_mem(bytes).expect("a JPEG");
            decoder.scale(1);
            let mut started = decoder.rgb().expect("RGB output");
            let pixels: Vec<u8> = started.read_scanlines().expect("decodable");
            started.finish().expect("decodable");
            std::hint::black_box(pixels);
        }
    }
    let eighth = started.elapsed().as_secs_f64() * 1000.0 / images;
    eprintln!("ours, per image: decode at 1/8 {eighth:.1} ms");
    println!(
        r#"{{"engine": "ours", "images": {}, "seconds": {seconds}, "peak_rss_kib": {}, "floor_ms": {{"decode at 1/8": {eighth}, "WebP encode": {webp}}}}}"#,
        sources.len() * rounds as usize,
        peak_rss_kib()
    );
}

fn generate(photo: &Path, dir: &Path) {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

    let source = image::open(photo).expect("a decodable photo").to_rgb8();
    std::fs::create_dir_all(dir).expect("the corpus directory");
    for (name, width, height) in [
        ("generated-12mp", 4000, 3000),
        ("generated-24mp", 6000, 4000),
    ] {
        let input = ImageRef::new(
            source.width(),
            source.height(),
            source.as_raw(),
            PixelType::U8x3,
        )
        .expect("an RGB buffer");
        let mut output = Image::new(width, height, PixelType::U8x3);
        // Cover: crop the source to the target's aspect ratio, centred.
        let scale = f64::max(
            f64::from(width) / f64::from(source.width()),
            f64::from(height) / f64::from(source.height()),
        );
        let (crop_w, crop_h) = (f64::from(width) / scale, f64::from(height) / scale);
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
            .crop(
                (f64::from(source.width()) - crop_w) / 2.0,
                (f64::from(source.height()) - crop_h) / 2.0,
                crop_w,
                crop_h,
            );
        Resizer::new()
            .resize(&input, &mut output, &options)
            .expect("resize");
        let mut pixels = output.into_vec();
        // Grain of +-8 levels from a fixed xorshift, so every run makes the same files.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for channel in &mut pixels {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let grain = (state % 17) as i16 - 8;
            *channel = (i16::from(*channel) + grain).clamp(0, 255) as u8;
        }
        let path = dir.join(format!("{name}.jpg"));
        jpeg_encoder::Encoder::new_file(&path, 90)
            .expect("a writable file")
            .encode(
                &pixels,
                width as u16,
                height as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .expect("JPEG encoding");
        eprintln!("generated {}", path.display());
    }
}
