//! `local`: image files and folders rendered into an output folder by the Lambda's own path.
//! Each input becomes a source object keyed `SOURCE_PREFIX` + its name (a file's name, or its
//! path inside a folder given), and [`Files`], a [`Storage`] over the file system, serves it and
//! writes what the handler puts under the output folder by key: `<DESTINATION_PREFIX><variant>/
//! <name without extension>.<ext>` and, for a file that can never be processed, its report
//! under `_failed/`. One line per input on stdout, then a summary.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use processor::Error;
use processor::error::StorageFailure;
use processor::event::ObjectCreated;
use processor::handler::{self, Done, Processed};
use processor::storage::{Fetch, Fetched, NewObject, SourceObject, Stale, Storage};

use crate::{ConfigSource, Failure, PER_IMAGE, bounded, cores, described, runtime, size, workers};

/// What `local` needs of the variables that name buckets and the stage: nothing, so they may be
/// left unset.
const FALLBACK: [(&str, &str); 3] = [
    ("SOURCE_BUCKET", "local-source"),
    ("DESTINATION_BUCKET", "local-output"),
    ("ENVIRONMENT", "local"),
];

#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Image files, folders (every file in them, recursively) or `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// The folder the variants and failure reports are written to, by their output keys.
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// Images processed at once (default: one per core).
    #[arg(short, long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
    #[command(flatten)]
    config: ConfigSource,
}

/// A source: a file, or the bytes read from standard input.
#[derive(Debug)]
enum Input {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// [`Storage`] over the file system: sources by key, outputs under a folder. Its failures are
/// the storage errors the S3 adapter gives (`S3Refused`), so the handler treats them alike.
#[derive(Debug)]
pub struct Files {
    sources: HashMap<String, Input>,
    out: PathBuf,
}

impl Storage for Files {
    async fn get(&self, source: &SourceObject, max_bytes: u64) -> Result<Fetch, Error> {
        let bytes = match self.sources.get(&source.key) {
            None => return Ok(Fetch::Stale(Stale::Gone)),
            Some(Input::Bytes(bytes)) => bytes.clone(),
            // Blocking reads on the worker: it has nothing else to do until the image is in.
            Some(Input::File(path)) => {
                let refused = |error: std::io::Error| refused("GetObject", path, &error);
                let size = match std::fs::metadata(path) {
                    Ok(metadata) => metadata.len(),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(Fetch::Stale(Stale::Gone));
                    }
                    Err(error) => return Err(refused(error)),
                };
                if size > max_bytes {
                    return Err(Error::TooLarge {
                        size,
                        limit: max_bytes,
                    });
                }
                std::fs::read(path).map_err(refused)?
            }
        };
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if size > max_bytes {
            return Err(Error::TooLarge {
                size,
                limit: max_bytes,
            });
        }
        Ok(Fetch::Found(Fetched {
            bytes,
            e_tag: None,
            version_id: None,
        }))
    }

    async fn put(&self, object: NewObject) -> Result<(), Error> {
        let path = self.path(&object.key)?;
        let write = || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &object.body)
        };
        write().map_err(|error| refused("PutObject", &path, &error))
    }
}

impl Files {
    /// The file of an output key; a key that would leave the output folder is refused.
    fn path(&self, key: &str) -> Result<PathBuf, Error> {
        if key.starts_with('/') || key.split('/').any(|segment| segment == "..") {
            return Err(Error::Storage {
                operation: "PutObject",
                failure: StorageFailure::Refused,
                message: format!("the key {key:?} would leave the output folder"),
            });
        }
        Ok(self.out.join(key))
    }
}

fn refused(operation: &'static str, path: &Path, error: &std::io::Error) -> Error {
    Error::Storage {
        operation,
        failure: StorageFailure::Refused,
        message: format!("{}: {error}", path.display()),
    }
}

