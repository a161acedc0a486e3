//! The pipeline end to end, on images generated here: bytes in, bytes out, each output decoded
//! again to check what a viewer would see.

use image::{DynamicImage, GenericImageView, ImageFormat, RgbImage, RgbaImage};

use super::test_images::*;
use super::*;

const LIMITS: Limits = Limits {
    max_input_bytes: 10 << 20,
    max_pixels: 25_000_000,
};

fn variant(width: u32, height: u32, fit: Fit, format: TargetFormat) -> Variant {
    Variant {
        name: "test".into(),
        width,
        height,
        fit,
        format,
        quality: 90,
    }
}

fn as_png(width: u32, height: u32, fit: Fit) -> Variant {
    variant(width, height, fit, TargetFormat::Fixed(OutputFormat::Png))
}

fn decoded(output: &Output) -> DynamicImage {
    let image = image::load_from_memory(&output.bytes).unwrap();
    assert_eq!(
        (image.width(), image.height()),
        (output.width, output.height)
    );
    image
}

fn pixel(image: &DynamicImage, x: u32, y: u32) -> [u8; 4] {
    image.get_pixel(x, y).0
}

/// Where a stored pixel (x, y) of a `width` x `height` image shows on screen, by the EXIF 2.32
/// definition of Orientation (which corner row 0 and column 0 are displayed at).
fn displayed_at(orientation: u16, x: u32, y: u32, width: u32, height: u32) -> (u32, u32) {
    match orientation {
        1 => (x, y),
        2 => (width - 1 - x, y),
        3 => (width - 1 - x, height - 1 - y),
        4 => (x, height - 1 - y),
        5 => (y, x),
        6 => (height - 1 - y, x),
        7 => (height - 1 - y, width - 1 - x),
        8 => (y, width - 1 - x),
        _ => unreachable!(),
    }
}

#[test]
fn each_exif_orientation_is_applied() {
    // What the viewer must see: 64 wide, 32 high, red top-left.
    let shown = quadrants(64, 32);
    for orientation in 1..=8u16 {
        let (stored_width, stored_height) = if orientation >= 5 { (32, 64) } else { (64, 32) };
        let mut stored = RgbImage::new(stored_width, stored_height);
        for (x, y, pixel) in stored.enumerate_pixels_mut() {
            let (sx, sy) = displayed_at(orientation, x, y, stored_width, stored_height);
            *pixel = *shown.get_pixel(sx, sy);
        }
        let source = rgb_jpeg(&stored, Some(exif(orientation)));
        let output = process(&source, &as_png(1000, 1000, Fit::Inside), &LIMITS).unwrap();
        let image = decoded(&output);
        assert_eq!(
            (output.width, output.height),
            (64, 32),
            "orientation {orientation}"
        );
        for (x, y, expected) in [(8, 8, RED), (56, 8, GREEN), (8, 24, BLUE), (56, 24, WHITE)] {
            assert!(
                close(&pixel(&image, x, y)[..3], &expected, 12),
                "orientation {orientation} at ({x}, {y}): {:?} instead of {expected:?}",
                pixel(&image, x, y)
            );
        }
    }
}

#[test]
fn orientation_is_applied_before_fitting() {
    let stored = quadrants(80, 40);
    let source = rgb_jpeg(&stored, Some(exif(6)));
    let output = process(&source, &as_png(20, 20, Fit::Inside), &LIMITS).unwrap();
    assert_eq!((output.width, output.height), (10, 20));
}

#[test]
fn png_exif_orientation_is_applied_too() {
    let stored = DynamicImage::ImageRgb8(quadrants(40, 20));
    let source = png(&stored, None, Some(exif(8)));
    let output = process(&source, &as_png(100, 100, Fit::Inside), &LIMITS).unwrap();
    assert_eq!((output.width, output.height), (20, 40));
    // Orientation 8 shows stored row 0 down the left edge, so the stored top-right (green) ends
    // up top-left.
    assert!(close(&pixel(&decoded(&output), 4, 4)[..3], &GREEN, 2));
}

