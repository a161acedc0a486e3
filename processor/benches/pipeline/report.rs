//! The benchmark's table: each engine's throughput and peak RSS (its own JSON line), and what
//! its outputs weigh and score (read and scored here, the same way for every engine). Then the
//! issue's targets, each met or named as missed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::ssim::{self, Luma};

struct Row {
    engine: String,
    /// The parts of an image's time no engine can avoid, in ms (ours measures them).
    floor: BTreeMap<String, f64>,
    version: String,
    per_second: f64,
    peak_mib: f64,
    /// Per output format (extension): total bytes and mean SSIM over the corpus.
    bytes: BTreeMap<&'static str, u64>,
    score: BTreeMap<&'static str, f64>,
}

const FORMATS: [&str; 2] = ["jpg", "webp"];

pub fn print(corpus_dir: &Path, results: &Path, engines: &[&str]) {
    let sources = crate::corpus(corpus_dir);
    let mut rows: Vec<Row> = engines
        .iter()
        .map(|&engine| {
            let line = std::fs::read_to_string(results.join(format!("{engine}.json")))
                .unwrap_or_else(|e| panic!("{engine}.json: {e}"));
            let figures: Value = serde_json::from_str(line.trim()).expect("one JSON object");
            let number = |key: &str| figures[key].as_f64().unwrap_or_else(|| panic!("{key}"));
            let floor = figures["floor_ms"]
                .as_object()
                .map_or_else(BTreeMap::new, |parts| {
                    parts
                        .iter()
                        .map(|(part, ms)| (part.clone(), ms.as_f64().expect("ms")))
                        .collect()
                });
            Row {
                engine: engine.to_owned(),
                floor,
                version: figures["version"].as_str().unwrap_or("").to_owned(),
                per_second: number("images") / number("seconds"),
                peak_mib: number("peak_rss_kib") / 1024.0,
                bytes: BTreeMap::new(),
                score: BTreeMap::new(),
            }
        })
        .collect();

    for path in &sources {
        let stem = path.file_stem().expect("a name").to_string_lossy();
        let decoded = image::open(path).expect("a decodable source").to_rgb8();
        let mut references: BTreeMap<(u32, u32), Luma> = BTreeMap::new();
        for row in &mut rows {
            for format in FORMATS {
                let output = results.join(&row.engine).join(format!("{stem}.{format}"));
                let bytes =
                    std::fs::read(&output).unwrap_or_else(|e| panic!("{}: {e}", output.display()));
                let image = image::load_from_memory(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", output.display()))
                    .to_rgb8();
                let (width, height) = image.dimensions();
                assert!(
                    width.max(height) <= crate::BOX && width.max(height) >= crate::BOX - 1,
                    "{}: {width}x{height} does not fit the box",
                    output.display()
                );
                let reference = references
                    .entry((width, height))
                    .or_insert_with(|| ssim::reference(&decoded, width, height));
                let score = ssim::ssim(&Luma::from_rgb8(width, height, image.as_raw()), reference);
                *row.bytes.entry(format).or_default() += bytes.len() as u64;
                *row.score.entry(format).or_default() += score / sources.len() as f64;
            }
        }
    }

    let find = |name: &str| rows.iter().find(|row| row.engine == name);
    let (pillow, sharp) = (find("pillow"), find("sharp"));
    println!(
        "{} images from {}; decode, fit inside {b}x{b} Lanczos3, JPEG q{q} + WebP q{q}; one core",
        sources.len(),
        corpus_dir.display(),
        b = crate::BOX,
        q = crate::QUALITY
    );
    println!();
    println!(
        "| engine | images/s | vs Pillow | vs sharp | peak RSS MiB | JPEG bytes | vs sharp | WebP bytes | vs sharp | SSIM JPEG | SSIM WebP |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let ratio = |ours: f64, theirs: Option<f64>| {
        theirs.map_or("-".to_owned(), |theirs| format!("{:.2}x", ours / theirs))
    };
    for row in &rows {
        println!(
            "| {} {} | {:.2} | {} | {} | {:.1} | {} | {} | {} | {} | {:.4} | {:.4} |",
            row.engine,
            row.version,
            row.per_second,
            ratio(row.per_second, pillow.map(|p| p.per_second)),
            ratio(row.per_second, sharp.map(|s| s.per_second)),
            row.peak_mib,
            row.bytes["jpg"],
            ratio(
                row.bytes["jpg"] as f64,
                sharp.map(|s| s.bytes["jpg"] as f64)
            ),
            row.bytes["webp"],
            ratio(
                row.bytes["webp"] as f64,
                sharp.map(|s| s.bytes["webp"] as f64)
            ),
            row.score["jpg"],
            row.score["webp"],
        );
    }

    let (Some(ours), Some(pillow), Some(sharp)) = (find("ours"), pillow, sharp) else {
        return;
    };
    println!();
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let speed_vs_pillow = ours.per_second / pillow.per_second;
    let speed_vs_sharp = ours.per_second / sharp.per_second;
    println!(
        "target >= 5x Pillow's throughput: {:.2}x, {}",
        speed_vs_pillow,
        verdict(speed_vs_pillow >= 5.0)
    );
    if !ours.floor.is_empty() {
        let floor: f64 = ours.floor.values().sum();
        let parts: Vec<String> = ours
            .floor
            .iter()
            .map(|(part, ms)| format!("{part} {ms:.1} ms"))
            .collect();
        println!(
            "  (the task's floor on this core: {} = {floor:.1} ms an image, at most {:.1} images/s, {:.2}x Pillow)",
            parts.join(" + "),
            1000.0 / floor,
            1000.0 / floor / pillow.per_second
        );
    }
    if let Some(resize) = find("pillow-resize") {
        println!(
            "  (against Pillow's Image.resize, no JPEG draft: {:.2}x)",
            ours.per_second / resize.per_second
        );
    }
    println!(
        "target >= sharp's throughput: {:.2}x, {}",
        speed_vs_sharp,
        verdict(speed_vs_sharp >= 1.0)
    );
    println!(
        "target peak RSS <= Pillow's: {:.1} vs {:.1} MiB, {}",
        ours.peak_mib,
        pillow.peak_mib,
        verdict(ours.peak_mib <= pillow.peak_mib)
    );
    for format in FORMATS {
        // Smaller is no miss, unless it was bought with quality: equal means within 0.005.
        let size = ours.bytes[format] as f64 / sharp.bytes[format] as f64;
        let equal_quality = ours.score[format] >= sharp.score[format] - 0.005;
        println!(
            "target {format} bytes at most 5% over sharp's at equal SSIM: {:+.1}% at SSIM {:.4} vs sharp's {:.4}, {}",
            (size - 1.0) * 100.0,
            ours.score[format],
            sharp.score[format],
            verdict(size <= 1.05 && equal_quality)
        );
    }
}
