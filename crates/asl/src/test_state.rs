//! TestState: runs ONE state in isolation, as the Step Functions `TestState`
//! API does, and reports its output, error, next state, status
//! (`SUCCEEDED`, `FAILED`, `RETRIABLE`, `CAUGHT_ERROR`) and, at the `DEBUG`
//! and `TRACE` inspection levels, the data after each processing step.
//!
//! The state is compiled by the same compiler as whole machines (a single
//! state is wrapped into a machine whose transition targets are stubs), and
//! it runs through the interpreter's own code paths, so TestState and real
//! executions cannot disagree:
//! - Pass, Choice, Wait, Succeed and Fail run through the interpreter's state
//!   functions (`run_jsonpath`/`run_jsonata`), with a clock whose sleeps end at
//!   once (a Wait state is evaluated, not waited for). Their inspection data
//!   is recomputed with the same input/output helpers, for display only.
//! - Task, Map and Parallel run ONE attempt: input processing, the invocation
//!   (the real [`TaskInvoker`] via the interpreter's `invoke_task`, or the
//!   mocked result/error), then result processing with the interpreter's
//!   helpers. A failure that a retrier would retry is reported as `RETRIABLE`
//!   (nothing is retried: the caller says how many retries already happened
//!   with [`TestStateOptions::retrier_retry_count`]); one a catcher takes is
//!   `CAUGHT_ERROR` with the catcher's output and `Next`.
//!
//! Map and Parallel states need a mock, as AWS requires; the mocked result is
//! their aggregated output. Map's item-level inspection fields
//! (`afterItemsPath`, `afterItemSelector`, …) are not produced.

use crate::BoxFuture;
use crate::context::ExecutionContext;
use crate::definition::{Graph, Kind, QueryLanguage, ResultPath, State, StateMachine};
use crate::error::{DefinitionError, Diagnostic, ExecError, RUNTIME};
use crate::interpreter::io::{self, states_obj};
use crate::interpreter::{Exec, Frame, StateCtx, Step};
use crate::task::{Clock, TaskFailure, TaskInvoker};
use crate::value::{Val, Variables};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;

/// The name a single-state definition's state gets (it has none of its own).
pub const SINGLE_STATE_NAME: &str = "TestState";

/// Event id the tested state is "entered at" in error causes (the first
/// state of an execution is entered at event 2).
const ENTERED_EVENT_ID: u64 = 2;

/// What TestState reports besides output and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InspectionLevel {
    /// Output, error, next state and status only (AWS's default).
    #[default]
    Info,
    /// Also the data after each input/output processing step.
    Debug,
    /// Also the raw HTTP request and response of an HTTP Task (the local
    /// stack emulates no HTTP Task, so this equals [`InspectionLevel::Debug`]).
    Trace,
}

impl InspectionLevel {
    /// Parses AWS's spelling (`INFO`, `DEBUG`, `TRACE`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "INFO" => Some(Self::Info),
            "DEBUG" => Some(Self::Debug),
            "TRACE" => Some(Self::Trace),
            _ => None,
        }
    }
}

/// The outcome of the tested state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// The state completed.
    Succeeded,
    /// The state failed and nothing handles the error.
    Failed,
    /// The state failed with an error a retrier would retry.
    Retriable,
    /// The state failed and a catcher took the error.
    CaughtError,
}

impl TestStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Retriable => "RETRIABLE",
            Self::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// A mocked task outcome (`mock.result` or `mock.errorOutput`).
#[derive(Debug, Clone, PartialEq)]
pub enum TestMock {
    /// The state's raw result.
    Result(Value),
    /// The task fails with this error.
    Error(TaskFailure),
}

/// Everything besides the definition and the input.
#[derive(Debug, Clone, Default)]
pub struct TestStateOptions {
    /// How much to report.
    pub inspection_level: InspectionLevel,
    /// Workflow variables visible to the state.
    pub variables: HashMap<String, Value>,
    /// A context object replacing the one built from [`Self::execution`]
    /// (AWS allows it only together with a mock).
    pub context: Option<Value>,
    /// A mocked result or error instead of invoking the task.
    pub mock: Option<TestMock>,
    /// Retries already made by the retrier that matches the error.
    pub retrier_retry_count: u32,
    /// Identity of the pretend execution (feeds `$$`).
    pub execution: ExecutionContext,
}

