//! Behaviour tests of the engine through its public API: retries and their
//! back-off, timeouts racing the clock, aborting by dropping the future, task
//! tokens, history ids, Map/Parallel failure rules, the MockConfigFile invoker.

use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use wsflow_asl::mock::MockConfigFile;
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, ExecutionStatus, StateMachine, TaskCall, TaskFailure,
    TaskInvoker, VecHistory,
};

/// Jumps to deadlines at once and records every sleep.
#[derive(Default)]
struct FakeClock {
    now: AtomicI64,
    sleeps: Mutex<Vec<i64>>,
}

impl Clock for FakeClock {
    fn now_millis(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn sleep_until<'a>(&'a self, deadline: i64) -> BoxFuture<'a, ()> {
        let now = self.now_millis();
        self.sleeps.lock().unwrap().push(deadline - now);
        self.now.fetch_max(deadline, Ordering::SeqCst);
        Box::pin(async {})
    }
}

/// Answers with a closure and records calls.
struct FnTasks<F>(F, Mutex<Vec<TaskCall>>);

impl<F: Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync> TaskInvoker for FnTasks<F> {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let r = (self.0)(&call);
        self.1.lock().unwrap().push(call);
        Box::pin(async move { r })
    }
}

fn invoker<F: Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync>(f: F) -> FnTasks<F> {
    FnTasks(f, Mutex::new(vec![]))
}

async fn run(
    def: Value,
    input: Value,
    tasks: &dyn TaskInvoker,
    clock: &FakeClock,
) -> wsflow_asl::ExecutionOutcome {
    let m = StateMachine::parse(&def.to_string()).expect("valid definition");
    let ctx = ExecutionContext::local("m", "e", 0);
    wsflow_asl::run_execution(&m, input, ctx, tasks, clock, None).await
}

#[tokio::test]
async fn retry_backoff_then_catch() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2, "MaxDelaySeconds": 5}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "C"}], "End": true},
        "C": {"Type": "Pass", "End": true}}});
    let tasks = invoker(|_| Err(TaskFailure::new("Boom", "bad")));
    let clock = FakeClock::default();
    let out = run(def, json!({"a": 1}), &tasks, &clock).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    assert_eq!(
        out.output,
        Some(json!({"a": 1, "err": {"Error": "Boom", "Cause": "bad"}}))
    );
    assert_eq!(*clock.sleeps.lock().unwrap(), vec![2000, 5000]);
    let attempts: Vec<u32> = tasks.1.lock().unwrap().iter().map(|c| c.attempt).collect();
    assert_eq!(attempts, vec![0, 1, 2]);
}

struct Never(Arc<AtomicBool>);

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn never(flag: Arc<AtomicBool>) -> BoxFuture<'static, Result<Value, TaskFailure>> {
    let flag = DropFlag(flag);
    Box::pin(async move {
        let _keep = flag;
        futures::future::pending::<()>().await;
        Ok(Value::Null)
    })
}

impl TaskInvoker for Never {
    fn invoke<'a>(&'a self, _call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        never(self.0.clone())
    }
}

#[tokio::test]
async fn timeout_seconds_races_the_task() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 7, "End": true}}});
    let dropped = Arc::new(AtomicBool::new(false));
    let clock = FakeClock::default();
    let out = run(def, json!({}), &Never(dropped.clone()), &clock).await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the timed-out task future is dropped"
    );
    assert_eq!(*clock.sleeps.lock().unwrap(), vec![7000]);
}

#[tokio::test]
async fn dropping_the_run_future_aborts_the_task() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true}}});
    let m = StateMachine::parse(&def.to_string()).unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let never = Never(dropped.clone());
    let clock = FakeClock::default();
    let fut = wsflow_asl::run_execution(
        &m,
        json!({}),
        ExecutionContext::local("m", "e", 0),
        &never,
        &clock,
        None,
    );
    let r = tokio::time::timeout(std::time::Duration::from_millis(50), fut).await;
    assert!(
        r.is_err(),
        "a pending callback task keeps the execution running"
    );
    assert!(
        dropped.load(Ordering::SeqCst),
        "dropping the execution drops the task"
    );
}

