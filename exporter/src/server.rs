//! The HTTP side: `/metrics` encodes the exporter's own metrics and the latest snapshot, as
//! OpenMetrics when the scraper asks for it, else as the classic text format YACE serves;
//! `/healthz` says the process is alive; `POST /reload` asks for the configuration to be read
//! again and answers 200, or 400 with the reason the new file was refused (YACE answers 200
//! whatever happened); `/ready` answers 200 once the first scrape has finished, 503 before;
//! `/` links to the rest. Nothing here waits on AWS. With a web configuration file, every
//! path sits behind its TLS, basic auth and rate limit ([`guard`]).

mod guard;

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue,
    VARY, WWW_AUTHENTICATE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::Error;
use crate::snapshot::{self, Latest};

pub use guard::{Guard, Settings, Verdict};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// What YACE serves: the classic text format.
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Binds YACE's `-listen-address`. `:5000` is Go's spelling of every interface: IPv6 and
/// IPv4 (`[::]`, dual-stack on Linux), or IPv4 alone where the host has no IPv6.
pub async fn bind(address: &str) -> Result<TcpListener, Error> {
    let result = match address.strip_prefix(':') {
        Some(port) => match TcpListener::bind(format!("[::]:{port}")).await {
            Ok(listener) => Ok(listener),
            Err(_) => TcpListener::bind(format!("0.0.0.0:{port}")).await,
        },
        None => TcpListener::bind(address).await,
    };
    result.map_err(|source| Error::Listen {
        address: address.to_owned(),
        source,
    })
}

/// Serves requests until the task is dropped.
/// What `/metrics` shows: the exporter's own metrics and the latest snapshot.
#[derive(Debug)]
pub struct Exposition {
    pub own: Registry,
    pub latest: Arc<Latest>,
}

impl Exposition {
    /// The whole exposition, as OpenMetrics or as the classic text format, with its content
    /// type.
    pub fn render(&self, openmetrics: bool) -> Result<(&'static str, String), std::fmt::Error> {
        let mut body = String::new();
        encode_registry(&mut body, &self.own)?;
        if !openmetrics {
            // The snapshot names its counters for the classic format itself.
            body = classic_counters(&body);
            snapshot::encode(&mut body, self.latest.get(), false)?;
            return Ok((TEXT, body));
        }
        snapshot::encode(&mut body, self.latest.get(), true)?;
        encode_eof(&mut body)?;
        Ok((OPENMETRICS, body))
    }
}

/// How the server asks for a reload: the answer is `Err` with the reason when the new
/// configuration was refused.
pub type ReloadRequests = mpsc::Sender<oneshot::Sender<Result<(), String>>>;

pub async fn serve(
    listener: TcpListener,
    exposition: Arc<Exposition>,
    reload: ReloadRequests,
    guard: Arc<Guard>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, say: back off instead of spinning.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let handler = Handler {
            exposition: exposition.clone(),
            reload: reload.clone(),
            guard: guard.clone(),
            settings: guard.current(),
        };
        tokio::spawn(async move {
            match handler.settings.tls().cloned() {
                None => handler.connection(stream).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => handler.connection(stream).await,
                    Err(error) => tracing::debug!(%error, "TLS handshake failed"),
                },
            }
        });
    }
}

/// What one connection's requests are answered with.
#[derive(Clone)]
struct Handler {
    exposition: Arc<Exposition>,
    reload: ReloadRequests,
    guard: Arc<Guard>,
    /// The web configuration as it was when the connection opened.
    settings: Arc<Settings>,
}

impl Handler {
    async fn connection(self, stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static) {
        let service = service_fn(move |request| self.clone().guarded(request));
        if let Err(error) = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await
        {
            tracing::debug!(%error, "connection ended with an error");
        }
    }

    async fn guarded(
        self,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let authorization = request.headers().get(AUTHORIZATION);
        let mut response = match self.guard.check(&self.settings, authorization).await {
            Verdict::Allowed => respond(request, &self.exposition, &self.reload).await,
            Verdict::Unauthorized => {
                let mut response = reply(StatusCode::UNAUTHORIZED, "text/plain", "Unauthorized\n");
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"exporter\""),
                );
                response
            }
            Verdict::TooManyRequests => reply(
                StatusCode::TOO_MANY_REQUESTS,
                "text/plain",
                "Too Many Requests\n",
            ),
        };
        for (name, value) in self.settings.headers() {
            response.headers_mut().insert(name, value);
        }
        Ok(response)
    }
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler").finish_non_exhaustive()
    }
}

