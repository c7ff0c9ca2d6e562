//! TestState through the public API: every state type, every inspection
//! level, mocks, Retry (RETRIABLE) and Catch (CAUGHT_ERROR), request checks,
//! and a differential check against real executions of the same state.

use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use wsflow_asl::test_state::{
    InspectionLevel, TestMock, TestStateDefinition, TestStateError, TestStateOptions,
    TestStateParseError, TestStateResult, TestStatus, test_state,
};
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, ExecutionStatus, StateMachine, TaskCall, TaskFailure,
    TaskInvoker,
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
        self.sleeps
            .lock()
            .unwrap()
            .push(deadline - self.now_millis());
        self.now.fetch_max(deadline, Ordering::SeqCst);
        Box::pin(async {})
    }
}

/// Answers with a closure and records calls.
struct Tasks<F>(F, Mutex<Vec<TaskCall>>);

impl<F: Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync> TaskInvoker for Tasks<F> {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let r = (self.0)(&call);
        self.1.lock().unwrap().push(call);
        Box::pin(async move { r })
    }
}

fn tasks<F: Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync>(f: F) -> Tasks<F> {
    Tasks(f, Mutex::new(vec![]))
}

/// An invoker that must not be reached (mocked or non-task states).
fn unreachable_tasks() -> Tasks<impl Fn(&TaskCall) -> Result<Value, TaskFailure> + Send + Sync> {
    tasks(|c: &TaskCall| panic!("task invoked: {c:?}"))
}

fn opts(level: InspectionLevel) -> TestStateOptions {
    TestStateOptions {
        inspection_level: level,
        execution: ExecutionContext::local("m", "e", 0),
        ..TestStateOptions::default()
    }
}

async fn run_with(
    def: Value,
    input: Value,
    o: &TestStateOptions,
    t: &dyn TaskInvoker,
) -> TestStateResult {
    let d = TestStateDefinition::parse(&def.to_string(), None).expect("valid state");
    test_state(&d, input, o, t, &FakeClock::default())
        .await
        .expect("accepted request")
}

/// Shorthand: the inspection field `k` of the wire form, decoded.
fn insp(r: &TestStateResult, k: &str) -> Option<Value> {
    let j = r.to_json();
    j["inspectionData"][k]
        .as_str()
        .map(|s| serde_json::from_str(s).expect("inspection fields are JSON text"))
}

