//! Starts the Lambda runtime with the `echo` route handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let app = echo_route::App::from_env().await;
    let app = &app;
    run(service_fn(move |event| echo_route::handle(app, event))).await
}
