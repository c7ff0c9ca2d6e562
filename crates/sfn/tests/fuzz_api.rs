//! No panic, no hang, on any input: property tests of the Step Functions
//! JSON API on a real redb file: valid requests of every operation with
//! fields deleted, renamed, retyped or replaced; executions started with
//! random, deep or malformed input; CreateStateMachine, Validate and
//! TestState with mutated real definitions; raw bytes. Each call runs under
//! a watchdog (`wsflow_fuzz_kit::bounded`) and must answer with a result or
//! a client error (4xx with a code), never a 500.
//!
//! Case counts: `PROPTEST_CASES` (default per test below), e.g.
//! `PROPTEST_CASES=20000 cargo test -p wsflow-sfn --test fuzz_api --release`.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::OnceLock;
use wsflow_aws_wire::{AwsService, Protocol, ServiceRequest};
use wsflow_fuzz_kit::{bounded, config, generate, preview};
use wsflow_sfn::MachineType;

struct World {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    fx: Fixture,
}

/// One service for the whole binary: a Standard and an Express machine
/// (Pass, Wait, Lambda task, Choice), Waits at time scale 0.
fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let def = json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Parameters": {"in.$": "$", "len.$": "States.JsonToString($)"}, "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 5, "Next": "T"},
            "T": {"Type": "Task", "Resource": lambda_arn("Echo"), "Next": "C"},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.in.a", "IsPresent": true, "Next": "F"}], "Default": "S"},
            "F": {"Type": "Fail", "Error": "E", "Cause": "c"},
            "S": {"Type": "Succeed"}}});
        let fx = {
            let _guard = rt.enter();
            open(
                dir.path(),
                vec![
                    spec("Std", MachineType::Standard, def.clone()),
                    spec("Exp", MachineType::Express, def),
                ],
                0.0,
            )
        };
        World {
            _dir: dir,
            rt,
            fx,
        }
    })
}

/// Calls `op` with a JSON body under the watchdog.
fn call_json(op: &str, body: Value) -> Result<Value, (String, String)> {
    let what = format!("{op} {}", preview(&body.to_string(), 1500));
    let op = op.to_owned();
    bounded(&what, move || {
        let w = world();
        w.rt.block_on(w.fx.svc.operation(&op, &body)).map_err(|e| {
            assert!(
                (400..500).contains(&e.status),
                "status {} ({}: {}) for client input",
                e.status,
                e.code,
                e.message
            );
            assert!(!e.code.is_empty(), "error without a code");
            (e.code, e.message)
        })
    })
}

/// Every definition of the repository and the conformance cases.
fn corpus() -> &'static [Value] {
    static C: OnceLock<Vec<Value>> = OnceLock::new();
    C.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut out = Vec::new();
        let mut dirs = vec![
            root.join("statemachines"),
            root.join("../shared/conformance"),
        ];
        while let Some(d) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "json")
                    && let Ok(v) = serde_json::from_str::<Value>(
                        &std::fs::read_to_string(&p).unwrap_or_default(),
                    )
                {
                    let d = v.get("definition").cloned().unwrap_or(v);
                    if d.get("States").is_some() {
                        out.push(d);
                    }
                }
            }
        }
        out.sort_by_key(|v| v.to_string());
        assert!(!out.is_empty(), "no definitions found");
        out
    })
}

/// Makes a definition safe to run for real: no state loops forever, so
/// every execution the fuzzer starts ends (a definition that loops is
/// legitimate, but would keep running in the background of later cases).
fn acyclic(mut def: Value) -> Value {
    if let Some(states) = def.get_mut("States").and_then(Value::as_object_mut) {
        for s in states.values_mut() {
            if let Some(o) = s.as_object_mut() {
                if o.contains_key("Next") {
                    o.remove("Next");
                    o.insert("End".into(), json!(true));
                }
                o.remove("Choices");
                if o.get("Type") == Some(&json!("Choice")) {
                    o.insert("Type".into(), json!("Pass"));
                    o.insert("End".into(), json!(true));
                    o.remove("Default");
                }
            }
        }
    }
    def
}

