//! Resuming Standard executions after a crash, by event-sourced replay.
//!
//! A Standard execution's history is its journal. When the stack starts and
//! finds an execution still RUNNING in the database, it runs the definition
//! again from the start with three stand-ins that make the replay reproduce
//! the original run instead of repeating it:
//!
//! - [`HistoryRecorder`] (the history sink) matches each event the engine
//!   emits against the stored events of the same type and details. A matched
//!   event is already in the database: it is not written again, and its
//!   engine id is mapped to the stored id. An unmatched event is new: it gets
//!   the next id after the stored ones (its `previousEventId` mapped through
//!   the same table), so the history stays `1..=N` with nothing duplicated.
//!   Events lost in the crash (group commit acknowledges an event before its
//!   commit) are simply emitted again as new events.
//! - [`TaskReplay`] (the task invoker) answers a Task whose completion is in
//!   the history with the recorded result or error, without calling the
//!   integration again. A task with no recorded completion was in flight at
//!   the crash and is invoked again (at-least-once, as AWS documents for a
//!   Lambda invocation whose outcome was not recorded). Before any real
//!   invocation the history so far is committed, so a task never runs
//!   unless its `…Scheduled` event survives a crash.
//!   For a matched event the recorder reports the stored time to the engine
//!   ([`HistorySink::record_timed`]), which measures each state's Wait
//!   deadline and `$$.State.EnteredTime` from its entered event: every branch
//!   of a Map or Parallel keeps its own original deadlines. A new event is
//!   stamped no earlier than the moment it is recorded.
//! - [`ResumeClock`] reports, while nothing new has happened yet, the
//!   timestamp of the last matched stored event, so finished Waits and retry
//!   back-offs are over at once. From the first new event on it is the
//!   service's scaled wall clock (moved forward, never back, past every
//!   replayed timestamp).
//!
//! The replay is exact for definitions whose behaviour depends only on their
//! input, task results and time. Values drawn at random (`States.UUID`,
//! `States.MathRandom`, retry jitter on a retry that was in progress) can
//! differ on replay; the events they change are then recorded as new ones.
//! The definition replayed is the machine's current one (AWS pins the version
//! an execution started with). A `states:startExecution` task in flight at
//! the crash starts its child again: with a `Name`, the child (resumed, or
//! already finished on the same input) is adopted; with no `Name` it is a
//! second child. Task tokens are derived from the
//! execution ARN, the state and its input (so a replay re-issues the same
//! token); they are not secrets against someone who knows all three.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wsflow_asl::{BoxFuture, Clock, HistoryEvent, HistorySink, TaskCall, TaskFailure, TaskInvoker};

use crate::clock::ScaledClock;
use crate::lock;
use crate::store::Store;

/// Whether a replay is still reproducing stored events, and the time it has
/// reached. Shared by the recorder (which advances it) and the clock.
#[derive(Debug)]
pub(crate) struct Progress {
    replaying: AtomicBool,
    virtual_now: AtomicI64,
}

impl Progress {
    fn new(replaying: bool, start_millis: i64) -> Self {
        Self {
            replaying: AtomicBool::new(replaying),
            virtual_now: AtomicI64::new(start_millis),
        }
    }

    fn replaying(&self) -> bool {
        self.replaying.load(Ordering::Acquire)
    }
}

/// A stored event's identity for matching: type, details key and details.
/// `ExecutionStarted` (one per execution, its input the stored record's) is
/// matched by type alone: the role ARN in its details may have changed since
/// (UpdateStateMachine, an edited template), and the history must not start
/// again.
fn fingerprint(event_type: &str, details: Option<(&str, &Value)>) -> String {
    if event_type == "ExecutionStarted" {
        return json!([event_type]).to_string();
    }
    match details {
        Some((k, v)) => json!([event_type, k, v]).to_string(),
        None => json!([event_type]).to_string(),
    }
}

/// The details entry of a stored event (the one key ending in `EventDetails`).
fn stored_details(event: &Value) -> Option<(&str, &Value)> {
    event
        .as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .map(|(k, v)| (k.as_str(), v))
}

fn stored_millis(event: &Value) -> i64 {
    event["timestamp"]
        .as_f64()
        .map(|s| (s * 1000.0).round() as i64)
        .unwrap_or(0)
}

