//! Throughput of the local Step Functions service, in process:
//!
//! 1. Express executions/s: a 5-state machine through StartSyncExecution at
//!    time scale 0 (sequential, then 4 concurrent callers).
//! 2. Where a durable transition's time goes: the engine alone (a 20-state
//!    Express chain, no history, no database), the engine with every history
//!    event encoded to JSON bytes (no database), the store alone (history
//!    events appended straight to [`Store`], group-committed), and the bytes
//!    written to the database file per history event in each mode.
//! 3. Durable Standard transitions/s and executions/s: a 20-state machine
//!    started by 64 concurrent clients (each StartExecution answers once the
//!    RUNNING record is committed); the clock stops once every execution has
//!    finished and every queued write (each history event, each final
//!    record) is committed (`StepFunctions::shutdown`); statuses and
//!    histories are then checked from the database. Group commit vs one
//!    commit (one fsync) per write, both measured in the same run on real
//!    redb files in temp dirs.
//!    Each figure is the median of several runs, each on a fresh database.
//! 4. The cost of an open web console: the group-commit Standard run again,
//!    alternating runs with nobody watching, with an open console execution
//!    page (a subscriber to `StepFunctions::subscribe` that receives every
//!    commit's announcement and decodes its own execution's events, as the
//!    page's live stream does), and, as a worst case, with a subscriber that
//!    decodes every announced event; each median against the first, all from
//!    the same run.
//!    The one-commit-per-event baseline runs fewer executions (at one fsync
//!    per event it would otherwise take minutes); its rate is bounded by the
//!    fsync rate, not by the number of executions.
//!
//! Run: `cargo bench -p wsflow-sfn --bench throughput`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use wsflow_asl::{
    Clock, ExecutionContext, HistoryEvent, HistorySink, StateMachine, TaskCall, TaskFailure,
    TaskInvoker,
};
use wsflow_aws_wire::{BoxFuture, LambdaInvokeError, LambdaInvoker};
use wsflow_sfn::observe::{Observed, SfnChange};
use wsflow_sfn::store::Store;
use wsflow_sfn::{CommitMode, MachineSpec, MachineType, SfnBackends, SfnOptions, StepFunctions};

/// States per Standard execution.
const STATES: usize = 20;
/// Concurrent StartExecution callers.
const CLIENTS: usize = 64;

struct Echo;

impl LambdaInvoker for Echo {
    fn invoke<'a>(
        &'a self,
        _f: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move { Ok(payload) })
    }
}

fn open(dir: &std::path::Path, mode: CommitMode, machines: Vec<MachineSpec>) -> StepFunctions {
    let mut options = SfnOptions::new(dir);
    options.time_scale = 0.0;
    options.commit_mode = mode;
    StepFunctions::open(
        options,
        machines,
        SfnBackends {
            lambda: Arc::new(Echo),
            services: vec![],
        },
    )
    .expect("open")
}

fn five_states() -> String {
    json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Parameters": {"v.$": "$.v", "n": 1}, "Next": "B"},
            "B": {"Type": "Wait", "Seconds": 1, "Next": "C"},
            "C": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Echo", "Next": "D"},
            "D": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "E"}], "Default": "E"},
            "E": {"Type": "Succeed"}
        }
    })
    .to_string()
}

fn chain(n: usize) -> String {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass", "Result": i, "ResultPath": "$.last"});
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states}).to_string()
}

async fn express(svc: &StepFunctions, name: &str, n: usize) -> f64 {
    let arn = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}");
    let body = json!({"stateMachineArn": arn, "input": "{\"v\":1}"});
    let t = Instant::now();
    for _ in 0..n {
        let r = svc
            .operation("StartSyncExecution", &body)
            .await
            .expect("sync");
        assert_eq!(r["status"], "SUCCEEDED");
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// `callers` concurrent callers running `n` executions each; executions/s.
async fn express_concurrent(
    svc: &StepFunctions,
    name: &'static str,
    callers: usize,
    n: usize,
) -> f64 {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let s = svc.clone();
        tasks.push(tokio::spawn(async move { express(&s, name, n).await }));
    }
    for task in tasks {
        task.await.expect("join");
    }
    (callers * n) as f64 / t.elapsed().as_secs_f64()
}

