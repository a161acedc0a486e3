//! The `/metrics` body, written as it is sent: the exporter's own metrics, then the snapshot
//! that was the latest when the request came, [`CHUNK`] bytes at a time, gzipped on the way
//! when the scraper takes gzip. No whole body is ever held, so serving 100k series costs a chunk
//! and a compressor, not the body and its copies; the one [`Arc<Snapshot>`] the body holds keeps
//! the response consistent while scrapes replace the latest.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use flate2::write::GzEncoder;
use hyper::body::{Bytes, Frame};
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::registry::Registry;

use crate::snapshot::{Cursor, Latest, Snapshot};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// What YACE serves: the classic text format.
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// About how much text is written before it is sent: large enough that a chunk's overhead
/// (framing, a compressor call) is noise, small enough that no response holds much.
pub const CHUNK: usize = 64 * 1024;

/// What `/metrics` shows: the exporter's own metrics and the latest snapshot.
#[derive(Debug)]
pub struct Exposition {
    pub own: Registry,
    pub latest: Arc<Latest>,
}

impl Exposition {
    /// The exposition as the server sends it, as OpenMetrics or as the classic text format,
    /// gzipped or not, with its content type. The own metrics are read now; the snapshot is
    /// written as the body is read.
    pub fn stream(
        &self,
        openmetrics: bool,
        gzip: bool,
    ) -> Result<(&'static str, Stream), std::fmt::Error> {
        let mut own = String::new();
        encode_registry(&mut own, &self.own)?;
        if !openmetrics {
            own = classic_counters(&own);
        }
        let text = Text {
            head: Some(own),
            snapshot: self.latest.get(),
            cursor: Cursor::default(),
            openmetrics,
            done: false,
        };
        let gzip = gzip.then(|| GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        let content_type = if openmetrics { OPENMETRICS } else { TEXT };
        Ok((content_type, Stream { text, gzip }))
    }

    /// The whole exposition in one string: what [`Exposition::stream`] sends, uncompressed.
    pub fn render(&self, openmetrics: bool) -> Result<(&'static str, String), std::fmt::Error> {
        let (content_type, stream) = self.stream(openmetrics, false)?;
        Ok((content_type, stream.text.collect()))
    }
}

/// The exposition's text, a chunk at a time: the own metrics with the first.
#[derive(Debug)]
struct Text {
    head: Option<String>,
    snapshot: Arc<Snapshot>,
    cursor: Cursor,
    openmetrics: bool,
    done: bool,
}

impl Iterator for Text {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.done {
            return None;
        }
        let mut chunk = self.head.take().unwrap_or_default();
        let more = self
            .snapshot
            .write(&mut self.cursor, &mut chunk, CHUNK, self.openmetrics);
        if !more {
            self.done = true;
            if self.openmetrics {
                // Writing to a String cannot fail.
                let _ = encode_eof(&mut chunk);
            }
        }
        Some(chunk)
    }
}

/// The `/metrics` body: an iterator of chunks, for whoever reads it in place (the benchmark),
/// and a hyper body of the same chunks. Each chunk is written when it is asked for.
#[derive(Debug)]
pub struct Stream {
    text: Text,
    /// The gzip stream so far; taken when it is finished.
    gzip: Option<GzEncoder<Vec<u8>>>,
}

impl Iterator for Stream {
    type Item = std::io::Result<Bytes>;

    fn next(&mut self) -> Option<Self::Item> {
        let Some(gzip) = self.gzip.as_mut() else {
            return self
                .text
                .find(|text| !text.is_empty())
                .map(|text| Ok(text.into()));
        };
        for text in self.text.by_ref() {
            if let Err(error) = gzip.write_all(text.as_bytes()) {
                return Some(Err(error));
            }
            // The compressor only appends to its output; what it has written so far is sent.
            let zipped = std::mem::take(gzip.get_mut());
            if !zipped.is_empty() {
                return Some(Ok(zipped.into()));
            }
        }
        let gzip = self.gzip.take()?;
        Some(gzip.finish().map(Bytes::from))
    }
}

impl hyper::body::Body for Stream {
    type Data = Bytes;
    type Error = std::io::Error;

