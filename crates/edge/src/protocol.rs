//! How AWS encodes responses and errors for each protocol the edge serves.

use axum::{
    body::Body,
    http::{HeaderValue, Response, StatusCode},
};
use wsflow_aws_wire::{ServiceError, ServiceResponse};

/// Turns a successful service response into an HTTP response.
pub(crate) fn success(resp: ServiceResponse, request_id: &str) -> Response<Body> {
    let mut out = Response::new(Body::from(resp.body));
    *out.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
    let headers = out.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(resp.content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    out
}

/// An error in the AWS JSON protocols: `{"__type", "message"}` plus the
/// `x-amzn-ErrorType` header that the Smithy clients also read.
pub(crate) fn json_error(
    err: &ServiceError,
    namespace: Option<&str>,
    request_id: &str,
) -> Response<Body> {
    let mut out = Response::new(Body::from(err.json_body(namespace)));
    *out.status_mut() =
        StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(v) = HeaderValue::from_str(&err.code) {
        headers.insert("x-amzn-errortype", v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    out
}

/// An error in the AWS query protocol (`<ErrorResponse>` XML in the
/// service's namespace `xmlns`).
pub(crate) fn query_error(err: &ServiceError, xmlns: &str, request_id: &str) -> Response<Body> {
    let body = wsflow_aws_wire::query_error_document(err, xmlns, request_id);
    let mut out = Response::new(Body::from(body));
    *out.status_mut() =
        StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    out.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_errors_escape_their_text() {
        let err = ServiceError::client("InvalidParameterValue", "a <b> & c");
        let resp = query_error(&err, "urn:x", "r1");
        assert_eq!(resp.status(), 400);
    }
}