#[tokio::test]
async fn pass_with_parameters_reports_each_step_at_debug_and_nothing_at_info() {
    let def = json!({
        "Type": "Pass",
        "InputPath": "$.data",
        "Parameters": {"v.$": "$.x", "k": 1},
        "ResultPath": "$.out",
        "OutputPath": "$.out",
        "Next": "After"
    });
    let input = json!({"data": {"x": 7}, "other": true});
    let r = run_with(
        def.clone(),
        input.clone(),
        &opts(InspectionLevel::Debug),
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.status, TestStatus::Succeeded);
    assert_eq!(r.next_state.as_deref(), Some("After"));
    assert_eq!(r.output, Some(json!({"v": 7, "k": 1})));
    assert_eq!(insp(&r, "input"), Some(input.clone()));
    assert_eq!(insp(&r, "afterInputPath"), Some(json!({"x": 7})));
    assert_eq!(insp(&r, "afterParameters"), Some(json!({"v": 7, "k": 1})));
    assert_eq!(insp(&r, "result"), Some(json!({"v": 7, "k": 1})));
    assert_eq!(
        insp(&r, "afterResultPath"),
        Some(json!({"data": {"x": 7}, "other": true, "out": {"v": 7, "k": 1}}))
    );
    let wire = r.to_json();
    assert_eq!(wire["status"], "SUCCEEDED");
    assert_eq!(wire["output"], r#"{"v":7,"k":1}"#);

    let info = run_with(
        def,
        input,
        &opts(InspectionLevel::Info),
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(info.output, r.output);
    assert!(info.inspection_data.is_none());
    assert!(info.to_json().get("inspectionData").is_none());
}

#[tokio::test]
async fn trace_level_reports_like_debug() {
    let def = json!({"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.r", "End": true});
    let r = run_with(
        def,
        json!({"b": 2}),
        &opts(InspectionLevel::Trace),
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.next_state, None);
    assert_eq!(r.output, Some(json!({"b": 2, "r": {"a": 1}})));
    assert_eq!(insp(&r, "result"), Some(json!({"a": 1})));
    assert_eq!(
        insp(&r, "afterResultPath"),
        Some(json!({"b": 2, "r": {"a": 1}}))
    );
}

#[tokio::test]
async fn jsonata_pass_uses_given_variables_and_reports_assignments() {
    let def = json!({
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Output": "{% $states.input.n + $base %}",
        "Assign": {"seen": "{% $states.input.n %}"},
        "End": true
    });
    let mut o = opts(InspectionLevel::Debug);
    o.variables.insert("base".into(), json!(100));
    let r = run_with(def, json!({"n": 5}), &o, &unreachable_tasks()).await;
    assert_eq!(r.status, TestStatus::Succeeded);
    assert_eq!(r.output, Some(json!(105)));
    assert_eq!(insp(&r, "variables"), Some(json!({"base": 100, "seen": 5})));
    assert_eq!(insp(&r, "afterInputPath"), None, "JSONPath-only field");
}

#[tokio::test]
async fn task_calls_the_real_invoker_and_processes_the_result() {
    let t = tasks(|c: &TaskCall| Ok(json!({"echo": c.payload.clone(), "meta": 1})));
    let def = json!({
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Echo",
        "Parameters": {"id.$": "$.id"},
        "ResultSelector": {"got.$": "$.echo"},
        "ResultPath": "$.res",
        "Next": "Done"
    });
    let r = run_with(def, json!({"id": "a1"}), &opts(InspectionLevel::Debug), &t).await;
    assert_eq!(r.status, TestStatus::Succeeded, "{r:?}");
    assert_eq!(r.next_state.as_deref(), Some("Done"));
    assert_eq!(
        r.output,
        Some(json!({"id": "a1", "res": {"got": {"id": "a1"}}}))
    );
    assert_eq!(insp(&r, "afterParameters"), Some(json!({"id": "a1"})));
    assert_eq!(
        insp(&r, "result"),
        Some(json!({"echo": {"id": "a1"}, "meta": 1}))
    );
    assert_eq!(
        insp(&r, "afterResultSelector"),
        Some(json!({"got": {"id": "a1"}}))
    );
    let calls = t.1.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].payload, json!({"id": "a1"}));
    assert_eq!(calls[0].state_name, "TestState");
}

#[tokio::test]
async fn mocked_result_replaces_the_invocation() {
    let def = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Arguments": {"TableName": "{% $states.input.t %}"},
        "QueryLanguage": "JSONata",
        "Output": "{% $states.result.Item %}",
        "End": true
    });
    let mut o = opts(InspectionLevel::Debug);
    o.mock = Some(TestMock::Result(json!({"Item": {"k": {"S": "v"}}})));
    let r = run_with(def, json!({"t": "T"}), &o, &unreachable_tasks()).await;
    assert_eq!(r.status, TestStatus::Succeeded);
    assert_eq!(r.output, Some(json!({"k": {"S": "v"}})));
    assert_eq!(insp(&r, "afterArguments"), Some(json!({"TableName": "T"})));
}

