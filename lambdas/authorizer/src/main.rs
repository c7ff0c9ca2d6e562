//! Starts the Lambda runtime with the `$connect` JWT authorizer.

use lambda_runtime::{Error, run, service_fn};

// One thread: a Lambda execution environment runs one invocation at a time, and a multi-thread
// runtime would hand every Runtime API request between the main thread and worker threads
// (futex wake-ups, context switches) for no parallelism.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let verifier = jwt_authorizer::Verifier::from_env();
    let verifier = &verifier;
    run(service_fn(move |event| {
        jwt_authorizer::handle(verifier, event)
    }))
    .await
}
