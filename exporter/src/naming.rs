//! YACE's naming rules, byte for byte: how a CloudWatch namespace, metric name and statistic
//! become a Prometheus series name, and how dimension names become label names. Dashboards and
//! alerts written against YACE depend on these exact strings, quirks included.

/// What YACE writes instead of `c` in names and label names, if anything.
fn replacement(c: char) -> Option<&'static str> {
    match c {
        ' ' | ',' | '\t' | '/' | '\\' | '.' | '-' | ':' | '=' | '@' | '<' | '>' | '(' | ')'
        | '\u{201C}' => Some("_"),
        '%' => Some("_percent"),
        _ => None,
    }
}

/// YACE's `PromString`: one pass over the characters, applying [`replacement`] and
/// lowercasing, with a `_` before an upper-case letter that follows a lower-case letter or a
/// digit (`bytesRead` becomes `bytes_read`, `CPUUtilization` stays glued). The previous
/// character is the original one, so nothing is inserted after a replaced one.
///
/// Two differences from Go's Unicode tables, both outside ASCII: a digit here is any numeric
/// character (Go: decimal digits only), and a lower-case mapping may give several characters
/// (Go: always one).
pub fn prom_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if let Some(replaced) = replacement(c) {
            out.push_str(replaced);
        } else {
            if c.is_uppercase() && previous.is_some_and(|p| p.is_lowercase() || p.is_numeric()) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        }
        previous = Some(c);
    }
    out
}

/// YACE's label-name sanitizing without `-labels-snake-case`: [`replacement`] only, case kept.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            match replacement(c) {
                Some(replaced) => out.push_str(replaced),
                None => out.push(c),
            }
            out
        })
}

/// The Prometheus name of one CloudWatch metric and statistic, as YACE's `BuildMetricName`
/// makes it. An empty `statistic` gives the name without a suffix (info and enhanced metrics).
pub fn metric_name(namespace: &str, metric: &str, statistic: &str) -> String {
    // Lowercased before `prom_string`, so camel case in namespaces is not split; the one `_`
    // that a leading `/` becomes (`/aws/sagemaker/TrainingJobs`) is dropped.
    let namespace = prom_string(&namespace.to_lowercase());
    let namespace = namespace.strip_prefix('_').unwrap_or(&namespace);
    let metric = prom_string(metric);

    // Namespace duplication trimming: `Glue` + `glue.driver.x` gives `aws_glue_driver_x`.
    // YACE assigns the skip length rather than adding to it; the quirk is kept on purpose.
    let mut skip = 0;
    for part in namespace.split('_') {
        // `get` rather than indexing: the quirk can land inside a multi-byte character, where
        // YACE slices bytes and we stop trimming instead of panicking.
        if metric
            .get(skip..)
            .is_some_and(|rest| rest.starts_with(part))
        {
            skip = part.len();
        }
    }
    let metric = metric.get(skip..).unwrap_or(&metric);
    let metric = metric.strip_prefix('_').unwrap_or(metric);

    // The `aws_` prefix is a raw prefix test: a namespace `awsfoo` gets none.
    let prefix = if namespace.starts_with("aws") {
        ""
    } else {
        "aws_"
    };
    let mut name = format!("{prefix}{namespace}_{metric}");
    if !statistic.is_empty() {
        name.push('_');
        name.push_str(&prom_string(statistic));
    }
    name
}

/// The label name YACE gives a CloudWatch dimension: `dimension_` plus the sanitized name, or
/// its snake-case form with `-labels-snake-case`. `None` when the result is not a valid
/// Prometheus label name; YACE drops such labels with a warning rather than failing the scrape.
pub fn dimension_label(dimension: &str, snake_case: bool) -> Option<String> {
    prefixed_label("dimension_", dimension, snake_case)
}

/// The label name of a resource tag: `tag_<key>`.
pub fn tag_label(key: &str, snake_case: bool) -> Option<String> {
    prefixed_label("tag_", key, snake_case)
}

/// The label name of a job's `customTags` entry: `custom_tag_<key>`.
pub fn custom_tag_label(key: &str, snake_case: bool) -> Option<String> {
    prefixed_label("custom_tag_", key, snake_case)
}

fn prefixed_label(prefix: &str, name: &str, snake_case: bool) -> Option<String> {
    let name = if snake_case {
        prom_string(name)
    } else {
        sanitize(name)
    };
    let label = format!("{prefix}{name}");
    is_valid_label_name(&label).then_some(label)
}

