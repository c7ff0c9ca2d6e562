//! The seeds' wscat transcripts, against the real local stack: a real
//! `wsflow up` process, the real function binaries, a real WebSocket client.

mod support;

use serde_json::{Value, json};
use support::*;

const TABLE: &str = "wsflow-ConnectionsTable";

/// Sends a non-JSON message and returns the `$default` echo of the event.
async fn default_event(ws: &mut Client, text: &str) -> Value {
    send(ws, text).await;
    recv_json(ws, 30).await
}

async fn connection_record(stack: &Stack, id: &str) -> Option<Value> {
    let (status, body) = stack
        .aws_json(
            "DynamoDB_20120810.GetItem",
            json!({"TableName": TABLE, "Key": {"connectionid": {"S": id}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body.get("Item").cloned()
}

#[tokio::test]
async fn default_route_echoes_the_event_and_the_connection_record_lives_and_dies() {
    let stack = Stack::start();
    let url = format!("ws://{}/this/is/my/custom/path/?my_query=foo", stack.addr);
    let mut ws = connect(&url).await;
    let event = default_event(&mut ws, "hello there").await;
    assert_eq!(event["body"], "hello there");
    assert_eq!(event["isBase64Encoded"], false);
    let ctx = &event["requestContext"];
    assert_eq!(ctx["routeKey"], "$default");
    assert_eq!(ctx["eventType"], "MESSAGE");
    assert_eq!(ctx["stage"], stack.stage.as_str());
    let id = ctx["connectionId"]
        .as_str()
        .expect("connectionId")
        .to_owned();
    assert!(!id.is_empty());

    // Seed 002/004: the record holds path, headers, query string and a TTL
    // 24 hours ahead in epoch seconds.
    let item = connection_record(&stack, &id)
        .await
        .expect("record after $connect");
    assert_eq!(item["connectionid"]["S"], id.as_str());
    assert_eq!(item["path"]["S"], "/this/is/my/custom/path/");
    assert_eq!(item["querystring"]["M"]["my_query"]["S"], "foo");
    let headers = item["headers"]["M"].as_object().expect("headers map");
    assert!(
        headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("sec-websocket-key")),
        "{headers:?}"
    );
    let ttl: i64 = item["ttl"]["N"].as_str().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((ttl - (now + 86_400)).abs() < 120, "ttl {ttl} vs now {now}");

    // Disconnect: $disconnect deletes the record.
    ws.close(None).await.unwrap();
    drop(ws);
    eventually(20, || {
        let stack = &stack;
        let id = id.clone();
        async move { connection_record(stack, &id).await.is_none().then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn quotes_and_backslashes_in_headers_and_query_cannot_break_the_record() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let stack = Stack::start();
    let mut request = format!("{}?q=%22%5C%27x", stack.ws_url())
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("x-evil", r#"a"b\c'd"#.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let event = default_event(&mut ws, "x").await;
    let id = event["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = connection_record(&stack, &id).await.expect("record");
    assert_eq!(item["querystring"]["M"]["q"]["S"], r#""\'x"#);
    let evil = item["headers"]["M"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-evil"))
        .map(|(_, v)| v["S"].clone())
        .expect("x-evil header stored");
    assert_eq!(evil, r#"a"b\c'd"#);
}

#[tokio::test]
async fn echo_replies_to_the_sender_and_post_reaches_every_client() {
    let stack = Stack::start();
    let mut a = connect(&stack.ws_url()).await;
    let mut b = connect(&stack.ws_url()).await;

    send(&mut a, r#"{"action":"echo","data":"hello world"}"#).await;
    assert_eq!(recv(&mut a, 30).await, "hello world");
    expect_silence(&mut b, 300).await;

    send(&mut a, r#"{"action":"post","data":"hello everyone"}"#).await;
    assert_eq!(recv(&mut a, 30).await, "hello everyone");
    assert_eq!(recv(&mut b, 30).await, "hello everyone");
}

#[tokio::test]
async fn sync_sfn_replies_with_the_express_execution_result() {
    let stack = Stack::start();
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"sync_sfn","data":"123456"}"#).await;
    let reply = recv_json(&mut ws, 60).await;
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    assert!(
        reply["executionArn"]
            .as_str()
            .unwrap()
            .contains(":express:wsflow-SyncStateMachine:"),
        "{reply}"
    );
    let output: Value = serde_json::from_str(reply["output"].as_str().expect("output")).unwrap();
    let text = output.to_string();
    assert!(text.contains("123456"), "{text}");
    // The task's enrichment: SHA-256 of the data is in the output.
    assert!(
        text.contains("8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"),
        "{text}"
    );
}

#[tokio::test]
async fn async_sfn_replies_with_the_arn_then_the_notifier_pushes_the_result() {
    let stack = Stack::start();
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"async_sfn","data":"123456"}"#).await;
    let started = recv_json(&mut ws, 30).await;
    let arn = started["executionArn"]
        .as_str()
        .expect("executionArn")
        .to_owned();
    assert!(
        arn.contains(":execution:wsflow-AsyncStateMachine:"),
        "{started}"
    );
    assert!(started["startDate"].is_number(), "{started}");

    let pushed = recv_json(&mut ws, 60).await;
    assert_eq!(pushed["status"], "SUCCEEDED", "{pushed}");
    assert_eq!(pushed["executionArn"], arn.as_str());
    assert_eq!(pushed["data"], "123456");

    let described = eventually(30, || {
        let stack = &stack;
        let arn = arn.clone();
        async move {
            let (_, d) = stack
                .aws_json(
                    "AWSStepFunctions.DescribeExecution",
                    json!({"executionArn": arn}),
                )
                .await;
            (d["status"] == "SUCCEEDED").then_some(d)
        }
    })
    .await;
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["notification"]["delivered"], true, "{output}");
}

#[tokio::test]
async fn a_client_that_leaves_before_its_async_result_is_recorded_as_undelivered() {
    let stack = Stack::start_with(StackOptions {
        time_scale: 0.2, // the 5 s Wait takes 1 s: time to disconnect first
        ..StackOptions::default()
    });
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"async_sfn","data":"bye"}"#).await;
    let started = recv_json(&mut ws, 30).await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    ws.close(None).await.unwrap();
    drop(ws);

    let described = eventually(60, || {
        let stack = &stack;
        let arn = arn.clone();
        async move {
            let (_, d) = stack
                .aws_json(
                    "AWSStepFunctions.DescribeExecution",
                    json!({"executionArn": arn}),
                )
                .await;
            (d["status"] != "RUNNING").then_some(d)
        }
    })
    .await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["notification"]["delivered"], false, "{output}");
}

#[tokio::test]
async fn queue_route_goes_through_the_fifo_queue_to_the_batch_worker() {
    let stack = Stack::start();
    let mut ws = connect(&stack.ws_url()).await;
    let sent = r#"{"action":"queue","MessageGroupId":"test","data":"hello world"}"#;
    send(&mut ws, sent).await;
    let reply = recv_json(&mut ws, 60).await;
    assert_eq!(reply["message"], sent, "{reply}");
    assert!(
        reply["connectionId"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(reply["requestId"].as_str().is_some_and(|s| !s.is_empty()));

    // A burst through the gateway: every message arrives. (API Gateway runs a
    // connection's messages concurrently, so their order into the queue is
    // not guaranteed, on AWS either.)
    for i in 0..5 {
        send(
            &mut ws,
            &format!(r#"{{"action":"queue","MessageGroupId":"g","data":{i}}}"#),
        )
        .await;
    }
    let mut seen = Vec::new();
    for _ in 0..5 {
        let reply = recv_json(&mut ws, 60).await;
        let message: Value = serde_json::from_str(reply["message"].as_str().unwrap()).unwrap();
        seen.push(message["data"].as_i64().unwrap());
    }
    seen.sort();
    assert_eq!(seen, vec![0, 1, 2, 3, 4]);

    // FIFO order within a group: messages sent one after another (each
    // SendMessage answered before the next) reach the worker, and so the
    // client, in that order.
    let connection_id = reply["connectionId"].as_str().unwrap().to_owned();
    let queue_url = format!(
        "http://{}/123456789012/wsflow-MessageQueue.fifo",
        stack.addr
    );
    for i in 0..5 {
        let (status, body) = stack
            .aws_json(
                "AmazonSQS.SendMessage",
                json!({
                    "QueueUrl": queue_url,
                    "MessageBody": format!("ordered {i}"),
                    "MessageGroupId": "ordered",
                    "MessageDeduplicationId": format!("ordered-{i}"),
                    "MessageAttributes": {
                        "connectionId": {"DataType": "String", "StringValue": connection_id},
                        "requestId": {"DataType": "String", "StringValue": format!("r{i}")}
                    }
                }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for i in 0..5 {
        let reply = recv_json(&mut ws, 60).await;
        assert_eq!(reply["message"], format!("ordered {i}"), "{reply}");
        assert_eq!(reply["requestId"], format!("r{i}"), "{reply}");
    }
}

#[tokio::test]
async fn bad_json_goes_to_default_and_oversize_messages_close_the_socket() {
    let stack = Stack::start();
    let mut ws = connect(&stack.ws_url()).await;
    let event = default_event(&mut ws, r#"{"action": "echo", broken"#).await;
    assert_eq!(event["requestContext"]["routeKey"], "$default");
    let event = default_event(&mut ws, r#"{"action":"no-such-route"}"#).await;
    assert_eq!(event["requestContext"]["routeKey"], "$default");

    // 128 KB is the message limit; 32 KB the frame limit (close 1009).
    let big = "x".repeat(33 * 1024);
    send(&mut ws, &big).await;
    use futures_util::StreamExt;
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(tokio_tungstenite::tungstenite::Message::Close(frame)) => return frame,
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("socket closed");
    let frame = closed.expect("close frame");
    assert_eq!(u16::from(frame.code), 1009);
}

#[tokio::test]
async fn no_matching_route_and_no_default_is_forbidden() {
    let stack = Stack::start_with(StackOptions {
        template: "tests/fixtures/no-default-route.yaml",
        ..StackOptions::default()
    });
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"nothing"}"#).await;
    let reply = recv_json(&mut ws, 30).await;
    assert_eq!(reply["message"], "Forbidden", "{reply}");
    assert!(
        reply["connectionId"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(reply["requestId"].as_str().is_some_and(|s| !s.is_empty()));
    send(&mut ws, r#"{"action":"echo","data":"still here"}"#).await;
    assert_eq!(recv(&mut ws, 30).await, "still here");
}

#[tokio::test]
async fn sync_sfn_really_waits_five_seconds_at_time_scale_one() {
    let stack = Stack::start_with(StackOptions {
        time_scale: 1.0,
        ..StackOptions::default()
    });
    let mut ws = connect(&stack.ws_url()).await;
    let started = std::time::Instant::now();
    send(&mut ws, r#"{"action":"sync_sfn","data":"slow"}"#).await;
    let reply = recv_json(&mut ws, 60).await;
    let took = started.elapsed();
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    assert!(took >= std::time::Duration::from_secs(5), "took {took:?}");
    let (start, stop) = (
        reply["startDate"].as_f64().unwrap(),
        reply["stopDate"].as_f64().unwrap(),
    );
    assert!(stop - start >= 5.0, "{reply}");
}
