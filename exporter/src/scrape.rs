//! One scrape: every job in every region, turned into CloudWatch queries and the answers into
//! [`Series`]. This module decides values and labels; it calls AWS only through the
//! [`CloudWatch`] trait and receives the account id from its caller, so it is tested with fakes.
//!
//! Static jobs follow YACE's GetMetricStatistics semantics on top of GetMetricData (cheaper,
//! batchable): the window is `[now - length, now)` with no rounding, the newest datapoint wins,
//! except `Average`, which is the mean of every datapoint in the window, and a metric without
//! datapoints has no series at all. With `addCloudwatchTimestamp` the value carries the newest
//! datapoint's timestamp; `exportAllDataPoints` does not apply (YACE applies it to GetMetricData
//! jobs only).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::Error;
use crate::cloudwatch::{CloudWatch, Datapoint, Query, Window};
use crate::config::{Metric, StaticJob};
use crate::labels::{Interner, Labels};
use crate::naming;

/// One sample to expose: a gauge, as every YACE series is. Its name and labels are shared with
/// the job's other series ([`Interner`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: Arc<str>,
    pub labels: Labels,
    pub value: f64,
    /// The CloudWatch datapoint's time, with `addCloudwatchTimestamp`; otherwise none, and
    /// Prometheus stamps the sample with its scrape time.
    pub timestamp: Option<SystemTime>,
}

/// Where a job runs and how its labels are spelled.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    /// The account's first IAM alias; no `account_alias` label when there is none.
    pub account_alias: Option<&'a str>,
    /// YACE's `-labels-snake-case`.
    pub snake_case: bool,
}

/// Scrapes one static job in one region.
pub async fn static_job(
    job: &StaticJob,
    context: Context<'_>,
    cloudwatch: &impl CloudWatch,
    now: SystemTime,
) -> Result<Vec<Series>, Error> {
    // One GetMetricData call per distinct length: a call carries a single time window.
    let mut by_length: BTreeMap<u32, Vec<(&Metric, Query)>> = BTreeMap::new();
    for metric in &job.metrics {
        for statistic in &metric.statistics {
            let query = Query {
                namespace: job.namespace.clone(),
                metric: metric.name.clone(),
                dimensions: job.dimensions.clone(),
                period: metric.period,
                statistic: statistic.clone(),
            };
            by_length
                .entry(metric.length)
                .or_default()
                .push((metric, query));
        }
    }

    let mut interner = Interner::default();
    let labels = interner.labels(static_labels(job, context));
    let mut series = Vec::new();
    for (length, requests) in by_length {
        let queries: Vec<Query> = requests.iter().map(|(_, query)| query.clone()).collect();
        let window = Window {
            start: now - Duration::from_secs(length.into()),
            end: now,
        };
        let answers = cloudwatch.get_metric_data(&queries, window).await?;
        for ((metric, query), points) in requests.iter().zip(answers) {
            if let Some(value) = static_value(&query.statistic, &points) {
                let name = naming::metric_name(&query.namespace, &query.metric, &query.statistic);
                series.push(Series {
                    name: interner.text(&name),
                    labels: labels.clone(),
                    value,
                    timestamp: points
                        .first()
                        .filter(|_| metric.add_cloudwatch_timestamp)
                        .map(|newest| newest.timestamp),
                });
            }
        }
    }
    Ok(series)
}

/// The value YACE's static jobs report for `statistic`, given datapoints newest first.
fn static_value(statistic: &str, points: &[Datapoint]) -> Option<f64> {
    if statistic == "Average" && !points.is_empty() {
        let sum: f64 = points.iter().map(|point| point.value).sum();
        return Some(sum / points.len() as f64);
    }
    points.first().map(|point| point.value)
}

fn static_labels(job: &StaticJob, context: Context<'_>) -> Vec<(String, String)> {
    let mut labels = vec![("name".to_owned(), job.name.clone())];
    let dimensions = job.dimensions.iter().filter_map(|(name, value)| {
        Some((
            naming::dimension_label(name, context.snake_case)?,
            value.clone(),
        ))
    });
    labels.extend(dimensions);
    labels.extend(context_labels(context, &job.custom_tags));
    labels
}

