//! Crash and resume, in process: executions run on one tokio runtime that is
//! torn down mid-run (its tasks vanish, as in a crash: nothing is stopped or
//! flushed by the service), then the service is reopened on the same redb
//! file and resumes them from their histories.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use wsflow_sfn::MachineType::Standard;

const EXECUTIONS: usize = 24;
const WAIT_MS: i64 = 2_000;

/// Lambda → Wait 2 s → Lambda → Map (3 Lambda iterations) → Succeed.
fn definition() -> Value {
    json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Task", "Resource": lambda_arn("Echo"), "ResultPath": "$.first", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": WAIT_MS / 1000, "Next": "Second"},
            "Second": {"Type": "Task", "Resource": lambda_arn("Echo"), "ResultPath": "$.second", "Next": "Fan"},
            "Fan": {
                "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.fanned",
                "ItemSelector": {"i.$": "$.i", "item.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "Each", "States": {
                    "Each": {"Type": "Task", "Resource": lambda_arn("Echo"), "End": true}
                }},
                "Next": "Done"
            },
            "Done": {"Type": "Succeed"}
        }
    })
}

/// A fresh two-worker runtime; dropping it with `shutdown_background` is the
/// tests' crash (its tasks vanish mid-await).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn millis(event: &Value) -> i64 {
    (event["timestamp"].as_f64().unwrap() * 1000.0).round() as i64
}

fn calls_for(f: &Fixture, state_input_key: &str) -> usize {
    f.lambda
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, p)| p.get(state_input_key).is_some())
        .count()
}

#[test]
fn a_crash_mid_wait_resumes_every_execution_once_with_original_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let machines = || vec![spec("Resumable", Standard, definition())];

    // Run 1: start the executions, let them reach the Wait, then "crash".
    let crashed = runtime();
    let (arns, first_calls_before) = crashed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        let mut arns = Vec::new();
        for i in 0..EXECUTIONS {
            let r = call(
                &f.svc,
                "StartExecution",
                json!({"stateMachineArn": machine_arn("Resumable"), "name": format!("run-{i}"),
                       "input": json!({"i": i, "items": [1, 2, 3]}).to_string()}),
            )
            .await;
            arns.push(r["executionArn"].as_str().unwrap().to_owned());
        }
        // Every execution is in its Wait once its WaitStateEntered is stored.
        for arn in &arns {
            let svc = &f.svc;
            let t = Instant::now();
            loop {
                let h = call(svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
                if h["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["type"] == "WaitStateEntered")
                {
                    break;
                }
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "{arn} never reached its Wait"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let before = f.lambda.calls.lock().unwrap().len();
        (arns, before)
    });
    assert_eq!(
        first_calls_before, EXECUTIONS,
        "only the First tasks ran before the crash"
    );
    let crashed_at = Instant::now();
    crashed.shutdown_background();

    // Run 2: reopen the same file; resume.
    let resumed = runtime();
    resumed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        for arn in &arns {
            let d = call(&f.svc, "DescribeExecution", json!({"executionArn": arn})).await;
            assert_eq!(d["status"], "RUNNING", "{d}");
        }
        assert_eq!(f.svc.resume_running().unwrap(), EXECUTIONS);
        for (i, arn) in arns.iter().enumerate() {
            let d = wait_done(&f.svc, arn).await;
            assert_eq!(d["status"], "SUCCEEDED", "{d}");
            let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
            assert_eq!(
                out["first"]["i"], i,
                "the recorded First result is reused: {out}"
            );
            assert_eq!(out["second"]["i"], i);
            assert_eq!(out["fanned"].as_array().unwrap().len(), 3);

            let h = call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
            let events = h["events"].as_array().unwrap();
            let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
            assert_eq!(
                ids,
                (1..=events.len() as u64).collect::<Vec<_>>(),
                "ids 1..=N"
            );
            for e in events {
                assert!(e["previousEventId"].as_u64().unwrap() < e["id"].as_u64().unwrap());
            }
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for e in events {
                *counts.entry(e["type"].as_str().unwrap()).or_default() += 1;
            }
            assert_eq!(counts["ExecutionStarted"], 1, "{counts:?}");
            assert_eq!(counts["ExecutionSucceeded"], 1, "{counts:?}");
            assert_eq!(counts["WaitStateEntered"], 1, "{counts:?}");
            assert_eq!(counts["WaitStateExited"], 1, "{counts:?}");
            assert_eq!(
                counts["TaskStateEntered"], 5,
                "First, Second, 3 iterations: {counts:?}"
            );
            assert_eq!(
                counts["LambdaFunctionScheduled"], 5,
                "no task scheduled twice: {counts:?}"
            );
            assert_eq!(counts["LambdaFunctionSucceeded"], 5, "{counts:?}");
            assert_eq!(counts["MapIterationSucceeded"], 3, "{counts:?}");
            assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");

            let entered = events
                .iter()
                .find(|e| e["type"] == "WaitStateEntered")
                .unwrap();
            let exited = events
                .iter()
                .find(|e| e["type"] == "WaitStateExited")
                .unwrap();
            let waited = millis(exited) - millis(entered);
            assert!(
                waited >= WAIT_MS - 50,
                "the Wait kept its deadline: waited {waited} ms"
            );
            assert!(
                waited <= WAIT_MS + 1_000,
                "the Wait did not start over after the crash: waited {waited} ms"
            );
        }
        // Side effects: First ran once per execution (before the crash), never again.
        assert_eq!(
            calls_for(&f, "first"),
            EXECUTIONS,
            "Second saw First's result"
        );
        let calls = f.lambda.calls.lock().unwrap().len();
        assert_eq!(
            calls,
            EXECUTIONS * 4,
            "Second + 3 iterations each, after the resume"
        );
        f.svc.shutdown().await;
    });
    assert!(crashed_at.elapsed() < Duration::from_secs(20));
}