/// Why a TestState request cannot run (AWS answers these with `ValidationException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestStateError {
    /// `mock` on a state type that invokes nothing.
    #[error("A mock can only be specified for Task, Map, or Parallel states.")]
    MockNotAllowed,
    /// `context` without `mock`.
    #[error("The context field may only be specified if a mock is specified in the same request.")]
    ContextWithoutMock,
    /// A state type or integration pattern TestState runs only when mocked.
    #[error(
        "TestState supports {0} only when a mock is specified (as for Activity tasks, .sync or .waitForTaskToken service integration patterns, Parallel, or Map states)."
    )]
    NeedsMock(String),
    /// `stateName` names no state of the definition.
    #[error("State '{0}' does not exist in the state machine definition.")]
    NoSuchState(String),
}

/// `inspectionData.errorDetails`: which retrier or catcher handled the error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorDetails {
    /// Index of the catcher that took the error.
    pub catch_index: Option<usize>,
    /// Index of the retrier that would retry.
    pub retry_index: Option<usize>,
    /// Back-off before that retry, seconds.
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// `inspectionData`: the data after each processing step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InspectionData {
    /// The raw state input.
    pub input: Option<Value>,
    /// After InputPath (JSONPath states).
    pub after_input_path: Option<Value>,
    /// After Parameters (JSONPath states).
    pub after_parameters: Option<Value>,
    /// After Arguments (JSONata states).
    pub after_arguments: Option<Value>,
    /// The raw result.
    pub result: Option<Value>,
    /// After ResultSelector (JSONPath states).
    pub after_result_selector: Option<Value>,
    /// After ResultPath (JSONPath states).
    pub after_result_path: Option<Value>,
    /// The workflow variables after the state (assignments included).
    pub variables: Option<Value>,
    /// Which retrier/catcher handled an error.
    pub error_details: Option<ErrorDetails>,
}

/// The TestState response.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateResult {
    /// Outcome.
    pub status: TestStatus,
    /// The state output (succeeded or caught).
    pub output: Option<Value>,
    /// Error name (failed, retriable or caught).
    pub error: Option<String>,
    /// Error cause.
    pub cause: Option<String>,
    /// The state to transition to.
    pub next_state: Option<String>,
    /// At `DEBUG`/`TRACE`.
    pub inspection_data: Option<InspectionData>,
}

impl TestStateResult {
    /// The API response body (JSON values as JSON text, as AWS sends them).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(o) = &self.output {
            m.insert("output".into(), json!(o.to_string()));
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), json!(e));
        }
        if let Some(c) = &self.cause {
            m.insert("cause".into(), json!(c));
        }
        if let Some(d) = &self.inspection_data {
            m.insert("inspectionData".into(), d.to_json());
        }
        if let Some(n) = &self.next_state {
            m.insert("nextState".into(), json!(n));
        }
        m.insert("status".into(), json!(self.status.as_str()));
        Value::Object(m)
    }
}

impl InspectionData {
    /// The wire form (each document as JSON text).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let fields = [
            ("input", &self.input),
            ("afterInputPath", &self.after_input_path),
            ("afterParameters", &self.after_parameters),
            ("afterArguments", &self.after_arguments),
            ("result", &self.result),
            ("afterResultSelector", &self.after_result_selector),
            ("afterResultPath", &self.after_result_path),
            ("variables", &self.variables),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                m.insert(k.into(), json!(v.to_string()));
            }
        }
        if let Some(d) = &self.error_details {
            let mut e = Map::new();
            if let Some(i) = d.catch_index {
                e.insert("catchIndex".into(), json!(i));
            }
            if let Some(i) = d.retry_index {
                e.insert("retryIndex".into(), json!(i));
            }
            if let Some(s) = d.retry_backoff_interval_seconds {
                e.insert("retryBackoffIntervalSeconds".into(), json!(s));
            }
            m.insert("errorDetails".into(), Value::Object(e));
        }
        Value::Object(m)
    }
}

/// A compiled state to test: a single state's definition, or one state of a
/// whole machine.
#[derive(Debug, Clone)]
pub struct TestStateDefinition {
    /// The compiled state (its transitions index `names`).
    state: State,
    /// Names of the states of the graph holding it, by index.
    names: Vec<String>,
}

fn invalid(code: &str, message: impl Into<String>) -> DefinitionError {
    DefinitionError {
        diagnostics: vec![Diagnostic::error(code, message, "")],
    }
}

