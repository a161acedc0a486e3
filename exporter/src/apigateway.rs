//! YACE's post-filter for `AWS/ApiGateway` discovery, and the narrow seam to API Gateway it
//! needs. The tagging API returns every tagged API Gateway resource (APIs, stages, domain
//! names, usage plans...), named by ARN. [`api_resources`] keeps the APIs only, as YACE does:
//! REST (v1) APIs renamed after their name, because their metrics carry `ApiName` while their
//! ARN carries the id, and HTTP and WebSocket (v2) APIs as they are, because their metrics
//! carry `ApiId`. Stages are dropped too, so a metric with `ApiName` and `Stage` belongs to its
//! API, as in YACE.
//!
//! Scrape logic sees only the [`ApiGateway`] trait; [`Client`] is the one place that names
//! `aws_sdk_apigateway` and `aws_sdk_apigatewayv2`, and pagination lives inside it.

use std::sync::Arc;

use crate::Error;
use crate::associator::Resource;
use crate::calls::{Budgets, Calls};
use crate::self_metrics::SelfMetrics;

/// The namespace whose discovery jobs go through [`api_resources`].
pub const NAMESPACE: &str = "AWS/ApiGateway";

/// The largest page GetRestApis serves, and the one YACE asks for.
const REST_APIS_PER_PAGE: i32 = 500;

/// What `AWS/ApiGateway` discovery needs from API Gateway, in one region.
pub trait ApiGateway: Send + Sync {
    /// Every REST (v1) API as `(id, name)`; all pages of GetRestApis.
    fn rest_apis(&self) -> impl Future<Output = Result<Vec<(String, String)>, Error>> + Send;

    /// The id of every HTTP and WebSocket (v2) API; all pages of GetApis.
    fn http_apis(&self) -> impl Future<Output = Result<Vec<String>, Error>> + Send;
}

/// The resources that are APIs of `rest_apis` or `http_apis`, in their order: a REST API's ARN
/// ends with `/restapis/<id>` and comes back ending with `/restapis/<name>` instead; an HTTP
/// API's ARN ends with `/apis/<id>` and comes back unchanged. Everything else is dropped,
/// including APIs that GetResources knows but the API listings do not (deleted meanwhile).
pub fn api_resources(
    resources: Vec<Resource>,
    rest_apis: &[(String, String)],
    http_apis: &[String],
) -> Vec<Resource> {
    resources
        .into_iter()
        .filter_map(|mut resource| {
            let rest = rest_apis
                .iter()
                .find(|(id, _)| resource.arn.ends_with(&format!("/restapis/{id}")));
            if let Some((id, name)) = rest {
                // YACE replaces every occurrence of the id in the ARN; the id only ever
                // occurs at the end, which is all that is replaced here.
                resource.arn.truncate(resource.arn.len() - id.len());
                resource.arn.push_str(name);
                return Some(resource);
            }
            http_apis
                .iter()
                .any(|id| resource.arn.ends_with(&format!("/apis/{id}")))
                .then_some(resource)
        })
        .collect()
}

/// [`ApiGateway`] over the AWS SDK (API Gateway and API Gateway v2), for one region.
#[derive(Debug, Clone)]
pub struct Client {
    v1: aws_sdk_apigateway::Client,
    v2: aws_sdk_apigatewayv2::Client,
    metrics: Arc<SelfMetrics>,
    calls: Calls,
}

impl Client {
    /// A client for `region`; every request is counted in `metrics`.
    pub fn new(shared: &aws_config::SdkConfig, region: &str, metrics: Arc<SelfMetrics>) -> Self {
        let region = aws_config::Region::new(region.to_owned());
        let shared = &crate::calls::sdk_retries_off(shared);
        let v1 = aws_sdk_apigateway::config::Builder::from(shared)
            .region(region.clone())
            .build();
        let v2 = aws_sdk_apigatewayv2::config::Builder::from(shared)
            .region(region)
            .build();
        Self::from_sdk(
            aws_sdk_apigateway::Client::from_conf(v1),
            aws_sdk_apigatewayv2::Client::from_conf(v2),
            metrics,
        )
    }

    /// Wraps SDK clients built elsewhere (tests script them with `aws-smithy-mocks`).
    pub fn from_sdk(
        v1: aws_sdk_apigateway::Client,
        v2: aws_sdk_apigatewayv2::Client,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        let calls = Calls::new(metrics.clone(), Arc::default());
        Client {
            v1,
            v2,
            metrics,
            calls,
        }
    }

    /// Shares `budgets` (those of the region and credentials) instead of its own.
    pub fn with_budgets(mut self, budgets: Arc<Budgets>) -> Self {
        self.calls = Calls::new(self.metrics.clone(), budgets);
        self
    }
}