    /// Ready at once: a chunk is CPU work of well under a millisecond, not a wait.
    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.get_mut().next().map(|chunk| chunk.map(Frame::data)))
    }
}

/// prometheus-client writes OpenMetrics, where a counter family `x` has samples `x_total`;
/// the classic format names the family after its samples. Renaming the HELP and TYPE lines
/// of counters is the whole difference for what this exporter serves (gauges and counters
/// without units), and keeps `promtool check metrics` from reading `x_total` as a family
/// without help. The snapshot names its counters itself ([`Snapshot::write`]).
fn classic_counters(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::{Duration, UNIX_EPOCH};

    use prometheus_client::metrics::counter::Counter;

    use super::*;
    use crate::scrape::Series;

    /// Own metrics with a counter, and a snapshot of several chunks: plain gauges, a logs
    /// counter family and a timestamped family.
    fn exposition() -> Exposition {
        let mut series = Vec::new();
        for function in 0..3000_u64 {
            let labels = |name: &str| {
                [
                    ("name", format!("arn:aws:lambda:f{function}")),
                    ("x", name.into()),
                ]
                .into_iter()
                .collect()
            };
            let sample = |name: &str, value, timestamp| Series {
                name: name.into(),
                labels: labels(name),
                value,
                timestamp,
            };
            series.push(sample("aws_lambda_errors_sum", 1.5, None));
            series.push(sample("aws_logs_lambda_invocations", 2.0, None));
            let at = UNIX_EPOCH + Duration::from_millis(1_800_000_000_000 + function);
            series.push(sample("aws_lambda_duration_p99", 3.0, Some(at)));
        }
        let latest = Arc::new(Latest::default());
        latest.replace(Snapshot::new(series));
        let mut own = Registry::default();
        own.register("own_requests", "Requests", Counter::<u64>::default());
        Exposition { own, latest }
    }

    #[test]
    fn the_streamed_body_is_the_whole_body_in_chunks_of_about_chunk_bytes() {
        let exposition = exposition();
        for openmetrics in [false, true] {
            let (_, whole) = exposition.render(openmetrics).unwrap();
            let (_, stream) = exposition.stream(openmetrics, false).unwrap();
            let chunks: Vec<Bytes> = stream.map(Result::unwrap).collect();
            assert!(chunks.len() > 3, "{} chunks", chunks.len());
            // A chunk stops at the first line end past CHUNK bytes.
            assert!(chunks.iter().all(|chunk| chunk.len() < CHUNK + 512));
            assert_eq!(chunks.concat(), whole.as_bytes());
            assert_eq!(whole.ends_with("# EOF\n"), openmetrics);
            assert!(whole.contains("# TYPE own_requests_total counter\n") != openmetrics);
            assert!(
                whole.contains("# TYPE aws_logs_lambda_invocations_total counter\n") != openmetrics
            );
        }
    }

    #[test]
    fn the_gzipped_stream_reads_back_to_the_body() {
        let exposition = exposition();
        let (_, whole) = exposition.render(false).unwrap();
        let (_, stream) = exposition.stream(false, true).unwrap();
        let zipped: Vec<Bytes> = stream.map(Result::unwrap).collect();
        assert!(zipped.len() > 1, "sent as it is compressed, not at the end");
        let zipped = zipped.concat();
        assert!(zipped.len() * 10 < whole.len(), "{} bytes", zipped.len());
        let mut read = String::new();
        flate2::read::GzDecoder::new(zipped.as_slice())
            .read_to_string(&mut read)
            .unwrap();
        assert_eq!(read, whole);
    }

    #[test]
    fn counters_are_renamed_after_their_samples_in_the_classic_format() {
        let openmetrics = "# HELP x_requests Requests.\n# TYPE x_requests counter\n\
                           x_requests_total{api_name=\"A\"} 3\n\
                           # HELP x_size Size.\n# TYPE x_size gauge\nx_size 1.0\n";
        assert_eq!(
            classic_counters(openmetrics),
            "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n\
             x_requests_total{api_name=\"A\"} 3\n\
             # HELP x_size Size.\n# TYPE x_size gauge\nx_size 1.0\n"
        );
    }
}