/// One stored event not yet matched by the replay.
#[derive(Debug, Clone, Copy)]
struct StoredEvent {
    id: u64,
    previous_id: u64,
    millis: i64,
}

/// What a replay starts from: the stored history, indexed.
pub(crate) struct Journal {
    /// Unconsumed stored events by fingerprint, in id order.
    unmatched: HashMap<String, VecDeque<StoredEvent>>,
    remaining: usize,
    last_id: u64,
    /// Completed task invocations, in the order they were scheduled.
    tasks: Vec<RecordedTask>,
}

impl Journal {
    /// Indexes a stored history (events in id order).
    pub fn new(history: &[Value]) -> Self {
        let mut unmatched: HashMap<String, VecDeque<StoredEvent>> = HashMap::new();
        let mut last_id = 0;
        for e in history {
            let Some(id) = e["id"].as_u64() else { continue };
            let Some(ty) = e["type"].as_str() else {
                continue;
            };
            last_id = last_id.max(id);
            unmatched
                .entry(fingerprint(ty, stored_details(e)))
                .or_default()
                .push_back(StoredEvent {
                    id,
                    previous_id: e["previousEventId"].as_u64().unwrap_or(0),
                    millis: stored_millis(e),
                });
        }
        let remaining = unmatched.values().map(VecDeque::len).sum();
        Journal {
            unmatched,
            remaining,
            last_id,
            tasks: recorded_tasks(history),
        }
    }
}

/// One task invocation whose completion is in the stored history.
#[derive(Debug, Clone)]
pub(crate) struct RecordedTask {
    state_name: String,
    payload: Value,
    outcome: Recorded,
}

#[derive(Debug, Clone)]
enum Recorded {
    Succeeded(Value),
    /// A failure, or a time-out (its `States.Timeout`/`States.HeartbeatTimeout`
    /// error is handed back as the task's error; the engine records it as a
    /// time-out again).
    Failed(TaskFailure),
    /// Scheduled before the crash, never completed: invoked again, marked as
    /// such (see [`reinvoked`]).
    InFlight,
}

tokio::task_local! {
    static REINVOKED: bool;
}

/// Whether the task integration now running is the re-invocation of a task
/// that was in flight when the stack crashed. Integrations whose AWS
/// counterpart would not have run twice use it to adopt what the first
/// invocation already did (a `states:startExecution` child that finished).
pub(crate) fn reinvoked() -> bool {
    REINVOKED.try_with(|v| *v).unwrap_or(false)
}

/// Pairs each stored `TaskScheduled`/`LambdaFunctionScheduled` event with
/// the state that scheduled it (walking `previousEventId` back to the
/// `…StateEntered` event) and with its completion (walking forward).
/// How many recorded (completed) calls each state made: calls a replay
/// answers itself, which a MockConfigFile test case must count too.
pub(crate) fn calls_per_state(recorded: &[RecordedTask]) -> HashMap<&str, u32> {
    let mut out: HashMap<&str, u32> = HashMap::new();
    for t in recorded {
        *out.entry(t.state_name.as_str()).or_default() += 1;
    }
    out
}

fn recorded_tasks(history: &[Value]) -> Vec<RecordedTask> {
    let by_id: HashMap<u64, &Value> = history
        .iter()
        .filter_map(|e| Some((e["id"].as_u64()?, e)))
        .collect();
    let mut successors: HashMap<u64, Vec<&Value>> = HashMap::new();
    for e in history {
        if let Some(p) = e["previousEventId"].as_u64() {
            successors.entry(p).or_default().push(e);
        }
    }
    let mut out = Vec::new();
    for e in history {
        let (payload_text, kind) = match e["type"].as_str() {
            Some("TaskScheduled") => (
                e["taskScheduledEventDetails"]["parameters"].as_str(),
                "Task",
            ),
            Some("LambdaFunctionScheduled") => (
                e["lambdaFunctionScheduledEventDetails"]["input"].as_str(),
                "LambdaFunction",
            ),
            _ => continue,
        };
        let Some(payload) = payload_text.and_then(|t| serde_json::from_str(t).ok()) else {
            continue;
        };
        let Some(state_name) = entered_state_name(e, &by_id) else {
            continue;
        };
        let outcome = completion(e, kind, &successors).unwrap_or(Recorded::InFlight);
        {
            out.push(RecordedTask {
                state_name,
                payload,
                outcome,
            });
        }
    }
    out
}