/// The engine with a history sink that encodes every event to its JSON
/// bytes (what the store's callers do) and drops them: no database.
struct EncodeOnly;

impl HistorySink for EncodeOnly {
    fn record(&self, event: HistoryEvent) {
        std::hint::black_box(serde_json::to_vec(&event).ok());
    }
}

struct NoTasks;

impl TaskInvoker for NoTasks {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async move { Ok(call.payload) })
    }
}

struct Now;

impl Clock for Now {
    fn now_millis(&self) -> i64 {
        wsflow_sfn::clock::epoch_millis()
    }
    fn sleep_until<'a>(&'a self, _deadline_millis: i64) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// Transitions/s of the engine alone with history recorded in memory
/// (`tasks` concurrent tasks of `n` executions each).
async fn engine_with_history(tasks: usize, n: usize) -> f64 {
    let machine = Arc::new(StateMachine::parse(&chain(STATES)).expect("parse"));
    let t = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let machine = machine.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..n {
                let ctx = ExecutionContext::local("Chain", &format!("e{i}"), 0);
                let o = wsflow_asl::run_execution(
                    &machine,
                    json!({}),
                    ctx,
                    &NoTasks,
                    &Now,
                    Some(&EncodeOnly),
                )
                .await;
                assert!(o.output.is_some());
            }
        }));
    }
    for h in handles {
        h.await.expect("join");
    }
    (tasks * n * STATES) as f64 / t.elapsed().as_secs_f64()
}

/// One Standard run's figures.
#[derive(Clone, Copy)]
struct Run {
    transitions_per_s: f64,
    executions_per_s: f64,
    events_per_s: f64,
    elapsed: Duration,
}

/// What a watcher does with the announcements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Watching {
    /// Nobody watches.
    Nobody,
    /// An open execution page of the console: every announcement is
    /// received, the page's own execution's events are decoded (here: the
    /// first execution started).
    OneExecution,
    /// Worst case: every announced event is decoded.
    Everything,
}