impl ApiGateway for Client {
    async fn rest_apis(&self) -> Result<Vec<(String, String)>, Error> {
        let mut found = Vec::new();
        let mut position = None;
        loop {
            let page = self
                .v1
                .get_rest_apis()
                .limit(REST_APIS_PER_PAGE)
                .set_position(position);
            let page = self.calls.send("GetRestApis", || page.clone().send()).await;
            self.metrics.api_gateway_request();
            let page = page.map_err(|error| Error::aws("GetRestApis", error))?;
            found.extend(page.items().iter().map(|api| {
                let (id, name) = (api.id().unwrap_or_default(), api.name().unwrap_or_default());
                (id.to_owned(), name.to_owned())
            }));
            position = non_empty(page.position());
            if position.is_none() {
                return Ok(found);
            }
        }
    }

    async fn http_apis(&self) -> Result<Vec<String>, Error> {
        let mut found = Vec::new();
        let mut next_token = None;
        loop {
            let page = self.v2.get_apis().set_next_token(next_token);
            let page = self.calls.send("GetApis", || page.clone().send()).await;
            self.metrics.api_gateway_v2_request();
            let page = page.map_err(|error| Error::aws("GetApis", error))?;
            found.extend(
                page.items()
                    .iter()
                    .map(|api| api.api_id().unwrap_or_default().to_owned()),
            );
            next_token = non_empty(page.next_token());
            if next_token.is_none() {
                return Ok(found);
            }
        }
    }
}

/// A pagination token, unless it says there is no next page (absent or empty).
fn non_empty(token: Option<&str>) -> Option<String> {
    token.filter(|token| !token.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REST: &str = "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5";

    fn resource(arn: &str) -> Resource {
        Resource {
            arn: arn.to_owned(),
            tags: vec![("Project".to_owned(), "images".to_owned())],
        }
    }

    fn rest_apis() -> Vec<(String, String)> {
        vec![
            ("zz9zz9zz9z".to_owned(), "unrelated".to_owned()),
            ("a1b2c3d4e5".to_owned(), "images-api".to_owned()),
        ]
    }

    fn arns(resources: &[Resource]) -> Vec<&str> {
        resources.iter().map(|r| r.arn.as_str()).collect()
    }

    #[test]
    fn a_rest_api_is_renamed_after_its_name_and_keeps_its_tags() {
        let kept = api_resources(vec![resource(REST)], &rest_apis(), &[]);
        assert_eq!(
            kept,
            [Resource {
                arn: "arn:aws:apigateway:eu-west-1::/restapis/images-api".to_owned(),
                tags: vec![("Project".to_owned(), "images".to_owned())],
            }]
        );
    }

    #[test]
    fn an_http_api_is_kept_as_it_is() {
        let http = "arn:aws:apigateway:eu-west-1::/apis/q1w2e3r4t5";
        let kept = api_resources(vec![resource(http)], &rest_apis(), &["q1w2e3r4t5".into()]);
        assert_eq!(arns(&kept), [http]);
    }

    #[test]
    fn stages_routes_domain_names_and_usage_plans_are_dropped() {
        let others = [
            "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/prod",
            "arn:aws:apigateway:eu-west-1::/apis/q1w2e3r4t5/stages/$default",
            "arn:aws:apigateway:eu-west-1::/apis/q1w2e3r4t5/routes/r4nd0m",
            "arn:aws:apigateway:eu-west-1::/domainnames/api.example.com",
            "arn:aws:apigateway:eu-west-1::/usageplans/u5a6e7",
        ];
        let resources = others.iter().map(|arn| resource(arn)).collect();
        let kept = api_resources(resources, &rest_apis(), &["q1w2e3r4t5".into()]);
        assert_eq!(kept, []);
    }

    #[test]
    fn an_api_the_listings_do_not_know_is_dropped() {
        let resources = vec![
            resource("arn:aws:apigateway:eu-west-1::/restapis/d3l3t3d000"),
            resource("arn:aws:apigateway:eu-west-1::/apis/g0n3g0n3"),
            resource(REST),
        ];
        let kept = api_resources(resources, &rest_apis(), &["q1w2e3r4t5".into()]);
        assert_eq!(
            arns(&kept),
            ["arn:aws:apigateway:eu-west-1::/restapis/images-api"]
        );
    }

    #[test]
    fn an_id_matches_whole_path_segments_only() {
        // `e5` is the tail of the REST API's id but not an API of its own.
        let kept = api_resources(vec![resource(REST)], &[], &["e5".into()]);
        assert_eq!(kept, []);
        let kept = api_resources(
            vec![resource(REST)],
            &[("e5".to_owned(), "short".to_owned())],
            &[],
        );
        assert_eq!(kept, []);
    }
}
