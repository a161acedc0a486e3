//! Resampling with `fast_image_resize`: Lanczos3, SIMD where the CPU has it, and for RGBA the
//! colour multiplied by alpha before filtering and divided after, so fully transparent pixels
//! (whose colour is arbitrary) cannot bleed into their visible neighbours.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::geometry::Plan;
use super::raster::{Layout, Raster};
use crate::error::Error;

/// The part of `source` the plan uses, resampled to the plan's scaled size (before padding).
/// It resamples even a plan that keeps the source as it is ([`Plan::resamples`]).
pub(crate) fn resize(source: &Raster, plan: &Plan) -> Result<Raster, Error> {
    let (width, height) = plan.scaled;
    let pixel_type = match source.layout {
        Layout::Gray => PixelType::U8,
        Layout::Rgb => PixelType::U8x3,
        Layout::Rgba => PixelType::U8x4,
    };
    let failed = |error: &dyn std::fmt::Display| Error::Transform(format!("resize: {error}"));
    let input = ImageRef::new(source.width, source.height, &source.data, pixel_type)
        .map_err(|e| failed(&e))?;
    let mut output = Image::new(width, height, pixel_type);
    let mut options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(true);
    if let Some(crop) = plan.crop {
        options = options.crop(crop.left, crop.top, crop.width, crop.height);
    }
    Resizer::new()
        .resize(&input, &mut output, &options)
        .map_err(|e| failed(&e))?;
    Ok(Raster {
        width,
        height,
        layout: source.layout,
        data: output.into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Fit;
    use crate::pipeline::geometry::plan;

    #[test]
    fn transparent_pixels_do_not_darken_resized_edges() {
        // Left half: transparent black; right half: opaque white.
        let (width, height) = (64, 16);
        let mut data = Vec::new();
        for _ in 0..height {
            for x in 0..width {
                data.extend_from_slice(if x < width / 2 {
                    &[0, 0, 0, 0]
                } else {
                    &[255, 255, 255, 255]
                });
            }
        }
        let source = Raster {
            width,
            height,
            layout: Layout::Rgba,
            data,
        };
        let resized = resize(&source, &plan((64, 16), (16, 16), Fit::Inside)).unwrap();
        assert_eq!((resized.width, resized.height), (16, 4));
        let visible_edge: Vec<_> = resized
            .data
            .chunks_exact(4)
            .filter(|pixel| pixel[3] > 8)
            .collect();
        assert!(
            visible_edge.iter().any(|pixel| pixel[3] < 250),
            "no edge pixels"
        );
        for pixel in visible_edge {
            assert!(pixel[..3].iter().all(|&c| c >= 245), "darkened: {pixel:?}");
        }
    }

    #[test]
    fn cover_crop_takes_the_centre_of_the_source() {
        // Three vertical bands, 10 px each: red, green, blue; a square cover keeps the green.
        let mut data = Vec::new();
        for _ in 0..10 {
            for x in 0..30 {
                data.extend_from_slice(match x / 10 {
                    0 => &[255, 0, 0],
                    1 => &[0, 255, 0],
                    _ => &[0, 0, 255],
                });
            }
        }
        let source = Raster {
            width: 30,
            height: 10,
            layout: Layout::Rgb,
            data,
        };
        let resized = resize(&source, &plan((30, 10), (5, 5), Fit::Cover)).unwrap();
        assert_eq!((resized.width, resized.height), (5, 5));
        for pixel in resized.data.chunks_exact(3) {
            assert!(
                pixel[1] > 200 && pixel[0] < 40 && pixel[2] < 40,
                "{pixel:?}"
            );
        }
    }
}
