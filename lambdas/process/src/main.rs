//! Starts the Lambda runtime with the workflow's validate-and-enrich task.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    run(service_fn(process_task::handle)).await
}
