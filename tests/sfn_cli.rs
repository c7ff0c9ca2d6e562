//! An `aws stepfunctions` CLI session against a real `wsflow up` process: the
//! AWS CLI (v1 or v2, unchanged, only `--endpoint-url`) creates a Standard
//! state machine, runs, lists, stops and inspects its executions, runs the
//! template's Express machine synchronously, gets AWS's error for an unknown
//! execution, and deletes the machine. Every step checks the values the CLI
//! printed.

mod support;

use serde_json::{Value, json};
use support::*;

const ACCOUNT_PREFIX: &str = "arn:aws:states:us-east-1:123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/cli-session-role";

/// Pass (adds `passed`) → Wait (`$.wait` seconds) → Succeed.
fn definition() -> Value {
    json!({
        "Comment": "CLI session: Pass, then a Wait as long as the input says, then Succeed",
        "StartAt": "Greet",
        "States": {
            "Greet": {"Type": "Pass", "Result": {"by": "cli"}, "ResultPath": "$.passed", "Next": "Hold"},
            "Hold": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }
    })
}

/// The CLI must be present on CI (which installs it); elsewhere the test is
/// skipped with a message, like `tests/lifecycle.rs`.
fn cli_available(stack: &Stack) -> bool {
    if aws_cli(stack, &["--version"]).is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the aws CLI is required on CI (.ci/run installs it)"
    );
    eprintln!("SKIPPED: the aws CLI is not installed (.ci/run installs it)");
    false
}

/// Runs `aws stepfunctions <args>` and parses its JSON output (panics on failure).
fn sfn(stack: &Stack, args: &[&str]) -> Value {
    let mut full = vec!["stepfunctions"];
    full.extend_from_slice(args);
    aws_cli(stack, &full)
        .expect("aws CLI installed")
        .json(&format!("aws {}", full.join(" ")))
}

/// Parses a JSON document the CLI returned inside a string field.
fn inner_json(v: &Value, field: &str) -> Value {
    let text = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string: {v}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{field} is not JSON ({e}): {text}"))
}

/// A timestamp as the CLI prints it: epoch seconds (v1's default) or an ISO
/// 8601 string (v2's default).
fn is_timestamp(v: &Value) -> bool {
    v.as_f64().is_some_and(|t| t > 1.0e9) || v.as_str().is_some_and(|t| t.len() >= 19)
}

fn event_types(history: &Value) -> Vec<String> {
    history["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events: {history}"))
        .iter()
        .map(|e| e["type"].as_str().expect("event type").to_owned())
        .collect()
}

fn event_ids(history: &Value) -> Vec<u64> {
    history["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events: {history}"))
        .iter()
        .map(|e| e["id"].as_u64().expect("event id"))
        .collect()
}