/// Adds a stub for every transition target `v` names but the machine lacks.
fn stub_targets(state: &Map<String, Value>, own: &str, states: &mut Map<String, Value>) {
    let mut targets: Vec<&str> = Vec::new();
    for k in ["Next", "Default"] {
        if let Some(Value::String(t)) = state.get(k) {
            targets.push(t);
        }
    }
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = state.get(list) {
            targets.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("Next").and_then(Value::as_str)),
            );
        }
    }
    for t in targets {
        if t != own && !states.contains_key(t) {
            states.insert(t.to_string(), json!({"Type": "Succeed"}));
        }
    }
}

/// Finds `name` in `g` or in any nested branch/iteration graph.
fn locate<'g>(g: &'g Graph, name: &str) -> Option<(&'g Graph, &'g State)> {
    if let Some(&i) = g.names.get(name) {
        return g.states.get(i).map(|s| (g, s));
    }
    g.states.iter().find_map(|s| match &s.kind {
        Kind::Parallel { branches } => branches.iter().find_map(|b| locate(b, name)),
        Kind::Map(spec) => locate(&spec.processor, name),
        _ => None,
    })
}

impl TestStateDefinition {
    /// Parses TestState's `definition`: one state's JSON (named
    /// [`SINGLE_STATE_NAME`]), or — when `state_name` is given, or the JSON
    /// has `StartAt`/`States` — a whole machine and the state to test
    /// (`StartAt` when `state_name` is absent).
    pub fn parse(definition: &str, state_name: Option<&str>) -> Result<Self, TestStateParseError> {
        let v: Value = serde_json::from_str(definition).map_err(|e| {
            TestStateParseError::Definition(invalid(
                "INVALID_JSON_DESCRIPTION",
                format!("Invalid JSON: {e}"),
            ))
        })?;
        let Value::Object(obj) = v else {
            return Err(TestStateParseError::Definition(invalid(
                "SCHEMA_VALIDATION_FAILED",
                "The definition must be a JSON object",
            )));
        };
        let whole = obj.contains_key("States") && obj.contains_key("StartAt");
        if state_name.is_some() || whole {
            let machine = StateMachine::from_value(Value::Object(obj))
                .map_err(TestStateParseError::Definition)?;
            let name = match state_name {
                Some(n) => n.to_string(),
                None => {
                    let g = &machine.machine().graph;
                    g.states
                        .get(g.start)
                        .map(|s| s.name.clone())
                        .unwrap_or_default()
                }
            };
            return Self::extract(&machine, &name).ok_or(TestStateParseError::Request(
                TestStateError::NoSuchState(name),
            ));
        }
        let mut states = Map::new();
        stub_targets(&obj, SINGLE_STATE_NAME, &mut states);
        let mut wrapped = Map::new();
        if let Some(ql) = obj.get("QueryLanguage") {
            // A JSONata state in a JSONPath machine is fine; the reverse is
            // not, so the wrapper adopts the state's language.
            wrapped.insert("QueryLanguage".into(), ql.clone());
        }
        states.insert(SINGLE_STATE_NAME.into(), Value::Object(obj));
        wrapped.insert("StartAt".into(), json!(SINGLE_STATE_NAME));
        wrapped.insert("States".into(), Value::Object(states));
        let machine = StateMachine::from_value(Value::Object(wrapped))
            .map_err(TestStateParseError::Definition)?;
        Self::extract(&machine, SINGLE_STATE_NAME).ok_or(TestStateParseError::Request(
            TestStateError::NoSuchState(SINGLE_STATE_NAME.into()),
        ))
    }

    fn extract(machine: &StateMachine, name: &str) -> Option<Self> {
        let (g, st) = locate(&machine.machine().graph, name)?;
        Some(Self {
            state: st.clone(),
            names: g.states.iter().map(|s| s.name.clone()).collect(),
        })
    }

    /// The state under test.
    pub fn state(&self) -> &State {
        &self.state
    }
}

/// Why [`TestStateDefinition::parse`] failed.
#[derive(Debug, thiserror::Error)]
pub enum TestStateParseError {
    /// The definition does not validate (AWS: `InvalidDefinition`).
    #[error(transparent)]
    Definition(DefinitionError),
    /// The request is inconsistent with it (AWS: `ValidationException`).
    #[error(transparent)]
    Request(TestStateError),
}

