//! The Step Functions service end to end, in process, on a real redb file.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use wsflow_sfn::MachineType::{Express, Standard};

fn wait_lambda_pass(wait_seconds: u64) -> Value {
    json!({
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": wait_seconds, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": lambda_arn("Echo"), "ResultPath": "$.echoed", "Next": "Done"},
            "Done": {"Type": "Pass", "End": true}
        }
    })
}

fn long_wait() -> Value {
    json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}})
}

/// Parks on a task token nobody sends: RUNNING whatever the time scale.
fn parked() -> Value {
    json!({"StartAt": "Park", "States": {"Park": {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "Capture", "Payload": {"token.$": "$$.Task.Token"}},
        "End": true
    }}})
}

#[tokio::test]
async fn start_sync_execution_runs_a_wait_and_a_lambda() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(
        dir.path(),
        vec![spec("Sync", Express, wait_lambda_pass(10))],
        0.0,
    );
    let t = Instant::now();
    let r = call(
        &f.svc,
        "StartSyncExecution",
        json!({"stateMachineArn": machine_arn("Sync"), "name": "n1", "input": "{\"data\":\"123456\"}"}),
    )
    .await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "Wait 10 s at scale 0 took {:?}",
        t.elapsed()
    );
    assert_eq!(r["status"], "SUCCEEDED", "{r}");
    assert_eq!(r["name"], "n1");
    assert_eq!(r["stateMachineArn"], machine_arn("Sync"));
    assert!(
        r["executionArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:states:us-east-1:123456789012:express:Sync:n1:")
    );
    assert_eq!(r["input"], "{\"data\":\"123456\"}");
    assert_eq!(r["inputDetails"]["included"], true);
    let output: Value = serde_json::from_str(r["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output,
        json!({"data": "123456", "echoed": {"data": "123456"}})
    );
    assert!(r["stopDate"].as_f64().unwrap() >= r["startDate"].as_f64().unwrap());
    assert!(
        r["billingDetails"]["billedDurationInMilliseconds"]
            .as_i64()
            .unwrap()
            >= 100
    );
    assert_eq!(f.lambda.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn start_sync_execution_reports_a_function_error() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": lambda_arn("Fail"), "End": true}}});
    let f = open(dir.path(), vec![spec("F", Express, def)], 0.0);
    let r = call(
        &f.svc,
        "StartSyncExecution",
        json!({"stateMachineArn": machine_arn("F")}),
    )
    .await;
    assert_eq!(r["status"], "FAILED", "{r}");
    assert_eq!(r["error"], "CustomError");
    let cause: Value = serde_json::from_str(r["cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["errorMessage"], "boom");
    assert!(r.get("output").is_none());
}

#[tokio::test]
async fn start_sync_execution_rejects_standard_machines() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(
        dir.path(),
        vec![spec("S", Standard, wait_lambda_pass(0))],
        0.0,
    );
    let e = call_err(
        &f.svc,
        "StartSyncExecution",
        json!({"stateMachineArn": machine_arn("S")}),
    )
    .await;
    assert_eq!(e.code, "StateMachineTypeNotSupported");
    assert_eq!(e.status, 400);
}

#[tokio::test]
async fn standard_execution_runs_to_succeeded_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(
        dir.path(),
        vec![spec("Std", Standard, wait_lambda_pass(5))],
        0.0,
    );
    let started = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("Std"), "name": "e1", "input": "{\"k\":1}"}),
    )
    .await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:123456789012:execution:Std:e1"
    );
    assert!(started["startDate"].as_f64().unwrap() > 1.6e9);
    let d = wait_done(&f.svc, &arn).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(
        serde_json::from_str::<Value>(d["output"].as_str().unwrap()).unwrap()["echoed"],
        json!({"k": 1})
    );

    let h = call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
    let events = h["events"].as_array().unwrap();
    assert!(events.len() >= 8, "{h}");
    assert_eq!(events[0]["type"], "ExecutionStarted");
    assert_eq!(events[0]["id"], 1);
    assert_eq!(
        events[0]["executionStartedEventDetails"]["input"],
        "{\"k\":1}"
    );
    assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["id"], i as u64 + 1);
        assert!(e["timestamp"].as_f64().unwrap() > 1.6e9);
    }
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"WaitStateEntered"), "{types:?}");
    assert!(types.contains(&"LambdaFunctionSucceeded"), "{types:?}");

    // Reverse order, paged by 3, without execution data.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"executionArn": arn, "reverseOrder": true, "maxResults": 3, "includeExecutionData": false});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = call(&f.svc, "GetExecutionHistory", req).await;
        let evs = page["events"].as_array().unwrap();
        assert!(evs.len() <= 3);
        for e in evs {
            assert!(
                e.get("executionStartedEventDetails")
                    .is_none_or(|d| d.get("input").is_none()),
                "{e}"
            );
            seen.push(e["id"].as_u64().unwrap());
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    let expected: Vec<u64> = (1..=events.len() as u64).rev().collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn names_and_requests_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(
        dir.path(),
        vec![spec("V", Standard, wait_lambda_pass(0))],
        0.0,
    );
    let m = machine_arn("V");
    let cases = [
        (
            "StartExecution",
            json!({"stateMachineArn": m, "name": "has space"}),
            "InvalidName",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": m, "name": "a/b"}),
            "InvalidName",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": m, "name": "x".repeat(81)}),
            "InvalidName",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": m, "input": "{not json"}),
            "InvalidExecutionInput",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": m, "input": format!("\"{}\"", "x".repeat(262_143))}),
            "ValidationException",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": "not-an-arn"}),
            "InvalidArn",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Nope")}),
            "StateMachineDoesNotExist",
        ),
        ("StartExecution", json!({}), "ValidationException"),
        (
            "StartExecution",
            json!({"stateMachineArn": 5}),
            "SerializationException",
        ),
        (
            "DescribeExecution",
            json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:V:none"}),
            "ExecutionDoesNotExist",
        ),
        (
            "DescribeExecution",
            json!({"executionArn": m}),
            "InvalidArn",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": m, "maxResults": 1001}),
            "ValidationException",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": m, "statusFilter": "DONE"}),
            "ValidationException",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": m, "nextToken": "bogus"}),
            "InvalidToken",
        ),
        (
            "SendTaskSuccess",
            json!({"taskToken": "nope", "output": "{}"}),
            "InvalidToken",
        ),
        (
            "SendTaskSuccess",
            json!({"taskToken": "nope", "output": "{"}),
            "InvalidOutput",
        ),
        (
            "SendTaskHeartbeat",
            json!({"taskToken": "nope"}),
            "InvalidToken",
        ),
        ("NoSuchOperation", json!({}), "UnknownOperationException"),
    ];
    for (op, body, code) in cases {
        let e = call_err(&f.svc, op, body.clone()).await;
        assert_eq!(e.code, code, "{op} {body}: {e}");
        assert_eq!(e.status, 400);
    }
    let e = call_err(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": m, "name": "a b"}),
    )
    .await;
    assert_eq!(e.message, "Invalid Name: 'a b'");
}

