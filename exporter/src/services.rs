//! The CloudWatch namespaces that discovery jobs support, as data copied from YACE's
//! `SupportedServices` (`pkg/config/services.go`): for each namespace, the resource types asked
//! of the Resource Groups Tagging API and the regexes that read dimension values out of a
//! resource's ARN. Adding a service is one row here and one case in the tests below; the
//! association itself lives in [`crate::associator`] and knows nothing about any service.
//!
//! A regex's named groups are CloudWatch dimension names, with `_` standing for a space because
//! group names cannot hold one. The regexes are applied unanchored, as YACE applies them.
//! Post-filters that YACE runs after the tagging call (API Gateway's id-to-name rewrite, for
//! one) are not data and do not live here.
//!
//! Each row also spells its resources' ARNs from dimension values ([`Service::arn_patterns`]),
//! the reverse of the regexes, so that a metric of a resource the tagging API did not return
//! can still be named by its ARN (`includeUntagged`).

use std::sync::LazyLock;

use regex::Regex;

/// One namespace that discovery jobs can scrape.
#[derive(Debug)]
pub struct Service {
    /// The CloudWatch namespace, as written in a job's `type`.
    pub namespace: &'static str,
    /// YACE's short name for the namespace; only error messages use it.
    pub alias: &'static str,
    /// Resource types for `GetResources` (`service` or `service:type`).
    pub resource_filters: &'static [&'static str],
    /// ARN patterns whose named groups are dimension names; see the module docs.
    pub dimension_regexps: &'static [&'static str],
    /// The resource ARN spelled from a metric's dimensions: `{Dimension}` is that dimension's
    /// value, `{region}` and `{account}` the job's. The first pattern whose dimensions the
    /// metric all has applies, so the most specific comes first.
    pub arn_patterns: &'static [&'static str],
}

/// Every supported namespace. The rows, filters and patterns are YACE's, character for
/// character, so that discovery finds the same resources and gives them the same dimensions.
pub static SERVICES: &[Service] = &[
    Service {
        namespace: "AWS/ApiGateway",
        alias: "apigateway",
        resource_filters: &["apigateway"],
        // `restapis` ARNs are v1 (REST) APIs, whose metrics carry the API's name; `apis` ARNs
        // are v2 (HTTP and WebSocket) APIs, whose metrics carry the id.
        dimension_regexps: &[
            "/restapis/(?P<ApiName>[^/]+)$",
            "/restapis/(?P<ApiName>[^/]+)/stages/(?P<Stage>[^/]+)$",
            "/apis/(?P<ApiId>[^/]+)$",
            "/apis/(?P<ApiId>[^/]+)/stages/(?P<Stage>[^/]+)$",
            "/apis/(?P<ApiId>[^/]+)/routes/(?P<Route>[^/]+)$",
        ],
        arn_patterns: &[
            "arn:aws:apigateway:{region}::/restapis/{ApiName}",
            "arn:aws:apigateway:{region}::/apis/{ApiId}",
        ],
    },
    Service {
        namespace: "AWS/ApplicationELB",
        alias: "alb",
        resource_filters: &[
            "elasticloadbalancing:loadbalancer/app",
            "elasticloadbalancing:targetgroup",
        ],
        dimension_regexps: &[
            ":(?P<TargetGroup>targetgroup/.+)",
            ":loadbalancer/(?P<LoadBalancer>.+)$",
        ],
        arn_patterns: &[
            "arn:aws:elasticloadbalancing:{region}:{account}:{TargetGroup}",
            "arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{LoadBalancer}",
        ],
    },
    Service {
        namespace: "AWS/DynamoDB",
        alias: "dynamodb",
        resource_filters: &["dynamodb:table"],
        dimension_regexps: &[":table/(?P<TableName>[^/]+)"],
        arn_patterns: &["arn:aws:dynamodb:{region}:{account}:table/{TableName}"],
    },
    Service {
        namespace: "AWS/EC2",
        alias: "ec2",
        resource_filters: &["ec2:instance"],
        dimension_regexps: &["instance/(?P<InstanceId>[^/]+)"],
        arn_patterns: &["arn:aws:ec2:{region}:{account}:instance/{InstanceId}"],
    },
    Service {
        namespace: "AWS/Kinesis",
        alias: "kinesis",
        resource_filters: &["kinesis:stream"],
        dimension_regexps: &[":stream/(?P<StreamName>[^/]+)"],
        arn_patterns: &["arn:aws:kinesis:{region}:{account}:stream/{StreamName}"],
    },
    Service {
        namespace: "AWS/Lambda",
        alias: "lambda",
        resource_filters: &["lambda:function"],
        dimension_regexps: &[":function:(?P<FunctionName>[^/]+)"],
        arn_patterns: &["arn:aws:lambda:{region}:{account}:function:{FunctionName}"],
    },
    Service {
        namespace: "AWS/RDS",
        alias: "rds",
        resource_filters: &["rds:db", "rds:cluster", "rds:db-proxy"],
        dimension_regexps: &[
            ":cluster:(?P<DBClusterIdentifier>[^/]+)",
            ":db:(?P<DBInstanceIdentifier>[^/]+)",
            ":db-proxy:(?P<ProxyIdentifier>[^/]+)",
        ],
        arn_patterns: &[
            "arn:aws:rds:{region}:{account}:cluster:{DBClusterIdentifier}",
            "arn:aws:rds:{region}:{account}:db:{DBInstanceIdentifier}",
            "arn:aws:rds:{region}:{account}:db-proxy:{ProxyIdentifier}",
        ],
    },
    Service {
        namespace: "AWS/S3",
        alias: "s3",
        resource_filters: &["s3"],
        dimension_regexps: &["(?P<BucketName>[^:]+)$"],
        arn_patterns: &["arn:aws:s3:::{BucketName}"],
    },
    Service {
        namespace: "AWS/SNS",
        alias: "sns",
        resource_filters: &["sns"],
        dimension_regexps: &["(?P<TopicName>[^:]+)$"],
        arn_patterns: &["arn:aws:sns:{region}:{account}:{TopicName}"],
    },
    Service {
        namespace: "AWS/SQS",
        alias: "sqs",
        resource_filters: &["sqs"],
        dimension_regexps: &["(?P<QueueName>[^:]+)$"],
        arn_patterns: &["arn:aws:sqs:{region}:{account}:{QueueName}"],
    },
    Service {
        namespace: "AWS/States",
        alias: "sfn",
        resource_filters: &["states"],
        // The dimension is the whole ARN. Activity, Lambda and service-integration metrics
        // use other dimensions and so stay global.
        dimension_regexps: &["(?P<StateMachineArn>.*)"],
        arn_patterns: &["{StateMachineArn}"],
    },
];

