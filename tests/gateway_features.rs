//! API Gateway WebSocket features a template uses beyond routes and integrations (issue 11),
//! end to end: a real `wsflow up` serving `tests/fixtures/gateway-features/template.yaml` from a
//! directory outside the workspace with no cargo reachable (the template has no function), and a
//! real WebSocket client.
//!
//! * MOCK integrations: the request template's `statusCode` selects the integration response
//!   (`/2\d\d/`, `/4\d\d/`, none), whose template, chosen by the message, renders the reply.
//! * DynamoDB service integrations whose integration response templates reshape the answer
//!   (or pass it through when no template is selected), and reshape the service's errors.
//! * Request models: a valid message reaches its integration; an invalid one gets API Gateway's
//!   `Invalid request body` frame, byte for byte, and does not.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{
    Client, Stack, StackOptions, connect, copy_fixture, path_without_cargo, recv, recv_json, send,
};

/// The fixture's stack, started from its own directory.
fn start(dir: &Path) -> Stack {
    let path = path_without_cargo();
    Stack::start_from(
        StackOptions {
            template: "template.yaml",
            time_scale: 0.0,
            extra: vec![],
        },
        tempfile::tempdir().expect("data dir"),
        dir,
        &[("PATH", &path), ("CARGO", "/nonexistent/cargo")],
        None,
    )
}

/// Sends `message` and returns the reply's text.
async fn ask(ws: &mut Client, message: Value) -> String {
    send(ws, &message.to_string()).await;
    recv(ws, 10).await
}

/// API Gateway's frame for a gateway error, exactly as AWS sends it (the recorded
/// `Forbidden` / `Internal server error` frames and the documented `Invalid request body` one
/// share this spacing).
fn aws_frame(message: &str, connection_id: &str, request_id: &str) -> String {
    format!(
        r#"{{"message": "{message}", "connectionId":"{connection_id}", "requestId":"{request_id}"}}"#
    )
}

/// Asserts `frame` is API Gateway's `message` frame for this connection; returns its request id.
fn assert_aws_frame(frame: &str, message: &str, connection_id: &str) -> String {
    let parsed: Value = serde_json::from_str(frame).unwrap_or_else(|e| panic!("{e}: {frame}"));
    let request_id = parsed["requestId"].as_str().expect("requestId").to_owned();
    assert!(!request_id.is_empty(), "{frame}");
    assert_eq!(frame, aws_frame(message, connection_id, &request_id));
    request_id
}

/// The connection's id, as the mock route's template renders it.
async fn connection_id(ws: &mut Client) -> String {
    let reply = recv_json_after(ws, json!({"action": "mock", "status": 200})).await;
    reply["connectionId"]
        .as_str()
        .expect("connectionId")
        .to_owned()
}

async fn recv_json_after(ws: &mut Client, message: Value) -> Value {
    send(ws, &message.to_string()).await;
    recv_json(ws, 10).await
}

