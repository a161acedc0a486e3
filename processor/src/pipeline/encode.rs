//! The encoders. None of them is given metadata, so outputs carry no EXIF (no GPS, no camera
//! serial), no XMP and no ICC profile whatever the source had.
//!
//! - JPEG: mozjpeg with libjpeg-turbo's quantisation tables and speed (no trellis
//!   quantisation, which costs six times the time for about a fifth fewer bytes), progressive
//!   with optimized Huffman tables, chroma subsampled 4:2:0 below quality 90 (4:4:4 from 90 up).
//!   It is never given alpha: the caller flattens first, and RGBA reaching it is an error, not a
//!   silent drop.
//! - WebP: libwebp, lossy at the variant's quality (alpha, if any, in a compressed ALPH chunk).
//! - PNG: `image`'s encoder at the `png` crate's balanced compression, adaptive filters; quality
//!   does not apply.
//! - AVIF: only with the `avif` cargo feature (rav1e at speed `AVIF_SPEED`).

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use super::OutputFormat;
use super::raster::{Layout, Raster};
use crate::error::Error;

/// rav1e's speed, 0 (slowest, smallest) to 10: 8 keeps a 12 MP photo's variants within seconds.
#[cfg(feature = "avif")]
pub const AVIF_SPEED: u8 = 8;

pub(crate) fn encode(raster: Raster, format: OutputFormat, quality: u8) -> Result<Vec<u8>, Error> {
    let failed = |message: String| Error::Encode {
        format: format.name(),
        message,
    };
    match format {
        OutputFormat::Jpeg => jpeg(&raster, quality).map_err(failed),
        OutputFormat::Png => png(&raster).map_err(failed),
        OutputFormat::Webp => webp(raster.into_colour(), quality).map_err(failed),
        OutputFormat::Avif => avif(raster.into_colour(), quality),
    }
}

fn jpeg(raster: &Raster, quality: u8) -> Result<Vec<u8>, String> {
    let colour_space = match raster.layout {
        Layout::Gray => mozjpeg::ColorSpace::JCS_GRAYSCALE,
        Layout::Rgb => mozjpeg::ColorSpace::JCS_RGB,
        Layout::Rgba => return Err("alpha must be flattened before JPEG encoding".into()),
    };
    if raster.width.max(raster.height) > u32::from(u16::MAX) {
        return Err(format!(
            "{}x{} is beyond JPEG's 65535 pixels a side",
            raster.width, raster.height
        ));
    }
    // libjpeg reports errors by unwinding; a failed encode must fail this variant only.
    super::decode::caught(|| {
        let errors = Box::new(super::libjpeg::error_manager());
        let mut compress = mozjpeg::Compress::new_err(errors, colour_space);
        compress.set_fastest_defaults();
        compress.set_progressive_mode();
        compress.set_optimize_coding(true);
        compress.set_size(raster.width as usize, raster.height as usize);
        compress.set_quality(f32::from(quality));
        if quality >= 90 && colour_space == mozjpeg::ColorSpace::JCS_RGB {
            compress.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
        }
        let mut started = compress.start_compress(Vec::new())?;
        started.write_scanlines(&raster.data)?;
        started.finish()
    })?
    .map_err(|e| e.to_string())
}

fn png(raster: &Raster) -> Result<Vec<u8>, String> {
    let colour_type = match raster.layout {
        Layout::Gray => ExtendedColorType::L8,
        Layout::Rgb => ExtendedColorType::Rgb8,
        Layout::Rgba => ExtendedColorType::Rgba8,
    };
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Default, FilterType::Adaptive)
        .write_image(&raster.data, raster.width, raster.height, colour_type)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn webp(raster: Raster, quality: u8) -> Result<Vec<u8>, String> {
    let layout = match raster.layout {
        Layout::Rgba => webp::PixelLayout::Rgba,
        _ => webp::PixelLayout::Rgb,
    };
    let encoder = webp::Encoder::new(&raster.data, layout, raster.width, raster.height);
    let memory = encoder
        .encode_simple(false, f32::from(quality))
        .map_err(|e| format!("{e:?}"))?;
    Ok(memory.to_vec())
}

