//! The `/metrics` bytes as the server sends them, whole, streamed and gzipped, against
//! `tests/golden/exposition.{txt,om}`: written by the exporter before it streamed, they pin the
//! spelling of every kind of family and value (padding, escapes, duplicates, counters in both
//! formats, non-finite and large values with and without timestamps). After
//! `UPDATE_GOLDEN=1 cargo test --test exposition`, review the diff: it is what scrapers read.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use exporter::scrape::Series;
use exporter::server::Exposition;
use exporter::snapshot::{Latest, Snapshot};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

fn series(name: &str, labels: &[(&str, &str)], value: f64, millis: Option<u64>) -> Series {
    Series {
        name: name.into(),
        labels: labels.iter().copied().collect(),
        value,
        timestamp: millis.map(|millis| UNIX_EPOCH + Duration::from_millis(millis)),
    }
}

fn exposition() -> Exposition {
    let snapshot = Snapshot::new(vec![
        series("aws_x_sum", &[("name", "b"), ("region", "r")], 1e20, None),
        series("aws_x_sum", &[("name", "a")], f64::INFINITY, None),
        // A duplicate of the first, labels in another order: dropped.
        series("aws_x_sum", &[("region", "r"), ("name", "b")], 3.0, None),
        series(
            "aws_x_sum",
            &[("name", "c\"\\\n"), ("dimension_Z", "z")],
            1e-7,
            None,
        ),
        // A repeated name: the last value is the one.
        series(
            "aws_x_sum",
            &[("name", "d"), ("name", "e")],
            f64::NEG_INFINITY,
            None,
        ),
        series("aws_empty", &[], f64::NAN, None),
        series(
            "aws_logs_lambda_invocations",
            &[("name", "f"), ("log_group", "g")],
            3.0,
            None,
        ),
        series(
            "aws_logs_lambda_invocations",
            &[("name", "f"), ("log_group", "a")],
            0.1,
            None,
        ),
        series(
            "aws_logs_lambda_max_memory_used_bytes",
            &[("name", "f")],
            240e6,
            None,
        ),
        series(
            "aws_t_max",
            &[("name", "q")],
            f64::INFINITY,
            Some(1_800_000_000_250),
        ),
        series("aws_t_max", &[("name", "q")], 1e20, Some(1_800_000_000_000)),
        // Same labels and timestamp as the one before: dropped.
        series("aws_t_max", &[("name", "q")], 5.0, Some(1_800_000_000_000)),
        series("aws_t_max", &[("name", "p"), ("x", "1")], 0.5, None),
        series("aws_a_first", &[("name", "q")], 2.0, Some(1_000)),
        series("aws_z_last", &[("name", "q")], 2.0, None),
    ]);
    assert_eq!(snapshot.duplicates(), 2);
    let latest = Arc::new(Latest::default());
    latest.replace(snapshot);
    let mut own = Registry::default();
    let requests: Counter = Counter::default();
    requests.inc_by(7);
    own.register("own_requests", "Requests.", requests);
    let size: Gauge = Gauge::default();
    size.set(3);
    own.register("own_size", "Size.", size);
    Exposition { own, latest }
}

#[test]
fn the_exposition_is_the_golden_one_whole_streamed_and_gzipped() {
    let exposition = exposition();
    for (openmetrics, file) in [(false, "exposition.txt"), (true, "exposition.om")] {
        let (_, whole) = exposition.render(openmetrics).unwrap();
        let golden = Path::new(GOLDEN).join(file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &whole).unwrap();
        }
        assert_eq!(whole, std::fs::read_to_string(&golden).unwrap(), "{file}");

        let (_, stream) = exposition.stream(openmetrics, false).unwrap();
        let streamed: Vec<u8> = stream.flat_map(|chunk| chunk.unwrap().to_vec()).collect();
        assert_eq!(String::from_utf8(streamed).unwrap(), whole, "{file}");

        let (_, stream) = exposition.stream(openmetrics, true).unwrap();
        let zipped: Vec<u8> = stream.flat_map(|chunk| chunk.unwrap().to_vec()).collect();
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(zipped.as_slice())
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, whole, "{file}");
    }
}
