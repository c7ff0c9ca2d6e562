//! The queue worker (seed 003): consumes the SQS FIFO queue the `queue` route writes to, in
//! batches of up to 10, and replies to each message's sender through `@connections`:
//!
//! ```json
//! {"connectionId":"<sender>","requestId":"<API Gateway request id>","message":"<the message body>"}
//! ```
//!
//! The `queue` route's integration puts the sender's connection id and the request id in the
//! message attributes `connectionId` and `requestId`, and the WebSocket message (the text the
//! client sent) in the body.
//!
//! Failures are reported per record (`ReportBatchItemFailures`): SQS makes failed records visible
//! again, and after the queue's `maxReceiveCount` moves them to the dead-letter queue, so no
//! message is lost. As AWS requires for FIFO queues, processing stops at the first failure and
//! every record after it is reported too, so that order within a message group is kept.
//! A sender that disconnected (`GoneException`) is not a failure: there is no one to reply to.
#![warn(missing_docs)]

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use wsflow_lambda_kit::settings::{SdkConfig, Settings, load_sdk_config};
use wsflow_lambda_kit::{Connections, Delivery, FunctionError};

/// Message attribute holding the sender's connection id.
pub const CONNECTION_ID_ATTRIBUTE: &str = "connectionId";
/// Message attribute holding the API Gateway request id.
pub const REQUEST_ID_ATTRIBUTE: &str = "requestId";

/// The function's clients, built once per execution environment.
#[derive(Debug)]
pub struct App {
    connections: Connections,
}

impl App {
    /// A `@connections` client from `sdk` for `settings.connections_endpoint` (required).
    pub fn new(sdk: &SdkConfig, settings: &Settings) -> Result<Self, FunctionError> {
        Ok(Self {
            connections: Connections::new(sdk, settings.require_connections_endpoint()?),
        })
    }

    /// The app configured from the environment.
    pub async fn from_env() -> Result<Self, FunctionError> {
        Self::new(&load_sdk_config().await, &Settings::from_env())
    }
}

/// The reply sent to a message's sender.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply<'a> {
    /// The sender's connection id.
    pub connection_id: &'a str,
    /// The API Gateway request id of the message.
    pub request_id: &'a str,
    /// The message as the client sent it.
    pub message: &'a str,
}

/// Replies to every record in order; reports the first failed record and all after it.
pub async fn handle(
    app: &App,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, FunctionError> {
    let mut failed: Vec<String> = Vec::new();
    for record in &event.payload.records {
        let Some(message_id) = record.message_id.as_deref() else {
            // Lambda always sets messageId; a record without one cannot be reported or retried.
            tracing::error!("record without messageId skipped");
            continue;
        };
        if !failed.is_empty() {
            failed.push(message_id.to_owned());
            continue;
        }
        if let Err(err) = reply(app, record).await {
            tracing::error!(message_id, %err, "record failed; it and the rest of the batch go back to the queue");
            failed.push(message_id.to_owned());
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    Ok(response)
}

fn attribute<'a>(record: &'a SqsMessage, name: &str) -> Result<&'a str, FunctionError> {
    record
        .message_attributes
        .get(name)
        .and_then(|a| a.string_value.as_deref())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FunctionError::InvalidEvent(format!("message attribute {name} is missing")))
}

async fn reply(app: &App, record: &SqsMessage) -> Result<(), FunctionError> {
    let connection_id = attribute(record, CONNECTION_ID_ATTRIBUTE)?;
    let reply = Reply {
        connection_id,
        request_id: attribute(record, REQUEST_ID_ATTRIBUTE)?,
        message: record.body.as_deref().unwrap_or_default(),
    };
    let text = serde_json::to_string(&reply)
        .map_err(|e| FunctionError::InvalidEvent(format!("reply not serialisable: {e}")))?;
    match app.connections.post(connection_id, text).await? {
        Delivery::Delivered => {}
        Delivery::Gone => tracing::info!(connection_id, "sender disconnected; reply dropped"),
    }
    Ok(())
}
