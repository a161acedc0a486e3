//! The Lambda's `bootstrap` executable (the name the `provided.al2023` runtime runs).
//!
//! Until the image pipeline lands, every invocation fails loudly instead of pretending to have
//! processed anything: Lambda retries an asynchronous invocation twice, then hands the event to
//! the function's on-failure destination or dead-letter queue (which the deployment must
//! configure), so no upload is silently skipped.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Err(format!(
        "request {}: the image pipeline is not built yet; the event is left for a retry",
        event.context.request_id
    )
    .into())
}
