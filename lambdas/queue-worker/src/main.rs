//! Starts the Lambda runtime with the queue worker handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let app = queue_worker::App::from_env().await?;
    let app = &app;
    run(service_fn(move |event| queue_worker::handle(app, event))).await
}
