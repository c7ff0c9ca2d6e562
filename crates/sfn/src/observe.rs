//! What the service announces to watchers (the web console), once it is
//! durable: after each commit the store's writer thread emits one
//! [`Changes`], a [`SfnChange`] for every execution record and history
//! event of the commit, so a watcher that reads the store after an
//! announcement finds what was announced, and one that subscribes first and
//! then reads misses nothing (it deduplicates by event id).
//!
//! One announcement per commit, not per event: a watcher wakes up once per
//! group commit (a few hundred times a second under load), and the writer
//! moves the bytes it already holds into the announcement (no copies).
//! While nobody watches, the writer pays one atomic load per commit (see
//! [`wsflow_aws_wire::observe`]). Express executions are not stored, so they
//! are not announced.

use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
pub use wsflow_aws_wire::observe::{Observed, Observer, Subscription};

use crate::records::Status;

/// The changes of one commit, in commit order.
pub type Changes = Arc<Vec<SfnChange>>;

/// A committed change of a Standard execution.
#[derive(Debug, Clone)]
pub enum SfnChange {
    /// An execution record was written: the execution started, or ended.
    Execution {
        /// The execution.
        execution_arn: String,
        /// Its state machine.
        state_machine_arn: String,
        /// Its status in the record.
        status: Status,
    },
    /// A history event was appended.
    Event {
        /// The execution.
        execution_arn: String,
        /// The event id.
        id: u64,
        /// The event as GetExecutionHistory shows it (AWS JSON).
        json: Bytes,
    },
}

/// The fields of a stored execution record a watcher is told.
#[derive(Deserialize)]
struct RecordHead {
    state_machine_arn: String,
    status: Status,
}

/// The announcement of an execution record write (`None` if it does not
/// decode, which the store's own reads would report).
pub(crate) fn execution_change(arn: String, record: &[u8]) -> Option<SfnChange> {
    let head: RecordHead = serde_json::from_slice(record).ok()?;
    Some(SfnChange::Execution {
        execution_arn: arn,
        state_machine_arn: head.state_machine_arn,
        status: head.status,
    })
}