#[tokio::test]
async fn task_token_reaches_payload_and_call() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}});
    let tasks =
        invoker(|c| Ok(json!({"echo": c.payload["token"].clone(), "tok": c.task_token.clone()})));
    let out = run(def, json!({}), &tasks, &FakeClock::default()).await;
    let o = out.output.unwrap();
    assert!(o["echo"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(o["echo"], o["tok"]);
}

#[tokio::test]
async fn history_ids_chain() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}});
    let m = StateMachine::parse(&def.to_string()).unwrap();
    let h = VecHistory::new();
    let clock = FakeClock::default();
    let out = wsflow_asl::run_execution(
        &m,
        json!({"x": 1}),
        ExecutionContext::local("m", "e", 0),
        &invoker(|_| Ok(Value::Null)),
        &clock,
        Some(&h),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Succeeded);
    let ev = h.events();
    let types: Vec<&str> = ev.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1);
        assert_eq!(e.previous_event_id, i as u64);
    }
    let j = ev[1].to_json();
    assert_eq!(j["stateEnteredEventDetails"]["name"], "A");
    assert_eq!(j["stateEnteredEventDetails"]["input"], "{\"x\":1}");
}

#[tokio::test]
async fn map_tolerates_failures_and_parallel_fails_fast() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 1, "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}},
        "End": true}}});
    let tasks = invoker(|c| {
        if c.payload == json!(2) {
            Err(TaskFailure::new("Odd", "two"))
        } else {
            Ok(json!({"v": c.payload.clone()}))
        }
    });
    let out = run(def.clone(), json!([1, 2, 3]), &tasks, &FakeClock::default()).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    let out = run(def, json!([2, 2]), &tasks, &FakeClock::default()).await;
    assert_eq!(
        out.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );

    let par = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}]}}});
    let out = run(par, json!({}), &tasks, &FakeClock::default()).await;
    assert_eq!(
        (out.error.as_deref(), out.cause.as_deref()),
        (Some("E"), Some("C"))
    );
}

#[tokio::test]
async fn mock_config_file_ranges() {
    let cfg = MockConfigFile::parse(
        r#"{"StateMachines": {"M": {"TestCases": {"T": {"Call": "R"}}}},
            "MockedResponses": {"R": {"0": {"Throw": {"Error": "E1", "Cause": "c"}}, "1-2": {"Return": {"Payload": {"ok": true}, "StatusCode": 200}}}}}"#,
    )
    .unwrap();
    let inv = cfg.invoker("M", "T").unwrap();
    assert!(cfg.invoker("M", "Nope").is_err());
    let call = |attempt| TaskCall {
        state_name: "Call".into(),
        resource: "arn:aws:lambda:us-east-1:1:function:f".into(),
        payload: json!({}),
        task_token: None,
        timeout_seconds: None,
        heartbeat_seconds: None,
        attempt,
    };
    assert_eq!(inv.invoke(call(0)).await.unwrap_err().error, "E1");
    assert_eq!(inv.invoke(call(1)).await.unwrap(), json!({"ok": true}));
    assert_eq!(inv.invoke(call(2)).await.unwrap(), json!({"ok": true}));
}

#[test]
fn invalid_definitions_never_panic() {
    for d in [
        "",
        "[]",
        "{}",
        r#"{"StartAt":1}"#,
        r#"{"StartAt":"A","States":{"A":{"Type":"Nope"}}}"#,
        r#"{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","Foo":1,"Next":"A"}]}}}"#,
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Format("},"End":true}}}"#,
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Succeed"}}}"#,
    ] {
        assert!(StateMachine::parse(d).is_err(), "{d}");
        assert!(!wsflow_asl::validate(d).is_empty(), "{d}");
    }
}

/// A callback task that never completes but whose invoker reports heartbeats until t=25s.
struct Heartbeats(Arc<AtomicBool>);

impl TaskInvoker for Heartbeats {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let _ = call;
        never(self.0.clone())
    }
    fn last_heartbeat_millis(&self, _token: &str) -> Option<i64> {
        Some(25_000)
    }
}

