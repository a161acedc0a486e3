//! The pipeline fed damaged images: every seed of a small corpus of real encodings (made here by
//! real encoders, one per format and flavour the processor reads) cut short at many lengths and
//! bit-flipped at many places, a few thousand inputs in all. Each must end in variants or a
//! typed input error: no panic (neither escaping nor caught from a decoder), and no allocation
//! past what the configured limits allow, counted by this binary's allocator. Each input is
//! decoded twice, whole and shrunk on load for the variants; libjpeg's own buffers (the shrunk
//! JPEG path) come from C's allocator and are not in that count.
//!
//! Deterministic: the mutations come from a fixed-seed generator, so a failure names an input
//! that fails again on the next run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageEncoder, ImageFormat, RgbImage, RgbaImage};
use processor::ErrorType;
use processor::pipeline::{Fit, Limits, OutputFormat, Source, TargetFormat, Variant};

const LIMITS: Limits = Limits {
    max_input_bytes: 1 << 20,
    max_pixels: 1_000_000,
};

/// The most one input may allocate beyond what was live before it: the decoder's own fence
/// (`max_pixels` at 8 bytes a pixel plus 64 MiB of headroom, as the pipeline sets
/// `image::Limits`) and two more full-size rasters (the upright copy and the working one).
const BUDGET: usize = (LIMITS.max_pixels as usize) * 8 * 3 + (64 << 20);

/// Counts the live bytes and the high-water mark of the allocating thread, so the tests of this
/// binary, each on its own thread, measure only themselves.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

#[allow(unsafe_code)]
// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping touches
// only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as isize - layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A photo-like picture: smooth gradients with grain, so every encoder writes real entropy-coded
/// data rather than runs.
fn picture(width: u32, height: u32) -> RgbaImage {
    let mut state = 0x9E37_79B9_u32;
    RgbaImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let grain = (state % 24) as u8;
        let alpha = if x < width / 4 { 128 } else { 255 };
        image::Rgba([
            (x * 200 / width) as u8 + grain,
            (y * 200 / height) as u8 + grain,
            ((x + y) * 100 / (width + height)) as u8 + grain,
            alpha,
        ])
    })
}

fn rgb(image: &RgbaImage) -> RgbImage {
    DynamicImage::ImageRgba8(image.clone()).to_rgb8()
}

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// An EXIF block holding only Orientation 6 (rotate 90° clockwise), little-endian.
fn exif_rotated() -> Vec<u8> {
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0".to_vec();
    exif.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    exif.extend_from_slice(&[0, 0, 0, 0]);
    exif
}

/// One seed per format and flavour: (name, bytes).
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let (width, height) = (64, 48);
    let picture = picture(width, height);
    let rgb = rgb(&picture);
    let (w, h) = (width as u16, height as u16);

    let mut baseline = Vec::new();
    JpegEncoder::new_with_quality(&mut baseline, 85)
        .write_image(rgb.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    let progressive = {
        let mut bytes = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 85);
        encoder.set_progressive(true);
        encoder.set_optimized_huffman_tables(true);
        encoder.add_app_segment(1, exif_rotated()).unwrap();
        encoder
            .encode(rgb.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        bytes
    };
    let cmyk = {
        let mut bytes = Vec::new();
        let pixels: Vec<u8> = rgb
            .pixels()
            .flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 40])
            .collect();
        jpeg_encoder::Encoder::new(&mut bytes, 85)
            .encode(&pixels, w, h, jpeg_encoder::ColorType::Cmyk)
            .unwrap();
        bytes
    };
    let palette = {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_palette(
            (0..=255u8)
                .flat_map(|i| [i, 255 - i, i / 2])
                .collect::<Vec<_>>(),
        );
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&rgb.pixels().map(|p| p[0]).collect::<Vec<_>>())
            .unwrap();
        writer.finish().unwrap();
        bytes
    };
    let gif = {
        let mut bytes = Vec::new();
        GifEncoder::new(&mut bytes)
            .encode_frame(image::Frame::new(picture.clone()))
            .unwrap();
        bytes
    };
    let lossy_webp = webp::Encoder::from_rgba(picture.as_raw(), width, height)
        .encode(75.0)
        .to_vec();
    let sixteen_bit = DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(rgb.clone()).to_rgb16());
    vec![
        ("baseline JPEG", baseline),
        ("progressive JPEG with EXIF orientation", progressive),
        ("CMYK JPEG", cmyk),
        (
            "RGBA PNG",
            encoded(DynamicImage::ImageRgba8(picture.clone()), ImageFormat::Png),
        ),
        ("16-bit PNG", encoded(sixteen_bit, ImageFormat::Png)),
        (
            "grey PNG",
            encoded(
                DynamicImage::ImageRgb8(rgb.clone()).grayscale(),
                ImageFormat::Png,
            ),
        ),
        ("palette PNG", palette),
        ("GIF", gif),
        ("lossy WebP with alpha", lossy_webp),
        (
            "lossless WebP",
            encoded(DynamicImage::ImageRgba8(picture.clone()), ImageFormat::WebP),
        ),
        (
            "TIFF",
            encoded(DynamicImage::ImageRgb8(rgb.clone()), ImageFormat::Tiff),
        ),
        (
            "BMP",
            encoded(DynamicImage::ImageRgb8(rgb), ImageFormat::Bmp),
        ),
    ]
}

/// xorshift64*: a fixed sequence, so every run tries the same inputs.
struct Mutator(u64);