fn valid_requests() -> Vec<(&'static str, Value)> {
    let std_arn = machine_arn("Std");
    let exp_arn = machine_arn("Exp");
    let exec = std_arn.replace(":stateMachine:", ":execution:") + ":e1";
    let small = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": true}}});
    vec![
        (
            "StartExecution",
            json!({"stateMachineArn": std_arn, "name": "e1", "input": "{\"a\":1}"}),
        ),
        (
            "StartSyncExecution",
            json!({"stateMachineArn": exp_arn, "input": "{\"b\":[1,2]}"}),
        ),
        ("DescribeExecution", json!({"executionArn": exec})),
        (
            "StopExecution",
            json!({"executionArn": exec, "error": "E", "cause": "c"}),
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": std_arn, "statusFilter": "SUCCEEDED", "maxResults": 2, "nextToken": "x"}),
        ),
        (
            "GetExecutionHistory",
            json!({"executionArn": exec, "reverseOrder": true, "maxResults": 3, "includeExecutionData": false}),
        ),
        ("DescribeStateMachine", json!({"stateMachineArn": std_arn})),
        (
            "DescribeStateMachineForExecution",
            json!({"executionArn": exec}),
        ),
        ("ListStateMachines", json!({"maxResults": 1})),
        (
            "CreateStateMachine",
            json!({"name": "made", "definition": small.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r", "type": "EXPRESS"}),
        ),
        (
            "UpdateStateMachine",
            json!({"stateMachineArn": machine_arn("made"), "definition": small.to_string()}),
        ),
        (
            "DeleteStateMachine",
            json!({"stateMachineArn": machine_arn("gone")}),
        ),
        (
            "ValidateStateMachineDefinition",
            json!({"definition": small.to_string(), "type": "STANDARD"}),
        ),
        (
            "SendTaskSuccess",
            json!({"taskToken": "dG9rZW4=", "output": "{}"}),
        ),
        (
            "SendTaskFailure",
            json!({"taskToken": "dG9rZW4=", "error": "E", "cause": "c"}),
        ),
        ("SendTaskHeartbeat", json!({"taskToken": "dG9rZW4="})),
        (
            "TestState",
            json!({"definition": json!({"Type": "Pass", "Parameters": {"x.$": "$.a"}, "End": true}).to_string(),
            "roleArn": "arn:aws:iam::123456789012:role/r", "input": "{\"a\":1}", "inspectionLevel": "DEBUG"}),
        ),
    ]
}

/// Execution input: JSON (random, deep, huge numbers), or not JSON.
fn input_text() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => generate::json(4).prop_map(|v| json!(v.to_string())),
        1 => generate::deep_json_text().prop_map(Value::String),
        1 => generate::text(20).prop_map(Value::String),
        1 => generate::json(2),
    ]
}

proptest! {
    #![proptest_config(config(1000))]

    /// Valid requests of every operation, mutated.
    #[test]
    fn request_shapes(pick in any::<prop::sample::Index>(), muts in generate::mutations(4)) {
        let (op, mut body) = pick.get(&valid_requests()).clone();
        generate::mutate(&mut body, &muts);
        if op == "CreateStateMachine" || op == "UpdateStateMachine" {
            // Whatever definition a mutation left must not loop forever
            // once started by a later case.
            if let Some(d) = body.get("definition").and_then(Value::as_str).and_then(|d| serde_json::from_str(d).ok()) {
                body["definition"] = json!(acyclic(d).to_string());
            }
        }
        let _ = call_json(op, body);
    }

    /// Synchronous and asynchronous executions on random input.
    #[test]
    fn executions(input in input_text(), sync in any::<bool>(), name in generate::name()) {
        let (op, arn) = if sync { ("StartSyncExecution", machine_arn("Exp")) } else { ("StartExecution", machine_arn("Std")) };
        let mut body = json!({"stateMachineArn": arn, "input": input});
        if !name.is_empty() {
            body["name"] = json!(name);
        }
        if let Ok(out) = call_json(op, body) {
            prop_assert!(out["executionArn"].is_string(), "{}", out);
            if sync {
                let status = out["status"].as_str().unwrap_or_default();
                prop_assert!(["SUCCEEDED", "FAILED", "TIMED_OUT"].contains(&status), "{}", out);
            }
        }
    }

    /// Mutated real definitions through Validate, TestState and Create.
    #[test]
    fn definitions(
        pick in any::<prop::sample::Index>(),
        muts in generate::mutations(3),
        state in any::<prop::sample::Index>(),
        input in input_text(),
    ) {
        let mut def = pick.get(corpus()).clone();
        generate::mutate(&mut def, &muts);
        let def = acyclic(def);
        let text = def.to_string();
        let v = call_json("ValidateStateMachineDefinition", json!({"definition": text}));
        if let Ok(v) = &v {
            prop_assert!(v["result"] == "OK" || v["result"] == "FAIL", "{}", v);
        }
        // TestState runs one state of it.
        if let Some(states) = def.get("States").and_then(Value::as_object).filter(|s| !s.is_empty()) {
            let (_, one) = states.iter().nth(state.index(states.len())).unwrap();
            let _ = call_json("TestState", json!({"definition": one.to_string(),
                "roleArn": "arn:aws:iam::123456789012:role/r", "input": input, "inspectionLevel": "TRACE"}));
        }
        let _ = call_json("CreateStateMachine", json!({"name": "fuzzed", "definition": text,
            "roleArn": "arn:aws:iam::123456789012:role/r", "type": "EXPRESS"}));
    }

    /// Bytes that are not a JSON object.
    #[test]
    fn raw_bodies(
        op in prop_oneof![
            proptest::sample::select(&["StartExecution", "CreateStateMachine", "TestState", "SendTaskSuccess"][..]).prop_map(str::to_owned),
            generate::name(),
        ],
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            generate::deep_json_text().prop_map(String::into_bytes),
        ],
    ) {
        let what = format!("{op} {}", preview(&String::from_utf8_lossy(&body), 300));
        bounded(&what, move || {
            let w = world();
            if let Err(e) = w.rt.block_on(w.fx.svc.call(ServiceRequest { operation: op, protocol: Protocol::Json, body })) {
                assert!((400..500).contains(&e.status), "{e:?}");
            }
        });
    }
}
