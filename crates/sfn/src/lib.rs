//! wsflow-sfn: the local AWS Step Functions service.
//!
//! Owns state machines (from the template, or created through the API),
//! executions (Standard ones persisted in redb with their history, Express
//! ones in memory), the Step Functions JSON-1.0 API (`AWSStepFunctions.*`,
//! served through [`wsflow_aws_wire::AwsService`]), task tokens, and the task
//! integrations the engine's Task states call (Lambda, `lambda:invoke`,
//! `apigateway:invoke`, DynamoDB, SQS, nested `states:startExecution`).
//! The state machine semantics themselves live in `wsflow-asl`.
//!
//! Module map: [`names`] (AWS name/ARN rules), [`clock`] (scaled time),
//! [`records`] and [`store`] (what is kept and where), `service` (the
//! [`StepFunctions`] handle and its registry), `executions` (running,
//! stopping, finishing executions), `replay` (resuming them after a
//! crash), `api` (one function per API operation), `tokens`
//! (waitForTaskToken callbacks), `tasks` (one module per integration),
//! `test_state` (the TestState operation), `stack_update` (the template's
//! machines created and deleted while serving), `mocks` (MockConfigFile test
//! cases: `<stateMachineArn>#<TestCase>`), [`observe`] (announcements of
//! committed changes, for the console).
#![warn(missing_docs)]

mod api;
pub mod clock;
mod executions;
mod mocks;
pub mod names;
pub mod observe;
pub mod records;
mod replay;
mod service;
mod stack_update;
pub mod store;
mod tasks;
mod test_state;
mod tokens;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wsflow_aws_wire::{Account, AwsService, LambdaInvoker};

pub use service::StepFunctions;

/// Locks a mutex, recovering the data if a panicking holder poisoned it
/// (every guarded value here stays consistent between statements).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
pub use store::{CommitMode, StoreError};

/// Write-locks a registry, recovering it if a panicking holder poisoned it.
pub(crate) fn lock_write<T>(l: &std::sync::RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// `STANDARD` or `EXPRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MachineType {
    /// Durable, exactly-once, up to a year; history kept.
    Standard,
    /// In memory, at most five minutes; the only type StartSyncExecution runs.
    Express,
}

impl MachineType {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }
}

/// A state machine declared by the template.
#[derive(Debug, Clone)]
pub struct MachineSpec {
    /// Machine name (the ARN's last part).
    pub name: String,
    /// Standard or Express.
    pub kind: MachineType,
    /// ASL definition (JSON text, substitutions already applied).
    pub definition: String,
    /// Execution role, if the template gives one.
    pub role_arn: Option<String>,
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct SfnOptions {
    /// Region and account of every ARN.
    pub account: Account,
    /// Scale of `Wait` states and other engine sleeps: 1 = real time,
    /// 0.01 = 100x faster, 0 = waits return at once. Express executions'
    /// five-minute limit is measured in the same scaled time.
    pub time_scale: f64,
    /// The local edge endpoint (`http://127.0.0.1:<port>`): where
    /// `arn:aws:states:::apigateway:invoke` sends its requests.
    pub endpoint: String,
    /// Directory of `sfn.redb`.
    pub data_dir: PathBuf,
    /// How history writes are grouped into transactions.
    pub commit_mode: CommitMode,
    /// The database's page cache ([`store::DEFAULT_CACHE_BYTES`] by default).
    pub cache_bytes: usize,
    /// An AWS Step Functions Local MockConfigFile: executions started on
    /// `<stateMachineArn>#<TestCaseName>` run with that test case's mocked
    /// responses.
    pub mocks: Option<Arc<wsflow_asl::mock::MockConfigFile>>,
}

impl SfnOptions {
    /// Defaults (default account, real time, `http://127.0.0.1:3001`, group
    /// commit) with the given data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            account: Account::default(),
            time_scale: 1.0,
            endpoint: "http://127.0.0.1:3001".into(),
            data_dir: data_dir.into(),
            commit_mode: CommitMode::Group,
            cache_bytes: store::DEFAULT_CACHE_BYTES,
            mocks: None,
        }
    }
}

/// The other local services Task states can call.
#[derive(Clone)]
pub struct SfnBackends {
    /// Invokes the stack's Lambda functions.
    pub lambda: Arc<dyn LambdaInvoker>,
    /// AWS services by [`AwsService::integration_name`] (`dynamodb`, `sqs`, `sns`).
    pub services: Vec<Arc<dyn AwsService>>,
}

/// Why the service could not open.
#[derive(Debug, thiserror::Error)]
pub enum SfnError {
    /// A template machine's definition does not validate.
    #[error("state machine {machine} has an invalid definition")]
    InvalidDefinition {
        /// Machine name.
        machine: String,
        /// The engine's diagnostics.
        source: wsflow_asl::DefinitionError,
    },
    /// A template machine's name breaks AWS's naming rules.
    #[error("state machine name {0:?} is invalid")]
    InvalidName(String),
    /// Two template machines share a name.
    #[error("state machine {0:?} is declared twice")]
    Duplicate(String),
    /// No template machine has this name.
    #[error("no state machine {0:?} in the template the stack started with")]
    UnknownMachine(String),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}
