//! The function's configuration, read once at start-up from the environment variables the
//! Terraform module `lambda_function` sets, and validated into [`Config`]. Every problem is
//! collected, each naming its variable (and, inside `VARIANTS`, the entry and field), and
//! reported together in one [`Error::Config`], so a bad deployment fails its first invocation
//! with everything that needs fixing.
//!
//! A destination that would trigger the function again is refused: the same bucket as
//! `SOURCE_BUCKET` with prefixes where one contains the other (an empty prefix contains every
//! key). Lambda's own loop detection stops a loop only after several rounds.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::pipeline::{Fit, Limits, OutputFormat, TargetFormat, Variant};

/// Defaults match the Terraform module's, for local runs that set only what they need.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 50 << 20;
pub const DEFAULT_MAX_MEGAPIXELS: f64 = 100.0;
pub const DEFAULT_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Beyond what a Lambda function's 10 GB of memory could decode.
const MAX_MEGAPIXELS_CEILING: f64 = 1000.0;
/// WebP's limit, the lowest of the output formats'.
const MAX_VARIANT_SIDE: u64 = 16383;
/// S3's key length limit, in bytes.
const MAX_KEY_BYTES: usize = 1024;
/// The key segment under `DESTINATION_PREFIX` that holds the reports of images that failed for
/// good (see `handler`); no variant may take it as its name.
pub const FAILURE_REPORTS: &str = "_failed";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub source_bucket: String,
    /// Empty for the whole bucket; otherwise ends with `/`.
    pub source_prefix: String,
    pub destination_bucket: String,
    /// Empty or ends with `/`.
    pub destination_prefix: String,
    pub variants: Vec<Variant>,
    pub limits: Limits,
    pub cache_control: String,
    /// The `Environment` metric dimension.
    pub environment: String,
}

impl Config {
    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(|name| {
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// Reads the configuration through `lookup` (a variable's value, or `None` when unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let mut problems = Problems::default();
        let source_bucket = problems.required(&lookup, "SOURCE_BUCKET", bucket);
        let source_prefix = problems.optional(&lookup, "SOURCE_PREFIX", String::new(), prefix);
        let destination_bucket = problems.required(&lookup, "DESTINATION_BUCKET", bucket);
        let destination_prefix =
            problems.optional(&lookup, "DESTINATION_PREFIX", String::new(), prefix);
        let variants = match lookup("VARIANTS") {
            None => {
                problems.0.push("VARIANTS: not set".into());
                None
            }
            Some(value) => variants(&value)
                .map_err(|list| problems.0.extend(list))
                .ok(),
        };
        let max_input_bytes = problems.optional(
            &lookup,
            "MAX_INPUT_BYTES",
            DEFAULT_MAX_INPUT_BYTES,
            max_input_bytes,
        );
        let max_pixels = problems.optional(
            &lookup,
            "MAX_MEGAPIXELS",
            megapixels_to_pixels(DEFAULT_MAX_MEGAPIXELS),
            max_pixels,
        );
        let cache_control = problems.optional(
            &lookup,
            "CACHE_CONTROL",
            DEFAULT_CACHE_CONTROL.to_owned(),
            cache_control,
        );
        let environment = problems.required(&lookup, "ENVIRONMENT", environment);

        if let (
            Some(source_bucket),
            Some(source_prefix),
            Some(destination_bucket),
            Some(destination_prefix),
        ) = (
            &source_bucket,
            &source_prefix,
            &destination_bucket,
            &destination_prefix,
        ) && source_bucket == destination_bucket
            && (destination_prefix.starts_with(source_prefix.as_str())
                || source_prefix.starts_with(destination_prefix.as_str()))
        {
            problems.0.push(format!(
                "DESTINATION_PREFIX: {destination_prefix:?} in the source bucket {source_bucket:?} \
                 overlaps SOURCE_PREFIX {source_prefix:?}, so every output would trigger the \
                 function again; use another bucket or prefixes that do not contain each other"
            ));
        }

        // Every `None` above recorded a problem, so no problem means every value is there.
        let config = || {
            Some(Config {
                source_bucket: source_bucket?,
                source_prefix: source_prefix?,
                destination_bucket: destination_bucket?,
                destination_prefix: destination_prefix?,
                variants: variants?,
                limits: Limits {
                    max_input_bytes: max_input_bytes?,
                    max_pixels: max_pixels?,
                },
                cache_control: cache_control?,
                environment: environment?,
            })
        };
        match config() {
            Some(config) if problems.0.is_empty() => Ok(config),
            _ => Err(Error::Config(problems.0)),
        }
    }
}

/// The problems found so far, each prefixed with its variable's name.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn required<T>(
        &mut self,
        lookup: &impl Fn(&str) -> Option<String>,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match lookup(name) {
            None => {
                self.0.push(format!("{name}: not set"));
                None
            }
            Some(value) => self.parse(name, &value, parse),
        }
    }

    fn optional<T>(
        &mut self,
        lookup: &impl Fn(&str) -> Option<String>,
        name: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match lookup(name) {
            None => Some(default),
            Some(value) => self.parse(name, &value, parse),
        }
    }

    fn parse<T>(
        &mut self,
        name: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(problem) => {
                self.0.push(format!("{name}: {problem}"));
                None
            }
        }
    }
}

