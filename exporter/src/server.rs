//! The HTTP side: `/metrics` encodes the registry (whose collector reads the latest snapshot),
//! `/healthz` says the process is alive, `/` links to both. Nothing here waits on AWS.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::Error;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Binds YACE's `-listen-address`; `:5000` (Go's spelling of every interface) is accepted.
pub async fn bind(address: &str) -> Result<TcpListener, Error> {
    let resolved = match address.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => address.to_owned(),
    };
    TcpListener::bind(&resolved)
        .await
        .map_err(|source| Error::Listen {
            address: address.to_owned(),
            source,
        })
}

/// Serves requests until the task is dropped.
pub async fn serve(listener: TcpListener, registry: Arc<Registry>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                continue;
            }
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(request, registry.clone()));
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}

async fn respond(
    request: Request<Incoming>,
    registry: Arc<Registry>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => {
            let mut body = String::new();
            match prometheus_client::encoding::text::encode(&mut body, &registry) {
                Ok(()) => reply(StatusCode::OK, OPENMETRICS, body),
                Err(_) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    "encoding failed".into(),
                ),
            }
        }
        (&Method::GET, "/healthz") => reply(StatusCode::OK, "text/plain", "ok".into()),
        (&Method::GET, "/") => reply(
            StatusCode::OK,
            "text/html",
            concat!(
                "<html><head><title>CloudWatch exporter</title></head><body>",
                "<h1>CloudWatch exporter ",
                env!("CARGO_PKG_VERSION"),
                "</h1><p><a href=\"/metrics\">Metrics</a></p>",
                "<p><a href=\"/healthz\">Health</a></p></body></html>"
            )
            .into(),
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found".into()),
    };
    Ok(response)
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
