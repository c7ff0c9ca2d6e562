//! Lambda tasks: a bare function ARN as `Resource` (the result is the
//! function's result) and `arn:aws:states:::lambda:invoke` (the result is the
//! Invoke API's envelope with the function result under `Payload`).
//!
//! A function error fails the task with the function's `errorType` as error
//! and its error payload, as JSON text, as cause (what AWS records). A Lambda
//! service error becomes `Lambda.<Code>` with AWS's Java-SDK style cause.

use serde_json::{Value, json};
use wsflow_asl::TaskFailure;
use wsflow_aws_wire::LambdaInvokeError;

use super::{required_str, sdk_metadata, service_cause};
use crate::service::Inner;

fn failure(inner: &Inner, function: &str, e: LambdaInvokeError) -> TaskFailure {
    match e {
        LambdaInvokeError::Function { payload } => TaskFailure {
            error: payload
                .get("errorType")
                .and_then(Value::as_str)
                .unwrap_or("Unhandled")
                .to_owned(),
            cause: Some(payload.to_string()),
        },
        LambdaInvokeError::Service(mut se) => {
            if se.code == "ResourceNotFoundException" {
                let name = wsflow_aws_wire::arn::lambda_function_name(function);
                se.message = format!(
                    "Function not found: {}:$LATEST",
                    inner.account.lambda_function(name)
                );
            }
            TaskFailure {
                error: format!("Lambda.{}", se.code),
                cause: Some(service_cause("AWSLambda", &se)),
            }
        }
    }
}

/// `Resource: arn:aws:lambda:…:function:<name>`.
pub(crate) async fn invoke_function(
    inner: &Inner,
    function: &str,
    payload: Value,
) -> Result<Value, TaskFailure> {
    inner
        .lambda
        .invoke(function, payload)
        .await
        .map_err(|e| failure(inner, function, e))
}

/// `Resource: arn:aws:states:::lambda:invoke`, Parameters `{FunctionName, Payload}`.
pub(crate) async fn invoke_service(inner: &Inner, params: Value) -> Result<Value, TaskFailure> {
    let function = required_str(&params, "FunctionName")?.to_owned();
    let payload = params.get("Payload").cloned().unwrap_or_else(|| json!({}));
    let result = inner
        .lambda
        .invoke(&function, payload)
        .await
        .map_err(|e| failure(inner, &function, e))?;
    let len = result.to_string().len();
    let (http, response) = sdk_metadata("application/json", len);
    Ok(json!({
        "ExecutedVersion": "$LATEST",
        "Payload": result,
        "SdkHttpMetadata": http,
        "SdkResponseMetadata": response,
        "StatusCode": 200,
    }))
}