/// S3's rules for general-purpose bucket names.
fn bucket(value: &str) -> Result<String, String> {
    let valid_characters = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let alphanumeric =
        |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let bytes = value.as_bytes();
    if !(3..=63).contains(&value.len())
        || !valid_characters
        || !alphanumeric(bytes.first())
        || !alphanumeric(bytes.last())
        || value.contains("..")
    {
        return Err(format!(
            "{value:?} is not a bucket name (3 to 63 lower-case letters, digits, dots and \
             hyphens, starting and ending with a letter or digit)"
        ));
    }
    Ok(value.to_owned())
}

fn prefix(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    if value.starts_with('/') || !value.ends_with('/') || value.len() > MAX_KEY_BYTES / 2 {
        return Err(format!(
            "{value:?} must be empty or end with \"/\", not start with \"/\", and be at most {} bytes",
            MAX_KEY_BYTES / 2
        ));
    }
    Ok(value.to_owned())
}

fn max_input_bytes(value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(bytes) if bytes >= 1 => Ok(bytes),
        _ => Err(format!(
            "{value:?} is not a whole number of bytes of at least 1"
        )),
    }
}

fn megapixels_to_pixels(megapixels: f64) -> u64 {
    // At most 1000 * 10^6, so the conversion is exact.
    (megapixels * 1e6).round() as u64
}

fn max_pixels(value: &str) -> Result<u64, String> {
    match value.trim().parse::<f64>() {
        Ok(megapixels) if megapixels > 0.0 && megapixels <= MAX_MEGAPIXELS_CEILING => {
            Ok(megapixels_to_pixels(megapixels).max(1))
        }
        _ => Err(format!(
            "{value:?} is not a number of megapixels above 0 and at most {MAX_MEGAPIXELS_CEILING}"
        )),
    }
}

/// Printable ASCII, as an HTTP header value must be.
fn cache_control(value: &str) -> Result<String, String> {
    if value.trim().is_empty()
        || !value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7F).contains(&b))
    {
        return Err(format!(
            "{value:?} is not a non-empty, printable ASCII header value"
        ));
    }
    Ok(value.trim().to_owned())
}

/// A metric dimension value: short, without control characters.
fn environment(value: &str) -> Result<String, String> {
    if value.is_empty() || value.len() > 255 || value.chars().any(char::is_control) {
        return Err(format!(
            "{value:?} must be 1 to 255 characters without control characters"
        ));
    }
    Ok(value.to_owned())
}

/// `VARIANTS`: a JSON list of `{name, width, height, fit, format, quality}`. Each problem names
/// its entry and field, as in `VARIANTS[1].fit: ...`.
fn variants(value: &str) -> Result<Vec<Variant>, Vec<String>> {
    let json: Value =
        serde_json::from_str(value).map_err(|e| vec![format!("VARIANTS: not valid JSON ({e})")])?;
    let Value::Array(entries) = json else {
        return Err(vec!["VARIANTS: must be a JSON list of variants".into()]);
    };
    if entries.is_empty() {
        return Err(vec!["VARIANTS: must hold at least one variant".into()]);
    }
    let mut problems = Vec::new();
    let mut variants = Vec::new();
    let mut names = HashSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let Value::Object(fields) = entry else {
            problems.push(format!("VARIANTS[{index}]: must be an object"));
            continue;
        };
        let mut entry_problems = Vec::new();
        if let Some(variant) = variant(fields, &mut entry_problems) {
            if names.insert(variant.name.clone()) {
                variants.push(variant);
            } else {
                entry_problems.push(format!(
                    "name: {:?} is used by an earlier variant",
                    variant.name
                ));
            }
        }
        problems.extend(
            entry_problems
                .into_iter()
                .map(|p| format!("VARIANTS[{index}].{p}")),
        );
    }
    if problems.is_empty() {
        Ok(variants)
    } else {
        Err(problems)
    }
}

