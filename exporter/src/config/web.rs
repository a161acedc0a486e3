//! The web configuration file of the Prometheus exporters (`--web.config.file`, the format of
//! prometheus/exporter-toolkit): TLS, basic auth, response headers and a rate limit for the
//! HTTP server. Read strictly, as the toolkit reads it: an unknown key is an error, not a
//! warning, since a misspelt security setting must not pass silently. Paths inside the file
//! are relative to the file's own folder. What the server does with it lives in `server`.
//!
//! What rustls cannot do is refused with the reason rather than half done: TLS 1.0 and 1.1,
//! the client-auth types that accept unverified certificates, and `client_allowed_sans`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, Diagnostic, lines::Lines};

/// What the server enforces; the default (no file) is plain, open HTTP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebConfig {
    pub tls: Option<Tls>,
    /// User name to bcrypt hash; empty means no authentication.
    pub users: BTreeMap<String, String>,
    /// Headers added to every response.
    pub headers: Vec<(&'static str, String)>,
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tls {
    /// PEM: the certificate chain and the private key.
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
    pub client_auth: ClientAuth,
    /// The lowest and highest version allowed, as 12 or 13.
    pub versions: (u8, u8),
    /// TLS 1.2 cipher suites by their IANA (and Go) names; empty means rustls's defaults.
    pub cipher_suites: Vec<String>,
    pub curves: Vec<Curve>,
    /// Pick the server's preferred suite rather than the client's.
    pub prefer_server_cipher_suites: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientAuth {
    None,
    /// A client may go without a certificate, but one it shows must chain to the CA (PEM).
    VerifyIfGiven(Vec<u8>),
    /// Every client shows a certificate chaining to the CA (PEM).
    Require(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
    X25519,
    X25519Mlkem768,
}

/// A token bucket: one request every `interval`, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub interval: Duration,
    pub burst: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    tls_server_config: Option<RawTls>,
    http_server_config: Option<RawHttp>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
    rate_limit: Option<RawRateLimit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    client_allowed_sans: Option<Vec<String>>,
    min_version: Option<String>,
    max_version: Option<String>,
    #[serde(default)]
    cipher_suites: Vec<String>,
    prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    curve_preferences: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    /// HTTP/2 is not served (HTTP/1.1 only); the key is accepted so toolkit files load.
    #[allow(dead_code)]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    interval: String,
    burst: u32,
}

/// The headers the toolkit lets a file set, with the values it accepts (None: any).
const HEADERS: [(&str, Option<&[&str]>); 5] = [
    ("Content-Security-Policy", None),
    ("X-Frame-Options", Some(&["deny", "sameorigin"])),
    ("X-Content-Type-Options", Some(&["nosniff"])),
    ("X-XSS-Protection", None),
    ("Strict-Transport-Security", None),
];

/// Reads and validates the web configuration file at `path`.
pub fn load(path: &Path) -> Result<WebConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, path.parent().unwrap_or(Path::new(".")))
}

/// Validates a web configuration given as YAML text, reading the files it names from `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<WebConfig, ConfigError> {
    let lines = Lines::index(text);
    let invalid = |key: &str, message: String| {
        ConfigError::Invalid(Diagnostic {
            key: key.to_owned(),
            line: lines.line(key),
            message,
        })
    };
    let raw: RawWeb = if text.trim().is_empty() {
        RawWeb::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|error| {
            let message = super::strip_location(&error.to_string());
            let (key, message) = super::split_path(&message);
            ConfigError::Syntax(Diagnostic {
                line: error.location().map(|at| at.line()).or(lines.line(&key)),
                key,
                message,
            })
        })?
    };

    let mut headers = Vec::new();
    for (name, value) in raw
        .http_server_config
        .map(|h| h.headers)
        .unwrap_or_default()
    {
        let key = format!("http_server_config.headers.{name}");
        let Some(&(known, allowed)) = HEADERS.iter().find(|(known, _)| *known == name) else {
            let names: Vec<&str> = HEADERS.iter().map(|(known, _)| *known).collect();
            return Err(invalid(
                &key,
                format!("not a header this file may set ({})", names.join(", ")),
            ));
        };
        if let Some(allowed) = allowed.filter(|allowed| !allowed.contains(&value.as_str())) {
            return Err(invalid(
                &key,
                format!("{value:?} is not one of {}", allowed.join(", ")),
            ));
        }
        if !value.is_empty() {
            headers.push((known, value));
        }
    }

    for (user, hash) in &raw.basic_auth_users {
        if !hash.starts_with("$2") {
            return Err(invalid(
                &format!("basic_auth_users.{user}"),
                "not a bcrypt hash (`$2y$…`, e.g. from `htpasswd -nBC 10 \"\"`)".into(),
            ));
        }
    }

    let rate_limit = match raw.rate_limit {
        None => None,
        Some(limit) => {
            let interval = parse_duration(&limit.interval).ok_or_else(|| {
                invalid(
                    "rate_limit.interval",
                    format!("{:?} is not a duration such as 1s or 500ms", limit.interval),
                )
            })?;
            (!interval.is_zero()).then_some(RateLimit {
                interval,
                burst: limit.burst.max(1),
            })
        }
    };

    let tls = raw
        .tls_server_config
        .map(|tls| tls_settings(tls, dir, &invalid))
        .transpose()?;
    Ok(WebConfig {
        tls,
        users: raw.basic_auth_users,
        headers,
        rate_limit,
    })
}

