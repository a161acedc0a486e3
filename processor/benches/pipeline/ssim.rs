//! The quality score of the benchmark, computed the same way for every engine: the mean SSIM
//! (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03) on luma (BT.601) of
//! an output against a reference resize of the same source to the same size: the full decoded
//! image, in floating point, through Lanczos3, with no rounding to 8 bits.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// An image's luma, row-major.
#[derive(Debug)]
pub struct Luma {
    pub width: u32,
    pub height: u32,
    pub values: Vec<f32>,
}

impl Luma {
    pub fn from_rgb8(width: u32, height: u32, rgb: &[u8]) -> Luma {
        let values = rgb
            .chunks_exact(3)
            .map(|p| luma(f32::from(p[0]), f32::from(p[1]), f32::from(p[2])))
            .collect();
        Luma {
            width,
            height,
            values,
        }
    }
}

fn luma(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// The reference for an output of `width` x `height`: the decoded RGB source resized in f32.
pub fn reference(source: &image::RgbImage, width: u32, height: u32) -> Luma {
    let floats: Vec<u8> = source
        .as_raw()
        .iter()
        .flat_map(|&channel| f32::from(channel).to_ne_bytes())
        .collect();
    let input = ImageRef::new(source.width(), source.height(), &floats, PixelType::F32x3)
        .expect("a buffer of the image's size");
    let mut output = Image::new(width, height, PixelType::F32x3);
    Resizer::new()
        .resize(
            &input,
            &mut output,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .expect("f32 Lanczos3 resize");
    let values = output
        .buffer()
        .chunks_exact(12)
        .map(|pixel| {
            let channel = |i: usize| {
                f32::from_ne_bytes(pixel[i * 4..i * 4 + 4].try_into().expect("4 bytes"))
                    .clamp(0.0, 255.0)
            };
            luma(channel(0), channel(1), channel(2))
        })
        .collect();
    Luma {
        width,
        height,
        values,
    }
}

/// Mean SSIM of `a` against `b`, over the positions where the window fits.
pub fn ssim(a: &Luma, b: &Luma) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height), "sizes differ");
    let (w, h) = (a.width as usize, a.height as usize);
    let product = |f: &dyn Fn(f32, f32) -> f32| -> Vec<f32> {
        a.values
            .iter()
            .zip(&b.values)
            .map(|(&x, &y)| f(x, y))
            .collect()
    };
    let mu_a = blur(&a.values, w, h);
    let mu_b = blur(&b.values, w, h);
    let aa = blur(&product(&|x, _| x * x), w, h);
    let bb = blur(&product(&|_, y| y * y), w, h);
    let ab = blur(&product(&|x, y| x * y), w, h);
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let mut sum = 0.0;
    for i in 0..mu_a.len() {
        let (ma, mb) = (f64::from(mu_a[i]), f64::from(mu_b[i]));
        let var_a = f64::from(aa[i]) - ma * ma;
        let var_b = f64::from(bb[i]) - mb * mb;
        let cov = f64::from(ab[i]) - ma * mb;
        sum += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
            / ((ma * ma + mb * mb + c1) * (var_a + var_b + c2));
    }
    sum / mu_a.len() as f64
}

const RADIUS: usize = 5;

/// The 11x11 Gaussian-weighted mean at each position where the whole window fits ("valid").
fn blur(values: &[f32], w: usize, h: usize) -> Vec<f32> {
    let weights: Vec<f32> = (0..=2 * RADIUS)
        .map(|i| (-((i as f32 - RADIUS as f32).powi(2)) / (2.0 * 1.5 * 1.5)).exp())
        .collect();
    let total: f32 = weights.iter().sum();
    let weights: Vec<f32> = weights.iter().map(|w| w / total).collect();
    let (out_w, out_h) = (w - 2 * RADIUS, h - 2 * RADIUS);
    let mut rows = vec![0f32; out_w * h];
    for y in 0..h {
        for x in 0..out_w {
            rows[y * out_w + x] = (0..weights.len())
                .map(|k| weights[k] * values[y * w + x + k])
                .sum();
        }
    }
    let mut out = vec![0f32; out_w * out_h];
    for y in 0..out_h {
        for x in 0..out_w {
            out[y * out_w + x] = (0..weights.len())
                .map(|k| weights[k] * rows[(y + k) * out_w + x])
                .sum();
        }
    }
    out
}