fn retry_catch_state() -> Value {
    json!({
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
        "Retry": [
            {"ErrorEquals": ["Other"], "MaxAttempts": 5},
            {"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}
        ],
        "Catch": [
            {"ErrorEquals": ["Nope"], "Next": "Never"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Recover"}
        ],
        "Next": "Done"
    })
}

#[tokio::test]
async fn mocked_error_is_retriable_until_the_retrier_is_exhausted_then_caught() {
    let mut o = opts(InspectionLevel::Debug);
    o.mock = Some(TestMock::Error(TaskFailure::new("Flaky", "try later")));
    let r = run_with(
        retry_catch_state(),
        json!({"a": 1}),
        &o,
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.status, TestStatus::Retriable);
    assert_eq!(r.error.as_deref(), Some("Flaky"));
    assert_eq!(r.cause.as_deref(), Some("try later"));
    assert_eq!(r.next_state, None);
    assert_eq!(r.output, None);
    let d = r.to_json()["inspectionData"]["errorDetails"].clone();
    assert_eq!(
        d,
        json!({"retryIndex": 1, "retryBackoffIntervalSeconds": 2})
    );

    // Second retry: back-off 2 * 3.
    o.retrier_retry_count = 1;
    let r = run_with(
        retry_catch_state(),
        json!({"a": 1}),
        &o,
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.status, TestStatus::Retriable);
    assert_eq!(
        r.to_json()["inspectionData"]["errorDetails"]["retryBackoffIntervalSeconds"],
        6
    );

    // Retrier exhausted: the States.ALL catcher (index 1) takes it.
    o.retrier_retry_count = 2;
    let r = run_with(
        retry_catch_state(),
        json!({"a": 1}),
        &o,
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.status, TestStatus::CaughtError);
    assert_eq!(r.next_state.as_deref(), Some("Recover"));
    assert_eq!(r.error.as_deref(), Some("Flaky"));
    assert_eq!(
        r.output,
        Some(json!({"a": 1, "err": {"Error": "Flaky", "Cause": "try later"}}))
    );
    assert_eq!(
        r.to_json()["inspectionData"]["errorDetails"],
        json!({"catchIndex": 1})
    );
}

#[tokio::test]
async fn real_task_failure_without_handlers_fails() {
    let t = tasks(|_: &TaskCall| Err(TaskFailure::new("CustomError", "boom")));
    let def = json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true});
    let r = run_with(def, json!({}), &opts(InspectionLevel::Info), &t).await;
    assert_eq!(r.status, TestStatus::Failed);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("CustomError"), Some("boom"))
    );
    assert_eq!((r.output, r.next_state), (None, None));
    assert_eq!(t.1.lock().unwrap().len(), 1, "one attempt, no retries");
}

#[tokio::test]
async fn input_processing_errors_fail_with_the_state_prefix() {
    let mut o = opts(InspectionLevel::Debug);
    o.mock = Some(TestMock::Result(json!(1)));
    let def = json!({
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
        "InputPath": "$.missing",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
        "End": true
    });
    let r = run_with(def, json!({}), &o, &unreachable_tasks()).await;
    assert_eq!(r.status, TestStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    let cause = r.cause.unwrap_or_default();
    assert!(
        cause.starts_with("An error occurred while executing the state 'TestState'"),
        "{cause}"
    );
}

#[tokio::test]
async fn choice_reports_the_branch_target() {
    let def = json!({
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"Variable": "$.n", "NumericLessThan": 0, "Next": "Negative"}
        ],
        "Default": "Small"
    });
    for (n, want) in [(11, "Big"), (-1, "Negative"), (3, "Small")] {
        let r = run_with(
            def.clone(),
            json!({"n": n}),
            &opts(InspectionLevel::Debug),
            &unreachable_tasks(),
        )
        .await;
        assert_eq!(r.status, TestStatus::Succeeded);
        assert_eq!(r.next_state.as_deref(), Some(want), "n = {n}");
        assert_eq!(r.output, Some(json!({"n": n})));
        assert_eq!(insp(&r, "afterInputPath"), Some(json!({"n": n})));
    }
    let no_default = json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "IsPresent": false, "Next": "X"}]});
    let r = run_with(
        no_default,
        json!({"n": 1}),
        &opts(InspectionLevel::Info),
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.status, TestStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.NoChoiceMatched"));
}