/// The labels every series of a job carries: `region`, `account_id`, `account_alias` when the
/// account has one, and `custom_tag_*`.
pub fn context_labels(
    context: Context<'_>,
    custom_tags: &[(String, String)],
) -> Vec<(String, String)> {
    let mut labels = vec![
        ("region".to_owned(), context.region.to_owned()),
        ("account_id".to_owned(), context.account_id.to_owned()),
    ];
    if let Some(alias) = context.account_alias {
        labels.push(("account_alias".to_owned(), alias.to_owned()));
    }
    labels.extend(custom_tags.iter().filter_map(|(key, value)| {
        Some((
            naming::custom_tag_label(key, context.snake_case)?,
            value.clone(),
        ))
    }));
    labels
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::cloudwatch::fake::FakeCloudWatch;
    use crate::config::Role;

    fn lambda_job() -> StaticJob {
        let metric = |name: &str, statistics: &[&str], length| Metric {
            name: name.into(),
            statistics: statistics.iter().map(|s| s.to_string()).collect(),
            period: 60,
            length,
            delay: 0,
            nil_to_zero: false,
            add_cloudwatch_timestamp: false,
            export_all_data_points: false,
        };
        StaticJob {
            name: "image-processor".into(),
            namespace: "AWS/Lambda".into(),
            regions: vec!["eu-west-1".into()],
            roles: vec![Role::default()],
            custom_tags: vec![("team".into(), "media".into())],
            dimensions: vec![(
                "FunctionName".into(),
                "image-processor-dev-processor".into(),
            )],
            metrics: vec![
                metric("Invocations", &["Sum"], 60),
                metric("Duration", &["Average", "Maximum"], 180),
                metric("Errors", &["Minimum"], 60),
            ],
        }
    }

    const CONTEXT: Context = Context {
        region: "eu-west-1",
        account_id: "123456789012",
        account_alias: None,
        snake_case: false,
    };

    #[tokio::test]
    async fn static_series_carry_yace_names_and_labels() {
        let fake = FakeCloudWatch {
            values: vec![
                ("Sum", vec![7.0, 3.0]),
                ("Average", vec![100.0, 200.0, 600.0]),
                ("Maximum", vec![250.0, 900.0]),
            ],
            ..FakeCloudWatch::default()
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let series = static_job(&lambda_job(), CONTEXT, &fake, now)
            .await
            .unwrap();

        let labels: Labels = [
            ("name", "image-processor"),
            ("dimension_FunctionName", "image-processor-dev-processor"),
            ("region", "eu-west-1"),
            ("account_id", "123456789012"),
            ("custom_tag_team", "media"),
        ]
        .into_iter()
        .collect();
        let got: Vec<(&str, f64)> = series.iter().map(|s| (&*s.name, s.value)).collect();
        // Newest datapoint, except Average: the mean of the window. Errors has no datapoints
        // and so no series.
        assert_eq!(
            got,
            [
                ("aws_lambda_invocations_sum", 7.0),
                ("aws_lambda_duration_average", 300.0),
                ("aws_lambda_duration_maximum", 250.0),
            ]
        );
        assert!(series.iter().all(|s| s.labels == labels));

        // One call per distinct length, each window ending now and reaching back `length`.
        let calls = fake.windows.lock().unwrap();
        let windows: Vec<(usize, u64)> = calls
            .iter()
            .map(|(count, w)| (*count, w.end.duration_since(w.start).unwrap().as_secs()))
            .collect();
        assert_eq!(windows, [(2, 60), (2, 180)]);
        assert!(calls.iter().all(|(_, w)| w.end == now));
    }

    #[tokio::test]
    async fn snake_case_labels_apply_to_dimensions_and_tags() {
        let fake = FakeCloudWatch {
            values: vec![("Sum", vec![1.0])],
            ..FakeCloudWatch::default()
        };
        let context = Context {
            snake_case: true,
            ..CONTEXT
        };
        let series = static_job(&lambda_job(), context, &fake, SystemTime::now())
            .await
            .unwrap();
        let names: Vec<&str> = series[0].labels.iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "name",
                "dimension_function_name",
                "region",
                "account_id",
                "custom_tag_team"
            ]
        );
    }

    #[tokio::test]
    async fn static_timestamps_are_the_newest_datapoints_and_all_data_points_do_not_apply() {
        let fake = FakeCloudWatch {
            values: vec![
                ("Sum", vec![7.0, 3.0]),
                ("Average", vec![100.0, 200.0, 600.0]),
                ("Maximum", vec![250.0, 900.0]),
            ],
            ..FakeCloudWatch::default()
        };
        let mut job = lambda_job();
        for metric in &mut job.metrics[1..] {
            metric.add_cloudwatch_timestamp = true;
            metric.export_all_data_points = true;
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let series = static_job(&job, CONTEXT, &fake, now).await.unwrap();
        let got: Vec<(&str, f64, Option<SystemTime>)> = series
            .iter()
            .map(|s| (&*s.name, s.value, s.timestamp))
            .collect();
        // The fake's newest datapoint starts a minute before the window's end, `now`. Average
        // stays the mean of the window, stamped with its newest datapoint's time.
        let newest = now - Duration::from_secs(60);
        assert_eq!(
            got,
            [
                ("aws_lambda_invocations_sum", 7.0, None),
                ("aws_lambda_duration_average", 300.0, Some(newest)),
                ("aws_lambda_duration_maximum", 250.0, Some(newest)),
            ]
        );
    }
}
