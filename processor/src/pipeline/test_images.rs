//! Test inputs made in code, so no binary fixture is committed, and readers for the containers
//! the tests inspect (JPEG markers, PNG chunks, RIFF chunks).

use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, Frame, ImageEncoder, ImageFormat, RgbImage, RgbaImage};

use super::decode::walk_header;

/// Text stored in the GPS block of [`exif`]; it must never appear in an output.
pub(crate) const GPS_MARKER: &[u8] = b"GPS-SECRET-LOCATION";
/// Text stored as the image description of [`exif`].
pub(crate) const DESCRIPTION_MARKER: &[u8] = b"PRIVATE-CAMERA-NOTE";

pub(crate) const RED: [u8; 3] = [220, 30, 30];
pub(crate) const GREEN: [u8; 3] = [30, 200, 30];
pub(crate) const BLUE: [u8; 3] = [30, 30, 220];
pub(crate) const WHITE: [u8; 3] = [240, 240, 240];

/// Four flat quadrants (red, green / blue, white), so any flip or rotation is visible.
pub(crate) fn quadrants(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        image::Rgb(match (x < width / 2, y < height / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    })
}

pub(crate) fn close(actual: &[u8], expected: &[u8], tolerance: u8) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| a.abs_diff(*e) <= tolerance)
}

/// A TIFF-structured EXIF block (what follows `Exif\0\0` in a JPEG APP1 segment, or fills a PNG
/// eXIf chunk), little-endian, written field by field: IFD0 with ImageDescription, Orientation
/// and a pointer to a GPS IFD holding a latitude and GPSAreaInformation.
pub(crate) fn exif(orientation: u16) -> Vec<u8> {
    const ASCII: u16 = 2;
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    const UNDEFINED: u16 = 7;
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    let count = |bytes: &[u8]| u32::try_from(bytes.len()).unwrap();

    // Layout: header (8), IFD0 (2 + 3 * 12 + 4 = 42), GPS IFD (2 + 3 * 12 + 4 = 42), then data.
    let ifd0 = 8u32;
    let gps_ifd = ifd0 + 42;
    let description = gps_ifd + 42;
    let description_text = [DESCRIPTION_MARKER, b"\0"].concat();
    let latitude = description + count(&description_text);
    let area = latitude + 24;

    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&ifd0.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes());
    entry(
        &mut out,
        0x010E,
        ASCII,
        count(&description_text),
        description.to_le_bytes(),
    );
    let [low, high] = orientation.to_le_bytes();
    entry(&mut out, 0x0112, SHORT, 1, [low, high, 0, 0]);
    entry(&mut out, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());

    out.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut out, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut out, 0x0002, RATIONAL, 3, latitude.to_le_bytes());
    entry(
        &mut out,
        0x001C,
        UNDEFINED,
        count(GPS_MARKER),
        area.to_le_bytes(),
    );
    out.extend_from_slice(&0u32.to_le_bytes());

    out.extend_from_slice(&description_text);
    for (numerator, denominator) in [(48u32, 1u32), (51, 1), (2900, 100)] {
        out.extend_from_slice(&numerator.to_le_bytes());
        out.extend_from_slice(&denominator.to_le_bytes());
    }
    out.extend_from_slice(GPS_MARKER);
    out
}

/// A baseline JPEG of `pixels` (`colour_type` layout) with an optional EXIF APP1 segment.
pub(crate) fn jpeg(
    pixels: &[u8],
    width: u32,
    height: u32,
    colour_type: jpeg_encoder::ColorType,
    exif: Option<Vec<u8>>,
) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 95);
    if let Some(exif) = exif {
        encoder
            .add_app_segment(1, [b"Exif\0\0".as_slice(), &exif].concat())
            .unwrap();
    }
    encoder
        .encode(
            pixels,
            u16::try_from(width).unwrap(),
            u16::try_from(height).unwrap(),
            colour_type,
        )
        .unwrap();
    bytes
}

pub(crate) fn rgb_jpeg(image: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    jpeg(
        image.as_raw(),
        image.width(),
        image.height(),
        jpeg_encoder::ColorType::Rgb,
        exif,
    )
}

