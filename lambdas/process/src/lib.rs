//! Workflow task used by both state machines: validates the execution's `data` and enriches it.
//!
//! Input: the state's payload, `{"data": <any JSON>, ...}` (other members, such as the async
//! workflow's `connectionId`, are ignored). Output:
//!
//! ```json
//! {"type": "string", "length": 11, "bytes": 11,
//!  "sha256": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
//!  "processedAt": "2026-11-22T03:04:05.678Z"}
//! ```
//!
//! The measured text is the one a client receives for `data` ([`data_text`]): a string's
//! characters, any other value's compact JSON. `length` counts Unicode characters, `bytes` its
//! UTF-8 bytes, `sha256` is their hex digest.
//!
//! Invalid data fails the task with `errorType` `InvalidData` (not retried by the workflows; the
//! Standard workflow's `Catch` reports it to the client): `data` missing or `null`, an empty or
//! blank string, or a text over [`MAX_DATA_BYTES`].
#![warn(missing_docs)]

use chrono::{DateTime, SecondsFormat, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wsflow_lambda_kit::payload::data_text;

/// The largest accepted `data` text: 64 KiB, so that the data and its result fit, with room to
/// spare, in one `@connections` message (128 KiB) and one Step Functions payload (256 KiB).
pub const MAX_DATA_BYTES: usize = 64 * 1024;

/// The enrichment of a valid `data` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Processed {
    /// The JSON type of `data`: `string`, `number`, `boolean`, `array` or `object`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Unicode characters in the data's text.
    pub length: usize,
    /// UTF-8 bytes in the data's text.
    pub bytes: usize,
    /// Lower-case hex SHA-256 digest of the data's text.
    pub sha256: String,
    /// When the task ran, RFC 3339 UTC with milliseconds.
    pub processed_at: String,
}

/// The execution's data is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidData(pub String);

impl From<InvalidData> for Diagnostic {
    fn from(err: InvalidData) -> Self {
        Diagnostic {
            error_type: "InvalidData".into(),
            error_message: err.0,
        }
    }
}

/// Validates and enriches `input["data"]` as of `now`.
pub fn process(input: &Value, now: DateTime<Utc>) -> Result<Processed, InvalidData> {
    let data = input.get("data").unwrap_or(&Value::Null);
    let kind = match data {
        Value::Null => {
            return Err(InvalidData(
                "the input has no data: send {\"data\": <any JSON>}".into(),
            ));
        }
        Value::String(s) if s.trim().is_empty() => {
            return Err(InvalidData("data is an empty string".into()));
        }
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let text = data_text(data);
    if text.len() > MAX_DATA_BYTES {
        return Err(InvalidData(format!(
            "data is {} bytes; the limit is {MAX_DATA_BYTES}",
            text.len()
        )));
    }
    let digest = Sha256::digest(text.as_bytes());
    Ok(Processed {
        kind,
        length: text.chars().count(),
        bytes: text.len(),
        sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        processed_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

/// The Lambda handler: [`process`] at the current time.
pub async fn handle(event: LambdaEvent<Value>) -> Result<Processed, InvalidData> {
    let result = process(&event.payload, Utc::now());
    match &result {
        Ok(p) => tracing::info!(kind = p.kind, bytes = p.bytes, "data processed"),
        Err(err) => tracing::info!(%err, "data refused"),
    }
    result
}