/// A console-like watcher.
struct Watcher {
    events: Arc<AtomicU64>,
    skipped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

fn watch(svc: &StepFunctions, watching: Watching) -> Watcher {
    let mut sub = svc.subscribe();
    let events = Arc::new(AtomicU64::new(0));
    let skipped = Arc::new(AtomicU64::new(0));
    let (e, s) = (events.clone(), skipped.clone());
    let mine = "arn:aws:states:us-east-1:123456789012:execution:Chain:e0";
    let task = tokio::spawn(async move {
        while let Some(o) = sub.recv().await {
            match o {
                Observed::Event(changes) => {
                    for c in changes.iter() {
                        if let SfnChange::Event {
                            execution_arn,
                            json,
                            ..
                        } = c
                            && (watching == Watching::Everything || execution_arn == mine)
                        {
                            let v: Value = serde_json::from_slice(json).expect("announced JSON");
                            std::hint::black_box(v);
                            e.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Observed::Skipped(n) => {
                    s.fetch_add(n, Ordering::Relaxed);
                }
            }
        }
    });
    Watcher {
        events,
        skipped,
        task,
    }
}

async fn standard(mode: CommitMode, executions: usize) -> Run {
    standard_watched(mode, executions, Watching::Nobody).await.0
}

/// A Standard run, optionally with a console-like watcher; also returns the
/// (decoded, skipped) announced events.
async fn standard_watched(
    mode: CommitMode,
    executions: usize,
    watching: Watching,
) -> (Run, u64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = MachineSpec {
        name: "Chain".into(),
        kind: MachineType::Standard,
        definition: chain(STATES),
        role_arn: None,
    };
    let svc = open(dir.path(), mode, vec![spec]);
    let watcher = (watching != Watching::Nobody).then(|| watch(&svc, watching));
    let t = Instant::now();
    let mut clients = Vec::new();
    for c in 0..CLIENTS.min(executions) {
        let svc = svc.clone();
        clients.push(tokio::spawn(async move {
            let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Chain";
            let mut started = Vec::new();
            for i in (c..executions).step_by(CLIENTS) {
                let r = svc
                    .operation(
                        "StartExecution",
                        &json!({"stateMachineArn": arn, "name": format!("e{i}")}),
                    )
                    .await
                    .expect("start");
                started.push(r["executionArn"].as_str().expect("executionArn").to_owned());
            }
            started
        }));
    }
    let mut started = Vec::new();
    for c in clients {
        started.extend(c.await.expect("join"));
    }
    for a in &started {
        loop {
            let d = svc
                .operation("DescribeExecution", &json!({"executionArn": a}))
                .await
                .expect("describe");
            if d["status"] != "RUNNING" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    // Waits for the execution tasks and commits everything still queued, so
    // the time covers every history event being durable.
    svc.shutdown().await;
    let elapsed = t.elapsed();
    let (seen, skipped) = match watcher {
        Some(w) => {
            // Let the watcher drain what is queued, then stop it.
            tokio::time::sleep(Duration::from_millis(100)).await;
            w.task.abort();
            (
                w.events.load(Ordering::Relaxed),
                w.skipped.load(Ordering::Relaxed),
            )
        }
        None => (0, 0),
    };
    // Now read back from the database alone (nothing is live any more).
    for a in &started {
        let d = svc
            .operation("DescribeExecution", &json!({"executionArn": a}))
            .await
            .expect("describe");
        assert_eq!(d["status"], "SUCCEEDED", "{a}");
    }
    let mut events = 0;
    for a in [&started[0], &started[started.len() - 1]] {
        let h = svc
            .operation(
                "GetExecutionHistory",
                &json!({"executionArn": a, "maxResults": 1000}),
            )
            .await
            .expect("history");
        events = h["events"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(events, 2 * STATES + 2, "{a}: history is incomplete");
    }
    let secs = elapsed.as_secs_f64();
    let run = Run {
        transitions_per_s: (executions * STATES) as f64 / secs,
        executions_per_s: executions as f64 / secs,
        events_per_s: (events * executions) as f64 / secs,
        elapsed,
    };
    (run, seen, skipped)
}

/// Median of `iterations` runs per way of watching, the ways interleaved
/// (in a rotating order); with the decoded and skipped announced events.
async fn console_cost(executions: usize, iterations: usize) -> Vec<(Watching, Run, u64, u64)> {
    let ways = [
        Watching::Nobody,
        Watching::OneExecution,
        Watching::Everything,
    ];
    let mut runs: Vec<(Vec<Run>, u64, u64)> = ways.iter().map(|_| (Vec::new(), 0, 0)).collect();
    for k in 0..iterations {
        // The order rotates, so no way always runs first (or after another).
        for j in 0..ways.len() {
            let i = (j + k) % ways.len();
            let way = &ways[i];
            let (r, seen, skipped) = standard_watched(CommitMode::Group, executions, *way).await;
            runs[i].0.push(r);
            runs[i].1 += seen;
            runs[i].2 += skipped;
        }
    }
    ways.iter()
        .zip(runs)
        .map(|(way, (mut r, seen, skipped))| {
            r.sort_by(|a, b| a.transitions_per_s.total_cmp(&b.transitions_per_s));
            (*way, r[iterations / 2], seen, skipped)
        })
        .collect()
}

/// Bytes this process has handed to `write`-family system calls
/// (`/proc/self/io`'s `wchar`; `None` where that file does not exist).
fn bytes_written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))?
        .trim()
        .parse()
        .ok()
}

/// The run with the median transitions/s.
async fn median(mode: CommitMode, executions: usize, iterations: usize) -> Run {
    let mut runs = Vec::new();
    let before = bytes_written();
    for _ in 0..iterations {
        runs.push(standard(mode, executions).await);
    }
    if let (Some(a), Some(b)) = (before, bytes_written()) {
        let events = (executions * (2 * STATES + 2) * iterations) as f64;
        println!(
            "  {mode:?} commit: {:.0} bytes written to the database file per history event",
            (b - a) as f64 / events
        );
    }
    runs.sort_by(|a, b| a.transitions_per_s.total_cmp(&b.transitions_per_s));
    runs[runs.len() / 2]
}

/// Appends `n` history events (the size of a Pass state's) for 64
/// executions straight to the store, then waits for their commit; events/s.
async fn store_only(mode: CommitMode, n: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("sfn.redb"), mode).expect("store");
    let arns: Vec<String> = (0..64)
        .map(|i| format!("arn:aws:states:us-east-1:123456789012:execution:Chain:e{i}"))
        .collect();
    let event = |id: u64| HistoryEvent {
        id,
        previous_event_id: id - 1,
        timestamp_millis: 1_763_790_000_123,
        event_type: "PassStateExited".into(),
        details: Some((
            "stateExitedEventDetails".into(),
            json!({"name": "S3", "output": "{\"last\":3}", "outputDetails": {"truncated": false}}),
        )),
    };
    let t = Instant::now();
    for i in 0..n {
        store.append_history(&arns[i % arns.len()], &event((i / arns.len()) as u64 + 1));
    }
    store.sync().await.expect("sync");
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let specs = vec![
            MachineSpec { name: "Five".into(), kind: MachineType::Express, definition: five_states(), role_arn: None },
            MachineSpec { name: "Chain".into(), kind: MachineType::Express, definition: chain(STATES), role_arn: None },
        ];
        let svc = open(dir.path(), CommitMode::Group, specs);
        express(&svc, "Five", 500).await; // warm-up
        let seq = express(&svc, "Five", 20_000).await;
        println!("express StartSyncExecution, 5 states, sequential: {seq:.0} executions/s");
        let conc = express_concurrent(&svc, "Five", 4, 5_000).await;
        println!("express StartSyncExecution, 5 states, 4 concurrent callers: {conc:.0} executions/s");
        let chain = express_concurrent(&svc, "Chain", 4, 2_000).await;
        println!(
            "engine alone (express, {STATES} states, no history, no database, 4 callers): {:.0} transitions/s",
            chain * STATES as f64
        );
        let with_history = engine_with_history(4, 2_000).await;
        println!("engine + history encoded to JSON bytes (no database, 4 tasks): {with_history:.0} transitions/s");
        let events = store_only(CommitMode::Group, 200_000).await;
        println!("store alone, Group commit: {events:.0} history events/s");

        let group = median(CommitMode::Group, 4096, 5).await;
        let per_event = median(CommitMode::PerEvent, 32, 3).await;
        for (mode, executions, iterations, r) in [
            ("Group", 4096, 5, group),
            ("PerEvent", 32, 3, per_event),
        ] {
            println!(
                "standard, {executions} executions x {STATES} states, {CLIENTS} clients, {mode} commit (median of {iterations}): {:.0} transitions/s, {:.1} executions/s, {:.0} history events/s ({:?})",
                r.transitions_per_s, r.executions_per_s, r.events_per_s, r.elapsed
            );
        }
        println!(
            "group commit / one commit per event: {:.1}x transitions/s",
            group.transitions_per_s / per_event.transitions_per_s
        );

        let iterations = 15;
        let ways = console_cost(4096, iterations).await;
        let base = ways[0].1.transitions_per_s;
        for (way, run, seen, skipped) in &ways {
            let what = match way {
                Watching::Nobody => "no console".to_owned(),
                Watching::OneExecution => format!("a console execution page open ({seen} events decoded)"),
                Watching::Everything => format!("a watcher decoding every event ({seen} decoded, {skipped} skipped)"),
            };
            println!(
                "standard, 4096 executions x {STATES} states, Group commit, {what} (median of {iterations}): {:.0} transitions/s, {:.3} of no console",
                run.transitions_per_s,
                run.transitions_per_s / base
            );
        }
    });
}
