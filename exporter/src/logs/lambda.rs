//! Reading Lambda's own log lines (the text log format): a `REPORT` line closes every
//! invocation with its memory figures and, after a cold start, its `Init Duration`; a timed-out
//! invocation writes `Task timed out after N seconds`. START and END lines carry nothing a
//! count needs. Memory is in Lambda's MB, reported here as 10^6 bytes each, the unit Logs
//! Insights gives `@maxMemoryUsed` and `@memorySize` in, so both query modes agree.

/// The filter pattern that narrows FilterLogEvents to the lines [`read`] uses.
pub const FILTER_PATTERN: &str = "?REPORT ?\"Task timed out after\"";
/// What a timeout line contains.
pub const TIMEOUT: &str = "Task timed out after";
const BYTES_PER_MB: f64 = 1e6;

/// What one Lambda line says.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Report(Report),
    Timeout,
}

/// The figures of one REPORT line.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub memory_size_bytes: Option<f64>,
    pub max_memory_used_bytes: Option<f64>,
    /// Only after a cold start.
    pub init_duration_seconds: Option<f64>,
}

/// The line's meaning, or `None` for any other line (START, END, the function's own output).
pub fn read(line: &str) -> Option<Line> {
    if let Some(rest) = line.strip_prefix("REPORT ") {
        let mut report = Report {
            memory_size_bytes: None,
            max_memory_used_bytes: None,
            init_duration_seconds: None,
        };
        for field in rest.split('\t') {
            let Some((name, value)) = field.split_once(':') else {
                continue;
            };
            let number = |unit: &str| {
                value
                    .trim()
                    .strip_suffix(unit)
                    .and_then(|n| n.trim().parse::<f64>().ok())
            };
            match name.trim() {
                "Memory Size" => {
                    report.memory_size_bytes = number("MB").map(|mb| mb * BYTES_PER_MB)
                }
                "Max Memory Used" => {
                    report.max_memory_used_bytes = number("MB").map(|mb| mb * BYTES_PER_MB)
                }
                "Init Duration" => {
                    report.init_duration_seconds = value
                        .trim()
                        .strip_suffix("ms")
                        .and_then(|ms| milliseconds_as_seconds(ms.trim()))
                }
                _ => {}
            }
        }
        return Some(Line::Report(report));
    }
    line.contains(TIMEOUT).then_some(Line::Timeout)
}

/// `221.95` (milliseconds, as written) as seconds, rounded once: `0.22195`, not the
/// `0.22194999999999998` that dividing by 1000 gives.
pub fn milliseconds_as_seconds(ms: &str) -> Option<f64> {
    ms.parse::<f64>().ok()?;
    format!("{ms}e-3").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_report_lines_give_init_duration_and_memory() {
        let line = "REPORT RequestId: 6f7c2a1e-1f7b-4c0e-9a51-3d2f6c9b8e11\tDuration: 812.43 ms\tBilled Duration: 1035 ms\tMemory Size: 1024 MB\tMax Memory Used: 187 MB\tInit Duration: 221.95 ms\t\n";
        assert_eq!(
            read(line),
            Some(Line::Report(Report {
                memory_size_bytes: Some(1024e6),
                max_memory_used_bytes: Some(187e6),
                init_duration_seconds: Some(0.22195),
            }))
        );
    }

    #[test]
    fn warm_report_lines_have_no_init_duration() {
        let line = "REPORT RequestId: a\tDuration: 5.10 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t";
        let Some(Line::Report(report)) = read(line) else {
            panic!("not a report");
        };
        assert_eq!(report.init_duration_seconds, None);
        assert_eq!(report.max_memory_used_bytes, Some(40e6));
    }

    #[test]
    fn timeouts_start_and_end_lines_are_told_apart() {
        let timeout = "2026-12-01T22:00:03.012Z 6f7c2a1e-1f7b-4c0e-9a51-3d2f6c9b8e11 Task timed out after 3.00 seconds\n";
        assert_eq!(read(timeout), Some(Line::Timeout));
        assert_eq!(read("START RequestId: a Version: $LATEST\n"), None);
        assert_eq!(read("END RequestId: a\n"), None);
        assert_eq!(
            read("{\"level\":\"INFO\",\"message\":\"REPORT is a word\"}"),
            None
        );
    }
}
