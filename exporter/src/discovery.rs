//! Discovery and custom-namespace jobs, YACE's way: find the job's tagged resources (discovery
//! only), list its metrics, keep those that belong to a resource or to no resource, and fetch
//! them with GetMetricData over windows aligned to each metric's period. AWS is reached only
//! through the [`CloudWatch`], [`Tagging`] and [`ApiGateway`] traits, so every rule here is
//! tested with fakes.
//!
//! Values follow YACE's GetMetricData semantics: the newest datapoint of the window, and for a
//! metric CloudWatch lists but has no datapoint for in the window, `NaN`, or 0 with `nilToZero`.
//! With `addCloudwatchTimestamp` a sample carries its datapoint's time and a metric without
//! datapoint has no sample; `exportAllDataPoints` exposes every datapoint of the window.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::apigateway::{self, ApiGateway};
use crate::associator::{Association, Associator, Resource};
use crate::cloudwatch::{CloudWatch, Datapoint, Query, Window};
use crate::config::{CustomNamespaceJob, DiscoveryJob, Metric};
use crate::labels::{Interner, Labels};
use crate::naming;
use crate::scrape::{Context, Series, context_labels};
use crate::services;
use crate::tagging::Tagging;

/// YACE's window for a metric: `t` is now floored to the period, and the window reaches
/// `length` back from `t - delay`. Whole periods only, so every datapoint is complete.
pub fn window(now: SystemTime, period: u32, length: u32, delay: u32) -> Window {
    let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let floored = UNIX_EPOCH + Duration::from_secs(seconds - seconds % u64::from(period.max(1)));
    let end = floored - Duration::from_secs(delay.into());
    Window {
        start: end - Duration::from_secs(length.into()),
        end,
    }
}

/// One statistic of one listed metric, with the labels its series will carry.
struct Request<'a> {
    query: Query,
    metric: &'a Metric,
    labels: Labels,
}

/// Scrapes one discovery job in one region. `api_gateway` is asked only by `AWS/ApiGateway`
/// jobs.
pub async fn discovery_job(
    job: &DiscoveryJob,
    context: Context<'_>,
    cloudwatch: &impl CloudWatch,
    tagging: &impl Tagging,
    api_gateway: &impl ApiGateway,
    now: SystemTime,
) -> Result<Vec<Series>, Error> {
    let Some(service) = services::by_namespace(&job.namespace) else {
        return Ok(Vec::new());
    };
    let tag_keys: Vec<String> = job.search_tags.iter().map(|(key, _)| key.clone()).collect();
    let found = tagging
        .get_resources(service.resource_filters, &tag_keys)
        .await?;
    // Returned but left out by the search tags' values: skipped even with `includeUntagged`.
    let (mut resources, mut unselected): (Vec<Resource>, Vec<Resource>) = found
        .into_iter()
        .partition(|resource| matches_search_tags(resource, &job.search_tags));
    if job.namespace == apigateway::NAMESPACE {
        // As YACE: after the search tags, and even when no resource is left.
        let rest_apis = api_gateway.rest_apis().await?;
        let http_apis = api_gateway.http_apis().await?;
        resources = apigateway::api_resources(resources, &rest_apis, &http_apis);
        unselected = apigateway::api_resources(unselected, &rest_apis, &http_apis);
    }
    if resources.is_empty() && !service.resource_filters.is_empty() && !job.include_untagged {
        tracing::warn!(namespace = %job.namespace, region = context.region, "no tagged resource matched the job; it yields no series");
        return Ok(Vec::new());
    }

    let owners = Owners {
        service,
        selected: Associator::new(service.dimension_regexes(), &resources),
        unselected: Associator::new(service.dimension_regexes(), &unselected),
        include_untagged: job.include_untagged,
    };
    // Every metric of a resource is listed on its own; the interner makes their label sets one.
    let mut interner = Interner::default();
    let mut requests = Vec::new();
    for metric in &job.metrics {
        let listed = cloudwatch
            .list_metrics(&job.namespace, &metric.name, job.recently_active_only)
            .await?;
        for dimensions in listed {
            if !meets_requirements(&dimensions, &job.dimension_name_requirements) {
                continue;
            }
            let (name, tags) = match owners.owner(&dimensions, context) {
                Owner::Skip => continue,
                Owner::Global => ("global".to_owned(), Vec::new()),
                Owner::Tagged(resource) => (
                    resource.arn.clone(),
                    exported_tags(resource, &job.exported_tags, context.snake_case),
                ),
                Owner::Untagged(arn) => {
                    let untagged = Resource {
                        arn,
                        tags: Vec::new(),
                    };
                    let tags = exported_tags(&untagged, &job.exported_tags, context.snake_case);
                    (untagged.arn, tags)
                }
            };
            let mut labels = series_labels(&name, &dimensions, context, &job.custom_tags);
            labels.extend(tags);
            let labels = interner.labels(labels);
            requests.extend(requests_for(&job.namespace, metric, &dimensions, &labels));
        }
    }

    let mut series = fetch(requests, cloudwatch, now, &mut interner).await?;
    if !series.is_empty() {
        series.extend(info_series(job, &resources, context, &mut interner));
    }
    Ok(series)
}

