//! `wsflow run` as a user runs it: the real binary on a definition file.
//! `--time-scale` has `wsflow up`'s meaning (0.1 = ten times faster), and
//! `--type EXPRESS` runs an Express execution (ARN, context object, the
//! 5 minute limit).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs `wsflow run <definition> <args…>`; the printed object and the wall time it took.
fn run(definition: &Path, args: &[&str]) -> (Value, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_wsflow"))
        .arg("run")
        .arg(definition)
        .args(args)
        .output()
        .expect("wsflow runs");
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "wsflow run printed no JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (value, took)
}

fn definition(dir: &Path, name: &str, asl: &Value) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.asl.json"));
    std::fs::write(&path, asl.to_string()).unwrap();
    path
}

fn wait_machine(seconds: u64) -> Value {
    serde_json::json!({
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": seconds, "Next": "Done"},
            "Done": {"Type": "Pass", "End": true}
        }
    })
}

/// Milliseconds between the first `WaitStateEntered` and `WaitStateExited` events.
fn waited_millis(result: &Value) -> i64 {
    let events = result["events"]
        .as_array()
        .expect("--history prints events");
    let at = |kind: &str| {
        events
            .iter()
            .find(|e| e["type"] == kind)
            .and_then(|e| e["timestamp"].as_f64())
            .map(|seconds| (seconds * 1000.0).round() as i64)
            .unwrap_or_else(|| panic!("no {kind} in {events:?}"))
    };
    at("WaitStateExited") - at("WaitStateEntered")
}

#[test]
fn time_scale_means_what_it_means_for_up() {
    let dir = tempfile::tempdir().unwrap();
    let def = definition(dir.path(), "Waits", &wait_machine(3));

    // A tenth of real time: the 3 s Wait takes about 0.3 s, and the history
    // still shows it lasting 3 s.
    let (fast, took) = run(&def, &["--time-scale", "0.1", "--history"]);
    assert_eq!(fast["status"], "SUCCEEDED", "{fast}");
    assert!(
        took >= Duration::from_millis(280) && took < Duration::from_millis(2_500),
        "--time-scale 0.1 must run a 3 s Wait in about 0.3 s, took {took:?}"
    );
    let waited = waited_millis(&fast);
    assert!(
        (3_000..3_500).contains(&waited),
        "history shows {waited} ms"
    );

    // No waiting at all.
    let (instant, took) = run(&def, &["--time-scale", "0", "--history"]);
    assert_eq!(instant["status"], "SUCCEEDED");
    assert!(took < Duration::from_millis(2_000), "{took:?}");
    assert!(waited_millis(&instant) >= 3_000);

    // A bad scale is refused.
    let out = Command::new(env!("CARGO_BIN_EXE_wsflow"))
        .args(["run", def.to_str().unwrap(), "--time-scale=-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--time-scale"));
}

#[test]
fn express_runs_have_express_arns_and_context() {
    let dir = tempfile::tempdir().unwrap();
    let def = definition(
        dir.path(),
        "Ctx",
        &serde_json::json!({
            "StartAt": "Context",
            "States": {"Context": {"Type": "Pass", "Parameters": {"execution.$": "$$.Execution", "machine.$": "$$.StateMachine.Id"}, "End": true}}
        }),
    );
    let (express, _) = run(&def, &["--type", "EXPRESS", "--input", r#"{"a":1}"#]);
    assert_eq!(express["status"], "SUCCEEDED", "{express}");
    let arn = express["executionArn"].as_str().unwrap();
    let parts: Vec<&str> = arn.split(':').collect();
    assert_eq!(
        parts[..6],
        [
            "arn",
            "aws",
            "states",
            "us-east-1",
            "123456789012",
            "express"
        ]
    );
    assert_eq!(parts[6], "Ctx");
    assert_eq!(parts[7], express["name"].as_str().unwrap());
    assert!(uuid_like(parts[8]), "{arn}");
    let output: Value = serde_json::from_str(express["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["execution"]["Id"], arn);
    assert_eq!(output["execution"]["Input"], serde_json::json!({"a": 1}));
    assert!(
        output["execution"].get("RedriveCount").is_none(),
        "an Express context object has no RedriveCount: {output}"
    );
    assert_eq!(
        output["machine"],
        "arn:aws:states:us-east-1:123456789012:stateMachine:Ctx"
    );

    let (standard, _) = run(&def, &["--type", "STANDARD"]);
    let arn = standard["executionArn"].as_str().unwrap();
    assert!(arn.contains(":execution:Ctx:"), "{arn}");
    let output: Value = serde_json::from_str(standard["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["execution"]["RedriveCount"], 0);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[test]
fn express_runs_stop_at_five_minutes_at_any_scale() {
    let dir = tempfile::tempdir().unwrap();
    let long = definition(dir.path(), "Long", &wait_machine(400));

    // 400 s at a thousandth of real time: the limit (300 s → 0.3 s) ends it first.
    let (scaled, took) = run(&long, &["--type", "EXPRESS", "--time-scale", "0.001"]);
    assert_eq!(scaled["status"], "TIMED_OUT", "{scaled}");
    assert_eq!(scaled["error"], "States.Timeout");
    assert!(scaled.get("output").is_none());
    assert!(took < Duration::from_secs(5), "{took:?}");

    // At scale 0 the wait is skipped, and the limit is still enforced.
    let (skipped, _) = run(&long, &["--type", "EXPRESS", "--time-scale", "0"]);
    assert_eq!(skipped["status"], "TIMED_OUT", "{skipped}");

    // A Standard execution has a year; an Express one under 5 minutes succeeds.
    let (standard, _) = run(&long, &["--time-scale", "0"]);
    assert_eq!(standard["status"], "SUCCEEDED");
    let short = definition(dir.path(), "Short", &wait_machine(299));
    let (express, _) = run(&short, &["--type", "EXPRESS", "--time-scale", "0"]);
    assert_eq!(express["status"], "SUCCEEDED", "{express}");
}

#[test]
fn a_missing_template_is_reported_once() {
    let out = Command::new(env!("CARGO_BIN_EXE_wsflow"))
        .args([
            "up",
            "--port",
            "0",
            "--template",
            "/nonexistent/wsflow/template.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("/nonexistent/wsflow/template.yaml"),
        "{stderr}"
    );
}

/// The README's example: the template's Express workflow run on the example
/// MockConfigFile under the template's machine name.
#[test]
fn the_example_mock_config_file_runs_the_apps_workflows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let def = root.join("statemachines/sync-express.asl.json");
    let mocks = root.join("examples/MockConfigFile.json");
    let args = |case: &'static str| {
        vec![
            "--name".to_owned(),
            "wsflow-SyncStateMachine".to_owned(),
            "--mocks".to_owned(),
            mocks.to_string_lossy().into_owned(),
            "--test-case".to_owned(),
            case.to_owned(),
            "--time-scale".to_owned(),
            "0".to_owned(),
            "--input".to_owned(),
            r#"{"data":"123456"}"#.to_owned(),
        ]
    };
    let happy = args("HappyPath");
    let (out, _) = run(&def, &happy.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out["status"], "SUCCEEDED", "{out}");
    assert!(
        out["stateMachineArn"]
            .as_str()
            .unwrap()
            .ends_with(":stateMachine:wsflow-SyncStateMachine")
    );
    let output: Value = serde_json::from_str(out["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output["result"]["sha256"],
        "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"
    );
    let invalid = args("InvalidData");
    let (out, _) = run(
        &def,
        &invalid.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(out["status"], "FAILED", "{out}");
    assert_eq!(out["error"], "InvalidData");
}
