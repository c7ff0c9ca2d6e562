//! `wsflow run` and `wsflow validate`: run one ASL definition from the shell
//! with the `wsflow-asl` engine (mocked tasks from a MockConfigFile, a
//! scalable wall clock), print a DescribeExecution-shaped result.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wsflow_asl::mock::MockConfigFile;
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, StateMachine, TaskCall, TaskFailure, TaskInvoker,
    VecHistory,
};

/// Arguments of `wsflow run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The ASL definition file (its stem is the state machine's name).
    pub definition: PathBuf,
    /// Execution input: JSON text, or `@file`.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// An AWS Step Functions Local MockConfigFile answering Task states.
    #[arg(long, requires = "test_case")]
    pub mocks: Option<PathBuf>,
    /// The test case (under the state machine's name) in the MockConfigFile.
    #[arg(long, requires = "mocks")]
    pub test_case: Option<String>,
    /// Virtual time runs this many times faster than wall time; 0 skips waits entirely.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
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

/// Wall clock with a speed factor (0 = instant).
struct ScaledClock {
    start_wall: i64,
    start: Instant,
    scale: f64,
    skipped: std::sync::atomic::AtomicI64,
}

impl ScaledClock {
    fn new(scale: f64) -> Self {
        let start_wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        ScaledClock {
            start_wall,
            start: Instant::now(),
            scale,
            skipped: Default::default(),
        }
    }
}

impl Clock for ScaledClock {
    fn now_millis(&self) -> i64 {
        let real = self.start.elapsed().as_millis() as f64;
        let virt = if self.scale > 0.0 {
            real * self.scale
        } else {
            real
        };
        self.start_wall + virt as i64 + self.skipped.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn sleep_until<'a>(&'a self, deadline: i64) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let remaining = deadline - self.now_millis();
            if remaining <= 0 {
                return;
            }
            if self.scale <= 0.0 || !self.scale.is_finite() {
                self.skipped
                    .fetch_add(remaining, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            tokio::time::sleep(Duration::from_millis(
                (remaining as f64 / self.scale).ceil() as u64,
            ))
            .await;
        })
    }
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

fn machine_name(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "StateMachine".into())
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
    let name = machine_name(&args.definition);
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
    if args.time_scale.is_nan() || args.time_scale < 0.0 {
        bail!("--time-scale must be >= 0");
    }
    let clock = ScaledClock::new(args.time_scale);
    let start = clock.now_millis();
    let exec_name = format!("{name}-{start}");
    let ctx = ExecutionContext::local(&name, &exec_name, start);
    let history = VecHistory::new();
    let sink: Option<&dyn wsflow_asl::HistorySink> =
        if args.history { Some(&history) } else { None };
    let outcome = wsflow_asl::run_execution(
        &machine,
        input.clone(),
        ctx.clone(),
        invoker.as_ref(),
        &clock,
        sink,
    )
    .await;
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
    Ok(outcome.status == wsflow_asl::ExecutionStatus::Succeeded)
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