fn entered_state_name(from: &Value, by_id: &HashMap<u64, &Value>) -> Option<String> {
    let mut cur = from;
    // A state's events form a short chain; the bound only guards corrupt files.
    for _ in 0..10_000 {
        let prev = by_id.get(&cur["previousEventId"].as_u64()?)?;
        if prev["type"].as_str()?.ends_with("StateEntered") {
            return prev["stateEnteredEventDetails"]["name"]
                .as_str()
                .map(str::to_owned);
        }
        cur = prev;
    }
    None
}

fn completion(
    scheduled: &Value,
    kind: &str,
    successors: &HashMap<u64, Vec<&Value>>,
) -> Option<Recorded> {
    let mut cur = scheduled;
    for _ in 0..8 {
        let next = successors.get(&cur["id"].as_u64()?)?.first()?;
        let ty = next["type"].as_str()?;
        let rest = ty.strip_prefix(kind)?;
        let key = if kind == "Task" {
            "task"
        } else {
            "lambdaFunction"
        };
        match rest {
            "Succeeded" => {
                let out = next[format!("{key}SucceededEventDetails")]["output"].as_str()?;
                return Some(Recorded::Succeeded(serde_json::from_str(out).ok()?));
            }
            "Failed" => {
                let d = &next[format!("{key}FailedEventDetails")];
                return Some(Recorded::Failed(TaskFailure {
                    error: d["error"].as_str().unwrap_or_default().to_owned(),
                    cause: d["cause"].as_str().map(str::to_owned),
                }));
            }
            "TimedOut" => {
                let d = &next[format!("{key}TimedOutEventDetails")];
                return Some(Recorded::Failed(TaskFailure {
                    error: d["error"].as_str().unwrap_or("States.Timeout").to_owned(),
                    cause: d["cause"].as_str().map(str::to_owned),
                }));
            }
            // TaskStarted, TaskSubmitted, LambdaFunctionStarted: keep walking.
            _ => cur = next,
        }
    }
    None
}

/// The history sink of a Standard execution: writes new events to the
/// store, and during a replay skips (and maps the ids of) the stored ones.
pub(crate) struct HistoryRecorder {
    arn: String,
    store: Store,
    last_id: AtomicU64,
    replay: Option<Mutex<ReplayIds>>,
    progress: Arc<Progress>,
}

struct ReplayIds {
    unmatched: HashMap<String, VecDeque<StoredEvent>>,
    remaining: usize,
    /// Engine id → stored id.
    ids: HashMap<u64, u64>,
}

impl HistoryRecorder {
    /// A recorder for a new execution.
    pub fn new(arn: &str, store: Store, start_millis: i64) -> Self {
        Self {
            arn: arn.to_owned(),
            store,
            last_id: AtomicU64::new(0),
            replay: None,
            progress: Arc::new(Progress::new(false, start_millis)),
        }
    }

    /// A recorder that replays `journal` (see the module doc); the returned
    /// tasks feed a [`TaskReplay`].
    pub fn resume(
        arn: &str,
        store: Store,
        start_millis: i64,
        journal: Journal,
    ) -> (Self, Vec<RecordedTask>) {
        let replaying = journal.remaining > 0;
        let recorder = Self {
            arn: arn.to_owned(),
            store,
            last_id: AtomicU64::new(journal.last_id),
            replay: Some(Mutex::new(ReplayIds {
                unmatched: journal.unmatched,
                remaining: journal.remaining,
                ids: HashMap::new(),
            })),
            progress: Arc::new(Progress::new(replaying, start_millis)),
        };
        (recorder, journal.tasks)
    }

