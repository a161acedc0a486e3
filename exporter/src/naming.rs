//! YACE's naming rules, byte for byte: how a CloudWatch namespace, metric name and statistic
//! become a Prometheus series name, and how dimension names become label names. Dashboards and
//! alerts written against YACE depend on these exact strings, quirks included.

/// YACE's `PromString`: one pass over the characters, replacing separators with `_`, `%` with
/// `_percent`, and lowercasing, with a `_` before an upper-case letter that follows a lower-case
/// letter or a digit (`bytesRead` becomes `bytes_read`, `CPUUtilization` stays glued).
pub fn prom_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut previous: Option<char> = None;
    for c in text.chars() {
        match c {
            ' ' | ',' | '\t' | '/' | '\\' | '.' | '-' | ':' | '=' | '@' | '<' | '>' | '(' | ')'
            | '\u{201C}' => out.push('_'),
            '%' => out.push_str("_percent"),
            _ => {
                if c.is_uppercase() && previous.is_some_and(|p| p.is_lowercase() || p.is_numeric())
                {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
        }
        previous = Some(c);
    }
    out
}

/// YACE's label-name sanitizing without `-labels-snake-case`: the same replacements as
/// [`prom_string`], but case is kept and no `_` is inserted between words.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' ' | ',' | '\t' | '/' | '\\' | '.' | '-' | ':' | '=' | '@' | '<' | '>' | '(' | ')'
            | '\u{201C}' => out.push('_'),
            '%' => out.push_str("_percent"),
            _ => out.push(c),
        }
    }
    out
}

/// The Prometheus name of one CloudWatch metric and statistic, as YACE's `BuildMetricName`
/// makes it. An empty `statistic` gives the name without a suffix (info and enhanced metrics).
pub fn metric_name(namespace: &str, metric: &str, statistic: &str) -> String {
    let namespace = namespace_prefix(namespace);
    let metric = prom_string(metric);

    // Namespace duplication trimming: `AWS/Glue` + `glue.driver.x` gives `aws_glue_driver_x`.
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

    let mut name = format!("{namespace}_{metric}");
    if !statistic.is_empty() {
        name.push('_');
        name.push_str(&prom_string(statistic));
    }
    name
}

/// `AWS/Lambda` -> `aws_lambda`, `/aws/sagemaker/TrainingJobs` -> `aws_sagemaker_trainingjobs`,
/// `CWAgent` -> `aws_cwagent`: one leading `/` dropped, lowercased before [`prom_string`] so
/// camel case is not split, and `aws_` prepended unless the result already starts with `aws`.
fn namespace_prefix(namespace: &str) -> String {
    let namespace = namespace.strip_prefix('/').unwrap_or(namespace);
    let namespace = prom_string(&namespace.to_lowercase());
    if namespace.starts_with("aws") {
        namespace
    } else {
        format!("aws_{namespace}")
    }
}

/// The label name YACE gives a CloudWatch dimension: `dimension_` plus the sanitized name, or
/// its snake-case form with `-labels-snake-case`. `None` when the result is not a valid
/// Prometheus label name; YACE drops such labels with a warning rather than failing the scrape.
pub fn dimension_label(dimension: &str, snake_case: bool) -> Option<String> {
    prefixed_label("dimension_", dimension, snake_case)
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
        assert_eq!(namespace_prefix("AWS/ApiGateway"), "aws_apigateway");
        assert_eq!(
            namespace_prefix("ECS/ContainerInsights"),
            "aws_ecs_containerinsights"
        );
        assert_eq!(
            namespace_prefix("AWS/Network Manager"),
            "aws_network_manager"
        );
        assert_eq!(
            namespace_prefix("AWS/Redshift-Serverless"),
            "aws_redshift_serverless"
        );
        assert_eq!(namespace_prefix("CustomEC2Metrics"), "aws_customec2metrics");
        // The test is a raw prefix test, so a namespace that merely starts with "aws" is kept.
        assert_eq!(namespace_prefix("awsfoo"), "awsfoo");
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