#[tokio::test]
async fn start_execution_is_idempotent_while_running_and_stop_aborts() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(dir.path(), vec![spec("Long", Standard, long_wait())], 1.0);
    let m = machine_arn("Long");
    let a = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": m, "name": "same", "input": "{\"a\":1}"}),
    )
    .await;
    let b = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": m, "name": "same", "input": "{\"a\":1}"}),
    )
    .await;
    assert_eq!(
        a, b,
        "same name + input while RUNNING returns the same execution"
    );
    let e = call_err(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": m, "name": "same", "input": "{\"a\":2}"}),
    )
    .await;
    assert_eq!(e.code, "ExecutionAlreadyExists");
    let arn = a["executionArn"].as_str().unwrap();
    assert_eq!(
        call(&f.svc, "DescribeExecution", json!({"executionArn": arn})).await["status"],
        "RUNNING"
    );

    let s = call(
        &f.svc,
        "StopExecution",
        json!({"executionArn": arn, "error": "Bye", "cause": "test stop"}),
    )
    .await;
    assert!(s["stopDate"].as_f64().unwrap() > 1.6e9);
    let d = call(&f.svc, "DescribeExecution", json!({"executionArn": arn})).await;
    assert_eq!(d["status"], "ABORTED");
    assert_eq!(d["error"], "Bye");
    assert_eq!(d["cause"], "test stop");
    let h = call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
    let last = h["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "ExecutionAborted");
    assert_eq!(
        last["executionAbortedEventDetails"],
        json!({"error": "Bye", "cause": "test stop"})
    );
    assert_eq!(
        last["previousEventId"].as_u64().unwrap() + 1,
        last["id"].as_u64().unwrap()
    );

    let e = call_err(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": m, "name": "same", "input": "{\"a\":1}"}),
    )
    .await;
    assert_eq!(
        e.code, "ExecutionAlreadyExists",
        "closed executions keep their name"
    );
}

