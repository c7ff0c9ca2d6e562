//! The interpreter: runs a compiled [`StateMachine`] against the
//! [`TaskInvoker`]/[`Clock`]/[`HistorySink`] traits.
//!
//! `mod.rs` holds the execution driver and the state loop; `io` the
//! input/output processing (paths, templates, JSONata fields), `task`,
//! `flow` (Choice/Wait/Fail) and `fanout` (Parallel/Map) the state kinds.

mod events;
mod fanout;
mod flow;
pub(crate) mod io;
mod task;

use crate::context::ExecutionContext;
use crate::definition::{Graph, QueryLanguage, State, StateMachine};
use crate::error::{self, ExecError};
use crate::history::HistorySink;
use crate::task::{Clock, TaskInvoker};
use crate::value::{Obj, Val, Variables};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) use events::Ev;

/// Final status of an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    /// Completed normally.
    Succeeded,
    /// A state failed and nothing caught it.
    Failed,
    /// The machine's TimeoutSeconds elapsed.
    TimedOut,
    /// Stopped from outside.
    Aborted,
}

impl ExecutionStatus {
    /// AWS's spelling: `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }
}

/// The result of [`run_execution`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionOutcome {
    /// Final status.
    pub status: ExecutionStatus,
    /// Output (when succeeded).
    pub output: Option<Value>,
    /// Error name (when failed).
    pub error: Option<String>,
    /// Cause (when failed).
    pub cause: Option<String>,
}

/// Shared state of one running execution.
pub(crate) struct Exec<'a> {
    pub ctx: &'a ExecutionContext,
    pub input: Val,
    pub tasks: &'a dyn TaskInvoker,
    pub clock: &'a dyn Clock,
    pub history: Option<&'a dyn HistorySink>,
    pub next_event: AtomicU64,
    /// Task tokens issued so far, per (state, input) digest: makes tokens
    /// reproducible when an execution is replayed (see [`Exec::task_token`]).
    pub tokens_issued: std::sync::Mutex<std::collections::HashMap<[u8; 32], u64>>,
}

/// Where a state runs: its context extras (Map item) and enclosing variables.
#[derive(Clone, Default)]
pub(crate) struct Frame {
    /// `$$.Map.Item` when inside a Map iteration's ItemSelector.
    pub map_item: Option<(usize, Val)>,
}

/// What a state decided.
pub(crate) enum Step {
    /// Go to state index with this input.
    Next(usize, Val),
    /// The graph ends with this output.
    End(Val),
}

/// Runs `machine` to completion.
pub async fn run_execution(
    machine: &StateMachine,
    input: Value,
    ctx: ExecutionContext,
    tasks: &dyn TaskInvoker,
    clock: &dyn Clock,
    history: Option<&dyn HistorySink>,
) -> ExecutionOutcome {
    let input = Val::from(input);
    let exec = Exec {
        ctx: &ctx,
        input: input.clone(),
        tasks,
        clock,
        history,
        next_event: AtomicU64::new(1),
        tokens_issued: Default::default(),
    };
    let mut prev = 0;
    exec.event(&mut prev, "ExecutionStarted", || {
        Some(Ev::details(
            "executionStartedEventDetails",
            json!({"input": io::to_text(&input), "inputDetails": {"truncated": false}, "roleArn": ctx.role_arn}),
        ))
    });
    let m = machine.machine();
    let mut vars = Variables::new();
    let run: crate::BoxFuture<'_, _> = if crate::limits::too_large(&input) {
        // The StartExecution API rejects such input first (see
        // `limits::execution_input_error`); this guards direct callers.
        Box::pin(futures::future::ready(Err(
            crate::limits::execution_data_limit_error(),
        )))
    } else {
        exec.run_graph(&m.graph, input, &mut vars, prev)
    };
    let result = match m.timeout_seconds {
        None => run.await,
        Some(t) => {
            let deadline = ctx
                .start_time_millis
                .saturating_add(i64::try_from(t).unwrap_or(i64::MAX).saturating_mul(1000));
            let timer = clock.sleep_until(deadline);
            futures::pin_mut!(timer);
            match futures::future::select(run, timer).await {
                futures::future::Either::Left((r, _)) => r,
                futures::future::Either::Right(_) => {
                    let mut p = exec.next_event.load(Ordering::Relaxed).saturating_sub(1);
                    exec.event(&mut p, "ExecutionTimedOut", || {
                        Some(Ev::details(
                            "executionTimedOutEventDetails",
                            json!({"error": error::TIMEOUT}),
                        ))
                    });
                    return ExecutionOutcome {
                        status: ExecutionStatus::TimedOut,
                        output: None,
                        error: Some(error::TIMEOUT.into()),
                        cause: None,
                    };
                }
            }
        }
    };
    let mut p = exec.next_event.load(Ordering::Relaxed).saturating_sub(1);
    match result {
        Ok((out, _)) => {
            exec.event(&mut p, "ExecutionSucceeded", || {
                Some(Ev::details(
                    "executionSucceededEventDetails",
                    json!({"output": io::to_text(&out), "outputDetails": {"truncated": false}}),
                ))
            });
            ExecutionOutcome {
                status: ExecutionStatus::Succeeded,
                output: Some(out.to_json()),
                error: None,
                cause: None,
            }
        }
        Err(e) => {
            exec.event(&mut p, "ExecutionFailed", || {
                let mut d = serde_json::Map::new();
                if !e.error.is_empty() {
                    d.insert("error".into(), json!(e.error));
                }
                if let Some(c) = &e.cause {
                    d.insert("cause".into(), json!(c));
                }
                Some(Ev::details("executionFailedEventDetails", Value::Object(d)))
            });
            let error = if e.error.is_empty() {
                None
            } else {
                Some(e.error)
            };
            ExecutionOutcome {
                status: ExecutionStatus::Failed,
                output: None,
                error,
                cause: e.cause,
            }
        }
    }
}

