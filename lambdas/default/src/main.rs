//! Starts the Lambda runtime with the `$default` route handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    run(service_fn(default_route::handle)).await
}
