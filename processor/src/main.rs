//! The Lambda's `bootstrap` executable (the name the `provided.al2023` runtime runs): reads the
//! configuration, sets up JSON logging and the S3 client once, then hands each invocation to
//! [`processor::handler::handle`] and writes its metrics to stdout.
//!
//! An invalid configuration stops the process before the first event is taken, with every
//! problem in one log line; Lambda reports the failed start and keeps the events for a retry.

use std::time::{Instant, SystemTime};

use aws_config::BehaviorVersion;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use processor::config::Config;
use processor::event::Invocation;
use processor::handler::{self, Handled};
use processor::logging;
use processor::metrics::{self, Dimensions};
use processor::storage::S3;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let logs = logging::subscriber(std::io::stdout, logging::level_from_env());
    tracing::subscriber::set_global_default(logs)?;
    let config = Config::from_env().inspect_err(|error| {
        tracing::error!(error = %error, "the function cannot start");
    })?;
    let shared = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let storage = S3::new(&shared);
    let (config, storage) = (&config, &storage);
    // Boxed: the handler's future nested in the runtime's is too deep for the compiler's
    // layout computation otherwise.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(invoke(config, storage, event))
    }))
    .await
}

async fn invoke(
    config: &Config,
    storage: &S3,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let deadline = Instant::now() + handler::time_left(context.deadline, SystemTime::now());
    let Handled { reply, tally } = match Invocation::from_value(&payload) {
        Ok(invocation) => {
            handler::handle(config, storage, invocation, &context.request_id, deadline).await
        }
        Err(error) => handler::unknown_payload(error, &context.request_id),
    };
    let dimensions = Dimensions {
        function_name: context.env_config.function_name.clone(),
        environment: config.environment.clone(),
    };
    let documents = metrics::documents(&tally, &dimensions, &context.request_id, SystemTime::now());
    if let Err(error) = metrics::write(&mut std::io::stdout().lock(), &documents) {
        tracing::error!(error = %error, "the metrics could not be written");
    }
    // The error type Lambda records is the metric's ErrorType label, not a Rust type name.
    reply.into_result().map_err(|error| Diagnostic {
        error_type: error.error_type().as_str().to_owned(),
        error_message: error.to_string(),
    })
}
