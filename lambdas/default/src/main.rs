//! Starts the Lambda runtime with the `$default` route handler.

use lambda_runtime::{Error, run, service_fn};

// One thread: a Lambda execution environment runs one invocation at a time, and a multi-thread
// runtime would hand every Runtime API and SDK request between the main thread and worker
// threads (futex wake-ups, context switches) for no parallelism.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    run(service_fn(default_route::handle)).await
}
