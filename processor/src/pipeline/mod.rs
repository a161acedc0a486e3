//! The image transform, pure and synchronous: source bytes and a variant in, encoded bytes or a
//! typed [`Error`] out. No I/O, no clock, no logging; the handler does those.
//!
//! Decode once with [`Source::decode`], then [`Source::render`] each variant (or [`process`] for
//! one). Stages: `sniff` (format from magic bytes) -> `decode` (limits, orientation, JPEG
//! shrink-on-load) ->
//! `geometry` + `resize` (fit, Lanczos3) -> `colour` (ICC to sRGB) -> padding and alpha ->
//! `encode` (no metadata written).
//!
//! Choices where the issue leaves room:
//! - Alpha into JPEG: flattened onto [`JPEG_BACKGROUND`] (white), and reported in
//!   [`Output::alpha_flattened`] so the handler logs it; an opaque alpha channel is not alpha.
//! - `contain` pads with transparency for formats that have it and with white for JPEG.
//! - `same`: JPEG, PNG and WebP sources keep their format; GIF, TIFF and BMP, which we do not
//!   encode, become PNG, lossless like them and able to keep their transparency.
//! - AVIF: behind the `avif` cargo feature, off by default; without it the configuration refuses
//!   an `avif` variant at start-up.

mod colour;
mod decode;
mod encode;
mod geometry;
mod libjpeg;
mod raster;
mod resize;
mod sniff;
#[cfg(test)]
mod test_images;
#[cfg(test)]
mod tests;

use std::sync::{Mutex, PoisonError};

use colour::ToSrgb;
use geometry::Plan;
use raster::Layout;

use crate::error::Error;
pub use sniff::{SourceFormat, sniff};

/// What transparent pixels become in a JPEG.
pub const JPEG_BACKGROUND: [u8; 3] = [255, 255, 255];

/// The bounds a source must stay within to be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_input_bytes: u64,
    pub max_pixels: u64,
}

/// One configured output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Also the key segment of the variant's outputs.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub fit: Fit,
    pub format: TargetFormat,
    /// 1 to 100; used by JPEG, WebP and AVIF, ignored by PNG.
    pub quality: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Inside,
    Cover,
    Contain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetFormat {
    Fixed(OutputFormat),
    /// The source's format where we encode it, else PNG.
    Same,
}

impl TargetFormat {
    pub fn resolve(self, source: SourceFormat) -> OutputFormat {
        match (self, source) {
            (TargetFormat::Fixed(format), _) => format,
            (TargetFormat::Same, SourceFormat::Jpeg) => OutputFormat::Jpeg,
            (TargetFormat::Same, SourceFormat::Webp) => OutputFormat::Webp,
            (TargetFormat::Same, _) => OutputFormat::Png,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Jpeg,
    Png,
    Webp,
    /// Encoded only with the `avif` cargo feature.
    Avif,
}

impl OutputFormat {
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "JPEG",
            OutputFormat::Png => "PNG",
            OutputFormat::Webp => "WebP",
            OutputFormat::Avif => "AVIF",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::Webp => "image/webp",
            OutputFormat::Avif => "image/avif",
        }
    }

    /// The extension of output keys.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
            OutputFormat::Avif => "avif",
        }
    }

    fn has_alpha(self) -> bool {
        self != OutputFormat::Jpeg
    }
}

/// One encoded variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub content_type: &'static str,
    /// Transparent pixels were composited onto [`JPEG_BACKGROUND`] because the format is JPEG.
    pub alpha_flattened: bool,
}

/// A decoded, upright source image, from which any number of variants can be rendered.
#[derive(Debug)]
pub struct Source {
    format: SourceFormat,
    /// Upright, before any shrink-on-load: what variants are planned on.
    size: (u32, u32),
    raster: raster::Raster,
    to_srgb: Option<ToSrgb>,
    /// The last variant's resampled pixels and their plan: the next variant of the same geometry
    /// (a JPEG and a WebP of one size) starts from them instead of resampling again.
    last_resize: Mutex<Option<(Plan, raster::Raster)>>,
}

