//! What the host is asked to run: one [`FunctionSpec`] per function, and the
//! [`HostOptions`] shared by all of them.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use crate::logs::LogSink;

/// One Lambda function, as the template declares it.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function name, as in its ARN (`FunctionName`, or the logical id).
    pub name: String,
    /// The function's executable (for `provided.al2023`, the `bootstrap`;
    /// for an interpreted runtime, the interpreter).
    pub executable: PathBuf,
    /// Arguments of the executable (an interpreted runtime's bootstrap
    /// script).
    pub args: Vec<String>,
    /// The process's working directory and `LAMBDA_TASK_ROOT` (`None`: the
    /// executable's directory).
    pub working_dir: Option<PathBuf>,
    /// Why the function cannot run here (a runtime the stack does not
    /// support, a missing interpreter): every invocation fails with this
    /// message instead of starting a process.
    pub unavailable: Option<String>,
    /// The template's `Environment.Variables`, already resolved.
    pub environment: BTreeMap<String, String>,
    /// `Timeout`: a process still running after this is killed and the
    /// invocation fails with `Sandbox.Timedout`.
    pub timeout: Duration,
    /// `MemorySize` in MB (exported as `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`;
    /// not enforced).
    pub memory_mb: u32,
    /// `Handler` (exported as `_HANDLER`).
    pub handler: String,
    /// At most this many processes of the function run at once; further
    /// invocations wait for one to become free.
    pub max_concurrency: usize,
}

impl FunctionSpec {
    /// The directory the process starts in (its `LAMBDA_TASK_ROOT`).
    pub fn task_root(&self) -> &std::path::Path {
        self.working_dir
            .as_deref()
            .or_else(|| self.executable.parent())
            .unwrap_or(std::path::Path::new("."))
    }

    /// A spec with Lambda's defaults: 3 s timeout, 128 MB, handler
    /// `bootstrap`, no environment, at most 64 processes.
    pub fn new(name: impl Into<String>, executable: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            executable: executable.into(),
            args: Vec::new(),
            working_dir: None,
            unavailable: None,
            environment: BTreeMap::new(),
            timeout: Duration::from_secs(3),
            memory_mb: 128,
            handler: "bootstrap".into(),
            max_concurrency: 64,
        }
    }
}

/// Settings shared by every function of a host.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Region the functions see (`AWS_REGION`) and their ARNs carry.
    pub region: String,
    /// Account id in the functions' ARNs.
    pub account_id: String,
    /// Prefix each console log line with `[FunctionName] `.
    pub log_prefix: bool,
    /// Where function output and platform lines go.
    pub log_sink: LogSink,
    /// Emit Lambda's `START`/`END`/`REPORT` lines for every invocation.
    pub platform_logs: bool,
    /// Kill processes idle for longer than this (`None`: keep them until
    /// shutdown).
    pub idle_process_ttl: Option<Duration>,
    /// How long a new process may take to reach its first
    /// `GET /runtime/invocation/next` (Lambda's init phase limit, 10 s).
    pub init_timeout: Duration,
    /// Variables set for every function, under the template's own
    /// `Environment` (e.g. `AWS_ENDPOINT_URL` pointing at the local stack).
    pub extra_environment: BTreeMap<String, String>,
    /// Host environment variables passed through to the functions when set
    /// (Lambda starts processes with a clean environment; `RUST_LOG` is
    /// handy locally).
    pub pass_through_env: Vec<String>,
}

impl Default for HostOptions {
    fn default() -> Self {
        let account = wsflow_aws_wire::Account::default();
        Self {
            region: account.region,
            account_id: account.account_id,
            log_prefix: true,
            log_sink: LogSink::Console,
            platform_logs: true,
            idle_process_ttl: None,
            init_timeout: Duration::from_secs(10),
            extra_environment: BTreeMap::new(),
            pass_through_env: vec!["RUST_LOG".into(), "RUST_BACKTRACE".into()],
        }
    }
}
