//! AWS service errors as they travel on the wire.

use serde_json::json;

/// An error returned by an AWS API operation.
///
/// `code` is AWS's error name (`ResourceNotFoundException`,
/// `ValidationException`, `ExecutionDoesNotExist`, …) and `status` the HTTP
/// status AWS uses for it (400 for client errors, 500 for internal ones).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    /// HTTP status code.
    pub status: u16,
    /// AWS error name, without namespace.
    pub code: String,
    /// Human-readable message, AWS's own wording where known.
    pub message: String,
}

impl ServiceError {
    /// A client error (HTTP 400) with the given AWS error name and message.
    pub fn client(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: code.into(),
            message: message.into(),
        }
    }

    /// An error with an explicit HTTP status.
    pub fn with_status(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// AWS's `ValidationException` (HTTP 400).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::client("ValidationException", message)
    }

    /// An internal failure of the local service (HTTP 500, `InternalServerError`).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::with_status(500, "InternalServerError", message)
    }

    /// The body of this error in the AWS JSON protocols (1.0 and 1.1):
    /// `{"__type": "<namespace>#<code>", "message": "…"}`.
    ///
    /// `namespace` is the service's Smithy namespace, e.g.
    /// `com.amazonaws.dynamodb.v20120810`; pass `None` to emit the bare code,
    /// which every AWS SDK also accepts.
    pub fn json_body(&self, namespace: Option<&str>) -> Vec<u8> {
        let ty = match namespace {
            Some(ns) => format!("{ns}#{}", self.code),
            None => self.code.clone(),
        };
        serde_json::to_vec(&json!({ "__type": ty, "message": self.message }))
            .unwrap_or_else(|_| b"{}".to_vec())
    }
}
