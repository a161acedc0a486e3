//! The background loop: a scrape at start-up, then one every `-scraping-interval`, never two
//! at once (a tick that comes while a scrape runs is skipped and counted). Every job × region ×
//! role of this shard ([`crate::shard`]) runs concurrently; one that fails (its account lookup
//! or its AWS calls) is logged and keeps serving its last good series for the configuration's
//! `staleness`, then serves none, without touching the others. Each scrape's outcome per job
//! goes to the health metrics. The finished scrape replaces the served snapshot whole.
//!
//! Clients are built once per region and role: a role is assumed through STS (with its
//! `externalId`, in `sts-region` when set) and its credentials are refreshed by the SDK. The
//! account id and alias of each set of credentials are kept for `cache.account`, not asked
//! every scrape. All jobs of one region and role share one rate budget per API
//! ([`crate::calls`]) and one [`Cached`] set of answers (`cache:` TTLs, datapoint reuse).
//!
//! Everything a scheduler keeps between scrapes (clients, the account id, last good series,
//! and any cache of AWS answers) lives in it, and a reload builds a new scheduler: so caches
//! are dropped on reload by construction. A cache belongs in [`Clients`] (per region and
//! role) or in [`Scheduler`], never in a static.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, future};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::cache::{Cached, Clock, Ttl};
use crate::calls::{Budgets, Calls};
use crate::config::{Config, Role};
use crate::scrape::{self, Context, Series};
use crate::self_metrics::{JobLabels, JobOutcome, SelfMetrics};
use crate::shard::Shard;
use crate::snapshot::{Latest, Snapshot};
use crate::{Error, apigateway, cloudwatch, discovery, logs, tagging};

/// The clients of one region under one role's credentials.
#[derive(Debug)]
struct Clients {
    cloudwatch: Cached<cloudwatch::Client>,
    tagging: Cached<tagging::Client>,
    /// Asked by `AWS/ApiGateway` discovery jobs only; building it sends nothing.
    api_gateway: Cached<apigateway::Client>,
    /// Asked by logs jobs only; building it sends nothing.
    logs: logs::Client,
    /// Tells the account, in the job's region as YACE does unless `sts-region` says otherwise.
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    /// Shared by every job of this region and role.
    calls: Calls,
    account_id: Ttl<(), String>,
    account_alias: Ttl<(), Option<String>>,
}

impl Clients {
    /// The account of these credentials; asked of STS once per `cache.account`.
    async fn account_id(&self) -> Result<String, Error> {
        let ask = async {
            let identity = self
                .calls
                .send("GetCallerIdentity", || {
                    self.sts.get_caller_identity().send()
                })
                .await
                .map_err(|error| Error::aws("GetCallerIdentity", error))?;
            Ok(identity.account().unwrap_or_default().to_owned())
        };
        self.account_id.get_or((), ask).await
    }