impl Mutator {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % bound
    }

    /// `seed` with one to four bits flipped; half the flips land in the first 64 bytes, where
    /// the headers (dimensions, tables, chunk lengths) are.
    fn flip(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut bytes = seed.to_vec();
        for _ in 0..=self.below(4) {
            let span = if self.below(2) == 0 {
                bytes.len().min(64)
            } else {
                bytes.len()
            };
            let at = self.below(span);
            bytes[at] ^= 1 << self.below(8);
        }
        bytes
    }
}

/// How the pipeline ended for one input.
#[derive(Debug, Default)]
struct Outcomes {
    cases: usize,
    rendered: usize,
    refused: std::collections::BTreeMap<&'static str, usize>,
    faults: Vec<String>,
    /// The most any one input allocated.
    most_allocated: isize,
}

/// The variants tried on every input, one per encoder.
fn variants() -> [Variant; 3] {
    [
        (OutputFormat::Jpeg, Fit::Inside),
        (OutputFormat::Webp, Fit::Cover),
        (OutputFormat::Png, Fit::Contain),
    ]
    .map(|(format, fit)| Variant {
        name: format.name().to_lowercase(),
        width: 24,
        height: 24,
        fit,
        format: TargetFormat::Fixed(format),
        quality: 80,
    })
}

impl Outcomes {
    /// Runs one input through decode and every variant, recording what happened.
    fn run(&mut self, label: &str, bytes: &[u8], variants: &[Variant]) {
        self.cases += 1;
        let before = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(before));
        let result = catch_unwind(AssertUnwindSafe(|| {
            let render = |source: Source| {
                variants
                    .iter()
                    .map(|variant| source.render(variant))
                    .collect::<Result<Vec<_>, _>>()
            };
            // Decoded whole, then for these variants only: a JPEG is then shrunk on load, by
            // libjpeg rather than `image`'s decoder.
            let mut outputs = render(Source::decode(bytes, &LIMITS)?)?;
            outputs.extend(render(Source::decode_for(bytes, &LIMITS, variants)?)?);
            Ok::<_, processor::Error>(outputs)
        }));
        let allocated = PEAK.with(Cell::get) - before;
        self.most_allocated = self.most_allocated.max(allocated);
        if allocated > BUDGET as isize {
            self.faults
                .push(format!("{label}: allocated {allocated} bytes"));
        }
        match result {
            Err(_) => self.faults.push(format!("{label}: panicked")),
            Ok(Ok(outputs)) => {
                for output in outputs {
                    if output.bytes.is_empty() || output.width > 24 || output.height > 24 {
                        self.faults.push(format!(
                            "{label}: a {}x{} output of {} bytes",
                            output.width,
                            output.height,
                            output.bytes.len()
                        ));
                    }
                }
                self.rendered += 1;
            }
            Ok(Err(error)) => {
                let kind = error.error_type();
                let message = error.to_string();
                if message.contains("panicked") {
                    self.faults.push(format!("{label}: {message}"));
                } else if !matches!(
                    kind,
                    ErrorType::Corrupt
                        | ErrorType::UnsupportedFormat
                        | ErrorType::TooManyPixels
                        | ErrorType::TooLarge
                ) {
                    self.faults
                        .push(format!("{label}: {} error: {message}", kind.as_str()));
                }
                *self.refused.entry(kind.as_str()).or_default() += 1;
            }
        }
    }

    fn assert_clean(&self, at_least: usize) {
        eprintln!(
            "{} inputs: {} rendered, refused {:?}",
            self.cases, self.rendered, self.refused
        );
        assert!(self.cases >= at_least, "only {} inputs", self.cases);
        assert!(
            self.faults.is_empty(),
            "{} of {} inputs went wrong, first ones:\n{}",
            self.faults.len(),
            self.cases,
            self.faults[..self.faults.len().min(20)].join("\n")
        );
    }
}

#[test]
fn every_seed_renders_every_variant_unharmed() {
    let variants = variants();
    let mut outcomes = Outcomes::default();
    for (name, seed) in corpus() {
        outcomes.run(name, &seed, &variants);
    }
    assert_eq!(outcomes.rendered, outcomes.cases, "{outcomes:?}");
    // The allocator sees the work: at least one 64x48 RGBA raster per seed.
    assert!(outcomes.most_allocated >= 64 * 48 * 4, "{outcomes:?}");
    assert!(outcomes.faults.is_empty(), "{outcomes:?}");
}

#[test]
fn truncated_images_give_variants_or_a_typed_error_within_the_limits() {
    let variants = variants();
    let mut outcomes = Outcomes::default();
    for (name, seed) in corpus() {
        // About 130 cut points a seed, every byte of the first 32 (signature and headers).
        let step = (seed.len() / 100).max(1);
        let cuts = (0..32.min(seed.len())).chain((32..seed.len()).step_by(step));
        for length in cuts {
            outcomes.run(
                &format!("{name} cut to {length} bytes"),
                &seed[..length],
                &variants,
            );
        }
    }
    outcomes.assert_clean(1_500);
}

#[test]
fn bit_flipped_images_give_variants_or_a_typed_error_within_the_limits() {
    let variants = variants();
    let mut outcomes = Outcomes::default();
    let mut mutator = Mutator(0x5EED_1DEA_2026);
    for (name, seed) in corpus() {
        for round in 0..150 {
            let bytes = mutator.flip(&seed);
            outcomes.run(&format!("{name}, flip round {round}"), &bytes, &variants);
        }
    }
    outcomes.assert_clean(1_500);
}
