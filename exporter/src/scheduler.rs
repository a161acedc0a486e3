//! The background loop: a scrape at start-up, then one every `-scraping-interval`, never two
//! at once (a tick that comes while a scrape runs is skipped). Every job × region × role runs
//! concurrently; one that fails (its account lookup or its AWS calls) is logged and yields no
//! series without blanking the others. The finished scrape replaces the served snapshot whole.
//!
//! Clients are built once per region and role: a role is assumed through STS (with its
//! `externalId`, in `sts-region` when set) and its credentials are refreshed by the SDK. The
//! account id of each set of credentials is asked once and kept, not asked every scrape.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::config::{Config, Role};
use crate::scrape::{self, Context, Series};
use crate::self_metrics::SelfMetrics;
use crate::snapshot::{Latest, Snapshot};
use crate::{Error, apigateway, cloudwatch, discovery, logs, tagging};

/// The clients of one region under one role's credentials.
#[derive(Debug)]
struct Clients {
    cloudwatch: cloudwatch::Client,
    tagging: tagging::Client,
    /// Asked by `AWS/ApiGateway` discovery jobs only; building it sends nothing.
    api_gateway: apigateway::Client,
    /// Asked by logs jobs only; building it sends nothing.
    logs: logs::Client,
    /// Tells the account, in the job's region as YACE does unless `sts-region` says otherwise.
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    account_id: OnceLock<String>,
    account_alias: OnceLock<Option<String>>,
}

impl Clients {
    /// The account of these credentials; asked of STS the first time only.
    async fn account_id(&self) -> Result<&str, Error> {
        if let Some(id) = self.account_id.get() {
            return Ok(id);
        }
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|error| Error::aws("GetCallerIdentity", error))?;
        let id = identity.account().unwrap_or_default().to_owned();
        Ok(self.account_id.get_or_init(|| id))
    }

    /// The account's first IAM alias, asked until it has been answered once. A failure (the
    /// permission is optional in YACE) is a warning and no alias, not a failed job.
    async fn account_alias(&self) -> Option<&str> {
        if let Some(alias) = self.account_alias.get() {
            return alias.as_deref();
        }
        match self.iam.list_account_aliases().send().await {
            Ok(answer) => {
                let alias = answer.account_aliases().first().cloned();
                self.account_alias.get_or_init(|| alias).as_deref()
            }
            Err(error) => {
                let error = Error::aws("ListAccountAliases", error);
                tracing::warn!(%error, "no account_alias label this scrape");
                None
            }
        }
    }
}

/// A job of any kind, by its index in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    Discovery(usize),
    Static(usize),
    CustomNamespace(usize),
    Logs(usize),
}

/// Everything a scrape needs, built once from the configuration.
#[derive(Debug)]
pub struct Scheduler {
    config: Config,
    clients: HashMap<(String, Role), Clients>,
    /// What each logs job has counted so far, by job, region and role.
    tallies: HashMap<(usize, String, Role), logs::Tally>,
    snake_case: bool,
    metrics: Arc<SelfMetrics>,
}

impl Scheduler {
    pub async fn new(
        config: Config,
        sdk: &aws_config::SdkConfig,
        queries_per_call: usize,
        snake_case: bool,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        let mut clients = HashMap::new();
        for (_, regions, roles) in jobs(&config) {
            for region in regions {
                for role in roles {
                    let key = (region.clone(), role.clone());
                    if clients.contains_key(&key) {
                        continue;
                    }
                    let sts_region = config.sts_region.as_ref().unwrap_or(region);
                    let credentials = credentials(sdk, role, sts_region).await;
                    let sts = aws_sdk_sts::config::Builder::from(&credentials)
                        .region(aws_config::Region::new(sts_region.clone()))
                        .build();
                    let regional = Clients {
                        cloudwatch: cloudwatch::Client::new(
                            &credentials,
                            region,
                            queries_per_call,
                            metrics.clone(),
                        ),
                        tagging: tagging::Client::new(&credentials, region, metrics.clone()),
                        api_gateway: apigateway::Client::new(&credentials, region, metrics.clone()),
                        logs: logs::Client::new(&credentials, region, metrics.clone()),
                        sts: aws_sdk_sts::Client::from_conf(sts),
                        // IAM is global; the region only picks the signing region.
                        iam: aws_sdk_iam::Client::from_conf(
                            aws_sdk_iam::config::Builder::from(&credentials)
                                .region(aws_config::Region::new(sts_region.clone()))
                                .build(),
                        ),
                        account_id: OnceLock::new(),
                        account_alias: OnceLock::new(),
                    };
                    clients.insert(key, regional);
                }
            }
        }
        let mut tallies = HashMap::new();
        for (index, job) in config.logs_jobs.iter().enumerate() {
            for region in &job.regions {
                for role in &job.roles {
                    tallies.insert(
                        (index, region.clone(), role.clone()),
                        logs::Tally::default(),
                    );
                }
            }
        }
        Scheduler {
            clients,
            tallies,
            config,
            snake_case,
            metrics,
        }
    }

