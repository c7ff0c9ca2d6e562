//! Starting, running, stopping and finishing executions.
//!
//! Standard executions: the RUNNING record is committed before StartExecution
//! answers, the run is a spawned tokio task whose history events stream into
//! the store (group-committed), and the final record is committed before the
//! execution leaves the in-memory `live` map, so a reader always finds it in
//! one place or the other. Express executions never touch the database.
//! [`resume_all`] restarts, at start-up, the Standard executions a crash or a
//! stop left RUNNING, replaying their histories (see [`crate::replay`]).

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{oneshot, watch};
use wsflow_asl::mock::MockInvoker;
use wsflow_asl::{
    Clock, ExecutionContext, ExecutionOutcome, ExecutionStatus, HistorySink, TaskInvoker,
};
use wsflow_aws_wire::ServiceError;

use crate::MachineType;
use crate::clock::{EXPRESS_LIMIT_MILLIS, EXPRESS_TIMEOUT_CAUSE, ScaledClock, epoch_millis};
use crate::lock;
use crate::mocks::{self, Mocked};
use crate::names::{check_name, invalid_arn, split_states_arn};
use crate::records::{ExecutionRecord, Status};
use crate::replay::{HistoryRecorder, Journal, ResumeClock, TaskReplay};
use crate::service::{Inner, Machine};

/// Largest execution input AWS accepts (256 KiB).
const MAX_INPUT: usize = 256 * 1024;

/// A stop request: error and cause.
type StopRequest = (Option<String>, Option<String>);

/// An execution running in this process.
pub(crate) struct Live {
    pub record: Mutex<ExecutionRecord>,
    stop: Mutex<Option<oneshot::Sender<StopRequest>>>,
    /// Holds the final record once the execution has finished.
    pub done: watch::Sender<Option<ExecutionRecord>>,
}

/// What StartExecution hands back.
pub(crate) struct Started {
    pub record: ExecutionRecord,
    /// Completes (becomes `Some`) when the execution finishes.
    pub done: watch::Receiver<Option<ExecutionRecord>>,
}

/// Finds a machine by ARN: `InvalidArn` or `StateMachineDoesNotExist`.
pub(crate) fn machine(inner: &Inner, arn: &str) -> Result<Arc<Machine>, ServiceError> {
    split_states_arn(arn, "stateMachine")?;
    inner.machine(arn).ok_or_else(|| {
        ServiceError::client(
            "StateMachineDoesNotExist",
            format!("State Machine Does Not Exist: '{arn}'"),
        )
    })
}

fn does_not_exist(arn: &str) -> ServiceError {
    ServiceError::client(
        "ExecutionDoesNotExist",
        format!("Execution Does Not Exist: '{arn}'"),
    )
}

/// Parses an execution input (absent = `{}`): `InvalidExecutionInput` if it
/// is not JSON or too large.
pub(crate) fn parse_input(input: Option<&str>) -> Result<(String, Value), ServiceError> {
    let text = input.unwrap_or("{}");
    if text.len() > MAX_INPUT {
        return Err(ServiceError::client(
            "InvalidExecutionInput",
            "Invalid State Machine Execution Input: 'Input exceeds the maximum size of 262144 bytes'",
        ));
    }
    let value = serde_json::from_str(text).map_err(|e| {
        ServiceError::client(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{e}'"),
        )
    })?;
    Ok((text.to_owned(), value))
}