#[tokio::test]
async fn wait_is_evaluated_without_waiting() {
    let clock = FakeClock::default();
    let d = TestStateDefinition::parse(
        &json!({"Type": "Wait", "Seconds": 3600, "OutputPath": "$.keep", "Next": "N"}).to_string(),
        None,
    )
    .unwrap();
    let o = opts(InspectionLevel::Info);
    let r = test_state(&d, json!({"keep": [1]}), &o, &unreachable_tasks(), &clock)
        .await
        .unwrap();
    assert_eq!(r.status, TestStatus::Succeeded);
    assert_eq!(r.output, Some(json!([1])));
    assert_eq!(r.next_state.as_deref(), Some("N"));
    assert!(
        clock.sleeps.lock().unwrap().is_empty(),
        "the clock never slept"
    );

    let bad = json!({"Type": "Wait", "SecondsPath": "$.s", "End": true});
    let r = run_with(bad, json!({"s": "soon"}), &o, &unreachable_tasks()).await;
    assert_eq!(r.status, TestStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
}

#[tokio::test]
async fn succeed_and_fail() {
    let o = opts(InspectionLevel::Debug);
    let r = run_with(
        json!({"Type": "Succeed", "InputPath": "$.a"}),
        json!({"a": {"b": 1}}),
        &o,
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.status, TestStatus::Succeeded);
    assert_eq!(
        (r.output.clone(), r.next_state.clone()),
        (Some(json!({"b": 1})), None)
    );
    assert_eq!(insp(&r, "afterInputPath"), Some(json!({"b": 1})));

    let r = run_with(
        json!({"Type": "Fail", "ErrorPath": "$.e", "Cause": "because"}),
        json!({"e": "MyError"}),
        &o,
        &unreachable_tasks(),
    )
    .await;
    assert_eq!(r.status, TestStatus::Failed);
    assert_eq!(
        (r.error.as_deref(), r.cause.as_deref()),
        (Some("MyError"), Some("because"))
    );
    assert_eq!(r.output, None);
}

#[tokio::test]
async fn parallel_and_map_need_a_mock_and_use_it_as_their_result() {
    let par = json!({
        "Type": "Parallel",
        "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}],
        "ResultSelector": {"first.$": "$[0]"},
        "End": true
    });
    let map = json!({
        "Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
        "ResultPath": "$.all",
        "End": true
    });
    let clock = FakeClock::default();
    for def in [&par, &map] {
        let d = TestStateDefinition::parse(&def.to_string(), None).unwrap();
        let err = test_state(
            &d,
            json!({}),
            &opts(InspectionLevel::Info),
            &unreachable_tasks(),
            &clock,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, TestStateError::NeedsMock(_)), "{err:?}");
    }
    let mut o = opts(InspectionLevel::Debug);
    o.mock = Some(TestMock::Result(json!([{"x": 1}, {"x": 2}])));
    let r = run_with(par, json!({}), &o, &unreachable_tasks()).await;
    assert_eq!(r.output, Some(json!({"first": {"x": 1}})));
    let r = run_with(map, json!({"in": 0}), &o, &unreachable_tasks()).await;
    assert_eq!(
        r.output,
        Some(json!({"in": 0, "all": [{"x": 1}, {"x": 2}]}))
    );
}

