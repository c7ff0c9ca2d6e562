//! The crash test: a real `wsflow up` process runs 150 Standard executions
//! (`tests/fixtures/crash.yaml`: Lambda Task → Map of Task → Wait 2 s → Pass
//! → Wait 2 s → Succeed) at real time, is killed with SIGKILL while they sit
//! in Waits, Tasks and Map iterations, stays down for a second (so some Waits
//! fall due while it is down), and is started again on the same data
//! directory. Every execution must then finish once, with the output the
//! definition computes and a history that has no lost or duplicated event
//! (and still holds every event a client saw before the kill), every state
//! entered and exited once per occurrence, a task repeated only when its
//! first attempt never completed, and Waits that kept their original
//! deadlines.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use support::*;
use wsflow_sfn::clock::epoch_millis;

const MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:crash-workflow";
const EXECUTION_PREFIX: &str = "arn:aws:states:us-east-1:123456789012:execution:crash-workflow";
/// Executions started first: by the kill they sit in Waits and Map iterations.
const EARLY: usize = 120;
/// Executions started after the snapshot, right before the kill: caught in
/// their first Task, or with history not yet committed.
const LATE: usize = 30;
/// When the snapshot starts, after the first start (the kill follows it).
const SNAPSHOT_AFTER: Duration = Duration::from_millis(1_500);
/// The snapshot's time budget: on a loaded machine it covers a sample, so
/// the kill still comes while the executions are mid-flight.
const SNAPSHOT_BUDGET: Duration = Duration::from_millis(600);
/// How long the stack stays down: long enough that some Waits fall due
/// while it is down (they must end right at the restart) and others do not
/// (they must end at their original deadline).
const DOWNTIME: Duration = Duration::from_millis(1_000);
/// Items per execution, by execution number: an empty Map goes straight to
/// the top-level Wait; 8 items run in two waves (MaxConcurrency 5).
const ITEM_COUNTS: [usize; 4] = [0, 2, 5, 8];
/// The definition's Waits.
const WAIT_MS: i64 = 2_000;
/// Clock slack between the stack's timestamps and a Wait's duration.
const CLOCK_SLACK_MS: i64 = 50;
/// How late a Wait may end after its deadline (or after the restart, for a
/// deadline that passed while the stack was down).
const LATE_SLACK_MS: i64 = 1_500;
/// Bound on the wait for every execution to finish after the restart.
const FINISH_WITHIN: Duration = Duration::from_secs(45);
/// Concurrent API requests from the test.
const PARALLEL: usize = 32;

/// The top-level states and the Map iteration's states, by type.
const TOP_STATES: [(&str, &str); 4] = [
    ("Enrich", "Task"),
    ("Fan out", "Map"),
    ("Settle", "Wait"),
    ("Done", "Succeed"),
];
const ITERATION_STATES: [(&str, &str); 3] =
    [("Measure", "Task"), ("Pause", "Wait"), ("Shape", "Pass")];

struct Run {
    name: String,
    arn: String,
    input: Value,
}

fn run(i: usize) -> Run {
    let name = format!("crash-{i:04}");
    let items: Vec<Value> = (0..ITEM_COUNTS[i % ITEM_COUNTS.len()])
        .map(|j| json!(format!("{name}/{}", "x".repeat(j))))
        .collect();
    Run {
        arn: format!("{EXECUTION_PREFIX}:{name}"),
        input: json!({"label": name, "items": items}),
        name,
    }
}

/// What the definition computes for `input`.
fn expected_output(input: &Value) -> Value {
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let mut out = input.clone();
    out["labelInfo"] = json!({"type": "string", "length": chars(&input["label"])});
    out["results"] = input["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .enumerate()
                .map(|(i, v)| json!({"index": i, "value": v, "length": chars(v)}))
                .collect()
        })
        .unwrap_or_default();
    out
}

async fn start(addr: &str, run: &Run) {
    let (status, body) = aws_json(
        addr,
        "AWSStepFunctions.StartExecution",
        json!({"stateMachineArn": MACHINE_ARN, "name": run.name, "input": run.input.to_string()}),
    )
    .await;
    assert_eq!(status, 200, "StartExecution {}: {body}", run.name);
    assert_eq!(body["executionArn"], run.arn.as_str(), "{body}");
}