/// Scrapes one custom-namespace job in one region: every listed metric is kept, named after
/// the job.
pub async fn custom_namespace_job(
    job: &CustomNamespaceJob,
    context: Context<'_>,
    cloudwatch: &impl CloudWatch,
    now: SystemTime,
) -> Result<Vec<Series>, Error> {
    let mut interner = Interner::default();
    let mut requests = Vec::new();
    for metric in &job.metrics {
        let listed = cloudwatch
            .list_metrics(&job.namespace, &metric.name, job.recently_active_only)
            .await?;
        for dimensions in listed {
            if meets_requirements(&dimensions, &job.dimension_name_requirements) {
                let labels = series_labels(&job.name, &dimensions, context, &job.custom_tags);
                let labels = interner.labels(labels);
                requests.extend(requests_for(&job.namespace, metric, &dimensions, &labels));
            }
        }
    }
    fetch(requests, cloudwatch, now, &mut interner).await
}

/// Whose a listed metric is.
enum Owner<'a> {
    /// A resource the job selected: its ARN and tags.
    Tagged(&'a Resource),
    /// A resource the tagging API did not return, by the ARN its dimensions spell
    /// (`includeUntagged`).
    Untagged(String),
    /// No resource's: `name="global"`.
    Global,
    /// A resource's that the job does not keep.
    Skip,
}

/// YACE's association, and with `includeUntagged` a name for what it would skip.
struct Owners<'a> {
    service: &'static services::Service,
    selected: Associator<'a>,
    /// Resources the API returned but the search tags left out.
    unselected: Associator<'a>,
    include_untagged: bool,
}

