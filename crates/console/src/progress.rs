//! What happened to each state of an execution, from its history events:
//! the colour the graph gives it and what the state panel shows.
//!
//! Each event belongs to the state whose `…StateEntered` event its
//! `previousEventId` chain leads back to (how Step Functions links events),
//! so Parallel branches and Map iterations running at once are told apart.
//! A state is *running* from its entered event, *succeeded* at its exited
//! event, *retried* when it exited after more than one attempt (a second
//! `…Scheduled`/`…Started` after a failure), *caught* when it exited right
//! after a failure (a `Catch` took over), *failed* when the execution ended
//! with the state failed or never exited (stopped, timed out), and *not
//! reached* without any event. Map iterations enter their states many
//! times: the counts add up, the latest run decides the colour.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// How a state fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Entered, not yet exited.
    Running,
    /// Exited normally, first attempt.
    Succeeded,
    /// Exited normally after retries.
    Retried,
    /// Failed, and a `Catch` took over.
    Caught,
    /// Failed (or never finished before the execution ended).
    Failed,
}

impl Outcome {
    /// The CSS class the graph and the legend use.
    pub fn class(self) -> &'static str {
        match self {
            Outcome::Running => "st-running",
            Outcome::Succeeded => "st-succeeded",
            Outcome::Retried => "st-retried",
            Outcome::Caught => "st-caught",
            Outcome::Failed => "st-failed",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Succeeded => "succeeded",
            Outcome::Retried => "succeeded after retries",
            Outcome::Caught => "failed, caught",
            Outcome::Failed => "failed",
        }
    }
}

/// One state's record.
#[derive(Debug, Clone, PartialEq)]
pub struct StateRun {
    /// How it fared.
    pub outcome: Outcome,
    /// How often it was entered.
    pub entered: u32,
    /// Attempts beyond the first (all runs).
    pub retries: u32,
    /// Its last input, output, error and cause.
    pub input: Option<String>,
    /// Output.
    pub output: Option<String>,
    /// Error name.
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
    /// Milliseconds from its last entry to its last exit.
    pub duration_ms: Option<i64>,
    entered_at: Option<f64>,
    attempts: u32,
    failed_last: bool,
}

impl StateRun {
    fn new() -> Self {
        Self {
            outcome: Outcome::Running,
            entered: 0,
            retries: 0,
            input: None,
            output: None,
            error: None,
            cause: None,
            duration_ms: None,
            entered_at: None,
            attempts: 0,
            failed_last: false,
        }
    }
}

/// The details object of an event (`stateEnteredEventDetails`, …), if any.
pub fn details(event: &Value) -> Option<&Value> {
    event
        .as_object()?
        .iter()
        .find_map(|(k, v)| (k.ends_with("EventDetails") || k.ends_with("Details")).then_some(v))
}

