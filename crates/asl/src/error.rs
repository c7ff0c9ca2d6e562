//! Error types: definition diagnostics ([`Diagnostic`], [`DefinitionError`]),
//! the runtime failure carried through states ([`ExecError`]) and the
//! `States.*` error names AWS defines.

use std::fmt;

/// `States.ALL`: matches every error name except `States.DataLimitExceeded` and `States.Runtime`.
pub const ALL: &str = "States.ALL";
/// Task-level catch-all (everything but `States.Timeout`).
pub const TASK_FAILED: &str = "States.TaskFailed";
/// A task or state ran longer than `TimeoutSeconds`.
pub const TIMEOUT: &str = "States.Timeout";
/// A callback task missed a heartbeat.
pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
/// An unrecoverable runtime error (bad path, bad type…). Cannot be caught by `States.ALL`.
pub const RUNTIME: &str = "States.Runtime";
/// Payload larger than 256 KiB.
pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
/// A Choice state matched no rule and has no Default.
pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
/// An intrinsic function failed.
pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
/// A path in `Parameters`/`ResultSelector` did not match.
pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
/// `ResultPath` could not be applied.
pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
/// The Map state's items were not an array, or similar.
pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
/// The Map state's failure tolerance was exceeded.
pub const EXCEEDED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
/// A branch/iteration failed.
pub const BRANCH_FAILED: &str = "States.BranchFailed";
/// A JSONata expression failed.
pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";

/// Severity of a [`Diagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// The definition is rejected.
    Error,
    /// Accepted, but suspicious.
    Warning,
}

/// One finding about a definition (ValidateStateMachineDefinition's `diagnostics[]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`, `INVALID_JSON_DESCRIPTION`.
    pub code: String,
    /// Human-readable text.
    pub message: String,
    /// JSON-pointer-like location, e.g. `/States/Main/Next`.
    pub location: Option<String>,
    /// Error or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(code: &str, message: impl Into<String>, location: impl Into<String>) -> Self {
        let location = location.into();
        Diagnostic {
            code: code.to_string(),
            message: message.into(),
            location: if location.is_empty() {
                None
            } else {
                Some(location)
            },
            severity: Severity::Error,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{}: {} at {}", self.code, self.message, loc),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

/// A definition that cannot be run; the diagnostics say why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_diagnostics(.diagnostics))]
pub struct DefinitionError {
    /// The findings (at least one with severity Error).
    pub diagnostics: Vec<Diagnostic>,
}

fn display_diagnostics(d: &[Diagnostic]) -> String {
    let mut s = "Invalid State Machine Definition: ".to_string();
    for (i, x) in d.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!("'{x}'"));
    }
    s
}

/// A runtime failure travelling through the interpreter (what `Catch` sees).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {}", cause.as_deref().unwrap_or(""))]
pub struct ExecError {
    /// Error name.
    pub error: String,
    /// Cause text (empty when none).
    pub cause: Option<String>,
}

impl ExecError {
    /// Builds an error with a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        ExecError {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }
    /// `States.Runtime` with `cause`.
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(RUNTIME, cause)
    }
}