impl<'a> Owners<'a> {
    fn owner(&self, dimensions: &[(String, String)], context: Context<'_>) -> Owner<'a> {
        let association = self.selected.associate(dimensions);
        if let Association::Resource(resource) = association {
            return Owner::Tagged(resource);
        }
        if self.include_untagged {
            // A metric without a selected resource may still belong to a returned one (the
            // association of an empty list is global): that one was left out on purpose.
            if let Association::Resource(_) = self.unselected.associate(dimensions) {
                return Owner::Skip;
            }
            let arn =
                self.service
                    .arn_from_dimensions(dimensions, context.region, context.account_id);
            if let Some(arn) = arn {
                return Owner::Untagged(arn);
            }
        }
        match association {
            Association::Global => Owner::Global,
            _ => Owner::Skip,
        }
    }
}

/// Every search tag's key is on the resource with a value its pattern matches (unanchored).
fn matches_search_tags(resource: &Resource, search_tags: &[(String, regex::Regex)]) -> bool {
    search_tags.iter().all(|(key, pattern)| {
        resource
            .tags
            .iter()
            .any(|(tag, value)| tag == key && pattern.is_match(value))
    })
}

/// `dimensionNameRequirements`: when set, the metric's dimension names must be exactly these.
fn meets_requirements(dimensions: &[(String, String)], required: &[String]) -> bool {
    if required.is_empty() {
        return true;
    }
    let mut names: Vec<&str> = dimensions.iter().map(|(name, _)| name.as_str()).collect();
    let mut required: Vec<&str> = required.iter().map(String::as_str).collect();
    names.sort_unstable();
    required.sort_unstable();
    names == required
}

/// `name`, the context labels, one `dimension_*` per dimension and the job's custom tags.
fn series_labels(
    name: &str,
    dimensions: &[(String, String)],
    context: Context<'_>,
    custom_tags: &[(String, String)],
) -> Vec<(String, String)> {
    let mut labels = vec![("name".to_owned(), name.to_owned())];
    labels.extend(dimensions.iter().filter_map(|(dimension, value)| {
        Some((
            naming::dimension_label(dimension, context.snake_case)?,
            value.clone(),
        ))
    }));
    labels.extend(context_labels(context, custom_tags));
    labels
}

/// `tag_<key>` for each exported tag key, `""` where the resource lacks the tag.
fn exported_tags(
    resource: &Resource,
    exported: &[String],
    snake_case: bool,
) -> Vec<(String, String)> {
    exported
        .iter()
        .filter_map(|key| {
            let value = resource
                .tags
                .iter()
                .find(|(tag, _)| tag == key)
                .map(|(_, value)| value.clone())
                .unwrap_or_default();
            Some((naming::tag_label(key, snake_case)?, value))
        })
        .collect()
}

fn requests_for<'a>(
    namespace: &str,
    metric: &'a Metric,
    dimensions: &[(String, String)],
    labels: &Labels,
) -> impl Iterator<Item = Request<'a>> {
    let (namespace, dimensions, labels) =
        (namespace.to_owned(), dimensions.to_vec(), labels.clone());
    metric.statistics.iter().map(move |statistic| Request {
        query: Query {
            namespace: namespace.clone(),
            metric: metric.name.clone(),
            dimensions: dimensions.clone(),
            period: metric.period,
            statistic: statistic.clone(),
        },
        metric,
        labels: labels.clone(),
    })
}

/// Fetches every request, one GetMetricData call (batched by the adapter) per (period, delay)
/// group over the group's longest length, as YACE groups them.
async fn fetch(
    requests: Vec<Request<'_>>,
    cloudwatch: &impl CloudWatch,
    now: SystemTime,
    interner: &mut Interner,
) -> Result<Vec<Series>, Error> {
    let mut groups: BTreeMap<(u32, u32), Vec<Request>> = BTreeMap::new();
    for request in requests {
        let key = (request.metric.period, request.metric.delay);
        groups.entry(key).or_default().push(request);
    }
    let mut series = Vec::new();
    for ((period, delay), group) in groups {
        let length = group
            .iter()
            .map(|r| r.metric.length)
            .max()
            .unwrap_or(period);
        let queries: Vec<Query> = group.iter().map(|r| r.query.clone()).collect();
        let answers = cloudwatch
            .get_metric_data(&queries, window(now, period, length, delay))
            .await?;
        for (request, points) in group.into_iter().zip(answers) {
            let name = interner.text(&naming::metric_name(
                &request.query.namespace,
                &request.query.metric,
                &request.query.statistic,
            ));
            series.extend(samples(request.metric, &points).into_iter().map(
                |(value, timestamp)| Series {
                    name: name.clone(),
                    labels: request.labels.clone(),
                    value,
                    timestamp,
                },
            ));
        }
    }
    Ok(series)
}

/// The samples of one query's answer (datapoints newest first), as YACE migrates them: the
/// newest value, or `NaN` (0 with `nilToZero`) without one; with `addCloudwatchTimestamp`, the
/// newest datapoint with its time, or nothing at all without one, since a made-up time would
/// clash with the real ones to come; `exportAllDataPoints` keeps every datapoint.
fn samples(metric: &Metric, points: &[Datapoint]) -> Vec<(f64, Option<SystemTime>)> {
    if !metric.add_cloudwatch_timestamp {
        let value = match points.first() {
            Some(point) => point.value,
            None if metric.nil_to_zero => 0.0,
            None => f64::NAN,
        };
        return vec![(value, None)];
    }
    let kept = if metric.export_all_data_points {
        points.len()
    } else {
        1
    };
    points
        .iter()
        .take(kept)
        .map(|point| (point.value, Some(point.timestamp)))
        .collect()
}