/// Map (MaxConcurrency 2) over 4 items, each iteration waiting 1 s.
fn map_of_waits() -> Value {
    json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map", "MaxConcurrency": 2, "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Nap", "States": {
                    "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Call"},
                    "Call": {"Type": "Task", "Resource": lambda_arn("Echo"), "End": true}
                }},
                "End": true
            }
        }
    })
}

#[test]
fn a_crash_mid_map_resumes_the_unfinished_iterations_only() {
    let dir = tempfile::tempdir().unwrap();
    let machines = || vec![spec("Fanned", Standard, map_of_waits())];
    let crashed = runtime();
    let arn = crashed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        let r = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Fanned"), "name": "fan",
                   "input": json!({"items": [0, 1, 2, 3]}).to_string()}),
        )
        .await;
        let arn = r["executionArn"].as_str().unwrap().to_owned();
        // Crash once two iterations are done and the other two are waiting.
        let t = Instant::now();
        loop {
            let h = call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
            let events = h["events"].as_array().unwrap();
            let count = |ty: &str| events.iter().filter(|e| e["type"] == ty).count();
            if count("MapIterationSucceeded") == 2 && count("WaitStateEntered") == 4 {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "never reached mid-Map"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        arn
    });
    crashed.shutdown_background();

    let resumed = runtime();
    resumed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        assert_eq!(f.svc.resume_running().unwrap(), 1);
        let d = wait_done(&f.svc, &arn).await;
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        assert_eq!(d["output"], "[0,1,2,3]");
        assert_eq!(
            f.lambda.calls.lock().unwrap().len(),
            2,
            "only the two unfinished iterations call"
        );
        let h = call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
        let events = h["events"].as_array().unwrap();
        let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>());
        let count = |ty: &str| events.iter().filter(|e| e["type"] == ty).count();
        assert_eq!(count("MapIterationStarted"), 4);
        assert_eq!(count("MapIterationSucceeded"), 4);
        assert_eq!(count("WaitStateEntered"), 4);
        assert_eq!(count("WaitStateExited"), 4);
        assert_eq!(count("LambdaFunctionScheduled"), 4);
        assert_eq!(count("ExecutionSucceeded"), 1);
        // Each iteration's Wait: entered and exited events pair up through previousEventId.
        for exited in events.iter().filter(|e| e["type"] == "WaitStateExited") {
            let entered = &events[exited["previousEventId"].as_u64().unwrap() as usize - 1];
            assert_eq!(entered["type"], "WaitStateEntered", "{exited}");
            let waited = millis(exited) - millis(entered);
            assert!((950..=1_800).contains(&waited), "waited {waited} ms");
        }
        f.svc.shutdown().await;
    });
}

