//! Engine throughput figures (a bench binary printing medians; run with
//! `cargo bench -p wsflow-asl --bench engine`). Each workload runs a compiled
//! machine repeatedly on one thread and reports state transitions per second.

use serde_json::{Value, json};
use std::time::Instant;
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, StateMachine, TaskCall, TaskFailure, TaskInvoker,
};

struct NoClock;
impl Clock for NoClock {
    fn now_millis(&self) -> i64 {
        0
    }
    fn sleep_until<'a>(&'a self, _d: i64) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

struct NoTasks;
impl TaskInvoker for NoTasks {
    fn invoke<'a>(&'a self, _c: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async { Err(TaskFailure::new("States.TaskFailed", "none")) })
    }
}

fn chain(n: usize, state: impl Fn(usize) -> Value) -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = state(i);
        if i + 1 < n {
            s["Next"] = json!(format!("S{}", i + 1));
        } else {
            s["End"] = json!(true);
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states})
}

fn doc_1k() -> Value {
    let mut m = serde_json::Map::new();
    for i in 0..28 {
        m.insert(
            format!("field_{i:02}"),
            json!(format!("value number {i:02} abcdefghij")),
        );
    }
    let v = Value::Object(m);
    assert!(serde_json::to_string(&v).unwrap().len() >= 1000);
    v
}

fn measure(name: &str, def: &Value, input: &Value, transitions_per_run: usize, runs: usize) {
    let m = StateMachine::parse(&def.to_string()).expect("bench definition is valid");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut samples = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..runs {
            let out = rt.block_on(wsflow_asl::run_execution(
                &m,
                input.clone(),
                ExecutionContext::local("b", "b", 0),
                &NoTasks,
                &NoClock,
                None,
            ));
            assert_eq!(out.status.as_str(), "SUCCEEDED", "{name}: {out:?}");
        }
        let secs = t.elapsed().as_secs_f64();
        samples.push((transitions_per_run * runs) as f64 / secs);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name:<40} median {:>12.0} transitions/s  (min {:.0}, max {:.0})",
        samples[3], samples[0], samples[6]
    );
}

fn main() {
    let n = 1000;
    measure(
        "bare Pass chain",
        &chain(n, |_| json!({"Type": "Pass"})),
        &json!({"a": 1}),
        n,
        200,
    );
    let doc = doc_1k();
    measure(
        "Pass + Parameters + ResultPath (1 KiB)",
        &chain(
            n,
            |i| json!({"Type": "Pass", "Parameters": {"a.$": "$.field_01", "b.$": "$.field_02", "c": i}, "ResultPath": "$.out"}),
        ),
        &doc,
        n,
        20,
    );
    measure(
        "Choice routing (4 rules each)",
        &{
            let mut states = serde_json::Map::new();
            for i in 0..n {
                let next = if i + 1 < n {
                    format!("C{}", i + 1)
                } else {
                    "Done".into()
                };
                states.insert(format!("C{i}"), json!({"Type": "Choice", "Choices": [
                    {"Variable": "$.s", "StringEquals": "nope", "Next": "Done"},
                    {"Variable": "$.n", "NumericGreaterThan": 100, "Next": "Done"},
                    {"And": [{"Variable": "$.b", "BooleanEquals": false}, {"Variable": "$.n", "IsPresent": true}], "Next": "Done"},
                    {"Variable": "$.n", "NumericLessThanEquals": 10, "Next": next}], "Default": "Done"}));
            }
            states.insert("Done".into(), json!({"Type": "Succeed"}));
            json!({"StartAt": "C0", "States": states})
        },
        &json!({"s": "x", "n": 3, "b": true}),
        n + 1,
        50,
    );
    measure(
        "intrinsic-heavy Pass",
        &chain(n, |_| {
            json!({"Type": "Pass", "Parameters": {
            "f.$": "States.Format('{} and {}', $.a, $.b)",
            "s.$": "States.MathAdd($.n, 1)",
            "l.$": "States.ArrayLength(States.StringSplit($.csv, ','))",
            "j.$": "States.JsonToString($.o)"}, "ResultPath": "$.r"})
        }),
        &json!({"a": "x", "b": 2, "n": 1, "csv": "a,b,c,d", "o": {"k": [1, 2]}}),
        n,
        10,
    );
    measure(
        "JSONata Pass (Output + Assign)",
        &{
            let mut def = chain(n, |_| {
                json!({"Type": "Pass",
                    "Output": {"a": "{% $states.input.a + 1 %}", "tag": "{% $prev & '-' & $string($states.input.a) %}"},
                    "Assign": {"prev": "{% 'at' & $string($states.input.a) %}"}})
            });
            def["QueryLanguage"] = json!("JSONata");
            def
        },
        &json!({"a": 0, "tag": ""}),
        n,
        5,
    );
    let items: Vec<Value> = (0..10_000).map(|i| json!({"i": i})).collect();
    measure(
        "Map over 10,000 items (Pass processor)",
        &json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
        &Value::Array(items),
        10_001,
        5,
    );
}
