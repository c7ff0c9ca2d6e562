//! What the service keeps about state machines and executions, as stored in
//! the database (JSON-encoded values) and shown by the Describe/List calls.

use serde::{Deserialize, Serialize};

/// Status of an execution (`RUNNING`, `SUCCEEDED`, …), as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Still running.
    Running,
    /// Finished with an output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Ran past its timeout.
    TimedOut,
    /// Stopped by StopExecution.
    Aborted,
}

impl Status {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }

    /// Parses AWS's spelling (ListExecutions' `statusFilter`).
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "RUNNING" => Status::Running,
            "SUCCEEDED" => Status::Succeeded,
            "FAILED" => Status::Failed,
            "TIMED_OUT" => Status::TimedOut,
            "ABORTED" => Status::Aborted,
            _ => return None,
        })
    }
}

impl From<wsflow_asl::ExecutionStatus> for Status {
    fn from(s: wsflow_asl::ExecutionStatus) -> Self {
        match s {
            wsflow_asl::ExecutionStatus::Succeeded => Status::Succeeded,
            wsflow_asl::ExecutionStatus::Failed => Status::Failed,
            wsflow_asl::ExecutionStatus::TimedOut => Status::TimedOut,
            wsflow_asl::ExecutionStatus::Aborted => Status::Aborted,
        }
    }
}

/// One execution (Standard executions are persisted; Express ones only live
/// in memory while they run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// Execution ARN.
    pub execution_arn: String,
    /// ARN of the state machine it runs.
    pub state_machine_arn: String,
    /// Execution name.
    pub name: String,
    /// Current status.
    pub status: Status,
    /// Input, as the JSON text the caller sent.
    pub input: String,
    /// Output JSON text, once succeeded.
    pub output: Option<String>,
    /// Error name, once failed / timed out / aborted.
    pub error: Option<String>,
    /// Cause, once failed / timed out / aborted.
    pub cause: Option<String>,
    /// Start time, epoch milliseconds.
    pub start_millis: i64,
    /// Stop time, epoch milliseconds, once finished.
    pub stop_millis: Option<i64>,
    /// The MockConfigFile test case it runs with (started on
    /// `<stateMachineArn>#<TestCase>`), kept so a resumed run mocks the same
    /// states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_case: Option<String>,
    /// The version (SHA-256) of the definition it started with: a resumed run
    /// replays that definition even if the machine was updated since, as AWS
    /// runs an execution to its end on the version it started with. Absent
    /// in records written before versions were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_version: Option<String>,
}

/// A state machine created through CreateStateMachine (template machines are
/// not stored: the template is their source of truth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineRecord {
    /// Machine name.
    pub name: String,
    /// `STANDARD` or `EXPRESS`.
    pub kind: crate::MachineType,
    /// ASL definition text.
    pub definition: String,
    /// Execution role.
    pub role_arn: String,
    /// Creation time, epoch milliseconds.
    pub created_millis: i64,
}
