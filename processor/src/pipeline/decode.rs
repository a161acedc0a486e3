//! Decoding, in the order that keeps a hostile file cheap: the byte limit, the signature, the
//! header's dimensions against the megapixel limit (before any pixel buffer exists), and only
//! then the pixels, under `image::Limits` as a second fence for what the header does not tell.
//! The EXIF orientation is applied to the pixels, after which no metadata is kept but the ICC
//! profile (see `colour`).
//!
//! Shrink-on-load: when every variant is at least twice smaller than the source, an RGB or grey
//! JPEG is decoded by `jpeg-decoder` at 1/2, 1/4 or 1/8 of its size in the DCT domain
//! (`geometry::shrink_on_load`), which skips most of the inverse DCT, the colour conversion and
//! the resize of pixels no output keeps. Everything else goes through `image` at full size.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, metadata::Orientation};

use super::geometry::{self, Plan};
use super::raster::Raster;
use super::sniff::{SourceFormat, sniff};
use super::{Limits, Variant};
use crate::error::Error;

/// A decoded, upright source: pixels plus the ICC profile they were tagged with.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) format: SourceFormat,
    /// The upright source's size; larger than the raster's when it was shrunk on load.
    pub(crate) size: (u32, u32),
    pub(crate) raster: Raster,
    pub(crate) icc: Option<Vec<u8>>,
}

/// The most bytes a decoded pixel can take (RGBA, 16 bits a channel); float TIFFs take more and
/// are refused by the allocation limit rather than allowed to grow past it.
const MAX_BYTES_PER_PIXEL: u64 = 8;
/// Headroom over the output buffer for decoders' own tables and rows.
const DECODER_HEADROOM: u64 = 64 << 20;

/// Decodes `bytes`, shrunk on load as far as all of `variants` allow (none: full size).
pub(crate) fn decode(
    bytes: &[u8],
    limits: &Limits,
    variants: &[Variant],
) -> Result<Decoded, Error> {
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > limits.max_input_bytes {
        return Err(Error::TooLarge {
            size,
            limit: limits.max_input_bytes,
        });
    }
    let format = sniff(bytes)?;
    // Decoders are third-party parsers fed untrusted bytes. A panic in one is a bug there, but it
    // must cost this image only, not the batch it arrived in.
    catch_unwind(AssertUnwindSafe(|| {
        decode_as(bytes, format, limits, variants)
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::Corrupt {
            format: format.name(),
            message: format!("the decoder panicked: {message}"),
        })
    })
}

fn decode_as(
    bytes: &[u8],
    format: SourceFormat,
    limits: &Limits,
    variants: &[Variant],
) -> Result<Decoded, Error> {
    let failed = |error: ImageError| image_error(format, error);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(image_limits(limits));
    let mut decoder = reader.into_decoder().map_err(failed)?;

    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(Error::Corrupt {
            format: format.name(),
            message: format!("the header says {width}x{height}"),
        });
    }
    check_pixels(width, height, limits)?;
    if format == SourceFormat::Jpeg && !has_end_after_scan(bytes) {
        // zune-jpeg would fill the missing rows with grey and call it a success.
        return Err(Error::Corrupt {
            format: format.name(),
            message: "the file ends before its end-of-image marker (truncated)".into(),
        });
    }

    // A damaged EXIF block is not a damaged image: it only loses its orientation.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let size = match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    };
    let plans: Vec<Plan> = variants
        .iter()
        .map(|variant| geometry::plan(size, (variant.width, variant.height), variant.fit))
        .collect();
    let shrink = geometry::shrink_on_load(size, &plans);
    let shrunk = if shrink > 1 && format == SourceFormat::Jpeg {
        shrunk_jpeg(bytes, (width, height), shrink, limits)?
    } else {
        None
    };
    let mut image = match shrunk {
        Some(image) => image,
        None => DynamicImage::from_decoder(decoder).map_err(failed)?,
    };
    image.apply_orientation(orientation);
    Ok(Decoded {
        format,
        size,
        raster: Raster::from_dynamic(image),
        icc,
    })
}

/// An RGB or grey JPEG of `width` x `height` decoded at 1/`shrink` of its size; `None` for
/// the other colour models (CMYK), which `image` decodes and converts at full size.
fn shrunk_jpeg(
    bytes: &[u8],
    (width, height): (u32, u32),
    shrink: u32,
    limits: &Limits,
) -> Result<Option<DynamicImage>, Error> {
    let corrupt = |message: String| Error::Corrupt {
        format: SourceFormat::Jpeg.name(),
        message,
    };
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(
        usize::try_from(image_limits(limits).max_alloc.unwrap_or(u64::MAX)).unwrap_or(usize::MAX),
    );
    decoder.read_info().map_err(|e| corrupt(e.to_string()))?;
    let model = decoder.info().map(|info| info.pixel_format);
    if !matches!(
        model,
        Some(jpeg_decoder::PixelFormat::RGB24 | jpeg_decoder::PixelFormat::L8)
    ) {
        return Ok(None);
    }
    let side = |full: u32| u16::try_from(full.div_ceil(shrink)).unwrap_or(u16::MAX);
    decoder
        .scale(side(width), side(height))
        .map_err(|e| corrupt(e.to_string()))?;
    let pixels = decoder.decode().map_err(|e| corrupt(e.to_string()))?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt("no image header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let image = if info.pixel_format == jpeg_decoder::PixelFormat::L8 {
        image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
    } else {
        image::RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
    };
    image
        .map(Some)
        .ok_or_else(|| corrupt(format!("fewer pixels than {width}x{height}")))
}

/// True when an end-of-image marker follows the first start-of-scan. The segments before the
/// scan are walked by their lengths, so an EXIF thumbnail's own markers do not count; inside
/// entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so 0xFFD9 after the
/// scan header is the real end. Bytes after the end are allowed.
fn has_end_after_scan(bytes: &[u8]) -> bool {
    let mut at = 2;
    loop {
        // 0xFF fill bytes may pad between segments.
        while bytes.get(at..at + 2) == Some(&[0xFF, 0xFF]) {
            at += 1;
        }
        let Some(&[0xFF, code, high, low]) = bytes.get(at..at + 4) else {
            return false;
        };
        at += 2 + usize::from(u16::from_be_bytes([high, low]));
        if code == 0xDA {
            break;
        }
    }
    bytes
        .get(at..)
        .is_some_and(|scan| scan.windows(2).rev().any(|pair| pair == [0xFF, 0xD9]))
}

fn check_pixels(width: u32, height: u32, limits: &Limits) -> Result<(), Error> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(Error::TooManyPixels(format!(
            "{width}x{height} is {:.1} megapixels, over the limit of {}",
            pixels as f64 / 1e6,
            limits.max_pixels as f64 / 1e6
        )));
    }
    Ok(())
}

fn image_limits(limits: &Limits) -> image::Limits {
    let side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(side);
    image_limits.max_image_height = Some(side);
    image_limits.max_alloc = Some(
        limits
            .max_pixels
            .saturating_mul(MAX_BYTES_PER_PIXEL)
            .saturating_add(DECODER_HEADROOM),
    );
    image_limits
}

fn image_error(format: SourceFormat, error: ImageError) -> Error {
    match error {
        ImageError::Limits(limit) => Error::TooManyPixels(format!("decoder limit: {limit}")),
        ImageError::Unsupported(unsupported) => {
            Error::UnsupportedFormat(format!("{}: {unsupported}", format.name()))
        }
        other => Error::Corrupt {
            format: format.name(),
            message: other.to_string(),
        },
    }
}