const VARIANT_FIELDS: [&str; 6] = ["name", "width", "height", "fit", "format", "quality"];

fn variant(fields: &Map<String, Value>, problems: &mut Vec<String>) -> Option<Variant> {
    for key in fields.keys() {
        if !VARIANT_FIELDS.contains(&key.as_str()) {
            problems.push(format!(
                "{key}: unknown field (expected {})",
                VARIANT_FIELDS.join(", ")
            ));
        }
    }
    let name = field(fields, "name", problems, variant_name);
    let width = field(fields, "width", problems, side);
    let height = field(fields, "height", problems, side);
    let fit = field(fields, "fit", problems, fit_mode);
    let format = field(fields, "format", problems, target_format);
    let quality = field(fields, "quality", problems, percent);
    Some(Variant {
        name: name?,
        width: width?,
        height: height?,
        fit: fit?,
        format: format?,
        quality: quality?,
    })
}

fn field<T>(
    fields: &Map<String, Value>,
    key: &str,
    problems: &mut Vec<String>,
    parse: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<T> {
    let Some(value) = fields.get(key) else {
        problems.push(format!("{key}: missing"));
        return None;
    };
    parse(value)
        .map_err(|problem| problems.push(format!("{key}: {problem}")))
        .ok()
}

fn side(value: &Value) -> Result<u32, String> {
    whole(value, 1, MAX_VARIANT_SIDE).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn percent(value: &Value) -> Result<u8, String> {
    whole(value, 1, 100).map(|n| u8::try_from(n).unwrap_or(u8::MAX))
}

/// Names become key segments: lower-case letters, digits, `_` and `-` only.
fn variant_name(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(FAILURE_REPORTS) => Err(format!(
            "{value} is reserved for the reports of images that cannot be processed"
        )),
        Some(name)
            if (1..=64).contains(&name.len())
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                }) =>
        {
            Ok(name.to_owned())
        }
        _ => Err(format!(
            "{value} is not 1 to 64 lower-case letters, digits, \"_\" or \"-\""
        )),
    }
}

/// A whole number in `min..=max`; `200.0` is accepted as `200`.
fn whole(value: &Value, min: u64, max: u64) -> Result<u64, String> {
    let number = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| f as u64)
    });
    match number {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("{value} is not a whole number from {min} to {max}")),
    }
}

fn fit_mode(value: &Value) -> Result<Fit, String> {
    match value.as_str() {
        Some("inside") => Ok(Fit::Inside),
        Some("cover") => Ok(Fit::Cover),
        Some("contain") => Ok(Fit::Contain),
        _ => Err(format!("{value} is not one of inside, cover, contain")),
    }
}

