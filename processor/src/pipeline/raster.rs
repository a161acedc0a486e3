//! The pipeline's one pixel representation: 8-bit grey, RGB or RGBA with straight (not
//! premultiplied) alpha, whatever the source's depth or colour model was. Outputs are 8-bit web
//! images, so 16-bit and float sources are reduced once, right after decoding.

use image::DynamicImage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Gray,
    Rgb,
    Rgba,
}

impl Layout {
    pub(crate) fn channels(self) -> usize {
        match self {
            Layout::Gray => 1,
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Raster {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) layout: Layout,
    pub(crate) data: Vec<u8>,
}

impl Raster {
    /// Reduces a decoded image to 8 bits per channel. Grey stays grey (a smaller JPEG); an alpha
    /// channel that is opaque everywhere is dropped, so it can neither cost bytes nor count as
    /// transparency later.
    pub(crate) fn from_dynamic(image: DynamicImage) -> Raster {
        let (width, height) = (image.width(), image.height());
        let (layout, data) = match image {
            DynamicImage::ImageLuma8(buffer) => (Layout::Gray, buffer.into_raw()),
            DynamicImage::ImageLuma16(_) => (Layout::Gray, image.to_luma8().into_raw()),
            DynamicImage::ImageRgb8(buffer) => (Layout::Rgb, buffer.into_raw()),
            DynamicImage::ImageRgba8(buffer) => (Layout::Rgba, buffer.into_raw()),
            DynamicImage::ImageLumaA8(_) | DynamicImage::ImageLumaA16(_) => {
                let raster = Raster {
                    width,
                    height,
                    layout: Layout::Rgba,
                    data: image.to_rgba8().into_raw(),
                };
                return raster.without_opaque_alpha().into_gray_if_neutral();
            }
            image if image.color().has_alpha() => (Layout::Rgba, image.to_rgba8().into_raw()),
            image => (Layout::Rgb, image.to_rgb8().into_raw()),
        };
        Raster {
            width,
            height,
            layout,
            data,
        }
        .without_opaque_alpha()
    }

    pub(crate) fn has_transparency(&self) -> bool {
        self.layout == Layout::Rgba && self.data.chunks_exact(4).any(|pixel| pixel[3] != 255)
    }

    /// RGBA whose alpha is 255 everywhere becomes RGB, in place.
    pub(crate) fn without_opaque_alpha(mut self) -> Raster {
        if self.layout != Layout::Rgba || self.has_transparency() {
            return self;
        }
        let pixels = self.data.len() / 4;
        for index in 0..pixels {
            self.data.copy_within(index * 4..index * 4 + 3, index * 3);
        }
        self.data.truncate(pixels * 3);
        self.layout = Layout::Rgb;
        self
    }

    /// RGB made from grey (as grey-with-alpha sources are) goes back to grey.
    fn into_gray_if_neutral(mut self) -> Raster {
        if self.layout != Layout::Rgb
            || !self
                .data
                .chunks_exact(3)
                .all(|p| p[0] == p[1] && p[1] == p[2])
        {
            return self;
        }
        let pixels = self.data.len() / 3;
        for index in 0..pixels {
            self.data[index] = self.data[index * 3];
        }
        self.data.truncate(pixels);
        self.layout = Layout::Gray;
        self
    }

    /// Composites RGBA onto an opaque background, giving RGB.
    pub(crate) fn flatten_onto(self, background: [u8; 3]) -> Raster {
        if self.layout != Layout::Rgba {
            return self;
        }
        let data = self
            .data
            .chunks_exact(4)
            .flat_map(|pixel| {
                let alpha = u32::from(pixel[3]);
                let blend = move |channel: usize| {
                    let value = u32::from(pixel[channel]) * alpha
                        + u32::from(background[channel]) * (255 - alpha);
                    // Rounded division by 255; the result is at most 255.
                    u8::try_from((value + 127) / 255).unwrap_or(u8::MAX)
                };
                [blend(0), blend(1), blend(2)]
            })
            .collect();
        Raster {
            layout: Layout::Rgb,
            data,
            ..self
        }
    }

    /// Grey to RGB, for encoders that take colour only.
    pub(crate) fn into_colour(self) -> Raster {
        if self.layout != Layout::Gray {
            return self;
        }
        let data = self.data.iter().flat_map(|&v| [v, v, v]).collect();
        Raster {
            layout: Layout::Rgb,
            data,
            ..self
        }
    }

    /// Any layout to RGBA.
    pub(crate) fn into_rgba(self) -> Raster {
        let data = match self.layout {
            Layout::Rgba => return self,
            Layout::Rgb => self
                .data
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            Layout::Gray => self.data.iter().flat_map(|&v| [v, v, v, 255]).collect(),
        };
        Raster {
            layout: Layout::Rgba,
            data,
            ..self
        }
    }

    /// Places the image at (`left`, `top`) on a `width` x `height` canvas filled with `fill`
    /// (one value per channel of this raster's layout).
    pub(crate) fn pad(self, width: u32, height: u32, left: u32, top: u32, fill: &[u8]) -> Raster {
        let channels = self.layout.channels();
        debug_assert_eq!(fill.len(), channels);
        let canvas_row = width as usize * channels;
        let mut data: Vec<u8> = fill
            .iter()
            .copied()
            .cycle()
            .take(canvas_row * height as usize)
            .collect();
        let image_row = self.width as usize * channels;
        for (y, row) in self.data.chunks_exact(image_row).enumerate() {
            let start = (top as usize + y) * canvas_row + left as usize * channels;
            data[start..start + image_row].copy_from_slice(row);
        }
        Raster {
            width,
            height,
            layout: self.layout,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgba(pixels: &[[u8; 4]]) -> Raster {
        Raster {
            width: u32::try_from(pixels.len()).unwrap(),
            height: 1,
            layout: Layout::Rgba,
            data: pixels.concat(),
        }
    }

    #[test]
    fn opaque_alpha_is_dropped_and_real_alpha_kept() {
        let opaque = rgba(&[[1, 2, 3, 255], [4, 5, 6, 255]]).without_opaque_alpha();
        assert_eq!(opaque.layout, Layout::Rgb);
        assert_eq!(opaque.data, [1, 2, 3, 4, 5, 6]);
        let translucent = rgba(&[[1, 2, 3, 255], [4, 5, 6, 254]]).without_opaque_alpha();
        assert_eq!(translucent.layout, Layout::Rgba);
    }

    #[test]
    fn flattening_blends_with_the_background_by_alpha() {
        let flat = rgba(&[[0, 0, 0, 0], [0, 0, 0, 255], [0, 0, 0, 128]]).flatten_onto([255; 3]);
        assert_eq!(flat.layout, Layout::Rgb);
        assert_eq!(flat.data, [255, 255, 255, 0, 0, 0, 127, 127, 127]);
    }

    #[test]
    fn padding_centres_the_image_on_the_fill() {
        let gray = Raster {
            width: 1,
            height: 1,
            layout: Layout::Gray,
            data: vec![7],
        };
        let padded = gray.pad(3, 2, 1, 1, &[255]);
        assert_eq!(padded.data, [255, 255, 255, 255, 7, 255]);
    }

    #[test]
    fn grey_with_alpha_that_is_opaque_becomes_grey() {
        let image = image::GrayAlphaImage::from_raw(2, 1, vec![10, 255, 20, 255]).unwrap();
        let raster = Raster::from_dynamic(DynamicImage::ImageLumaA8(image));
        assert_eq!(raster.layout, Layout::Gray);
        assert_eq!(raster.data, [10, 20]);
    }
}