fn new_record(
    inner: &Inner,
    m: &Machine,
    name: Option<&str>,
    input: String,
    test_case: Option<&str>,
) -> Result<ExecutionRecord, ServiceError> {
    let name = match name {
        Some(n) => {
            check_name(n)?;
            n.to_owned()
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let execution_arn = match m.kind {
        MachineType::Standard => inner.account.execution(&m.name, &name),
        MachineType::Express => {
            inner
                .account
                .express_execution(&m.name, &name, &uuid::Uuid::new_v4().to_string())
        }
    };
    Ok(ExecutionRecord {
        execution_arn,
        state_machine_arn: m.arn.clone(),
        name,
        status: Status::Running,
        input,
        output: None,
        error: None,
        cause: None,
        start_millis: epoch_millis(),
        stop_millis: None,
        test_case: test_case.map(str::to_owned),
        definition_version: (m.kind == MachineType::Standard).then(|| m.version.clone()),
    })
}

fn context(m: &Machine, rec: &ExecutionRecord) -> ExecutionContext {
    ExecutionContext {
        execution_arn: rec.execution_arn.clone(),
        execution_name: rec.name.clone(),
        state_machine_arn: m.arn.clone(),
        state_machine_name: m.name.clone(),
        role_arn: m.role_arn.clone(),
        start_time_millis: rec.start_millis,
        redrive_count: 0,
    }
}

fn already_exists(arn: &str) -> ServiceError {
    ServiceError::client(
        "ExecutionAlreadyExists",
        format!("Execution Already Exists: '{arn}'"),
    )
}

/// StartExecution: registers the execution, commits its RUNNING record
/// (Standard) and spawns its run. Same name + same input while RUNNING
/// returns the running execution; otherwise a reused name is
/// `ExecutionAlreadyExists`.
pub(crate) async fn start(
    inner: &Arc<Inner>,
    machine_arn: &str,
    name: Option<&str>,
    input: Option<&str>,
) -> Result<Started, ServiceError> {
    let (base_arn, test_case) = mocks::split_test_case(machine_arn);
    let m = machine(inner, base_arn)?;
    let mocked = mocks::for_test_case(inner.mocks.as_ref(), machine_arn, &m.name, test_case)?;
    let (input_text, input_value) = parse_input(input)?;
    let rec = new_record(inner, &m, name, input_text, test_case)?;
    let (stop_tx, stop_rx) = oneshot::channel();
    let (done_tx, done_rx) = watch::channel(None);
    let live = Arc::new(Live {
        record: Mutex::new(rec.clone()),
        stop: Mutex::new(Some(stop_tx)),
        done: done_tx,
    });
    {
        let mut map = lock(&inner.live);
        if let Some(existing) = map.get(&rec.execution_arn) {
            let r = lock(&existing.record).clone();
            return if r.input == rec.input {
                Ok(Started {
                    record: r,
                    done: existing.done.subscribe(),
                })
            } else {
                Err(already_exists(&rec.execution_arn))
            };
        }
        if m.kind == MachineType::Standard {
            let stored = inner
                .store
                .execution(&rec.execution_arn)
                .map_err(|e| ServiceError::internal(e.to_string()))?;
            if let Some(r) = stored {
                return if r.status == Status::Running && r.input == rec.input {
                    Ok(Started {
                        record: r,
                        done: watch::channel(None).1,
                    })
                } else {
                    Err(already_exists(&rec.execution_arn))
                };
            }
        }
        map.insert(rec.execution_arn.clone(), live.clone());
    }
    if m.kind == MachineType::Standard {
        // The definition it starts with is durable with its record.
        if lock(&inner.stored_versions).insert(m.version.clone()) {
            inner.store.put_definition(&m.version, &m.definition);
        }
        inner.store.put_execution(&rec);
        if let Err(e) = inner.store.sync().await {
            // The version may not be stored: queue it again next time.
            lock(&inner.stored_versions).remove(&m.version);
            lock(&inner.live).remove(&rec.execution_arn);
            return Err(ServiceError::internal(e.to_string()));
        }
    }
    let ctx = context(&m, &rec);
    let guard = RunningGuard::new(inner.clone());
    tokio::spawn(async move {
        let with = RunWith {
            resume: None,
            mocked,
        };
        drive(guard.0.clone(), m, live, input_value, ctx, stop_rx, with).await;
        drop(guard);
    });
    Ok(Started {
        record: rec,
        done: done_rx,
    })
}

/// The finished Standard execution `name` of `machine_arn`, if it exists and
/// ran on the same input: what a re-invoked `states:startExecution` task
/// (in flight at a crash, see [`crate::replay::reinvoked`]) adopts instead of
/// failing with `ExecutionAlreadyExists`.
pub(crate) fn finished_twin(
    inner: &Inner,
    machine_arn: &str,
    name: &str,
    input: Option<&str>,
) -> Option<Started> {
    let m = inner.machine(machine_arn)?;
    let rec = inner
        .store
        .execution(&inner.account.execution(&m.name, name))
        .ok()??;
    let same_input = serde_json::from_str::<Value>(&rec.input).ok()
        == serde_json::from_str::<Value>(input.unwrap_or("{}")).ok();
    if rec.status == Status::Running || !same_input {
        return None;
    }
    Some(Started {
        done: watch::channel(Some(rec.clone())).1,
        record: rec,
    })
}

/// Counts a spawned execution task in `Inner::running` while it lives.
struct RunningGuard(Arc<Inner>);

impl RunningGuard {
    fn new(inner: Arc<Inner>) -> Self {
        inner.running.send_modify(|n| *n += 1);
        Self(inner)
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.running.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// The machine as `rec` started on it: the current one, or, when the
/// definition changed since, the stored version the execution recorded.
fn started_version(inner: &Inner, current: Arc<Machine>, rec: &ExecutionRecord) -> Arc<Machine> {
    let Some(version) = rec.definition_version.as_deref() else {
        return current;
    };
    if version == current.version {
        return current;
    }
    let arn = &rec.execution_arn;
    let definition = match inner.store.definition(version) {
        Ok(Some(d)) => d,
        Ok(None) | Err(_) => {
            tracing::warn!(%arn, "the definition version it started with is not stored; resuming on the current one");
            return current;
        }
    };
    match wsflow_asl::StateMachine::parse(&definition) {
        Ok(parsed) => {
            tracing::info!(%arn, "resuming on the definition it started with (the machine was updated since)");
            Arc::new(Machine {
                arn: current.arn.clone(),
                name: current.name.clone(),
                kind: current.kind,
                definition,
                version: version.to_owned(),
                parsed,
                role_arn: current.role_arn.clone(),
                created_millis: current.created_millis,
                from_template: current.from_template,
            })
        }
        Err(e) => {
            tracing::warn!(%arn, "its stored definition no longer parses ({e}); resuming on the current one");
            current
        }
    }
}

/// How a run ended.
enum End {
    Outcome(ExecutionOutcome),
    Stopped(StopRequest),
    ExpressTimeout,
}

/// What one run brings besides its record: the history a resumed run
/// replays, and the mocks of the test case it runs with.
struct RunWith {
    resume: Option<Resume>,
    mocked: Option<MockInvoker>,
}

/// Everything a resumed execution replays: its stored history, indexed.
struct Resume {
    journal: Journal,
}

async fn drive(
    inner: Arc<Inner>,
    m: Arc<Machine>,
    live: Arc<Live>,
    input: Value,
    ctx: ExecutionContext,
    stop_rx: oneshot::Receiver<StopRequest>,
    with: RunWith,
) {
    let RunWith { resume, mocked } = with;
    let arn = ctx.execution_arn.clone();
    let standard = m.kind == MachineType::Standard;
    let (recorder, recorded) = match resume {
        Some(r) => {
            let (rec, tasks) = HistoryRecorder::resume(
                &arn,
                inner.store.clone(),
                ctx.start_time_millis,
                r.journal,
            );
            (Some(rec), tasks)
        }
        None if standard => (
            Some(HistoryRecorder::new(
                &arn,
                inner.store.clone(),
                ctx.start_time_millis,
            )),
            Vec::new(),
        ),
        None => (None, Vec::new()),
    };
    let express = m.kind == MachineType::Express;
    let ctx_start = ctx.start_time_millis;
    // Express executions are never recorded, so their clock is the scaled
    // one the 5 minute limit reads.
    let scaled = ScaledClock::new(inner.time_scale);
    let resume_clock = recorder
        .as_ref()
        .map(|r| ResumeClock::new(ScaledClock::new(inner.time_scale), r.progress()));
    let clock: &dyn Clock = match &resume_clock {
        Some(c) => c,
        None => &scaled,
    };
    let barrier = recorder.as_ref().map(|_| inner.store.clone());
    if let Some(mocks) = &mocked {
        // A resumed run's recorded calls are answered by the replay; the
        // test case's k-th response still goes to the k-th call.
        for (state, calls) in crate::replay::calls_per_state(&recorded) {
            mocks.skip(state, calls);
        }
    }
    let with_mocks = mocked.as_ref().map(|mocks| Mocked {
        mocks,
        real: &*inner,
    });
    let backend: &dyn TaskInvoker = match &with_mocks {
        Some(m) => m,
        None => &*inner,
    };
    let tasks = TaskReplay::new(backend, recorded, barrier);
    let history = recorder.as_ref().map(|s| s as &dyn HistorySink);
    let mut shutdown = inner.shutdown.subscribe();
    let run = wsflow_asl::run_execution(&m.parsed, input, ctx, &tasks, clock, history);
    let limit = async {
        if express {
            scaled.limit(ctx_start, EXPRESS_LIMIT_MILLIS).await
        } else {
            std::future::pending().await
        }
    };
    let end = tokio::select! {
        o = run => express_end(o, &scaled, ctx_start),
        stop = stop_rx => match stop {
            Ok(s) => End::Stopped(s),
            Err(_) => End::Stopped((None, None)),
        },
        _ = limit => End::ExpressTimeout,
        _ = shutdown.wait_for(|v| *v) => {
            tracing::info!(%arn, "stack stopping; execution left RUNNING");
            lock(&inner.live).remove(&arn);
            return;
        }
    };
    let mut rec = lock(&live.record).clone();
    // A replay's clock may still report a stored time; an end is never
    // earlier than the moment it happens.
    let now = clock.now_millis().max(epoch_millis());
    apply_end(&mut rec, end, now, recorder.as_ref());
    if standard {
        inner.store.put_execution(&rec);
        if let Err(e) = inner.store.sync().await {
            tracing::error!(%arn, "final execution record not committed: {e}");
        }
    }
    // Readers see the final status only once it is durable.
    *lock(&live.record) = rec.clone();
    lock(&inner.live).remove(&arn);
    live.done.send_replace(Some(rec));
}

/// Resumes every Standard execution the database shows as RUNNING (the
/// stack stopped or crashed while it ran) by replaying its history (see
/// [`crate::replay`]). Returns how many were resumed.
pub(crate) fn resume_all(inner: &Arc<Inner>) -> Result<usize, crate::store::StoreError> {
    let running: Vec<ExecutionRecord> = inner
        .store
        .executions_with_prefix("")?
        .into_iter()
        .filter(|r| r.status == Status::Running)
        .collect();
    // Register every execution before any runs, so a parent resuming a
    // `states:startExecution.sync` task finds its resumed child.
    let mut ready = Vec::new();
    for rec in running {
        let arn = rec.execution_arn.clone();
        if lock(&inner.live).contains_key(&arn) {
            continue;
        }
        let Some(m) = inner.machine(&rec.state_machine_arn) else {
            tracing::warn!(%arn, machine = %rec.state_machine_arn, "cannot resume: its state machine no longer exists; left RUNNING");
            continue;
        };
        let m = started_version(inner, m, &rec);
        let input = match serde_json::from_str(&rec.input) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(%arn, "cannot resume: stored input does not parse: {e}");
                continue;
            }
        };
        let journal = match inner.store.history(&arn) {
            Ok(h) => Journal::new(&h),
            Err(e) => {
                tracing::warn!(%arn, "cannot resume: its history does not read back: {e}; left RUNNING");
                continue;
            }
        };
        // The same test case mocks the same states after the restart.
        let mocked = match mocks::for_test_case(
            inner.mocks.as_ref(),
            &rec.state_machine_arn,
            &m.name,
            rec.test_case.as_deref(),
        ) {
            Ok(mocked) => mocked,
            Err(_) => {
                tracing::warn!(%arn, test_case = ?rec.test_case, "cannot resume: its MockConfigFile test case is gone; left RUNNING");
                continue;
            }
        };
        let ctx = context(&m, &rec);
        let (stop_tx, stop_rx) = oneshot::channel();
        let (done_tx, _) = watch::channel(None);
        let live = Arc::new(Live {
            record: Mutex::new(rec),
            stop: Mutex::new(Some(stop_tx)),
            done: done_tx,
        });
        lock(&inner.live).insert(arn, live.clone());
        ready.push((m, live, input, ctx, stop_rx, journal, mocked));
    }
    let resumed = ready.len();
    for (m, live, input, ctx, stop_rx, journal, mocked) in ready {
        let guard = RunningGuard::new(inner.clone());
        tokio::spawn(async move {
            let with = RunWith {
                resume: Some(Resume { journal }),
                mocked,
            };
            drive(guard.0.clone(), m, live, input, ctx, stop_rx, with).await;
            drop(guard);
        });
    }
    Ok(resumed)
}

/// How an execution that ran to its end ended: an Express execution whose
/// own time passed AWS's 5 minutes (a wait at `--time-scale 0` jumps over
/// it) timed out, whatever its outcome.
fn express_end(o: ExecutionOutcome, clock: &ScaledClock, start_millis: i64) -> End {
    if clock.exceeded(start_millis, EXPRESS_LIMIT_MILLIS) && o.status != ExecutionStatus::Aborted {
        End::ExpressTimeout
    } else {
        End::Outcome(o)
    }
}

fn apply_end(rec: &mut ExecutionRecord, end: End, now: i64, sink: Option<&HistoryRecorder>) {
    rec.stop_millis = Some(now.max(rec.start_millis));
    match end {
        End::Outcome(o) => {
            rec.status = o.status.into();
            rec.output = o.output.map(|v| v.to_string());
            rec.error = o.error;
            rec.cause = o.cause;
        }
        End::Stopped((error, cause)) => {
            rec.status = Status::Aborted;
            if let Some(s) = sink {
                s.aborted(now, error.as_deref(), cause.as_deref());
            }
            rec.error = error;
            rec.cause = cause;
        }
        End::ExpressTimeout => {
            rec.status = Status::TimedOut;
            rec.error = Some("States.Timeout".into());
            rec.cause = Some(EXPRESS_TIMEOUT_CAUSE.into());
        }
    }
}

/// StartSyncExecution: runs an Express execution to completion in the
/// caller's task (no history, nothing stored).
pub(crate) async fn run_sync(
    inner: &Arc<Inner>,
    machine_arn: &str,
    name: Option<&str>,
    input: Option<&str>,
) -> Result<ExecutionRecord, ServiceError> {
    let (base_arn, test_case) = mocks::split_test_case(machine_arn);
    let m = machine(inner, base_arn)?;
    if m.kind != MachineType::Express {
        return Err(ServiceError::client(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        ));
    }
    let mocked = mocks::for_test_case(inner.mocks.as_ref(), machine_arn, &m.name, test_case)?;
    let (input_text, input_value) = parse_input(input)?;
    let mut rec = new_record(inner, &m, name, input_text, test_case)?;
    let clock = ScaledClock::new(inner.time_scale);
    let ctx = context(&m, &rec);
    let start = ctx.start_time_millis;
    let with_mocks = mocked.as_ref().map(|mocks| Mocked {
        mocks,
        real: &**inner,
    });
    let backend: &dyn TaskInvoker = match &with_mocks {
        Some(m) => m,
        None => &**inner,
    };
    let run = wsflow_asl::run_execution(&m.parsed, input_value, ctx, backend, &clock, None);
    let end = tokio::select! {
        o = run => express_end(o, &clock, start),
        _ = clock.limit(start, EXPRESS_LIMIT_MILLIS) => End::ExpressTimeout,
    };
    apply_end(&mut rec, end, clock.now_millis(), None);
    Ok(rec)
}

/// The current record of an execution (live or stored).
pub(crate) fn describe(inner: &Inner, arn: &str) -> Result<ExecutionRecord, ServiceError> {
    check_execution_arn(arn)?;
    if let Some(l) = lock(&inner.live).get(arn) {
        return Ok(lock(&l.record).clone());
    }
    inner
        .store
        .execution(arn)
        .map_err(|e| ServiceError::internal(e.to_string()))?
        .ok_or_else(|| does_not_exist(arn))
}

/// `InvalidArn` unless `arn` is a Standard or Express execution ARN.
pub(crate) fn check_execution_arn(arn: &str) -> Result<(), ServiceError> {
    if split_states_arn(arn, "execution").is_ok() || split_states_arn(arn, "express").is_ok() {
        Ok(())
    } else {
        Err(invalid_arn(arn))
    }
}

/// StopExecution: aborts a running execution and returns its stop time.
pub(crate) async fn stop(
    inner: &Inner,
    arn: &str,
    error: Option<String>,
    cause: Option<String>,
) -> Result<i64, ServiceError> {
    check_execution_arn(arn)?;
    let live = lock(&inner.live).get(arn).cloned();
    if let Some(l) = live {
        let mut done = l.done.subscribe();
        let sender = lock(&l.stop).take();
        if let Some(s) = sender {
            let _ = s.send((error, cause));
        }
        let rec = done
            .wait_for(|r| r.is_some())
            .await
            .map_err(|_| ServiceError::internal("execution vanished while stopping"))?
            .clone();
        return Ok(rec.and_then(|r| r.stop_millis).unwrap_or_else(epoch_millis));
    }
    let mut rec = inner
        .store
        .execution(arn)
        .map_err(|e| ServiceError::internal(e.to_string()))?
        .ok_or_else(|| does_not_exist(arn))?;
    if rec.status != Status::Running {
        return Ok(rec.stop_millis.unwrap_or(rec.start_millis));
    }
    // Left RUNNING by an earlier run of the stack: close it here.
    let history = inner
        .store
        .history(arn)
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    let (sink, _) = HistoryRecorder::resume(
        arn,
        inner.store.clone(),
        rec.start_millis,
        Journal::new(&history),
    );
    let now = epoch_millis();
    apply_end(&mut rec, End::Stopped((error, cause)), now, Some(&sink));
    inner.store.put_execution(&rec);
    inner
        .store
        .sync()
        .await
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    Ok(now)
}

/// Waits for an execution started by [`start`] to finish.
pub(crate) async fn finished(
    mut done: watch::Receiver<Option<ExecutionRecord>>,
) -> Option<ExecutionRecord> {
    done.wait_for(|r| r.is_some()).await.ok()?.clone()
}
