//! The alert and recording rules of `alert-rules/` read series that the exporter really
//! serves: every `aws_*` series name in their expressions is one that
//! `deploy/exporter.yml` produces under YACE's naming rules (the exporter's own
//! `naming::metric_name`). A misspelt name in a rule would otherwise match nothing and leave
//! its alert silent forever, which no promtool test notices.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use exporter::{config, naming};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

/// Every series name the configuration makes: one per namespace, metric and statistic.
fn served_names(config: &config::Config) -> BTreeSet<String> {
    let jobs = config
        .discovery_jobs
        .iter()
        .map(|job| (&job.namespace, &job.metrics))
        .chain(
            config
                .custom_namespace_jobs
                .iter()
                .map(|job| (&job.namespace, &job.metrics)),
        )
        .chain(
            config
                .static_jobs
                .iter()
                .map(|job| (&job.namespace, &job.metrics)),
        );
    let mut names = BTreeSet::new();
    for (namespace, metrics) in jobs {
        for metric in metrics {
            for statistic in &metric.statistics {
                names.insert(naming::metric_name(namespace, &metric.name, statistic));
            }
        }
    }
    names
}

/// The `aws_*` series names in the expressions of every rule file: whole identifiers, so a
/// recording rule's name such as `aws_lambda:errors:sum5m` is not one.
fn names_in_rules() -> BTreeSet<(String, String)> {
    let dir = repository().join("alert-rules");
    let mut found = BTreeSet::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".rules.yml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "rule files in {}: {files:?}",
        dir.display()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        for group in rules["groups"].as_sequence().unwrap() {
            for rule in group["rules"].as_sequence().unwrap() {
                let expr = rule["expr"].as_str().unwrap();
                let identifiers =
                    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
                for identifier in identifiers {
                    if identifier.starts_with("aws_") && !identifier.contains(':') {
                        let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
                        found.insert((file_name, identifier.to_owned()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_aws_series_in_the_rules_is_served_by_the_deploy_config() {
    let loaded = config::load(&repository().join("deploy/exporter.yml")).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let served = served_names(&loaded.config);
    let used = names_in_rules();
    assert!(
        used.len() >= 15,
        "too few series found in the rules: {used:?}"
    );
    let missing: Vec<_> = used
        .iter()
        .filter(|(_, name)| !served.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "rules read series that deploy/exporter.yml does not serve: {missing:?}; it serves {served:?}"
    );
}

#[test]
fn api_gateway_5xx_errors_are_named_as_yace_names_them() {
    // The one name in the rules that YACE's camel-case splitting makes surprising.
    assert_eq!(
        naming::metric_name("AWS/ApiGateway", "5XXError", "Sum"),
        "aws_apigateway_5_xxerror_sum"
    );
}
