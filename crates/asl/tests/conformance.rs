//! Runs every AWS-recorded case in `shared/conformance/` through the engine and
//! compares status, output, error and cause (placeholders as wildcards, per the
//! cases' README). Cases listed in `conformance_known_failures.txt` may fail;
//! any other failure fails the test. Prints a summary.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use wsflow_asl::{
    BoxFuture, Clock, ExecutionContext, StateMachine, TaskCall, TaskFailure, TaskInvoker,
};

/// A clock that jumps to any deadline at once.
struct InstantClock(AtomicI64);

impl Clock for InstantClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
    fn sleep_until<'a>(&'a self, deadline: i64) -> BoxFuture<'a, ()> {
        self.0.fetch_max(deadline, Ordering::Relaxed);
        Box::pin(async {})
    }
}

/// Replays the case's `mocks` verbatim (they are task results, not API responses).
struct CaseMocks {
    mocks: HashMap<String, Vec<Value>>,
    counts: Mutex<HashMap<String, usize>>,
}

impl TaskInvoker for CaseMocks {
    fn invoke<'a>(&'a self, call: TaskCall) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let k = {
            let mut c = self.counts.lock().unwrap();
            let e = c.entry(call.state_name.clone()).or_insert(0);
            *e += 1;
            *e - 1
        };
        let r = self
            .mocks
            .get(&call.state_name)
            .and_then(|l| l.get(k))
            .cloned();
        Box::pin(async move {
            match r {
                Some(v) if v.get("Return").is_some() => Ok(v["Return"].clone()),
                Some(v) if v.get("Throw").is_some() => Err(TaskFailure {
                    error: v["Throw"]
                        .get("Error")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    cause: v["Throw"]
                        .get("Cause")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                }),
                _ => Err(TaskFailure::new(
                    "States.TaskFailed",
                    format!("no mock #{k} for {}", call.state_name),
                )),
            }
        })
    }
}

fn is_placeholder_token(s: &str) -> bool {
    matches!(
        s,
        "date"
            | "timestamp"
            | "datetime"
            | "start-time"
            | "start-date"
            | "entered-time"
            | "snf_role_arn"
            | "sfn_role_arn"
            | "RandomNumberGenerated"
    ) || (s.starts_with('<') && s.ends_with('>'))
}

/// Wildcard match: `<...>` placeholders (and, for normalized cases, `date`) match any text.
fn str_match(exp: &str, act: &str, normalized: bool) -> bool {
    if exp == act {
        return true;
    }
    if normalized && is_placeholder_token(exp) {
        return true;
    }
    // Build segments split by placeholders.
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = exp;
    let mut any = false;
    while let Some(i) = rest.find('<') {
        match rest[i..].find('>') {
            Some(j) if j > 1 && !rest[i + 1..i + j].contains(' ') => {
                parts.push(&rest[..i]);
                rest = &rest[i + j + 1..];
                any = true;
            }
            _ => break,
        }
    }
    parts.push(rest);
    let mut expanded: Vec<String> = Vec::new();
    for p in parts {
        if normalized {
            let mut first = true;
            for q in p.split("date") {
                if !first {
                    any = true;
                }
                expanded.push(q.to_string());
                first = false;
            }
        } else {
            expanded.push(p.to_string());
        }
    }
    if !any {
        // Maybe both are JSON texts.
        if let (Ok(a), Ok(b)) = (
            serde_json::from_str::<Value>(exp),
            serde_json::from_str::<Value>(act),
        ) && (a.is_object() || a.is_array())
        {
            return val_match(&a, &b, normalized);
        }
        return false;
    }
    // Sequential wildcard match.
    let mut pos = 0usize;
    let n = expanded.len();
    for (i, seg) in expanded.iter().enumerate() {
        if i == 0 {
            if !act.starts_with(seg.as_str()) {
                return false;
            }
            pos = seg.len();
        } else if i == n - 1 {
            return act.len() >= pos + seg.len() && act.ends_with(seg.as_str());
        } else {
            match act[pos..].find(seg.as_str()) {
                Some(k) => pos += k + seg.len(),
                None => return false,
            }
        }
    }
    pos == act.len() || n == 1
}

fn val_match(exp: &Value, act: &Value, normalized: bool) -> bool {
    match (exp, act) {
        (Value::String(e), Value::String(a)) => str_match(e, a, normalized),
        (Value::String(e), _) if normalized && is_placeholder_token(e) => true,
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| val_match(x, y, normalized))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| val_match(v, av, normalized)))
        }
        (e, a) => e == a,
    }
}