    /// The account's first IAM alias, kept for `cache.account` once answered. A failure (the
    /// permission is optional in YACE) is a warning and no alias, not a failed job.
    async fn account_alias(&self) -> Option<String> {
        let ask = async {
            let answer = self
                .calls
                .send("ListAccountAliases", || {
                    self.iam.list_account_aliases().send()
                })
                .await
                .map_err(|error| Error::aws("ListAccountAliases", error))?;
            Ok(answer.account_aliases().first().cloned())
        };
        match self.account_alias.get_or((), ask).await {
            Ok(alias) => alias,
            Err(error) => {
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

/// One job in one region under one role: what the health metrics and shards are about.
#[derive(Debug)]
struct Unit {
    job: Job,
    key: (String, Role),
    labels: JobLabels,
}

/// A unit's last good series and when it got them: the very series the scrape served, shared.
#[derive(Debug)]
struct Kept {
    series: Arc<[Series]>,
    at: SystemTime,
}

/// How the scheduler runs, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// YACE's `-metrics-per-query`.
    pub queries_per_call: usize,
    /// YACE's `-labels-snake-case`.
    pub snake_case: bool,
    /// This replica's part of the work.
    pub shard: Shard,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            queries_per_call: cloudwatch::MAX_QUERIES_PER_CALL,
            snake_case: false,
            shard: Shard::WHOLE,
        }
    }
}

/// Everything a scrape needs, built once from the configuration.
#[derive(Debug)]
pub struct Scheduler {
    config: Config,
    /// This shard's units, in configuration order.
    units: Vec<Unit>,
    clients: HashMap<(String, Role), Clients>,
    /// What each logs job has counted so far, by job, region and role.
    tallies: HashMap<(usize, String, Role), logs::Tally>,
    snake_case: bool,
    metrics: Arc<SelfMetrics>,
    /// By index into `units`.
    last_good: Mutex<HashMap<usize, Kept>>,
}

impl Scheduler {
    pub async fn new(
        config: Config,
        sdk: &aws_config::SdkConfig,
        settings: Settings,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        let units = units(&config, settings.shard);
        let mut clients = HashMap::new();
        for unit in &units {
            let key = &unit.key;
            if clients.contains_key(key) {
                continue;
            }
            let (region, role) = key;
            let sts_region = config.sts_region.as_ref().unwrap_or(region);
            let credentials = credentials(sdk, role, sts_region, &metrics).await;
            let budgets = Arc::new(Budgets::aws());
            let sdk_config = crate::calls::sdk_retries_off(&credentials);
            let sts = aws_sdk_sts::config::Builder::from(&sdk_config)
                .region(aws_config::Region::new(sts_region.clone()))
                .build();
            let cache = config.cache;
            let regional = Clients {
                cloudwatch: Cached::new(
                    cloudwatch::Client::new(
                        &credentials,
                        region,
                        settings.queries_per_call,
                        metrics.clone(),
                    )
                    .with_budgets(budgets.clone()),
                    cache,
                    Clock::System,
                ),
                tagging: Cached::new(
                    tagging::Client::new(&credentials, region, metrics.clone())
                        .with_budgets(budgets.clone()),
                    cache,
                    Clock::System,
                ),
                api_gateway: Cached::new(
                    apigateway::Client::new(&credentials, region, metrics.clone())
                        .with_budgets(budgets.clone()),
                    cache,
                    Clock::System,
                ),
                logs: logs::Client::new(&credentials, region, metrics.clone())
                    .with_budgets(budgets.clone()),
                sts: aws_sdk_sts::Client::from_conf(sts),
                // IAM is global; the region only picks the signing region.
                iam: aws_sdk_iam::Client::from_conf(
                    aws_sdk_iam::config::Builder::from(&sdk_config)
                        .region(aws_config::Region::new(sts_region.clone()))
                        .build(),
                ),
                calls: Calls::new(metrics.clone(), budgets),
                account_id: Ttl::new(cache.account, Clock::System),
                account_alias: Ttl::new(cache.account, Clock::System),
            };
            clients.insert(key.clone(), regional);
        }
        if settings.shard != Shard::WHOLE {
            tracing::info!(shard = %settings.shard, units = units.len(), "scraping this shard's part of the jobs");
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
            units,
            config,
            snake_case: settings.snake_case,
            metrics,
            last_good: Mutex::default(),
        }
    }

    /// Scrapes forever into `latest`, one scrape at a time: a tick that finds the previous
    /// scrape still running is skipped and counted. Dropping the future stops the scrape in
    /// flight too.
    pub async fn run(self: Arc<Self>, latest: Arc<Latest>, interval: Duration) {
        // A reload may have removed jobs: their health series go with the old scheduler.
        self.metrics.forget_jobs();
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut running = JoinSet::new();
        loop {
            ticker.tick().await;
            while running.try_join_next().is_some() {}
            if !running.is_empty() {
                self.metrics.scrape_skipped();
                tracing::warn!("the previous scrape is still running; this tick is skipped");
                continue;
            }
            let (this, latest) = (self.clone(), latest.clone());
            running.spawn(async move { this.scrape_into(&latest).await });
        }
    }

    /// One scrape, served once complete.
    async fn scrape_into(self: Arc<Self>, latest: &Latest) {
        self.metrics.scrape_started();
        let started = Instant::now();
        let units = self.clone().scrape().await;
        let snapshot = Snapshot::new(units.iter().flat_map(|series| series.iter().cloned()));
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

    /// One scrape of every unit of this shard: each unit's series, in configuration order.
    pub async fn scrape(self: Arc<Self>) -> Vec<Arc<[Series]>> {
        let now = SystemTime::now();
        let mut tasks = JoinSet::new();
        for index in 0..self.units.len() {
            let this = self.clone();
            tasks.spawn(async move { (index, this.scrape_unit(index, now).await) });
        }
        // Units finish in any order; sort so that duplicate filtering keeps the same series.
        let mut done = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => done.push(result),
                Err(panic) => tracing::error!(%panic, "a job panicked; its series are left out"),
            }
        }
        done.sort_by_key(|(index, _)| *index);
        done.into_iter().map(|(_, series)| series).collect()
    }

