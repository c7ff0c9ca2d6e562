//! `wsflow up --mocks MockConfigFile.json` against the real stack and the real
//! functions: `<stateMachineArn>#<TestCase>` runs with the test case's mocked
//! responses (and the real integration for states it does not mock); without
//! a test case executions run for real; an unknown test case names no state
//! machine; an integration the stack cannot emulate fails with a cause that
//! says how to mock it, and runs once mocked.

mod support;

use serde_json::{Value, json};
use support::{Stack, StackOptions};

const ACCOUNT: &str = "arn:aws:states:us-east-1:123456789012";

fn mock_config() -> Value {
    json!({
        "StateMachines": {
            "wsflow-SyncStateMachine": {"TestCases": {
                "MockedProcess": {"Validate and enrich": "ProcessResult"},
                "InvalidData": {"Validate and enrich": "ProcessFails"}
            }},
            "wsflow-AsyncStateMachine": {"TestCases": {
                "HybridPath": {"Validate and enrich": "ProcessResult"}
            }},
            "Publisher": {"TestCases": {
                "Published": {"Publish": "SnsPublished"}
            }}
        },
        "MockedResponses": {
            "ProcessResult": {"0": {"Return": {"StatusCode": 200, "Payload": {
                "type": "mocked", "length": 1, "bytes": 1, "sha256": "mocked-sha", "processedAt": "2026-01-01T00:00:00Z"
            }}}},
            "ProcessFails": {"0-2": {"Throw": {"Error": "InvalidData", "Cause": "mocked failure"}}},
            "SnsPublished": {"0": {"Return": {"MessageId": "mocked-message-id"}}}
        }
    })
}

async fn start_sync(stack: &Stack, machine_arn: &str, input: Value) -> (u16, Value) {
    stack
        .aws_json(
            "AWSStepFunctions.StartSyncExecution",
            json!({"stateMachineArn": machine_arn, "input": input.to_string()}),
        )
        .await
}