/// The compiled [`Service::dimension_regexps`] of every row, in table order.
static COMPILED: LazyLock<Vec<Vec<Regex>>> = LazyLock::new(|| {
    SERVICES
        .iter()
        .map(|service| {
            service
                .dimension_regexps
                .iter()
                // The patterns are constants, and a test compiles every one of them.
                .map(|pattern| Regex::new(pattern).expect("service regexes are tested"))
                .collect()
        })
        .collect()
});

impl Service {
    /// The compiled dimension regexes, built once per process for the whole table.
    ///
    /// # Panics
    ///
    /// If `self` is not a row of [`SERVICES`]: the cache is indexed by row, and a service
    /// made elsewhere would otherwise get another service's regexes.
    pub fn dimension_regexes(&self) -> &'static [Regex] {
        let row = SERVICES
            .iter()
            .position(|service| std::ptr::eq(service, self))
            .unwrap_or_else(|| panic!("{} is not a row of SERVICES", self.namespace));
        &COMPILED[row]
    }
}

/// The service of a CloudWatch namespace, e.g. `AWS/Lambda`.
pub fn by_namespace(namespace: &str) -> Option<&'static Service> {
    SERVICES
        .iter()
        .find(|service| service.namespace == namespace)
}

/// The service of a YACE alias, e.g. `lambda`.
pub fn by_alias(alias: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|service| service.alias == alias)
}

impl Service {
    /// The ARN of the resource whose metric has `dimensions`, spelled by the first of
    /// [`Service::arn_patterns`] whose dimensions are all there; `None` when none applies.
    pub fn arn_from_dimensions(
        &self,
        dimensions: &[(String, String)],
        region: &str,
        account: &str,
    ) -> Option<String> {
        self.arn_patterns
            .iter()
            .find_map(|pattern| spell(pattern, dimensions, region, account))
    }
}