#[tokio::test]
async fn list_executions_pages_newest_first_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let quick = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let f = open(
        dir.path(),
        vec![spec("Q", Standard, quick), spec("Long", Standard, parked())],
        0.0,
    );
    let mut arns = Vec::new();
    for i in 0..5 {
        let r = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Q"), "name": format!("q{i}")}),
        )
        .await;
        let arn = r["executionArn"].as_str().unwrap().to_owned();
        wait_done(&f.svc, &arn).await;
        arns.push(arn);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = json!({"stateMachineArn": machine_arn("Q"), "maxResults": 2});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = call(&f.svc, "ListExecutions", req).await;
        pages += 1;
        for e in page["executions"].as_array().unwrap() {
            assert_eq!(e["status"], "SUCCEEDED");
            assert_eq!(e["stateMachineArn"], machine_arn("Q"));
            listed.push(e["executionArn"].as_str().unwrap().to_owned());
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    arns.reverse();
    assert_eq!(listed, arns, "newest first");
    let running = call(
        &f.svc,
        "ListExecutions",
        json!({"stateMachineArn": machine_arn("Q"), "statusFilter": "RUNNING"}),
    )
    .await;
    assert_eq!(running["executions"], json!([]));
    // Executions of another machine whose name shares a prefix are not listed.
    call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("Long"), "name": "l1"}),
    )
    .await;
    let all = call(
        &f.svc,
        "ListExecutions",
        json!({"stateMachineArn": machine_arn("Long")}),
    )
    .await;
    assert_eq!(all["executions"].as_array().unwrap().len(), 1);
    assert_eq!(all["executions"][0]["status"], "RUNNING");
    f.svc.shutdown().await;
}

#[tokio::test]
async fn wait_for_task_token_parks_until_send_task_success() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "Capture", "Payload": {"token.$": "$$.Task.Token"}},
                "Next": "Ask2"
            },
            "Ask2": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "Capture", "Payload": {"token.$": "$$.Task.Token"}},
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejected", "Next": "End"}],
                "End": true
            },
            "End": {"Type": "Pass", "End": true}
        }
    });
    let f = open(dir.path(), vec![spec("Cb", Standard, def)], 0.0);
    let r = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("Cb")}),
    )
    .await;
    let arn = r["executionArn"].as_str().unwrap().to_owned();
    let lambda = f.lambda.clone();
    let token = eventually(|| lambda.tokens.lock().unwrap().first().cloned()).await;
    assert_eq!(
        call(&f.svc, "DescribeExecution", json!({"executionArn": arn})).await["status"],
        "RUNNING"
    );
    call(&f.svc, "SendTaskHeartbeat", json!({"taskToken": token})).await;
    call(
        &f.svc,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{\"approved\":true}"}),
    )
    .await;
    let e = call_err(
        &f.svc,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{}"}),
    )
    .await;
    assert_eq!(e.code, "InvalidToken", "a token completes once");

    let token2 = eventually(|| lambda.tokens.lock().unwrap().get(1).cloned()).await;
    call(
        &f.svc,
        "SendTaskFailure",
        json!({"taskToken": token2, "error": "Rejected", "cause": "no"}),
    )
    .await;
    let d = wait_done(&f.svc, &arn).await;
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["approved"], true);
    assert_eq!(out["rejected"], json!({"Error": "Rejected", "Cause": "no"}));
}

