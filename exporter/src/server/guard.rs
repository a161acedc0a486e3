//! The guarded endpoint: TLS, basic auth, a rate limit and extra response headers, from the
//! exporters' web configuration file (`config::web`). Like the Prometheus exporter toolkit,
//! the file is read again when it changes, so a renewed certificate or a new user takes
//! effect without a restart; unlike it, a file that turns bad keeps the last good settings
//! (and says so in the log) instead of failing every request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use base64::Engine;
use hyper::header::HeaderValue;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{NamedGroup, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::config::web::{self, ClientAuth, Curve, RateLimit, Tls, WebConfig};
use crate::config::{ConfigError, Diagnostic};

/// The web configuration in force, re-read from its file when the file changes.
#[derive(Debug)]
pub struct Guard {
    path: Option<PathBuf>,
    state: Mutex<(Option<Stamp>, Arc<Settings>)>,
    /// Per user, the password that last matched its hash: bcrypt is slow on purpose (tens of
    /// milliseconds), too slow to run on every scrape.
    verified: Mutex<HashMap<String, String>>,
}

/// What tells that the file changed.
type Stamp = (SystemTime, u64);

/// One reading of the file, ready to use.
pub struct Settings {
    config: WebConfig,
    tls: Option<TlsAcceptor>,
    bucket: Option<Mutex<Bucket>>,
}

/// What a request may do.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Unauthorized,
    TooManyRequests,
}

impl Guard {
    /// Reads the file once; a bad file is an error here, at start-up.
    pub fn open(path: Option<PathBuf>) -> Result<Guard, ConfigError> {
        let stamp = path.as_deref().and_then(stamp);
        let settings = match &path {
            Some(path) => Settings::new(web::load(path)?)?,
            None => Settings::new(WebConfig::default())?,
        };
        Ok(Guard {
            path,
            state: Mutex::new((stamp, Arc::new(settings))),
            verified: Mutex::default(),
        })
    }

    /// The settings for a new connection, from the file as it is now.
    pub fn current(&self) -> Arc<Settings> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let Some(path) = &self.path else {
            return state.1.clone();
        };
        let now = stamp(path);
        if now != state.0 {
            state.0 = now;
            match web::load(path).and_then(Settings::new) {
                Ok(settings) => {
                    tracing::info!(file = %path.display(), "web configuration reloaded");
                    state.1 = Arc::new(settings);
                    self.verified
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner())
                        .clear();
                }
                Err(error) => tracing::error!(
                    file = %path.display(), %error,
                    "web configuration refused; the last good one stays"
                ),
            }
        }
        state.1.clone()
    }

    /// Whether a request with this `Authorization` header may go on.
    pub async fn check(&self, settings: &Settings, authorization: Option<&HeaderValue>) -> Verdict {
        if let Some(bucket) = &settings.bucket {
            let taken = bucket
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .take(Instant::now());
            if !taken {
                return Verdict::TooManyRequests;
            }
        }
        let users = &settings.config.users;
        if users.is_empty() {
            return Verdict::Allowed;
        }
        let Some((user, password)) = authorization.and_then(basic_credentials) else {
            return Verdict::Unauthorized;
        };
        let known = users.get(&user);
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(&user)
            .is_some_and(|last| *last == password);
        if known.is_some() && cached {
            return Verdict::Allowed;
        }
        // An unknown user costs a bcrypt run too, so timing does not tell which users exist.
        let Some(hash) = known.or_else(|| users.values().next()).cloned() else {
            return Verdict::Unauthorized;
        };
        let attempt = password.clone();
        let matched = tokio::task::spawn_blocking(move || bcrypt::verify(attempt, &hash))
            .await
            .is_ok_and(|outcome| outcome.unwrap_or(false));
        if known.is_some() && matched {
            self.verified
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .insert(user, password);
            Verdict::Allowed
        } else {
            Verdict::Unauthorized
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("users", &self.config.users.len())
            .field("tls", &self.tls.is_some())
            .field("bucket", &self.bucket)
            .finish()
    }
}

impl Settings {
    fn new(config: WebConfig) -> Result<Settings, ConfigError> {
        let tls = config.tls.as_ref().map(acceptor).transpose()?;
        let bucket = config
            .rate_limit
            .map(|limit| Mutex::new(Bucket::new(limit)));
        Ok(Settings {
            config,
            tls,
            bucket,
        })
    }

    pub fn tls(&self) -> Option<&TlsAcceptor> {
        self.tls.as_ref()
    }

    /// The headers the file adds to every response.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, HeaderValue)> + '_ {
        self.config
            .headers
            .iter()
            .filter_map(|(name, value)| Some((*name, HeaderValue::from_str(value).ok()?)))
    }
}

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// `Basic base64(user:password)`.
fn basic_credentials(header: &HeaderValue) -> Option<(String, String)> {
    let encoded = header.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (user, password) = String::from_utf8(decoded)
        .ok()?
        .split_once(':')
        .map(|(u, p)| (u.to_owned(), p.to_owned()))?;
    Some((user, password))
}

fn tls_error(key: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid(Diagnostic {
        key: format!("tls_server_config.{key}"),
        line: None,
        message: message.to_string(),
    })
}