#[test]
fn gps_and_other_exif_never_reach_any_output() {
    let jpeg_source = rgb_jpeg(&quadrants(64, 32), Some(exif(1)));
    let png_source = png(
        &DynamicImage::ImageRgb8(quadrants(64, 32)),
        None,
        Some(exif(1)),
    );
    for source in [jpeg_source, png_source] {
        assert!(
            contains(&source, GPS_MARKER),
            "the source must carry GPS data"
        );
        for format in [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::Webp] {
            let output = process(
                &source,
                &variant(32, 32, Fit::Cover, TargetFormat::Fixed(format)),
                &LIMITS,
            )
            .unwrap();
            let bytes = &output.bytes;
            assert!(!contains(bytes, GPS_MARKER), "{format:?} carries GPS data");
            assert!(
                !contains(bytes, DESCRIPTION_MARKER),
                "{format:?} carries EXIF"
            );
            assert!(
                !contains(bytes, b"Exif\0\0"),
                "{format:?} has an EXIF block"
            );
            match format {
                OutputFormat::Jpeg => assert!(!has_marker(bytes, 0xE1), "APP1 present"),
                OutputFormat::Png => assert!(!png_chunks(bytes).contains(b"eXIf")),
                _ => assert!(!riff_chunks(bytes).contains(b"EXIF")),
            }
        }
    }
}

#[test]
fn cmyk_jpeg_becomes_rgb_with_its_colours() {
    // Cyan 0, magenta and yellow full, black 0: red. Cyan full, black 0: cyan.
    for (cmyk, rgb) in [
        ([0, 255, 255, 0], [255, 0, 0]),
        ([255, 0, 0, 0], [0, 255, 255]),
        ([0, 0, 0, 255], [0, 0, 0]),
    ] {
        // Stored as CMYK, and as YCCK (Adobe's transform 2, which libjpeg turns back into CMYK).
        let pixels = cmyk.repeat(16 * 16);
        for colour_type in [
            jpeg_encoder::ColorType::Cmyk,
            jpeg_encoder::ColorType::CmykAsYcck,
        ] {
            let source = jpeg(&pixels, 16, 16, colour_type, None);
            assert!(has_marker(&source, 0xEE), "no Adobe APP14 marker");
            let output = process(&source, &as_png(100, 100, Fit::Inside), &LIMITS).unwrap();
            let image = decoded(&output);
            assert_eq!(image.color(), image::ColorType::Rgb8);
            assert!(
                close(&pixel(&image, 8, 8)[..3], &rgb, 10),
                "{colour_type:?} {cmyk:?} became {:?}",
                pixel(&image, 8, 8)
            );
        }
    }
}

fn half_transparent(width: u32, height: u32) -> RgbaImage {
    // Left half opaque red, right half fully transparent.
    RgbaImage::from_fn(width, height, |x, _| {
        image::Rgba(if x < width / 2 {
            [255, 0, 0, 255]
        } else {
            [0, 0, 0, 0]
        })
    })
}

#[test]
fn alpha_png_keeps_its_transparency_in_png_and_webp() {
    let source = png(
        &DynamicImage::ImageRgba8(half_transparent(64, 64)),
        None,
        None,
    );
    for format in [OutputFormat::Png, OutputFormat::Webp] {
        let output = process(
            &source,
            &variant(32, 32, Fit::Inside, TargetFormat::Fixed(format)),
            &LIMITS,
        )
        .unwrap();
        assert!(!output.alpha_flattened);
        let image = decoded(&output);
        assert!(image.color().has_alpha(), "{format:?}");
        assert_eq!(pixel(&image, 28, 16)[3], 0, "{format:?}");
        assert!(pixel(&image, 4, 16)[3] == 255, "{format:?}");
    }
}

