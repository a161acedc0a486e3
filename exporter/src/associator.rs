//! Which discovered resource a listed CloudWatch metric belongs to, by YACE's
//! `maxdimassociator` rules: the service's ARN regexes turn each tagged resource into a set of
//! dimension values, and a metric belongs to the resource whose values it carries. The outcome
//! decides the series' `name` label and tags, and whether the series exists at all: a metric
//! that looks like a resource's but matches no tagged one is skipped, which is why metrics of
//! untagged resources disappear under YACE, and must here too.
//!
//! Pure logic: no AWS calls, no logging. The AmazonMQ and SageMaker value fixes of YACE are
//! left out because neither namespace is in [`crate::services::SERVICES`].

use std::collections::HashMap;

use regex::Regex;

use crate::services::{dimension_names, dimension_values};

/// A resource found by the tagging API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub arn: String,
    pub tags: Vec<(String, String)>,
}

/// Where a metric goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Association<'a> {
    /// The metric is this resource's.
    Resource(&'a Resource),
    /// The metric belongs to no resource and is kept with `name="global"`.
    Global,
    /// The metric has a resource's dimensions but no tagged resource's values: dropped.
    Skip,
}

/// The resources of one job, indexed by the dimension values each regex reads from them.
#[derive(Debug)]
pub struct Associator<'a> {
    /// One mapping per regex that claimed a resource, most dimension names first.
    mappings: Vec<Mapping<'a>>,
}

#[derive(Debug)]
struct Mapping<'a> {
    /// Dimension names, in the regex's group order.
    dimensions: Vec<String>,
    /// Dimension values, in the same order, to the resource they came from.
    resources: HashMap<Vec<String>, &'a Resource>,
}

impl<'a> Associator<'a> {
    pub fn new(regexes: &[Regex], resources: &'a [Resource]) -> Self {
        // A resource belongs to the first regex that matches its ARN, so a later, looser regex
        // cannot index it again under fewer dimensions.
        let mut claimed = vec![false; resources.len()];
        let mut mappings = Vec::new();
        for regex in regexes {
            let mut mapping = Mapping {
                dimensions: dimension_names(regex),
                resources: HashMap::new(),
            };
            for (resource, claimed) in resources.iter().zip(&mut claimed) {
                if *claimed {
                    continue;
                }
                if let Some(values) = dimension_values(regex, &resource.arn) {
                    // Two resources with the same values: the later one wins, as in YACE.
                    mapping.resources.insert(values, resource);
                    *claimed = true;
                }
            }
            // A regex that matched nothing must not apply to metrics, or it would skip them.
            if !mapping.resources.is_empty() {
                mappings.push(mapping);
            }
        }
        // Most specific first: `{ApiName, Stage}` before `{ApiName}`. Stable, so equally long
        // mappings keep the regexes' order.
        mappings.sort_by_key(|mapping| std::cmp::Reverse(mapping.dimensions.len()));
        Self { mappings }
    }

    /// The association of a metric with these dimensions (name, value).
    pub fn associate(&self, dimensions: &[(String, String)]) -> Association<'a> {
        if dimensions.is_empty() {
            return Association::Global;
        }
        let mut applied = false;
        for mapping in &self.mappings {
            // A mapping applies when the metric has all its dimension names (and maybe more).
            let Some(values) = mapping
                .dimensions
                .iter()
                .map(|name| value_of(dimensions, name))
                .collect::<Option<Vec<String>>>()
            else {
                continue;
            };
            applied = true;
            if let Some(resource) = mapping.resources.get(&values) {
                return Association::Resource(resource);
            }
        }
        if applied {
            Association::Skip
        } else {
            Association::Global
        }
    }
}

