//! Lambda proxy responses for WebSocket routes.
//!
//! For a WebSocket API, API Gateway sends a proxy response's `body` to the client only when the
//! route has a route response (two-way); the status code is recorded in the logs either way.

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;

/// A response with `status_code` and no body.
pub fn status(status_code: i64) -> ApiGatewayProxyResponse {
    // The struct is `#[non_exhaustive]`: start from its default and set the status.
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status_code;
    response
}

/// A response with `status_code` and a JSON text `body`.
pub fn json(status_code: i64, body: &serde_json::Value) -> ApiGatewayProxyResponse {
    let mut response = status(status_code);
    response.headers.insert(
        "content-type",
        aws_lambda_events::http::HeaderValue::from_static("application/json"),
    );
    response.body = Some(Body::Text(body.to_string()));
    response
}
