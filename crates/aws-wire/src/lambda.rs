//! Invoking a Lambda function: the one interface between the lambda host and
//! everything that calls functions (gateway proxy integrations, Step Functions
//! tasks, the SQS event source).

use serde_json::Value;

use crate::{BoxFuture, ServiceError};

/// Why an invocation did not return a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LambdaInvokeError {
    /// The function ran and failed: AWS answers 200 with
    /// `X-Amz-Function-Error: Unhandled` and this payload
    /// (`{"errorType": …, "errorMessage": …, …}`). Timeouts and crashes are
    /// reported this way too, with AWS's error types (`Sandbox.Timedout`,
    /// `Runtime.ExitError`, …).
    #[error("function error: {payload}")]
    Function {
        /// The error payload, as AWS returns it.
        payload: Value,
    },
    /// Lambda itself refused the call (unknown function, throttled, …).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl LambdaInvokeError {
    /// The `errorType` of a function error (`"Unhandled"` when absent), or the
    /// service error's code.
    pub fn error_type(&self) -> String {
        match self {
            Self::Function { payload } => payload
                .get("errorType")
                .and_then(Value::as_str)
                .unwrap_or("Unhandled")
                .to_owned(),
            Self::Service(e) => e.code.clone(),
        }
    }
}

/// Something that can invoke a Lambda function by name (synchronously, as
/// `InvocationType=RequestResponse`).
pub trait LambdaInvoker: Send + Sync {
    /// Invokes `function` (a function name or ARN) with `payload` and returns
    /// the function's result.
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>>;
}