impl Source {
    /// Checks the limits, decodes and orients `bytes`, at full size: any variant can be rendered.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Source, Error> {
        Source::decode_for(bytes, limits, &[])
    }

    /// [`Source::decode`] for rendering `variants` only: a JPEG much larger than all of them is
    /// shrunk on load, which makes it several times cheaper to decode and resize. Rendering
    /// another variant from it is allowed but may upscale.
    pub fn decode_for(
        bytes: &[u8],
        limits: &Limits,
        variants: &[Variant],
    ) -> Result<Source, Error> {
        let decoded = decode::decode(bytes, limits, variants)?;
        let to_srgb = decoded
            .icc
            .as_deref()
            .and_then(|icc| ToSrgb::from_icc(icc, decoded.raster.layout));
        Ok(Source {
            format: decoded.format,
            size: decoded.size,
            raster: decoded.raster,
            to_srgb,
            last_resize: Mutex::default(),
        })
    }

    pub fn format(&self) -> SourceFormat {
        self.format
    }

    /// The source's width after the EXIF orientation was applied (not shrunk on load).
    pub fn width(&self) -> u32 {
        self.size.0
    }

    pub fn height(&self) -> u32 {
        self.size.1
    }

    /// True when some pixel is not fully opaque.
    pub fn has_alpha(&self) -> bool {
        self.raster.layout == Layout::Rgba
    }

    /// True when an embedded ICC profile is converted to sRGB in every output.
    pub fn converts_colour_profile(&self) -> bool {
        self.to_srgb.is_some()
    }

    pub fn render(&self, variant: &Variant) -> Result<Output, Error> {
        let format = variant.format.resolve(self.format);
        let plan = geometry::plan(self.size, (variant.width, variant.height), variant.fit)
            .for_decoded(self.size, (self.raster.width, self.raster.height));
        let mut raster = self.resized(&plan)?;
        if let Some(to_srgb) = &self.to_srgb {
            to_srgb.apply(&mut raster)?;
        }
        // A crop can leave only opaque pixels.
        raster = raster.without_opaque_alpha();
        if plan.is_padded() {
            let (width, height) = plan.canvas;
            let (left, top) = plan.offset;
            raster = if format.has_alpha() {
                raster.into_rgba().pad(width, height, left, top, &[0; 4])
            } else {
                let fill = [
                    JPEG_BACKGROUND[0],
                    JPEG_BACKGROUND[1],
                    JPEG_BACKGROUND[2],
                    0,
                ];
                let channels = raster.layout.channels();
                raster.pad(width, height, left, top, &fill[..channels])
            };
        }
        let alpha_flattened = format == OutputFormat::Jpeg && raster.has_transparency();
        if format == OutputFormat::Jpeg {
            raster = raster.flatten_onto(JPEG_BACKGROUND);
        }
        let (width, height) = (raster.width, raster.height);
        let bytes = encode::encode(raster, format, variant.quality)?;
        Ok(Output {
            bytes,
            width,
            height,
            format,
            content_type: format.content_type(),
            alpha_flattened,
        })
    }

    /// The source resampled as `plan` says, reusing the previous variant's pixels for the same
    /// plan. A plan that keeps the source as it is gets a copy, and nothing is kept for it: a
    /// full-size raster would stay in memory for as long as the source.
    fn resized(&self, plan: &Plan) -> Result<raster::Raster, Error> {
        if !plan.resamples((self.raster.width, self.raster.height)) {
            return Ok(self.raster.clone());
        }
        let mut last = self
            .last_resize
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((previous, raster)) = last.as_ref()
            && previous == plan
        {
            return Ok(raster.clone());
        }
        let raster = resize::resize(&self.raster, plan)?;
        *last = Some((*plan, raster.clone()));
        Ok(raster)
    }
}

/// Decodes `bytes` and renders one variant.
pub fn process(bytes: &[u8], variant: &Variant, limits: &Limits) -> Result<Output, Error> {
    Source::decode(bytes, limits)?.render(variant)
}
