//! The `echo` route function: `{"action":"echo","data":"hello world"}` sends `hello world` back to
//! the sender through the `@connections` API (seed 001).
//!
//! A message without `data` gets an API Gateway-style error message back (`400`). A sender that
//! disconnected meanwhile (`GoneException`) is logged and answered `410`; any other `@connections`
//! failure fails the invocation.
#![warn(missing_docs)]

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::LambdaEvent;
use wsflow_lambda_kit::payload::{body_data, data_text};
use wsflow_lambda_kit::settings::{Settings, load_sdk_config};
use wsflow_lambda_kit::{Delivery, FunctionError, RouteConnections, response, websocket};

/// What the message needs, sent back to a client whose message has no `data`.
pub const USAGE: &str = r#"Bad request: send {"action":"echo","data":<any JSON>}"#;

/// The function's clients, built once per execution environment.
#[derive(Debug)]
pub struct App {
    connections: RouteConnections,
}

impl App {
    /// Clients from `sdk`, posting to `settings.connections_endpoint` when set, else to the
    /// API the event came from.
    pub fn new(sdk: wsflow_lambda_kit::settings::SdkConfig, settings: &Settings) -> Self {
        Self {
            connections: RouteConnections::new(sdk, settings.connections_endpoint.as_deref()),
        }
    }

    /// The app configured from the environment (`CONNECTIONS_ENDPOINT`, AWS SDK variables).
    pub async fn from_env() -> Self {
        Self::new(load_sdk_config().await, &Settings::from_env())
    }
}

/// Handles one `echo` message.
pub async fn handle(
    app: &App,
    event: LambdaEvent<ApiGatewayWebsocketProxyRequest>,
) -> Result<ApiGatewayProxyResponse, FunctionError> {
    let request = event.payload;
    let connection_id = websocket::connection_id(&request)?;
    let connections = app.connections.for_request(&request.request_context)?;
    let (status, message) = match body_data(request.body.as_deref()) {
        Some(data) => (200, data_text(&data).into_owned()),
        None => (400, websocket::bad_request(&request, USAGE).to_string()),
    };
    match connections.post(connection_id, message).await? {
        Delivery::Delivered => Ok(response::status(status)),
        Delivery::Gone => {
            tracing::info!(connection_id, "sender disconnected before the echo");
            Ok(response::status(410))
        }
    }
}