#[test]
fn alpha_into_jpeg_is_flattened_onto_white_and_reported() {
    let source = png(
        &DynamicImage::ImageRgba8(half_transparent(64, 64)),
        None,
        None,
    );
    let output = process(
        &source,
        &variant(32, 32, Fit::Inside, TargetFormat::Fixed(OutputFormat::Jpeg)),
        &LIMITS,
    )
    .unwrap();
    assert!(output.alpha_flattened);
    let image = decoded(&output);
    assert!(close(&pixel(&image, 28, 16)[..3], &JPEG_BACKGROUND, 3));
    assert!(close(&pixel(&image, 4, 16)[..3], &[255, 0, 0], 12));
}

#[test]
fn an_opaque_alpha_channel_is_not_reported_as_flattened() {
    let opaque = RgbaImage::from_pixel(16, 16, image::Rgba([10, 20, 30, 255]));
    let source = png(&DynamicImage::ImageRgba8(opaque), None, None);
    let decoded_source = Source::decode(&source, &LIMITS).unwrap();
    assert!(!decoded_source.has_alpha());
    let output = decoded_source
        .render(&variant(
            8,
            8,
            Fit::Inside,
            TargetFormat::Fixed(OutputFormat::Jpeg),
        ))
        .unwrap();
    assert!(!output.alpha_flattened);
}

#[test]
fn sixteen_bit_png_is_reduced_to_eight_bits() {
    let deep = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(
        8,
        8,
        image::Rgb([0x8080, 0xFFFF, 0x0000]),
    );
    let source = png(&DynamicImage::ImageRgb16(deep), None, None);
    let output = process(&source, &as_png(8, 8, Fit::Inside), &LIMITS).unwrap();
    let image = decoded(&output);
    assert_eq!(image.color(), image::ColorType::Rgb8);
    assert_eq!(&pixel(&image, 3, 3)[..3], &[128, 255, 0]);
}

#[test]
fn grayscale_stays_grayscale() {
    let gray = image::GrayImage::from_fn(32, 32, |x, _| image::Luma([(x * 8) as u8]));
    let jpeg_source = jpeg(gray.as_raw(), 32, 32, jpeg_encoder::ColorType::Luma, None);
    let png_source = png(&DynamicImage::ImageLuma8(gray), None, None);
    for source in [jpeg_source, png_source] {
        let to_jpeg = process(
            &source,
            &variant(16, 16, Fit::Inside, TargetFormat::Fixed(OutputFormat::Jpeg)),
            &LIMITS,
        )
        .unwrap();
        assert_eq!(jpeg_components(&to_jpeg.bytes), 1);
        let to_png = process(&source, &as_png(16, 16, Fit::Inside), &LIMITS).unwrap();
        assert_eq!(decoded(&to_png).color(), image::ColorType::L8);
    }
}

#[test]
fn palette_png_with_transparency_is_read() {
    let output = process(&palette_png(), &as_png(8, 8, Fit::Inside), &LIMITS).unwrap();
    let image = decoded(&output);
    assert_eq!(pixel(&image, 1, 1), [255, 0, 0, 255]);
    assert_eq!(pixel(&image, 6, 1)[3], 0);
}

#[test]
fn animated_gif_gives_its_first_frame() {
    let source = animated_gif();
    let decoded_source = Source::decode(&source, &LIMITS).unwrap();
    assert_eq!(decoded_source.format(), SourceFormat::Gif);
    let output = decoded_source
        .render(&variant(16, 16, Fit::Inside, TargetFormat::Same))
        .unwrap();
    assert_eq!(output.format, OutputFormat::Png);
    assert_eq!(&pixel(&decoded(&output), 8, 8)[..3], &[255, 0, 0]);
}

#[test]
fn webp_tiff_and_bmp_sources_are_decoded() {
    let rgb = DynamicImage::ImageRgb8(quadrants(32, 16));
    let sources = [
        (webp(&rgb.to_rgba8()), SourceFormat::Webp),
        (encoded(&rgb, ImageFormat::Tiff), SourceFormat::Tiff),
        (encoded(&rgb, ImageFormat::Bmp), SourceFormat::Bmp),
    ];
    for (bytes, format) in sources {
        let source = Source::decode(&bytes, &LIMITS).unwrap();
        assert_eq!(source.format(), format);
        assert_eq!((source.width(), source.height()), (32, 16));
        let output = source.render(&as_png(32, 16, Fit::Inside)).unwrap();
        assert!(
            close(&pixel(&decoded(&output), 4, 4)[..3], &RED, 2),
            "{format:?}"
        );
    }
}