/// `pattern` with each `{name}` replaced; `None` when a dimension it names is missing or empty.
fn spell(
    pattern: &str,
    dimensions: &[(String, String)],
    region: &str,
    account: &str,
) -> Option<String> {
    let mut arn = String::with_capacity(pattern.len() + 32);
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        arn.push_str(&rest[..open]);
        let close = open + rest[open..].find('}')?;
        let name = &rest[open + 1..close];
        let value = match name {
            "region" => region,
            "account" => account,
            _ => dimensions
                .iter()
                .find(|(dimension, value)| dimension == name && !value.is_empty())
                .map(|(_, value)| value.as_str())?,
        };
        arn.push_str(value);
        rest = &rest[close + 1..];
    }
    arn.push_str(rest);
    Some(arn)
}

/// The dimension names that the groups of `regex` stand for, in group order. An unnamed group
/// gives an empty name, as in YACE; the table has none.
pub fn dimension_names(regex: &Regex) -> Vec<String> {
    regex
        .capture_names()
        .skip(1)
        .map(|name| name.unwrap_or_default().replace('_', " "))
        .collect()
}

/// The dimension values that `regex` reads from `arn`, in the order of [`dimension_names`];
/// `None` when it does not match. A group that took no part in the match gives an empty value,
/// as Go's `FindStringSubmatch` does.
pub fn dimension_values(regex: &Regex, arn: &str) -> Option<Vec<String>> {
    let captures = regex.captures(arn)?;
    Some(
        captures
            .iter()
            .skip(1)
            .map(|group| group.map_or("", |m| m.as_str()).to_owned())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Namespace, ARN, and the dimensions (name, value) YACE reads from the ARN.
    type ArnCase = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    /// For every row at least one realistic ARN, read through the first regex that matches,
    /// as the associator does.
    const ARNS: &[ArnCase] = &[
        (
            "AWS/ApiGateway",
            "arn:aws:apigateway:eu-west-1::/restapis/thumbnails",
            &[("ApiName", "thumbnails")],
        ),
        (
            "AWS/ApiGateway",
            "arn:aws:apigateway:eu-west-1::/restapis/thumbnails/stages/prod",
            &[("ApiName", "thumbnails"), ("Stage", "prod")],
        ),
        (
            "AWS/ApiGateway",
            "arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5",
            &[("ApiId", "a1b2c3d4e5")],
        ),
        (
            "AWS/ApiGateway",
            "arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/stages/$default",
            &[("ApiId", "a1b2c3d4e5"), ("Stage", "$default")],
        ),
        (
            "AWS/ApiGateway",
            "arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/routes/r4nd0m",
            &[("ApiId", "a1b2c3d4e5"), ("Route", "r4nd0m")],
        ),
        (
            "AWS/ApplicationELB",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
            &[("LoadBalancer", "app/web/50dc6c495c0c9188")],
        ),
        (
            "AWS/ApplicationELB",
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067",
            &[("TargetGroup", "targetgroup/web-tg/73e2d6bc24d8a067")],
        ),
        (
            "AWS/DynamoDB",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/images",
            &[("TableName", "images")],
        ),
        (
            "AWS/EC2",
            "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0",
            &[("InstanceId", "i-0123456789abcdef0")],
        ),
        (
            "AWS/Kinesis",
            "arn:aws:kinesis:eu-west-1:123456789012:stream/events",
            &[("StreamName", "events")],
        ),
        (
            "AWS/Lambda",
            "arn:aws:lambda:eu-west-1:123456789012:function:resize-image",
            &[("FunctionName", "resize-image")],
        ),
        (
            "AWS/RDS",
            "arn:aws:rds:eu-west-1:123456789012:cluster:orders",
            &[("DBClusterIdentifier", "orders")],
        ),
        (
            "AWS/RDS",
            "arn:aws:rds:eu-west-1:123456789012:db:orders-1",
            &[("DBInstanceIdentifier", "orders-1")],
        ),
        (
            "AWS/RDS",
            "arn:aws:rds:eu-west-1:123456789012:db-proxy:prx-0123456789abcdef0",
            &[("ProxyIdentifier", "prx-0123456789abcdef0")],
        ),
        (
            "AWS/S3",
            "arn:aws:s3:::uploads-bucket",
            &[("BucketName", "uploads-bucket")],
        ),
        (
            "AWS/SNS",
            "arn:aws:sns:eu-west-1:123456789012:image-ready",
            &[("TopicName", "image-ready")],
        ),
        (
            "AWS/SQS",
            "arn:aws:sqs:eu-west-1:123456789012:resize-jobs",
            &[("QueueName", "resize-jobs")],
        ),
        (
            "AWS/States",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline",
            &[(
                "StateMachineArn",
                "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline",
            )],
        ),
    ];

    #[test]
    fn every_service_row_is_well_formed_and_has_an_arn_case() {
        let mut namespaces = HashSet::new();
        let mut aliases = HashSet::new();
        for service in SERVICES {
            let ns = service.namespace;
            assert!(namespaces.insert(ns), "{ns}: namespace twice");
            assert!(aliases.insert(service.alias), "{ns}: alias twice");
            // Every row taken from YACE has filters; a row without them would discover nothing.
            assert!(!service.resource_filters.is_empty(), "{ns}: no filters");
            assert!(!service.dimension_regexps.is_empty(), "{ns}: no regexes");
            assert!(!service.arn_patterns.is_empty(), "{ns}: no ARN pattern");

            let regexes = service.dimension_regexes();
            assert_eq!(regexes.len(), service.dimension_regexps.len(), "{ns}");
            for regex in regexes {
                let names = dimension_names(regex);
                assert!(!names.is_empty(), "{ns}: {regex} has no group");
                for name in names {
                    assert!(!name.is_empty(), "{ns}: {regex} has an unnamed group");
                    assert!(!name.contains('_'), "{ns}: {name}");
                }
            }

            assert!(by_namespace(ns).is_some_and(|found| std::ptr::eq(found, service)));
            assert!(by_alias(service.alias).is_some_and(|found| std::ptr::eq(found, service)));
            assert!(
                ARNS.iter().any(|(namespace, _, _)| *namespace == ns),
                "{ns}: no ARN case"
            );
        }
    }

    #[test]
    fn realistic_arns_yield_yaces_dimensions() {
        for (namespace, arn, expected) in ARNS {
            let service = by_namespace(namespace).expect(namespace);
            let dimensions: Vec<(String, String)> = service
                .dimension_regexes()
                .iter()
                .find_map(|regex| {
                    let values = dimension_values(regex, arn)?;
                    Some(dimension_names(regex).into_iter().zip(values).collect())
                })
                .unwrap_or_else(|| panic!("{arn}: no regex matches"));
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            assert_eq!(dimensions, expected, "{arn}");
        }
    }

    #[test]
    fn arns_spelled_from_dimensions_are_read_back_to_the_same_dimensions() {
        for (namespace, arn, expected) in ARNS {
            let service = by_namespace(namespace).expect(namespace);
            let dimensions: Vec<(String, String)> = expected
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            let spelled = service
                .arn_from_dimensions(&dimensions, "eu-west-1", "123456789012")
                .unwrap_or_else(|| panic!("{arn}: no pattern applies"));
            // Stages and routes are metrics of their API, so their ARN is the API's.
            assert!(arn.starts_with(&spelled), "{spelled} is not {arn}");
            let read = service
                .dimension_regexes()
                .iter()
                .find_map(|regex| {
                    let values = dimension_values(regex, &spelled)?;
                    Some(
                        dimension_names(regex)
                            .into_iter()
                            .zip(values)
                            .collect::<Vec<_>>(),
                    )
                })
                .unwrap();
            assert!(
                read.iter().all(|pair| dimensions.contains(pair)),
                "{spelled}: {read:?}"
            );
        }
    }

    #[test]
    fn no_arn_is_spelled_without_its_dimensions() {
        let lambda = by_namespace("AWS/Lambda").unwrap();
        let none: Vec<(String, String)> = vec![("Resource".into(), "resize".into())];
        assert_eq!(lambda.arn_from_dimensions(&none, "eu-west-1", "1"), None);
        let empty = vec![("FunctionName".into(), String::new())];
        assert_eq!(lambda.arn_from_dimensions(&empty, "eu-west-1", "1"), None);
    }

    #[test]
    fn underscore_in_a_group_name_stands_for_a_space() {
        let regex = Regex::new(":directory/(?P<Directory_ID>[^/]+)").unwrap();
        assert_eq!(dimension_names(&regex), ["Directory ID"]);
    }

    #[test]
    fn unknown_namespace_and_alias_are_not_found() {
        assert!(by_namespace("AWS/Nope").is_none());
        assert!(by_alias("AWS/Lambda").is_none());
    }
}
