//! The Lambda API on the edge port against a real `wsflow up` process, with
//! the real `aws` CLI and boto3 (unchanged, only `--endpoint-url` /
//! `endpoint_url`): `Invoke` (RequestResponse with a result and with a
//! function error, Event, DryRun), `ListFunctions`, `GetFunction` by name, ARN
//! and partial ARN, and AWS's 404 for an unknown function.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::*;

const FUNCTION_ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

/// The CLI and boto3 must be present on CI (which installs them); elsewhere
/// the test is skipped with a message, like `tests/sfn_cli.rs`.
fn tools_available(stack: &Stack) -> bool {
    let boto3 = Command::new("python3")
        .args(["-c", "import boto3"])
        .status()
        .is_ok_and(|s| s.success());
    if boto3 && aws_cli(stack, &["--version"]).is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the aws CLI and boto3 are required on CI (.ci/run installs them)"
    );
    eprintln!("SKIPPED: the aws CLI or boto3 is not installed (.ci/run installs them)");
    false
}

/// The name of the template function whose logical id is `logical_id`
/// (the stack names them `<stack>-<LogicalId>`), read from `list-functions`.
fn function_named(functions: &Value, logical_id: &str) -> String {
    functions["Functions"]
        .as_array()
        .expect("Functions")
        .iter()
        .filter_map(|f| f["FunctionName"].as_str())
        .find(|n| n.ends_with(logical_id))
        .unwrap_or_else(|| panic!("no function {logical_id} in {functions}"))
        .to_owned()
}

/// `aws lambda invoke … <outfile>`: the CLI's JSON and the payload file.
fn cli_invoke(stack: &Stack, args: &[&str]) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let mut full = vec!["lambda", "invoke"];
    full.extend_from_slice(args);
    full.push(out.to_str().unwrap());
    let printed = aws_cli(stack, &full)
        .expect("aws CLI installed")
        .json(&format!("aws {}", full.join(" ")));
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let payload = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("outfile not JSON ({e}): {text}"))
    };
    (printed, payload)
}

