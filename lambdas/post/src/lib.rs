//! The `post` route function: sends a message's `data` to every tracked connection through the
//! `@connections` API, deleting the records of connections that are gone (seed 000).
//!
//! Connection ids come from the connections table (a paginated `Scan`). The posts run
//! concurrently ([`CONCURRENT_POSTS`] at a time, in one task: they are I/O bound); a `GoneException` removes the connection's record, any other failure is logged
//! and, once every connection was tried, fails the invocation with the first such error.
#![warn(missing_docs)]

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use futures_util::{StreamExt, stream};
use lambda_runtime::LambdaEvent;
use serde_json::json;
use wsflow_lambda_kit::payload::{body_data, data_text};
use wsflow_lambda_kit::settings::{SdkConfig, Settings, load_sdk_config};
use wsflow_lambda_kit::{
    ConnectionTable, Connections, Delivery, FunctionError, RouteConnections, response, websocket,
};

/// What the message needs, sent back to a client whose message has no `data`.
pub const USAGE: &str = r#"Bad request: send {"action":"post","data":<any JSON>}"#;

/// The function's clients, built once per execution environment.
#[derive(Debug)]
pub struct App {
    connections: RouteConnections,
    table: ConnectionTable,
}

impl App {
    /// Clients from `sdk`; the table is `settings.table_name` (required).
    pub fn new(sdk: SdkConfig, settings: &Settings) -> Result<Self, FunctionError> {
        let table = ConnectionTable::new(&sdk, settings.require_table_name()?);
        Ok(Self {
            connections: RouteConnections::new(sdk, settings.connections_endpoint.as_deref()),
            table,
        })
    }

    /// The app configured from the environment (`TABLE_NAME`, `CONNECTIONS_ENDPOINT`, AWS SDK variables).
    pub async fn from_env() -> Result<Self, FunctionError> {
        Self::new(load_sdk_config().await, &Settings::from_env())
    }
}

/// What one broadcast did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Broadcast {
    /// Connections the message was delivered to.
    pub delivered: usize,
    /// Connections that were gone (their records are deleted).
    pub gone: usize,
}

/// Handles one `post` message.
pub async fn handle(
    app: &App,
    event: LambdaEvent<ApiGatewayWebsocketProxyRequest>,
) -> Result<ApiGatewayProxyResponse, FunctionError> {
    let request = event.payload;
    let sender = websocket::connection_id(&request)?;
    let connections = app.connections.for_request(&request.request_context)?;
    let Some(data) = body_data(request.body.as_deref()) else {
        let message = websocket::bad_request(&request, USAGE).to_string();
        connections.post(sender, message).await?;
        return Ok(response::status(400));
    };
    let ids = app.table.connection_ids().await?;
    let result = broadcast(&connections, &app.table, ids, data_text(&data).as_bytes()).await?;
    tracing::info!(
        sender,
        delivered = result.delivered,
        gone = result.gone,
        "broadcast done"
    );
    Ok(response::json(
        200,
        &json!({"delivered": result.delivered, "gone": result.gone}),
    ))
}

/// How many posts are in flight at once.
pub const CONCURRENT_POSTS: usize = 32;

/// Posts `message` to each of `ids` ([`CONCURRENT_POSTS`] at a time), removing gone
/// connections from `table`.
pub async fn broadcast(
    connections: &Connections,
    table: &ConnectionTable,
    ids: Vec<String>,
    message: &[u8],
) -> Result<Broadcast, FunctionError> {
    let outcomes: Vec<(String, Result<Delivery, FunctionError>)> = stream::iter(ids)
        .map(|id| async move {
            let outcome = async {
                match connections.post(&id, message).await? {
                    Delivery::Delivered => Ok(Delivery::Delivered),
                    Delivery::Gone => {
                        table.remove(&id).await?;
                        Ok(Delivery::Gone)
                    }
                }
            }
            .await;
            (id, outcome)
        })
        .buffer_unordered(CONCURRENT_POSTS)
        .collect()
        .await;
    let mut result = Broadcast::default();
    let mut first_error = None;
    for (id, outcome) in outcomes {
        match outcome {
            Ok(Delivery::Delivered) => result.delivered += 1,
            Ok(Delivery::Gone) => result.gone += 1,
            Err(err) => {
                tracing::error!(connection_id = %id, %err, "post failed");
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) => Err(err),
        None => Ok(result),
    }
}
