//! Lambda's errors as the REST-JSON protocol carries them: the HTTP status,
//! the `x-amzn-ErrorType` header the SDKs read the code from, and a body
//! `{"Type": "User", "message": "…"}` as Lambda sends it.

use axum::{
    body::Body,
    http::{HeaderValue, Response, StatusCode},
    response::IntoResponse,
};
use serde_json::json;
use wsflow_aws_wire::ServiceError;

/// An error answer of the Lambda API.
#[derive(Debug)]
pub(crate) struct ApiError(pub(crate) ServiceError);

impl ApiError {
    /// `ResourceNotFoundException` (404): `Function not found: <arn>`.
    pub(crate) fn function_not_found(arn: &str) -> Self {
        Self(ServiceError::with_status(
            404,
            "ResourceNotFoundException",
            format!("Function not found: {arn}"),
        ))
    }

    /// `InvalidParameterValueException` (400).
    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        Self(ServiceError::client(
            "InvalidParameterValueException",
            message,
        ))
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response<Body> {
        let err = self.0;
        let kind = if err.status >= 500 { "Service" } else { "User" };
        let body = json!({ "Type": kind, "message": err.message }).to_string();
        let mut out = Response::new(Body::from(body));
        *out.status_mut() =
            StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = out.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(&err.code) {
            headers.insert("x-amzn-errortype", v);
        }
        crate::invoke::add_request_id(headers);
        out
    }
}
