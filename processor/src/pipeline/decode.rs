//! Decoding, in the order that keeps a hostile file cheap: the byte limit, the signature, the
//! header's dimensions against the megapixel limit (before any pixel buffer exists), and only
//! then the pixels, under `image::Limits` as a second fence for what the header does not tell.
//! The EXIF orientation is applied to the pixels, after which no metadata is kept but the ICC
//! profile (see `colour`).

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, metadata::Orientation};

use super::Limits;
use super::raster::Raster;
use super::sniff::{SourceFormat, sniff};
use crate::error::Error;

/// A decoded, upright source: pixels plus the ICC profile they were tagged with.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) format: SourceFormat,
    pub(crate) raster: Raster,
    pub(crate) icc: Option<Vec<u8>>,
}

/// The most bytes a decoded pixel can take (RGBA, 16 bits a channel); float TIFFs take more and
/// are refused by the allocation limit rather than allowed to grow past it.
const MAX_BYTES_PER_PIXEL: u64 = 8;
/// Headroom over the output buffer for decoders' own tables and rows.
const DECODER_HEADROOM: u64 = 64 << 20;

pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, Error> {
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
    catch_unwind(AssertUnwindSafe(|| decode_as(bytes, format, limits))).unwrap_or_else(|panic| {
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

fn decode_as(bytes: &[u8], format: SourceFormat, limits: &Limits) -> Result<Decoded, Error> {
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

    // A damaged EXIF block is not a damaged image: it only loses its orientation.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(failed)?;
    image.apply_orientation(orientation);
    Ok(Decoded {
        format,
        raster: Raster::from_dynamic(image),
        icc,
    })
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
