//! Reading the WebSocket route events API Gateway sends to Lambda proxy integrations.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde_json::{Value, json};

use crate::FunctionError;

/// The id of the connection that sent the event.
pub fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Result<&str, FunctionError> {
    event
        .request_context
        .connection_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| FunctionError::InvalidEvent("requestContext.connectionId is missing".into()))
}

/// The message sent back to a client whose message the route cannot handle, shaped like API
/// Gateway's own error messages (`{"message", "connectionId", "requestId"}`).
pub fn bad_request(event: &ApiGatewayWebsocketProxyRequest, message: &str) -> Value {
    json!({
        "message": message,
        "connectionId": event.request_context.connection_id,
        "requestId": event.request_context.request_id,
    })
}