fn output(reply: &Value) -> Value {
    serde_json::from_str(reply["output"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_cases_answer_from_the_mock_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let mocks = dir.path().join("MockConfigFile.json");
    std::fs::write(&mocks, mock_config().to_string()).unwrap();
    let stack = Stack::start_with(StackOptions {
        extra: vec!["--mocks".into(), mocks.to_string_lossy().into_owned()],
        ..StackOptions::default()
    });
    let sync = format!("{ACCOUNT}:stateMachine:wsflow-SyncStateMachine");

    // The test case answers the Lambda task from the file.
    let (status, reply) = start_sync(
        &stack,
        &format!("{sync}#MockedProcess"),
        json!({"data": "x"}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    assert_eq!(output(&reply)["result"]["sha256"], "mocked-sha");
    assert_eq!(
        reply["stateMachineArn"], sync,
        "the ARN without the test case"
    );

    // A mocked Throw goes through the state's Retry/Catch like a real error.
    let (_, reply) = start_sync(&stack, &format!("{sync}#InvalidData"), json!({"data": "x"})).await;
    assert_eq!(reply["status"], "FAILED", "{reply}");
    assert_eq!(reply["error"], "InvalidData");
    assert_eq!(reply["cause"], "mocked failure");

    // Without a test case the real process-task function runs.
    let (_, reply) = start_sync(&stack, &sync, json!({"data": "123456"})).await;
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    assert_eq!(
        output(&reply)["result"]["sha256"],
        "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"
    );

    // An unknown test case names no state machine.
    let missing = format!("{sync}#NoSuchCase");
    let (status, reply) = start_sync(&stack, &missing, json!({})).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["__type"]
            .as_str()
            .unwrap()
            .ends_with("StateMachineDoesNotExist"),
        "{reply}"
    );
    assert_eq!(
        reply["message"],
        format!("State Machine Does Not Exist: '{missing}'")
    );

    // A Standard execution mocks one state and runs the others for real; its
    // history shows the mocked task as a real one.
    let standard = format!("{ACCOUNT}:stateMachine:wsflow-AsyncStateMachine");
    let (status, started) = stack
        .aws_json(
            "AWSStepFunctions.StartExecution",
            json!({"stateMachineArn": format!("{standard}#HybridPath"), "name": "hybrid",
                   "input": json!({"connectionId": "gone", "data": "x"}).to_string()}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(
        arn,
        format!("{ACCOUNT}:execution:wsflow-AsyncStateMachine:hybrid")
    );
    let described = support::eventually(30, || async {
        let (_, d) = stack
            .aws_json(
                "AWSStepFunctions.DescribeExecution",
                json!({"executionArn": arn}),
            )
            .await;
        (d["status"] != "RUNNING").then_some(d)
    })
    .await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let (_, history) = stack
        .aws_json(
            "AWSStepFunctions.GetExecutionHistory",
            json!({"executionArn": arn}),
        )
        .await;
    let events = history["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "TaskScheduled").count(),
        2,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| **t == "TaskSucceeded").count(),
        2,
        "{types:?}"
    );
    let succeeded: Vec<Value> = events
        .iter()
        .filter(|e| e["type"] == "TaskSucceeded")
        .map(|e| {
            serde_json::from_str(e["taskSucceededEventDetails"]["output"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(
        succeeded[0]["Payload"]["sha256"], "mocked-sha",
        "{succeeded:?}"
    );
    // The notifier really ran: the connection does not exist, so it reports
    // the message as not delivered.
    assert_eq!(succeeded[1]["Payload"]["delivered"], false, "{succeeded:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unemulated_integrations_say_how_to_mock_them() {
    let dir = tempfile::tempdir().unwrap();
    let mocks = dir.path().join("MockConfigFile.json");
    std::fs::write(&mocks, mock_config().to_string()).unwrap();
    let stack = Stack::start_with(StackOptions {
        extra: vec!["--mocks".into(), mocks.to_string_lossy().into_owned()],
        ..StackOptions::default()
    });
    let definition = json!({
        "StartAt": "Publish",
        "States": {"Publish": {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": [{"Source": "wsflow.test", "DetailType": "t", "Detail": {"m.$": "$.m"}}]},
            "End": true
        }}
    });
    let (status, created) = stack
        .aws_json(
            "AWSStepFunctions.CreateStateMachine",
            json!({"name": "Publisher", "type": "EXPRESS", "definition": definition.to_string(),
                   "roleArn": "arn:aws:iam::123456789012:role/r"}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let machine = created["stateMachineArn"].as_str().unwrap().to_owned();

    let (_, reply) = start_sync(&stack, &machine, json!({"m": "hi"})).await;
    assert_eq!(reply["status"], "FAILED", "{reply}");
    assert_eq!(reply["error"], "States.IntegrationNotSupported");
    let cause = reply["cause"].as_str().unwrap();
    for part in [
        "arn:aws:states:::events:putEvents",
        "'Publish'",
        "--mocks",
        "#<TestCaseName>",
    ] {
        assert!(cause.contains(part), "{part} not in {cause}");
    }

    let (_, reply) = start_sync(&stack, &format!("{machine}#Published"), json!({"m": "hi"})).await;
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    assert_eq!(output(&reply), json!({"MessageId": "mocked-message-id"}));
}

#[test]
fn a_broken_mock_config_file_stops_the_stack_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let mocks = dir.path().join("MockConfigFile.json");
    std::fs::write(
        &mocks,
        r#"{"StateMachines": {"M": {"TestCases": {"T": {"S": "Missing"}}}}, "MockedResponses": {}}"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsflow"))
        .current_dir(support::workspace())
        .args(["up", "--port", "0", "--time-scale", "0"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--functions-dir")
        .arg(support::functions_dir())
        .arg("--mocks")
        .arg(&mocks)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("M#T") && stderr.contains("Missing"),
        "{stderr}"
    );
}
