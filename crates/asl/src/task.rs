//! The traits through which the engine reaches the outside world: task
//! execution ([`TaskInvoker`]) and time ([`Clock`]), plus their data types.

use crate::BoxFuture;
use serde_json::Value;

/// One invocation of a Task state's resource, as the engine hands it to a [`TaskInvoker`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCall {
    /// Name of the Task state being run.
    pub state_name: String,
    /// The state's `Resource`, verbatim.
    pub resource: String,
    /// The effective payload: the result of `Parameters`/`Arguments` (or the
    /// effective input when neither is given).
    pub payload: Value,
    /// The task token, for `.waitForTaskToken` resources (also exposed as `$$.Task.Token`).
    pub task_token: Option<String>,
    /// Effective `TimeoutSeconds` (the engine enforces it; passed for information).
    pub timeout_seconds: Option<u64>,
    /// Effective `HeartbeatSeconds` (the engine enforces it for callback tasks).
    pub heartbeat_seconds: Option<u64>,
    /// 0 for the first attempt, incremented by each retry.
    pub attempt: u32,
}

/// A failed task invocation: an error name and an optional cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    /// Error name (e.g. a Lambda's `errorType`, `States.TaskFailed`).
    pub error: String,
    /// Human-readable cause.
    pub cause: Option<String>,
}

impl TaskFailure {
    /// Builds a failure from an error name and cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskFailure {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }
}

/// Runs Task states' resources (Lambda, service integrations, activities…).
pub trait TaskInvoker: Send + Sync {
    /// Invokes `call.resource` with `call.payload`; the returned value is the task result
    /// (before `ResultSelector`/`ResultPath`).
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>>;

    /// When the latest `SendTaskHeartbeat` for `task_token` arrived (epoch millis), if ever.
    /// The engine polls it when a callback task's `HeartbeatSeconds` elapse; the default
    /// (no heartbeats) makes such a task fail with `States.HeartbeatTimeout`.
    fn last_heartbeat_millis(&self, _task_token: &str) -> Option<i64> {
        None
    }
}

/// The engine's only notion of time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
    /// Completes once `now_millis() >= deadline_millis`.
    fn sleep_until<'a>(&'a self, deadline_millis: i64) -> BoxFuture<'a, ()>;
}
