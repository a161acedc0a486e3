//! The HTTP side: `/metrics` encodes the exporter's own metrics and the latest snapshot, as
//! OpenMetrics when the scraper asks for it, else as the classic text format YACE serves;
//! `/healthz` says the process is alive; `POST /reload` asks for the configuration to be read
//! again and answers 200, or 400 with the reason the new file was refused (YACE answers 200
//! whatever happened); `/ready` answers 200 once the first scrape has finished, 503 before;
//! `/` links to the rest. Nothing here waits on AWS. With a web configuration file, every
//! path sits behind its TLS, basic auth and rate limit ([`guard`]). The `/metrics` body is
//! written as it is sent ([`exposition`]).

mod exposition;
mod guard;

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{Either, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue,
    VARY, WWW_AUTHENTICATE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::Error;

pub use exposition::{CHUNK, Exposition, Stream};
pub use guard::{Guard, Settings, Verdict};

/// A response's body: the streamed `/metrics`, or a whole short answer.
type Body = Either<Full<Bytes>, Stream>;

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

/// How the server asks for a reload: the answer is `Err` with the reason when the new
/// configuration was refused.
pub type ReloadRequests = mpsc::Sender<oneshot::Sender<Result<(), String>>>;

/// Serves requests until the task is dropped.
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

    async fn guarded(self, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
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
) -> Response<Body> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            let openmetrics = request
                .headers()
                .get(ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("application/openmetrics-text"));
            let gzip = accepts_gzip(request.headers());
            match exposition.stream(openmetrics, gzip) {
                Ok((content_type, stream)) => {
                    let mut response = Response::new(Either::Right(stream));
                    let headers = response.headers_mut();
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                    if gzip {
                        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
                    }
                    response
                }
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

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(body.into())));
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
}