fn value_of(dimensions: &[(String, String)], name: &str) -> Option<String> {
    dimensions
        .iter()
        .find(|(dimension, _)| dimension == name)
        .map(|(_, value)| value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::by_namespace;

    fn resources(arns: &[&str]) -> Vec<Resource> {
        arns.iter()
            .map(|arn| Resource {
                arn: arn.to_string(),
                tags: vec![("team".into(), "media".into())],
            })
            .collect()
    }

    fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn regexes(namespace: &str) -> &'static [Regex] {
        by_namespace(namespace).unwrap().dimension_regexes()
    }

    const RESIZE: &str = "arn:aws:lambda:eu-west-1:123456789012:function:resize";
    const THUMBS: &str = "arn:aws:lambda:eu-west-1:123456789012:function:thumbs";

    #[test]
    fn lambda_metrics_with_and_without_resource_associate_to_the_function() {
        let resources = resources(&[RESIZE, THUMBS]);
        let associator = Associator::new(regexes("AWS/Lambda"), &resources);
        for metric in [
            dims(&[("FunctionName", "thumbs")]),
            dims(&[("FunctionName", "thumbs"), ("Resource", "thumbs")]),
            dims(&[
                ("FunctionName", "thumbs"),
                ("Resource", "thumbs:live"),
                ("ExecutedVersion", "3"),
            ]),
        ] {
            assert_eq!(
                associator.associate(&metric),
                Association::Resource(&resources[1]),
                "{metric:?}"
            );
        }
    }

    #[test]
    fn metric_without_dimensions_is_global() {
        let resources = resources(&[RESIZE]);
        let associator = Associator::new(regexes("AWS/Lambda"), &resources);
        assert_eq!(associator.associate(&[]), Association::Global);
    }

    #[test]
    fn metric_of_an_untagged_function_is_skipped() {
        let resources = resources(&[RESIZE]);
        let associator = Associator::new(regexes("AWS/Lambda"), &resources);
        let metric = dims(&[("FunctionName", "untagged")]);
        assert_eq!(associator.associate(&metric), Association::Skip);
    }

    #[test]
    fn metric_without_a_mapped_dimension_is_global() {
        let resources = resources(&["arn:aws:dynamodb:eu-west-1:123456789012:table/images"]);
        let associator = Associator::new(regexes("AWS/DynamoDB"), &resources);
        let metric = dims(&[("Operation", "GetItem")]);
        assert_eq!(associator.associate(&metric), Association::Global);
    }

    #[test]
    fn dynamodb_operation_metric_associates_to_its_table() {
        let resources = resources(&[
            "arn:aws:dynamodb:eu-west-1:123456789012:table/images",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/jobs",
        ]);
        let associator = Associator::new(regexes("AWS/DynamoDB"), &resources);
        let metric = dims(&[("Operation", "Query"), ("TableName", "jobs")]);
        assert_eq!(
            associator.associate(&metric),
            Association::Resource(&resources[1])
        );
    }

    #[test]
    fn sqs_queue_named_as_a_suffix_of_another_is_not_confused_with_it() {
        let resources = resources(&[
            "arn:aws:sqs:eu-west-1:123456789012:resize-jobs",
            "arn:aws:sqs:eu-west-1:123456789012:jobs",
        ]);
        let associator = Associator::new(regexes("AWS/SQS"), &resources);
        let jobs = dims(&[("QueueName", "jobs")]);
        let resize = dims(&[("QueueName", "resize-jobs")]);
        let other = dims(&[("QueueName", "other-jobs")]);
        assert_eq!(
            associator.associate(&jobs),
            Association::Resource(&resources[1])
        );
        assert_eq!(
            associator.associate(&resize),
            Association::Resource(&resources[0])
        );
        assert_eq!(associator.associate(&other), Association::Skip);
    }

    #[test]
    fn step_functions_metric_with_other_dimensions_is_global() {
        let arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline";
        let resources = resources(&[arn]);
        let associator = Associator::new(regexes("AWS/States"), &resources);
        let lambda = dims(&[("LambdaFunctionArn", RESIZE)]);
        let machine = dims(&[("StateMachineArn", arn)]);
        assert_eq!(associator.associate(&lambda), Association::Global);
        assert_eq!(
            associator.associate(&machine),
            Association::Resource(&resources[0])
        );
    }

    #[test]
    fn mapping_with_more_dimensions_is_tried_first_and_falls_back_to_fewer() {
        let resources = resources(&[
            "arn:aws:apigateway:eu-west-1::/restapis/thumbnails",
            "arn:aws:apigateway:eu-west-1::/restapis/thumbnails/stages/prod",
        ]);
        let associator = Associator::new(regexes("AWS/ApiGateway"), &resources);
        let prod = dims(&[("ApiName", "thumbnails"), ("Stage", "prod")]);
        let dev = dims(&[("ApiName", "thumbnails"), ("Stage", "dev")]);
        let api = dims(&[("ApiName", "thumbnails")]);
        assert_eq!(
            associator.associate(&prod),
            Association::Resource(&resources[1])
        );
        assert_eq!(
            associator.associate(&dev),
            Association::Resource(&resources[0])
        );
        assert_eq!(
            associator.associate(&api),
            Association::Resource(&resources[0])
        );
    }

    #[test]
    fn first_regex_that_matches_a_resource_claims_it() {
        let table = "arn:aws:cassandra:eu-west-1:123456789012:/keyspace/media/table/images";
        let by_table = Regex::new("keyspace/(?P<Keyspace>[^/]+)/table/(?P<TableName>[^/]+)");
        let by_keyspace = Regex::new("keyspace/(?P<Keyspace>[^/]+)/");
        let (by_table, by_keyspace) = (by_table.unwrap(), by_keyspace.unwrap());
        let resources = resources(&[table]);
        let keyspace_metric = dims(&[("Keyspace", "media")]);

        // Claimed by the table regex, the resource is not indexed by keyspace alone, so the
        // keyspace regex maps nothing and a keyspace-only metric stays global.
        let associator = Associator::new(&[by_table.clone(), by_keyspace.clone()], &resources);
        assert_eq!(associator.associate(&keyspace_metric), Association::Global);

        let associator = Associator::new(&[by_keyspace, by_table], &resources);
        assert_eq!(
            associator.associate(&keyspace_metric),
            Association::Resource(&resources[0])
        );
    }

    #[test]
    fn without_regexes_or_resources_every_metric_is_global() {
        let resources = resources(&[RESIZE]);
        let metric = dims(&[("FunctionName", "resize")]);
        let no_regexes = Associator::new(&[], &resources);
        let no_resources = Associator::new(regexes("AWS/Lambda"), &[]);
        assert_eq!(no_regexes.associate(&metric), Association::Global);
        assert_eq!(no_resources.associate(&metric), Association::Global);
    }
}
