//! The provisioned Grafana dashboards (`grafana/dashboards/*.json`) as data: their
//! panels and each panel's PromQL, with Grafana's template variables replaced by what a
//! Grafana showing the local stack would put there, so a real Prometheus can run them. Grafana
//! itself is not packaged for these machines; this is how its queries get tested.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Error;

/// The folder of the dashboard JSON files, relative to the workspace root.
pub const DASHBOARDS: &str = "grafana/dashboards";

/// Variables Grafana defines itself, with the value the local stack's queries use: a
/// `$__rate_interval` of four scrapes of a 15 s-scrape Prometheus (Grafana's rule).
const BUILT_INS: [(&str, &str); 3] = [
    ("__rate_interval", "1m"),
    ("__interval", "15s"),
    ("__range", "1h"),
];

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub file: PathBuf,
    pub json: Value,
}

/// One query of one panel, as written and as runnable PromQL.
#[derive(Debug, Clone)]
pub struct PanelQuery {
    pub dashboard: String,
    pub panel: String,
    pub ref_id: String,
    pub expr: String,
    pub promql: String,
}

impl Dashboard {
    pub fn uid(&self) -> &str {
        self.json["uid"].as_str().unwrap_or_default()
    }

    pub fn title(&self) -> &str {
        self.json["title"].as_str().unwrap_or_default()
    }

    pub fn panels(&self) -> &[Value] {
        self.json["panels"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn variables(&self) -> &[Value] {
        self.json["templating"]["list"]
            .as_array()
            .map_or(&[], Vec::as_slice)
    }

    /// The names of the dashboard's own template variables.
    pub fn variable_names(&self) -> BTreeSet<&str> {
        self.variables()
            .iter()
            .filter_map(|variable| variable["name"].as_str())
            .collect()
    }

    /// Every target of every panel, with its variables substituted: a multi-value variable
    /// becomes `.*` (Grafana's "All"), a built-in its value above.
    pub fn queries(&self) -> Vec<PanelQuery> {
        self.panels()
            .iter()
            .flat_map(|panel| {
                let title = panel["title"].as_str().unwrap_or_default().to_owned();
                let targets = panel["targets"].as_array().cloned().unwrap_or_default();
                targets.into_iter().map(move |target| {
                    let expr = target["expr"].as_str().unwrap_or_default().to_owned();
                    PanelQuery {
                        dashboard: self.uid().to_owned(),
                        panel: title.clone(),
                        ref_id: target["refId"].as_str().unwrap_or_default().to_owned(),
                        promql: substitute(&expr),
                        expr,
                    }
                })
            })
            .collect()
    }
}

/// Every dashboard under `root`'s [`DASHBOARDS`], sorted by file name.
pub fn dashboards(root: &Path) -> Result<Vec<Dashboard>, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(DASHBOARDS))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file)?;
            let json = serde_json::from_str(&text).map_err(|error| Error::Answer {
                expected: "dashboard JSON",
                answer: format!("{}: {error}", file.display()),
            })?;
            Ok(Dashboard { file, json })
        })
        .collect()
}

/// The names of the variables `expr` refers to, as `$name` or `${name}`.
pub fn referenced_variables(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let braced = rest.starts_with('{');
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.insert(name);
        }
        if braced {
            rest = rest.trim_start_matches('{');
        }
    }
    names
}

fn substitute(expr: &str) -> String {
    let mut promql = expr.to_owned();
    for (name, value) in BUILT_INS {
        promql = promql
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    // What is left are the dashboards' own variables, all used inside `=~"..."` matchers.
    for name in referenced_variables(&promql) {
        promql = promql
            .replace(&format!("${{{name}}}"), ".*")
            .replace(&format!("${name}"), ".*");
    }
    promql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_found_in_every_spelling() {
        let names = referenced_variables(r#"x{a=~"$function", b=~"${queue}"}[$__rate_interval]"#);
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["__rate_interval", "function", "queue"]
        );
    }

    #[test]
    fn built_ins_get_values_and_own_variables_match_all() {
        assert_eq!(
            substitute(r#"rate(x{fn=~"$function"}[$__rate_interval])"#),
            r#"rate(x{fn=~".*"}[1m])"#
        );
    }
}