#[tokio::test]
async fn heartbeats_extend_a_callback_task() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "HeartbeatSeconds": 10, "TimeoutSeconds": 100, "End": true}}});
    let clock = FakeClock::default();
    let out = run(
        def.clone(),
        json!({}),
        &Heartbeats(Arc::new(AtomicBool::new(false))),
        &clock,
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.HeartbeatTimeout"));
    // Heartbeat deadlines: 10s, then after the 25s heartbeat: 35s.
    assert_eq!(clock.now.load(Ordering::SeqCst), 35_000);
    let clock = FakeClock::default();
    let out = run(
        def,
        json!({}),
        &Never(Arc::new(AtomicBool::new(false))),
        &clock,
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert_eq!(clock.now.load(Ordering::SeqCst), 10_000);
}

/// The execution future must be `Send` so services can spawn it on a multi-threaded runtime.
#[test]
fn execution_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let m = StateMachine::parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#)
        .unwrap();
    let clock = FakeClock::default();
    let tasks = invoker(|_| Ok(Value::Null));
    let fut = wsflow_asl::run_execution(
        &m,
        json!({}),
        ExecutionContext::local("m", "e", 0),
        &tasks,
        &clock,
        None,
    );
    assert_send(&fut);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = rt.block_on(fut);
    assert_eq!(out.status, ExecutionStatus::Succeeded);
}

/// Asserts AWS's `States.DataLimitExceeded` failure naming `state`.
fn assert_data_limit(out: &wsflow_asl::ExecutionOutcome, state: &str) {
    assert_eq!(out.status, ExecutionStatus::Failed, "{out:?}");
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        out.cause.as_deref(),
        Some(
            format!(
                "The state/task '{state}' returned a result with a size exceeding the maximum number of bytes service limit."
            )
            .as_str()
        )
    );
}

fn no_tasks() -> FnTasks<impl Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync> {
    invoker(|_| Err(TaskFailure::new("States.TaskFailed", "no tasks here")))
}

#[tokio::test]
async fn map_aggregate_over_256_kib_is_data_limit_exceeded() {
    // 150 iterations each return the 2,000-byte string: ~300 KB aggregated,
    // though every iteration output and the execution input are small.
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.idx",
        "ItemSelector": {"s.$": "$.s"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let input = |n: usize| json!({"s": "x".repeat(2000), "idx": (0..n).collect::<Vec<_>>()});
    let out = run(def.clone(), input(150), &no_tasks(), &FakeClock::default()).await;
    assert_data_limit(&out, "M");
    // 100 iterations (~200 KB) fit.
    let out = run(def, input(100), &no_tasks(), &FakeClock::default()).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{out:?}");
    assert_eq!(out.output.unwrap().as_array().map(Vec::len), Some(100));
}

#[tokio::test]
async fn parallel_aggregate_over_256_kib_is_data_limit_exceeded() {
    let branch = |n: &str| json!({"StartAt": n, "States": {n: {"Type": "Pass", "End": true}}});
    let def = json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "Branches": [branch("B1"), branch("B2")], "End": true}}});
    let out = run(
        def,
        json!({"s": "y".repeat(140_000)}),
        &no_tasks(),
        &FakeClock::default(),
    )
    .await;
    assert_data_limit(&out, "Par");
}

#[tokio::test]
async fn parameters_built_by_intrinsics_over_256_kib_are_data_limit_exceeded() {
    let def = json!({"StartAt": "Big", "States": {"Big": {"Type": "Pass",
        "Parameters": {"f.$": "States.Format('{}{}{}', $.s, $.s, $.s)"}, "End": true}}});
    let out = run(
        def.clone(),
        json!({"s": "z".repeat(100_000)}),
        &no_tasks(),
        &FakeClock::default(),
    )
    .await;
    assert_data_limit(&out, "Big");
    // The same template on a small input is fine.
    let out = run(def, json!({"s": "z"}), &no_tasks(), &FakeClock::default()).await;
    assert_eq!(out.output, Some(json!({"f": "zzz"})));

    // States.ArrayRange builds 1,000 items per call; copies of it add up.
    let range = "States.ArrayRange(100000000, 100000999, 1)";
    let mut params = serde_json::Map::new();
    for i in 0..30 {
        params.insert(format!("r{i}.$"), json!(range));
    }
    let def = json!({"StartAt": "R", "States": {"R": {"Type": "Pass", "Parameters": params, "End": true}}});
    let out = run(def, json!({}), &no_tasks(), &FakeClock::default()).await;
    assert_data_limit(&out, "R");
}