#[test]
fn same_keeps_jpeg_png_and_webp_and_turns_the_rest_into_png() {
    let rgb = DynamicImage::ImageRgb8(quadrants(16, 16));
    let cases = [
        (rgb_jpeg(&quadrants(16, 16), None), OutputFormat::Jpeg),
        (png(&rgb, None, None), OutputFormat::Png),
        (webp(&rgb.to_rgba8()), OutputFormat::Webp),
        (animated_gif(), OutputFormat::Png),
        (encoded(&rgb, ImageFormat::Tiff), OutputFormat::Png),
        (encoded(&rgb, ImageFormat::Bmp), OutputFormat::Png),
    ];
    for (bytes, expected) in cases {
        let output = process(
            &bytes,
            &variant(8, 8, Fit::Inside, TargetFormat::Same),
            &LIMITS,
        )
        .unwrap();
        assert_eq!(output.format, expected);
        assert_eq!(output.content_type, expected.content_type());
        assert_eq!(sniff(&output.bytes).unwrap().name(), expected.name());
    }
}

#[test]
fn fit_modes_give_their_sizes() {
    let source = png(&DynamicImage::ImageRgb8(quadrants(400, 200)), None, None);
    let size = |fit| {
        let output = process(&source, &as_png(100, 100, fit), &LIMITS).unwrap();
        (output.width, output.height)
    };
    assert_eq!(size(Fit::Inside), (100, 50));
    assert_eq!(size(Fit::Cover), (100, 100));
    assert_eq!(size(Fit::Contain), (100, 100));
}

#[test]
fn no_fit_upscales_a_small_source() {
    let source = png(&DynamicImage::ImageRgb8(quadrants(40, 20)), None, None);
    let size = |fit| {
        let output = process(&source, &as_png(800, 800, fit), &LIMITS).unwrap();
        (output.width, output.height)
    };
    assert_eq!(size(Fit::Inside), (40, 20));
    assert_eq!(size(Fit::Cover), (20, 20));
    assert_eq!(size(Fit::Contain), (40, 40));
}

#[test]
fn contain_pads_with_transparency_or_with_white_for_jpeg() {
    let source = png(&DynamicImage::ImageRgb8(quadrants(400, 200)), None, None);
    let to_png = process(&source, &as_png(100, 100, Fit::Contain), &LIMITS).unwrap();
    let image = decoded(&to_png);
    assert_eq!(pixel(&image, 50, 5)[3], 0);
    assert_eq!(pixel(&image, 10, 40), [RED[0], RED[1], RED[2], 255]);

    let to_jpeg = process(
        &source,
        &variant(
            100,
            100,
            Fit::Contain,
            TargetFormat::Fixed(OutputFormat::Jpeg),
        ),
        &LIMITS,
    )
    .unwrap();
    assert!(!to_jpeg.alpha_flattened);
    assert!(close(
        &pixel(&decoded(&to_jpeg), 50, 5)[..3],
        &JPEG_BACKGROUND,
        3
    ));
}

#[test]
fn display_p3_source_is_converted_to_srgb_and_no_profile_is_written() {
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(8, 8, image::Rgb([200, 100, 50])));
    let source = png(&image, Some(p3), None);
    assert!(png_chunks(&source).contains(b"iCCP"));
    let decoded_source = Source::decode(&source, &LIMITS).unwrap();
    assert!(decoded_source.converts_colour_profile());
    for format in [OutputFormat::Png, OutputFormat::Jpeg, OutputFormat::Webp] {
        let output = decoded_source
            .render(&variant(8, 8, Fit::Inside, TargetFormat::Fixed(format)))
            .unwrap();
        let [r, g, b, _] = pixel(&decoded(&output), 4, 4);
        assert!(r > 205 && g < 100 && b < 45, "{format:?}: {r} {g} {b}");
        assert!(!contains(&output.bytes, b"ICC_PROFILE"), "{format:?}");
        assert!(!png_chunks(&output.bytes).contains(b"iCCP"), "{format:?}");
        assert!(!contains(&output.bytes, b"ICCP"), "{format:?}");
    }
}