#[tokio::test]
async fn request_checks() {
    let clock = FakeClock::default();
    let pass = TestStateDefinition::parse(r#"{"Type":"Pass","End":true}"#, None).unwrap();
    let mut o = opts(InspectionLevel::Info);
    o.mock = Some(TestMock::Result(json!(1)));
    let e = test_state(&pass, json!({}), &o, &unreachable_tasks(), &clock)
        .await
        .unwrap_err();
    assert_eq!(e, TestStateError::MockNotAllowed);

    let task = TestStateDefinition::parse(
        r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","End":true}"#,
        None,
    )
    .unwrap();
    let mut o = opts(InspectionLevel::Info);
    o.context = Some(json!({}));
    let e = test_state(&task, json!({}), &o, &unreachable_tasks(), &clock)
        .await
        .unwrap_err();
    assert_eq!(e, TestStateError::ContextWithoutMock);
    o.context = None;
    let e = test_state(&task, json!({}), &o, &unreachable_tasks(), &clock)
        .await
        .unwrap_err();
    assert!(matches!(e, TestStateError::NeedsMock(_)));

    for bad in [
        "{",
        r#"{"Type":"Nope","End":true}"#,
        r#"{"Type":"Pass"}"#,
        r#"[1]"#,
    ] {
        assert!(
            matches!(
                TestStateDefinition::parse(bad, None),
                Err(TestStateParseError::Definition(_))
            ),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_state_of_a_whole_machine_and_a_supplied_context() {
    let machine = json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
                  "Parameters": {"exec.$": "$$.Execution.Id"}, "ResultPath": null, "Next": "C"},
            "C": {"Type": "Succeed"}
        }
    })
    .to_string();
    assert!(matches!(
        TestStateDefinition::parse(&machine, Some("Z")),
        Err(TestStateParseError::Request(TestStateError::NoSuchState(_)))
    ));
    let d = TestStateDefinition::parse(&machine, Some("B")).unwrap();
    assert_eq!(d.state().name, "B");
    let mut o = opts(InspectionLevel::Debug);
    o.mock = Some(TestMock::Result(json!("ignored")));
    o.context = Some(json!({"Execution": {"Id": "arn:x"}}));
    let r = test_state(
        &d,
        json!({"k": 1}),
        &o,
        &unreachable_tasks(),
        &FakeClock::default(),
    )
    .await
    .unwrap();
    assert_eq!(r.next_state.as_deref(), Some("C"));
    assert_eq!(r.output, Some(json!({"k": 1})));
    assert_eq!(insp(&r, "afterParameters"), Some(json!({"exec": "arn:x"})));
    // Without stateName a whole machine tests its StartAt state.
    let d = TestStateDefinition::parse(&machine, None).unwrap();
    assert_eq!(d.state().name, "A");
}

/// TestState and a one-state execution of the same state agree.
#[tokio::test]
async fn agrees_with_real_executions() {
    let t = tasks(|c: &TaskCall| Ok(json!({"p": c.payload.clone()})));
    let cases = [
        (
            json!({"Type": "Pass", "Parameters": {"a.$": "States.ArrayLength($.l)"}, "ResultPath": "$.r"}),
            json!({"l": [1, 2]}),
        ),
        (
            json!({"Type": "Pass", "Result": {"z": 1}, "ResultPath": "$.r", "OutputPath": "$.r"}),
            json!({}),
        ),
        (json!({"Type": "Pass", "InputPath": "$.nope"}), json!({})),
        (
            json!({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $count($states.input.l) %}"}),
            json!({"l": [1, 2, 3]}),
        ),
        (
            json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "Parameters": {"x.$": "$.x"}, "ResultSelector": {"y.$": "$.p.x"}, "ResultPath": "$.out"}),
            json!({"x": 4}),
        ),
        (
            json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "ResultPath": "$.x.y.z"}),
            json!({"x": 1}),
        ),
        (
            json!({"Type": "Wait", "Seconds": 1, "OutputPath": "$.a"}),
            json!({"a": 2}),
        ),
    ];
    for (state, input) in cases {
        let mut full = state.clone();
        full["End"] = json!(true);
        let machine = StateMachine::parse(
            &json!({"StartAt": "TestState", "States": {"TestState": full.clone()}}).to_string(),
        )
        .unwrap();
        let exec = wsflow_asl::run_execution(
            &machine,
            input.clone(),
            ExecutionContext::local("m", "e", 0),
            &t,
            &FakeClock::default(),
            None,
        )
        .await;
        let r = run_with(full, input, &opts(InspectionLevel::Info), &t).await;
        match exec.status {
            ExecutionStatus::Succeeded => {
                assert_eq!(r.status, TestStatus::Succeeded, "{state}");
                assert_eq!(r.output, exec.output, "{state}");
            }
            _ => {
                assert_eq!(r.status, TestStatus::Failed, "{state}");
                assert_eq!(r.error, exec.error, "{state}");
                assert_eq!(r.cause, exec.cause, "{state}");
            }
        }
    }
}