async fn describe(addr: &str, arn: &str) -> Value {
    let (status, body) = aws_json(
        addr,
        "AWSStepFunctions.DescribeExecution",
        json!({"executionArn": arn}),
    )
    .await;
    assert_eq!(status, 200, "DescribeExecution {arn}: {body}");
    body
}

/// One history event, as the test reads it.
#[derive(Debug, Clone)]
struct Event {
    id: u64,
    prev: u64,
    millis: i64,
    kind: String,
    raw: Value,
}

impl Event {
    fn parse(raw: &Value) -> Result<Event, String> {
        let id = raw["id"].as_u64().ok_or(format!("no id: {raw}"))?;
        let prev = raw["previousEventId"]
            .as_u64()
            .ok_or(format!("no previousEventId: {raw}"))?;
        let secs = raw["timestamp"]
            .as_f64()
            .ok_or(format!("no timestamp: {raw}"))?;
        let kind = raw["type"].as_str().ok_or(format!("no type: {raw}"))?;
        Ok(Event {
            id,
            prev,
            millis: (secs * 1000.0).round() as i64,
            kind: kind.to_owned(),
            raw: raw.clone(),
        })
    }

    /// The state name of an entered/exited event.
    fn state_name(&self) -> Option<&str> {
        let key = if self.kind.ends_with("StateEntered") {
            "stateEnteredEventDetails"
        } else if self.kind.ends_with("StateExited") {
            "stateExitedEventDetails"
        } else {
            return None;
        };
        self.raw[key]["name"].as_str()
    }

    fn iteration_index(&self) -> Option<u64> {
        let key = match self.kind.as_str() {
            "MapIterationStarted" => "mapIterationStartedEventDetails",
            "MapIterationSucceeded" => "mapIterationSucceededEventDetails",
            "MapIterationFailed" => "mapIterationFailedEventDetails",
            _ => return None,
        };
        self.raw[key]["index"].as_u64()
    }

    fn is_task_scheduled(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "LambdaFunctionScheduled" | "TaskScheduled"
        )
    }

    fn is_task_completion(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "LambdaFunctionSucceeded"
                | "LambdaFunctionFailed"
                | "LambdaFunctionTimedOut"
                | "TaskSucceeded"
                | "TaskFailed"
                | "TaskTimedOut"
        )
    }
}

/// Every page of an execution's history (pages of 100, through `nextToken`),
/// with or without the states' input and output.
async fn history_pages(addr: &str, arn: &str, data: bool) -> Vec<Event> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1_000 {
        let mut body =
            json!({"executionArn": arn, "maxResults": 100, "includeExecutionData": data});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let (status, page) = aws_json(addr, "AWSStepFunctions.GetExecutionHistory", body).await;
        assert_eq!(status, 200, "GetExecutionHistory {arn}: {page}");
        for raw in page["events"].as_array().into_iter().flatten() {
            events.push(Event::parse(raw).unwrap_or_else(|e| panic!("{arn}: {e}")));
        }
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return events,
        }
    }
    panic!("{arn}: more than 1000 history pages");
}

/// An execution's whole history.
async fn history(addr: &str, arn: &str) -> Vec<Event> {
    history_pages(addr, arn, true).await
}

/// Where an event happened: the top level or one Map iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Scope {
    Top,
    Iteration(u64),
}

/// Each event's scope and owning state, found through `previousEventId`
/// (AWS chains a Map iteration's events from its MapIterationStarted, and a
/// task's events from its state's entered event).
struct Attribution {
    scope: Vec<Scope>,
    owner: Vec<Option<String>>,
}