#[test]
fn a_callback_task_parked_at_the_crash_keeps_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "Capture", "Payload": {"token.$": "$$.Task.Token"}},
        "End": true
    }}});
    let machines = || vec![spec("Parked", Standard, def.clone())];
    let crashed = runtime();
    let (arn, token) = crashed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        let r = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Parked"), "name": "parked"}),
        )
        .await;
        let lambda = f.lambda.clone();
        let token = eventually(|| lambda.tokens.lock().unwrap().first().cloned()).await;
        // The task ran, so its TaskScheduled event is durable (the barrier
        // before every real invocation).
        (r["executionArn"].as_str().unwrap().to_owned(), token)
    });
    crashed.shutdown_background();

    let resumed = runtime();
    resumed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        assert_eq!(f.svc.resume_running().unwrap(), 1);
        let lambda = f.lambda.clone();
        let reissued = eventually(|| lambda.tokens.lock().unwrap().first().cloned()).await;
        assert_eq!(
            reissued, token,
            "the in-flight task is invoked again with the same token"
        );
        call(
            &f.svc,
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"approved\":true}"}),
        )
        .await;
        let d = wait_done(&f.svc, &arn).await;
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        assert_eq!(d["output"], "{\"approved\":true}");
        let h = call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await;
        let types: Vec<&str> = h["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "TaskScheduled",
                "TaskStarted",
                "TaskSucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ]
        );
        f.svc.shutdown().await;
    });
}

#[test]
fn a_nested_start_execution_in_flight_at_the_crash_adopts_its_finished_child() {
    use wsflow_sfn::records::Status;
    use wsflow_sfn::store::Store;

    let dir = tempfile::tempdir().unwrap();
    let kid = json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let mom = json!({"StartAt": "Spawn", "States": {"Spawn": {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": machine_arn("Kid"), "Name": "kid-1", "Input": {"x.$": "$.x"}},
        "ResultSelector": {"status.$": "$.Status", "output.$": "$.Output"},
        "End": true
    }}});
    let machines = || {
        vec![
            spec("Kid", Standard, kid.clone()),
            spec("Mom", Standard, mom.clone()),
        ]
    };
    let kid_arn = "arn:aws:states:us-east-1:123456789012:execution:Kid:kid-1";

    // Run 1: the parent starts its named child and waits for it; crash.
    let crashed = runtime();
    let mom_arn = crashed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        let r = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Mom"), "name": "mom-1", "input": "{\"x\":1}"}),
        )
        .await;
        let svc = &f.svc;
        let t = Instant::now();
        while svc
            .operation("DescribeExecution", &json!({"executionArn": kid_arn}))
            .await
            .is_err()
        {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "the child never started"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        r["executionArn"].as_str().unwrap().to_owned()
    });
    crashed.shutdown_background();

    // While the stack is down the child is recorded as finished (as if it had
    // succeeded in the last moment before the crash, and only the parent's
    // TaskSucceeded was lost).
    let finish_child = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    finish_child.block_on(async {
        let path = dir.path().join("sfn.redb");
        let t = Instant::now();
        let store = loop {
            match Store::open(&path, wsflow_sfn::CommitMode::Group) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(t.elapsed() < Duration::from_secs(5), "{e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        let mut rec = store.execution(kid_arn).unwrap().expect("child record");
        assert_eq!(rec.status, Status::Running);
        rec.status = Status::Succeeded;
        rec.output = Some("{\"grown\":true}".into());
        rec.stop_millis = Some(rec.start_millis + 1);
        store.put_execution(&rec);
        store.sync().await.unwrap();
    });

    let resumed = runtime();
    resumed.block_on(async {
        let f = open(dir.path(), machines(), 1.0);
        assert_eq!(
            f.svc.resume_running().unwrap(),
            1,
            "only the parent is RUNNING"
        );
        let d = wait_done(&f.svc, &mom_arn).await;
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        assert_eq!(
            d["output"],
            json!({"status": "SUCCEEDED", "output": {"grown": true}}).to_string()
        );
        let kids = call(
            &f.svc,
            "ListExecutions",
            json!({"stateMachineArn": machine_arn("Kid")}),
        )
        .await;
        assert_eq!(
            kids["executions"].as_array().unwrap().len(),
            1,
            "no second child"
        );
        f.svc.shutdown().await;
    });
}

/// Pass "version" → Wait 1 s → Pass: the version shows in the output.
fn versioned(version: &str) -> Value {
    json!({
        "StartAt": "Stamp",
        "States": {
            "Stamp": {"Type": "Pass", "Result": version, "ResultPath": "$.version", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"version.$": "$.version", "done": version}, "End": true}
        }
    })
}

