//! The background loop: a scrape at start-up, then one every `-scraping-interval`, never two
//! at once (a tick that comes while a scrape runs is skipped). Every job × region runs
//! concurrently; one that fails (its account lookup or its CloudWatch calls) is logged and
//! yields no series without blanking the others. The finished scrape replaces the served
//! snapshot whole.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::config::Config;
use crate::scrape::{self, Context, Series};
use crate::self_metrics::SelfMetrics;
use crate::snapshot::{Latest, Snapshot};
use crate::{Error, cloudwatch, discovery, tagging};

/// The clients of one region.
#[derive(Debug)]
struct Clients {
    cloudwatch: cloudwatch::Client,
    tagging: tagging::Client,
    /// Tells the account, in the job's region as YACE does unless `sts-region` says otherwise.
    sts: aws_sdk_sts::Client,
}

/// A job of any kind, by its index in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    Discovery(usize),
    Static(usize),
    CustomNamespace(usize),
}

/// Everything a scrape needs, built once from the configuration.
#[derive(Debug)]
pub struct Scheduler {
    config: Config,
    clients: HashMap<String, Clients>,
    snake_case: bool,
    metrics: Arc<SelfMetrics>,
}

impl Scheduler {
    pub fn new(
        config: Config,
        sdk: &aws_config::SdkConfig,
        queries_per_call: usize,
        snake_case: bool,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        let clients = jobs(&config)
            .flat_map(|(_, regions)| regions)
            .map(|region| {
                let sts_region = config.sts_region.as_ref().unwrap_or(region);
                let sts = aws_sdk_sts::config::Builder::from(sdk)
                    .region(aws_config::Region::new(sts_region.clone()))
                    .build();
                let clients = Clients {
                    cloudwatch: cloudwatch::Client::new(
                        sdk,
                        region,
                        queries_per_call,
                        metrics.clone(),
                    ),
                    tagging: tagging::Client::new(sdk, region, metrics.clone()),
                    sts: aws_sdk_sts::Client::from_conf(sts),
                };
                (region.clone(), clients)
            })
            .collect();
        Scheduler {
            clients,
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
        for (job, regions) in jobs(&self.config) {
            for region in regions {
                let (this, region) = (self.clone(), region.clone());
                tasks.spawn(async move {
                    let result = this.scrape_job(job, &region, now).await;
                    if let Err(error) = &result {
                        tracing::error!(?job, %region, %error, "job failed; its series are left out");
                    }
                    (job, region, result.unwrap_or_default())
                });
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
        done.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        done.into_iter().flat_map(|(_, _, series)| series).collect()
    }

    async fn scrape_job(
        &self,
        job: Job,
        region: &str,
        now: SystemTime,
    ) -> Result<Vec<Series>, Error> {
        let clients = &self.clients[region];
        // YACE labels every series with the account of the credentials, asked every scrape.
        let identity = clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|error| Error::aws("GetCallerIdentity", error))?;
        let context = Context {
            region,
            account_id: identity.account().unwrap_or_default(),
            snake_case: self.snake_case,
        };
        let config = &self.config;
        match job {
            Job::Discovery(index) => {
                let job = &config.discovery_jobs[index];
                discovery::discovery_job(job, context, &clients.cloudwatch, &clients.tagging, now)
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
        }
    }
}

/// Every job of the configuration with its regions.
fn jobs(config: &Config) -> impl Iterator<Item = (Job, &Vec<String>)> {
    let discovery = config.discovery_jobs.iter().enumerate();
    let statics = config.static_jobs.iter().enumerate();
    let custom = config.custom_namespace_jobs.iter().enumerate();
    discovery
        .map(|(i, job)| (Job::Discovery(i), &job.regions))
        .chain(statics.map(|(i, job)| (Job::Static(i), &job.regions)))
        .chain(custom.map(|(i, job)| (Job::CustomNamespace(i), &job.regions)))
}