/// A PNG of `image`, optionally with an ICC profile (iCCP) and EXIF (eXIf).
pub(crate) fn png(image: &DynamicImage, icc: Option<Vec<u8>>, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = PngEncoder::new(&mut bytes);
    if let Some(icc) = icc {
        encoder.set_icc_profile(icc).unwrap();
    }
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).unwrap();
    }
    encoder
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .unwrap();
    bytes
}

/// `image` in any format `image` writes (TIFF, BMP, ...).
pub(crate) fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// An 8x8 palette PNG: left half opaque red, right half fully transparent blue.
pub(crate) fn palette_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut bytes, 8, 8);
    encoder.set_color(::png::ColorType::Indexed);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_palette(vec![255, 0, 0, 0, 0, 255]);
    encoder.set_trns(vec![255, 0]);
    let mut writer = encoder.write_header().unwrap();
    let indices: Vec<u8> = (0..64).map(|i| u8::from(i % 8 >= 4)).collect();
    writer.write_image_data(&indices).unwrap();
    writer.finish().unwrap();
    bytes
}

/// A two-frame animated GIF: the first frame red, the second blue.
pub(crate) fn animated_gif() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        let frames = [[255, 0, 0, 255], [0, 0, 255, 255]]
            .map(|colour| Frame::new(RgbaImage::from_pixel(16, 16, image::Rgba(colour))));
        encoder.encode_frames(frames).unwrap();
    }
    bytes
}

/// A JPEG stored as CMYK (Adobe's inverted convention, as Photoshop writes it).
pub(crate) fn cmyk_jpeg(cmyk: [u8; 4], width: u32, height: u32) -> Vec<u8> {
    let pixels = cmyk.repeat(usize::try_from(width * height).unwrap());
    jpeg(&pixels, width, height, jpeg_encoder::ColorType::Cmyk, None)
}

/// A lossless WebP of `image` (RGBA).
pub(crate) fn webp(image: &RgbaImage) -> Vec<u8> {
    webp::Encoder::from_rgba(image.as_raw(), image.width(), image.height())
        .encode_simple(true, 100.0)
        .unwrap()
        .to_vec()
}

/// A valid PNG signature and IHDR claiming `width` x `height` RGBA, then one tiny IDAT and IEND:
/// what a decompression bomb looks like from its header.
pub(crate) fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    // A zlib stream of one empty stored block.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// CRC-32 (ISO-HDLC), as PNG chunks use.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The JPEG marker codes before the first scan, plus that scan's SOS.
pub(crate) fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    walk_header(bytes, |code, _| markers.push(code));
    markers
}

pub(crate) fn has_marker(bytes: &[u8], marker: u8) -> bool {
    jpeg_markers(bytes).contains(&marker)
}

/// Where the first 0xFF `marker` pair of a JPEG (from an encoder here, so found by a scan of the
/// bytes rather than a walk of the segments) starts.
pub(crate) fn marker_at(bytes: &[u8], marker: u8) -> usize {
    bytes
        .windows(2)
        .position(|pair| pair == [0xFF, marker])
        .unwrap_or_else(|| panic!("no 0xFF{marker:02X} marker"))
}

/// The number of colour components in a JPEG's frame header.
pub(crate) fn jpeg_components(bytes: &[u8]) -> u8 {
    let mut components = None;
    walk_header(bytes, |code, body| {
        if matches!(code, 0xC0..=0xC3) {
            components = components.or(body.get(5).copied());
        }
    });
    components.expect("no frame header")
}

pub(crate) fn png_chunks(bytes: &[u8]) -> Vec<[u8; 4]> {
    let mut chunks = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        chunks.push(bytes[at + 4..at + 8].try_into().unwrap());
        at += 12 + usize::try_from(length).unwrap();
    }
    chunks
}

/// The top-level chunk ids of a WebP (RIFF) file.
pub(crate) fn riff_chunks(bytes: &[u8]) -> Vec<[u8; 4]> {
    let mut chunks = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
        let size = usize::try_from(size).unwrap();
        chunks.push(bytes[at..at + 4].try_into().unwrap());
        at += 8 + size + size % 2;
    }
    chunks
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