    /// The progress the execution's [`ResumeClock`] follows.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Appends the `ExecutionAborted` event (the engine is gone by then).
    pub fn aborted(&self, now: i64, error: Option<&str>, cause: Option<&str>) {
        let id = self
            .last_id
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1);
        let mut details = serde_json::Map::new();
        if let Some(e) = error {
            details.insert("error".into(), json!(e));
        }
        if let Some(c) = cause {
            details.insert("cause".into(), json!(c));
        }
        let event = json!({
            "timestamp": crate::clock::epoch_seconds(now),
            "type": "ExecutionAborted",
            "id": id,
            "previousEventId": id - 1,
            "executionAbortedEventDetails": details,
        });
        self.store.append_event(&self.arn, id, &event);
    }

    /// Maps an engine event during a replay: `Err(original time)` if it is a
    /// stored one, otherwise the event renumbered as the next new event.
    fn replayed(&self, ids: &mut ReplayIds, mut event: HistoryEvent) -> Result<HistoryEvent, i64> {
        if ids.remaining > 0 {
            let fp = fingerprint(
                &event.event_type,
                event.details.as_ref().map(|(k, v)| (k.as_str(), v)),
            );
            // Events without details (`LambdaFunctionStarted`, …) or with
            // equal details (Map iterations over equal items) share a
            // fingerprint; the stored one that follows the same (mapped)
            // event is this one, whatever order branches replay in.
            let previous = match event.previous_event_id {
                0 => Some(0),
                p => ids.ids.get(&p).copied(),
            };
            let stored = ids.unmatched.get_mut(&fp).and_then(|q| {
                let i = previous
                    .and_then(|p| q.iter().position(|s| s.previous_id == p))
                    .unwrap_or(0);
                q.remove(i)
            });
            if let Some(StoredEvent {
                id: stored_id,
                millis,
                ..
            }) = stored
            {
                ids.remaining -= 1;
                ids.ids.insert(event.id, stored_id);
                if self.progress.replaying() {
                    self.progress.virtual_now.store(millis, Ordering::Release);
                }
                return Err(millis);
            }
        }
        if self.progress.replaying.swap(false, Ordering::AcqRel) {
            tracing::info!(arn = %self.arn, "replay caught up; execution continues");
        }
        let id = self
            .last_id
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1);
        ids.ids.insert(event.id, id);
        event.previous_event_id = match event.previous_event_id {
            0 => 0,
            p => ids.ids.get(&p).copied().unwrap_or(id - 1),
        };
        event.id = id;
        Ok(event)
    }
}

impl HistorySink for HistoryRecorder {
    fn record(&self, event: HistoryEvent) {
        self.record_timed(event);
    }

    fn record_timed(&self, event: HistoryEvent) -> i64 {
        let event = match &self.replay {
            None => {
                self.last_id.fetch_max(event.id, Ordering::AcqRel);
                event
            }
            Some(ids) => match self.replayed(&mut lock(ids), event) {
                Ok(mut e) => {
                    // A new event never predates the moment it is recorded
                    // (a replayed clock may still report an earlier time).
                    e.timestamp_millis = e.timestamp_millis.max(crate::clock::epoch_millis());
                    e
                }
                Err(stored_at) => return stored_at,
            },
        };
        let at = event.timestamp_millis;
        self.store.append_history(&self.arn, &event);
        at
    }
}

/// The execution's clock: the service's scaled clock, or during a replay
/// the time the replay has reached (see the module doc).
pub(crate) struct ResumeClock {
    inner: ScaledClock,
    progress: Arc<Progress>,
    /// Set once the scaled clock has been moved past the replayed timestamps.
    caught_up: AtomicBool,
}

impl ResumeClock {
    /// Wraps `inner`, following `progress`.
    pub fn new(inner: ScaledClock, progress: Arc<Progress>) -> Self {
        let caught_up = AtomicBool::new(!progress.replaying());
        Self {
            inner,
            progress,
            caught_up,
        }
    }

    /// Moves the scaled clock forward past every replayed timestamp (once
    /// the replay is over; before that, before each real sleep).
    fn catch_up(&self) {
        if !self.caught_up.load(Ordering::Acquire) {
            self.inner
                .advance_to(self.progress.virtual_now.load(Ordering::Acquire));
            if !self.progress.replaying() {
                self.caught_up.store(true, Ordering::Release);
            }
        }
    }
}

impl Clock for ResumeClock {
    fn now_millis(&self) -> i64 {
        if self.progress.replaying() {
            self.progress.virtual_now.load(Ordering::Acquire)
        } else {
            self.catch_up();
            self.inner.now_millis()
        }
    }