/// Runs `local`; true when every input was processed.
pub fn run(args: LocalArgs) -> Result<bool, Failure> {
    let config = Arc::new(args.config.load(&FALLBACK)?);
    let jobs = args.jobs.map_or_else(cores, NonZeroUsize::get);
    let mut failed = 0usize;
    let mut sources = HashMap::new();
    let mut keys = Vec::new();
    for input in &args.inputs {
        match inputs(input, &args.out) {
            Ok(found) => {
                for (name, source) in found {
                    let key = format!("{}{name}", config.source_prefix);
                    if sources.insert(key.clone(), source).is_some() {
                        println!("failed  {key}  two inputs have this name; the later one is used");
                        failed += 1;
                    } else {
                        keys.push(key);
                    }
                }
            }
            Err(error) => {
                println!("failed  {}  {error}", input.display());
                failed += 1;
            }
        }
    }
    let files = Arc::new(Files {
        sources,
        out: args.out.clone(),
    });

    let started = Instant::now();
    let mut summary = Summary::default();
    let objects = keys.into_iter().map(|key| ObjectCreated {
        event_name: "ObjectCreated:Local".to_owned(),
        bucket: config.source_bucket.clone(),
        key,
        size: None,
        e_tag: None,
        version_id: None,
        sequencer: None,
    });
    runtime(jobs)?.block_on(bounded(
        objects,
        jobs,
        |object| {
            let (config, files) = (Arc::clone(&config), Arc::clone(&files));
            async move {
                let deadline = Instant::now() + PER_IMAGE;
                let processed =
                    handler::process_object(&config, &*files, &object, "local", deadline).await;
                (object.key, processed)
            }
        },
        |(key, processed)| {
            println!("{}", line(&key, &processed, &args.out));
            summary.add(&processed);
        },
    ));
    let seconds = started.elapsed().as_secs_f64();
    failed += summary.failed;
    println!(
        "{} inputs: {} processed, {} skipped, {failed} failed; {} in, {} out; {seconds:.2} s \
         on {}, {:.2} images/s",
        summary.processed + summary.skipped + failed,
        summary.processed,
        summary.skipped,
        size(summary.bytes_in),
        size(summary.bytes_out),
        workers(jobs),
        summary.processed as f64 / seconds.max(f64::EPSILON),
    );
    Ok(failed == 0)
}

/// The sources an argument names, with their names (keys less `SOURCE_PREFIX`).
fn inputs(argument: &Path, out: &Path) -> std::io::Result<Vec<(String, Input)>> {
    if argument == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        return Ok(vec![("stdin".to_owned(), Input::Bytes(bytes))]);
    }
    if !std::fs::metadata(argument)?.is_dir() {
        let name = argument
            .file_name()
            .map_or_else(|| argument.to_string_lossy(), |name| name.to_string_lossy());
        return Ok(vec![(name.into_owned(), Input::File(argument.to_owned()))]);
    }
    // The output folder inside an input folder is not input: a second run would take the
    // first one's outputs as sources.
    let out = std::fs::canonicalize(out).ok();
    let mut found = Vec::new();
    let mut folders = vec![argument.to_owned()];
    while let Some(folder) = folders.pop() {
        let mut entries = std::fs::read_dir(&folder)?.collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                if out.is_none() || std::fs::canonicalize(&path).ok() != out {
                    folders.push(path);
                }
                continue;
            }
            let relative = path.strip_prefix(argument).unwrap_or(&path);
            let name = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            found.push((name, Input::File(path)));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// One input's line: what it was and what became of it.
fn line(key: &str, processed: &Processed, out: &Path) -> String {
    let seen = &processed.seen;
    match &processed.result {
        Ok(Done::Processed) => {
            let mut line = format!(
                "ok      {key}  {} {}x{} {} B ->",
                seen.format_in.unwrap_or("?"),
                seen.width_in.unwrap_or_default(),
                seen.height_in.unwrap_or_default(),
                seen.bytes_in.unwrap_or_default(),
            );
            let _ = write!(
                line,
                " {}  {:.0} ms",
                seen.outputs_line(),
                processed.milliseconds
            );
            line
        }
        Ok(Done::Stale(stale)) => format!("skipped {key}  the input is {}", stale.as_str()),
        Err(error) => {
            let mut line = format!("failed  {key}  {}", described(error));
            if let Some(report) = &seen.report {
                let _ = write!(line, "  (report: {})", out.join(report).display());
            }
            line
        }
    }
}

#[derive(Debug, Default)]
struct Summary {
    processed: usize,
    skipped: usize,
    failed: usize,
    bytes_in: u64,
    bytes_out: u64,
}

impl Summary {
    fn add(&mut self, processed: &Processed) {
        match &processed.result {
            Ok(Done::Processed) => {
                self.processed += 1;
                self.bytes_in += processed.seen.bytes_in.unwrap_or_default();
                self.bytes_out += processed.seen.bytes_out();
            }
            Ok(Done::Stale(_)) => self.skipped += 1,
            Err(_) => self.failed += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_key_leaving_the_output_folder_is_refused() {
        let files = Files {
            sources: HashMap::new(),
            out: PathBuf::from("out"),
        };
        assert_eq!(
            files.path("v1/thumb/a.webp").unwrap(),
            Path::new("out/v1/thumb/a.webp")
        );
        for key in ["../v1/thumb/a.webp", "/etc/a.webp", "v1/../../a.webp"] {
            let error = files.path(key).unwrap_err();
            assert_eq!(error.error_type(), processor::ErrorType::S3Refused, "{key}");
        }
    }
}