fn attribute(events: &[Event]) -> Result<Attribution, String> {
    let index: HashMap<u64, usize> = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut scope = Vec::with_capacity(events.len());
    let mut owner: Vec<Option<String>> = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let parent = match e.prev {
            0 => None,
            p => Some(*index.get(&p).filter(|&&j| j < i).ok_or(format!(
                "event {} follows {p}, which is not an earlier event",
                e.id
            ))?),
        };
        let s = match (e.kind.as_str(), parent) {
            ("MapIterationStarted", _) => Scope::Iteration(
                e.iteration_index()
                    .ok_or(format!("event {} has no iteration index", e.id))?,
            ),
            (_, Some(j)) => scope[j],
            (_, None) => Scope::Top,
        };
        let o = match (e.state_name(), e.kind.as_str(), parent) {
            (Some(n), _, _) => Some(n.to_owned()),
            (None, "MapIterationStarted" | "ExecutionStarted", _) => None,
            (None, _, Some(j)) => owner[j].clone(),
            (None, _, None) => None,
        };
        scope.push(s);
        owner.push(o);
    }
    Ok(Attribution { scope, owner })
}

/// What one execution was doing in the snapshot taken right before the kill.
#[derive(Default, Debug)]
struct AtKill {
    finished: bool,
    in_top_wait: bool,
    in_iteration_wait: bool,
    in_map: bool,
    in_task: bool,
    task_scheduled_not_completed: bool,
}

fn classify(events: &[Event]) -> AtKill {
    let mut at = AtKill::default();
    let Ok(attr) = attribute(events) else {
        return at;
    };
    let mut open: BTreeMap<(Scope, String), (String, i64)> = BTreeMap::new();
    let mut tasks: BTreeMap<(Scope, Option<String>), i64> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.kind == "ExecutionSucceeded" {
            at.finished = true;
        }
        if let Some(n) = e.state_name() {
            let state_type = e.kind.split("State").next().unwrap_or("").to_owned();
            let slot = open
                .entry((attr.scope[i], n.to_owned()))
                .or_insert((state_type, 0));
            slot.1 += if e.kind.ends_with("Entered") { 1 } else { -1 };
        }
        let key = (attr.scope[i], attr.owner[i].clone());
        if e.is_task_scheduled() {
            *tasks.entry(key).or_default() += 1;
        } else if e.is_task_completion() {
            *tasks.entry(key).or_default() -= 1;
        }
    }
    for ((scope, _), (state_type, depth)) in &open {
        if *depth <= 0 {
            continue;
        }
        match (state_type.as_str(), scope) {
            ("Wait", Scope::Top) => at.in_top_wait = true,
            ("Wait", Scope::Iteration(_)) => at.in_iteration_wait = true,
            ("Map", _) => at.in_map = true,
            ("Task", _) => at.in_task = true,
            _ => {}
        }
    }
    at.task_scheduled_not_completed = tasks.values().any(|&n| n > 0);
    at
}

/// How many executions were in which kind of state.
fn summary(at: &[AtKill]) -> String {
    let n = |f: fn(&AtKill) -> bool| at.iter().filter(|a| f(a)).count();
    format!(
        "{} mid-Wait ({} in the top-level Wait, {} in a Map iteration's Wait), {} mid-Map, \
         {} in a Task state ({} with an invocation scheduled and not completed), {} finished",
        n(|a| a.in_top_wait || a.in_iteration_wait),
        n(|a| a.in_top_wait),
        n(|a| a.in_iteration_wait),
        n(|a| a.in_map),
        n(|a| a.in_task),
        n(|a| a.task_scheduled_not_completed),
        n(|a| a.finished),
    )
}

/// Facts about one finished execution, for the summary.
#[derive(Default)]
struct Verified {
    events: usize,
    /// Tasks with more than one scheduled event (the first never completed).
    rescheduled_tasks: usize,
    /// Tasks scheduled before the kill and completed after it.
    tasks_across_kill: usize,
    waits_across_kill: usize,
    /// Largest (exit − max(deadline, ready)) of a Wait entered before the kill.
    worst_resume_lateness_ms: i64,
}

