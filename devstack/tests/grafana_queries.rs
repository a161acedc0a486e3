//! Every panel query of `grafana/dashboards/` and every rule expression of `alert-rules/`,
//! run by a real Prometheus through its query API: each must parse and evaluate. That the panels
//! whose data the local pipeline produces return data is `tests/pipeline.rs`'s claim, on the
//! pipeline's own Prometheus.

use devstack::grafana;
use devstack::prometheus::Prometheus;
use yaml_rust2::{Yaml, YamlLoader};

/// `(file, rule name, expression)` of every rule in `alert-rules/*.rules.yml`.
fn rule_expressions() -> Vec<(String, String, String)> {
    let folder = devstack::workspace_root().join("alert-rules");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".rules.yml"))
        .collect();
    files.sort();
    let mut rules = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for document in YamlLoader::load_from_str(&text).unwrap() {
            for group in document["groups"].as_vec().into_iter().flatten() {
                for rule in group["rules"].as_vec().into_iter().flatten() {
                    let title = match (&rule["alert"], &rule["record"]) {
                        (Yaml::String(alert), _) => alert.clone(),
                        (_, Yaml::String(record)) => record.clone(),
                        _ => panic!("{name}: a rule that is neither alert nor record"),
                    };
                    let expr = rule["expr"].as_str().unwrap().to_owned();
                    rules.push((name.clone(), title, expr));
                }
            }
        }
    }
    rules
}

#[test]
fn every_panel_query_and_every_rule_expression_evaluates_in_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let prometheus = Prometheus::start(dir.path(), &[], 2, None).unwrap();

    let dashboards = grafana::dashboards(&devstack::workspace_root()).unwrap();
    let queries: Vec<_> = dashboards.iter().flat_map(|d| d.queries()).collect();
    assert!(queries.len() > 40, "only {} panel queries", queries.len());
    let mut failures = Vec::new();
    for query in &queries {
        if let Err(error) = prometheus.query(&query.promql, None) {
            failures.push(format!(
                "{} / {} / {}: {error}",
                query.dashboard, query.panel, query.ref_id
            ));
        }
    }

    let rules = rule_expressions();
    assert!(rules.len() > 30, "only {} rules", rules.len());
    for (file, rule, expr) in &rules {
        if let Err(error) = prometheus.query(expr, None) {
            failures.push(format!("{file} / {rule}: {error}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
