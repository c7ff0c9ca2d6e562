//! wsflow-asl: the Amazon States Language engine.
//!
//! Parses, validates and runs Step Functions state machine definitions with
//! AWS's semantics. It is a pure library: task execution ([`TaskInvoker`]),
//! time ([`Clock`]) and history ([`HistorySink`]) come in through traits, so the
//! same engine runs in tests, in the `wsflow run` command and in the local
//! Step Functions service. No threads, sockets or global clocks here; dropping
//! the future returned by [`run_execution`] aborts the execution cleanly.
//!
//! ```no_run
//! # async fn demo(tasks: &dyn wsflow_asl::TaskInvoker, clock: &dyn wsflow_asl::Clock) {
//! let machine = wsflow_asl::StateMachine::parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#).unwrap();
//! let ctx = wsflow_asl::ExecutionContext::local("demo", "run-1", clock.now_millis());
//! let outcome = wsflow_asl::run_execution(&machine, serde_json::json!({}), ctx, tasks, clock, None).await;
//! assert_eq!(outcome.status.as_str(), "SUCCEEDED");
//! # }
//! ```
#![warn(missing_docs)]

pub mod choice;
pub mod context;
pub mod definition;
pub mod error;
pub mod history;
pub mod interpreter;
pub mod intrinsics;
pub mod jsonata;
pub mod limits;
pub mod mock;
pub mod path;
pub mod payload;
pub mod retry;
pub mod task;
pub mod test_state;
pub mod validate;
pub mod value;

use std::{future::Future, pin::Pin};

pub use context::ExecutionContext;
pub use definition::StateMachine;
pub use error::{DefinitionError, Diagnostic, ExecError, Severity};
pub use history::{HistoryEvent, HistorySink, VecHistory};
pub use interpreter::{ExecutionOutcome, ExecutionStatus, run_execution};
pub use task::{Clock, TaskCall, TaskFailure, TaskInvoker};
pub use validate::validate;

/// A boxed, sendable future (same type as `wsflow_aws_wire::BoxFuture`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