/// Checks one execution's final description and full history; `before` is
/// its history as GetExecutionHistory showed it right before the kill
/// (committed, so it must survive unchanged).
fn verify(
    run: &Run,
    description: &Value,
    events: &[Event],
    before: &[Event],
    kill_ms: i64,
    ready_ms: i64,
) -> Result<Verified, String> {
    let mut facts = Verified {
        events: events.len(),
        ..Verified::default()
    };
    if description["status"] != "SUCCEEDED" {
        return Err(format!("status {}", description["status"]));
    }
    let expected = expected_output(&run.input);
    let output: Value = description["output"]
        .as_str()
        .and_then(|o| serde_json::from_str(o).ok())
        .ok_or(format!("output is not JSON: {}", description["output"]))?;
    if output != expected {
        return Err(format!("output {output} != expected {expected}"));
    }

    // Ids exactly 1..=N, each following an earlier event.
    for (i, e) in events.iter().enumerate() {
        if e.id != i as u64 + 1 {
            return Err(format!(
                "event #{} has id {} (ids must be 1..={} with no gap or duplicate)",
                i + 1,
                e.id,
                events.len()
            ));
        }
        if e.prev >= e.id || (e.id > 1 && e.prev == 0) {
            return Err(format!("event {} has previousEventId {}", e.id, e.prev));
        }
    }
    // Events a client saw before the crash are still there, unchanged.
    for b in before {
        let same = events.get(b.id as usize - 1).is_some_and(|e| {
            (
                e.id,
                e.prev,
                e.millis,
                &e.kind,
                e.state_name(),
                e.iteration_index(),
            ) == (
                b.id,
                b.prev,
                b.millis,
                &b.kind,
                b.state_name(),
                b.iteration_index(),
            )
        });
        if !same {
            return Err(format!(
                "event {} ({} <- {} at {}) returned by GetExecutionHistory before the kill \
                 is not in the final history unchanged",
                b.id, b.kind, b.prev, b.millis
            ));
        }
    }
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    if events.first().map(|e| e.kind.as_str()) != Some("ExecutionStarted")
        || count("ExecutionStarted") != 1
    {
        return Err("not exactly one ExecutionStarted, first".into());
    }
    let last = events.last().ok_or("empty history")?;
    if last.kind != "ExecutionSucceeded" || count("ExecutionSucceeded") != 1 {
        return Err("not exactly one ExecutionSucceeded, last".into());
    }
    let final_output: Option<Value> = last.raw["executionSucceededEventDetails"]["output"]
        .as_str()
        .and_then(|o| serde_json::from_str(o).ok());
    if final_output.as_ref() != Some(&expected) {
        return Err(format!("ExecutionSucceeded output {final_output:?}"));
    }
    for kind in ["ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"] {
        if count(kind) != 0 {
            return Err(format!("has {kind}"));
        }
    }

    let attr = attribute(events)?;
    // Wait timing problems are collected (and reported after the structural
    // checks, which stop at the first problem).
    let mut timing: Vec<String> = Vec::new();
    let items = run.input["items"].as_array().map_or(0, Vec::len) as u64;

    // Map: one MapStateStarted/Succeeded, one MapIterationStarted/Succeeded per index.
    if count("MapStateStarted") != 1 || count("MapStateSucceeded") != 1 {
        return Err("not exactly one MapStateStarted and MapStateSucceeded".into());
    }
    for kind in ["MapIterationStarted", "MapIterationSucceeded"] {
        let mut indices: Vec<u64> = events
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.iteration_index().unwrap_or(u64::MAX))
            .collect();
        indices.sort_unstable();
        if indices != (0..items).collect::<Vec<_>>() {
            return Err(format!("{kind} indices {indices:?}, expected 0..{items}"));
        }
    }

    // Every state of every scope entered once and exited once, in that order.
    let mut seen: BTreeMap<(Scope, String), (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(n) = e.state_name() {
            let slot = seen.entry((attr.scope[i], n.to_owned())).or_default();
            if e.kind.ends_with("Entered") {
                slot.0.push(i);
            } else {
                slot.1.push(i);
            }
        }
    }
    let mut expected_states: Vec<(Scope, &str, &str)> = TOP_STATES
        .iter()
        .map(|&(n, t)| (Scope::Top, n, t))
        .collect();
    for i in 0..items {
        expected_states.extend(
            ITERATION_STATES
                .iter()
                .map(|&(n, t)| (Scope::Iteration(i), n, t)),
        );
    }
    if seen.len() != expected_states.len() {
        return Err(format!(
            "states seen {:?}, expected {} occurrences",
            seen.keys().collect::<Vec<_>>(),
            expected_states.len()
        ));
    }
    for &(scope, name, state_type) in &expected_states {
        let Some((entered, exited)) = seen.get(&(scope, name.to_owned())) else {
            return Err(format!("{name} ({scope:?}) never entered"));
        };
        if entered.len() != 1 || exited.len() != 1 {
            return Err(format!(
                "{name} ({scope:?}) entered {} times, exited {} times",
                entered.len(),
                exited.len()
            ));
        }
        let (enter, exit) = (&events[entered[0]], &events[exited[0]]);
        if enter.kind != format!("{state_type}StateEntered")
            || exit.kind != format!("{state_type}StateExited")
            || exit.id <= enter.id
        {
            return Err(format!(
                "{name} ({scope:?}): {} {} then {} {}",
                enter.id, enter.kind, exit.id, exit.kind
            ));
        }
        if state_type == "Wait" {
            let took = exit.millis - enter.millis;
            if took < WAIT_MS - CLOCK_SLACK_MS {
                timing.push(format!(
                    "Wait {name} ({scope:?}) lasted {took} ms (entered {}, exited {}): it ended before its deadline",
                    enter.id, exit.id
                ));
            }
            let due =
                (enter.millis + WAIT_MS).max(if enter.millis < kill_ms { ready_ms } else { 0 });
            if exit.millis > due + LATE_SLACK_MS {
                timing.push(format!(
                    "Wait {name} ({scope:?}) entered at {} ({} ms {} the kill) exited at {}, {} ms after it was due (deadline or restart)",
                    enter.millis,
                    (kill_ms - enter.millis).abs(),
                    if enter.millis < kill_ms { "before" } else { "after" },
                    exit.millis,
                    exit.millis - due
                ));
            }
            if enter.millis < kill_ms {
                facts.worst_resume_lateness_ms =
                    facts.worst_resume_lateness_ms.max(exit.millis - due);
                if exit.millis > kill_ms {
                    facts.waits_across_kill += 1;
                }
            }
        }
        if state_type == "Task" {
            // The task's events: between its entered and exited events, same scope and owner.
            let mine: Vec<&Event> = (entered[0]..exited[0])
                .filter(|&i| attr.scope[i] == scope && attr.owner[i].as_deref() == Some(name))
                .map(|i| &events[i])
                .collect();
            let scheduled: Vec<u64> = mine
                .iter()
                .filter(|e| e.is_task_scheduled())
                .map(|e| e.id)
                .collect();
            let completions: Vec<&&Event> =
                mine.iter().filter(|e| e.is_task_completion()).collect();
            let [done] = completions.as_slice() else {
                return Err(format!(
                    "task {name} ({scope:?}): {} completion events, scheduled as {scheduled:?}",
                    completions.len()
                ));
            };
            if done.kind != "LambdaFunctionSucceeded" && done.kind != "TaskSucceeded" {
                return Err(format!("task {name} ({scope:?}) ended with {}", done.kind));
            }
            match scheduled.last() {
                None => return Err(format!("task {name} ({scope:?}) never scheduled")),
                // Only the last attempt may have completed: any earlier
                // attempt was in flight at the crash, with no completion.
                Some(&last) if last > done.id => {
                    return Err(format!(
                        "task {name} ({scope:?}) scheduled again (event {last}) after it completed (event {})",
                        done.id
                    ));
                }
                Some(_) => {}
            }
            if scheduled.len() > 1 {
                facts.rescheduled_tasks += 1;
            }
            if mine
                .iter()
                .any(|e| e.is_task_scheduled() && e.millis < kill_ms)
                && done.millis > kill_ms
            {
                facts.tasks_across_kill += 1;
            }
        }
    }
    if !timing.is_empty() {
        return Err(timing.join("; "));
    }
    Ok(facts)
}