#[test]
fn png_header_claiming_100000_by_100000_is_refused_before_decoding() {
    let bomb = png_claiming(100_000, 100_000);
    assert!(bomb.len() < 100);
    // 10^10 RGBA pixels would need 40 GB; the refusal has to come from the header alone.
    match Source::decode(&bomb, &LIMITS) {
        Err(Error::TooManyPixels(message)) => {
            assert!(message.contains("100000x100000"), "{message}");
        }
        other => panic!("expected TooManyPixels, got {other:?}"),
    }
}

#[test]
fn jpeg_gif_and_bmp_headers_claiming_huge_sizes_are_refused_before_decoding() {
    let rgb = DynamicImage::ImageRgb8(quadrants(16, 16));
    let mut jpeg = rgb_jpeg(&quadrants(16, 16), None);
    let sof = marker_at(&jpeg, 0xC0);
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]); // 60000 x 60000
    let mut gif = encoded(&rgb, ImageFormat::Gif);
    gif[6..10].copy_from_slice(&[0x60, 0xEA, 0x60, 0xEA]);
    let mut bmp = encoded(&rgb, ImageFormat::Bmp);
    bmp[18..26].copy_from_slice(&[0x60, 0xEA, 0, 0, 0x60, 0xEA, 0, 0]);
    for bytes in [jpeg, gif, bmp] {
        match Source::decode(&bytes, &LIMITS) {
            Err(Error::TooManyPixels(message)) => {
                assert!(message.contains("60000x60000"), "{message}");
            }
            other => panic!("{:?}: expected TooManyPixels, got {other:?}", sniff(&bytes)),
        }
    }
}

#[test]
fn objects_over_the_byte_limit_are_refused_unread() {
    let limits = Limits {
        max_input_bytes: 10,
        ..LIMITS
    };
    let error = Source::decode(&[0; 11], &limits).unwrap_err();
    assert!(
        matches!(
            error,
            Error::TooLarge {
                size: 11,
                limit: 10
            }
        ),
        "{error}"
    );
}

#[test]
fn zero_bytes_are_an_unsupported_format() {
    let error = Source::decode(&[], &LIMITS).unwrap_err();
    assert_eq!(
        error.error_type(),
        crate::error::ErrorType::UnsupportedFormat
    );
}

#[test]
fn text_named_jpg_is_an_unsupported_format() {
    // The pipeline is never told the key; `photo.jpg` holding text is just text.
    let error = Source::decode(b"<html>not a photo.jpg</html>\n", &LIMITS).unwrap_err();
    assert!(matches!(error, Error::UnsupportedFormat(_)), "{error}");
}

#[test]
fn corrupt_bytes_after_a_valid_signature_are_corrupt() {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..200u32).map(|i| (i * 37 % 251) as u8));
    let error = Source::decode(&bytes, &LIMITS).unwrap_err();
    assert!(
        matches!(error, Error::Corrupt { format: "PNG", .. }),
        "{error}"
    );

    let mut jpeg = b"\xFF\xD8\xFF".to_vec();
    jpeg.extend((0..200u32).map(|i| (i * 91 % 253) as u8));
    let error = Source::decode(&jpeg, &LIMITS).unwrap_err();
    assert!(
        matches!(error, Error::Corrupt { format: "JPEG", .. }),
        "{error}"
    );
}

#[test]
fn truncated_files_are_corrupt() {
    let rgb = DynamicImage::ImageRgb8(quadrants(64, 64));
    let whole = [
        png(&rgb, None, None),
        rgb_jpeg(&quadrants(64, 64), None),
        encoded(&rgb, ImageFormat::Gif),
        encoded(&rgb, ImageFormat::Tiff),
        encoded(&rgb, ImageFormat::Bmp),
        webp(&rgb.to_rgba8()),
    ];
    for bytes in whole {
        let truncated = &bytes[..bytes.len() / 2];
        let error = Source::decode(truncated, &LIMITS).unwrap_err();
        assert!(
            matches!(error, Error::Corrupt { .. }),
            "{:?}: {error}",
            sniff(&bytes)
        );
    }
}

