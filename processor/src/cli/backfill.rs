//! `backfill`: the objects already in the source bucket, processed as if just uploaded.
//!
//! Two passes over a listing of `SOURCE_BUCKET` under `SOURCE_PREFIX` (or a narrower
//! `--prefix`). The check asks, for each object, whether every variant's output exists and was
//! made from the object's current ETag (the `source-etag` metadata the handler writes on every
//! output), or whether a failure report for that ETag exists: such objects are skipped, so a
//! rerun resumes where the last one stopped and an object uploaded again is done again. The
//! second pass processes the rest through the handler's per-object path, or only counts them
//! (`--dry-run`), or enqueues one S3 event each for the deployed function (`--via-queue`).
//!
//! Folder markers (keys ending in `/`) and, when the destination is the source bucket, keys
//! under `DESTINATION_PREFIX` are not sources and are left out of the listing.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Instant;

use aws_config::BehaviorVersion;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use processor::Error;
use processor::config::Config;
use processor::event::ObjectCreated;
use processor::handler::{self, Done, SOURCE_ETAG, header_safe, output_key, report_key};
use processor::pipeline::SourceFormat;
use processor::storage::{Listed, S3};

use crate::queue::{self, Queue};
use crate::{ConfigSource, Failure, PER_IMAGE, bounded, cores, described, runtime};

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Only the keys under this prefix, which must lie within SOURCE_PREFIX (default:
    /// SOURCE_PREFIX).
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
    /// Objects in flight at once (default: two per core; images are decoded on a worker per
    /// core).
    #[arg(long, value_name = "N")]
    concurrency: Option<NonZeroUsize>,
    /// Count what would be processed, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Enqueue one S3 event per object on this SQS queue (the processor's) instead of processing
    /// here.
    #[arg(long, value_name = "URL")]
    via_queue: Option<String>,
    #[command(flatten)]
    config: ConfigSource,
}

/// What the check found for one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Every variant exists, made from this ETag.
    Current,
    /// This ETag was reported as failing for good.
    Reported,
    Todo,
}

/// The final report's counts.
#[derive(Debug, Default)]
struct Report {
    current: usize,
    reported: usize,
    /// Replaced or deleted between the listing and its processing.
    stale: usize,
    done: usize,
    /// Key and error, for the final report.
    failed: Vec<(String, String)>,
}

/// Runs `backfill`; true when no object failed.
pub fn run(args: BackfillArgs) -> Result<bool, Failure> {
    let config = Arc::new(args.config.load(&[])?);
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| config.source_prefix.clone());
    if !prefix.starts_with(&config.source_prefix) {
        return Err(Failure::Usage(format!(
            "--prefix {prefix:?} is outside SOURCE_PREFIX {:?}, which the function processes",
            config.source_prefix
        )));
    }
    let workers = cores();
    let limit = args.concurrency.map_or(2 * workers, NonZeroUsize::get);
    runtime(workers)?.block_on(async {
        let shared = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let s3 = Arc::new(S3::new(&shared));
        let sources = s3
            .list(&config.source_bucket, &prefix)
            .await?
            .into_iter()
            .filter(|object| is_source(&config, &object.key))
            .collect::<Vec<_>>();
        println!(
            "s3://{}/{prefix}: {} objects",
            config.source_bucket,
            sources.len()
        );

        let mut report = Report::default();
        let mut todo = Vec::new();
        let bar = progress(sources.len(), "checking");
        bounded(
            sources,
            limit,
            |object| {
                let (s3, config) = (Arc::clone(&s3), Arc::clone(&config));
                async move {
                    let verdict = verdict(&s3, &config, &object).await;
                    (object, verdict)
                }
            },
            |(object, verdict)| {
                bar.inc(1);
                match verdict {
                    Ok(Verdict::Current) => report.current += 1,
                    Ok(Verdict::Reported) => report.reported += 1,
                    Ok(Verdict::Todo) => todo.push(object),
                    Err(error) => report.failed.push((object.key, described(&error))),
                }
            },
        )
        .await;
        bar.finish_and_clear();
        todo.sort_by(|a, b| a.key.cmp(&b.key));

        let started = Instant::now();
        let action = if args.dry_run {
            format!("to process {}", todo.len())
        } else if let Some(url) = &args.via_queue {
            let region = shared.region().map_or("", |region| region.as_ref());
            let queue = Arc::new(Queue::new(&shared, url.clone()));
            let bar = progress(todo.len(), "enqueueing");
            let batches = todo.chunks(queue::BATCH).map(<[Listed]>::to_vec);
            let (bucket, region) = (config.source_bucket.clone(), region.to_owned());
            let mut failed = 0;
            bounded(
                batches,
                limit,
                |batch| {
                    let (queue, bucket, region) =
                        (Arc::clone(&queue), bucket.clone(), region.clone());
                    async move {
                        let failures = queue.send(&bucket, &region, &batch).await;
                        (batch.len(), failures)
                    }
                },
                |(sent, failures)| {
                    bar.inc(sent as u64);
                    failed += failures.len();
                    report.failed.extend(failures);
                },
            )
            .await;
            bar.finish_and_clear();
            format!("enqueued {} on {url}", todo.len() - failed)
        } else {
            let bar = progress(todo.len(), "processing");
            bounded(
                todo,
                limit,
                |listed| {
                    let (s3, config) = (Arc::clone(&s3), Arc::clone(&config));
                    async move {
                        let object = ObjectCreated {
                            event_name: queue::EVENT_NAME.to_owned(),
                            bucket: config.source_bucket.clone(),
                            key: listed.key,
                            size: listed.size,
                            e_tag: listed.e_tag,
                            version_id: None,
                            sequencer: None,
                        };
                        let deadline = Instant::now() + PER_IMAGE;
                        let processed =
                            handler::process_object(&config, &*s3, &object, "backfill", deadline)
                                .await;
                        (object.key, processed.result)
                    }
                },
                |(key, result)| {
                    bar.inc(1);
                    match result {
                        Ok(Done::Processed) => report.done += 1,
                        Ok(Done::Stale(_)) => report.stale += 1,
                        Err(error) => report.failed.push((key, described(&error))),
                    }
                },
            )
            .await;
            bar.finish_and_clear();
            let seconds = started.elapsed().as_secs_f64();
            format!(
                "processed {} in {seconds:.2} s ({:.2} images/s on {})",
                report.done,
                report.done as f64 / seconds.max(f64::EPSILON),
                crate::workers(workers),
            )
        };
        report.failed.sort();
        println!(
            "{action}; skipped {} ({} up to date, {} reported as failed before, {} changed \
             during the run); failed {}",
            report.current + report.reported + report.stale,
            report.current,
            report.reported,
            report.stale,
            report.failed.len()
        );
        for (key, error) in &report.failed {
            println!("failed  {key}  {error}");
        }
        Ok(report.failed.is_empty())
    })
}