#[tokio::test]
async fn task_parameters_and_result_path_merge_are_measured() {
    // Parameters copying the input three times: the task is never called.
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "Parameters": {"a.$": "$.s", "b.$": "$.s", "c.$": "$.s"}, "End": true}}});
    let tasks = no_tasks();
    let out = run(
        def,
        json!({"s": "q".repeat(100_000)}),
        &tasks,
        &FakeClock::default(),
    )
    .await;
    assert_data_limit(&out, "T");
    assert!(tasks.1.lock().unwrap().is_empty());

    // A 150 KB input plus a copy of itself under ResultPath.
    let def = json!({"StartAt": "Copy", "States": {"Copy": {"Type": "Pass", "ResultPath": "$.copy", "End": true}}});
    let out = run(
        def,
        json!({"s": "q".repeat(150_000)}),
        &no_tasks(),
        &FakeClock::default(),
    )
    .await;
    assert_data_limit(&out, "Copy");
}

#[tokio::test]
async fn jsonata_output_over_256_kib_is_data_limit_exceeded() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "J", "States": {"J": {"Type": "Pass",
        "Output": "{% $states.input.s & $states.input.s %}", "End": true}}});
    let out = run(
        def,
        json!({"s": "j".repeat(150_000)}),
        &no_tasks(),
        &FakeClock::default(),
    )
    .await;
    assert_data_limit(&out, "J");
}

