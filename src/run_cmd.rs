//! `wsflow run` and `wsflow validate`: run one ASL definition from the shell
//! with the `wsflow-asl` engine (mocked tasks from a MockConfigFile, the
//! Step Functions service's scaled clock, so `--time-scale` means what it
//! means for `wsflow up`), as a Standard or an Express execution, and print
//! a DescribeExecution-shaped result.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use wsflow_asl::mock::MockConfigFile;
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, ExecutionStatus, StateMachine, TaskCall, TaskFailure,
    TaskInvoker, VecHistory,
};
use wsflow_aws_wire::Account;
use wsflow_sfn::clock::{EXPRESS_LIMIT_MILLIS, EXPRESS_TIMEOUT_CAUSE, ScaledClock};

/// The workflow type an execution runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum WorkflowType {
    /// A Standard execution: `arn:…:execution:<machine>:<name>`.
    Standard,
    /// An Express execution: `arn:…:express:<machine>:<name>:<id>`, no
    /// `RedriveCount` in its context object, at most 5 minutes long.
    Express,
}

/// Arguments of `wsflow run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The ASL definition file (its stem is the state machine's name).
    pub definition: PathBuf,
    /// Execution input: JSON text, or `@file`.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// The state machine's name (ARNs, the MockConfigFile's `StateMachines` key);
    /// default: the file name without `.asl.json`.
    #[arg(long)]
    pub name: Option<String>,
    /// An AWS Step Functions Local MockConfigFile answering Task states.
    #[arg(long, requires = "test_case")]
    pub mocks: Option<PathBuf>,
    /// The test case (under the state machine's name) in the MockConfigFile.
    #[arg(long, requires = "mocks")]
    pub test_case: Option<String>,
    /// Scale for Wait states and retry intervals, as for `wsflow up`: 1 = real time,
    /// 0.1 = ten times faster, 0 = no waiting.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Run as a STANDARD or an EXPRESS execution (Express: its ARN form and
    /// context object, and AWS's 5 minute limit).
    #[arg(long = "type", value_enum, default_value_t = WorkflowType::Standard)]
    pub workflow_type: WorkflowType,
    /// Include the execution history events.
    #[arg(long)]
    pub history: bool,
}

/// Arguments of `wsflow validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The ASL definition file.
    pub definition: PathBuf,
}

/// Used when no `--mocks` are given: every Task fails.
struct NoTasks;

impl TaskInvoker for NoTasks {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async move {
            Err(TaskFailure::new(
                "States.TaskFailed",
                format!(
                    "No task backend: state '{}' ({}) needs --mocks/--test-case",
                    call.state_name, call.resource
                ),
            ))
        })
    }
}

fn read_input(arg: &str) -> anyhow::Result<Value> {
    let text = match arg.strip_prefix('@') {
        Some(f) => std::fs::read_to_string(f).with_context(|| format!("reading input file {f}"))?,
        None => arg.to_string(),
    };
    serde_json::from_str(&text).context("the execution input is not valid JSON")
}

/// The state machine's name: the file name without `.json`/`.yaml` and
/// without the `.asl` that ASL files carry (`sync-express.asl.json` →
/// `sync-express`).
fn machine_name(p: &Path) -> String {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.strip_suffix(".asl") {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ if stem.is_empty() => "StateMachine".into(),
        _ => stem,
    }
}

fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant), to avoid a date dependency in the CLI.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// The context of a local execution of `machine` named `execution`, in the
/// stack's account and region.
fn execution_context(
    kind: WorkflowType,
    machine: &str,
    execution: &str,
    start_millis: i64,
) -> ExecutionContext {
    let account = Account::default();
    let execution_arn = match kind {
        WorkflowType::Standard => account.execution(machine, execution),
        WorkflowType::Express => {
            account.express_execution(machine, execution, &uuid::Uuid::new_v4().to_string())
        }
    };
    ExecutionContext {
        execution_arn,
        execution_name: execution.to_owned(),
        state_machine_arn: account.state_machine(machine),
        state_machine_name: machine.to_owned(),
        ..ExecutionContext::local(machine, execution, start_millis)
    }
}

