//! Decoding, in the order that keeps a hostile file cheap: the byte limit, the signature, the
//! header's dimensions against the megapixel limit (before any pixel buffer exists), and only
//! then the pixels, under `image::Limits` as a second fence for what the header does not tell.
//! The EXIF orientation is applied to the pixels, after which no metadata is kept but the ICC
//! profile (see `colour`).
//!
//! JPEGs are decoded by libjpeg-turbo (`libjpeg`), which refuses damaged scan data where the
//! other decoders fill it in. Shrink-on-load: when every variant is at least twice smaller
//! than the source, it decodes at 1/2, 1/4 or 1/8 of the size in the DCT domain
//! (`geometry::shrink_on_load`), which skips most of the inverse DCT, the colour conversion and
//! the resize of pixels no output keeps. The other formats go through `image` at full size.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, metadata::Orientation};

use super::geometry::{self, Plan};
use super::libjpeg;
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
    // Decoders are third-party parsers fed untrusted bytes: libjpeg reports errors by unwinding,
    // and a panic in a Rust decoder is a bug there, but either must cost this image only, not
    // the batch it arrived in.
    caught(|| decode_as(bytes, format, limits, variants)).unwrap_or_else(|message| {
        Err(Error::Corrupt {
            format: format.name(),
            message,
        })
    })
}

/// Runs `work`, turning an unwinding panic into a message: libjpeg's errors (which the `mozjpeg`
/// crate raises as "libjpeg fatal error: ...") as they are, any other panic, a bug in a codec,
/// as "the codec panicked: ...".
pub(crate) fn caught<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if message.starts_with(libjpeg::PREFIX) {
            message
        } else {
            format!("the codec panicked: {message}")
        }
    })
}

fn decode_as(
    bytes: &[u8],
    format: SourceFormat,
    limits: &Limits,
    variants: &[Variant],
) -> Result<Decoded, Error> {
    let failed = |error: ImageError| image_error(format, error);
    if format == SourceFormat::Jpeg {
        check_coding(bytes)?;
    }
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
    if format == SourceFormat::Jpeg {
        check_scans(bytes)?;
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
    let by_libjpeg = if format == SourceFormat::Jpeg {
        libjpeg::decode(bytes, geometry::shrink_on_load(size, &plans))?
    } else {
        None
    };
    let mut image = match by_libjpeg {
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

/// The most scans a JPEG may have. Each scan of a progressive file walks the whole image again,
/// so a file of thousands of tiny scans costs minutes to decode: libjpeg-turbo's documentation
/// advises this limit. Real progressive files have about ten.
const MAX_SCANS: usize = 500;

/// Refuses a JPEG in a coding that neither libjpeg-turbo as built here nor `image` decodes:
/// arithmetic, lossless or hierarchical, or samples of other than 8 bits. Such a file is valid,
/// so it is `UnsupportedFormat`, not `Corrupt`.
fn check_coding(bytes: &[u8]) -> Result<(), Error> {
    let mut unsupported = None;
    walk_header(bytes, |code, body| {
        let precision = body.first().copied().unwrap_or(8);
        let coding = match code {
            0xC0..=0xC2 if precision == 8 => return,
            0xC0..=0xC2 => format!("{precision}-bit samples"),
            0xC3 | 0xC7 | 0xCB | 0xCF => "lossless coding".into(),
            0xC5 | 0xC6 | 0xCD | 0xCE => "hierarchical coding".into(),
            0xC9 | 0xCA => "arithmetic coding".into(),
            _ => return,
        };
        unsupported.get_or_insert(format!("JPEG with {coding} (frame marker 0xFF{code:02X})"));
    });
    unsupported.map_or(Ok(()), |message| Err(Error::UnsupportedFormat(message)))
}

/// Refuses a JPEG that is truncated (no end-of-image marker after its first scan: decoders fill
/// the missing rows with grey and call it a success) or has more than [`MAX_SCANS`] scans.
/// Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so 0xFFDA and
/// 0xFFD9 after the first scan header are real markers. Bytes after the end are allowed.
fn check_scans(bytes: &[u8]) -> Result<(), Error> {
    let corrupt = |message: String| Error::Corrupt {
        format: SourceFormat::Jpeg.name(),
        message,
    };
    let truncated = || corrupt("the file ends before its end-of-image marker (truncated)".into());
    let rest = walk_header(bytes, |_, _| {})
        .and_then(|scan| bytes.get(scan..))
        .ok_or_else(truncated)?;
    let end = rest
        .windows(2)
        .rposition(|pair| pair == [0xFF, 0xD9])
        .ok_or_else(truncated)?;
    let scans = 1 + rest[..end]
        .windows(2)
        .filter(|pair| *pair == [0xFF, 0xDA])
        .count();
    if scans > MAX_SCANS {
        return Err(corrupt(format!(
            "{scans} scans, over the {MAX_SCANS} a JPEG may have"
        )));
    }
    Ok(())
}

/// Walks a JPEG's segments up to its first scan header by their lengths (so an EXIF
/// thumbnail's own markers are skipped), giving `each` every marker code and segment body.
/// Returns where the first scan's data starts; `None` when the file ends before.
pub(super) fn walk_header(bytes: &[u8], mut each: impl FnMut(u8, &[u8])) -> Option<usize> {
    let mut at = 2;
    loop {
        // 0xFF fill bytes may pad between segments.
        while bytes.get(at..at + 2) == Some(&[0xFF, 0xFF]) {
            at += 1;
        }
        let &[0xFF, code, high, low] = bytes.get(at..at + 4)? else {
            return None;
        };
        let length = usize::from(u16::from_be_bytes([high, low]));
        each(code, bytes.get(at + 4..at + 2 + length).unwrap_or_default());
        at += 2 + length;
        if code == 0xDA {
            return Some(at);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::test_images::{marker_at, quadrants, rgb_jpeg};

    #[test]
    fn libjpeg_errors_keep_their_message_and_codec_panics_say_so() {
        let mut bytes = rgb_jpeg(&quadrants(64, 64), None);
        let table = marker_at(&bytes, 0xC4);
        // The Huffman table's length now claims 3 bytes: its class and id, then no code counts.
        bytes[table + 2..table + 4].copy_from_slice(&3_u16.to_be_bytes());
        let message = caught(|| libjpeg::decode(&bytes, 2)).unwrap_err();
        assert!(message.starts_with("libjpeg fatal error"), "{message}");

        let message = caught::<()>(|| panic!("index out of bounds")).unwrap_err();
        assert_eq!(message, "the codec panicked: index out of bounds");
    }
}