/// Prometheus' legacy metric-name rule: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Prometheus' legacy label-name rule: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_match_yace_vectors() {
        let cases = [
            (
                "AWS/Lambda",
                "Invocations",
                "Sum",
                "aws_lambda_invocations_sum",
            ),
            ("AWS/Lambda", "Errors", "Sum", "aws_lambda_errors_sum"),
            (
                "AWS/Lambda",
                "Duration",
                "Average",
                "aws_lambda_duration_average",
            ),
            ("AWS/Lambda", "Duration", "p90", "aws_lambda_duration_p90"),
            (
                "AWS/Lambda",
                "ConcurrentExecutions",
                "Maximum",
                "aws_lambda_concurrent_executions_maximum",
            ),
            (
                "AWS/ElastiCache",
                "CPUUtilization",
                "Average",
                "aws_elasticache_cpuutilization_average",
            ),
            (
                "/aws/sagemaker/TrainingJobs",
                "CPUUtilization",
                "Average",
                "aws_sagemaker_trainingjobs_cpuutilization_average",
            ),
            (
                "Glue",
                "glue.driver.aggregate.bytesRead",
                "Average",
                "aws_glue_driver_aggregate_bytes_read_average",
            ),
            (
                "Glue",
                "aggregate.glue.jobs.bytesRead",
                "Average",
                "aws_glue_aggregate_glue_jobs_bytes_read_average",
            ),
            (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "Sum",
                "aws_sqs_approximate_number_of_messages_visible_sum",
            ),
            (
                "AWS/DynamoDB",
                "ConsumedReadCapacityUnits",
                "Sum",
                "aws_dynamodb_consumed_read_capacity_units_sum",
            ),
            (
                "AWS/States",
                "ExecutionTime",
                "Average",
                "aws_states_execution_time_average",
            ),
            (
                "AWS/ApiGateway",
                "Latency",
                "p99",
                "aws_apigateway_latency_p99",
            ),
            ("AWS/S3", "4xxErrors", "Sum", "aws_s3_4xx_errors_sum"),
            (
                "AWS/S3",
                "BucketSizeBytes",
                "Average",
                "aws_s3_bucket_size_bytes_average",
            ),
            ("AWS/ElastiCache", "info", "", "aws_elasticache_info"),
            ("AWS/DynamoDB", "ItemCount", "", "aws_dynamodb_item_count"),
            (
                "CWAgent",
                "mem_used_percent",
                "Average",
                "aws_cwagent_mem_used_percent_average",
            ),
            (
                "AWS/Lambda",
                "Duration",
                "p99.9",
                "aws_lambda_duration_p99_9",
            ),
            (
                "AWS/Lambda",
                "Invocations",
                "SampleCount",
                "aws_lambda_invocations_sample_count",
            ),
        ];
        for (namespace, metric, statistic, expected) in cases {
            assert_eq!(
                metric_name(namespace, metric, statistic),
                expected,
                "{namespace} {metric} {statistic}"
            );
        }
    }

    #[test]
    fn namespace_is_lowercased_before_splitting_and_prefixed_only_without_aws() {
        let cases = [
            ("AWS/ApiGateway", "aws_apigateway_count_sum"),
            (
                "ECS/ContainerInsights",
                "aws_ecs_containerinsights_count_sum",
            ),
            ("AWS/Network Manager", "aws_network_manager_count_sum"),
            (
                "AWS/Redshift-Serverless",
                "aws_redshift_serverless_count_sum",
            ),
            ("CustomEC2Metrics", "aws_customec2metrics_count_sum"),
            // A raw prefix test: a namespace that merely starts with "aws" gets no prefix.
            ("awsfoo", "awsfoo_count_sum"),
            // Any one leading separator is dropped, not only a slash.
            ("-Custom", "aws_custom_count_sum"),
        ];
        for (namespace, expected) in cases {
            assert_eq!(
                metric_name(namespace, "Count", "Sum"),
                expected,
                "{namespace}"
            );
        }
    }

    #[test]
    fn trimming_uses_the_namespace_without_the_aws_prefix() {
        // `aws` is not one of MyApp's parts, so a metric starting with it keeps it.
        assert_eq!(
            metric_name("MyApp", "AWSCalls", "Sum"),
            "aws_myapp_awscalls_sum"
        );
        assert_eq!(
            metric_name("MyApp", "myapp.Calls", "Sum"),
            "aws_myapp_calls_sum"
        );
        // The skip is assigned, not added: `aws` matches at 0 (skip 3), `lambda` matches at 3
        // and sets skip to 6, its own length, so three of its letters survive.
        assert_eq!(
            metric_name("AWS/Lambda", "awslambdaX", "Sum"),
            "aws_lambda_bda_x_sum"
        );
    }

    #[test]
    fn prom_string_keeps_runs_of_capitals_and_underscores() {
        assert_eq!(prom_string("CPUUtilization"), "cpuutilization");
        assert_eq!(prom_string("NetworkBytesIn"), "network_bytes_in");
        // The previous character is the original one, so nothing is inserted after `%`.
        assert_eq!(prom_string("Disk%Used"), "disk_percentused");
        assert_eq!(prom_string("a..B"), "a__b");
        assert_eq!(prom_string("x.Y"), "x_y");
        assert_eq!(prom_string("v2Count"), "v2_count");
        assert_eq!(prom_string("PR(:10)"), "pr__10_");
    }

    #[test]
    fn dimension_labels_keep_case_unless_snake_case_is_asked() {
        assert_eq!(
            dimension_label("FunctionName", false).as_deref(),
            Some("dimension_FunctionName")
        );
        assert_eq!(
            dimension_label("FunctionName", true).as_deref(),
            Some("dimension_function_name")
        );
        assert_eq!(
            dimension_label("Storage Type", false).as_deref(),
            Some("dimension_Storage_Type")
        );
        assert_eq!(
            custom_tag_label("team-name", false).as_deref(),
            Some("custom_tag_team_name")
        );
    }

    #[test]
    fn label_names_outside_the_legacy_charset_are_dropped() {
        assert_eq!(dimension_label("Größe", false), None);
        assert_eq!(dimension_label("a+b", false), None);
        assert!(is_valid_label_name("_x9"));
        assert!(!is_valid_label_name("9x"));
        assert!(!is_valid_label_name(""));
    }
}
