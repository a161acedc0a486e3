//! Where a variant's pixels come from and where they go: pure arithmetic on dimensions.
//!
//! - `inside`: the whole image, scaled to fit the box; the output is at most the box.
//! - `cover`: the box filled, the overflow cropped equally from both sides.
//! - `contain`: the whole image scaled to fit, centred on a canvas of exactly the box.
//!
//! Never upscaled: a source smaller than what the fit asks for keeps its size. For `cover` and
//! `contain` the box then shrinks, keeping its aspect ratio, to the largest box the source can
//! fill (`cover`) or the smallest box that holds it unscaled (`contain`), so a variant's aspect
//! ratio holds for every source.

use super::Fit;

/// A region of the source in source pixels; fractional edges are resampled, not rounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Crop {
    pub(crate) left: f64,
    pub(crate) top: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plan {
    /// The part of the source to use; `None` for all of it.
    pub(crate) crop: Option<Crop>,
    /// The size the used part is resampled to.
    pub(crate) scaled: (u32, u32),
    /// The output size; larger than `scaled` only for `contain`, which pads.
    pub(crate) canvas: (u32, u32),
    /// Where the scaled image sits on the canvas.
    pub(crate) offset: (u32, u32),
}

impl Plan {
    pub(crate) fn is_padded(&self) -> bool {
        self.scaled != self.canvas
    }

    /// False when the plan takes the whole of a `size` source at its own size.
    pub(crate) fn resamples(&self, size: (u32, u32)) -> bool {
        self.crop.is_some() || self.scaled != size
    }
}

pub(crate) fn plan(source: (u32, u32), bounds: (u32, u32), fit: Fit) -> Plan {
    match fit {
        Fit::Inside => {
            let scaled = fit_inside(source, bounds);
            Plan {
                crop: None,
                scaled,
                canvas: scaled,
                offset: (0, 0),
            }
        }
        Fit::Cover => {
            let (w, h) = source;
            let (bw, bh) = bounds;
            let target = if w >= bw && h >= bh {
                bounds
            } else {
                largest_box_within(source, bounds)
            };
            let crop = centred_crop(source, target);
            Plan {
                crop: (crop.width < f64::from(w) || crop.height < f64::from(h)).then_some(crop),
                scaled: target,
                canvas: target,
                offset: (0, 0),
            }
        }
        Fit::Contain => {
            let (w, h) = source;
            let (bw, bh) = bounds;
            let canvas = if w < bw && h < bh {
                smallest_box_holding(source, bounds)
            } else {
                bounds
            };
            let scaled = fit_inside(source, canvas);
            Plan {
                crop: None,
                scaled,
                canvas,
                offset: ((canvas.0 - scaled.0) / 2, (canvas.1 - scaled.1) / 2),
            }
        }
    }
}

impl Plan {
    /// This plan, made for a source of `source` pixels, for the same picture decoded at
    /// `decoded` pixels (shrunk on load): the same region, in the decoded image's pixels.
    pub(crate) fn for_decoded(self, source: (u32, u32), decoded: (u32, u32)) -> Plan {
        if source == decoded {
            return self;
        }
        let (sx, sy) = (
            f64::from(decoded.0) / f64::from(source.0),
            f64::from(decoded.1) / f64::from(source.1),
        );
        let region = self.crop.unwrap_or(Crop {
            left: 0.0,
            top: 0.0,
            width: f64::from(source.0),
            height: f64::from(source.1),
        });
        Plan {
            crop: Some(Crop {
                left: region.left * sx,
                top: region.top * sy,
                width: (region.width * sx).min(f64::from(decoded.0)),
                height: (region.height * sy).min(f64::from(decoded.1)),
            }),
            ..self
        }
    }

