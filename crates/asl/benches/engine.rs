//! Engine throughput figures (a bench binary printing medians; run with
//! `cargo bench -p wsflow-asl --bench engine`). Each workload runs a compiled
//! machine repeatedly on one thread and reports state transitions per second.
//!
//! Whole-process figures: with `WSFLOW_BINS=name=path[,name=path…]` set, the
//! bench also runs `wsflow run` of each listed binary on the bare Pass chain
//! and the nested-Map workload (definition and input written to a temporary
//! directory), alternating binaries run by run, and reports each one's
//! median transitions per second of wall time (process start to exit) and
//! the ratio to the first binary. `WSFLOW_RUNS` sets the runs per binary (5).

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

/// The nested-Map workload: an outer Map over `outer` items whose iteration
/// is an inner Map over `inner` items whose iteration is 11 Pass states, each
/// copying the 1 KiB document and nesting the previous state's result
/// (`"prev.$": "$.r"`, `ResultPath: "$.r"`), so documents grow to ~11 KiB.
/// Returns (definition, input, transitions per run).
fn nested_map(outer: usize, inner: usize) -> (Value, Value, usize) {
    let passes = 11;
    let mut states = serde_json::Map::new();
    for i in 0..passes {
        let mut s = json!({"Type": "Pass", "Parameters": {"doc.$": "$.doc", "prev.$": "$.r"}, "ResultPath": "$.r"});
        if i + 1 < passes {
            s["Next"] = json!(format!("P{}", i + 1));
        } else {
            s["End"] = json!(true);
            // The iteration's output stays small so the Map results fit the payload limit.
            s["OutputPath"] = json!("$.i");
        }
        states.insert(format!("P{i}"), s);
    }
    let def = json!({"StartAt": "Outer", "States": {"Outer": {
        "Type": "Map", "ItemsPath": "$.outer", "ResultPath": "$.results", "End": true,
        "ItemSelector": {"doc.$": "$.doc", "inner.$": "$.inner"},
        "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": {
            "Type": "Map", "ItemsPath": "$.inner", "ResultPath": null, "OutputPath": "$.doc.field_00", "End": true,
            "ItemSelector": {"doc.$": "$.doc", "i.$": "$$.Map.Item.Value", "r": {}},
            "ItemProcessor": {"StartAt": "P0", "States": states}}}}}}});
    let input = json!({"doc": doc_1k(), "outer": (0..outer).collect::<Vec<_>>(), "inner": (0..inner).collect::<Vec<_>>()});
    (def, input, 1 + outer * (1 + inner * passes))
}

/// `wsflow run` of each binary in `WSFLOW_BINS` (see the module doc).
fn whole_process(name: &str, def: &Value, input: &Value, transitions: usize) {
    let Ok(bins) = std::env::var("WSFLOW_BINS") else {
        return;
    };
    let bins: Vec<(String, String)> = bins
        .split(',')
        .filter_map(|b| {
            b.split_once('=')
                .map(|(n, p)| (n.to_string(), p.to_string()))
        })
        .collect();
    let runs: usize = std::env::var("WSFLOW_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("wsflow-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let def_file = dir.join("bench.asl.json");
    let input_file = dir.join("input.json");
    std::fs::write(&def_file, def.to_string()).expect("write definition");
    std::fs::write(&input_file, input.to_string()).expect("write input");
    let mut samples = vec![Vec::new(); bins.len()];
    for _ in 0..runs {
        for (k, (_, bin)) in bins.iter().enumerate() {
            let t = Instant::now();
            let out = std::process::Command::new(bin)
                .arg("run")
                .arg(&def_file)
                .arg("--input")
                .arg(format!("@{}", input_file.display()))
                .output()
                .expect("run wsflow");
            let secs = t.elapsed().as_secs_f64();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("\"SUCCEEDED\""), "{bin}: {text}");
            samples[k].push(transitions as f64 / secs);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let first = median(&mut samples[0].clone());
    for (k, (bname, _)) in bins.iter().enumerate() {
        let m = median(&mut samples[k]);
        println!(
            "wsflow run [{bname:<6}] {name:<38} median {m:>12.0} transitions/s  (min {:.0}, max {:.0}; x{:.2} vs {})",
            samples[k][0],
            samples[k][samples[k].len() - 1],
            m / first,
            bins[0].0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
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
    // Whole-process figures first (they need no in-process warm-up).
    // A bare Pass chain of 1,000 states carrying the 1 KiB document, run by a
    // Map over 1,000 items (so that the definition stays small next to the work).
    let pass_chain = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
    "ItemsPath": "$.items", "ItemSelector": {"doc.$": "$.doc", "i.$": "$$.Map.Item.Value"},
    "ResultPath": null, "ItemProcessor": chain(1000, |i| {
        // The last state keeps the Map's result under the payload limit.
        if i == 999 { json!({"Type": "Pass", "OutputPath": "$.i"}) } else { json!({"Type": "Pass"}) }
    })}}});
    let items = json!({"doc": doc_1k(), "items": (0..1000).collect::<Vec<_>>()});
    whole_process(
        "bare Pass chain 1,000 x 1,000, 1 KiB",
        &pass_chain,
        &items,
        1 + 1000 * 1000,
    );
    let long_chain = chain(20_000, |_| json!({"Type": "Pass"}));
    whole_process(
        "bare Pass chain of 20,000 states, 1 KiB",
        &long_chain,
        &doc_1k(),
        20_000,
    );
    let (def, input, transitions) = nested_map(100, 1000);
    whole_process(
        "nested Map 100 x 1,000 x 11 Pass",
        &def,
        &input,
        transitions,
    );
    let n = 1000;
    measure(
        "bare Pass chain",
        &chain(n, |_| json!({"Type": "Pass"})),
        &json!({"a": 1}),
        n,
        200,
    );
    let (def, input, transitions) = nested_map(10, 1000);
    measure(
        "nested Map 10 x 1,000 x 11 Pass (~11 KiB)",
        &def,
        &input,
        transitions,
        1,
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