fn tls_settings(
    raw: RawTls,
    dir: &Path,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<Tls, ConfigError> {
    let key = |name: &str| format!("tls_server_config.{name}");
    // One PEM from either its inline key or its file key, never both.
    let pem = |inline: Option<String>,
               file: Option<PathBuf>,
               names: (&str, &str)|
     -> Result<Option<Vec<u8>>, ConfigError> {
        match (inline, file) {
            (Some(_), Some(_)) => Err(invalid(
                &key(names.1),
                format!("give {} or {}, not both", names.0, names.1),
            )),
            (Some(text), None) => Ok(Some(text.into_bytes())),
            (None, Some(file)) => {
                let path = dir.join(&file);
                std::fs::read(&path).map(Some).map_err(|error| {
                    invalid(
                        &key(names.1),
                        format!("cannot read {}: {error}", path.display()),
                    )
                })
            }
            (None, None) => Ok(None),
        }
    };
    let cert = pem(raw.cert, raw.cert_file, ("cert", "cert_file"))?.ok_or_else(|| {
        invalid(
            &key("cert_file"),
            "missing: TLS needs cert_file or cert".into(),
        )
    })?;
    let private_key = pem(raw.key, raw.key_file, ("key", "key_file"))?.ok_or_else(|| {
        invalid(
            &key("key_file"),
            "missing: TLS needs key_file or key".into(),
        )
    })?;
    let ca = pem(
        raw.client_ca,
        raw.client_ca_file,
        ("client_ca", "client_ca_file"),
    )?;

    let client_auth = match (
        raw.client_auth_type.as_deref().unwrap_or("NoClientCert"),
        ca,
    ) {
        ("NoClientCert", _) => ClientAuth::None,
        ("VerifyClientCertIfGiven", Some(ca)) => ClientAuth::VerifyIfGiven(ca),
        ("RequireAndVerifyClientCert", Some(ca)) => ClientAuth::Require(ca),
        ("VerifyClientCertIfGiven" | "RequireAndVerifyClientCert", None) => {
            return Err(invalid(
                &key("client_auth_type"),
                "verifying client certificates needs client_ca_file or client_ca".into(),
            ));
        }
        ("RequestClientCert" | "RequireAnyClientCert", _) => {
            return Err(invalid(
                &key("client_auth_type"),
                "accepts certificates without verifying them, which this server refuses to do; \
                 use RequireAndVerifyClientCert"
                    .into(),
            ));
        }
        (other, _) => {
            return Err(invalid(
                &key("client_auth_type"),
                format!(
                    "{other:?} is not one of NoClientCert, VerifyClientCertIfGiven, \
                     RequireAndVerifyClientCert"
                ),
            ));
        }
    };
    if raw.client_allowed_sans.is_some_and(|sans| !sans.is_empty()) {
        return Err(invalid(
            &key("client_allowed_sans"),
            "not supported; issue client certificates from a CA that signs only the allowed \
             clients"
                .into(),
        ));
    }

    let version = |name: &str, given: Option<String>, default: u8| match given.as_deref() {
        None => Ok(default),
        Some("TLS12") => Ok(12),
        Some("TLS13") => Ok(13),
        Some("TLS10" | "TLS11") => Err(invalid(
            &key(name),
            "TLS 1.0 and 1.1 are not supported (rustls speaks TLS12 and TLS13)".into(),
        )),
        Some(other) => Err(invalid(
            &key(name),
            format!("{other:?} is not one of TLS12, TLS13"),
        )),
    };
    let versions = (
        version("min_version", raw.min_version, 12)?,
        version("max_version", raw.max_version, 13)?,
    );
    if versions.0 > versions.1 {
        return Err(invalid(&key("min_version"), "is above max_version".into()));
    }

    let curves = raw
        .curve_preferences
        .iter()
        .map(|name| match name.as_str() {
            "CurveP256" => Ok(Curve::P256),
            "CurveP384" => Ok(Curve::P384),
            "CurveP521" => Ok(Curve::P521),
            "X25519" => Ok(Curve::X25519),
            "X25519MLKEM768" => Ok(Curve::X25519Mlkem768),
            other => Err(invalid(
                &key("curve_preferences"),
                format!(
                    "{other:?} is not one of CurveP256, CurveP384, CurveP521, X25519, \
                     X25519MLKEM768"
                ),
            )),
        })
        .collect::<Result<_, _>>()?;

    Ok(Tls {
        cert,
        key: private_key,
        client_auth,
        versions,
        cipher_suites: raw.cipher_suites,
        curves,
        prefer_server_cipher_suites: raw.prefer_server_cipher_suites.unwrap_or(true),
    })
}

/// A Prometheus duration (`1h30m`, `500ms`, `0`): units y, w, d, h, m, s, ms, each at most
/// once and largest first.
pub fn parse_duration(text: &str) -> Option<Duration> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let (mut rest, mut millis, mut next_rank) = (text, 0u64, 0);
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // The longest unit spelled here: `ms` rather than `m`.
        let (rank, (unit, factor)) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (unit, _))| rest.starts_with(unit))
            .max_by_key(|(_, (unit, _))| unit.len())?;
        if rank < next_rank {
            return None;
        }
        next_rank = rank + 1;
        millis = millis.checked_add(number.checked_mul(*factor)?)?;
        rest = &rest[unit.len()..];
    }
    (next_rank > 0).then(|| Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text, Path::new(".")).unwrap_err().to_string()
    }

    #[test]
    fn an_empty_file_leaves_the_server_open() {
        assert_eq!(parse("", Path::new(".")).unwrap(), WebConfig::default());
    }

    #[test]
    fn users_headers_and_rate_limit_are_read() {
        let config = parse(
            "basic_auth_users:\n  alice: $2y$10$abc\nhttp_server_config:\n  headers:\n    \
             X-Frame-Options: deny\n    Content-Security-Policy: \"\"\n\
             rate_limit:\n  interval: 1m30s\n  burst: 5\n",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(config.users["alice"], "$2y$10$abc");
        assert_eq!(config.headers, [("X-Frame-Options", "deny".to_owned())]);
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                interval: Duration::from_secs(90),
                burst: 5
            })
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_path_and_line() {
        let message = error("tls_server_config:\n  cert_fil: x.pem\n");
        assert!(message.contains("unknown field `cert_fil`"), "{message}");
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn bad_values_are_refused_with_their_key_path_and_line() {
        let cases = [
            (
                "basic_auth_users:\n  bob: hunter2\n",
                "basic_auth_users.bob: not a bcrypt hash",
                2,
            ),
            (
                "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                "http_server_config.headers.X-Frame-Options: \"allow\" is not one of",
                3,
            ),
            (
                "http_server_config:\n  headers:\n    Server: me\n",
                "http_server_config.headers.Server: not a header",
                3,
            ),
            (
                "rate_limit:\n  interval: soon\n  burst: 1\n",
                "rate_limit.interval: \"soon\" is not a duration",
                2,
            ),
            (
                "tls_server_config:\n  cert: a\n  key: b\n  min_version: TLS11\n",
                "tls_server_config.min_version: TLS 1.0 and 1.1 are not supported",
                4,
            ),
            (
                "tls_server_config:\n  cert: a\n  key: b\n  client_auth_type: RequireAnyClientCert\n",
                "tls_server_config.client_auth_type: accepts certificates without verifying",
                4,
            ),
            (
                "tls_server_config:\n  cert: a\n  key: b\n  client_auth_type: RequireAndVerifyClientCert\n",
                "tls_server_config.client_auth_type: verifying client certificates needs",
                4,
            ),
            (
                "tls_server_config:\n  cert: a\n  key: b\n  cert_file: c.pem\n",
                "tls_server_config.cert_file: give cert or cert_file, not both",
                4,
            ),
            (
                "tls_server_config:\n  key: b\n",
                "tls_server_config.cert_file: missing",
                1,
            ),
            (
                "tls_server_config:\n  cert: a\n  key: b\n  curve_preferences: [P256]\n",
                "tls_server_config.curve_preferences: \"P256\" is not one of",
                4,
            ),
        ];
        for (text, expected, line) in cases {
            let message = error(text);
            assert!(message.starts_with(expected), "{text}: {message}");
            assert!(
                message.ends_with(&format!("(line {line})")),
                "{text}: {message}"
            );
        }
    }

    #[test]
    fn files_are_read_relative_to_the_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.pem"), "CERT").unwrap();
        std::fs::write(dir.path().join("k.pem"), "KEY").unwrap();
        let path = dir.path().join("web.yml");
        std::fs::write(
            &path,
            "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n",
        )
        .unwrap();
        let tls = load(&path).unwrap().tls.unwrap();
        assert_eq!(
            (tls.cert.as_slice(), tls.key.as_slice()),
            (&b"CERT"[..], &b"KEY"[..])
        );
        assert_eq!(
            (tls.versions, tls.prefer_server_cipher_suites),
            ((12, 13), true)
        );
        let missing = parse(
            "tls_server_config:\n  cert_file: no.pem\n  key: k\n",
            dir.path(),
        );
        assert!(missing.unwrap_err().to_string().contains("cannot read"));
    }

    #[test]
    fn prometheus_durations_are_read_largest_unit_first() {
        let ms = |text| parse_duration(text).map(|d| d.as_millis());
        assert_eq!(ms("0"), Some(0));
        assert_eq!(ms("500ms"), Some(500));
        assert_eq!(ms("1h30m"), Some(5_400_000));
        assert_eq!(ms("1m1s1ms"), Some(61_001));
        for bad in ["", "1", "s", "1s1m", "1m1m", "-1s", "1.5s"] {
            assert_eq!(ms(bad), None, "{bad}");
        }
    }
}