    fn sleep_until<'a>(&'a self, deadline_millis: i64) -> BoxFuture<'a, ()> {
        if self.progress.replaying()
            && deadline_millis <= self.progress.virtual_now.load(Ordering::Acquire)
        {
            return Box::pin(std::future::ready(()));
        }
        self.catch_up();
        Box::pin(async move {
            self.inner.sleep_until(deadline_millis).await;
            // Time really passed: a replay still in progress has reached the deadline too.
            self.progress
                .virtual_now
                .fetch_max(deadline_millis, Ordering::AcqRel);
        })
    }
}

/// The execution's task invoker: recorded outcomes first (during a replay),
/// the service's integrations otherwise.
pub(crate) struct TaskReplay<'a> {
    inner: &'a dyn TaskInvoker,
    recorded: Mutex<Vec<RecordedTask>>,
    /// For Standard executions: the store whose pending writes (the task's
    /// `…Scheduled` event among them) are committed before the task runs.
    barrier: Option<Store>,
}

impl<'a> TaskReplay<'a> {
    /// Answers from `recorded` where it can, from `inner` otherwise; with a
    /// `barrier`, a real invocation waits until the history so far is durable,
    /// so no task runs whose scheduling a crash could forget.
    pub fn new(
        inner: &'a dyn TaskInvoker,
        recorded: Vec<RecordedTask>,
        barrier: Option<Store>,
    ) -> Self {
        Self {
            inner,
            recorded: Mutex::new(recorded),
            barrier,
        }
    }

    fn take(&self, call: &TaskCall) -> Option<Recorded> {
        let mut recorded = lock(&self.recorded);
        if recorded.is_empty() {
            return None;
        }
        let i = recorded
            .iter()
            .position(|r| r.state_name == call.state_name && r.payload == call.payload)?;
        Some(recorded.remove(i).outcome)
    }
}

impl TaskInvoker for TaskReplay<'_> {
    fn invoke<'b>(&'b self, call: TaskCall) -> BoxFuture<'b, Result<Value, TaskFailure>> {
        match self.take(&call) {
            Some(Recorded::Succeeded(v)) => Box::pin(std::future::ready(Ok(v))),
            Some(Recorded::Failed(f)) => Box::pin(std::future::ready(Err(f))),
            Some(Recorded::InFlight) => Box::pin(REINVOKED.scope(true, self.live(call))),
            None => self.live(call),
        }
    }

    fn last_heartbeat_millis(&self, task_token: &str) -> Option<i64> {
        self.inner.last_heartbeat_millis(task_token)
    }
}

