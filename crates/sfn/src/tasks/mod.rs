//! The service's [`TaskInvoker`]: routes a Task state's `Resource` to its
//! integration (one module each) and implements the `.waitForTaskToken`
//! pattern around any of them.
//!
//! Resources the stack cannot emulate fail the task with
//! `States.IntegrationNotSupported` (a wsflow-specific name: AWS rejects such
//! definitions at creation, which the local stack cannot know in general),
//! catchable by `States.ALL`/`States.TaskFailed`, with the resource, the
//! state and how to mock it in the cause.

pub(crate) mod apigateway;
pub(crate) mod http;
mod lambda;
mod nested;
mod services;

use serde_json::{Value, json};
use wsflow_asl::{BoxFuture, TaskCall, TaskFailure, TaskInvoker};

use crate::service::Inner;

/// Error name of tasks whose resource the stack does not emulate.
pub const UNSUPPORTED: &str = "States.IntegrationNotSupported";

/// The integration pattern suffix of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// Request-response.
    Call,
    /// `.sync` (Output as JSON text).
    Sync,
    /// `.sync:2` (Output as JSON).
    Sync2,
    /// `.waitForTaskToken`.
    Token,
}

fn split_pattern(resource: &str) -> (&str, Pattern) {
    if let Some(b) = resource.strip_suffix(".waitForTaskToken") {
        (b, Pattern::Token)
    } else if let Some(b) = resource.strip_suffix(".sync:2") {
        (b, Pattern::Sync2)
    } else if let Some(b) = resource.strip_suffix(".sync") {
        (b, Pattern::Sync)
    } else {
        (resource, Pattern::Call)
    }
}

impl TaskInvoker for Inner {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(invoke(self, call))
    }

    fn last_heartbeat_millis(&self, task_token: &str) -> Option<i64> {
        self.tokens.last_heartbeat_millis(task_token)
    }
}

async fn invoke(inner: &Inner, call: TaskCall) -> Result<Value, TaskFailure> {
    let unsupported = |resource: &str| unsupported(resource, &call.state_name);
    let (base, pattern) = split_pattern(&call.resource);
    let Some(arn) = wsflow_aws_wire::arn::parse(base) else {
        return Err(unsupported(&call.resource));
    };
    if arn.service == "lambda" {
        return lambda::invoke_function(inner, base, call.payload).await;
    }
    if arn.service != "states" {
        return Err(unsupported(&call.resource));
    }
    let resource = arn.resource;
    let waiter = match (pattern, &call.task_token) {
        (Pattern::Token, Some(t)) => Some(inner.tokens.register(t)),
        (Pattern::Token, None) => {
            return Err(TaskFailure::new(
                "States.Runtime",
                "a .waitForTaskToken task was called without a task token",
            ));
        }
        _ => None,
    };
    let sync = matches!(pattern, Pattern::Sync | Pattern::Sync2);
    let payload = call.payload;
    let result = match resource {
        "lambda:invoke" if !sync => lambda::invoke_service(inner, payload).await,
        "apigateway:invoke" if !sync => apigateway::invoke(inner, payload).await,
        "states:startExecution" => nested::start_execution(inner, payload, pattern).await,
        _ => match resource.split_once(':') {
            Some(("aws-sdk", rest)) if !sync => match rest.split_once(':') {
                Some((service, action)) => services::aws_sdk(inner, service, action, payload)
                    .await?
                    .ok_or_else(|| unsupported(&call.resource)),
                None => Err(unsupported(&call.resource)),
            },
            Some((service @ ("dynamodb" | "sqs" | "sns"), action)) if !sync => {
                services::optimized(inner, service, action, payload)
                    .await?
                    .ok_or_else(|| unsupported(&call.resource))
            }
            _ => Err(unsupported(&call.resource)),
        },
    };
    match waiter {
        Some(w) => {
            result?;
            w.wait().await
        }
        None => result,
    }
}

fn unsupported(resource: &str, state: &str) -> TaskFailure {
    TaskFailure::new(
        UNSUPPORTED,
        format!(
            "wsflow's local Step Functions cannot run the resource '{resource}' of the state \
             '{state}'. Mock it: give a MockConfigFile test case a response for '{state}', \
             start the stack with `wsflow up --mocks MockConfigFile.json`, and start the \
             execution on '<stateMachineArn>#<TestCaseName>'."
        ),
    )
}

/// The `SdkHttpMetadata` / `SdkResponseMetadata` pair that optimized
/// integrations add to service responses.
pub(crate) fn sdk_metadata(content_type: &str, content_length: usize) -> (Value, Value) {
    let request_id = uuid::Uuid::new_v4().to_string();
    let len = content_length.to_string();
    (
        json!({
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "Content-Length": [len],
                "Content-Type": [content_type],
            },
            "HttpHeaders": {
                "x-amzn-RequestId": request_id,
                "Content-Length": len,
                "Content-Type": content_type,
            },
            "HttpStatusCode": 200,
        }),
        json!({ "RequestId": request_id }),
    )
}

/// AWS's Java-SDK style cause for a service error:
/// `<message> (Service: <svc>; Status Code: <n>; Error Code: <code>; Request ID: <id>; Proxy: null)`.
pub(crate) fn service_cause(service: &str, e: &wsflow_aws_wire::ServiceError) -> String {
    format!(
        "{} (Service: {service}; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
        e.message,
        e.status,
        e.code,
        uuid::Uuid::new_v4()
    )
}

/// A required string field of a task's payload (`States.Runtime` otherwise,
/// as AWS reports a bad parameter at run time).
pub(crate) fn required_str<'a>(payload: &'a Value, field: &str) -> Result<&'a str, TaskFailure> {
    payload.get(field).and_then(Value::as_str).ok_or_else(|| {
        TaskFailure::new(
            "States.Runtime",
            format!("The value for the field '{field}' must be a STRING"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_integration_patterns() {
        assert_eq!(
            split_pattern("arn:aws:states:::lambda:invoke.waitForTaskToken"),
            ("arn:aws:states:::lambda:invoke", Pattern::Token)
        );
        assert_eq!(
            split_pattern("arn:aws:states:::states:startExecution.sync:2"),
            ("arn:aws:states:::states:startExecution", Pattern::Sync2)
        );
        assert_eq!(
            split_pattern("arn:aws:states:::states:startExecution.sync"),
            ("arn:aws:states:::states:startExecution", Pattern::Sync)
        );
        assert_eq!(split_pattern("x"), ("x", Pattern::Call));
    }
}
