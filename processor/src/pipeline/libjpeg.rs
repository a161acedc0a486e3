//! libjpeg-turbo through the `mozjpeg` crate: the JPEG decode (shrunk on load or whole, any
//! colour model to grey or RGB) and the error manager both directions use.
//!
//! libjpeg reports a fatal error by calling the error manager's `error_exit`, which must not
//! return, and damaged image data by a warning: a bad Huffman code, a scan cut short, a marker
//! where a restart marker should be. On a warning the library carries on and fills what it
//! could not decode with grey, so a bit flip in the data becomes a grey band in every variant.
//! The crate's own manager silences warnings; ours raises them as errors, the way sharp's
//! default (`failOn: 'warning'`) does, so a damaged JPEG is reported as `Corrupt` rather than
//! rendered. Two warnings that say nothing of the pixels are let through: stray bytes between
//! segments (skipped, common from some cameras and editors) and an unknown JFIF revision.
//!
//! Both raise by unwinding, as the crate does (its C code is compiled for it); the caller
//! catches the unwind per image (`decode::caught`).

// The error manager is a C struct of callbacks, filled in by libjpeg and read back in them.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int};
use std::mem;
use std::panic::resume_unwind;

use image::DynamicImage;
use mozjpeg_sys::{
    JWRN_EXTRANEOUS_DATA, JWRN_JFIF_MAJOR, jpeg_common_struct, jpeg_error_mgr, jpeg_std_error,
};

use super::sniff::SourceFormat;
use crate::error::Error;

/// The prefix of a libjpeg error's message once it has unwound (`decode::caught` knows it).
pub(crate) const PREFIX: &str = "libjpeg";

/// The size libjpeg asks of a buffer for a formatted message (`JMSG_LENGTH_MAX`).
const MESSAGE_LENGTH: usize = 200;

/// A JPEG decoded at 1/`shrink` of its size (1, 2, 4 or 8), as grey or RGB; `None` for a colour
/// model libjpeg does not name (`image` decodes those). The caller has checked the size against
/// the limits and the scans.
pub(crate) fn decode(bytes: &[u8], shrink: u32) -> Result<Option<DynamicImage>, Error> {
    use mozjpeg::ColorSpace::{JCS_CMYK, JCS_GRAYSCALE, JCS_RGB, JCS_YCCK, JCS_YCbCr};
    let corrupt = |error: std::io::Error| Error::Corrupt {
        format: SourceFormat::Jpeg.name(),
        message: error.to_string(),
    };
    let mut decoder = mozjpeg::Decompress::with_err(error_manager())
        .from_mem(bytes)
        .map_err(corrupt)?;
    // YCCK comes out as CMYK (libjpeg converts it), which becomes RGB below.
    let output = match decoder.color_space() {
        JCS_GRAYSCALE => JCS_GRAYSCALE,
        JCS_YCbCr | JCS_RGB => JCS_RGB,
        JCS_CMYK | JCS_YCCK => JCS_CMYK,
        _ => return Ok(None),
    };
    // libjpeg scales by eighths: 8/8, 4/8, 2/8 or 1/8.
    decoder.scale(u8::try_from(8 / shrink.clamp(1, 8)).unwrap_or(1));
    let mut started = decoder.to_colorspace(output).map_err(corrupt)?;
    let (width, height) = (started.width(), started.height());
    let mut pixels = started.read_scanlines::<u8>().map_err(corrupt)?;
    started.finish().map_err(corrupt)?;
    let (Ok(width), Ok(height)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(corrupt(std::io::ErrorKind::InvalidData.into()));
    };
    if output == JCS_CMYK {
        cmyk_to_rgb(&mut pixels);
    }
    let image = if output == JCS_GRAYSCALE {
        image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
    } else {
        image::RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
    };
    image.map(Some).ok_or_else(|| Error::Corrupt {
        format: SourceFormat::Jpeg.name(),
        message: format!("fewer pixels than {width}x{height}"),
    })
}

/// CMYK as JPEGs store it (Adobe's convention, which every CMYK JPEG writer follows: 255 is no
/// ink) to RGB by the standard formula without a press profile, R = C * K / 255 and so on: close
/// to what a print shows, not exact (`colour` applies no CMYK profile). In place: pixel `i`'s
/// RGB is written at 3i, never past the CMYK at 4i still to be read, so no second full-size
/// buffer is needed.
fn cmyk_to_rgb(pixels: &mut Vec<u8>) {
    let scaled = |ink: u8, black: u8| ((u16::from(ink) * u16::from(black) + 127) / 255) as u8;
    let count = pixels.len() / 4;
    for i in 0..count {
        let [c, m, y, k] = [0, 1, 2, 3].map(|channel| pixels[4 * i + channel]);
        pixels[3 * i..3 * i + 3].copy_from_slice(&[scaled(c, k), scaled(m, k), scaled(y, k)]);
    }
    pixels.truncate(3 * count);
    pixels.shrink_to_fit();
}

/// libjpeg's standard error manager with its two exits replaced: errors and data warnings
/// unwind with the library's message, trace messages are dropped (the standard one prints
/// them to stderr, which would break the JSON log).
pub(crate) fn error_manager() -> jpeg_error_mgr {
    // SAFETY: the struct holds integers, raw pointers and optional function pointers, for all
    // of which zero bytes are a valid value; `jpeg_std_error` then sets every field.
    let mut manager: jpeg_error_mgr = unsafe { mem::zeroed() };
    // SAFETY: `manager` is a valid, exclusively borrowed struct for the call's duration.
    unsafe { jpeg_std_error(&mut manager) };
    manager.error_exit = Some(fail);
    manager.emit_message = Some(warn);
    manager
}

extern "C-unwind" fn fail(cinfo: &mut jpeg_common_struct) {
    resume_unwind(Box::new(format!(
        "{PREFIX} fatal error: {}",
        message(cinfo)
    )));
}

/// `level` -1 is a warning of damaged data (libjpeg: "an application might override this
/// method if it wanted to abort on warnings"); 0 and up are advisory and trace messages.
extern "C-unwind" fn warn(cinfo: &mut jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return;
    }
    // SAFETY: libjpeg calls its error manager with the struct that points to it.
    let code = unsafe { (*cinfo.err).msg_code };
    if code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR {
        return;
    }
    resume_unwind(Box::new(format!(
        "{PREFIX} found damaged data: {}",
        message(cinfo)
    )));
}

/// The current message, formatted by libjpeg with its parameters.
fn message(cinfo: &mut jpeg_common_struct) -> String {
    let mut buffer = [0 as c_char; MESSAGE_LENGTH];
    // SAFETY: libjpeg calls its error manager with the struct that points to it, and
    // `jpeg_std_error` set `format_message`. The binding types its buffer as 80 bytes, but the
    // C function writes up to JMSG_LENGTH_MAX; it is given that many, through a pointer of the
    // same ABI, and always ends the text with a NUL within them.
    unsafe {
        let Some(format) = (*cinfo.err).format_message else {
            return format!("message {}", (*cinfo.err).msg_code);
        };
        let format: unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut c_char) =
            mem::transmute(format);
        format(cinfo, buffer.as_mut_ptr());
        CStr::from_ptr(buffer.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}