/// A Standard execution runs to its end on the definition it started with,
/// also when the stack restarts with an updated definition (as after an
/// edited template); executions started after the update run the new one.
#[test]
fn a_resumed_execution_keeps_the_definition_it_started_with() {
    let dir = tempfile::tempdir().unwrap();
    let crashed = runtime();
    let arn = crashed.block_on(async {
        let f = open(
            dir.path(),
            vec![spec("Pinned", Standard, versioned("v1"))],
            1.0,
        );
        let r = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Pinned"), "name": "old", "input": "{}"}),
        )
        .await;
        let arn = r["executionArn"].as_str().unwrap().to_owned();
        let svc = &f.svc;
        let t = Instant::now();
        while !call(svc, "GetExecutionHistory", json!({"executionArn": arn})).await["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "WaitStateEntered")
        {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "never reached its Wait"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        arn
    });
    crashed.shutdown_background();

    let resumed = runtime();
    resumed.block_on(async {
        let f = open(
            dir.path(),
            vec![spec("Pinned", Standard, versioned("v2"))],
            1.0,
        );
        assert_eq!(f.svc.resume_running().unwrap(), 1);
        let fresh = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": machine_arn("Pinned"), "name": "new", "input": "{}"}),
        )
        .await;
        let old = wait_done(&f.svc, &arn).await;
        assert_eq!(old["status"], "SUCCEEDED", "{old}");
        let out: Value = serde_json::from_str(old["output"].as_str().unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"version": "v1", "done": "v1"}),
            "the started version"
        );
        let new = wait_done(&f.svc, fresh["executionArn"].as_str().unwrap()).await;
        let out: Value = serde_json::from_str(new["output"].as_str().unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"version": "v2", "done": "v2"}),
            "the current version"
        );
        f.svc.shutdown().await;
    });
}

/// A test case's k-th response goes to the k-th call of its state also
/// when the execution is resumed between two calls: the retry after a crash
/// gets response 1, not response 0 again.
#[test]
fn a_resumed_mocked_execution_continues_with_the_next_mocked_response() {
    let dir = tempfile::tempdir().unwrap();
    let mocks = std::sync::Arc::new(
        wsflow_asl::mock::MockConfigFile::parse(
            r#"{"StateMachines": {"Mocked": {"TestCases": {"Flaky": {"Call": "FailsOnce"}}}},
                "MockedResponses": {"FailsOnce": {
                    "0": {"Throw": {"Error": "Flaky", "Cause": "first attempt"}},
                    "1": {"Return": {"attempt": 2}}}}}"#,
        )
        .unwrap(),
    );
    let machines = || {
        vec![spec(
            "Mocked",
            Standard,
            json!({
                "StartAt": "Call",
                "States": {"Call": {
                    "Type": "Task", "Resource": lambda_arn("Echo"),
                    "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 1}],
                    "End": true
                }}
            }),
        )]
    };
    let options = || {
        let mut o = wsflow_sfn::SfnOptions::new(dir.path());
        o.mocks = Some(mocks.clone());
        o
    };
    let crashed = runtime();
    let arn = crashed.block_on(async {
        let f = open_options(options(), machines());
        let r = call(
            &f.svc,
            "StartExecution",
            json!({"stateMachineArn": format!("{}#Flaky", machine_arn("Mocked")), "name": "flaky", "input": "{}"}),
        )
        .await;
        let arn = r["executionArn"].as_str().unwrap().to_owned();
        // Crash during the retry's 2 s backoff, after the first failure is stored.
        let t = Instant::now();
        while !call(&f.svc, "GetExecutionHistory", json!({"executionArn": arn})).await["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "LambdaFunctionFailed")
        {
            assert!(t.elapsed() < Duration::from_secs(5), "the first attempt never failed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        arn
    });
    crashed.shutdown_background();

    let resumed = runtime();
    resumed.block_on(async {
        let f = open_options(options(), machines());
        assert_eq!(f.svc.resume_running().unwrap(), 1);
        let d = wait_done(&f.svc, &arn).await;
        assert_eq!(d["status"], "SUCCEEDED", "{d}");
        assert_eq!(d["output"], json!({"attempt": 2}).to_string());
        assert!(
            f.lambda.calls.lock().unwrap().is_empty(),
            "the mocked state never called the function"
        );
        f.svc.shutdown().await;
    });
}
