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

    /// [`Self::invoke`] on raw bytes, as the Lambda `Invoke` API carries
    /// them: the payload as the caller sent it, the response exactly as the
    /// function returned it. The default goes through [`Self::invoke`]
    /// (a payload that is not JSON is refused with AWS's
    /// `InvalidRequestContentException`); a host that keeps bytes overrides it.
    fn invoke_raw<'a>(
        &'a self,
        function: &'a str,
        payload: Vec<u8>,
    ) -> BoxFuture<'a, Result<Vec<u8>, LambdaInvokeError>> {
        Box::pin(async move {
            let value: Value = serde_json::from_slice(&payload).map_err(|e| {
                ServiceError::client(
                    "InvalidRequestContentException",
                    format!("Could not parse request body into json: {e}"),
                )
            })?;
            let out = self.invoke(function, value).await?;
            serde_json::to_vec(&out).map_err(|e| ServiceError::internal(e.to_string()).into())
        })
    }
}
