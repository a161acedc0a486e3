//! Colour management: an embedded RGB ICC profile (Display P3 from phones, Adobe RGB from
//! cameras) is converted to sRGB, and outputs carry no profile, which browsers read as sRGB.
//! Converting rather than carrying keeps outputs small and correct in viewers that ignore
//! profiles. The conversion runs on the resized pixels, so its cost is the output's size.
//!
//! Not converted: grey and CMYK profiles. CMYK JPEGs are turned into RGB by the decoder with the
//! standard formula (Adobe's inverted convention), without their press profile, so their
//! colours are close but not exact; a profile that cannot be parsed is ignored and the pixels
//! are taken as sRGB.

use std::sync::Arc;

use moxcms::{
    ColorProfile, DataColorSpace, Layout as CmsLayout, Transform8BitExecutor, TransformOptions,
};

use super::raster::{Layout, Raster};
use crate::error::Error;

pub(crate) struct ToSrgb {
    transform: Arc<Transform8BitExecutor>,
    layout: Layout,
}

impl std::fmt::Debug for ToSrgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToSrgb")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl ToSrgb {
    /// The conversion for pixels in `layout` tagged with `icc`, or `None` where none applies.
    pub(crate) fn from_icc(icc: &[u8], layout: Layout) -> Option<ToSrgb> {
        let cms_layout = match layout {
            Layout::Rgb => CmsLayout::Rgb,
            Layout::Rgba => CmsLayout::Rgba,
            Layout::Gray => return None,
        };
        let profile = ColorProfile::new_from_slice(icc).ok()?;
        if profile.color_space != DataColorSpace::Rgb {
            return None;
        }
        let transform = profile
            .create_transform_8bit(
                cms_layout,
                &ColorProfile::new_srgb(),
                cms_layout,
                TransformOptions::default(),
            )
            .ok()?;
        Some(ToSrgb { transform, layout })
    }

    pub(crate) fn apply(&self, raster: &mut Raster) -> Result<(), Error> {
        if raster.layout != self.layout {
            return Err(Error::Transform(format!(
                "colour conversion built for {:?} pixels was given {:?}",
                self.layout, raster.layout
            )));
        }
        let mut converted = vec![0; raster.data.len()];
        self.transform
            .transform(&raster.data, &mut converted)
            .map_err(|e| Error::Transform(format!("ICC to sRGB: {e}")))?;
        raster.data = converted;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_pixel(rgb: [u8; 3]) -> Raster {
        Raster {
            width: 1,
            height: 1,
            layout: Layout::Rgb,
            data: rgb.to_vec(),
        }
    }

    #[test]
    fn display_p3_colours_become_more_saturated_srgb() {
        let p3 = ColorProfile::new_display_p3().encode().unwrap();
        let mut raster = one_pixel([200, 100, 50]);
        ToSrgb::from_icc(&p3, Layout::Rgb)
            .unwrap()
            .apply(&mut raster)
            .unwrap();
        let [r, g, b] = [raster.data[0], raster.data[1], raster.data[2]];
        assert!(r > 205 && g < 100 && b < 45, "{:?}", raster.data);
    }

    #[test]
    fn srgb_profile_leaves_values_alone() {
        let srgb = ColorProfile::new_srgb().encode().unwrap();
        let mut raster = one_pixel([200, 100, 50]);
        ToSrgb::from_icc(&srgb, Layout::Rgb)
            .unwrap()
            .apply(&mut raster)
            .unwrap();
        for (converted, original) in raster.data.iter().zip([200u8, 100, 50]) {
            assert!(converted.abs_diff(original) <= 1, "{:?}", raster.data);
        }
    }

    #[test]
    fn unparseable_grey_and_cmyk_profiles_are_not_applied() {
        assert!(ToSrgb::from_icc(b"not a profile", Layout::Rgb).is_none());
        let p3 = ColorProfile::new_display_p3().encode().unwrap();
        assert!(ToSrgb::from_icc(&p3, Layout::Gray).is_none());
        let mut cmyk = ColorProfile::new_display_p3();
        cmyk.color_space = DataColorSpace::Cmyk;
        if let Ok(bytes) = cmyk.encode() {
            assert!(ToSrgb::from_icc(&bytes, Layout::Rgb).is_none());
        }
    }
}
