//! What the service announces to watchers (the web console), once it is
//! durable: the store's writer thread emits a [`SfnChange`] for every
//! execution record and history event of a batch after the batch's commit,
//! so a watcher that reads the store after an announcement finds what was
//! announced, and one that subscribes first and then reads misses nothing
//! (it deduplicates by event id).
//!
//! While nobody watches, the writer pays one atomic load per commit (see
//! [`wsflow_aws_wire::observe`]). Express executions are not stored, so they
//! are not announced.

use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
pub use wsflow_aws_wire::observe::{Observed, Observer, Subscription};

use crate::records::Status;

/// A committed change of a Standard execution.
#[derive(Debug, Clone)]
pub enum SfnChange {
    /// An execution record was written: the execution started, or ended.
    Execution {
        /// The execution.
        execution_arn: Arc<str>,
        /// Its state machine.
        state_machine_arn: Arc<str>,
        /// Its status in the record.
        status: Status,
    },
    /// A history event was appended.
    Event {
        /// The execution.
        execution_arn: Arc<str>,
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
pub(crate) fn execution_change(arn: &str, record: &[u8]) -> Option<SfnChange> {
    let head: RecordHead = serde_json::from_slice(record).ok()?;
    Some(SfnChange::Execution {
        execution_arn: arn.into(),
        state_machine_arn: head.state_machine_arn.into(),
        status: head.status,
    })
}