fn names_of(list: &Value, key: &str) -> Vec<String> {
    let mut names: Vec<String> = list[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {list}"))
        .iter()
        .map(|m| m["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_aws_cli_session_creates_runs_stops_inspects_and_deletes() {
    // Waits run five times faster: the held execution waits 300 s (60 s of
    // real time, far more than the session needs), the template's Express
    // machine waits 5 s (1 s).
    let stack = Stack::start_with(StackOptions {
        time_scale: 0.2,
        ..StackOptions::default()
    });
    if !cli_available(&stack) {
        return;
    }
    let machine_arn = format!("{ACCOUNT_PREFIX}:stateMachine:cli-machine");

    // create-state-machine
    let definition_text = definition().to_string();
    let created = sfn(
        &stack,
        &[
            "create-state-machine",
            "--name",
            "cli-machine",
            "--definition",
            &definition_text,
            "--role-arn",
            ROLE,
        ],
    );
    assert_eq!(
        created["stateMachineArn"],
        machine_arn.as_str(),
        "{created}"
    );
    assert!(is_timestamp(&created["creationDate"]), "{created}");

    // describe-state-machine
    let described = sfn(
        &stack,
        &[
            "describe-state-machine",
            "--state-machine-arn",
            &machine_arn,
        ],
    );
    assert_eq!(described["name"], "cli-machine", "{described}");
    assert_eq!(described["stateMachineArn"], machine_arn.as_str());
    assert_eq!(described["type"], "STANDARD");
    assert_eq!(described["status"], "ACTIVE");
    assert_eq!(described["roleArn"], ROLE);
    assert_eq!(inner_json(&described, "definition"), definition());

    // list-state-machines: the template's two machines and the new one.
    let listed = sfn(&stack, &["list-state-machines"]);
    assert_eq!(
        names_of(&listed, "stateMachines"),
        [
            "cli-machine",
            "wsflow-AsyncStateMachine",
            "wsflow-SyncStateMachine"
        ],
        "{listed}"
    );
    for m in listed["stateMachines"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let kind = if name == "wsflow-SyncStateMachine" {
            "EXPRESS"
        } else {
            "STANDARD"
        };
        assert_eq!(m["type"], kind, "{m}");
        assert_eq!(
            m["stateMachineArn"],
            format!("{ACCOUNT_PREFIX}:stateMachine:{name}").as_str()
        );
    }

    // A run that finishes at once (wait 0), to have a SUCCEEDED execution
    // next to the RUNNING one.
    let quick = sfn(
        &stack,
        &[
            "start-execution",
            "--state-machine-arn",
            &machine_arn,
            "--name",
            "quick",
            "--input",
            r#"{"wait": 0}"#,
        ],
    );
    let quick_arn = format!("{ACCOUNT_PREFIX}:execution:cli-machine:quick");
    assert_eq!(quick["executionArn"], quick_arn.as_str(), "{quick}");
    let mut quick_done = Value::Null;
    for _ in 0..50 {
        quick_done = sfn(
            &stack,
            &["describe-execution", "--execution-arn", &quick_arn],
        );
        if quick_done["status"] != "RUNNING" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(quick_done["status"], "SUCCEEDED", "{quick_done}");
    assert_eq!(
        inner_json(&quick_done, "output"),
        json!({"wait": 0, "passed": {"by": "cli"}})
    );

    // start-execution with --name and --input
    let started = sfn(
        &stack,
        &[
            "start-execution",
            "--state-machine-arn",
            &machine_arn,
            "--name",
            "held",
            "--input",
            r#"{"wait": 300, "who": "cli"}"#,
        ],
    );
    let held_arn = format!("{ACCOUNT_PREFIX}:execution:cli-machine:held");
    assert_eq!(started["executionArn"], held_arn.as_str(), "{started}");
    assert!(is_timestamp(&started["startDate"]), "{started}");

    // describe-execution: RUNNING, with its input.
    let running = sfn(
        &stack,
        &["describe-execution", "--execution-arn", &held_arn],
    );
    assert_eq!(running["status"], "RUNNING", "{running}");
    assert_eq!(running["name"], "held");
    assert_eq!(running["stateMachineArn"], machine_arn.as_str());
    assert_eq!(
        inner_json(&running, "input"),
        json!({"wait": 300, "who": "cli"})
    );
    assert!(running.get("stopDate").is_none(), "{running}");
    assert!(running.get("output").is_none(), "{running}");

    // list-executions: the filter selects by status.
    let running_list = sfn(
        &stack,
        &[
            "list-executions",
            "--state-machine-arn",
            &machine_arn,
            "--status-filter",
            "RUNNING",
        ],
    );
    assert_eq!(
        names_of(&running_list, "executions"),
        ["held"],
        "{running_list}"
    );
    assert_eq!(
        running_list["executions"][0]["executionArn"],
        held_arn.as_str()
    );
    assert_eq!(running_list["executions"][0]["status"], "RUNNING");
    let all = sfn(
        &stack,
        &["list-executions", "--state-machine-arn", &machine_arn],
    );
    assert_eq!(names_of(&all, "executions"), ["held", "quick"], "{all}");

    // stop-execution with an error and a cause.
    let stopped = sfn(
        &stack,
        &[
            "stop-execution",
            "--execution-arn",
            &held_arn,
            "--error",
            "Stopped.ByCli",
            "--cause",
            "the CLI session stopped it",
        ],
    );
    assert!(is_timestamp(&stopped["stopDate"]), "{stopped}");

    // describe-execution: ABORTED, with the error and the cause.
    let aborted = sfn(
        &stack,
        &["describe-execution", "--execution-arn", &held_arn],
    );
    assert_eq!(aborted["status"], "ABORTED", "{aborted}");
    assert_eq!(aborted["error"], "Stopped.ByCli");
    assert_eq!(aborted["cause"], "the CLI session stopped it");
    assert_eq!(aborted["stopDate"], stopped["stopDate"], "{aborted}");
    let none_running = sfn(
        &stack,
        &[
            "list-executions",
            "--state-machine-arn",
            &machine_arn,
            "--status-filter",
            "RUNNING",
        ],
    );
    assert_eq!(
        none_running["executions"],
        json!([]),
        "nothing runs after the stop: {none_running}"
    );

    // get-execution-history: started, the Pass, the Wait entered, aborted.
    let history = sfn(
        &stack,
        &["get-execution-history", "--execution-arn", &held_arn],
    );
    let expected = [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "WaitStateEntered",
        "ExecutionAborted",
    ];
    assert_eq!(event_types(&history), expected, "{history}");
    assert_eq!(event_ids(&history), [1, 2, 3, 4, 5], "{history}");
    let events = history["events"].as_array().unwrap();
    assert_eq!(
        inner_json(&events[0]["executionStartedEventDetails"], "input"),
        json!({"wait": 300, "who": "cli"}),
        "{history}"
    );
    assert_eq!(
        events[0]["executionStartedEventDetails"]["roleArn"], ROLE,
        "{history}"
    );
    assert_eq!(events[1]["stateEnteredEventDetails"]["name"], "Greet");
    assert_eq!(
        inner_json(&events[2]["stateExitedEventDetails"], "output"),
        json!({"wait": 300, "who": "cli", "passed": {"by": "cli"}})
    );
    assert_eq!(events[3]["stateEnteredEventDetails"]["name"], "Hold");
    assert_eq!(
        events[4]["executionAbortedEventDetails"],
        json!({"error": "Stopped.ByCli", "cause": "the CLI session stopped it"}),
        "{history}"
    );
    for e in events {
        assert!(is_timestamp(&e["timestamp"]), "{e}");
        let id = e["id"].as_u64().unwrap();
        assert!(e["previousEventId"].as_u64().unwrap() < id, "{e}");
    }

    // --reverse-order: the same events, newest first.
    let reversed = sfn(
        &stack,
        &[
            "get-execution-history",
            "--execution-arn",
            &held_arn,
            "--reverse-order",
        ],
    );
    let mut backwards = expected.to_vec();
    backwards.reverse();
    assert_eq!(event_types(&reversed), backwards, "{reversed}");
    assert_eq!(event_ids(&reversed), [5, 4, 3, 2, 1], "{reversed}");

    // start-sync-execution on the template's Express machine (the README's
    // AWS_DISABLE_HOST_PREFIX_INJECTION=true is set by `aws_cli`).
    let sync_arn = format!("{ACCOUNT_PREFIX}:stateMachine:wsflow-SyncStateMachine");
    let run = sfn(
        &stack,
        &[
            "start-sync-execution",
            "--state-machine-arn",
            &sync_arn,
            "--name",
            "cli-sync",
            "--input",
            r#"{"data": "cli"}"#,
        ],
    );
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    // Express execution ARNs end with an id after the name.
    let express_prefix = format!("{ACCOUNT_PREFIX}:express:wsflow-SyncStateMachine:cli-sync:");
    assert!(
        run["executionArn"]
            .as_str()
            .is_some_and(|a| a.len() > express_prefix.len() && a.starts_with(&express_prefix)),
        "{run}"
    );
    assert_eq!(run["name"], "cli-sync", "{run}");
    assert_eq!(inner_json(&run, "input"), json!({"data": "cli"}));
    assert_eq!(run["stateMachineArn"], sync_arn.as_str(), "{run}");
    let output = inner_json(&run, "output");
    assert_eq!(output["data"], "cli", "{output}");
    assert_eq!(output["result"]["type"], "string", "{output}");
    assert_eq!(output["result"]["length"], 3, "{output}");
    assert_eq!(output["result"]["bytes"], 3, "{output}");
    // `printf cli | sha256sum`
    assert_eq!(
        output["result"]["sha256"],
        "99bb88401742848e032fd6f51709415fb6be169a72d2e5d7fc44289255160d3c"
    );
    assert!(is_timestamp(&run["startDate"]) && is_timestamp(&run["stopDate"]));

    // An unknown execution: the CLI fails with AWS's error code.
    let unknown = format!("{ACCOUNT_PREFIX}:execution:cli-machine:never-started");
    let out = aws_cli(
        &stack,
        &[
            "stepfunctions",
            "describe-execution",
            "--execution-arn",
            &unknown,
        ],
    )
    .expect("aws CLI installed");
    assert!(!out.success(), "exit code {:?}: {}", out.code, out.stdout);
    assert!(
        out.stderr.contains("ExecutionDoesNotExist"),
        "stderr: {}",
        out.stderr
    );
    assert!(out.stderr.contains(&unknown), "stderr: {}", out.stderr);

    // delete-state-machine: gone from describe and list.
    let deleted = sfn(
        &stack,
        &["delete-state-machine", "--state-machine-arn", &machine_arn],
    );
    assert!(
        deleted.is_null() || deleted == json!({}),
        "empty answer: {deleted}"
    );
    let out = aws_cli(
        &stack,
        &[
            "stepfunctions",
            "describe-state-machine",
            "--state-machine-arn",
            &machine_arn,
        ],
    )
    .expect("aws CLI installed");
    assert!(!out.success(), "describe after delete: {}", out.stdout);
    assert!(
        out.stderr.contains("StateMachineDoesNotExist"),
        "stderr: {}",
        out.stderr
    );
    let listed = sfn(&stack, &["list-state-machines"]);
    assert_eq!(
        names_of(&listed, "stateMachines"),
        ["wsflow-AsyncStateMachine", "wsflow-SyncStateMachine"],
        "{listed}"
    );
}