#[tokio::test]
async fn heartbeats_keep_a_callback_task_alive_and_silence_times_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "HeartbeatSeconds": 1,
                "Parameters": {"FunctionName": "Capture", "Payload": {"token.$": "$$.Task.Token"}},
                "End": true
            }
        }
    });
    let f = open(dir.path(), vec![spec("Hb", Standard, def)], 1.0);
    let start = |name: &'static str| {
        let svc = f.svc.clone();
        async move {
            let r = call(
                &svc,
                "StartExecution",
                json!({"stateMachineArn": machine_arn("Hb"), "name": name}),
            )
            .await;
            r["executionArn"].as_str().unwrap().to_owned()
        }
    };

    // Heartbeats every 300 ms for 2.5 s (2.5 heartbeat windows): still alive.
    let alive = start("alive").await;
    let lambda = f.lambda.clone();
    let token = eventually(|| lambda.tokens.lock().unwrap().first().cloned()).await;
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        call(&f.svc, "SendTaskHeartbeat", json!({"taskToken": token})).await;
    }
    assert_eq!(
        call(&f.svc, "DescribeExecution", json!({"executionArn": alive})).await["status"],
        "RUNNING"
    );
    call(
        &f.svc,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{\"ok\":1}"}),
    )
    .await;
    assert_eq!(wait_done(&f.svc, &alive).await["status"], "SUCCEEDED");

    // No heartbeat: States.HeartbeatTimeout after about a second.
    let silent = start("silent").await;
    let d = wait_done(&f.svc, &silent).await;
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.HeartbeatTimeout", "{d}");
}

#[tokio::test]
async fn records_history_and_machines_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let machines = || {
        vec![
            spec("P", Standard, wait_lambda_pass(0)),
            spec("Long", Standard, parked()),
        ]
    };
    let (done_arn, running_arn, history_len) = {
        let f = open(dir.path(), machines(), 0.0);
        let r = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("P"), "name": "kept", "input": "{\"x\":1}"}),
        )
        .await;
        let arn = r["executionArn"].as_str().unwrap().to_owned();
        wait_done(&f.svc, &arn).await;
        let h = call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
        let r2 = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Long"), "name": "interrupted"}),
        )
        .await;
        let lambda = f.lambda.clone();
        eventually(|| lambda.tokens.lock().unwrap().first().cloned()).await;
        call(
            &f.svc,
            "CreateStateMachine",
            json!({"name": "Mine", "definition": long_wait().to_string(), "roleArn": "arn:aws:iam::123456789012:role/r", "type": "EXPRESS"}),
        )
        .await;
        f.svc.shutdown().await;
        (
            arn,
            r2["executionArn"].as_str().unwrap().to_owned(),
            h["events"].as_array().unwrap().len(),
        )
    };
    let f = open(dir.path(), machines(), 0.0);
    let d = call(
        &f.svc,
        "DescribeExecution",
        json!({"executionArn": done_arn}),
    )
    .await;
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["input"], "{\"x\":1}");
    let h = call(
        &f.svc,
        "GetExecutionHistory",
        json!({"executionArn": done_arn}),
    )
    .await;
    assert_eq!(h["events"].as_array().unwrap().len(), history_len);
    assert_eq!(
        h["events"].as_array().unwrap().last().unwrap()["type"],
        "ExecutionSucceeded"
    );

    let mine = call(
        &f.svc,
        "DescribeStateMachine",
        json!({"stateMachineArn": machine_arn("Mine")}),
    )
    .await;
    assert_eq!(mine["type"], "EXPRESS");
    assert_eq!(mine["roleArn"], "arn:aws:iam::123456789012:role/r");

    // Left RUNNING by the previous process; StopExecution closes it.
    let d = call(
        &f.svc,
        "DescribeExecution",
        json!({"executionArn": running_arn}),
    )
    .await;
    assert_eq!(d["status"], "RUNNING");
    call(
        &f.svc,
        "StopExecution",
        json!({"executionArn": running_arn}),
    )
    .await;
    let d = call(
        &f.svc,
        "DescribeExecution",
        json!({"executionArn": running_arn}),
    )
    .await;
    assert_eq!(d["status"], "ABORTED");
    let h = call(
        &f.svc,
        "GetExecutionHistory",
        json!({"executionArn": running_arn}),
    )
    .await;
    assert_eq!(
        h["events"].as_array().unwrap().last().unwrap()["type"],
        "ExecutionAborted"
    );
}