/// Noise, so a JPEG's entropy-coded scan is most of the file and a cut lands inside it.
fn noise(width: u32, height: u32) -> RgbImage {
    let mut state = 0x2545_f491_u32;
    RgbImage::from_fn(width, height, |_, _| {
        let mut channel = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        };
        image::Rgb([channel(), channel(), channel()])
    })
}

#[test]
fn baseline_jpeg_cut_inside_its_scan_is_corrupt_not_grey_filled() {
    let bytes = rgb_jpeg(&noise(256, 256), None);
    assert!(!has_marker(&bytes, 0xC2), "not a baseline JPEG");
    let scan = marker_at(&bytes, 0xDA);
    for cut in [scan + 64, (scan + bytes.len()) / 2, bytes.len() * 9 / 10] {
        let error = Source::decode(&bytes[..cut], &LIMITS).unwrap_err();
        assert!(
            matches!(error, Error::Corrupt { format: "JPEG", .. }),
            "cut at {cut} of {}: {error}",
            bytes.len()
        );
    }
}

#[test]
fn jpeg_whose_scan_libjpeg_finds_damaged_is_corrupt_whole_or_shrunk_but_stray_bytes_are_not() {
    let bytes = rgb_jpeg(&noise(256, 256), None);
    let scan = marker_at(&bytes, 0xDA);
    let end = bytes.len() - 2;
    // The second half of the scan's data gone but the end marker kept, so the file is not
    // truncated: the decoder meets the marker with rows still to decode.
    let mut short = bytes[..(scan + end) / 2].to_vec();
    short.extend_from_slice(&[0xFF, 0xD9]);
    // Bytes between the scan and the end marker, which decoders skip, as some cameras write.
    let mut padded = bytes[..end].to_vec();
    padded.extend_from_slice(&[0; 64]);
    padded.extend_from_slice(&[0xFF, 0xD9]);

    let shrunk = [variant(
        64,
        64,
        Fit::Inside,
        TargetFormat::Fixed(OutputFormat::Jpeg),
    )];
    for variants in [&[][..], &shrunk] {
        let error = Source::decode_for(&short, &LIMITS, variants).unwrap_err();
        assert!(
            matches!(&error, Error::Corrupt { format: "JPEG", message }
                if message.contains("damaged data: Corrupt JPEG data")),
            "{error}"
        );
        let source = Source::decode_for(&padded, &LIMITS, variants).unwrap();
        let output = source.render(&shrunk[0]).unwrap();
        assert_eq!((output.width, output.height), (64, 64));
    }
}

#[test]
fn jpegs_in_codings_no_decoder_here_has_are_unsupported_not_corrupt() {
    let baseline = rgb_jpeg(&quadrants(64, 64), None);
    let frame = marker_at(&baseline, 0xC0);
    // The same frame declared arithmetic-coded (SOF9), then with 12-bit samples (SOF1).
    let mut arithmetic = baseline.clone();
    arithmetic[frame + 1] = 0xC9;
    let mut twelve_bit = baseline.clone();
    twelve_bit[frame + 1] = 0xC1;
    twelve_bit[frame + 4] = 12;
    let shrunk = [variant(
        16,
        16,
        Fit::Inside,
        TargetFormat::Fixed(OutputFormat::Jpeg),
    )];
    for (name, bytes) in [("arithmetic", &arithmetic), ("12-bit", &twelve_bit)] {
        for variants in [&[][..], &shrunk] {
            let error = Source::decode_for(bytes, &LIMITS, variants).unwrap_err();
            assert!(
                matches!(error, Error::UnsupportedFormat(_)),
                "{name}, {} variants: {error}",
                variants.len()
            );
        }
    }
}