/// rustls's server configuration for `tls`, on the aws-lc-rs provider the AWS SDK already uses.
fn acceptor(tls: &Tls) -> Result<TlsAcceptor, ConfigError> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if !tls.cipher_suites.is_empty() {
        for name in &tls.cipher_suites {
            if !provider
                .cipher_suites
                .iter()
                .any(|suite| suite_named(suite, name))
            {
                let offered: Vec<&str> = provider
                    .cipher_suites
                    .iter()
                    .filter(|suite| suite.tls13().is_none())
                    .filter_map(|suite| suite.suite().as_str())
                    .collect();
                return Err(tls_error(
                    "cipher_suites",
                    format!(
                        "{name:?} is not offered (TLS 1.2 suites: {})",
                        offered.join(", ")
                    ),
                ));
            }
        }
        // As in Go, the list picks among the TLS 1.2 suites; TLS 1.3's are always on.
        provider.cipher_suites.retain(|suite| {
            suite.tls13().is_some()
                || tls
                    .cipher_suites
                    .iter()
                    .any(|name| suite_named(suite, name))
        });
    }
    if !tls.curves.is_empty() {
        let all = rustls::crypto::aws_lc_rs::ALL_KX_GROUPS;
        let mut groups = Vec::new();
        for curve in &tls.curves {
            let wanted = named_group(*curve);
            let group = all
                .iter()
                .find(|group| group.name() == wanted)
                .ok_or_else(|| {
                    tls_error("curve_preferences", format!("{wanted:?} is not offered"))
                })?;
            groups.push(*group);
        }
        provider.kx_groups = groups;
    }
    let provider: Arc<CryptoProvider> = Arc::new(provider);

    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [(12, &rustls::version::TLS12), (13, &rustls::version::TLS13)]
            .into_iter()
            .filter(|(version, _)| (tls.versions.0..=tls.versions.1).contains(version))
            .map(|(_, version)| version)
            .collect();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|error| tls_error("min_version", error))?;

    let builder = match &tls.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::VerifyIfGiven(ca) | ClientAuth::Require(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca) {
                let cert = cert.map_err(|error| tls_error("client_ca_file", error))?;
                roots
                    .add(cert)
                    .map_err(|error| tls_error("client_ca_file", error))?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let verifier = match tls.client_auth {
                ClientAuth::VerifyIfGiven(_) => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|error| tls_error("client_ca_file", error))?;
            builder.with_client_cert_verifier(verifier)
        }
    };

    let chain = CertificateDer::pem_slice_iter(&tls.cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| tls_error("cert_file", error))?;
    if chain.is_empty() {
        return Err(tls_error("cert_file", "holds no PEM certificate"));
    }
    let key =
        PrivateKeyDer::from_pem_slice(&tls.key).map_err(|error| tls_error("key_file", error))?;
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|error| tls_error("key_file", error))?;
    config.ignore_client_order = tls.prefer_server_cipher_suites;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Go also spells the ChaCha20 suites without their `_SHA256` tail.
fn suite_named(suite: &rustls::SupportedCipherSuite, name: &str) -> bool {
    suite.tls13().is_none()
        && suite
            .suite()
            .as_str()
            .is_some_and(|own| own == name || own.strip_suffix("_SHA256") == Some(name))
}

fn named_group(curve: Curve) -> NamedGroup {
    match curve {
        Curve::P256 => NamedGroup::secp256r1,
        Curve::P384 => NamedGroup::secp384r1,
        Curve::P521 => NamedGroup::secp521r1,
        Curve::X25519 => NamedGroup::X25519,
        Curve::X25519Mlkem768 => NamedGroup::X25519MLKEM768,
    }
}

/// A token bucket holding up to `burst` requests, refilled by one every `interval`.
#[derive(Debug)]
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        Bucket {
            limit,
            tokens: f64::from(limit.burst),
            at: Instant::now(),
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let refilled = now.saturating_duration_since(self.at).as_secs_f64()
            / self.limit.interval.as_secs_f64();
        self.tokens = (self.tokens + refilled).min(f64::from(self.limit.burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_bucket_allows_its_burst_then_one_per_interval() {
        let limit = RateLimit {
            interval: Duration::from_secs(1),
            burst: 2,
        };
        let mut bucket = Bucket::new(limit);
        let start = bucket.at;
        assert!(bucket.take(start) && bucket.take(start));
        assert!(!bucket.take(start));
        assert!(!bucket.take(start + Duration::from_millis(500)));
        assert!(bucket.take(start + Duration::from_millis(1001)));
        assert!(!bucket.take(start + Duration::from_millis(1002)));
    }

    #[test]
    fn basic_credentials_are_decoded_and_anything_else_is_not() {
        let header = |text: &str| HeaderValue::from_str(text).unwrap();
        // "alice:s3:cret"
        assert_eq!(
            basic_credentials(&header("Basic YWxpY2U6czM6Y3JldA==")),
            Some(("alice".into(), "s3:cret".into()))
        );
        for bad in ["Bearer YWxpY2U6eA==", "Basic !!!", "Basic YWxpY2U="] {
            assert_eq!(basic_credentials(&header(bad)), None, "{bad}");
        }
    }
}