async fn respond(
    request: Request<Incoming>,
    exposition: &Exposition,
    reload: &ReloadRequests,
) -> Response<Full<Bytes>> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            let openmetrics = request
                .headers()
                .get(ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("application/openmetrics-text"));
            match exposition.render(openmetrics) {
                Ok((content_type, body)) if accepts_gzip(request.headers()) => {
                    match gzip(body.as_bytes()) {
                        Ok(zipped) => {
                            let mut response = reply(StatusCode::OK, content_type, zipped);
                            let headers = response.headers_mut();
                            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                            headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
                            response
                        }
                        Err(_) => reply(StatusCode::OK, content_type, body),
                    }
                }
                Ok((content_type, body)) => reply(StatusCode::OK, content_type, body),
                Err(_) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    "encoding failed",
                ),
            }
        }
        (&Method::GET, "/healthz") => reply(StatusCode::OK, "text/plain", "ok"),
        (&Method::GET, "/ready") => match exposition.latest.is_ready() {
            true => reply(StatusCode::OK, "text/plain", "ready\n"),
            false => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "waiting for the first scrape to finish\n",
            ),
        },
        (&Method::POST, "/reload") => {
            let (answer, answered) = oneshot::channel();
            let outcome = match reload.send(answer).await {
                Ok(()) => answered
                    .await
                    .unwrap_or(Err("the exporter is stopping".into())),
                Err(_) => Err("the exporter is stopping".into()),
            };
            match outcome {
                Ok(()) => reply(StatusCode::OK, "text/plain", "reloaded\n"),
                Err(reason) => reply(StatusCode::BAD_REQUEST, "text/plain", format!("{reason}\n")),
            }
        }
        (&Method::GET, "/") => reply(
            StatusCode::OK,
            "text/html",
            concat!(
                "<html><head><title>CloudWatch exporter</title></head><body>",
                "<h1>CloudWatch exporter ",
                env!("CARGO_PKG_VERSION"),
                "</h1><p><a href=\"/metrics\">Metrics</a></p>",
                "<p><a href=\"/healthz\">Health</a></p>",
                "<p><a href=\"/ready\">Readiness</a></p></body></html>"
            ),
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

/// prometheus-client writes OpenMetrics, where a counter family `x` has samples `x_total`;
/// the classic format names the family after its samples. Renaming the HELP and TYPE lines
/// of counters is the whole difference for what this exporter serves (gauges and counters
/// without units), and keeps `promtool check metrics` from reading `x_total` as a family
/// without help. The snapshot names its counters itself ([`snapshot::Snapshot::write`]).
fn classic_counters(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Whether the request's `Accept-Encoding` takes gzip (and does not refuse it with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next() == Some("gzip")
                && !parts
                    .any(|parameter| matches!(parameter, "q=0" | "q=0.0" | "q=0.00" | "q=0.000"))
        })
}

/// The body gzipped at the fastest level: most of the size gain (the exposition repeats its
/// label names on every line) for a few milliseconds.
fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 8),
        flate2::Compression::fast(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_when_accepted_and_not_when_refused_or_absent() {
        let headers = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            }
            headers
        };
        // What Prometheus sends, and what browsers and curl --compressed send.
        assert!(accepts_gzip(&headers(&["gzip"])));
        assert!(accepts_gzip(&headers(&["deflate, gzip;q=1.0, *;q=0.5"])));
        assert!(accepts_gzip(&headers(&["br", "gzip"])));
        assert!(!accepts_gzip(&headers(&[])));
        assert!(!accepts_gzip(&headers(&["identity", "deflate, br"])));
        assert!(!accepts_gzip(&headers(&["gzip;q=0"])));
        assert!(!accepts_gzip(&headers(&["x-gzip2"])));
    }

    #[test]
    fn a_gzipped_body_reads_back_to_the_body() {
        use std::io::Read;
        let body = "aws_sqs_number_of_messages_sent_sum{name=\"q\"} 1.0\n".repeat(1000);
        let zipped = gzip(body.as_bytes()).unwrap();
        assert!(zipped.len() * 10 < body.len(), "{} bytes", zipped.len());
        let mut read = String::new();
        flate2::read::GzDecoder::new(zipped.as_slice())
            .read_to_string(&mut read)
            .unwrap();
        assert_eq!(read, body);
    }

    #[test]
    fn counters_are_renamed_after_their_samples_in_the_classic_format() {
        let openmetrics = "# HELP x_requests Requests.\n# TYPE x_requests counter\n\
                           x_requests_total{api_name=\"A\"} 3\n\
                           # HELP x_size Size.\n# TYPE x_size gauge\nx_size 1.0\n";
        assert_eq!(
            classic_counters(openmetrics),
            "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n\
             x_requests_total{api_name=\"A\"} 3\n\
             # HELP x_size Size.\n# TYPE x_size gauge\nx_size 1.0\n"
        );
    }
}
