//! AWS service tasks answered by the stack's own services through
//! [`wsflow_aws_wire::AwsService`]: the optimized DynamoDB and SQS
//! integrations (`arn:aws:states:::dynamodb:putItem`, `…:sqs:sendMessage`,
//! `…:sns:publish`)
//! and the AWS SDK integrations (`arn:aws:states:::aws-sdk:<service>:<action>`,
//! including `aws-sdk:sfn:*` answered by this service itself).

use serde_json::{Value, json};
use wsflow_asl::TaskFailure;
use wsflow_aws_wire::{Protocol, ServiceError, ServiceRequest};

use super::{sdk_metadata, service_cause};
use crate::service::Inner;

/// `putItem` → `PutItem`.
fn operation_name(action: &str) -> String {
    let mut c = action.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

async fn call(
    inner: &Inner,
    service: &str,
    operation: &str,
    payload: &Value,
) -> Result<Option<Value>, ServiceError> {
    if service == "sfn" {
        return crate::api::dispatch(inner, operation, payload)
            .await
            .map(Some);
    }
    let Some(svc) = inner.services.get(service) else {
        return Ok(None);
    };
    let body = serde_json::to_vec(payload).map_err(|e| ServiceError::internal(e.to_string()))?;
    let resp = svc
        .call(ServiceRequest {
            operation: operation.to_owned(),
            protocol: Protocol::Json,
            body,
        })
        .await?;
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(json!({})));
    }
    serde_json::from_slice(&resp.body)
        .map(Some)
        .map_err(|e| ServiceError::internal(format!("{service} answered non-JSON: {e}")))
}

/// `arn:aws:states:::dynamodb:<action>` and `arn:aws:states:::sqs:<action>`;
/// `Ok(None)` for an action the local service does not have.
pub(crate) async fn optimized(
    inner: &Inner,
    service: &str,
    action: &str,
    mut payload: Value,
) -> Result<Option<Value>, TaskFailure> {
    let (prefix, java_name, text_field) = match service {
        "dynamodb" => ("DynamoDB", "AmazonDynamoDBv2", None),
        "sns" => ("SNS", "AmazonSNS", Some("Message")),
        _ => ("SQS", "AmazonSQS", Some("MessageBody")),
    };
    // Step Functions serialises a JSON MessageBody (SQS) or Message (SNS) to text.
    if let Some(field) = text_field
        && let Some(body) = payload.get_mut(field)
        && !body.is_string()
    {
        *body = Value::String(body.to_string());
    }
    let operation = operation_name(action);
    match call(inner, service, &operation, &payload).await {
        Ok(Some(mut out)) => {
            let len = out.to_string().len();
            // SNS answers in XML on AWS (the query protocol).
            let content_type = if service == "sns" {
                "text/xml"
            } else {
                "application/x-amz-json-1.0"
            };
            let (http, response) = sdk_metadata(content_type, len);
            if let Some(o) = out.as_object_mut() {
                o.insert("SdkHttpMetadata".into(), http);
                o.insert("SdkResponseMetadata".into(), response);
            }
            Ok(Some(out))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(TaskFailure {
            error: format!("{prefix}.{}", e.code),
            cause: Some(service_cause(java_name, &e)),
        }),
    }
}

/// `arn:aws:states:::aws-sdk:<service>:<action>`; `Ok(None)` for an action
/// the local service does not have.
pub(crate) async fn aws_sdk(
    inner: &Inner,
    service: &str,
    action: &str,
    payload: Value,
) -> Result<Option<Value>, TaskFailure> {
    let sdk_name = match service {
        "dynamodb" => "DynamoDb".to_owned(),
        other => operation_name(other),
    };
    match call(inner, service, &operation_name(action), &payload).await {
        Ok(Some(out)) => Ok(Some(out)),
        Ok(None) => Ok(None),
        Err(e) => Err(TaskFailure {
            error: format!("{sdk_name}.{}", exception_name(&e.code)),
            cause: Some(format!(
                "{} (Service: {sdk_name}, Status Code: {}, Request ID: {})",
                e.message,
                e.status,
                uuid::Uuid::new_v4()
            )),
        }),
    }
}

/// AWS SDK integrations report errors by their exception class name:
/// `InvalidToken` → `InvalidTokenException`.
fn exception_name(code: &str) -> String {
    if code.ends_with("Exception") {
        code.to_owned()
    } else {
        format!("{code}Exception")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_operations_and_exceptions() {
        assert_eq!(operation_name("putItem"), "PutItem");
        assert_eq!(operation_name("sendMessage"), "SendMessage");
        assert_eq!(exception_name("InvalidToken"), "InvalidTokenException");
        assert_eq!(
            exception_name("ResourceNotFoundException"),
            "ResourceNotFoundException"
        );
    }
}