#[cfg(feature = "avif")]
fn avif(raster: Raster, quality: u8) -> Result<Vec<u8>, Error> {
    use image::codecs::avif::AvifEncoder;
    let colour_type = match raster.layout {
        Layout::Rgba => ExtendedColorType::Rgba8,
        _ => ExtendedColorType::Rgb8,
    };
    let mut bytes = Vec::new();
    AvifEncoder::new_with_speed_quality(&mut bytes, AVIF_SPEED, quality)
        .write_image(&raster.data, raster.width, raster.height, colour_type)
        .map_err(|e| Error::Encode {
            format: "AVIF",
            message: e.to_string(),
        })?;
    Ok(bytes)
}

#[cfg(not(feature = "avif"))]
fn avif(_: Raster, _: u8) -> Result<Vec<u8>, Error> {
    Err(Error::UnsupportedFormat(
        "AVIF output needs the processor built with the `avif` cargo feature".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::test_images::{has_marker, riff_chunks};

    fn gradient(layout: Layout) -> Raster {
        let (width, height) = (40, 30);
        let channels = layout.channels();
        let mut data = Vec::new();
        for y in 0..height {
            for x in 0..width {
                let pixel = [(x * 6) as u8, (y * 8) as u8, 128, 200];
                data.extend_from_slice(match channels {
                    1 => &pixel[..1],
                    3 => &pixel[..3],
                    _ => &pixel,
                });
            }
        }
        Raster {
            width,
            height,
            layout,
            data,
        }
    }

    #[test]
    fn jpeg_output_is_progressive() {
        let bytes = encode(gradient(Layout::Rgb), OutputFormat::Jpeg, 80).unwrap();
        assert!(has_marker(&bytes, 0xC2), "no SOF2 marker");
        assert!(!has_marker(&bytes, 0xC0), "baseline SOF0 marker present");
    }

    #[test]
    fn rgba_is_refused_by_the_jpeg_encoder() {
        let error = encode(gradient(Layout::Rgba), OutputFormat::Jpeg, 80).unwrap_err();
        assert!(
            matches!(error, Error::Encode { format: "JPEG", .. }),
            "{error}"
        );
    }

    #[test]
    fn webp_output_is_lossy_even_with_alpha() {
        for layout in [Layout::Gray, Layout::Rgb, Layout::Rgba] {
            let bytes = encode(gradient(layout), OutputFormat::Webp, 80).unwrap();
            let chunks = riff_chunks(&bytes);
            assert!(chunks.contains(b"VP8 "), "{layout:?}: {chunks:?}");
            assert!(!chunks.contains(b"VP8L"), "{layout:?}: {chunks:?}");
            assert_eq!(chunks.contains(b"ALPH"), layout == Layout::Rgba);
        }
    }

    #[test]
    fn png_output_keeps_the_layout() {
        let bytes = encode(gradient(Layout::Gray), OutputFormat::Png, 80).unwrap();
        assert_eq!(
            image::load_from_memory(&bytes).unwrap().color(),
            image::ColorType::L8
        );
    }

    #[cfg(feature = "avif")]
    #[test]
    fn avif_output_is_an_avif_file() {
        let bytes = encode(gradient(Layout::Rgba), OutputFormat::Avif, 60).unwrap();
        assert_eq!(&bytes[4..12], b"ftypavif");
    }

    #[cfg(not(feature = "avif"))]
    #[test]
    fn avif_without_the_feature_is_a_clear_error() {
        let error = encode(gradient(Layout::Rgb), OutputFormat::Avif, 60).unwrap_err();
        assert!(
            error.to_string().contains("`avif` cargo feature"),
            "{error}"
        );
    }
}