impl TaskReplay<'_> {
    /// A real invocation, after the durability barrier.
    fn live<'b>(&'b self, call: TaskCall) -> BoxFuture<'b, Result<Value, TaskFailure>> {
        match &self.barrier {
            None => self.inner.invoke(call),
            Some(store) => Box::pin(async move {
                store.sync().await.map_err(|e| {
                    TaskFailure::new(
                        "States.Runtime",
                        format!("execution history not durable: {e}"),
                    )
                })?;
                self.inner.invoke(call).await
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u64, prev: u64, ty: &str, details: Option<(&str, Value)>) -> Value {
        let mut e = json!({"timestamp": 1_700_000_000.0 + id as f64, "type": ty, "id": id, "previousEventId": prev});
        if let Some((k, v)) = details {
            e[k] = v;
        }
        e
    }

    fn lambda_history() -> Vec<Value> {
        vec![
            ev(
                1,
                0,
                "ExecutionStarted",
                Some(("executionStartedEventDetails", json!({"input": "{}"}))),
            ),
            ev(
                2,
                1,
                "TaskStateEntered",
                Some((
                    "stateEnteredEventDetails",
                    json!({"name": "T", "input": "{}"}),
                )),
            ),
            ev(
                3,
                2,
                "LambdaFunctionScheduled",
                Some((
                    "lambdaFunctionScheduledEventDetails",
                    json!({"resource": "arn:f", "input": "{\"a\":1}"}),
                )),
            ),
            ev(4, 3, "LambdaFunctionStarted", None),
            ev(
                5,
                4,
                "LambdaFunctionFailed",
                Some((
                    "lambdaFunctionFailedEventDetails",
                    json!({"error": "Boom", "cause": "c"}),
                )),
            ),
            ev(
                6,
                5,
                "LambdaFunctionScheduled",
                Some((
                    "lambdaFunctionScheduledEventDetails",
                    json!({"resource": "arn:f", "input": "{\"a\":1}"}),
                )),
            ),
            ev(7, 6, "LambdaFunctionStarted", None),
            ev(
                8,
                7,
                "LambdaFunctionSucceeded",
                Some((
                    "lambdaFunctionSucceededEventDetails",
                    json!({"output": "{\"ok\":true}"}),
                )),
            ),
            ev(
                9,
                2,
                "TaskScheduled",
                Some((
                    "taskScheduledEventDetails",
                    json!({"resource": "invoke", "parameters": "{\"b\":2}"}),
                )),
            ),
            ev(10, 9, "TaskStarted", None),
        ]
    }

    #[test]
    fn recorded_tasks_pair_schedules_with_completions_in_order() {
        let tasks = recorded_tasks(&lambda_history());
        assert_eq!(tasks.len(), 3);
        assert!(tasks.iter().all(|t| t.state_name == "T"));
        assert!(tasks[..2].iter().all(|t| t.payload == json!({"a": 1})));
        assert!(matches!(&tasks[0].outcome, Recorded::Failed(f) if f.error == "Boom"));
        assert!(matches!(&tasks[1].outcome, Recorded::Succeeded(v) if v == &json!({"ok": true})));
        assert_eq!(tasks[2].payload, json!({"b": 2}));
        assert!(
            matches!(&tasks[2].outcome, Recorded::InFlight),
            "a TaskScheduled with no completion was in flight at the crash"
        );
    }

    #[test]
    fn a_recorded_time_out_replays_as_the_same_error() {
        let history = vec![
            ev(1, 0, "ExecutionStarted", None),
            ev(
                2,
                1,
                "TaskStateEntered",
                Some((
                    "stateEnteredEventDetails",
                    json!({"name": "T", "input": "{}"}),
                )),
            ),
            ev(
                3,
                2,
                "TaskScheduled",
                Some((
                    "taskScheduledEventDetails",
                    json!({"resource": "invoke", "parameters": "{}"}),
                )),
            ),
            ev(4, 3, "TaskStarted", None),
            ev(
                5,
                4,
                "TaskTimedOut",
                Some((
                    "taskTimedOutEventDetails",
                    json!({"error": "States.HeartbeatTimeout", "cause": ""}),
                )),
            ),
        ];
        let tasks = recorded_tasks(&history);
        assert_eq!(tasks.len(), 1);
        assert!(
            matches!(&tasks[0].outcome, Recorded::Failed(f) if f.error == "States.HeartbeatTimeout"),
            "{:?}",
            tasks[0].outcome
        );
    }

    struct Fails;
    impl TaskInvoker for Fails {
        fn invoke<'a>(&'a self, _call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
            Box::pin(std::future::ready(Err(TaskFailure::new("Live", "called"))))
        }
    }

    #[tokio::test]
    async fn task_replay_answers_recorded_calls_once_then_goes_live() {
        let replay = TaskReplay::new(&Fails, recorded_tasks(&lambda_history()), None);
        let call = TaskCall {
            state_name: "T".into(),
            resource: "arn:f".into(),
            payload: json!({"a": 1}),
            task_token: None,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
        };
        assert_eq!(replay.invoke(call.clone()).await.unwrap_err().error, "Boom");
        assert_eq!(
            replay.invoke(call.clone()).await.unwrap(),
            json!({"ok": true})
        );
        assert_eq!(replay.invoke(call).await.unwrap_err().error, "Live");
    }

    #[tokio::test]
    async fn recorder_skips_stored_events_and_numbers_new_ones_after_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sfn.redb"), crate::CommitMode::Group).unwrap();
        let history = lambda_history();
        let (rec, _) = HistoryRecorder::resume("x:1", store.clone(), 5, Journal::new(&history));
        let progress = rec.progress();
        let engine_event = |id: u64, prev: u64, v: &Value| HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp_millis: 99,
            event_type: v["type"].as_str().unwrap().into(),
            details: stored_details(v).map(|(k, d)| (k.to_owned(), d.clone())),
        };
        for (i, e) in history.iter().enumerate() {
            let id = i as u64 + 1;
            rec.record(engine_event(id, id - 1, e));
        }
        assert!(progress.replaying(), "every emitted event was a stored one");
        assert_eq!(
            progress.virtual_now.load(Ordering::Relaxed),
            1_700_000_010_000
        );
        // The engine's next event (its id 11 follows its id 10) is new: stored as 11 after 10.
        rec.record(HistoryEvent {
            id: 11,
            previous_event_id: 10,
            timestamp_millis: 1,
            event_type: "TaskSucceeded".into(),
            details: None,
        });
        assert!(!progress.replaying());
        store.sync().await.unwrap();
        let stored = store.history("x:1").unwrap();
        assert_eq!(stored.len(), 1, "only the new event is written");
        assert_eq!(stored[0]["id"], 11);
        assert_eq!(stored[0]["previousEventId"], 10);
    }

    #[tokio::test]
    async fn equal_fingerprints_map_to_the_stored_event_after_the_same_predecessor() {
        // Two branches call the same function; `LambdaFunctionStarted` has no
        // details, so only its predecessor tells the two apart.
        let scheduled = |input: &str| {
            Some((
                "lambdaFunctionScheduledEventDetails",
                json!({"resource": "arn:f", "input": input}),
            ))
        };
        let history = vec![
            ev(1, 0, "ParallelStateStarted", None),
            ev(2, 1, "LambdaFunctionScheduled", scheduled("\"a\"")),
            ev(3, 2, "LambdaFunctionStarted", None),
            ev(4, 1, "LambdaFunctionScheduled", scheduled("\"b\"")),
            ev(5, 4, "LambdaFunctionStarted", None),
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sfn.redb"), crate::CommitMode::Group).unwrap();
        let (rec, _) = HistoryRecorder::resume("x:1", store.clone(), 5, Journal::new(&history));
        let emit = |id: u64, prev: u64, stored: &Value| {
            rec.record(HistoryEvent {
                id,
                previous_event_id: prev,
                timestamp_millis: 1,
                event_type: stored["type"].as_str().unwrap().into(),
                details: stored_details(stored).map(|(k, d)| (k.to_owned(), d.clone())),
            })
        };
        // The replay runs branch b first this time.
        emit(1, 0, &history[0]);
        emit(2, 1, &history[3]);
        emit(3, 2, &history[4]);
        emit(4, 1, &history[1]);
        emit(5, 4, &history[2]);
        // Branch b's function returns: its event follows b's started event (5).
        rec.record(HistoryEvent {
            id: 6,
            previous_event_id: 3,
            timestamp_millis: 1,
            event_type: "LambdaFunctionSucceeded".into(),
            details: None,
        });
        store.sync().await.unwrap();
        let stored = store.history("x:1").unwrap();
        assert_eq!(stored.len(), 1, "only the new event is written");
        assert_eq!(stored[0]["id"], 6);
        assert_eq!(stored[0]["previousEventId"], 5);
    }

    #[tokio::test]
    async fn execution_started_matches_though_the_role_changed() {
        let history = vec![
            ev(
                1,
                0,
                "ExecutionStarted",
                Some((
                    "executionStartedEventDetails",
                    json!({"input": "{}", "roleArn": "arn:aws:iam::123456789012:role/old"}),
                )),
            ),
            ev(
                2,
                1,
                "PassStateEntered",
                Some(("stateEnteredEventDetails", json!({"name": "P"}))),
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sfn.redb"), crate::CommitMode::Group).unwrap();
        let (rec, _) = HistoryRecorder::resume("x:1", store.clone(), 5, Journal::new(&history));
        let progress = rec.progress();
        rec.record(HistoryEvent {
            id: 1,
            previous_event_id: 0,
            timestamp_millis: 1,
            event_type: "ExecutionStarted".into(),
            details: Some((
                "executionStartedEventDetails".into(),
                json!({"input": "{}", "roleArn": "arn:aws:iam::123456789012:role/new"}),
            )),
        });
        assert!(
            progress.replaying(),
            "the stored ExecutionStarted was matched"
        );
        rec.record(HistoryEvent {
            id: 2,
            previous_event_id: 1,
            timestamp_millis: 1,
            event_type: "PassStateEntered".into(),
            details: Some(("stateEnteredEventDetails".into(), json!({"name": "P"}))),
        });
        store.sync().await.unwrap();
        assert!(
            store.history("x:1").unwrap().is_empty(),
            "nothing written again"
        );
    }
}