fn str_of(v: Option<&Value>, key: &str) -> Option<String> {
    v?.get(key).map(|x| match x {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Accumulates events (in id order) into per-state runs.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    owner: HashMap<u64, String>,
    runs: BTreeMap<String, StateRun>,
    ended: bool,
}

impl Progress {
    /// Folds in one history event.
    pub fn add(&mut self, event: &Value) {
        let ty = event.get("type").and_then(Value::as_str).unwrap_or("");
        let id = event.get("id").and_then(Value::as_u64).unwrap_or(0);
        let prev = event
            .get("previousEventId")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let ts = event.get("timestamp").and_then(Value::as_f64);
        let d = details(event);
        if ty.starts_with("Execution")
            && (ty.ends_with("Succeeded")
                || ty.ends_with("Failed")
                || ty.ends_with("Aborted")
                || ty.ends_with("TimedOut"))
        {
            self.ended = true;
            return;
        }
        let name = if ty.ends_with("StateEntered") || ty.ends_with("StateExited") {
            str_of(d, "name")
        } else {
            self.owner.get(&prev).cloned()
        };
        let Some(name) = name else {
            return;
        };
        self.owner.insert(id, name.clone());
        let run = self.runs.entry(name).or_insert_with(StateRun::new);
        if ty.ends_with("StateEntered") {
            run.entered += 1;
            run.outcome = if ty == "FailStateEntered" {
                Outcome::Failed
            } else {
                Outcome::Running
            };
            run.input = str_of(d, "input");
            run.entered_at = ts;
            run.attempts = 0;
            run.failed_last = false;
        } else if ty.ends_with("StateExited") {
            run.output = str_of(d, "output");
            run.outcome = if run.failed_last {
                Outcome::Caught
            } else if run.attempts > 1 {
                Outcome::Retried
            } else {
                Outcome::Succeeded
            };
            if let (Some(a), Some(b)) = (run.entered_at, ts) {
                run.duration_ms = Some(((b - a) * 1000.0).round() as i64);
            }
        } else if ty.ends_with("Scheduled") || ty == "MapRunStarted" {
            run.attempts += 1;
            if run.attempts > 1 {
                run.retries += 1;
            }
            run.failed_last = false;
        } else if ty.ends_with("Failed") || ty.ends_with("TimedOut") || ty.ends_with("Aborted") {
            run.failed_last = true;
            run.error = str_of(d, "error").or(run.error.take());
            run.cause = str_of(d, "cause").or(run.cause.take());
        } else if ty.ends_with("Succeeded") {
            run.failed_last = false;
        }
    }

    /// The state an event belongs to.
    pub fn state_of(&self, id: u64) -> Option<String> {
        self.owner.get(&id).cloned()
    }

    /// The runs by state name; `running` says whether the execution still
    /// runs (if not, unfinished states count as failed).
    pub fn runs(&self, running: bool) -> BTreeMap<String, StateRun> {
        let mut out = self.runs.clone();
        if !running || self.ended {
            for r in out.values_mut() {
                if r.outcome == Outcome::Running {
                    r.outcome = Outcome::Failed;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: u64, prev: u64, ty: &str, ts: f64, details: Option<(&str, Value)>) -> Value {
        let mut v = json!({"id": id, "previousEventId": prev, "type": ty, "timestamp": ts});
        if let Some((k, d)) = details {
            v[k] = d;
        }
        v
    }

    #[test]
    fn retried_caught_running_and_failed_states() {
        let entered = |n: &str| {
            Some((
                "stateEnteredEventDetails",
                json!({"name": n, "input": "{}"}),
            ))
        };
        let exited = |n: &str| {
            Some((
                "stateExitedEventDetails",
                json!({"name": n, "output": "{\"ok\":1}"}),
            ))
        };
        let failed = Some((
            "lambdaFunctionFailedEventDetails",
            json!({"error": "Boom", "cause": "bad"}),
        ));
        let events = [
            ev(1, 0, "ExecutionStarted", 0.0, None),
            ev(2, 1, "TaskStateEntered", 1.0, entered("A")),
            ev(3, 2, "LambdaFunctionScheduled", 1.0, None),
            ev(4, 3, "LambdaFunctionFailed", 1.1, failed.clone()),
            ev(5, 4, "LambdaFunctionScheduled", 2.0, None),
            ev(6, 5, "LambdaFunctionSucceeded", 2.1, None),
            ev(7, 6, "TaskStateExited", 2.5, exited("A")),
            ev(8, 7, "TaskStateEntered", 3.0, entered("B")),
            ev(9, 8, "LambdaFunctionScheduled", 3.0, None),
            ev(10, 9, "LambdaFunctionFailed", 3.2, failed),
            ev(11, 10, "TaskStateExited", 3.2, exited("B")),
            ev(12, 11, "WaitStateEntered", 3.3, entered("W")),
        ];
        let mut p = Progress::default();
        for e in &events {
            p.add(e);
        }
        let runs = p.runs(true);
        assert_eq!(runs["A"].outcome, Outcome::Retried);
        assert_eq!(runs["A"].retries, 1);
        assert_eq!(runs["A"].duration_ms, Some(1500));
        assert_eq!(runs["A"].error.as_deref(), Some("Boom"));
        assert_eq!(runs["B"].outcome, Outcome::Caught);
        assert_eq!(runs["B"].output.as_deref(), Some("{\"ok\":1}"));
        assert_eq!(runs["W"].outcome, Outcome::Running);
        // Stopped mid-Wait: the Wait did not finish.
        assert_eq!(p.runs(false)["W"].outcome, Outcome::Failed);
        assert!(!runs.contains_key("Nope"));
    }

    #[test]
    fn junk_events_are_ignored() {
        let mut p = Progress::default();
        for e in [
            json!(null),
            json!({"type": 3}),
            json!({"type": "TaskStateEntered"}),
            json!([]),
        ] {
            p.add(&e);
        }
        assert!(p.runs(true).is_empty());
    }
}