    /// Scrapes forever into `latest`.
    pub async fn run(self: Arc<Self>, latest: Arc<Latest>, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            let started = Instant::now();
            let snapshot = Snapshot::new(self.clone().scrape().await);
            self.metrics.duplicates_filtered(snapshot.duplicates());
            if snapshot.duplicates() > 0 {
                tracing::warn!(
                    duplicates = snapshot.duplicates(),
                    "dropped series with the same name and labels as an earlier one"
                );
            }
            tracing::info!(
                series = snapshot.series_count(),
                seconds = started.elapsed().as_secs_f64(),
                "scrape finished"
            );
            latest.replace(snapshot);
        }
    }

    /// One scrape of every job in every region.
    pub async fn scrape(self: Arc<Self>) -> Vec<Series> {
        let now = SystemTime::now();
        let mut tasks = JoinSet::new();
        for (job, regions, roles) in jobs(&self.config) {
            for region in regions {
                for role in roles {
                    let this = self.clone();
                    let key = (region.clone(), role.clone());
                    tasks.spawn(async move {
                        let result = this.scrape_job(job, &key, now).await;
                        if let Err(error) = &result {
                            let (region, role) = (&key.0, key.1.role_arn.as_deref().unwrap_or(""));
                            tracing::error!(?job, %region, %role, %error, "job failed; its series are left out");
                        }
                        ((job, key), result.unwrap_or_default())
                    });
                }
            }
        }

        // Jobs finish in any order; sort so that duplicate filtering keeps the same series.
        let mut done = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => done.push(result),
                Err(panic) => tracing::error!(%panic, "a job panicked; its series are left out"),
            }
        }
        done.sort_by(|a, b| {
            let key = |((job, (region, role)), _): &((Job, (String, Role)), _)| {
                (*job, region.clone(), role.role_arn.clone())
            };
            key(a).cmp(&key(b))
        });
        done.into_iter().flat_map(|(_, series)| series).collect()
    }

    async fn scrape_job(
        &self,
        job: Job,
        key: &(String, Role),
        now: SystemTime,
    ) -> Result<Vec<Series>, Error> {
        let clients = &self.clients[key];
        // YACE labels every series with the account of the credentials the job runs with.
        let context = Context {
            region: &key.0,
            account_id: clients.account_id().await?,
            account_alias: clients.account_alias().await,
            snake_case: self.snake_case,
        };
        let config = &self.config;
        match job {
            Job::Discovery(index) => {
                let job = &config.discovery_jobs[index];
                discovery::discovery_job(
                    job,
                    context,
                    &clients.cloudwatch,
                    &clients.tagging,
                    &clients.api_gateway,
                    now,
                )
                .await
            }
            Job::Static(index) => {
                let job = &config.static_jobs[index];
                scrape::static_job(job, context, &clients.cloudwatch, now).await
            }
            Job::CustomNamespace(index) => {
                let job = &config.custom_namespace_jobs[index];
                discovery::custom_namespace_job(job, context, &clients.cloudwatch, now).await
            }
            Job::Logs(index) => {
                let tally = &self.tallies[&(index, key.0.clone(), key.1.clone())];
                let job = &config.logs_jobs[index];
                logs::logs_job(job, context, &clients.logs, tally, now).await
            }
        }
    }
}

/// Every job of the configuration with its regions and roles.
fn jobs(config: &Config) -> impl Iterator<Item = (Job, &Vec<String>, &Vec<Role>)> {
    let discovery = config.discovery_jobs.iter().enumerate();
    let statics = config.static_jobs.iter().enumerate();
    let custom = config.custom_namespace_jobs.iter().enumerate();
    let logs = config.logs_jobs.iter().enumerate();
    discovery
        .map(|(i, job)| (Job::Discovery(i), &job.regions, &job.roles))
        .chain(statics.map(|(i, job)| (Job::Static(i), &job.regions, &job.roles)))
        .chain(custom.map(|(i, job)| (Job::CustomNamespace(i), &job.regions, &job.roles)))
        .chain(logs.map(|(i, job)| (Job::Logs(i), &job.regions, &job.roles)))
}

/// The ambient credentials, or those of `role` assumed from them through STS in `sts_region`.
async fn credentials(
    sdk: &aws_config::SdkConfig,
    role: &Role,
    sts_region: &str,
) -> aws_config::SdkConfig {
    let Some(role_arn) = &role.role_arn else {
        return sdk.clone();
    };
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("cloudwatch-exporter")
        .region(aws_config::Region::new(sts_region.to_owned()))
        .configure(sdk);
    if let Some(external_id) = &role.external_id {
        provider = provider.external_id(external_id);
    }
    let provider = provider.build().await;
    sdk.to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            provider,
        ))
        .build()
}