#[test]
fn jpeg_cut_inside_its_scan_is_corrupt_despite_a_complete_thumbnail_before_it() {
    let thumbnail = rgb_jpeg(&quadrants(16, 16), None);
    let bytes = jpeg(
        quadrants(64, 64).as_raw(),
        64,
        64,
        jpeg_encoder::ColorType::Rgb,
        Some(thumbnail.clone()),
    );
    assert!(Source::decode(&bytes, &LIMITS).is_ok());
    let cut = bytes.len() - 4;
    let error = Source::decode(&bytes[..cut], &LIMITS).unwrap_err();
    assert!(
        matches!(error, Error::Corrupt { format: "JPEG", .. }),
        "{error}"
    );
}

#[test]
fn output_reports_its_format_size_and_content_type() {
    let source = rgb_jpeg(&quadrants(300, 200), None);
    let output = process(
        &source,
        &variant(
            150,
            150,
            Fit::Inside,
            TargetFormat::Fixed(OutputFormat::Webp),
        ),
        &LIMITS,
    )
    .unwrap();
    assert_eq!((output.width, output.height), (150, 100));
    assert_eq!(output.format, OutputFormat::Webp);
    assert_eq!(output.content_type, "image/webp");
    decoded(&output);
}

#[test]
fn decoded_sources_and_outputs_can_move_between_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Source>();
    assert_send_sync::<Output>();
    assert_send_sync::<Error>();
}

#[test]
fn a_jpeg_shrunk_on_load_renders_like_one_decoded_whole() {
    let bytes = rgb_jpeg(&quadrants(1600, 1200), None);
    let fit = variant(
        300,
        300,
        Fit::Inside,
        TargetFormat::Fixed(OutputFormat::Png),
    );
    let whole = Source::decode(&bytes, &LIMITS).unwrap();
    let shrunk = Source::decode_for(&bytes, &LIMITS, std::slice::from_ref(&fit)).unwrap();
    // 1600x1200 into 300x225 is 5.3x: decoded at 1/4, 400x300.
    assert_eq!((shrunk.raster.width, shrunk.raster.height), (400, 300));
    assert_eq!((shrunk.width(), shrunk.height()), (1600, 1200));
    let (a, b) = (whole.render(&fit).unwrap(), shrunk.render(&fit).unwrap());
    assert_eq!((b.width, b.height), (300, 225));
    assert_eq!((a.width, a.height), (b.width, b.height));
    let (a, b) = (decoded(&a), decoded(&b));
    for (x, y) in [(75, 56), (225, 56), (75, 168), (225, 168)] {
        let (pa, pb) = (pixel(&a, x, y), pixel(&b, x, y));
        assert!(close(&pa, &pb, 6), "at {x},{y}: {pa:?} vs {pb:?}");
    }
}

#[test]
fn shrink_on_load_keeps_the_exif_orientation() {
    // Stored 1600 wide, 800 high, red top-left; orientation 6 shows it 800 wide, 1600 high.
    let bytes = rgb_jpeg(&quadrants(1600, 800), Some(exif(6)));
    let fit = variant(
        200,
        200,
        Fit::Inside,
        TargetFormat::Fixed(OutputFormat::Png),
    );
    let source = Source::decode_for(&bytes, &LIMITS, std::slice::from_ref(&fit)).unwrap();
    assert_eq!((source.width(), source.height()), (800, 1600));
    assert!(source.raster.width < 800, "not shrunk");
    let output = source.render(&fit).unwrap();
    assert_eq!((output.width, output.height), (100, 200));
    // Stored top-left (red) shows top-right after a 90-degree clockwise turn.
    let image = decoded(&output);
    assert!(close(&pixel(&image, 75, 25)[..3], &RED, 12));
    assert!(close(&pixel(&image, 25, 25)[..3], &BLUE, 12));
}

