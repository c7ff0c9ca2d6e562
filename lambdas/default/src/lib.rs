//! The `$default` route function: replies with the whole WebSocket event as JSON (seeds 002, 004).
//!
//! The route is two-way (it has a route response), so API Gateway sends the proxy response's
//! `body` back to the client. The event is kept as a [`serde_json::Value`] rather than re-serialised
//! from [`ApiGatewayWebsocketProxyRequest`]: the typed struct would drop fields it does not know
//! and add `null`s for ones the event lacks, and the client should see the event as API Gateway
//! sent it. The typed struct is still used to check that the event is a WebSocket event.
#![warn(missing_docs)]

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::Value;
use wsflow_lambda_kit::{FunctionError, response, websocket};

/// Replies `200` with the event as the JSON body.
///
/// Fails with `InvalidEvent` when the payload is not an API Gateway WebSocket event.
pub async fn handle(event: LambdaEvent<Value>) -> Result<ApiGatewayProxyResponse, FunctionError> {
    let request = ApiGatewayWebsocketProxyRequest::deserialize(&event.payload).map_err(|e| {
        FunctionError::InvalidEvent(format!("not an API Gateway WebSocket event: {e}"))
    })?;
    let connection_id = websocket::connection_id(&request)?;
    tracing::info!(
        connection_id,
        route = request
            .request_context
            .route_key
            .as_deref()
            .unwrap_or_default(),
        "replying with the event"
    );
    Ok(response::json(200, &event.payload))
}