    /// How much smaller than its source region the output is, on the side that shrinks least.
    fn reduction(&self, source: (u32, u32)) -> f64 {
        let (width, height) = self
            .crop
            .map_or((f64::from(source.0), f64::from(source.1)), |crop| {
                (crop.width, crop.height)
            });
        f64::min(
            width / f64::from(self.scaled.0),
            height / f64::from(self.scaled.1),
        )
    }
}

/// The largest JPEG shrink-on-load denominator (1, 2, 4 or 8) that leaves every plan's source
/// region at least as large as its output, so Lanczos3 still does the last, fractional step and
/// nothing is upscaled. libvips (sharp's default `fastShrinkOnLoad`) chooses the same way.
pub(crate) fn shrink_on_load<'a>(
    source: (u32, u32),
    plans: impl IntoIterator<Item = &'a Plan>,
) -> u32 {
    let least = plans
        .into_iter()
        .map(|plan| plan.reduction(source))
        .fold(f64::INFINITY, f64::min);
    [8, 4, 2]
        .into_iter()
        .find(|&denominator| least.is_finite() && least >= f64::from(denominator))
        .unwrap_or(1)
}

/// `numerator / denominator` rounded to the nearest integer, at least 1.
fn ratio(numerator: u64, denominator: u64) -> u32 {
    let rounded = (2 * numerator + denominator) / (2 * denominator);
    u32::try_from(rounded).unwrap_or(u32::MAX).max(1)
}

/// The largest size with the source's aspect ratio that fits in `bounds`, never above the
/// source's own size.
fn fit_inside((w, h): (u32, u32), (bw, bh): (u32, u32)) -> (u32, u32) {
    if w <= bw && h <= bh {
        return (w, h);
    }
    let (w64, h64, bw64, bh64) = (u64::from(w), u64::from(h), u64::from(bw), u64::from(bh));
    if w64 * bh64 >= h64 * bw64 {
        // Relatively wider than the box: the width binds.
        (bw, ratio(h64 * bw64, w64).min(bh))
    } else {
        (ratio(w64 * bh64, h64).min(bw), bh)
    }
}

/// The largest box with the aspect ratio of `bounds` that fits in the source.
fn largest_box_within((w, h): (u32, u32), (bw, bh): (u32, u32)) -> (u32, u32) {
    let (w64, h64, bw64, bh64) = (u64::from(w), u64::from(h), u64::from(bw), u64::from(bh));
    if w64 * bh64 <= h64 * bw64 {
        (w, ratio(bh64 * w64, bw64).min(h))
    } else {
        (ratio(bw64 * h64, bh64).min(w), h)
    }
}

/// The smallest box with the aspect ratio of `bounds` that holds the source.
fn smallest_box_holding((w, h): (u32, u32), (bw, bh): (u32, u32)) -> (u32, u32) {
    let (w64, h64, bw64, bh64) = (u64::from(w), u64::from(h), u64::from(bw), u64::from(bh));
    if w64 * bh64 >= h64 * bw64 {
        (w, ratio(bh64 * w64, bw64).max(h))
    } else {
        (ratio(bw64 * h64, bh64).max(w), h)
    }
}