/// Not a folder marker, not one of our outputs.
fn is_source(config: &Config, key: &str) -> bool {
    let folder = key.ends_with('/');
    let output = config.source_bucket == config.destination_bucket
        && key.starts_with(&config.destination_prefix);
    !folder && !output
}

/// Whether `object` still needs processing, from the metadata of its outputs and report.
async fn verdict(s3: &S3, config: &Config, object: &Listed) -> Result<Verdict, Error> {
    let Some(e_tag) = object.e_tag.as_deref() else {
        return Ok(Verdict::Todo);
    };
    let e_tag = header_safe(e_tag);
    let made_from_this = |metadata: Option<HashMap<String, String>>| {
        metadata
            .is_some_and(|metadata| metadata.get(SOURCE_ETAG).map(String::as_str) == Some(&*e_tag))
    };
    let mut current = true;
    'variants: for variant in &config.variants {
        // A `same` variant's format is the source's, known only from its bytes: any of the
        // formats it can resolve to will do.
        let mut formats = SOURCES
            .map(|source| variant.format.resolve(source))
            .to_vec();
        formats.dedup();
        for format in formats {
            let key = output_key(
                &config.destination_prefix,
                &variant.name,
                &object.key,
                format,
            );
            if made_from_this(s3.metadata(&config.destination_bucket, &key).await?) {
                continue 'variants;
            }
        }
        current = false;
        break;
    }
    if current {
        return Ok(Verdict::Current);
    }
    let report = report_key(&config.destination_prefix, &object.key);
    if made_from_this(s3.metadata(&config.destination_bucket, &report).await?) {
        return Ok(Verdict::Reported);
    }
    Ok(Verdict::Todo)
}

/// Every format the pipeline reads.
const SOURCES: [SourceFormat; 6] = [
    SourceFormat::Jpeg,
    SourceFormat::Png,
    SourceFormat::Webp,
    SourceFormat::Gif,
    SourceFormat::Tiff,
    SourceFormat::Bmp,
];

/// A bar on stderr with the count, the rate and the time left; hidden when stderr is not a
/// terminal.
fn progress(len: usize, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(u64::try_from(len).unwrap_or(u64::MAX));
    let style =
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec:>12} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_markers_and_outputs_in_the_source_bucket_are_not_sources() {
        let config = Config::from_lookup(|name| {
            Some(
                match name {
                    "SOURCE_BUCKET" | "DESTINATION_BUCKET" => "uploads",
                    "SOURCE_PREFIX" => "in/",
                    "DESTINATION_PREFIX" => "out/",
                    "VARIANTS" => r#"[{"name": "t", "width": 9, "height": 9, "fit": "cover", "format": "png", "quality": 80}]"#,
                    "ENVIRONMENT" => "test",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .unwrap();
        assert!(is_source(&config, "in/cat.jpg"));
        assert!(!is_source(&config, "in/2024/"));
        assert!(!is_source(&config, "out/t/in/cat.png"));
    }
}
