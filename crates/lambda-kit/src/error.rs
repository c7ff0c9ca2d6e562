//! The errors wsflow's functions fail with, and the `errorType` each reports to Lambda.
//!
//! Lambda puts a function error's `errorType` in the invocation result; Step Functions uses it as
//! the state's error name, which `Retry` and `Catch` match (`ErrorEquals`). The names here are
//! therefore part of the workflows' contract:
//!
//! | variant | `errorType` | retried by the workflows |
//! |---|---|---|
//! | [`FunctionError::InvalidEvent`] | `InvalidEvent` | no |
//! | [`FunctionError::Configuration`] | `ConfigurationError` | no |
//! | [`FunctionError::Connections`] (transient) | `ConnectionsUnavailable` | yes |
//! | [`FunctionError::Connections`] (refused) | `ConnectionsRejected` | no |
//! | [`FunctionError::Table`] | `ConnectionsTableError` | yes |

use lambda_runtime::Diagnostic;

use crate::PostError;
use crate::table::TableError;

/// A function invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// The event is not what the function handles (e.g. not a WebSocket event, or a workflow
    /// input without `connectionId`).
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// The function is missing configuration (an environment variable, an endpoint).
    #[error("configuration error: {0}")]
    Configuration(String),
    /// `@connections` failed (other than `GoneException`, which is an outcome).
    #[error(transparent)]
    Connections(#[from] PostError),
    /// The connections table could not be read or updated.
    #[error(transparent)]
    Table(#[from] TableError),
}

impl FunctionError {
    /// The `errorType` reported to Lambda (and seen by Step Functions).
    pub fn error_type(&self) -> &'static str {
        match self {
            FunctionError::InvalidEvent(_) => "InvalidEvent",
            FunctionError::Configuration(_) => "ConfigurationError",
            FunctionError::Connections(e) if e.is_transient() => "ConnectionsUnavailable",
            FunctionError::Connections(_) => "ConnectionsRejected",
            FunctionError::Table(_) => "ConnectionsTableError",
        }
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(err: FunctionError) -> Self {
        Diagnostic {
            error_type: err.error_type().to_owned(),
            error_message: err.to_string(),
        }
    }
}

impl From<crate::settings::MissingSetting> for FunctionError {
    fn from(err: crate::settings::MissingSetting) -> Self {
        FunctionError::Configuration(err.to_string())
    }
}

impl From<crate::connections::NoEndpoint> for FunctionError {
    fn from(err: crate::connections::NoEndpoint) -> Self {
        FunctionError::Configuration(err.to_string())
    }
}
