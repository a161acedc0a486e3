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

use crate::Error;
use crate::cloudwatch;
use crate::config::Config;
use crate::scrape::{self, Context, Series};
use crate::snapshot::{Latest, Snapshot};

/// Everything a scrape needs, built once from the configuration.
#[derive(Debug)]
pub struct Scheduler {
    config: Config,
    /// Per region named by any job: its CloudWatch client and the STS client that tells the
    /// account (in the job's region, as YACE does, unless `sts-region` says otherwise).
    clients: HashMap<String, (cloudwatch::Client, aws_sdk_sts::Client)>,
    snake_case: bool,
}

impl Scheduler {
    pub fn new(
        config: Config,
        sdk: &aws_config::SdkConfig,
        queries_per_call: usize,
        snake_case: bool,
    ) -> Self {
        let clients = config
            .static_jobs
            .iter()
            .flat_map(|job| &job.regions)
            .map(|region| {
                let sts_region = config.sts_region.as_ref().unwrap_or(region);
                let sts = aws_sdk_sts::config::Builder::from(sdk)
                    .region(aws_config::Region::new(sts_region.clone()))
                    .build();
                let clients = (
                    cloudwatch::Client::new(sdk, region, queries_per_call),
                    aws_sdk_sts::Client::from_conf(sts),
                );
                (region.clone(), clients)
            })
            .collect();
        Scheduler {
            clients,
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
        let now = SystemTime::now();
        let mut tasks = JoinSet::new();
        for (index, job) in self.config.static_jobs.iter().enumerate() {
            for region in &job.regions {
                let (this, region) = (self.clone(), region.clone());
                tasks.spawn(async move {
                    let job = &this.config.static_jobs[index];
                    let result = this.scrape_job(index, &region, now).await;
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

    async fn scrape_job(
        &self,
        index: usize,
        region: &str,
        now: SystemTime,
    ) -> Result<Vec<Series>, Error> {
        let (cloudwatch, sts) = &self.clients[region];
        // YACE labels every series with the account of the credentials, asked every scrape.
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|error| Error::aws("GetCallerIdentity", error))?;
        let context = Context {
            region,
            account_id: identity.account().unwrap_or_default(),
            snake_case: self.snake_case,
        };
        scrape::static_job(&self.config.static_jobs[index], context, cloudwatch, now).await
    }
}