#[test]
fn a_cmyk_jpeg_is_shrunk_on_load_and_keeps_its_colour() {
    let bytes = cmyk_jpeg([0, 255, 255, 0], 1200, 800);
    let fit = variant(
        100,
        100,
        Fit::Inside,
        TargetFormat::Fixed(OutputFormat::Png),
    );
    let source = Source::decode_for(&bytes, &LIMITS, std::slice::from_ref(&fit)).unwrap();
    assert_eq!((source.raster.width, source.raster.height), (150, 100));
    let output = source.render(&fit).unwrap();
    assert_eq!((output.width, output.height), (100, 67));
    let red = [255, 0, 0];
    assert!(close(&pixel(&decoded(&output), 50, 33)[..3], &red, 10));
}

#[test]
fn damaged_jpegs_shrunk_on_load_end_in_variants_or_typed_errors() {
    let mut state = 0x1234_5678_u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let photo = RgbImage::from_fn(512, 384, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, ((x ^ y) & 0xFF) as u8])
    });
    let whole = rgb_jpeg(&photo, None);
    let fit = [variant(
        100,
        100,
        Fit::Inside,
        TargetFormat::Fixed(OutputFormat::Jpeg),
    )];
    let mut inputs: Vec<Vec<u8>> = (1..100)
        .map(|i| whole[..whole.len() * i / 100].to_vec())
        .collect();
    for _ in 0..150 {
        let mut flipped = whole.clone();
        for _ in 0..1 + next() % 4 {
            let at = next() as usize % flipped.len();
            flipped[at] ^= 1 << (next() % 8);
        }
        inputs.push(flipped);
    }
    for input in &inputs {
        let outcome = Source::decode_for(input, &LIMITS, &fit).and_then(|s| s.render(&fit[0]));
        match outcome {
            Ok(output) => assert!(output.width <= 100 && output.height <= 100),
            Err(Error::Corrupt { message, .. }) => {
                assert!(!message.contains("panicked"), "{message}")
            }
            Err(Error::UnsupportedFormat(_) | Error::TooManyPixels(_)) => {}
            Err(other) => panic!("untyped outcome: {other}"),
        }
    }
}

#[test]
fn a_jpeg_of_more_scans_than_the_limit_is_refused_before_decoding() {
    let fit = variant(64, 64, Fit::Inside, TargetFormat::Fixed(OutputFormat::Jpeg));
    let progressive = process(&rgb_jpeg(&quadrants(64, 64), None), &fit, &LIMITS)
        .unwrap()
        .bytes;
    assert!(has_marker(&progressive, 0xC2), "not a progressive JPEG");
    assert!(Source::decode(&progressive, &LIMITS).is_ok());
    // The last scan (its header and entropy-coded data) said 600 times over, as a file built
    // to make a decoder walk the image again and again would.
    let last_scan = progressive
        .windows(2)
        .rposition(|pair| pair == [0xFF, 0xDA])
        .expect("no SOS marker");
    let end = progressive.len() - 2;
    let mut bytes = progressive[..end].to_vec();
    for _ in 0..600 {
        bytes.extend_from_slice(&progressive[last_scan..end]);
    }
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    let error = Source::decode(&bytes, &LIMITS).unwrap_err();
    assert!(
        matches!(&error, Error::Corrupt { format: "JPEG", message } if message.contains("scans")),
        "{error}"
    );
}

#[test]
fn variants_sharing_a_resize_render_as_if_each_were_alone() {
    // A profile to convert, so reusing the resampled pixels must not convert them twice.
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let source = png(&DynamicImage::ImageRgb8(quadrants(64, 48)), Some(p3), None);
    let (png_variant, webp_variant) = (
        variant(20, 20, Fit::Inside, TargetFormat::Fixed(OutputFormat::Png)),
        variant(20, 20, Fit::Inside, TargetFormat::Fixed(OutputFormat::Webp)),
    );
    let alone = |variant: &Variant| {
        let source = Source::decode(&source, &LIMITS).unwrap();
        source.render(variant).unwrap().bytes
    };
    let shared = Source::decode(&source, &LIMITS).unwrap();
    for _ in 0..2 {
        assert_eq!(
            shared.render(&webp_variant).unwrap().bytes,
            alone(&webp_variant)
        );
        assert_eq!(
            shared.render(&png_variant).unwrap().bytes,
            alone(&png_variant)
        );
    }
}
