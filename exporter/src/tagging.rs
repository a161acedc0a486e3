//! The narrow seam between the exporter and the Resource Groups Tagging API, which discovery
//! jobs use to find the tagged resources of a service. Scrape logic sees only the [`Tagging`]
//! trait and [`Resource`]; [`Client`] is the one place that names
//! `aws_sdk_resourcegroupstagging`, and pagination lives inside it.
//!
//! It asks for resources by type and by tag key only. Matching tag values against a job's
//! `searchTags` regexes is the caller's work, as in YACE, because the API matches values
//! exactly and cannot take a regex.

use aws_sdk_resourcegroupstagging::types::TagFilter;

use std::sync::Arc;

use crate::Error;
use crate::associator::Resource;
use crate::calls::{Budgets, Calls};
use crate::self_metrics::SelfMetrics;

/// The largest page GetResources serves, and the one YACE asks for.
const RESOURCES_PER_PAGE: i32 = 100;

/// What discovery needs from the tagging API.
pub trait Tagging: Send + Sync {
    /// Every resource of `resource_types` (the API's `ResourceTypeFilters`, such as
    /// `lambda:function` or `s3`) that carries each of `tag_keys`, whatever the values; all
    /// pages of them. Each resource's tags come in the order the API returned them. The API
    /// only knows resources that are or were tagged, so untagged ones never appear.
    fn get_resources(
        &self,
        resource_types: &[&str],
        tag_keys: &[String],
    ) -> impl Future<Output = Result<Vec<Resource>, Error>> + Send;
}

/// [`Tagging`] over the AWS SDK, for one region.
#[derive(Debug, Clone)]
pub struct Client {
    sdk: aws_sdk_resourcegroupstagging::Client,
    metrics: Arc<SelfMetrics>,
    calls: Calls,
}

impl Client {
    /// A client for `region`; every request is counted in `metrics`.
    pub fn new(shared: &aws_config::SdkConfig, region: &str, metrics: Arc<SelfMetrics>) -> Self {
        let config = aws_sdk_resourcegroupstagging::config::Builder::from(
            &crate::calls::sdk_retries_off(shared),
        )
        .region(aws_config::Region::new(region.to_owned()))
        .build();
        Client {
            sdk: aws_sdk_resourcegroupstagging::Client::from_conf(config),
            calls: Calls::new(metrics.clone(), Arc::default()),
            metrics,
        }
    }

    /// Shares `budgets` (those of the region and credentials) instead of its own.
    pub fn with_budgets(mut self, budgets: Arc<Budgets>) -> Self {
        self.calls = Calls::new(self.metrics.clone(), budgets);
        self
    }
}

impl Tagging for Client {
    async fn get_resources(
        &self,
        resource_types: &[&str],
        tag_keys: &[String],
    ) -> Result<Vec<Resource>, Error> {
        let filters = tag_keys
            .iter()
            .map(|key| TagFilter::builder().key(key).build())
            .collect();
        let request = self
            .sdk
            .get_resources()
            .set_resource_type_filters(Some(resource_types.iter().map(|&t| t.to_owned()).collect()))
            .set_tag_filters(Some(filters))
            .resources_per_page(RESOURCES_PER_PAGE);
        let mut found = Vec::new();
        let mut pagination_token = None;
        loop {
            let page = request.clone().set_pagination_token(pagination_token);
            let page = self
                .calls
                .send("GetResources", || page.clone().send())
                .await;
            self.metrics.tagging_request();
            let page = page.map_err(|error| Error::aws("GetResources", error))?;
            found.extend(page.resource_tag_mapping_list().iter().map(|mapping| {
                Resource {
                    arn: mapping.resource_arn().unwrap_or_default().to_owned(),
                    tags: mapping
                        .tags()
                        .iter()
                        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                        .collect(),
                }
            }));
            // The last page carries an empty token rather than none.
            pagination_token = page
                .pagination_token()
                .filter(|token| !token.is_empty())
                .map(str::to_owned);
            if pagination_token.is_none() {
                return Ok(found);
            }
        }
    }
}
