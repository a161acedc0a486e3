//! CloudWatch Embedded Metric Format, read back: what CloudWatch Logs does with the EMF lines a
//! function prints, turning each document into metric datapoints. The local run forwards the
//! processor's lines to the emulator's CloudWatch with PutMetricData, since moto has no Logs
//! to Metrics path of its own.
//!
//! Read as the EMF specification says: `_aws.Timestamp` (milliseconds since 1970), and per
//! `_aws.CloudWatchMetrics` directive a namespace, dimension sets (names of top-level members
//! holding each dimension's value) and metrics (names of top-level members holding a number or
//! an array of numbers). Units are not kept: nothing downstream reads them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The values of one metric under one dimension set, as one PutMetricData datum carries them.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub namespace: String,
    pub metric: String,
    /// `(name, value)` in the order of the dimension set.
    pub dimensions: Vec<(String, String)>,
    pub values: Vec<f64>,
    pub time: SystemTime,
}

/// Why a line that claims to be EMF (a JSON object with `_aws`) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("EMF document {what}: {line}")]
pub struct Invalid {
    pub what: &'static str,
    pub line: String,
}

/// The datapoints of `line`: none for a line that is not an EMF document (a log line), an
/// error for an EMF document that breaks the format.
pub fn datapoints(line: &str) -> Result<Vec<Datum>, Invalid> {
    let Ok(document) = serde_json::from_str::<Value>(line.trim()) else {
        return Ok(Vec::new());
    };
    let Some(metadata) = document.get("_aws") else {
        return Ok(Vec::new());
    };
    let invalid = |what| Invalid {
        what,
        line: line.trim().to_owned(),
    };
    let millis = metadata["Timestamp"]
        .as_u64()
        .ok_or_else(|| invalid("has no numeric _aws.Timestamp"))?;
    let time = UNIX_EPOCH + Duration::from_millis(millis);
    let directives = metadata["CloudWatchMetrics"]
        .as_array()
        .ok_or_else(|| invalid("has no _aws.CloudWatchMetrics array"))?;
    let mut data = Vec::new();
    for directive in directives {
        let namespace = directive["Namespace"]
            .as_str()
            .ok_or_else(|| invalid("has a directive without Namespace"))?;
        let sets = directive["Dimensions"]
            .as_array()
            .ok_or_else(|| invalid("has a directive without Dimensions"))?;
        let metrics = directive["Metrics"]
            .as_array()
            .ok_or_else(|| invalid("has a directive without Metrics"))?;
        for set in sets {
            let names = set
                .as_array()
                .ok_or_else(|| invalid("has a dimension set that is not an array"))?;
            let dimensions = names
                .iter()
                .map(|name| {
                    let name = name.as_str()?;
                    Some((name.to_owned(), document.get(name)?.as_str()?.to_owned()))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("names a dimension without a string member"))?;
            for metric in metrics {
                let name = metric["Name"]
                    .as_str()
                    .ok_or_else(|| invalid("has a metric without Name"))?;
                let values = match document.get(name) {
                    Some(Value::Number(number)) => number.as_f64().into_iter().collect(),
                    Some(Value::Array(values)) => values
                        .iter()
                        .map(Value::as_f64)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| invalid("has a metric array with a non-number"))?,
                    _ => return Err(invalid("names a metric without a numeric member")),
                };
                data.push(Datum {
                    namespace: namespace.to_owned(),
                    metric: name.to_owned(),
                    dimensions: dimensions.clone(),
                    values,
                    time,
                });
            }
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{"_aws":{"Timestamp":1796112000000,"CloudWatchMetrics":[{"Namespace":"ImageProcessing","Dimensions":[["FunctionName","Environment"]],"Metrics":[{"Name":"ImagesProcessed","Unit":"Count"},{"Name":"ProcessingTime","Unit":"Milliseconds"}]}]},"FunctionName":"f","Environment":"dev","requestId":"r","ImagesProcessed":5,"ProcessingTime":[12.5,30]}"#;

    #[test]
    fn document_gives_one_datum_per_metric_and_dimension_set() {
        let data = datapoints(DOCUMENT).unwrap();
        let dimensions = vec![
            ("FunctionName".to_owned(), "f".to_owned()),
            ("Environment".to_owned(), "dev".to_owned()),
        ];
        let time = UNIX_EPOCH + Duration::from_millis(1_796_112_000_000);
        assert_eq!(
            data,
            [
                Datum {
                    namespace: "ImageProcessing".into(),
                    metric: "ImagesProcessed".into(),
                    dimensions: dimensions.clone(),
                    values: vec![5.0],
                    time,
                },
                Datum {
                    namespace: "ImageProcessing".into(),
                    metric: "ProcessingTime".into(),
                    dimensions,
                    values: vec![12.5, 30.0],
                    time,
                },
            ]
        );
    }

    #[test]
    fn log_lines_are_not_metrics() {
        assert_eq!(datapoints(r#"{"level":"INFO","message":"hi"}"#), Ok(vec![]));
        assert_eq!(datapoints("INIT_START Runtime Version"), Ok(vec![]));
    }

    #[test]
    fn emf_document_naming_a_missing_dimension_is_refused() {
        let broken = DOCUMENT.replace(r#""Environment":"dev","#, "");
        let error = datapoints(&broken).unwrap_err();
        assert_eq!(error.what, "names a dimension without a string member");
    }
}