/// `aws_<namespace>_info`, value 0, for every resource of the job: its ARN and all its tags,
/// plus the context labels when the job asks for them.
fn info_series(
    job: &DiscoveryJob,
    resources: &[Resource],
    context: Context<'_>,
    interner: &mut Interner,
) -> Vec<Series> {
    let name = interner.text(&naming::metric_name(&job.namespace, "info", ""));
    resources
        .iter()
        .map(|resource| {
            let mut labels = vec![("name".to_owned(), resource.arn.clone())];
            labels.extend(resource.tags.iter().filter_map(|(key, value)| {
                Some((naming::tag_label(key, context.snake_case)?, value.clone()))
            }));
            if job.include_context_on_info_metrics {
                labels.extend(context_labels(context, &job.custom_tags));
            }
            Series {
                name: name.clone(),
                labels: interner.labels(labels),
                value: 0.0,
                timestamp: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::cloudwatch::fake::FakeCloudWatch;
    use crate::config::Role;

    fn at(rfc3339_utc: &str) -> SystemTime {
        // "YYYY-MM-DDTHH:MM:SS" in UTC, enough for the reference's examples.
        let digits: Vec<u64> = rfc3339_utc
            .split(|c: char| !c.is_ascii_digit())
            .map(|part| part.parse().unwrap())
            .collect();
        let (y, m, d) = (digits[0], digits[1], digits[2]);
        // Days from the civil date (Howard Hinnant's algorithm).
        let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y / 400;
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        UNIX_EPOCH
            + Duration::from_secs(days * 86_400 + digits[3] * 3600 + digits[4] * 60 + digits[5])
    }

    #[test]
    fn the_window_is_floored_to_the_period_and_shifted_by_the_delay() {
        let w = window(at("2021-11-20T00:00:00"), 120, 120, 120);
        assert_eq!(
            (w.start, w.end),
            (at("2021-11-19T23:56:00"), at("2021-11-19T23:58:00"))
        );
        let w = window(at("2021-11-20T08:33:44"), 86_400, 172_800, 0);
        assert_eq!(
            (w.start, w.end),
            (at("2021-11-18T00:00:00"), at("2021-11-20T00:00:00"))
        );
        let w = window(at("2021-11-20T08:33:44"), 300, 172_800, 0);
        assert_eq!(
            (w.start, w.end),
            (at("2021-11-18T08:30:00"), at("2021-11-20T08:30:00"))
        );
    }

    struct FakeTagging(Vec<Resource>);

    impl Tagging for FakeTagging {
        async fn get_resources(
            &self,
            _resource_types: &[&str],
            _tag_keys: &[String],
        ) -> Result<Vec<Resource>, Error> {
            Ok(self.0.clone())
        }
    }

    /// Knows the given REST APIs, as `(id, name)`, and HTTP API ids.
    struct FakeApiGateway {
        rest: Vec<(String, String)>,
        http: Vec<String>,
    }

    impl ApiGateway for FakeApiGateway {
        async fn rest_apis(&self) -> Result<Vec<(String, String)>, Error> {
            Ok(self.rest.clone())
        }

        async fn http_apis(&self) -> Result<Vec<String>, Error> {
            Ok(self.http.clone())
        }
    }

    /// For jobs of other namespaces, which must never ask API Gateway.
    struct NoApis;

    impl ApiGateway for NoApis {
        async fn rest_apis(&self) -> Result<Vec<(String, String)>, Error> {
            panic!("GetRestApis asked for a job that is not AWS/ApiGateway")
        }

        async fn http_apis(&self) -> Result<Vec<String>, Error> {
            panic!("GetApis asked for a job that is not AWS/ApiGateway")
        }
    }

    const FUNCTION: &str = "arn:aws:lambda:eu-west-1:123456789012:function:resize";

    fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn metric(name: &str, statistics: &[&str]) -> Metric {
        Metric {
            name: name.into(),
            statistics: statistics.iter().map(|s| s.to_string()).collect(),
            period: 60,
            length: 300,
            delay: 0,
            nil_to_zero: false,
            add_cloudwatch_timestamp: false,
            export_all_data_points: false,
        }
    }

    fn lambda_job() -> DiscoveryJob {
        DiscoveryJob {
            namespace: "AWS/Lambda".into(),
            regions: vec!["eu-west-1".into()],
            roles: vec![Role::default()],
            search_tags: vec![("env".into(), regex::Regex::new("^prod$").unwrap())],
            custom_tags: vec![("team".into(), "media".into())],
            dimension_name_requirements: Vec::new(),
            recently_active_only: false,
            include_context_on_info_metrics: false,
            include_untagged: false,
            exported_tags: vec!["env".into(), "owner".into()],
            metrics: vec![metric("Invocations", &["Sum"])],
        }
    }

    fn resources() -> Vec<Resource> {
        vec![
            Resource {
                arn: FUNCTION.into(),
                tags: dims(&[("env", "prod"), ("Team Name", "media")]),
            },
            Resource {
                arn: "arn:aws:lambda:eu-west-1:123456789012:function:staging".into(),
                tags: dims(&[("env", "staging")]),
            },
        ]
    }

    const CONTEXT: Context = Context {
        region: "eu-west-1",
        account_id: "123456789012",
        account_alias: None,
        snake_case: false,
    };

    fn find<'a>(series: &'a [Series], name: &str, label: (&str, &str)) -> Option<&'a Series> {
        series.iter().find(|s| {
            &*s.name == name && s.labels.iter().any(|(k, v)| k == label.0 && v == label.1)
        })
    }

    #[tokio::test]
    async fn discovered_metrics_carry_resource_tags_context_and_info_series() {
        let cloudwatch = FakeCloudWatch {
            listed: vec![
                dims(&[("FunctionName", "resize")]),
                dims(&[("FunctionName", "resize"), ("Resource", "resize")]),
                dims(&[]),
                dims(&[("FunctionName", "staging")]),
            ],
            values: vec![("Sum", vec![7.0, 3.0])],
            windows: Mutex::default(),
        };
        let series = discovery_job(
            &lambda_job(),
            CONTEXT,
            &cloudwatch,
            &FakeTagging(resources()),
            &NoApis,
            SystemTime::now(),
        )
        .await
        .unwrap();

        let invocations: Vec<&Series> = series
            .iter()
            .filter(|s| &*s.name == "aws_lambda_invocations_sum")
            .collect();
        // The staging function is filtered out by the search tag, so its metric matches no
        // resource and is skipped; the account-level metric is global.
        assert_eq!(invocations.len(), 3, "{invocations:#?}");
        let resize = find(&series, "aws_lambda_invocations_sum", ("name", FUNCTION)).unwrap();
        assert_eq!(resize.value, 7.0);
        let labels: BTreeMap<&str, &str> = resize.labels.iter().collect();
        assert_eq!(
            labels,
            BTreeMap::from([
                ("name", FUNCTION),
                ("dimension_FunctionName", "resize"),
                ("region", "eu-west-1"),
                ("account_id", "123456789012"),
                ("custom_tag_team", "media"),
                ("tag_env", "prod"),
                ("tag_owner", ""),
            ])
        );
        assert!(find(&series, "aws_lambda_invocations_sum", ("name", "global")).is_some());

        let info = find(&series, "aws_lambda_info", ("name", FUNCTION)).unwrap();
        assert_eq!(info.value, 0.0);
        assert_eq!(
            info.labels.iter().collect::<Vec<_>>(),
            [
                ("name", FUNCTION),
                ("tag_env", "prod"),
                ("tag_Team_Name", "media")
            ]
        );
    }

    #[tokio::test]
    async fn include_untagged_names_metrics_of_unreturned_resources_by_their_arn() {
        let listed = vec![
            dims(&[("FunctionName", "resize")]),
            dims(&[("FunctionName", "untagged"), ("Resource", "untagged")]),
            dims(&[("FunctionName", "staging")]),
            dims(&[]),
        ];
        let scrape = |include_untagged: bool, resources: Vec<Resource>| {
            let listed = listed.clone();
            async move {
                let mut job = lambda_job();
                job.include_untagged = include_untagged;
                let cloudwatch = FakeCloudWatch {
                    listed,
                    values: vec![("Sum", vec![2.0])],
                    windows: Mutex::default(),
                };
                let series = discovery_job(
                    &job,
                    CONTEXT,
                    &cloudwatch,
                    &FakeTagging(resources),
                    &NoApis,
                    SystemTime::now(),
                )
                .await
                .unwrap();
                let mut names: Vec<String> = series
                    .iter()
                    .filter(|s| &*s.name == "aws_lambda_invocations_sum")
                    .map(|s| s.labels.get("name").unwrap().to_owned())
                    .collect();
                names.sort();
                names
            }
        };
        let untagged = "arn:aws:lambda:eu-west-1:123456789012:function:untagged";
        // YACE's way: the untagged function's metric is skipped.
        assert_eq!(scrape(false, resources()).await, [FUNCTION, "global"]);
        // Kept under its ARN; the staging function was returned and left out by the search
        // tags, so it stays skipped.
        assert_eq!(
            scrape(true, resources()).await,
            [FUNCTION, untagged, "global"]
        );
        // Even with no tagged resource at all, where YACE yields nothing.
        assert!(scrape(false, Vec::new()).await.is_empty());
        let mut all = vec![
            "arn:aws:lambda:eu-west-1:123456789012:function:resize".to_owned(),
            "arn:aws:lambda:eu-west-1:123456789012:function:staging".to_owned(),
            untagged.to_owned(),
            "global".to_owned(),
        ];
        all.sort();
        assert_eq!(scrape(true, Vec::new()).await, all);
    }

    #[tokio::test]
    async fn missing_datapoints_are_nan_or_zero_with_nil_to_zero() {
        let mut job = lambda_job();
        job.metrics = vec![metric("Errors", &["Sum"]), {
            let mut throttles = metric("Throttles", &["Sum"]);
            throttles.nil_to_zero = true;
            throttles
        }];
        let cloudwatch = FakeCloudWatch {
            listed: vec![dims(&[("FunctionName", "resize")])],
            values: Vec::new(),
            windows: Mutex::default(),
        };
        let series = discovery_job(
            &job,
            CONTEXT,
            &cloudwatch,
            &FakeTagging(resources()),
            &NoApis,
            SystemTime::now(),
        )
        .await
        .unwrap();
        assert!(
            find(&series, "aws_lambda_errors_sum", ("name", FUNCTION))
                .unwrap()
                .value
                .is_nan()
        );
        assert_eq!(
            find(&series, "aws_lambda_throttles_sum", ("name", FUNCTION))
                .unwrap()
                .value,
            0.0
        );
    }

    #[tokio::test]
    async fn requests_are_grouped_by_period_and_delay_over_the_longest_length() {
        let mut job = lambda_job();
        let mut long = metric("Duration", &["Average", "Maximum"]);
        long.length = 600;
        let mut daily = metric("ConcurrentExecutions", &["Maximum"]);
        daily.period = 86_400;
        daily.length = 86_400;
        job.metrics = vec![metric("Invocations", &["Sum"]), long, daily];
        let cloudwatch = FakeCloudWatch {
            listed: vec![dims(&[("FunctionName", "resize")])],
            values: vec![("Sum", vec![1.0])],
            windows: Mutex::default(),
        };
        discovery_job(
            &job,
            CONTEXT,
            &cloudwatch,
            &FakeTagging(resources()),
            &NoApis,
            SystemTime::now(),
        )
        .await
        .unwrap();
        let windows = cloudwatch.windows.lock().unwrap();
        let shapes: Vec<(usize, u64)> = windows
            .iter()
            .map(|(count, w)| (*count, w.end.duration_since(w.start).unwrap().as_secs()))
            .collect();
        assert_eq!(shapes, [(3, 600), (1, 86_400)]);
    }

    #[tokio::test]
    async fn dimension_name_requirements_keep_only_exact_name_sets() {
        let mut job = lambda_job();
        job.dimension_name_requirements = vec!["FunctionName".into()];
        let cloudwatch = FakeCloudWatch {
            listed: vec![
                dims(&[("FunctionName", "resize")]),
                dims(&[("Resource", "resize"), ("FunctionName", "resize")]),
                dims(&[]),
            ],
            values: vec![("Sum", vec![1.0])],
            windows: Mutex::default(),
        };
        let series = discovery_job(
            &job,
            CONTEXT,
            &cloudwatch,
            &FakeTagging(resources()),
            &NoApis,
            SystemTime::now(),
        )
        .await
        .unwrap();
        let invocations = series
            .iter()
            .filter(|s| &*s.name == "aws_lambda_invocations_sum")
            .count();
        assert_eq!(invocations, 1);
    }

    #[tokio::test]
    async fn a_job_without_matching_resources_yields_nothing_not_even_info() {
        let cloudwatch = FakeCloudWatch {
            listed: vec![dims(&[])],
            values: vec![("Sum", vec![1.0])],
            windows: Mutex::default(),
        };
        let series = discovery_job(
            &lambda_job(),
            CONTEXT,
            &cloudwatch,
            &FakeTagging(Vec::new()),
            &NoApis,
            SystemTime::now(),
        )
        .await
        .unwrap();
        assert!(series.is_empty());
        assert!(cloudwatch.windows.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn api_gateway_metrics_belong_to_their_api_found_by_name_for_v1_and_by_id_for_v2() {
        let gateway = |path: &str| format!("arn:aws:apigateway:eu-west-1::/{path}");
        let tagged = |path: &str, env: &str| Resource {
            arn: gateway(path),
            tags: dims(&[("env", env)]),
        };
        let tagging = FakeTagging(vec![
            tagged("restapis/a1b2c3d4e5", "prod"),
            tagged("restapis/a1b2c3d4e5/stages/prod", "prod"),
            tagged("apis/q1w2e3r4", "prod"),
            tagged("domainnames/api.example.com", "prod"),
            tagged("restapis/s7a8g9i0n1", "staging"),
        ]);
        let api_gateway = FakeApiGateway {
            rest: vec![
                ("a1b2c3d4e5".into(), "images-api".into()),
                ("s7a8g9i0n1".into(), "staging-api".into()),
            ],
            http: vec!["q1w2e3r4".into()],
        };
        let cloudwatch = FakeCloudWatch {
            listed: vec![
                dims(&[("ApiName", "images-api")]),
                dims(&[("ApiName", "images-api"), ("Stage", "prod")]),
                dims(&[("ApiId", "q1w2e3r4")]),
                dims(&[("ApiId", "q1w2e3r4"), ("Stage", "$default")]),
                // v1 metrics never carry the id, and the staging API is not searched for.
                dims(&[("ApiName", "a1b2c3d4e5")]),
                dims(&[("ApiName", "staging-api")]),
            ],
            values: vec![("Sum", vec![5.0])],
            windows: Mutex::default(),
        };
        let mut job = lambda_job();
        job.namespace = "AWS/ApiGateway".into();
        job.exported_tags = Vec::new();
        job.metrics = vec![metric("Count", &["Sum"])];

        let series = discovery_job(
            &job,
            CONTEXT,
            &cloudwatch,
            &tagging,
            &api_gateway,
            SystemTime::now(),
        )
        .await
        .unwrap();
        let named = |name: &str| -> Vec<Vec<(String, String)>> {
            series
                .iter()
                .filter(|s| &*s.name == name)
                .map(|s| {
                    s.labels
                        .iter()
                        .filter(|(k, _)| *k == "name" || k.starts_with("dimension_"))
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect()
                })
                .collect()
        };
        let v1 = gateway("restapis/images-api");
        let v2 = gateway("apis/q1w2e3r4");
        assert_eq!(
            named("aws_apigateway_count_sum"),
            [
                dims(&[("name", &v1), ("dimension_ApiName", "images-api")]),
                dims(&[
                    ("name", &v1),
                    ("dimension_ApiName", "images-api"),
                    ("dimension_Stage", "prod")
                ]),
                dims(&[("name", &v2), ("dimension_ApiId", "q1w2e3r4")]),
                dims(&[
                    ("name", &v2),
                    ("dimension_ApiId", "q1w2e3r4"),
                    ("dimension_Stage", "$default")
                ]),
            ]
        );
        assert_eq!(
            named("aws_apigateway_info"),
            [dims(&[("name", &v1)]), dims(&[("name", &v2)])]
        );
    }

    #[tokio::test]
    async fn custom_namespace_series_are_named_after_the_job() {
        let job = CustomNamespaceJob {
            name: "app".into(),
            namespace: "MyApp".into(),
            regions: vec!["eu-west-1".into()],
            roles: vec![Role::default()],
            custom_tags: Vec::new(),
            dimension_name_requirements: Vec::new(),
            recently_active_only: false,
            metrics: vec![metric("Latency", &["Average"])],
        };
        let cloudwatch = FakeCloudWatch {
            listed: vec![dims(&[("Host", "a")]), dims(&[("Host", "b")])],
            values: vec![("Average", vec![12.5])],
            windows: Mutex::default(),
        };
        let series = custom_namespace_job(&job, CONTEXT, &cloudwatch, SystemTime::now())
            .await
            .unwrap();
        assert_eq!(series.len(), 2);
        assert!(
            series
                .iter()
                .all(|s| &*s.name == "aws_myapp_latency_average" && s.value == 12.5)
        );
        assert!(
            find(
                &series,
                "aws_myapp_latency_average",
                ("dimension_Host", "b")
            )
            .is_some()
        );
        assert!(
            series
                .iter()
                .all(|s| s.labels.iter().next() == Some(("name", "app")))
        );
    }

    fn timestamped(mut metric: Metric, all: bool) -> Metric {
        metric.add_cloudwatch_timestamp = true;
        metric.export_all_data_points = all;
        metric
    }

    async fn scrape_resize(
        job: &DiscoveryJob,
        values: Vec<(&'static str, Vec<f64>)>,
    ) -> Vec<Series> {
        let cloudwatch = FakeCloudWatch {
            listed: vec![dims(&[("FunctionName", "resize")])],
            values,
            windows: Mutex::default(),
        };
        discovery_job(
            job,
            CONTEXT,
            &cloudwatch,
            &FakeTagging(resources()),
            &NoApis,
            at("2030-01-01T00:10:30"),
        )
        .await
        .unwrap()
    }

    fn points(series: &[Series], name: &str) -> Vec<(f64, Option<SystemTime>)> {
        series
            .iter()
            .filter(|s| &*s.name == name)
            .map(|s| (s.value, s.timestamp))
            .collect()
    }

    #[tokio::test]
    async fn with_timestamps_the_newest_datapoint_carries_its_time() {
        let mut job = lambda_job();
        job.metrics = vec![
            timestamped(metric("Invocations", &["Sum"]), false),
            metric("Errors", &["Sum"]),
        ];
        let series = scrape_resize(&job, vec![("Sum", vec![7.0, 3.0])]).await;
        assert_eq!(
            points(&series, "aws_lambda_invocations_sum"),
            [(7.0, Some(at("2030-01-01T00:09:00")))]
        );
        // Without the option: the newest value, no timestamp.
        assert_eq!(points(&series, "aws_lambda_errors_sum"), [(7.0, None)]);
    }

    #[tokio::test]
    async fn with_timestamps_a_metric_without_datapoints_has_no_sample_even_with_nil_to_zero() {
        let mut job = lambda_job();
        let mut errors = timestamped(metric("Errors", &["Sum"]), false);
        errors.nil_to_zero = true;
        job.metrics = vec![errors, timestamped(metric("Throttles", &["Sum"]), true)];
        let series = scrape_resize(&job, Vec::new()).await;
        let cloudwatch_series: Vec<&Series> = series
            .iter()
            .filter(|s| &*s.name != "aws_lambda_info")
            .collect();
        assert!(cloudwatch_series.is_empty(), "{cloudwatch_series:#?}");
    }

    #[tokio::test]
    async fn export_all_data_points_emits_every_datapoint_newest_first() {
        let mut job = lambda_job();
        job.metrics = vec![timestamped(metric("Invocations", &["Sum"]), true)];
        let series = scrape_resize(&job, vec![("Sum", vec![7.0, 3.0, 5.0])]).await;
        assert_eq!(
            points(&series, "aws_lambda_invocations_sum"),
            [
                (7.0, Some(at("2030-01-01T00:09:00"))),
                (3.0, Some(at("2030-01-01T00:08:00"))),
                (5.0, Some(at("2030-01-01T00:07:00"))),
            ]
        );
        // One series, three samples: the same labels on each.
        let mut labels: Vec<_> = series
            .iter()
            .filter(|s| &*s.name == "aws_lambda_invocations_sum")
            .map(|s| &s.labels)
            .collect();
        labels.dedup();
        assert_eq!(labels.len(), 1);
    }
}
