//! The WebSocket side against a real client: routing, `$connect`,
//! `$disconnect`, two-way/one-way routes, errors, limits.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message,
    protocol::{CloseFrame, frame::coding::CloseCode},
};
use wsflow_aws_wire::{LambdaInvokeError, ServiceError};

/// Every function answers with its own name and the event's body.
fn echo_lambda() -> std::sync::Arc<TestLambda> {
    TestLambda::new(|f, ev| {
        Ok(json!({"statusCode": 200, "body": format!("{f}:{}", ev["body"].as_str().unwrap_or(""))}))
    })
}

#[tokio::test]
async fn routes_by_selection_expression_and_falls_back_to_default() {
    let lambda = echo_lambda();
    let s = serve(
        api(vec![
            lambda_route("echo", "Echo", true),
            lambda_route("$default", "Default", true),
        ]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    let cases = [
        (r#"{"action":"echo","data":1}"#, "Echo"),
        ("plain text, not JSON", "Default"),
        (r#"{"action":"nope"}"#, "Default"),
        (r#"{"no_action":true}"#, "Default"),
        (r#"{"action":{"nested":"echo"}}"#, "Default"),
        ("[1,2]", "Default"),
    ];
    for (msg, function) in cases {
        send(&mut ws, msg).await;
        assert_eq!(
            next_text(&mut ws).await,
            format!("{function}:{msg}"),
            "{msg}"
        );
    }
    // The MESSAGE event has AWS's shape.
    let ev = &lambda.calls_to("Echo")[0];
    let rc = &ev["requestContext"];
    assert_eq!(rc["routeKey"], "echo");
    assert_eq!(rc["eventType"], "MESSAGE");
    assert_eq!(rc["messageDirection"], "IN");
    assert_eq!(rc["stage"], "api");
    assert_eq!(rc["apiId"], "u9jlm1pv1h");
    assert_eq!(rc["domainName"], "127.0.0.1:3001");
    assert_eq!(rc["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["connectionId"].as_str().unwrap().len(), 16);
    assert!(rc["messageId"].is_string() && rc["requestId"].is_string());
    assert!(rc["requestTimeEpoch"].as_u64().unwrap() >= rc["connectedAt"].as_u64().unwrap());
    assert!(rc["requestTime"].as_str().unwrap().ends_with(" +0000"));
    assert_eq!(ev["isBase64Encoded"], false);
    assert_eq!(
        lambda.calls_to("Default")[0]["requestContext"]["routeKey"],
        "$default"
    );
}

#[tokio::test]
async fn nested_and_braced_selection_expressions_route() {
    let lambda = echo_lambda();
    let mut config = api(vec![lambda_route("chat-v2", "Chat", true)]);
    config.route_selection_expression = "${request.body.msg.kind}-v${request.body.version}".into();
    let s = serve(config, lambda, vec![]).await;
    let mut ws = connect(s.addr, "/api").await;
    let msg = r#"{"msg":{"kind":"chat"},"version":2}"#;
    send(&mut ws, msg).await;
    assert_eq!(next_text(&mut ws).await, format!("Chat:{msg}"));
}

/// Valid JSON is routed by its `action` however deeply its other members
/// nest (serde_json's parser stops at 128 levels), and a frame of `[` that
/// never closes is not JSON: `$default`. The gateway stays up.
#[tokio::test]
async fn deeply_nested_messages_route_by_their_action() {
    let lambda = echo_lambda();
    let s = serve(
        api(vec![
            lambda_route("echo", "Echo", true),
            lambda_route("$default", "Default", true),
        ]),
        lambda,
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    for depth in [500, 16_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let msg = format!(r#"{{"data":{nested},"action":"echo"}}"#);
        send(&mut ws, &msg).await;
        assert_eq!(
            next_text(&mut ws).await,
            format!("Echo:{msg}"),
            "depth {depth}"
        );
        let open = format!(r#"{{"action":"echo","data":{}}}"#, "[".repeat(depth));
        send(&mut ws, &open).await;
        assert_eq!(
            next_text(&mut ws).await,
            format!("Default:{open}"),
            "depth {depth}"
        );
    }
}

#[tokio::test]
async fn no_match_without_default_is_forbidden() {
    let s = serve(
        api(vec![lambda_route("echo", "Echo", true)]),
        echo_lambda(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, "hello").await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["message"], "Forbidden");
    assert_eq!(reply["connectionId"].as_str().unwrap().len(), 16);
    assert!(reply["requestId"].as_str().unwrap().ends_with('='));
    assert_eq!(reply.as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn function_errors_are_internal_server_errors_even_on_one_way_routes() {
    let lambda = TestLambda::new(|_, _| {
        Err(LambdaInvokeError::Function {
            payload: json!({"errorType": "Boom", "errorMessage": "no"}),
        })
    });
    let s = serve(
        api(vec![lambda_route("$default", "Fails", false)]),
        lambda,
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, "x").await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["message"], "Internal server error");
    assert!(reply["connectionId"].is_string() && reply["requestId"].is_string());
}

#[tokio::test]
async fn one_way_routes_send_nothing_back() {
    let lambda = echo_lambda();
    let s = serve(
        api(vec![
            lambda_route("quiet", "Quiet", false),
            lambda_route("loud", "Loud", true),
        ]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, r#"{"action":"quiet"}"#).await;
    send(&mut ws, r#"{"action":"loud"}"#).await;
    // Messages are dispatched in order: the first frame back is the loud one.
    assert_eq!(next_text(&mut ws).await, r#"Loud:{"action":"loud"}"#);
    assert_eq!(lambda.calls_to("Quiet").len(), 1);
}

#[tokio::test]
async fn messages_run_concurrently_but_start_in_arrival_order() {
    let lambda = TestLambda::with_slow("Slow", Duration::from_millis(500), |f, ev| {
        Ok(json!({"statusCode": 200, "body": format!("{f}:{}", ev["body"].as_str().unwrap_or(""))}))
    });
    let s = serve(
        api(vec![
            lambda_route("slow", "Slow", true),
            lambda_route("fast", "Fast", true),
        ]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    let sent: Vec<String> = (0..10)
        .map(|i| {
            let action = if i % 2 == 0 { "slow" } else { "fast" };
            format!(r#"{{"action":"{action}","i":{i}}}"#)
        })
        .collect();
    for m in &sent {
        send(&mut ws, m).await;
    }
    // The five fast replies overtake the slow ones...
    for _ in 0..5 {
        let t = next_text(&mut ws).await;
        assert!(t.starts_with("Fast:"), "{t}");
    }
    for _ in 0..5 {
        assert!(next_text(&mut ws).await.starts_with("Slow:"));
    }
    // ...but every invocation started in the order the messages arrived.
    let started: Vec<String> = lambda
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|(_, ev)| ev["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(started, sent);
}

#[tokio::test]
async fn lambda_results_not_in_proxy_shape_are_sent_as_json() {
    let lambda = TestLambda::new(|_, _| Ok(json!({"hello": "world"})));
    let s = serve(
        api(vec![lambda_route("$default", "Raw", true)]),
        lambda,
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, "x").await;
    assert_eq!(next_json(&mut ws).await, json!({"hello": "world"}));
}

#[tokio::test]
async fn connect_runs_before_the_upgrade_and_can_reject_it() {
    let lambda = TestLambda::new(|f, ev| match f {
        "Connect" => {
            let allowed = ev["queryStringParameters"]["token"] == "ok";
            Ok(json!({"statusCode": if allowed { 200 } else { 403 }}))
        }
        "Broken" => Err(LambdaInvokeError::Service(ServiceError::with_status(
            404,
            "ResourceNotFoundException",
            "Function not found",
        ))),
        _ => Ok(Value::Null),
    });
    let s = serve(
        api(vec![lambda_route("$connect", "Connect", false)]),
        lambda.clone(),
        vec![],
    )
    .await;
    assert_eq!(connect_status(s.addr, "/api?token=bad").await, 403);
    assert_eq!(s.gateway.connection_count(), 0);
    assert_eq!(connect_status(s.addr, "/api?token=ok").await, 101);
    let calls = lambda.calls_to("Connect");
    assert_eq!(calls.len(), 2);
    let ev = &calls[1];
    assert_eq!(ev["requestContext"]["eventType"], "CONNECT");
    assert_eq!(ev["requestContext"]["routeKey"], "$connect");
    assert!(ev["requestContext"].get("messageId").is_none());
    assert_eq!(
        ev["multiValueQueryStringParameters"]["token"],
        json!(["ok"])
    );
    assert_eq!(ev["headers"]["Sec-WebSocket-Version"], "13");
    assert!(
        ev["headers"]["X-Amzn-Trace-Id"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(ev["headers"]["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(
        ev["multiValueHeaders"]["Sec-WebSocket-Version"],
        json!(["13"])
    );
    assert!(ev.get("body").is_none());

    let s = serve(
        api(vec![lambda_route("$connect", "Broken", false)]),
        lambda,
        vec![],
    )
    .await;
    assert_eq!(connect_status(s.addr, "/api").await, 500);
}

#[tokio::test]
async fn only_the_stage_path_upgrades_without_the_path_header() {
    let s = serve(api(vec![]), echo_lambda(), vec![]).await;
    assert_eq!(connect_status(s.addr, "/api").await, 101);
    assert_eq!(connect_status(s.addr, "/api/").await, 101);
    assert_eq!(connect_status(s.addr, "/").await, 403);
    assert_eq!(connect_status(s.addr, "/other").await, 403);
    assert_eq!(connect_status(s.addr, "/api/deeper").await, 403);
}

#[tokio::test]
async fn ws_uri_header_carries_the_original_path_to_connect() {
    let lambda = TestLambda::new(|_, _| Ok(json!({"statusCode": 200})));
    let mut config = api(vec![lambda_route("$connect", "Connect", false)]);
    config.url_path_header = Some("ws-uri".into());
    let s = serve(config, lambda.clone(), vec![]).await;
    let _ws = connect(s.addr, "/this/is/my/custom/path/?my_query=foo").await;
    let ev = &lambda.calls_to("Connect")[0];
    assert_eq!(ev["headers"]["ws-uri"], "/this/is/my/custom/path/");
    assert_eq!(ev["queryStringParameters"]["my_query"], "foo");
}

#[tokio::test]
async fn disconnect_runs_after_the_client_closes() {
    let lambda = TestLambda::new(|_, _| Ok(json!({"statusCode": 200})));
    let s = serve(
        api(vec![
            lambda_route("$connect", "Connect", false),
            lambda_route("$disconnect", "Disconnect", false),
        ]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    eventually(|| s.gateway.connection_count() == 1).await;
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    eventually(|| lambda.calls_to("Disconnect").len() == 1).await;
    assert_eq!(s.gateway.connection_count(), 0);
    let connect_id = lambda.calls_to("Connect")[0]["requestContext"]["connectionId"].clone();
    let ev = &lambda.calls_to("Disconnect")[0];
    let rc = &ev["requestContext"];
    assert_eq!(rc["eventType"], "DISCONNECT");
    assert_eq!(rc["routeKey"], "$disconnect");
    assert_eq!(rc["connectionId"], connect_id);
    assert_eq!(rc["disconnectStatusCode"], 1000);
    assert_eq!(rc["disconnectReason"], "bye");
}

#[tokio::test]
async fn oversize_messages_and_frames_close_with_1009() {
    let lambda = TestLambda::new(|_, _| Ok(json!({"statusCode": 200})));
    let mut config = api(vec![
        lambda_route("$default", "Default", true),
        lambda_route("$disconnect", "Disconnect", false),
    ]);
    config.limits.max_frame_bytes = 1024;
    config.limits.max_message_bytes = 4096;
    let s = serve(config, lambda.clone(), vec![]).await;

    // One frame above the frame limit.
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, &"x".repeat(2000)).await;
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1009),
        other => panic!("expected close 1009, got {other:?}"),
    }
    eventually(|| lambda.calls_to("Disconnect").len() == 1).await;
    assert_eq!(
        lambda.calls_to("Disconnect")[0]["requestContext"]["disconnectStatusCode"],
        1009
    );

    // A message of small frames that adds up above the message limit.
    let mut ws = connect(s.addr, "/api").await;
    let chunk = "y".repeat(1000);
    let frames: Vec<Message> = (0..5)
        .map(|i| {
            use tokio_tungstenite::tungstenite::protocol::frame::{
                Frame,
                coding::{Data, OpCode},
            };
            let opcode = if i == 0 {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            };
            let f = Frame::message(chunk.clone().into_bytes(), opcode, i == 4);
            Message::Frame(f)
        })
        .collect();
    for f in frames {
        ws.send(f).await.unwrap();
    }
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1009),
        other => panic!("expected close 1009, got {other:?}"),
    }
    assert!(lambda.calls_to("Default").is_empty());
}

#[tokio::test]
async fn binary_frames_close_with_1003() {
    let s = serve(
        api(vec![lambda_route("$default", "D", true)]),
        echo_lambda(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1003),
        other => panic!("expected close 1003, got {other:?}"),
    }
}

#[tokio::test]
async fn idle_connections_are_closed_going_away() {
    let lambda = TestLambda::new(|_, _| Ok(json!({"statusCode": 200})));
    let mut config = api(vec![lambda_route("$disconnect", "Disconnect", false)]);
    config.limits.idle_timeout = Duration::from_millis(300);
    let s = serve(config, lambda.clone(), vec![]).await;
    let mut ws = connect(s.addr, "/api").await;
    // Activity keeps it open past one idle period...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        ws.send(Message::Ping(vec![].into())).await.unwrap();
    }
    assert_eq!(s.gateway.connection_count(), 1);
    // ...silence closes it.
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected close 1001, got {other:?}"),
    }
    eventually(|| lambda.calls_to("Disconnect").len() == 1).await;
    assert_eq!(
        lambda.calls_to("Disconnect")[0]["requestContext"]["disconnectReason"],
        "Going away"
    );
}

#[tokio::test]
async fn connection_lifetime_is_limited() {
    let mut config = api(vec![]);
    config.limits.max_connection_duration = Duration::from_millis(200);
    let s = serve(config, echo_lambda(), vec![]).await;
    let mut ws = connect(s.addr, "/api").await;
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected close 1001, got {other:?}"),
    }
}

#[tokio::test]
async fn close_all_closes_every_socket_and_runs_disconnect() {
    let lambda = TestLambda::new(|_, _| Ok(json!({"statusCode": 200})));
    let s = serve(
        api(vec![lambda_route("$disconnect", "Disconnect", false)]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(connect(s.addr, "/api").await);
    }
    eventually(|| s.gateway.connection_count() == 5).await;
    tokio::time::timeout(Duration::from_secs(10), s.gateway.close_all())
        .await
        .expect("close_all finished");
    assert_eq!(s.gateway.connection_count(), 0);
    assert_eq!(lambda.calls_to("Disconnect").len(), 5);
    for ws in &mut clients {
        match next(ws).await {
            Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001),
            other => panic!("expected close 1001, got {other:?}"),
        }
    }
    assert_eq!(connect_status(s.addr, "/api").await, 410);
}

/// Throughput: 50 clients, each sending messages to a two-way echo route and
/// reading the replies. Run with `--ignored --nocapture` to print msgs/s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn echo_throughput_50_clients() {
    let lambda = TestLambda::new(|_, ev| Ok(json!({"statusCode": 200, "body": ev["body"]})));
    let s = serve(
        api(vec![lambda_route("$default", "Echo", true)]),
        lambda,
        vec![],
    )
    .await;
    const CLIENTS: usize = 50;
    const PER_CLIENT: usize = 2000;
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let addr = s.addr;
        tasks.push(tokio::spawn(async move {
            let ws = connect(addr, "/api").await;
            let (mut tx, mut rx) = futures_util::StreamExt::split(ws);
            let writer = tokio::spawn(async move {
                for i in 0..PER_CLIENT {
                    tx.feed(Message::text(format!("{c}-{i}"))).await.unwrap();
                }
                tx.flush().await.unwrap();
                tx
            });
            for i in 0..PER_CLIENT {
                let m = futures_util::StreamExt::next(&mut rx)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(m.into_text().unwrap().as_str(), format!("{c}-{i}"));
            }
            drop(writer.await.unwrap());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let total = (CLIENTS * PER_CLIENT) as f64;
    println!(
        "{total} echo messages in {secs:.2}s: {:.0} msgs/s",
        total / secs
    );
}