/// Checks the combination of state, mock and context as AWS does.
pub fn check_request(
    def: &TestStateDefinition,
    opts: &TestStateOptions,
) -> Result<(), TestStateError> {
    let st = def.state();
    let invokes = matches!(
        st.kind,
        Kind::Task { .. } | Kind::Map(_) | Kind::Parallel { .. }
    );
    if opts.mock.is_some() && !invokes {
        return Err(TestStateError::MockNotAllowed);
    }
    if opts.context.is_some() && opts.mock.is_none() {
        return Err(TestStateError::ContextWithoutMock);
    }
    if opts.mock.is_none() {
        let what = match &st.kind {
            Kind::Map(_) => Some("Map states".to_string()),
            Kind::Parallel { .. } => Some("Parallel states".to_string()),
            Kind::Task { resource, .. }
                if resource.ends_with(".sync")
                    || resource.ends_with(".sync:2")
                    || resource.ends_with(".waitForTaskToken")
                    || resource.starts_with("arn:aws:states:")
                        && resource.contains(":activity:") =>
            {
                Some(format!("the resource '{resource}'"))
            }
            _ => None,
        };
        if let Some(w) = what {
            return Err(TestStateError::NeedsMock(w));
        }
    }
    Ok(())
}

/// A clock whose sleeps end at once: TestState evaluates a Wait, it does not wait.
struct NoWait<'a>(&'a dyn Clock);

impl Clock for NoWait<'_> {
    fn now_millis(&self) -> i64 {
        self.0.now_millis()
    }
    fn sleep_until<'a>(&'a self, _deadline_millis: i64) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }
}

fn exec<'a>(
    ctx: &'a ExecutionContext,
    input: &Val,
    tasks: &'a dyn TaskInvoker,
    clock: &'a dyn Clock,
) -> Exec<'a> {
    Exec {
        ctx,
        input: input.clone(),
        tasks,
        clock,
        history: None,
        next_event: AtomicU64::new(ENTERED_EVENT_ID + 1),
        tokens_issued: Default::default(),
    }
}

/// The outcome before inspection data is attached.
struct Done {
    status: TestStatus,
    output: Option<Val>,
    error: Option<ExecError>,
    next: Option<usize>,
}

impl Done {
    fn failed(e: ExecError) -> Self {
        Done {
            status: TestStatus::Failed,
            output: None,
            error: Some(e),
            next: None,
        }
    }
}

/// Runs the state once. `tasks` is used only when no mock is given.
///
/// Fails only for requests AWS rejects (see [`check_request`]); a failing
/// state is a [`TestStatus::Failed`] result.
pub async fn test_state(
    def: &TestStateDefinition,
    input: Value,
    opts: &TestStateOptions,
    tasks: &dyn TaskInvoker,
    clock: &dyn Clock,
) -> Result<TestStateResult, TestStateError> {
    check_request(def, opts)?;
    let st = &def.state;
    let sc = StateCtx {
        st,
        entered_id: ENTERED_EVENT_ID,
        entered_at: clock.now_millis(),
    };
    let mut vars: Variables = opts
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), Val::from(v)))
        .collect();
    let mut insp = InspectionData {
        input: Some(input.clone()),
        ..InspectionData::default()
    };
    let input = Val::from(input);
    let done = match st.kind {
        Kind::Task { .. } | Kind::Map(_) | Kind::Parallel { .. } => {
            let ex = exec(&opts.execution, &input, tasks, clock);
            match run_action_once(&ex, &sc, input, opts, &mut vars, &mut insp).await {
                Ok(d) => d,
                Err(e) => Done::failed(sc.decorate(e)),
            }
        }
        _ => {
            let no_wait = NoWait(clock);
            let ex = exec(&opts.execution, &input, tasks, &no_wait);
            if st.ql == QueryLanguage::JsonPath {
                inspect_simple(&ex, &sc, &input, &vars, &mut insp);
            }
            let mut prev = ENTERED_EVENT_ID;
            let r = match st.ql {
                QueryLanguage::JsonPath => ex.run_jsonpath(&sc, input, &mut vars, &mut prev).await,
                QueryLanguage::JsonAta => ex.run_jsonata(&sc, input, &mut vars, &mut prev).await,
            };
            match r {
                Ok(Step::Next(i, out)) => Done {
                    status: TestStatus::Succeeded,
                    output: Some(out),
                    error: None,
                    next: Some(i),
                },
                Ok(Step::End(out)) => Done {
                    status: TestStatus::Succeeded,
                    output: Some(out),
                    error: None,
                    next: None,
                },
                Err(e) => Done::failed(sc.decorate(e)),
            }
        }
    };
    let next_state = done.next.and_then(|i| def.names.get(i)).cloned();
    let inspection_data = (opts.inspection_level != InspectionLevel::Info).then(|| {
        if !vars.is_empty() {
            let m: Map<String, Value> =
                vars.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
            insp.variables = Some(Value::Object(m));
        }
        insp
    });
    let (error, cause) = match done.error {
        Some(e) => (Some(e.error), e.cause),
        None => (None, None),
    };
    Ok(TestStateResult {
        status: done.status,
        output: done.output.map(|v| v.to_json()),
        error,
        cause,
        next_state,
        inspection_data,
    })
}

