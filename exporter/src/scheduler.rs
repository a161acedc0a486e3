//! The background loop: a scrape at start-up, then one every `-scraping-interval`, never two
//! at once (a tick that comes while a scrape runs is skipped). Every job × region runs
//! concurrently; one that fails is logged and yields no series without blanking the others.
//! The finished scrape replaces the served snapshot whole.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::Error;
use crate::cloudwatch;
use crate::config::Config;
use crate::scrape::{self, Context, Series};
use crate::snapshot::{Latest, Snapshot};

/// Everything a scrape needs, built once from the configuration.
#[derive(Debug)]
pub struct Scheduler {
    config: Config,
    /// One CloudWatch client per region named by any job.
    cloudwatch: HashMap<String, cloudwatch::Client>,
    sts: aws_sdk_sts::Client,
    snake_case: bool,
}

impl Scheduler {
    pub fn new(
        config: Config,
        sdk: &aws_config::SdkConfig,
        queries_per_call: usize,
        snake_case: bool,
    ) -> Self {
        let mut sts = aws_sdk_sts::config::Builder::from(sdk);
        if let Some(region) = &config.sts_region {
            sts = sts.region(aws_config::Region::new(region.clone()));
        }
        let cloudwatch = config
            .static_jobs
            .iter()
            .flat_map(|job| &job.regions)
            .map(|region| {
                let client = cloudwatch::Client::new(sdk, region, queries_per_call);
                (region.clone(), client)
            })
            .collect();
        Scheduler {
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            cloudwatch,
            config,
            snake_case,
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
        // YACE reads the account id of the credentials on every scrape; it labels every series.
        let account_id = match self.account_id().await {
            Ok(id) => Arc::<str>::from(id),
            Err(error) => {
                tracing::error!(%error, "cannot tell the AWS account; no job ran");
                return Vec::new();
            }
        };
        let now = SystemTime::now();
        let mut tasks = JoinSet::new();
        for (index, job) in self.config.static_jobs.iter().enumerate() {
            for region in &job.regions {
                let (this, account_id, region) = (self.clone(), account_id.clone(), region.clone());
                tasks.spawn(async move {
                    let job = &this.config.static_jobs[index];
                    let context = Context {
                        region: &region,
                        account_id: &account_id,
                        snake_case: this.snake_case,
                    };
                    let result =
                        scrape::static_job(job, context, &this.cloudwatch[&region], now).await;
                    if let Err(error) = &result {
                        tracing::error!(job = %job.name, %region, %error, "job failed; its series are left out");
                    }
                    (index, region, result.unwrap_or_default())
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

    async fn account_id(&self) -> Result<String, Error> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|error| Error::aws("GetCallerIdentity", error))?;
        Ok(identity.account().unwrap_or_default().to_owned())
    }
}