    /// Scrapes one unit and records the outcome; a failure serves the last good series while
    /// they are younger than `staleness`.
    async fn scrape_unit(&self, index: usize, now: SystemTime) -> Arc<[Series]> {
        let unit = &self.units[index];
        let started = Instant::now();
        let result = self.scrape_job(unit.job, &unit.key, now).await;
        let duration = started.elapsed();
        let mut kept = self.last_good.lock().unwrap_or_else(|p| p.into_inner());
        let (series, outcome) = match result {
            Ok(series) => {
                let series: Arc<[Series]> = series.into();
                let outcome = JobOutcome {
                    duration,
                    last_success: Some(now),
                    succeeded: true,
                    series: series.len(),
                    stale: false,
                };
                kept.insert(
                    index,
                    Kept {
                        series: series.clone(),
                        at: now,
                    },
                );
                (series, outcome)
            }
            Err(error) => {
                let labels = &unit.labels;
                let last = kept.get(&index);
                let age = last.map(|last| now.duration_since(last.at).unwrap_or_default());
                let fresh_enough = age.is_some_and(|age| age <= self.config.staleness);
                let series = match last {
                    Some(last) if fresh_enough => last.series.clone(),
                    _ => Arc::default(),
                };
                tracing::error!(
                    job_type = labels.job_type, job_name = %labels.job_name,
                    region = %labels.region, role = %labels.role, %error,
                    stale_series = series.len(),
                    "job failed; {}",
                    if fresh_enough { "its last good series are served" } else { "its series are left out" }
                );
                let outcome = JobOutcome {
                    duration,
                    last_success: last.map(|last| last.at),
                    succeeded: false,
                    series: series.len(),
                    stale: fresh_enough,
                };
                (series, outcome)
            }
        };
        drop(kept);
        self.metrics.job_scraped(&unit.labels, outcome);
        series
    }

    async fn scrape_job(
        &self,
        job: Job,
        key: &(String, Role),
        now: SystemTime,
    ) -> Result<Vec<Series>, Error> {
        let clients = &self.clients[key];
        // YACE labels every series with the account of the credentials the job runs with.
        let account_id = clients.account_id().await?;
        let account_alias = clients.account_alias().await;
        let context = Context {
            region: &key.0,
            account_id: &account_id,
            account_alias: account_alias.as_deref(),
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

/// The units of `config` that `shard` scrapes, in configuration order. A unit whose labels
/// equal an earlier one's (two discovery jobs of one namespace) gets `#2`, `#3`... after its
/// job name, so that each unit has health series of its own; the shard is chosen on the
/// labels before that, so such twins always share a shard.
fn units(config: &Config, shard: Shard) -> Vec<Unit> {
    let discovery = config.discovery_jobs.iter().enumerate().map(|(i, job)| {
        let kind = (Job::Discovery(i), "discovery", &job.namespace);
        (kind, &job.regions, &job.roles)
    });
    let statics = config.static_jobs.iter().enumerate().map(|(i, job)| {
        (
            (Job::Static(i), "static", &job.name),
            &job.regions,
            &job.roles,
        )
    });
    let custom = config
        .custom_namespace_jobs
        .iter()
        .enumerate()
        .map(|(i, job)| {
            let kind = (Job::CustomNamespace(i), "custom_namespace", &job.name);
            (kind, &job.regions, &job.roles)
        });
    let logs = config.logs_jobs.iter().enumerate().map(|(i, job)| {
        let kind = (Job::Logs(i), "logs", &job.name);
        (kind, &job.regions, &job.roles)
    });
    let mut seen: HashMap<JobLabels, usize> = HashMap::new();
    let mut units = Vec::new();
    let all = discovery.chain(statics).chain(custom).chain(logs);
    for ((job, job_type, name), regions, roles) in all {
        for region in regions {
            for role in roles {
                let mut labels = JobLabels {
                    job_type,
                    job_name: name.clone(),
                    region: region.clone(),
                    role: role.role_arn.clone().unwrap_or_default(),
                };
                let owned = shard.owns(&labels);
                let twins = seen.entry(labels.clone()).or_default();
                *twins += 1;
                if *twins > 1 {
                    labels.job_name = format!("{name}#{twins}");
                }
                if owned {
                    let key = (region.clone(), role.clone());
                    units.push(Unit { job, key, labels });
                }
            }
        }
    }
    units
}

/// The ambient credentials, or those of `role` assumed from them through STS in `sts_region`.
/// Each AssumeRole call (at start and on every refresh) is counted under `api="AssumeRole"`;
/// its retries are the SDK's, as the credentials provider makes them.
pub(crate) async fn credentials(
    sdk: &aws_config::SdkConfig,
    role: &Role,
    sts_region: &str,
    metrics: &Arc<SelfMetrics>,
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
    let provider = CountedAssumeRole {
        inner: provider.build().await,
        metrics: metrics.clone(),
    };
    sdk.to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            provider,
        ))
        .build()
}

/// An AssumeRole credentials provider whose calls are counted in the health metrics.
#[derive(Debug)]
struct CountedAssumeRole {
    inner: aws_config::sts::AssumeRoleProvider,
    metrics: Arc<SelfMetrics>,
}

impl ProvideCredentials for CountedAssumeRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.metrics.api_request("AssumeRole");
            let answer = self.inner.provide_credentials().await;
            if answer.is_err() {
                self.metrics.api_error("AssumeRole");
            }
            answer
        })
    }
}
