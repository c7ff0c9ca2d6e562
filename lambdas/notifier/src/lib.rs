//! The notifier: the last state of the Standard workflow, which posts the workflow's result as
//! JSON to the WebSocket connection that started the execution.
//!
//! Input (built by the state's `Parameters`): `{"connectionId": "...", "message": <any JSON>}`.
//! Output: `{"connectionId": "...", "delivered": true|false, "recordRemoved": true|false}`.
//!
//! * delivered → `delivered: true`;
//! * the connection is gone (`410 GoneException`) → an expected outcome, not a failure:
//!   `delivered: false`, and the connection's record is deleted from the connections table
//!   (`recordRemoved` says whether that worked; the table's TTL cleans up otherwise);
//! * any other `@connections` failure fails the task (`ConnectionsUnavailable`, retried by the
//!   state's `Retry`; or `ConnectionsRejected`), as does an input without `connectionId` or
//!   `message` (`InvalidEvent`).
//!
//! The endpoint is `CONNECTIONS_ENDPOINT` (required: a workflow event carries no API domain);
//! the table is `TABLE_NAME` (optional: without it gone connections are only reported).
#![warn(missing_docs)]

use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wsflow_lambda_kit::settings::{SdkConfig, Settings, load_sdk_config};
use wsflow_lambda_kit::{ConnectionTable, Connections, Delivery, FunctionError};

/// The function's clients, built once per execution environment.
#[derive(Debug)]
pub struct App {
    connections: Connections,
    table: Option<ConnectionTable>,
}

impl App {
    /// Clients from `sdk` for `settings.connections_endpoint` (required) and `settings.table_name`.
    pub fn new(sdk: &SdkConfig, settings: &Settings) -> Result<Self, FunctionError> {
        Ok(Self {
            connections: Connections::new(sdk, settings.require_connections_endpoint()?),
            table: settings
                .table_name
                .as_deref()
                .map(|name| ConnectionTable::new(sdk, name)),
        })
    }

    /// The app configured from the environment.
    pub async fn from_env() -> Result<Self, FunctionError> {
        Self::new(&load_sdk_config().await, &Settings::from_env())
    }
}

/// What the workflow asks the notifier to send.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The connection that started the execution.
    pub connection_id: String,
    /// The JSON to send.
    pub message: Value,
}

/// What the notifier did; becomes the state's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notified {
    /// The connection the message was for.
    pub connection_id: String,
    /// Whether API Gateway accepted the message for the connection.
    pub delivered: bool,
    /// Whether the record of a gone connection was deleted (always `false` when delivered).
    pub record_removed: bool,
}

/// Posts the notification's message to its connection.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Notified, FunctionError> {
    let notification: Notification = serde_json::from_value(event.payload).map_err(|e| {
        FunctionError::InvalidEvent(format!(
            "expected {{\"connectionId\": \"...\", \"message\": <any JSON>}}: {e}"
        ))
    })?;
    if notification.message.is_null() {
        return Err(FunctionError::InvalidEvent("message is null".into()));
    }
    let Notification {
        connection_id,
        message,
    } = notification;
    let delivery = app
        .connections
        .post(&connection_id, message.to_string())
        .await?;
    let record_removed = match (delivery, &app.table) {
        (Delivery::Gone, Some(table)) => match table.remove(&connection_id).await {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(%err, connection_id, "could not remove the gone connection's record");
                false
            }
        },
        _ => false,
    };
    let delivered = delivery == Delivery::Delivered;
    tracing::info!(
        connection_id,
        delivered,
        record_removed,
        "notification done"
    );
    Ok(Notified {
        connection_id,
        delivered,
        record_removed,
    })
}
