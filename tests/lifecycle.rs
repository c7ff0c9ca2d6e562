//! The stack's life: a clean shutdown disconnects every client, durable data
//! survives a restart, and the AWS CLI reads the local services unchanged.

mod support;

use futures_util::StreamExt;
use serde_json::json;
use support::*;
use tokio_tungstenite::tungstenite::Message;

const TABLE: &str = "wsflow-ConnectionsTable";

async fn my_connection_id(ws: &mut Client) -> String {
    send(ws, "who am i").await;
    let event = recv_json(ws, 30).await;
    event["requestContext"]["connectionId"]
        .as_str()
        .expect("connectionId")
        .to_owned()
}

async fn scan_ids(stack: &Stack) -> Vec<String> {
    let (status, body) = stack
        .aws_json("DynamoDB_20120810.Scan", json!({"TableName": TABLE}))
        .await;
    assert_eq!(status, 200, "{body}");
    body["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["connectionid"]["S"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn sigterm_disconnects_every_client_and_data_survives_a_restart() {
    let mut stack = Stack::start();
    let mut a = connect(&stack.ws_url()).await;
    let mut b = connect(&stack.ws_url()).await;
    let id_a = my_connection_id(&mut a).await;
    let id_b = my_connection_id(&mut b).await;
    let mut ids = scan_ids(&stack).await;
    ids.sort();
    let mut expected = vec![id_a.clone(), id_b.clone()];
    expected.sort();
    assert_eq!(ids, expected);

    // A Standard execution that finishes before the restart must still be
    // described afterwards (it lives in the embedded database).
    let (status, started) = stack
        .aws_json(
            "AWSStepFunctions.StartExecution",
            json!({
                "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:wsflow-AsyncStateMachine",
                "name": "survives-restart",
                "input": json!({"connectionId": "nobody", "data": "kept"}).to_string()
            }),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    eventually(60, || {
        let stack = &stack;
        let arn = arn.clone();
        async move {
            let (_, d) = stack
                .aws_json(
                    "AWSStepFunctions.DescribeExecution",
                    json!({"executionArn": arn}),
                )
                .await;
            (d["status"] != "RUNNING").then_some(())
        }
    })
    .await;

    let status = stack.terminate();
    assert!(status.success(), "clean exit, got {status:?}");
    for ws in [&mut a, &mut b] {
        let close = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while let Some(msg) = ws.next().await {
                if let Ok(Message::Close(frame)) = msg {
                    return frame;
                }
            }
            None
        })
        .await
        .expect("close frame in time")
        .expect("a close frame, not a dropped socket");
        assert_eq!(u16::from(close.code), 1001, "going away");
    }

    let data_dir = stack.take_data_dir();
    drop(stack);
    let stack = Stack::start_in(StackOptions::default(), data_dir);
    assert!(
        scan_ids(&stack).await.is_empty(),
        "$disconnect ran for every client before the shutdown finished"
    );
    let (_, d) = stack
        .aws_json(
            "AWSStepFunctions.DescribeExecution",
            json!({"executionArn": arn}),
        )
        .await;
    assert_eq!(d["name"], "survives-restart", "{d}");
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
}

/// Runs the `aws` CLI against the stack and parses its JSON output; `None`
/// when the CLI is not installed.
fn aws(stack: &Stack, args: &[&str]) -> Option<serde_json::Value> {
    aws_cli(stack, args).map(|out| out.json(&format!("aws {args:?}")))
}

#[tokio::test]
async fn the_aws_cli_reads_the_connection_record_and_drives_step_functions() {
    let stack = Stack::start();
    let mut ws = connect(&format!("ws://{}/my/path?foo=bar", stack.addr)).await;
    let id = my_connection_id(&mut ws).await;
    let key = json!({"connectionid": {"S": id}}).to_string();
    let Some(item) = aws(
        &stack,
        &["dynamodb", "get-item", "--table-name", TABLE, "--key", &key],
    ) else {
        eprintln!("SKIPPED: the aws CLI is not installed (.ci/run installs it)");
        return;
    };
    assert_eq!(
        item["Item"]["querystring"]["M"]["foo"]["S"], "bar",
        "{item}"
    );
    assert_eq!(item["Item"]["path"]["S"], "/my/path", "{item}");

    let machines = aws(&stack, &["stepfunctions", "list-state-machines"]).unwrap();
    let names: Vec<_> = machines["stateMachines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.contains(&"wsflow-SyncStateMachine".to_owned()),
        "{names:?}"
    );
    let sync_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:wsflow-SyncStateMachine";
    let run = aws(
        &stack,
        &[
            "stepfunctions",
            "start-sync-execution",
            "--state-machine-arn",
            sync_arn,
            "--input",
            r#"{"data":"cli"}"#,
        ],
    )
    .unwrap();
    assert_eq!(run["status"], "SUCCEEDED", "{run}");

    ws.close(None).await.unwrap();
    drop(ws);
    eventually(20, || {
        let stack = &stack;
        let key = key.clone();
        async move {
            let item = aws(
                stack,
                &["dynamodb", "get-item", "--table-name", TABLE, "--key", &key],
            )
            .unwrap();
            item.get("Item").is_none().then_some(())
        }
    })
    .await;
}