/// A history as one line per event, for failure messages.
fn dump(events: &[Event]) -> String {
    let attr = attribute(events).ok();
    let mut out = String::new();
    for (i, e) in events.iter().enumerate() {
        let scope = attr
            .as_ref()
            .map(|a| format!("{:?}", a.scope[i]))
            .unwrap_or_default();
        let what = e
            .state_name()
            .map(str::to_owned)
            .or(e.iteration_index().map(|i| format!("index {i}")))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:>4} <- {:<4} {} {:<26} {:<14} {what}",
            e.id, e.prev, e.millis, e.kind, scope
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_flight_then_every_execution_resumes_and_finishes_once() {
    let template = fixture("crash.yaml");
    let options = || StackOptions {
        template: &template,
        time_scale: 1.0,
        extra: vec![],
    };
    let mut stack = Stack::start_with(options());
    let addr = stack.addr.clone();
    let runs: Vec<Run> = (0..EARLY + LATE).map(run).collect();

    // Start the early executions and let them run.
    let t0 = Instant::now();
    stream::iter(&runs[..EARLY])
        .for_each_concurrent(PARALLEL, |r| start(&addr, r))
        .await;
    let started_early = t0.elapsed();
    tokio::time::sleep(SNAPSHOT_AFTER.saturating_sub(t0.elapsed())).await;

    // The snapshot (without the states' data, to be quick), then the late
    // executions, then the kill.
    let snapshot_at = t0.elapsed();
    let sampled: Vec<(usize, Vec<Event>)> = stream::iter(runs[..EARLY].iter().enumerate())
        .map(|(i, r)| {
            let addr = &addr;
            async move { (i, history_pages(addr, &r.arn, false).await) }
        })
        .buffer_unordered(PARALLEL)
        .take_until(tokio::time::sleep(SNAPSHOT_BUDGET))
        .collect()
        .await;
    let mut before_kill: Vec<Vec<Event>> = vec![Vec::new(); runs.len()];
    for (i, events) in &sampled {
        before_kill[*i] = events.clone();
    }
    let late_at = t0.elapsed();
    stream::iter(&runs[EARLY..])
        .for_each_concurrent(PARALLEL, |r| start(&addr, r))
        .await;
    let kill_ms = epoch_millis();
    let killed_at = t0.elapsed();
    stack.kill();

    let snapshot: Vec<AtKill> = sampled.iter().map(|(_, h)| classify(h)).collect();
    eprintln!(
        "crash test: {EARLY} executions started by {started_early:?}, snapshot from \
         {snapshot_at:?}, {LATE} more started from {late_at:?}, SIGKILL at {killed_at:?}.\n  \
         snapshot of {} of the first {EARLY} right before the kill: {}",
        snapshot.len(),
        summary(&snapshot)
    );

    // Restart on the same data directory.
    let data_dir = stack.take_data_dir();
    drop(stack);
    tokio::time::sleep(DOWNTIME).await;
    let restart = Instant::now();
    let stack = Stack::start_in(options(), data_dir);
    let ready_ms = epoch_millis();
    let addr = stack.addr.clone();
    eprintln!(
        "crash test: restarted in {:?} ({} ms after the kill)",
        restart.elapsed(),
        ready_ms - kill_ms
    );

    // Every execution finishes (bounded).
    let mut pending: Vec<&Run> = runs.iter().collect();
    let deadline = Instant::now() + FINISH_WITHIN;
    while !pending.is_empty() {
        let statuses: Vec<(&Run, Value)> = stream::iter(pending.iter().copied())
            .map(|r| {
                let addr = &addr;
                async move { (r, describe(addr, &r.arn).await["status"].clone()) }
            })
            .buffered(PARALLEL)
            .collect()
            .await;
        if let Some((r, status)) = statuses
            .iter()
            .find(|(_, s)| *s != "RUNNING" && *s != "SUCCEEDED")
        {
            let events = history(&addr, &r.arn).await;
            panic!(
                "{} ended {status} after the restart:\n{}",
                r.name,
                dump(&events)
            );
        }
        pending = statuses
            .into_iter()
            .filter(|(_, s)| *s == "RUNNING")
            .map(|(r, _)| r)
            .collect();
        if Instant::now() > deadline && !pending.is_empty() {
            let r = pending[0];
            let events = history(&addr, &r.arn).await;
            panic!(
                "{} of {} executions still RUNNING {FINISH_WITHIN:?} after the restart \
                 (crash resume missing?); {} for example:\n{}",
                pending.len(),
                runs.len(),
                r.name,
                dump(&events)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "crash test: all {} executions SUCCEEDED {:?} after the restart",
        runs.len(),
        restart.elapsed()
    );

    // Every execution's history and output.
    let results: Vec<(&Run, Vec<Event>, Result<Verified, String>)> =
        stream::iter(runs.iter().zip(&before_kill))
            .map(|(r, before)| {
                let addr = &addr;
                async move {
                    let description = describe(addr, &r.arn).await;
                    let events = history(addr, &r.arn).await;
                    let verdict = verify(r, &description, &events, before, kill_ms, ready_ms);
                    (r, events, verdict)
                }
            })
            .buffered(PARALLEL)
            .collect()
            .await;
    let ok: Vec<&Verified> = results
        .iter()
        .filter_map(|(_, _, v)| v.as_ref().ok())
        .collect();
    eprintln!(
        "crash test: {} of {} histories verified ({} events); {} Waits spanned the kill, worst \
         lateness after deadline/restart {} ms; {} tasks scheduled before the kill completed \
         after it, {} of them scheduled a second time",
        ok.len(),
        results.len(),
        ok.iter().map(|v| v.events).sum::<usize>(),
        ok.iter().map(|v| v.waits_across_kill).sum::<usize>(),
        ok.iter()
            .map(|v| v.worst_resume_lateness_ms)
            .max()
            .unwrap_or(0),
        ok.iter().map(|v| v.tasks_across_kill).sum::<usize>(),
        ok.iter().map(|v| v.rescheduled_tasks).sum::<usize>(),
    );
    // What the crash interrupted, from the final histories: the events
    // stamped before the kill (the ones that were durable and kept).
    let durable: Vec<AtKill> = results
        .iter()
        .map(|(_, events, _)| {
            let before: Vec<Event> = events
                .iter()
                .filter(|e| e.millis < kill_ms)
                .cloned()
                .collect();
            classify(&before)
        })
        .collect();
    eprintln!(
        "  durable at the kill (events stamped before it): {}",
        summary(&durable)
    );
    let n = |f: fn(&AtKill) -> bool| durable.iter().filter(|a| f(a)).count();
    assert!(
        n(|a| a.in_top_wait || a.in_iteration_wait) > 0,
        "no execution was in a Wait at the kill"
    );
    assert!(n(|a| a.in_map) > 0, "no execution was in a Map at the kill");
    let failures: Vec<_> = results
        .iter()
        .filter_map(|(r, events, v)| v.as_ref().err().map(|e| (r, events, e)))
        .collect();
    if let Some((r, events, _)) = failures.first() {
        let mut msg = format!(
            "{} of {} executions broke an invariant (kill at {kill_ms}, ready at {ready_ms}):\n",
            failures.len(),
            results.len()
        );
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, e) in &failures {
            let kind = if e.contains("after it was due") {
                "a Wait ended late (timer restarted?)"
            } else if e.contains("before its deadline") {
                "a Wait ended early"
            } else {
                "structure or output"
            };
            *kinds.entry(kind).or_default() += 1;
        }
        let _ = writeln!(msg, "  by kind: {kinds:?}");
        for (r, _, e) in failures.iter().take(10) {
            let _ = writeln!(msg, "  {}: {e}", r.name);
        }
        let _ = write!(msg, "history of {}:\n{}", r.name, dump(events));
        panic!("{msg}");
    }
    assert!(
        ok.iter().any(|v| v.waits_across_kill > 0),
        "no Wait was entered before the kill and exited after it"
    );
}