/// The centred region of the source with the aspect ratio of `target`.
fn centred_crop((w, h): (u32, u32), (tw, th): (u32, u32)) -> Crop {
    let (w, h, tw, th) = (f64::from(w), f64::from(h), f64::from(tw), f64::from(th));
    let (width, height) = if w * th > h * tw {
        (h * tw / th, h)
    } else {
        (w, w * th / tw)
    };
    Crop {
        left: (w - width) / 2.0,
        top: (h - height) / 2.0,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_keeps_the_aspect_ratio_within_the_box() {
        let result = plan((4000, 3000), (800, 800), Fit::Inside);
        assert_eq!(result.scaled, (800, 600));
        assert_eq!(result.canvas, (800, 600));
        assert_eq!(result.crop, None);
        assert_eq!(
            plan((3000, 4000), (800, 800), Fit::Inside).scaled,
            (600, 800)
        );
        assert_eq!(plan((1000, 1), (10, 10), Fit::Inside).scaled, (10, 1));
    }

    #[test]
    fn inside_never_upscales() {
        assert_eq!(plan((100, 50), (800, 800), Fit::Inside).scaled, (100, 50));
    }

    #[test]
    fn cover_fills_the_box_and_crops_the_overflow_from_the_centre() {
        let result = plan((400, 200), (100, 100), Fit::Cover);
        assert_eq!(result.scaled, (100, 100));
        assert_eq!(result.canvas, (100, 100));
        assert_eq!(
            result.crop,
            Some(Crop {
                left: 100.0,
                top: 0.0,
                width: 200.0,
                height: 200.0
            })
        );
    }

    #[test]
    fn cover_of_a_small_source_crops_to_the_box_ratio_without_upscaling() {
        let result = plan((100, 50), (800, 800), Fit::Cover);
        assert_eq!(result.scaled, (50, 50));
        assert_eq!(result.crop.unwrap().width, 50.0);
        assert_eq!(plan((300, 100), (200, 200), Fit::Cover).scaled, (100, 100));
    }

    #[test]
    fn contain_pads_to_exactly_the_box() {
        let result = plan((400, 200), (100, 100), Fit::Contain);
        assert_eq!(result.scaled, (100, 50));
        assert_eq!(result.canvas, (100, 100));
        assert_eq!(result.offset, (0, 25));
        assert!(result.is_padded());
    }

    #[test]
    fn contain_of_a_small_source_pads_to_the_box_ratio_without_upscaling() {
        let result = plan((100, 50), (800, 400), Fit::Contain);
        assert_eq!(result.scaled, (100, 50));
        assert!(!result.is_padded());
        let result = plan((100, 50), (800, 800), Fit::Contain);
        assert_eq!(result.scaled, (100, 50));
        assert_eq!(result.canvas, (100, 100));
        assert_eq!(result.offset, (0, 25));
    }

    #[test]
    fn shrink_on_load_leaves_every_variant_at_least_its_size() {
        let source = (6000, 4000);
        let inside = plan(source, (800, 800), Fit::Inside);
        let thumb = plan(source, (200, 200), Fit::Cover);
        // 7.5x for the 800 box: 4 leaves 1500x1000, 8 would leave 750x500.
        assert_eq!(shrink_on_load(source, [&inside]), 4);
        // The cover crop is 4000x4000 to 200x200: 20x, so 8.
        assert_eq!(shrink_on_load(source, [&thumb]), 8);
        assert_eq!(shrink_on_load(source, [&inside, &thumb]), 4);
        assert_eq!(
            shrink_on_load(source, [&plan(source, (4000, 4000), Fit::Inside)]),
            1
        );
        assert_eq!(shrink_on_load(source, []), 1);
    }

    #[test]
    fn a_plan_for_a_shrunk_decode_covers_the_same_region() {
        let source = (6000, 4000);
        let cover = plan(source, (200, 200), Fit::Cover).for_decoded(source, (750, 500));
        assert_eq!(
            cover.crop,
            Some(Crop {
                left: 125.0,
                top: 0.0,
                width: 500.0,
                height: 500.0
            })
        );
        assert_eq!(cover.scaled, (200, 200));
        let inside = plan(source, (800, 800), Fit::Inside).for_decoded(source, (1500, 1000));
        assert_eq!(inside.scaled, (800, 533));
        assert_eq!(
            inside.crop.map(|c| (c.width, c.height)),
            Some((1500.0, 1000.0))
        );
    }

    #[test]
    fn no_dimension_rounds_to_zero() {
        assert_eq!(plan((10_000, 1), (100, 100), Fit::Inside).scaled, (100, 1));
        assert_eq!(
            plan((1, 10_000), (100, 100), Fit::Contain).canvas,
            (100, 100)
        );
        assert_eq!(plan((1, 1), (1, 100), Fit::Cover).scaled, (1, 1));
    }
}