fn target_format(value: &Value) -> Result<TargetFormat, String> {
    match value.as_str() {
        Some("jpeg") => Ok(TargetFormat::Fixed(OutputFormat::Jpeg)),
        Some("png") => Ok(TargetFormat::Fixed(OutputFormat::Png)),
        Some("webp") => Ok(TargetFormat::Fixed(OutputFormat::Webp)),
        Some("avif") if cfg!(feature = "avif") => Ok(TargetFormat::Fixed(OutputFormat::Avif)),
        Some("avif") => Err(
            "\"avif\" needs the processor built with the `avif` cargo feature, which this build lacks"
                .into(),
        ),
        Some("same") => Ok(TargetFormat::Same),
        _ => Err(format!("{value} is not one of jpeg, png, webp, avif, same")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const VARIANTS: &str = r#"[
        {"name": "thumbnail", "width": 200, "height": 200, "fit": "cover", "format": "webp", "quality": 80},
        {"name": "medium", "width": 800, "height": 800, "fit": "inside", "format": "jpeg", "quality": 85}
    ]"#;

    fn environment(overrides: &[(&str, Option<&str>)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("SOURCE_BUCKET", "uploads"),
            ("SOURCE_PREFIX", "uploads/"),
            ("DESTINATION_BUCKET", "processed-images"),
            ("DESTINATION_PREFIX", "processed/"),
            ("VARIANTS", VARIANTS),
            ("MAX_INPUT_BYTES", "52428800"),
            ("MAX_MEGAPIXELS", "100"),
            ("CACHE_CONTROL", "public, max-age=31536000, immutable"),
            ("ENVIRONMENT", "dev"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (name, value) in overrides {
            match value {
                Some(value) => env.insert((*name).to_owned(), (*value).to_owned()),
                None => env.remove(*name),
            };
        }
        env
    }

    fn load(overrides: &[(&str, Option<&str>)]) -> Result<Config, Error> {
        let env = environment(overrides);
        Config::from_lookup(|name| env.get(name).cloned())
    }

    fn problems(overrides: &[(&str, Option<&str>)]) -> Vec<String> {
        match load(overrides) {
            Err(Error::Config(problems)) => problems,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn terraform_environment_is_read_into_typed_values() {
        let config = load(&[]).unwrap();
        assert_eq!(config.source_bucket, "uploads");
        assert_eq!(config.source_prefix, "uploads/");
        assert_eq!(config.destination_bucket, "processed-images");
        assert_eq!(config.destination_prefix, "processed/");
        assert_eq!(
            config.limits,
            Limits {
                max_input_bytes: 52_428_800,
                max_pixels: 100_000_000
            }
        );
        assert_eq!(config.cache_control, "public, max-age=31536000, immutable");
        assert_eq!(config.environment, "dev");
        assert_eq!(
            config.variants,
            [
                Variant {
                    name: "thumbnail".into(),
                    width: 200,
                    height: 200,
                    fit: Fit::Cover,
                    format: TargetFormat::Fixed(OutputFormat::Webp),
                    quality: 80,
                },
                Variant {
                    name: "medium".into(),
                    width: 800,
                    height: 800,
                    fit: Fit::Inside,
                    format: TargetFormat::Fixed(OutputFormat::Jpeg),
                    quality: 85,
                },
            ]
        );
    }

    #[test]
    fn optional_variables_take_the_terraform_defaults() {
        let config = load(&[
            ("SOURCE_PREFIX", None),
            ("MAX_INPUT_BYTES", None),
            ("MAX_MEGAPIXELS", None),
            ("CACHE_CONTROL", None),
        ])
        .unwrap();
        assert_eq!(config.source_prefix, "");
        assert_eq!(config.limits.max_input_bytes, 52_428_800);
        assert_eq!(config.limits.max_pixels, 100_000_000);
        assert_eq!(config.cache_control, DEFAULT_CACHE_CONTROL);
    }

    #[test]
    fn fractional_megapixels_are_allowed() {
        let config = load(&[("MAX_MEGAPIXELS", Some("16.8"))]).unwrap();
        assert_eq!(config.limits.max_pixels, 16_800_000);
    }

    #[test]
    fn every_missing_required_variable_is_named_in_one_error() {
        let error = load(&[
            ("SOURCE_BUCKET", None),
            ("DESTINATION_BUCKET", None),
            ("VARIANTS", None),
            ("ENVIRONMENT", None),
        ])
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid configuration: SOURCE_BUCKET: not set; DESTINATION_BUCKET: not set; \
             VARIANTS: not set; ENVIRONMENT: not set"
        );
    }

    #[test]
    fn bad_values_are_each_reported_with_their_variable() {
        let problems = problems(&[
            ("DESTINATION_BUCKET", Some("Bad_Bucket")),
            ("DESTINATION_PREFIX", Some("/processed")),
            ("MAX_INPUT_BYTES", Some("-1")),
            ("MAX_MEGAPIXELS", Some("0")),
            ("CACHE_CONTROL", Some("  ")),
        ]);
        let variables: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            variables,
            [
                "DESTINATION_BUCKET",
                "DESTINATION_PREFIX",
                "MAX_INPUT_BYTES",
                "MAX_MEGAPIXELS",
                "CACHE_CONTROL"
            ]
        );
    }

    #[test]
    fn bad_variant_fields_are_named_with_their_entry() {
        let problems = problems(&[(
            "VARIANTS",
            Some(
                r#"[
                    {"name": "ok", "width": 10, "height": 10, "fit": "inside", "format": "png", "quality": 90},
                    {"name": "Big Name", "width": 0, "height": 20000, "fit": "fill", "format": "gif", "qualty": 50}
                ]"#,
            ),
        )]);
        assert_eq!(
            problems,
            [
                "VARIANTS[1].qualty: unknown field (expected name, width, height, fit, format, quality)",
                "VARIANTS[1].name: \"Big Name\" is not 1 to 64 lower-case letters, digits, \"_\" or \"-\"",
                "VARIANTS[1].width: 0 is not a whole number from 1 to 16383",
                "VARIANTS[1].height: 20000 is not a whole number from 1 to 16383",
                "VARIANTS[1].fit: \"fill\" is not one of inside, cover, contain",
                "VARIANTS[1].format: \"gif\" is not one of jpeg, png, webp, avif, same",
                "VARIANTS[1].quality: missing",
            ]
        );
    }

    #[test]
    fn variants_that_are_not_a_json_list_are_refused() {
        for (value, expected) in [
            ("", "VARIANTS: not valid JSON"),
            ("{}", "VARIANTS: must be a JSON list"),
            ("[]", "VARIANTS: must hold at least one variant"),
            ("[1]", "VARIANTS[0]: must be an object"),
        ] {
            let problems = problems(&[("VARIANTS", Some(value))]);
            assert!(problems[0].starts_with(expected), "{value}: {problems:?}");
        }
    }

    #[test]
    fn duplicate_variant_names_are_refused() {
        let problems = problems(&[(
            "VARIANTS",
            Some(
                r#"[{"name": "a", "width": 1, "height": 1, "fit": "cover", "format": "png", "quality": 1},
                    {"name": "a", "width": 2, "height": 2, "fit": "cover", "format": "png", "quality": 1}]"#,
            ),
        )]);
        assert_eq!(
            problems,
            ["VARIANTS[1].name: \"a\" is used by an earlier variant"]
        );
    }

    #[test]
    fn variant_named_like_the_failure_reports_is_refused() {
        let problems = problems(&[(
            "VARIANTS",
            Some(
                r#"[{"name": "_failed", "width": 1, "height": 1, "fit": "cover", "format": "png", "quality": 1}]"#,
            ),
        )]);
        assert_eq!(
            problems,
            [
                "VARIANTS[0].name: \"_failed\" is reserved for the reports of images that cannot be processed"
            ]
        );
    }

    #[test]
    fn whole_numbers_written_as_floats_are_accepted() {
        let config = load(&[(
            "VARIANTS",
            Some(
                r#"[{"name": "a", "width": 200.0, "height": 100, "fit": "contain", "format": "same", "quality": 80.0}]"#,
            ),
        )])
        .unwrap();
        assert_eq!(config.variants[0].width, 200);
        assert_eq!(config.variants[0].quality, 80);
        assert_eq!(config.variants[0].format, TargetFormat::Same);
    }

    #[cfg(feature = "avif")]
    #[test]
    fn avif_variant_is_accepted_with_the_avif_feature() {
        let config = load(&[(
            "VARIANTS",
            Some(
                r#"[{"name": "a", "width": 1, "height": 1, "fit": "cover", "format": "avif", "quality": 60}]"#,
            ),
        )])
        .unwrap();
        assert_eq!(
            config.variants[0].format,
            TargetFormat::Fixed(OutputFormat::Avif)
        );
    }

    #[cfg(not(feature = "avif"))]
    #[test]
    fn avif_variant_is_refused_without_the_avif_feature() {
        let problems = problems(&[(
            "VARIANTS",
            Some(
                r#"[{"name": "a", "width": 1, "height": 1, "fit": "cover", "format": "avif", "quality": 60}]"#,
            ),
        )]);
        assert!(problems[0].contains("`avif` cargo feature"), "{problems:?}");
    }

    #[test]
    fn destination_overlapping_the_source_in_the_same_bucket_is_refused() {
        for (source_prefix, destination_prefix) in [
            ("uploads/", "uploads/processed/"),
            ("uploads/", "uploads/"),
            ("", "processed/"),
            ("uploads/", ""),
            ("images/in/", "images/"),
        ] {
            let problems = problems(&[
                ("DESTINATION_BUCKET", Some("uploads")),
                ("SOURCE_PREFIX", Some(source_prefix)),
                ("DESTINATION_PREFIX", Some(destination_prefix)),
            ]);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].starts_with("DESTINATION_PREFIX:")
                    && problems[0].contains("trigger the function again"),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn same_bucket_with_disjoint_prefixes_is_accepted() {
        let config = load(&[
            ("DESTINATION_BUCKET", Some("uploads")),
            ("SOURCE_PREFIX", Some("uploads/")),
            ("DESTINATION_PREFIX", Some("processed/")),
        ])
        .unwrap();
        assert_eq!(config.destination_bucket, config.source_bucket);
    }

    #[test]
    fn another_bucket_may_take_any_prefix() {
        let config = load(&[
            ("SOURCE_PREFIX", Some("")),
            ("DESTINATION_PREFIX", Some("")),
        ])
        .unwrap();
        assert_eq!(config.destination_prefix, "");
    }
}