/// Inspection data of a JSONPath Pass/Choice/Wait/Succeed state, computed with
/// the interpreter's helpers (display only: the output comes from the interpreter).
fn inspect_simple(
    ex: &Exec<'_>,
    sc: &StateCtx<'_>,
    raw: &Val,
    vars: &Variables,
    insp: &mut InspectionData,
) {
    let st = sc.st;
    if matches!(st.kind, Kind::Fail { .. }) {
        return;
    }
    let ctx = ex.context_object(st, sc.entered_at, 0, &Frame::default(), None);
    let eff = io::io_path(&st.input_path, raw, &ctx, vars)
        .ok()
        .map(|c| c.into_owned());
    insp.after_input_path = eff.as_ref().map(Val::to_json);
    if let Kind::Pass { result, .. } = &st.kind {
        let params = match (&st.parameters, &eff) {
            (Some(p), Some(e)) => io::template(p, e, &ctx, vars).ok(),
            (None, e) => e.clone(),
            _ => None,
        };
        insp.after_parameters = params.as_ref().map(Val::to_json);
        let res = result.clone().or(params);
        insp.result = res.as_ref().map(Val::to_json);
        insp.after_result_path = res
            .and_then(|r| io::result_path(&st.result_path, raw.clone(), r).ok())
            .map(|v| v.to_json());
    }
}

