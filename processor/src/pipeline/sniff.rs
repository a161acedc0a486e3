//! The source format from the first bytes of the object: never from its key's extension or its
//! Content-Type, which the uploader chooses. Formats we recognise but do not read (HEIC, AVIF,
//! SVG, PDF) are named in the error, so an operator sees what was uploaded.

use crate::error::Error;

/// The formats the pipeline decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Webp,
    /// Only the first frame of an animation is used.
    Gif,
    /// Only the first page is used.
    Tiff,
    Bmp,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "JPEG",
            SourceFormat::Png => "PNG",
            SourceFormat::Webp => "WebP",
            SourceFormat::Gif => "GIF",
            SourceFormat::Tiff => "TIFF",
            SourceFormat::Bmp => "BMP",
        }
    }

    pub(crate) fn image_format(self) -> image::ImageFormat {
        match self {
            SourceFormat::Jpeg => image::ImageFormat::Jpeg,
            SourceFormat::Png => image::ImageFormat::Png,
            SourceFormat::Webp => image::ImageFormat::WebP,
            SourceFormat::Gif => image::ImageFormat::Gif,
            SourceFormat::Tiff => image::ImageFormat::Tiff,
            SourceFormat::Bmp => image::ImageFormat::Bmp,
        }
    }
}

/// Identifies the format of `bytes` from its signature.
pub fn sniff(bytes: &[u8]) -> Result<SourceFormat, Error> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if bytes.is_empty() {
        return Err(Error::UnsupportedFormat("the object is empty".into()));
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(SourceFormat::Gif);
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Ok(SourceFormat::Webp);
    }
    // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Ok(SourceFormat::Tiff);
    }
    // "BM" alone is two bytes of text; also require a known DIB header size at offset 14.
    if starts(b"BM") && bytes.len() >= 18 {
        let dib_header_size = u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]);
        if [12, 40, 52, 56, 64, 108, 124].contains(&dib_header_size) {
            return Ok(SourceFormat::Bmp);
        }
    }
    Err(Error::UnsupportedFormat(describe_unsupported(bytes)))
}

fn describe_unsupported(bytes: &[u8]) -> String {
    if bytes.get(4..8) == Some(b"ftyp") {
        let brand = bytes.get(8..12).unwrap_or_default();
        let family = match brand {
            b"avif" | b"avis" => "AVIF",
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => "HEIC/HEIF",
            _ => "ISO media (video or HEIF family)",
        };
        return format!("{family} input is not supported");
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("<svg") || (trimmed.starts_with("<?xml") && text.contains("<svg")) {
        return "SVG input is not supported".into();
    }
    if bytes.starts_with(b"%PDF") {
        return "PDF input is not supported".into();
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "not a JPEG, PNG, WebP, GIF, TIFF or BMP image (first bytes: {})",
        head.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsupported_message(bytes: &[u8]) -> String {
        match sniff(bytes) {
            Err(Error::UnsupportedFormat(message)) => message,
            other => panic!("expected UnsupportedFormat, got {other:?}"),
        }
    }

    #[test]
    fn each_supported_signature_is_recognised() {
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());
        let cases: [(&[u8], SourceFormat); 9] = [
            (b"\xFF\xD8\xFF\xE0rest", SourceFormat::Jpeg),
            (b"\x89PNG\r\n\x1a\nrest", SourceFormat::Png),
            (b"GIF89a....", SourceFormat::Gif),
            (b"GIF87a....", SourceFormat::Gif),
            (b"RIFF\x10\0\0\0WEBPVP8 ", SourceFormat::Webp),
            (b"II*\0\x08\0\0\0", SourceFormat::Tiff),
            (b"MM\0*\0\0\0\x08", SourceFormat::Tiff),
            (b"II+\0\x08\0\0\0", SourceFormat::Tiff),
            (&bmp, SourceFormat::Bmp),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff(bytes).unwrap(), expected, "{bytes:?}");
        }
    }

    #[test]
    fn zero_bytes_are_unsupported_and_said_to_be_empty() {
        assert_eq!(unsupported_message(b""), "the object is empty");
    }

    #[test]
    fn text_is_unsupported_whatever_its_name() {
        let message = unsupported_message(b"Hello, this is photo.jpg\n");
        assert!(message.contains("48 65 6c 6c 6f"), "{message}");
    }

    #[test]
    fn text_starting_with_bm_is_not_taken_for_a_bitmap() {
        unsupported_message(b"BMW owners club newsletter");
    }

    #[test]
    fn heic_avif_svg_and_pdf_are_named() {
        assert!(unsupported_message(b"\0\0\0\x18ftypheic\0\0\0\0").contains("HEIC"));
        assert!(unsupported_message(b"\0\0\0\x1cftypavif\0\0\0\0").contains("AVIF"));
        assert!(unsupported_message(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"\">").contains("SVG"));
        assert!(unsupported_message(b"%PDF-1.7\n").contains("PDF"));
    }
}