#[tokio::test]
async fn state_machine_crud_and_validation() {
    let dir = tempfile::tempdir().unwrap();
    let f = open(
        dir.path(),
        vec![spec("Tpl", Standard, wait_lambda_pass(0))],
        0.0,
    );
    let role = "arn:aws:iam::123456789012:role/r";
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}})
        .to_string();
    let c = call(
        &f.svc,
        "CreateStateMachine",
        json!({"name": "New", "definition": def, "roleArn": role}),
    )
    .await;
    assert_eq!(c["stateMachineArn"], machine_arn("New"));
    let again = call(
        &f.svc,
        "CreateStateMachine",
        json!({"name": "New", "definition": def, "roleArn": role}),
    )
    .await;
    assert_eq!(again, c, "identical CreateStateMachine is idempotent");
    let e = call_err(
        &f.svc,
        "CreateStateMachine",
        json!({"name": "New", "definition": long_wait().to_string(), "roleArn": role}),
    )
    .await;
    assert_eq!(e.code, "StateMachineAlreadyExists");
    let e = call_err(
        &f.svc,
        "CreateStateMachine",
        json!({"name": "Bad", "definition": "{\"StartAt\": 1}", "roleArn": role}),
    )
    .await;
    assert_eq!(e.code, "InvalidDefinition");
    let e = call_err(
        &f.svc,
        "CreateStateMachine",
        json!({"name": "bad name", "definition": def, "roleArn": role}),
    )
    .await;
    assert_eq!(e.code, "InvalidName");

    let list = call(&f.svc, "ListStateMachines", json!({})).await;
    let names: Vec<&str> = list["stateMachines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["New", "Tpl"]);

    let new_def =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 2, "End": true}}})
            .to_string();
    call(
        &f.svc,
        "UpdateStateMachine",
        json!({"stateMachineArn": machine_arn("New"), "definition": new_def}),
    )
    .await;
    let d = call(
        &f.svc,
        "DescribeStateMachine",
        json!({"stateMachineArn": machine_arn("New")}),
    )
    .await;
    assert_eq!(d["definition"], new_def);
    assert_eq!(d["status"], "ACTIVE");
    let r = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("New")}),
    )
    .await;
    let d = wait_done(&f.svc, r["executionArn"].as_str().unwrap()).await;
    assert_eq!(d["output"], "2");

    call(
        &f.svc,
        "DeleteStateMachine",
        json!({"stateMachineArn": machine_arn("New")}),
    )
    .await;
    let e = call_err(
        &f.svc,
        "DescribeStateMachine",
        json!({"stateMachineArn": machine_arn("New")}),
    )
    .await;
    assert_eq!(e.code, "StateMachineDoesNotExist");

    let ok = call(
        &f.svc,
        "ValidateStateMachineDefinition",
        json!({"definition": def}),
    )
    .await;
    assert_eq!(ok["result"], "OK");
    assert_eq!(ok["diagnostics"], json!([]));
    let bad = call(
        &f.svc,
        "ValidateStateMachineDefinition",
        json!({"definition": "{\"StartAt\":\"X\",\"States\":{}}"}),
    )
    .await;
    assert_eq!(bad["result"], "FAIL");
    let d0 = &bad["diagnostics"][0];
    assert_eq!(d0["severity"], "ERROR");
    assert!(d0["code"].as_str().is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn template_errors_name_the_machine() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = wsflow_sfn::SfnOptions::new(dir.path());
    options.time_scale = 0.0;
    let r = wsflow_sfn::StepFunctions::open(
        options,
        vec![wsflow_sfn::MachineSpec {
            name: "Broken".into(),
            kind: Standard,
            definition: "{\"StartAt\":\"Nowhere\",\"States\":{}}".into(),
            role_arn: None,
        }],
        wsflow_sfn::SfnBackends {
            lambda: std::sync::Arc::new(TestLambda::default()),
            services: vec![],
        },
    );
    let e = r
        .err()
        .expect("invalid definition must be refused")
        .to_string();
    assert!(e.contains("Broken"), "{e}");
}