fn opt_str_match(exp: Option<&str>, act: Option<&str>, normalized: bool) -> bool {
    let e = exp.unwrap_or("");
    let a = act.unwrap_or("");
    str_match(e, a, normalized) || (normalized && e.starts_with('<') && e.ends_with('>'))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

async fn run_case(case: &Value) -> Result<(), String> {
    let def = serde_json::to_string(&case["definition"]).unwrap();
    let machine = StateMachine::parse(&def).map_err(|e| format!("definition rejected: {e}"))?;
    let mocks: HashMap<String, Vec<Value>> = case["mocks"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_array().cloned().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let invoker = CaseMocks {
        mocks,
        counts: Mutex::new(HashMap::new()),
    };
    let start = 1_700_000_000_000;
    let clock = InstantClock(AtomicI64::new(start));
    let mut ctx = ExecutionContext::local("ArnPart_0idx", "ExecArnPart_0idx", start);
    let id = case["id"].as_str().unwrap_or("");
    let express = id.starts_with("express/")
        || (case["history"].as_array().is_some_and(|h| h.is_empty())
            && !id.starts_with("choice_operators/"));
    ctx.execution_arn = if express {
        "arn:aws:states:us-east-1:111111111111:express:<ArnPart_0idx>:<ExecArnPart_0idx>:<uuid>"
            .into()
    } else {
        "arn:aws:states:us-east-1:111111111111:execution:<ArnPart_0idx>:<ExecArnPart_0idx>".into()
    };
    ctx.state_machine_arn =
        "arn:aws:states:us-east-1:111111111111:stateMachine:<ArnPart_0idx>".into();
    let out =
        wsflow_asl::run_execution(&machine, case["input"].clone(), ctx, &invoker, &clock, None)
            .await;
    let exp = &case["expected"];
    let normalized = case["normalized"].as_bool().unwrap_or(false);
    let status = out.status.as_str();
    if exp["status"].as_str() != Some(status) {
        return Err(format!(
            "status {status} (error {:?}, cause {:?}) != expected {} ({:?} / {:?})",
            out.error,
            out.cause,
            exp["status"],
            exp.get("error"),
            exp.get("cause")
        ));
    }
    if status == "SUCCEEDED" {
        let o = out.output.unwrap_or(Value::Null);
        if !val_match(&exp["output"], &o, normalized) {
            return Err(format!("output {} != expected {}", o, exp["output"]));
        }
    } else {
        if !opt_str_match(
            exp.get("error").and_then(Value::as_str),
            out.error.as_deref(),
            normalized,
        ) {
            return Err(format!(
                "error {:?} != expected {:?}",
                out.error,
                exp.get("error")
            ));
        }
        if !opt_str_match(
            exp.get("cause").and_then(Value::as_str),
            out.cause.as_deref(),
            normalized,
        ) {
            return Err(format!(
                "cause {:?} != expected {:?}",
                out.cause,
                exp.get("cause")
            ));
        }
    }
    Ok(())
}

#[tokio::test]
async fn conformance() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no conformance cases found under {}",
        root.display()
    );
    let known_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance_known_failures.txt"),
    )
    .unwrap_or_default();
    let known: BTreeMap<String, String> = known_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(" | ") {
            Some((id, why)) => (id.trim().to_string(), why.trim().to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .collect();
    let filter = std::env::var("CONFORMANCE_FILTER").ok();
    let (mut passed, mut known_failed) = (0, 0);
    let mut unexpected = Vec::new();
    let mut now_pass = Vec::new();
    for f in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let id = case["id"].as_str().unwrap_or("?").to_string();
        if let Some(flt) = &filter
            && !id.contains(flt.as_str())
        {
            continue;
        }
        // Isolate panics so one case cannot hide the others.
        let r = tokio::spawn(async move { run_case(&case).await })
            .await
            .unwrap_or_else(|e| Err(format!("panic: {e}")));
        match (r, known.contains_key(&id)) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => {
                passed += 1;
                now_pass.push(id);
            }
            (Err(_), true) => known_failed += 1,
            (Err(e), false) => unexpected.push(format!("{id}: {e}")),
        }
    }
    println!(
        "conformance: {passed} passed / {known_failed} known failures / {} unexpected failures (of {} cases; {} listed)",
        unexpected.len(),
        files.len(),
        known.len()
    );
    for id in &now_pass {
        println!("  listed but now passing (prune it): {id}");
    }
    for u in &unexpected {
        println!("  FAIL {u}");
    }
    assert!(
        unexpected.is_empty(),
        "{} unexpected conformance failures",
        unexpected.len()
    );
}

/// Every recorded definition, run with inputs it was not written for and with
/// every task failing, must end in a status (never a panic).
#[tokio::test]
async fn no_panic_on_foreign_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    let mut files = Vec::new();
    collect(&root, &mut files);
    let inputs = [
        Value::Null,
        serde_json::json!([]),
        serde_json::json!("x"),
        serde_json::json!({}),
        serde_json::json!({"a": [1, {"b": null}], "items": 3}),
    ];
    let mut runs = 0;
    for f in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let Ok(machine) = StateMachine::parse(&case["definition"].to_string()) else {
            continue;
        };
        for input in &inputs {
            let machine = machine.clone();
            let input = input.clone();
            let r = tokio::spawn(async move {
                let invoker = CaseMocks {
                    mocks: HashMap::new(),
                    counts: Mutex::new(HashMap::new()),
                };
                let clock = InstantClock(AtomicI64::new(0));
                let ctx = ExecutionContext::local("m", "e", 0);
                wsflow_asl::run_execution(&machine, input, ctx, &invoker, &clock, None).await
            })
            .await;
            let out = r.unwrap_or_else(|e| panic!("{}: engine panicked: {e}", case["id"]));
            assert!(
                matches!(out.status.as_str(), "SUCCEEDED" | "FAILED" | "TIMED_OUT"),
                "{}",
                case["id"]
            );
            runs += 1;
        }
    }
    assert!(runs > 1000, "only {runs} runs");
}