/// One attempt of a Task/Map/Parallel state; `Err` is a failure no retrier or
/// catcher may handle (input/output processing), as in the interpreter.
async fn run_action_once(
    ex: &Exec<'_>,
    sc: &StateCtx<'_>,
    raw: Val,
    opts: &TestStateOptions,
    vars: &mut Variables,
    insp: &mut InspectionData,
) -> Result<Done, ExecError> {
    let st = sc.st;
    let jsonata = st.ql == QueryLanguage::JsonAta;
    let token = match &st.kind {
        Kind::Task { resource, .. } if resource.ends_with(".waitForTaskToken") => {
            crate::intrinsics::apply_named(crate::intrinsics::Func::Uuid, vec![])
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
        }
        _ => None,
    };
    let ctx = match &opts.context {
        Some(c) => Val::from(c),
        None => ex.context_object(
            st,
            sc.entered_at,
            opts.retrier_retry_count,
            &Frame::default(),
            token.as_deref(),
        ),
    };
    let states = if jsonata {
        states_obj(&raw, None, None, st.uses_context.then(|| ctx.clone()))
    } else {
        Val::Null
    };
    let (eff, payload) = if jsonata {
        let p = match &st.arguments {
            Some(t) => crate::limits::check(&st.name, io::jeval(t, &states, vars, "Arguments")?)?,
            None => raw.clone(),
        };
        insp.after_arguments = Some(p.to_json());
        (raw.clone(), p)
    } else {
        let eff = io::io_path(&st.input_path, &raw, &ctx, vars)?.into_owned();
        insp.after_input_path = Some(eff.to_json());
        let p = match &st.parameters {
            Some(t) => crate::limits::check(&st.name, io::template(t, &eff, &ctx, vars)?)?,
            None => eff.clone(),
        };
        insp.after_parameters = Some(p.to_json());
        (eff, p)
    };
    let invoked: Result<Val, ExecError> = match &st.kind {
        Kind::Task {
            resource,
            timeout,
            heartbeat,
        } => {
            let t = ex.dyn_u64(
                timeout.as_ref(),
                &eff,
                &ctx,
                vars,
                &states,
                "TimeoutSeconds",
            )?;
            let h = ex.dyn_u64(
                heartbeat.as_ref(),
                &eff,
                &ctx,
                vars,
                &states,
                "HeartbeatSeconds",
            )?;
            match &opts.mock {
                Some(m) => mocked(m, &st.name),
                None => {
                    let mut prev = ENTERED_EVENT_ID;
                    ex.invoke_task(
                        st,
                        resource,
                        payload,
                        token,
                        t,
                        h,
                        opts.retrier_retry_count,
                        &mut prev,
                    )
                    .await
                }
            }
        }
        // `check_request` made sure Map/Parallel come with a mock.
        _ => match &opts.mock {
            Some(m) => mocked(m, &st.name),
            None => Err(ExecError::runtime("internal: Map/Parallel without a mock")),
        },
    };
    match invoked {
        Ok(result) => {
            insp.result = Some(result.to_json());
            if jsonata {
                let states = states_obj(
                    &raw,
                    Some(&result),
                    None,
                    st.uses_context.then(|| ctx.clone()),
                );
                let out = match &st.output {
                    Some(t) => {
                        crate::limits::check(&st.name, io::jeval(t, &states, vars, "Output")?)?
                    }
                    None => result,
                };
                if let Some(m) = match &st.assign {
                    Some(a) => io::assign_jsonata(a, &states, vars)?,
                    None => None,
                } {
                    io::commit(vars, m, false);
                }
                Ok(succeeded(st, out))
            } else {
                let result = match &st.result_selector {
                    Some(t) => {
                        let r = io::template(t, &result, &ctx, vars)?;
                        insp.after_result_selector = Some(r.to_json());
                        r
                    }
                    None => result,
                };
                // The interpreter's `jsonpath_tail`, step by step.
                let assigned = match &st.assign {
                    Some(a) => io::assign_jsonpath(a, &result, &ctx, vars)?,
                    None => None,
                };
                let grows =
                    matches!(st.result_path, ResultPath::Path(_)) || st.result_selector.is_some();
                let merged = io::result_path(&st.result_path, raw, result)?;
                insp.after_result_path = Some(merged.to_json());
                let out = io::output(&st.output_path, merged, &ctx, vars)?;
                if grows {
                    crate::limits::check_ref(&st.name, &out)?;
                }
                if let Some(m) = assigned {
                    io::commit(vars, m, false);
                }
                Ok(succeeded(st, out))
            }
        }
        Err(e) => {
            let e = sc.decorate(e);
            if let Some(i) = st
                .retry
                .iter()
                .position(|r| crate::retry::matches(&r.error_equals, &e.error))
            {
                let r = &st.retry[i];
                if opts.retrier_retry_count < r.max_attempts && e.error != RUNTIME {
                    let ms = r.delay_millis(opts.retrier_retry_count).max(0);
                    insp.error_details = Some(ErrorDetails {
                        retry_index: Some(i),
                        retry_backoff_interval_seconds: Some(((ms + 500) / 1000) as u64),
                        catch_index: None,
                    });
                    return Ok(Done {
                        status: TestStatus::Retriable,
                        output: None,
                        error: Some(e),
                        next: None,
                    });
                }
            }
            let Some((ci, c)) = st
                .catch
                .iter()
                .enumerate()
                .find(|(_, c)| crate::retry::matches(&c.error_equals, &e.error))
            else {
                return Ok(Done::failed(e));
            };
            let errout = io::error_output(&e);
            let (out, assigned) = io::catcher_output(st, c, jsonata, raw, errout, &ctx, vars)?;
            if !jsonata {
                insp.after_result_path = Some(out.to_json());
            }
            if let Some(m) = assigned {
                io::commit(vars, m, false);
            }
            insp.error_details = Some(ErrorDetails {
                catch_index: Some(ci),
                ..ErrorDetails::default()
            });
            Ok(Done {
                status: TestStatus::CaughtError,
                output: Some(out),
                error: Some(e),
                next: Some(c.next),
            })
        }
    }
}

fn succeeded(st: &State, out: Val) -> Done {
    Done {
        status: TestStatus::Succeeded,
        output: Some(out),
        error: None,
        next: st.next,
    }
}

/// The mocked outcome, with the payload limit a real result would meet.
fn mocked(m: &TestMock, state: &str) -> Result<Val, ExecError> {
    match m {
        TestMock::Result(v) => {
            let v = Val::from(v);
            if crate::limits::too_large(&v) {
                Err(crate::limits::data_limit_error(state))
            } else {
                Ok(v)
            }
        }
        TestMock::Error(f) => Err(ExecError {
            error: f.error.clone(),
            cause: Some(f.cause.clone().unwrap_or_default()),
        }),
    }
}