#[tokio::test]
async fn nested_start_execution_sync_and_service_integrations() {
    let dir = tempfile::tempdir().unwrap();
    let child = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"got.$": "$.v"}, "End": true}}});
    let failing_child = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ChildErr", "Cause": "bad"}}});
    let parent = json!({
        "StartAt": "Child",
        "States": {
            "Child": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": machine_arn("Child"), "Input": {"v": 7}},
                "ResultSelector": {"out.$": "$.Output", "status.$": "$.Status"},
                "ResultPath": "$.child",
                "Next": "Put"
            },
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "T", "Item": {"id": {"S": "a"}, "v": {"N": "7"}}},
                "ResultPath": null,
                "Next": "Get"
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "T", "Key": {"id": {"S": "a"}}},
                "ResultSelector": {"item.$": "$.Item"},
                "ResultPath": "$.get",
                "Next": "Missing"
            },
            "Missing": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "Nope", "Item": {"id": {"S": "b"}}},
                "Catch": [{"ErrorEquals": ["DynamoDB.ResourceNotFoundException"], "ResultPath": "$.missing", "Next": "BadChild"}],
                "End": true
            },
            "BadChild": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync",
                "Parameters": {"StateMachineArn": machine_arn("Bad")},
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.bad", "Next": "Unsupported"}],
                "End": true
            },
            "Unsupported": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.unsupported", "Next": "Done"}],
                "End": true
            },
            "Done": {"Type": "Pass", "End": true}
        }
    });
    let f = open(
        dir.path(),
        vec![
            spec("Child", Standard, child),
            spec("Bad", Express, failing_child),
            spec("Parent", Express, parent),
        ],
        0.0,
    );
    let r = call(
        &f.svc,
        "StartSyncExecution",
        json!({"stateMachineArn": machine_arn("Parent")}),
    )
    .await;
    assert_eq!(r["status"], "SUCCEEDED", "{r}");
    let out: Value = serde_json::from_str(r["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        out["child"],
        json!({"out": {"got": 7}, "status": "SUCCEEDED"})
    );
    assert_eq!(out["get"]["item"]["v"], json!({"N": "7"}));
    assert_eq!(
        out["missing"]["Error"],
        "DynamoDB.ResourceNotFoundException"
    );
    assert!(
        out["missing"]["Cause"]
            .as_str()
            .unwrap()
            .contains("Service: AmazonDynamoDBv2; Status Code: 400")
    );
    assert_eq!(out["bad"]["Error"], "States.TaskFailed");
    let bad_cause: Value = serde_json::from_str(out["bad"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(bad_cause["Error"], "ChildErr");
    assert_eq!(bad_cause["Status"], "FAILED");
    assert_eq!(
        out["unsupported"]["Error"],
        "States.IntegrationNotSupported"
    );
    assert_eq!(f.dynamo.items.lock().unwrap().len(), 1);
    // The Standard child is a real, listed execution.
    let l = call(
        &f.svc,
        "ListExecutions",
        json!({"stateMachineArn": machine_arn("Child")}),
    )
    .await;
    assert_eq!(l["executions"][0]["status"], "SUCCEEDED");
}

#[tokio::test]
async fn sqs_send_message_and_async_express_executions() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {
                    "QueueUrl": "http://127.0.0.1:3001/123456789012/q.fifo",
                    "MessageBody": {"a.$": "$.a"},
                    "MessageGroupId": "g"
                },
                "Next": "Park"
            },
            "Park": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "Capture", "Payload": {"token.$": "$$.Task.Token"}},
                "ResultPath": null,
                "End": true
            }
        }
    });
    let f = open(dir.path(), vec![spec("Ex", Express, def)], 0.0);
    let r = call(
        &f.svc,
        "StartExecution",
        json!({"stateMachineArn": machine_arn("Ex"), "input": "{\"a\":1}"}),
    )
    .await;
    let arn = r["executionArn"].as_str().unwrap().to_owned();
    assert!(arn.contains(":express:Ex:"), "{arn}");
    let lambda = f.lambda.clone();
    let token = eventually(|| lambda.tokens.lock().unwrap().first().cloned()).await;
    // In memory while it runs; Express has no stored history.
    assert_eq!(
        call(&f.svc, "DescribeExecution", json!({"executionArn": arn})).await["status"],
        "RUNNING"
    );
    let e = call_err(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
    assert_eq!(e.code, "StateMachineTypeNotSupported");
    let e = call_err(
        &f.svc,
        "ListExecutions",
        json!({"stateMachineArn": machine_arn("Ex")}),
    )
    .await;
    assert_eq!(e.code, "StateMachineTypeNotSupported");
    let sent = f.sqs.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["MessageBody"], "{\"a\":1}",
        "a JSON MessageBody is sent as text"
    );
    assert_eq!(sent[0]["MessageGroupId"], "g");
    call(
        &f.svc,
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{}"}),
    )
    .await;
    // A finished Express execution is forgotten (nothing is stored).
    let t = Instant::now();
    loop {
        match f
            .svc
            .operation("DescribeExecution", &json!({"executionArn": arn}))
            .await
        {
            Err(e) if e.code == "ExecutionDoesNotExist" => break,
            other => assert!(t.elapsed() < Duration::from_secs(5), "{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