/// GetItem on the fixture's table through the stack's DynamoDB API.
async fn stored(stack: &Stack, id: &str) -> Value {
    let (status, got) = stack
        .aws_json(
            "DynamoDB_20120810.GetItem",
            json!({"TableName": "features-items", "Key": {"id": {"S": id}}}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn mock_integrations_render_their_integration_responses() {
    let dir = copy_fixture("gateway-features");
    let stack = start(dir.path());
    assert_eq!(stack.stage, "features");
    let mut ws = connect(&stack.ws_url()).await;
    let id = connection_id(&mut ws).await;
    assert!(!id.is_empty());

    // 2xx: the template the message's "lang" selects, else the $default one.
    assert_eq!(
        ask(
            &mut ws,
            json!({"action": "mock", "status": 200, "lang": "fr"})
        )
        .await,
        format!(r#"{{"greeting": "bonjour", "connectionId": "{id}"}}"#)
    );
    assert_eq!(
        ask(
            &mut ws,
            json!({"action": "mock", "status": 201, "lang": "de"})
        )
        .await,
        format!(r#"{{"greeting": "hello", "connectionId": "{id}"}}"#)
    );
    // 4xx: the /4\d\d/ response.
    assert_eq!(
        ask(&mut ws, json!({"action": "mock", "status": 404})).await,
        r#"{"error": "not found", "route": "mock"}"#
    );
    // A status no integration response matches (and no $default one), and a request
    // template without an integer statusCode: API Gateway's Internal server error.
    let frame = ask(&mut ws, json!({"action": "mock", "status": 503})).await;
    assert_aws_frame(&frame, "Internal server error", &id);
    let frame = ask(&mut ws, json!({"action": "mock"})).await;
    assert_aws_frame(&frame, "Internal server error", &id);
    let frame = ask(&mut ws, json!({"action": "mock", "status": "200"})).await;
    assert_aws_frame(&frame, "Internal server error", &id);
    // The connection is still served.
    assert_eq!(
        ask(&mut ws, json!({"action": "mock", "status": 200})).await,
        format!(r#"{{"greeting": "hello", "connectionId": "{id}"}}"#)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn service_integration_responses_reshape_the_reply() {
    let dir = copy_fixture("gateway-features");
    let stack = start(dir.path());
    let mut ws = connect(&stack.ws_url()).await;

    assert_eq!(
        ask(
            &mut ws,
            json!({"action": "put", "id": "n1", "note": "hello"})
        )
        .await,
        r#"{"stored": true}"#
    );
    // The "flat" template reshapes DynamoDB's typed item.
    assert_eq!(
        ask(
            &mut ws,
            json!({"action": "get", "id": "n1", "shape": "flat"})
        )
        .await,
        r#"{"id": "n1", "note": "hello"}"#
    );
    // No template for the selected key and no $default template: DynamoDB's answer as is.
    let raw: Value =
        serde_json::from_str(&ask(&mut ws, json!({"action": "get", "id": "n1"})).await).unwrap();
    assert_eq!(
        raw,
        json!({"Item": {"id": {"S": "n1"}, "note": {"S": "hello"}}})
    );
    // DynamoDB's error (an empty key) goes through the /4\d\d/ response's template.
    assert_eq!(
        ask(&mut ws, json!({"action": "put", "id": "", "note": "x"})).await,
        r#"{"error": "com.amazonaws.dynamodb.v20120810#ValidationException"}"#
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn request_models_validate_messages_before_the_integration() {
    let dir = copy_fixture("gateway-features");
    let stack = start(dir.path());
    let mut ws = connect(&stack.ws_url()).await;
    let id = connection_id(&mut ws).await;
    let registered = r#"{"registered": "register"}"#;

    // "kind": "email" selects emailModel.
    let valid =
        json!({"action": "register", "kind": "email", "id": "a1", "address": "ann@example.com"});
    assert_eq!(ask(&mut ws, valid).await, registered);
    assert_eq!(
        stored(&stack, "a1").await["Item"]["note"]["S"],
        "registered"
    );
    let mut request_ids = Vec::new();
    for invalid in [
        json!({"action": "register", "kind": "email", "id": "a2"}),
        json!({"action": "register", "kind": "email", "id": "a3", "address": "not an address"}),
        json!({"action": "register", "kind": "email", "id": "a4", "address": 7}),
    ] {
        let frame = ask(&mut ws, invalid.clone()).await;
        request_ids.push(assert_aws_frame(&frame, "Invalid request body", &id));
        let key = invalid["id"].as_str().unwrap();
        assert_eq!(
            stored(&stack, key).await,
            json!({}),
            "{invalid} reached DynamoDB"
        );
    }
    request_ids.sort();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 3, "one request id per message");

    // Any other kind, or none: the $default model.
    for (message, key) in [
        (json!({"action": "register", "id": "b1"}), "b1"),
        (
            json!({"action": "register", "kind": "sms", "id": "b2"}),
            "b2",
        ),
    ] {
        assert_eq!(ask(&mut ws, message).await, registered);
        assert_eq!(stored(&stack, key).await["Item"]["id"]["S"], key);
    }
    for invalid in [
        json!({"action": "register", "kind": "sms"}),
        json!({"action": "register", "id": ""}),
        json!({"action": "register", "id": 5}),
    ] {
        let frame = ask(&mut ws, invalid).await;
        assert_aws_frame(&frame, "Invalid request body", &id);
    }

    // ModelSelectionExpression \$default: one model for every message, a MOCK behind it.
    assert_eq!(
        ask(&mut ws, json!({"action": "note", "note": "short"})).await,
        r#"{"noted": true}"#
    );
    let frame = ask(
        &mut ws,
        json!({"action": "note", "note": "far too long for the model"}),
    )
    .await;
    assert_aws_frame(&frame, "Invalid request body", &id);
    let frame = ask(&mut ws, json!({"action": "note"})).await;
    assert_aws_frame(&frame, "Invalid request body", &id);

    // Routes without models are not validated; the connection is still served.
    assert_eq!(
        ask(
            &mut ws,
            json!({"action": "mock", "status": 200, "lang": "fr"})
        )
        .await,
        format!(r#"{{"greeting": "bonjour", "connectionId": "{id}"}}"#)
    );
}
