//! `Invoke`: `POST /2015-03-31/functions/{FunctionName}/invocations`.
//!
//! * `X-Amz-Invocation-Type: RequestResponse` (the default): the function's
//!   response as it returned it, 200. A function error is still 200, with
//!   `X-Amz-Function-Error: Unhandled` and the error payload
//!   (`{"errorType", "errorMessage", …}`) as the body, as on AWS.
//! * `Event`: 202 at once; the function runs in the background. AWS retries a
//!   failed asynchronous invocation twice over minutes and can send it to a
//!   destination; locally the failure is logged (`tracing` warning) instead.
//!   At most [`MAX_PENDING_EVENTS`] asynchronous invocations wait or run at
//!   once per stack; one more is refused with `429 TooManyRequestsException`,
//!   as Lambda throttles, instead of queueing without bound.
//! * `DryRun`: 204 when the function exists.
//!
//! `X-Amz-Log-Type: Tail` is accepted but no `X-Amz-Log-Result` comes back:
//! the lambda host streams function logs to the console and keeps none per
//! invocation.

use std::sync::Arc;

use axum::{
    body::{Body, to_bytes},
    extract::{Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::de::IgnoredAny;
use wsflow_aws_wire::{LambdaInvokeError, ServiceError};

use crate::{LambdaApi, errors::ApiError, list::QualifierQuery};

/// The largest synchronous payload (6 MB, AWS's limit).
const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// The largest asynchronous payload (1 MB, AWS's limit since October 2025).
const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

/// Asynchronous invocations waiting or running at once, per stack.
pub(crate) const MAX_PENDING_EVENTS: usize = 10_000;

/// How the caller wants the function run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(v) = headers.get("x-amz-invocation-type") else {
            return Ok(Self::RequestResponse);
        };
        match v.to_str().unwrap_or("") {
            "RequestResponse" => Ok(Self::RequestResponse),
            "Event" => Ok(Self::Event),
            "DryRun" => Ok(Self::DryRun),
            other => Err(ApiError(ServiceError::validation(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )))),
        }
    }

    fn max_payload(self) -> usize {
        match self {
            Self::Event => MAX_ASYNC_PAYLOAD,
            Self::RequestResponse | Self::DryRun => MAX_SYNC_PAYLOAD,
        }
    }
}

/// The `Invoke` operation.
pub(crate) async fn invoke(
    State(api): State<LambdaApi>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let kind = InvocationType::from_headers(req.headers())?;
    let function = api
        .function(&name, q.qualifier.as_deref())?
        .function_name
        .clone();
    let limit = kind.max_payload();
    let payload = to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large(limit))?;
    // AWS hands an empty payload to the function as `{}`.
    let payload = if payload.is_empty() {
        b"{}".to_vec()
    } else {
        payload.to_vec()
    };
    if let Err(e) = serde_json::from_slice::<IgnoredAny>(&payload) {
        return Err(ApiError(ServiceError::client(
            "InvalidRequestContentException",
            format!(
                "Could not parse request body into json: Could not parse payload into json: {e}"
            ),
        )));
    }
    match kind {
        InvocationType::DryRun => Ok(with_request_id(StatusCode::NO_CONTENT.into_response())),
        InvocationType::Event => {
            let Ok(permit) = Arc::clone(&api.inner.pending_events).try_acquire_owned() else {
                return Err(ApiError(ServiceError::with_status(
                    429,
                    "TooManyRequestsException",
                    format!(
                        "Rate Exceeded. {MAX_PENDING_EVENTS} asynchronous invocations are already waiting or running"
                    ),
                )));
            };
            let invoker = Arc::clone(&api.inner.invoker);
            tokio::spawn(async move {
                let _permit = permit;
                match invoker.invoke_raw(&function, payload).await {
                    Ok(_) => tracing::debug!(function, "asynchronous invocation done"),
                    Err(e) => {
                        tracing::warn!(function, error = %e, "asynchronous invocation failed")
                    }
                }
            });
            Ok(with_request_id(StatusCode::ACCEPTED.into_response()))
        }
        InvocationType::RequestResponse => {
            let (body, function_error) =
                match api.inner.invoker.invoke_raw(&function, payload).await {
                    Ok(body) => (body, false),
                    Err(LambdaInvokeError::Function { payload }) => {
                        (serde_json::to_vec(&payload).unwrap_or_default(), true)
                    }
                    Err(LambdaInvokeError::Service(e)) => return Err(ApiError(e)),
                };
            let mut out = Response::new(Body::from(body));
            let headers = out.headers_mut();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            headers.insert(
                "x-amz-executed-version",
                HeaderValue::from_static("$LATEST"),
            );
            if function_error {
                headers.insert(
                    "x-amz-function-error",
                    HeaderValue::from_static("Unhandled"),
                );
            }
            Ok(with_request_id(out))
        }
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError(ServiceError::with_status(
        413,
        "RequestTooLargeException",
        format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
    ))
}

/// Adds a fresh `x-amzn-RequestId` to a response.
pub(crate) fn with_request_id(mut resp: Response) -> Response {
    add_request_id(resp.headers_mut());
    resp
}

/// Sets a fresh `x-amzn-RequestId` header.
pub(crate) fn add_request_id(headers: &mut HeaderMap) {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", v);
    }
}
