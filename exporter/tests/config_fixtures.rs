//! YACE's configuration rules as fixtures, named by verdict: every `tests/config/*.ok.yml`
//! loads, and every `*.bad.yml` is refused with exactly the message in its `*.bad.txt`, which
//! names the key path and the line (`UPDATE_GOLDEN=1` writes missing `.txt` files; review them).

use std::path::{Path, PathBuf};

use exporter::config;

fn fixtures(suffix: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

#[test]
fn every_ok_fixture_loads() {
    let files = fixtures(".ok.yml");
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        if let Err(error) = config::load(&file) {
            panic!("{}: {error}", file.display());
        }
    }
}

#[test]
fn every_bad_fixture_is_refused_with_its_expected_message() {
    let files = fixtures(".bad.yml");
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let message = match config::load(&file) {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(error) => error.to_string(),
        };
        let expected_file = file.with_extension("txt");
        if std::env::var_os("UPDATE_GOLDEN").is_some() && !expected_file.exists() {
            std::fs::write(&expected_file, format!("{message}\n")).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|_| panic!("{} is missing", expected_file.display()));
        assert_eq!(message, expected.trim_end(), "{}", file.display());
    }
}
