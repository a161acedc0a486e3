//! The shape of the provisioned Grafana dashboards, checked without Grafana (it is not packaged
//! for these machines): fixed unique uids, a templated Prometheus datasource on every panel and
//! target, the pipeline's variables, and a query on every panel that names only variables the
//! dashboard defines. That the queries run is `grafana_queries`' claim.

use std::collections::{BTreeMap, BTreeSet};

use devstack::grafana::{self, Dashboard};
use serde_json::Value;

fn dashboards() -> Vec<Dashboard> {
    let dashboards = grafana::dashboards(&devstack::workspace_root()).unwrap();
    assert!(
        dashboards.len() >= 7,
        "found {} dashboards",
        dashboards.len()
    );
    dashboards
}

fn file_stem(dashboard: &Dashboard) -> String {
    dashboard
        .file
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_dashboard_has_a_fixed_unique_uid_named_like_its_file() {
    let mut seen = BTreeMap::new();
    for dashboard in dashboards() {
        let uid = dashboard.uid().to_owned();
        // Grafana's limit is 40 characters; a stable uid keeps links and provisioning stable.
        assert!(
            !uid.is_empty()
                && uid.len() <= 40
                && uid
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}: uid {uid:?}",
            dashboard.file.display()
        );
        assert_eq!(uid, file_stem(&dashboard));
        assert!(dashboard.json.get("id").is_none_or(Value::is_null));
        assert!(!dashboard.title().is_empty());
        assert!(
            seen.insert(uid.clone(), dashboard.file.clone()).is_none(),
            "uid {uid} used twice"
        );
    }
}

#[test]
fn the_datasource_is_a_prometheus_variable_used_by_every_panel_and_target() {
    let templated = |value: &Value| {
        value["type"] == "prometheus" && value["uid"].as_str() == Some("${datasource}")
    };
    for dashboard in dashboards() {
        let uid = dashboard.uid();
        let datasource = dashboard
            .variables()
            .iter()
            .find(|variable| variable["name"] == "datasource")
            .unwrap_or_else(|| panic!("{uid}: no datasource variable"));
        assert_eq!(datasource["type"], "datasource", "{uid}");
        assert_eq!(datasource["query"], "prometheus", "{uid}");
        for variable in dashboard.variables() {
            if variable["type"] == "query" {
                assert!(templated(&variable["datasource"]), "{uid}: {variable}");
            }
        }
        for panel in dashboard.panels() {
            assert!(templated(&panel["datasource"]), "{uid}: {}", panel["title"]);
            for target in panel["targets"].as_array().into_iter().flatten() {
                assert!(templated(&target["datasource"]), "{uid}: {target}");
            }
        }
    }
}

#[test]
fn every_panel_has_a_title_a_description_and_queries_with_distinct_ref_ids() {
    for dashboard in dashboards() {
        let uid = dashboard.uid();
        let mut ids = BTreeSet::new();
        for panel in dashboard.panels() {
            let title = panel["title"].as_str().unwrap_or_default();
            assert!(!title.is_empty(), "{uid}: a panel without a title");
            assert!(
                panel["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{uid}: {title} has no description"
            );
            assert!(ids.insert(panel["id"].as_u64()), "{uid}: {title}'s id");
            let targets = panel["targets"].as_array().cloned().unwrap_or_default();
            assert!(!targets.is_empty(), "{uid}: {title} has no targets");
            let mut ref_ids = BTreeSet::new();
            for target in &targets {
                assert!(
                    target["expr"]
                        .as_str()
                        .is_some_and(|e| !e.trim().is_empty()),
                    "{uid}: {title} has an empty query"
                );
                assert!(ref_ids.insert(target["refId"].as_str()), "{uid}: {title}");
            }
            let grid = &panel["gridPos"];
            let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
            assert!(
                x + w <= 24 && grid["h"].as_u64() > Some(0),
                "{uid}: {title}"
            );
        }
    }
}

#[test]
fn queries_name_only_variables_their_dashboard_defines() {
    const BUILT_INS: [&str; 3] = ["__rate_interval", "__interval", "__range"];
    for dashboard in dashboards() {
        let defined = dashboard.variable_names();
        let queries = dashboard.queries();
        let variable_queries = dashboard.variables().iter().filter_map(|variable| {
            variable["query"]["query"]
                .as_str()
                .map(|query| (variable["name"].as_str().unwrap_or_default(), query))
        });
        let texts = queries
            .iter()
            .map(|query| (query.panel.as_str(), query.expr.as_str()))
            .chain(variable_queries);
        for (place, text) in texts {
            for name in grafana::referenced_variables(text) {
                assert!(
                    defined.contains(name.as_str()) || BUILT_INS.contains(&name.as_str()),
                    "{}: {place} uses ${name}, which is not defined",
                    dashboard.uid()
                );
            }
        }
        for query in queries {
            assert!(
                !query.promql.contains('$'),
                "{}: {}",
                query.panel,
                query.promql
            );
        }
    }
}

#[test]
fn the_pipeline_variables_function_queue_and_table_exist() {
    let all = dashboards();
    let variables = |uid: &str| {
        all.iter()
            .find(|dashboard| dashboard.uid() == uid)
            .unwrap_or_else(|| panic!("no dashboard {uid}"))
            .variable_names()
            .into_iter()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
    };
    for (uid, variable) in [
        ("image-pipeline-overview", "function"),
        ("image-pipeline-overview", "dead_letter_queue"),
        ("image-pipeline-lambda", "function"),
        ("image-pipeline-sqs", "queue"),
        ("image-pipeline-dynamodb", "table"),
        ("image-pipeline-step-functions", "state_machine"),
        ("image-pipeline-api-gateway", "api"),
        ("image-pipeline-exporter", "job"),
    ] {
        assert!(variables(uid).contains(variable), "{uid} lacks ${variable}");
    }
    // Each filter variable is a label_values query over the series it filters.
    for dashboard in &all {
        for variable in dashboard.variables() {
            if variable["type"] == "query" {
                let query = variable["query"]["query"].as_str().unwrap_or_default();
                assert!(query.starts_with("label_values("), "{query}");
                assert_eq!(variable["definition"].as_str(), Some(query));
            }
        }
    }
}

#[test]
fn the_provisioning_files_point_grafana_at_these_dashboards() {
    // deploy/docker-compose.yml mounts grafana/ at /srv/pipeline/grafana as the provisioning
    // folder.
    let root = devstack::workspace_root().join("grafana");
    let compose =
        std::fs::read_to_string(devstack::workspace_root().join("deploy/docker-compose.yml"))
            .unwrap();
    assert!(compose.contains("GF_PATHS_PROVISIONING=/srv/pipeline/grafana"));
    assert!(compose.contains("../grafana:/srv/pipeline/grafana"));
    let provider = std::fs::read_to_string(root.join("dashboards/image-pipeline.yml")).unwrap();
    assert!(provider.contains("path: /srv/pipeline/grafana/dashboards"));
    assert!(provider.contains("type: file"));
    let datasource = std::fs::read_to_string(root.join("datasources/prometheus.yml")).unwrap();
    assert!(datasource.contains("type: prometheus"));
    assert!(datasource.contains("isDefault: true"));
}
