//! Every other Lambda operation under [`crate::PATH_PREFIX`] (`CreateFunction`,
//! `DeleteFunction`, `UpdateFunctionCode`, `PutFunctionConcurrency`, …): the local stack's
//! functions come from the template, so these are answered with a clear error naming the
//! request and what is served, instead of a bare `405`/`404`: status 501, error code
//! `NotImplemented` (in `x-amzn-ErrorType`, where the SDKs read it).

use axum::{extract::Request, response::Response};
use wsflow_aws_wire::ServiceError;

use crate::errors::ApiError;
use axum::response::IntoResponse;

/// The answer to a Lambda API request the local stack does not serve.
pub(crate) async fn not_implemented(req: Request) -> Response {
    let what = format!("{} {}", req.method(), req.uri().path());
    ApiError(ServiceError::with_status(
        501,
        "NotImplemented",
        format!(
            "The local Lambda API does not implement {what}: it serves Invoke, ListFunctions, GetFunction and GetFunctionConfiguration (functions come from the template)"
        ),
    ))
    .into_response()
}