impl<'a> Exec<'a> {
    /// Allocates an event id (always, so causes can cite ids) and records it if a sink exists.
    pub fn event(
        &self,
        prev: &mut u64,
        ty: &str,
        details: impl FnOnce() -> Option<(String, Value)>,
    ) -> u64 {
        self.event_at(prev, ty, details).0
    }

    /// [`Exec::event`], also returning the time the history records for the
    /// event (`None` without a history sink).
    pub fn event_at(
        &self,
        prev: &mut u64,
        ty: &str,
        details: impl FnOnce() -> Option<(String, Value)>,
    ) -> (u64, Option<i64>) {
        let id = self.next_event.fetch_add(1, Ordering::Relaxed);
        let at = self.history.map(|h| {
            h.record_timed(crate::history::HistoryEvent {
                id,
                previous_event_id: *prev,
                timestamp_millis: self.clock.now_millis(),
                event_type: ty.to_string(),
                details: details(),
            })
        });
        *prev = id;
        (id, at)
    }

    /// Runs a graph (machine, branch or iteration); returns output and last event id.
    pub fn run_graph<'s>(
        &'s self,
        g: &'s Graph,
        input: Val,
        vars: &'s mut Variables,
        prev: u64,
    ) -> crate::BoxFuture<'s, Result<(Val, u64), ExecError>> {
        Box::pin(async move {
            let mut cur = g.start;
            let mut input = input;
            let mut prev = prev;
            loop {
                let st = &g.states[cur];
                match self.run_state(st, input, vars, &mut prev).await? {
                    Step::Next(i, v) => {
                        cur = i;
                        input = v;
                    }
                    Step::End(v) => return Ok((v, prev)),
                }
            }
        })
    }

    /// Builds `$$` for a state.
    pub fn context_object(
        &self,
        st: &State,
        entered_millis: i64,
        retry: u32,
        frame: &Frame,
        token: Option<&str>,
    ) -> Val {
        let mut execution = Obj::with_capacity(6);
        execution.insert("Id", Val::str(&self.ctx.execution_arn));
        execution.insert("Input", self.input.clone());
        execution.insert(
            "StartTime",
            Val::from(io::iso_millis(self.ctx.start_time_millis)),
        );
        execution.insert("Name", Val::str(&self.ctx.execution_name));
        execution.insert("RoleArn", Val::str(&self.ctx.role_arn));
        // EXPRESS executions (ARNs `…:express:…`) cannot be redriven and have no RedriveCount.
        if !self.ctx.execution_arn.contains(":express:") {
            execution.insert("RedriveCount", Val::from(self.ctx.redrive_count));
        }
        let mut machine = Obj::with_capacity(2);
        machine.insert("Id", Val::str(&self.ctx.state_machine_arn));
        machine.insert("Name", Val::str(&self.ctx.state_machine_name));
        let mut state = Obj::with_capacity(3);
        state.insert("Name", Val::str(&st.name));
        state.insert("EnteredTime", Val::from(io::iso_millis(entered_millis)));
        if matches!(st.type_name, "Task" | "Parallel" | "Map") {
            state.insert("RetryCount", Val::from(retry));
        }
        let mut c = Obj::with_capacity(5);
        c.insert("Execution", Val::object(execution));
        c.insert("StateMachine", Val::object(machine));
        c.insert("State", Val::object(state));
        if let Some(t) = token {
            let mut task = Obj::with_capacity(1);
            task.insert("Token", Val::str(t));
            c.insert("Task", Val::object(task));
        }
        if let Some((i, v)) = &frame.map_item {
            let mut item = Obj::with_capacity(2);
            item.insert("Index", Val::from(*i));
            item.insert("Value", v.clone());
            let mut map = Obj::with_capacity(1);
            map.insert("Item", Val::object(item));
            c.insert("Map", Val::object(map));
        }
        Val::object(c)
    }

    async fn run_state(
        &self,
        st: &State,
        input: Val,
        vars: &mut Variables,
        prev: &mut u64,
    ) -> Result<Step, ExecError> {
        let (entered_id, recorded_at) = self.event_at(prev, events::entered(st.type_name), || {
            Some(Ev::details("stateEnteredEventDetails", json!({"name": st.name, "input": io::to_text(&input), "inputDetails": {"truncated": false}})))
        });
        // The entry time as the history records it: a resumed execution
        // replaying its history gets the original one, so `$$.State.EnteredTime`
        // and a Wait's deadline (measured from it) are those of the first run.
        let entered_at = match recorded_at {
            Some(at) => at,
            None if st.uses_context || matches!(st.kind, crate::definition::Kind::Wait(_)) => {
                self.clock.now_millis()
            }
            None => 0,
        };
        let sc = StateCtx {
            st,
            entered_id,
            entered_at,
        };
        let r = match st.ql {
            QueryLanguage::JsonPath => self.run_jsonpath(&sc, input, vars, prev).await,
            QueryLanguage::JsonAta => self.run_jsonata(&sc, input, vars, prev).await,
        };
        match r {
            Ok(step) => Ok(step),
            Err(e) => {
                let e = sc.decorate(e);
                let evaluation = matches!(
                    e.error.as_str(),
                    error::RUNTIME
                        | error::QUERY_EVALUATION_ERROR
                        | error::INTRINSIC_FAILURE
                        | error::RESULT_PATH_MATCH_FAILURE
                ) && e
                    .cause
                    .as_deref()
                    .is_some_and(|c| c.starts_with("An error occurred while executing the state"));
                if evaluation {
                    self.event(prev, "EvaluationFailed", || {
                        Some(Ev::details(
                            "evaluationFailedEventDetails",
                            json!({"error": e.error, "cause": e.cause, "state": st.name}),
                        ))
                    });
                }
                Err(e)
            }
        }
    }

    fn exited(&self, st: &State, out: &Val, prev: &mut u64, assigned: Option<&Value>) {
        self.event(prev, events::exited(st.type_name), || {
            let mut d = json!({"name": st.name, "output": io::to_text(out), "outputDetails": {"truncated": false}});
            if let Some(a) = assigned {
                d["assignedVariables"] = a.clone();
                d["assignedVariablesDetails"] = json!({"truncated": false});
            }
            Some(Ev::details("stateExitedEventDetails", d))
        });
    }

    /// Finishes a state: exit event, then next/end.
    fn finish(&self, st: &State, out: Val, prev: &mut u64, assigned: Option<&Value>) -> Step {
        if self.history.is_some() {
            self.exited(st, &out, prev, assigned);
        } else {
            self.next_event.fetch_add(1, Ordering::Relaxed);
        }
        match st.next {
            Some(n) => Step::Next(n, out),
            None => Step::End(out),
        }
    }
}

/// Per-state bookkeeping used in error texts.
pub(crate) struct StateCtx<'s> {
    pub st: &'s State,
    pub entered_id: u64,
    pub entered_at: i64,
}

impl StateCtx<'_> {
    /// Prefixes runtime-type errors with AWS's "An error occurred while executing the state…".
    pub fn decorate(&self, mut e: ExecError) -> ExecError {
        if let Some(c) = &e.cause
            && c.starts_with('\u{0}')
        {
            e.cause = Some(format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                self.st.name,
                self.entered_id,
                &c[1..]
            ));
        }
        e
    }
}

/// Marks an error cause for [`StateCtx::decorate`].
pub(crate) fn state_error(error: &str, cause: impl Into<String>) -> ExecError {
    ExecError::new(error, format!("\u{0}{}", cause.into()))
}