/// Runs `script` with a boto3 Lambda client `lam` pointed at the stack
/// (`sys.argv[2:]` are `args`) and returns what it printed, as JSON.
fn boto3(stack: &Stack, script: &str, args: &[&str]) -> Value {
    let prelude = r#"
import json, sys, boto3, botocore.exceptions
lam = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
"#;
    let out = Command::new("python3")
        .args(["-c", &format!("{prelude}{script}"), &stack.http_url()])
        .args(args)
        .env("AWS_CONFIG_FILE", "/nonexistent/wsflow-aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/wsflow-aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "boto3 script failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("boto3 printed no JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn aws_cli_invokes_lists_and_describes_the_templates_functions() {
    let stack = Stack::start();
    if !tools_available(&stack) {
        return;
    }
    let listed = aws_cli(&stack, &["lambda", "list-functions"])
        .expect("aws CLI installed")
        .json("aws lambda list-functions");
    let process = function_named(&listed, "ProcessFunction");
    let echo = function_named(&listed, "EchoFunction");
    let all = listed["Functions"].as_array().unwrap();
    assert!(all.len() >= 5, "the template's functions: {listed}");
    for f in all {
        let name = f["FunctionName"].as_str().unwrap();
        assert_eq!(f["FunctionArn"], format!("{FUNCTION_ARN_PREFIX}{name}"));
        assert_eq!(f["Runtime"], "provided.al2023");
        assert_eq!(f["Architectures"], json!(["arm64"]));
    }
    let post = all
        .iter()
        .find(|f| {
            f["FunctionName"]
                .as_str()
                .unwrap()
                .ends_with("PostFunction")
        })
        .unwrap();
    assert_eq!(post["Timeout"], 30, "the template's Timeout: {post}");

    // A result: the process task's enrichment of "hello world".
    let (printed, payload) = cli_invoke(
        &stack,
        &[
            "--function-name",
            &process,
            "--payload",
            r#"{"data":"hello world"}"#,
        ],
    );
    assert_eq!(printed["StatusCode"], 200, "{printed}");
    assert!(printed.get("FunctionError").is_none(), "{printed}");
    assert_eq!(payload["type"], "string");
    assert_eq!(payload["length"], 11);
    assert_eq!(
        payload["sha256"],
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );

    // A function error, by full ARN: still 200, with FunctionError.
    let arn = format!("{FUNCTION_ARN_PREFIX}{process}");
    let (printed, payload) = cli_invoke(&stack, &["--function-name", &arn, "--payload", "{}"]);
    assert_eq!(printed["StatusCode"], 200, "{printed}");
    assert_eq!(printed["FunctionError"], "Unhandled", "{printed}");
    assert_eq!(payload["errorType"], "InvalidData", "{payload}");
    assert!(
        payload["errorMessage"]
            .as_str()
            .unwrap()
            .contains("has no data"),
        "{payload}"
    );

    // DryRun and Event.
    let (printed, payload) = cli_invoke(
        &stack,
        &["--function-name", &echo, "--invocation-type", "DryRun"],
    );
    assert_eq!(printed["StatusCode"], 204, "{printed}");
    assert_eq!(payload, Value::Null);
    let (printed, _) = cli_invoke(
        &stack,
        &[
            "--function-name",
            &process,
            "--invocation-type",
            "Event",
            "--payload",
            r#"{"data":1}"#,
        ],
    );
    assert_eq!(printed["StatusCode"], 202, "{printed}");

    // GetFunction by name, ARN and partial ARN.
    for name in [
        process.clone(),
        arn.clone(),
        format!("123456789012:function:{process}"),
    ] {
        let got = aws_cli(
            &stack,
            &["lambda", "get-function", "--function-name", &name],
        )
        .expect("aws CLI installed")
        .json("aws lambda get-function");
        assert_eq!(got["Configuration"]["FunctionName"], process.as_str());
        assert_eq!(got["Configuration"]["FunctionArn"], arn.as_str());
    }

    // Unknown functions: AWS's 404 and message.
    for args in [
        vec!["lambda", "get-function", "--function-name", "nope"],
        vec!["lambda", "invoke", "--function-name", "nope", "/dev/null"],
    ] {
        let out = aws_cli(&stack, &args).expect("aws CLI installed");
        assert!(!out.success(), "{args:?} succeeded: {}", out.stdout);
        assert!(
            out.stderr.contains("ResourceNotFoundException")
                && out
                    .stderr
                    .contains(&format!("Function not found: {FUNCTION_ARN_PREFIX}nope")),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[tokio::test]
async fn boto3_invokes_synchronously_and_an_event_invocation_runs_the_function() {
    let stack = Stack::start();
    if !tools_available(&stack) {
        return;
    }
    // The $default route replies with the WebSocket event it got: a real
    // event, with this client's connection id, for the echo function.
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"whoami"}"#).await;
    let mut event = recv_json(&mut ws, 10).await;
    assert!(
        event["requestContext"]["connectionId"].is_string(),
        "{event}"
    );
    event["body"] = json!(r#"{"action":"echo","data":"sent by an Event invocation"}"#);
    event["requestContext"]["routeKey"] = json!("echo");

    let script = r#"
names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
echo = next(n for n in names if n.endswith("EchoFunction"))
process = next(n for n in names if n.endswith("ProcessFunction"))
ok = lam.invoke(FunctionName=process, Payload=json.dumps({"data": [1, 2]}))
bad = lam.invoke(FunctionName=process, Payload=b"{}")
event = lam.invoke(FunctionName=echo, InvocationType="Event", Payload=sys.argv[2])
try:
    lam.invoke(FunctionName="nope", Payload=b"{}")
    missing = None
except botocore.exceptions.ClientError as e:
    missing = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
               "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
print(json.dumps({
    "ok": {"status": ok["StatusCode"], "error": ok.get("FunctionError"),
           "payload": json.loads(ok["Payload"].read())},
    "bad": {"status": bad["StatusCode"], "error": bad.get("FunctionError"),
            "payload": json.loads(bad["Payload"].read())},
    "event": {"status": event["StatusCode"], "body": event["Payload"].read().decode()},
    "missing": missing,
}))
"#;
    let out = boto3(&stack, script, &[&event.to_string()]);
    assert_eq!(out["ok"]["status"], 200, "{out}");
    assert_eq!(out["ok"]["error"], Value::Null, "{out}");
    assert_eq!(out["ok"]["payload"]["type"], "array", "{out}");
    assert_eq!(out["ok"]["payload"]["length"], 5, "{out}");
    assert_eq!(out["bad"]["status"], 200, "{out}");
    assert_eq!(out["bad"]["error"], "Unhandled", "{out}");
    assert_eq!(out["bad"]["payload"]["errorType"], "InvalidData", "{out}");
    assert_eq!(out["event"]["status"], 202, "{out}");
    assert_eq!(out["event"]["body"], "", "{out}");
    assert_eq!(
        out["missing"],
        json!({
            "code": "ResourceNotFoundException",
            "message": format!("Function not found: {FUNCTION_ARN_PREFIX}nope"),
            "status": 404,
        })
    );
    // The Event invocation ran the echo function: its @connections post
    // reaches this client.
    assert_eq!(recv(&mut ws, 10).await, "sent by an Event invocation");
}