/// `wsflow validate`: prints diagnostics; `Ok(true)` when valid.
pub fn validate(args: &ValidateArgs) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(&args.definition)
        .with_context(|| format!("reading {}", args.definition.display()))?;
    let diags = wsflow_asl::validate(&text);
    let errors = diags
        .iter()
        .any(|d| d.severity == wsflow_asl::Severity::Error);
    let out = json!({"result": if errors { "FAIL" } else { "OK" }, "diagnostics": diags});
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(!errors)
}

/// `wsflow run`: `Ok(true)` when the execution succeeded.
pub async fn run(args: &RunArgs) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(&args.definition)
        .with_context(|| format!("reading {}", args.definition.display()))?;
    let machine = match StateMachine::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            let out = json!({"result": "FAIL", "diagnostics": e.diagnostics});
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(false);
        }
    };
    let input = read_input(&args.input)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| machine_name(&args.definition));
    let invoker: Box<dyn TaskInvoker> = match (&args.mocks, &args.test_case) {
        (Some(m), Some(tc)) => {
            let text =
                std::fs::read_to_string(m).with_context(|| format!("reading {}", m.display()))?;
            let cfg = MockConfigFile::parse(&text)?;
            Box::new(cfg.invoker(&name, tc)?)
        }
        (None, None) => Box::new(NoTasks),
        _ => bail!("--mocks and --test-case go together"),
    };
    if !args.time_scale.is_finite() || args.time_scale < 0.0 {
        bail!("--time-scale must be a finite number >= 0");
    }
    let clock = ScaledClock::new(args.time_scale);
    let start = clock.now_millis();
    let exec_name = format!("{name}-{start}");
    let ctx = execution_context(args.workflow_type, &name, &exec_name, start);
    let history = VecHistory::new();
    let sink: Option<&dyn wsflow_asl::HistorySink> =
        if args.history { Some(&history) } else { None };
    let run = wsflow_asl::run_execution(
        &machine,
        input.clone(),
        ctx.clone(),
        invoker.as_ref(),
        &clock,
        sink,
    );
    let outcome = match args.workflow_type {
        WorkflowType::Standard => Some(run.await),
        WorkflowType::Express => tokio::select! {
            o = run => Some(o).filter(|_| !clock.exceeded(start, EXPRESS_LIMIT_MILLIS)),
            _ = clock.limit(start, EXPRESS_LIMIT_MILLIS) => None,
        },
    };
    // An Express execution past its 5 minutes: TIMED_OUT, as the service reports it.
    let outcome = outcome.unwrap_or_else(|| wsflow_asl::ExecutionOutcome {
        status: ExecutionStatus::TimedOut,
        output: None,
        error: Some("States.Timeout".into()),
        cause: Some(EXPRESS_TIMEOUT_CAUSE.into()),
    });
    let stop = clock.now_millis();
    let mut out = json!({
        "executionArn": ctx.execution_arn,
        "stateMachineArn": ctx.state_machine_arn,
        "name": exec_name,
        "status": outcome.status.as_str(),
        "startDate": iso(start),
        "stopDate": iso(stop),
        "input": serde_json::to_string(&input)?,
    });
    if let Some(o) = &outcome.output {
        out["output"] = json!(serde_json::to_string(o)?);
    }
    if let Some(e) = &outcome.error {
        out["error"] = json!(e);
    }
    if let Some(c) = &outcome.cause {
        out["cause"] = json!(c);
    }
    if args.history {
        out["events"] = Value::Array(history.events().iter().map(|e| e.to_json()).collect());
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(outcome.status == ExecutionStatus::Succeeded)
}

#[cfg(test)]
mod tests {
    use super::iso;

    #[test]
    fn iso_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
