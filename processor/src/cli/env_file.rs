//! The `--env-file` format: the Lambda's environment written down, one `NAME=VALUE` a line, as
//! in a shell or a `.env` file. Blank lines and lines starting with `#` are skipped; a value in
//! one pair of matching quotes (`'...'` or `"..."`) loses them, so a `VARIANTS` JSON list can be
//! written as a shell would take it. Nothing is expanded. A line without `=` or a name given
//! twice is refused with its line number.

use std::collections::HashMap;
use std::path::Path;

use crate::Failure;

pub fn read(path: &Path) -> Result<HashMap<String, String>, Failure> {
    let text = std::fs::read_to_string(path).map_err(|error| Failure::File {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    parse(&text).map_err(|message| Failure::File {
        path: path.to_owned(),
        message,
    })
}

fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    let mut variables = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("line {number}: expected NAME=VALUE"));
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("line {number}: {name:?} is not a variable name"));
        }
        let value = value.trim();
        let value = ['\'', '"']
            .iter()
            .find_map(|quote| {
                value
                    .strip_prefix(*quote)
                    .and_then(|rest| rest.strip_suffix(*quote))
            })
            .unwrap_or(value);
        if variables
            .insert(name.to_owned(), value.to_owned())
            .is_some()
        {
            return Err(format!("line {number}: {name} is set twice"));
        }
    }
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_json_loses_its_quotes_only() {
        let variables = parse(
            "# the dev function\n\nVARIANTS='[{\"name\": \"thumb\"}]'\nexport ENVIRONMENT=dev\n\
             CACHE_CONTROL=\"public, max-age=60\"\n",
        )
        .unwrap();
        assert_eq!(variables["VARIANTS"], "[{\"name\": \"thumb\"}]");
        assert_eq!(variables["ENVIRONMENT"], "dev");
        assert_eq!(variables["CACHE_CONTROL"], "public, max-age=60");
    }

    #[test]
    fn line_without_equals_is_refused_with_its_number() {
        assert_eq!(
            parse("ENVIRONMENT=dev\nVARIANTS\n").unwrap_err(),
            "line 2: expected NAME=VALUE"
        );
    }

    #[test]
    fn name_set_twice_is_refused() {
        assert_eq!(parse("A=1\nA=2\n").unwrap_err(), "line 2: A is set twice");
    }
}