#[tokio::test]
async fn execution_input_over_256_kib_fails_and_large_but_legal_documents_pass() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"s.$": "$.s"}, "Next": "B"},
        "B": {"Type": "Pass", "End": true}}});
    let out = run(
        def.clone(),
        json!({"s": "i".repeat(262_144)}),
        &no_tasks(),
        &FakeClock::default(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    // {"s":"…"} is 8 bytes around the string: 262,136 characters is exactly the limit.
    let s = "i".repeat(262_136);
    let out = run(def, json!({"s": s}), &no_tasks(), &FakeClock::default()).await;
    assert_eq!(out.status, ExecutionStatus::Succeeded, "{:?}", out.error);
    assert_eq!(out.output, Some(json!({"s": s})));
    assert_eq!(
        wsflow_asl::limits::execution_input_error(&"x".repeat(262_145)).as_deref(),
        Some(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144"
        )
    );
    assert_eq!(wsflow_asl::limits::execution_input_error("{}"), None);
}

/// Runs `def` on `input` (tasks answer `{"a": 1}`) and returns the failure's cause.
async fn failure_cause(def: Value, input: Value) -> String {
    let tasks = invoker(|_| Ok(json!({"a": 1})));
    let out = run(def, input, &tasks, &FakeClock::default()).await;
    assert_eq!(out.status, ExecutionStatus::Failed, "{out:?}");
    assert_eq!(out.error.as_deref(), Some("States.Runtime"), "{out:?}");
    out.cause.unwrap_or_default()
}

/// A one-state machine with `state` as `S` (the first state: entered at event #2).
fn one_state(state: Value) -> Value {
    let mut s = state;
    s["End"] = json!(true);
    json!({"StartAt": "S", "States": {"S": s}})
}

const LAMBDA: &str = "arn:aws:lambda:us-east-1:1:function:f";
const PREFIX: &str =
    "An error occurred while executing the state 'S' (entered at the event id #2). ";

#[tokio::test]
async fn path_fields_that_select_nothing_get_aws_texts() {
    // (state, input, cause after the state prefix). A missing last field is
    // "No results for path" (the whole path); a missing field that the path
    // descends through is "Missing property in path" (up to that field).
    let cases = [
        // Task OutputPath.
        (
            json!({"Type": "Task", "Resource": LAMBDA, "OutputPath": "$.no.such"}),
            json!({}),
            "Invalid path '$.no.such' : Missing property in path $['no']",
        ),
        (
            json!({"Type": "Task", "Resource": LAMBDA, "OutputPath": "$.b"}),
            json!({}),
            "Invalid path '$.b' : No results for path: $['b']",
        ),
        // Task InputPath, through an object and into a missing field.
        (
            json!({"Type": "Task", "Resource": LAMBDA, "InputPath": "$.x.y.z"}),
            json!({"x": {"q": 1}}),
            "Invalid path '$.x.y.z' : Missing property in path $['x']['y']",
        ),
        // TimeoutSecondsPath / HeartbeatSecondsPath selecting nothing.
        (
            json!({"Type": "Task", "Resource": LAMBDA, "TimeoutSecondsPath": "$.X"}),
            json!({}),
            "Invalid path '$.X' : No results for path: $['X']",
        ),
        (
            json!({"Type": "Task", "Resource": LAMBDA, "HeartbeatSecondsPath": "$.cfg.hb"}),
            json!({"cfg": {}}),
            "Invalid path '$.cfg.hb' : No results for path: $['cfg']['hb']",
        ),
        (
            json!({"Type": "Task", "Resource": LAMBDA, "TimeoutSecondsPath": "$.cfg.t"}),
            json!({}),
            "Invalid path '$.cfg.t' : Missing property in path $['cfg']",
        ),
        // Pass InputPath / OutputPath, index out of range, context object.
        (
            json!({"Type": "Pass", "InputPath": "$.l[3].v"}),
            json!({"l": [1]}),
            "Invalid path '$.l[3].v' : No results for path: $['l'][3]['v']",
        ),
        (
            json!({"Type": "Pass", "OutputPath": "$$.Execution.Nope.x"}),
            json!({}),
            "Invalid path '$$.Execution.Nope.x' : Missing property in path $['Execution']['Nope']",
        ),
        // Map ItemsPath and MaxConcurrencyPath.
        (
            json!({"Type": "Map", "ItemsPath": "$.data.items",
                   "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}),
            json!({}),
            "Invalid path '$.data.items' : Missing property in path $['data']",
        ),
        (
            json!({"Type": "Map", "MaxConcurrencyPath": "$.max",
                   "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}),
            json!([1, 2]),
            "Invalid path '$.max' : No results for path: $['max']",
        ),
        // Map ToleratedFailureCountPath and an ItemBatcher's MaxItemsPerBatchPath.
        (
            json!({"Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCountPath": "$.cfg.n",
                   "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}),
            json!({"items": [1], "cfg": {}}),
            "Invalid path '$.cfg.n' : No results for path: $['cfg']['n']",
        ),
        (
            json!({"Type": "Map", "ItemsPath": "$.items", "ItemBatcher": {"MaxItemsPerBatchPath": "$.b.max"},
                   "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}),
            json!({"items": [1, 2]}),
            "Invalid path '$.b.max' : Missing property in path $['b']",
        ),
        // Choice and Succeed InputPath.
        (
            json!({"Type": "Succeed", "InputPath": "$.a.b"}),
            json!({"a": {}}),
            "Invalid path '$.a.b' : No results for path: $['a']['b']",
        ),
    ];
    for (state, input, want) in cases {
        let mut def = one_state(state.clone());
        if state["Type"] == "Succeed" {
            def["States"]["S"].as_object_mut().unwrap().remove("End");
        }
        let cause = failure_cause(def, input).await;
        assert_eq!(cause, format!("{PREFIX}{want}"), "{state}");
    }
}

#[tokio::test]
async fn fields_with_their_own_texts_keep_them() {
    // Payload template keys, Wait and Choice word a missing path their own way.
    let cause = failure_cause(
        one_state(json!({"Type": "Pass", "Parameters": {"v.$": "$.no.such"}})),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(
        cause,
        format!(
            "{PREFIX}The JSONPath '$.no.such' specified for the field 'v.$' could not be found in the input '{{\"a\":1}}'"
        )
    );
    let cause = failure_cause(
        one_state(
            json!({"Type": "Task", "Resource": LAMBDA, "ResultSelector": {"r.$": "$.no.such"}}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        cause,
        format!(
            "{PREFIX}The JSONPath '$.no.such' specified for the field 'r.$' could not be found in the input '{{\"a\":1}}'"
        )
    );
    let cause = failure_cause(
        one_state(json!({"Type": "Map", "ItemSelector": {"v.$": "$.missing"},
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}})),
        json!([1]),
    )
    .await;
    assert_eq!(
        cause,
        format!(
            "{PREFIX}The JSONPath '$.missing' specified for the field 'v.$' could not be found in the input '[1]'"
        )
    );
    let cause = failure_cause(
        one_state(json!({"Type": "Wait", "SecondsPath": "$.w"})),
        json!({}),
    )
    .await;
    assert_eq!(
        cause,
        format!("{PREFIX}The SecondsPath parameter does not reference an input value: $.w")
    );
    // A value that is present but of the wrong kind keeps the field's text.
    let cause = failure_cause(
        one_state(json!({"Type": "Task", "Resource": LAMBDA, "TimeoutSecondsPath": "$.t"})),
        json!({"t": "soon"}),
    )
    .await;
    assert_eq!(
        cause,
        format!(
            "{PREFIX}The TimeoutSecondsPath parameter does not reference a valid positive integer: $.t"
        )
    );
}
