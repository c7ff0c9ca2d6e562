//! `$connect` authorization against real `wsflow up` processes with real function processes and
//! a real WebSocket client: the app's `AuthMode=jwt` (tokens minted by `wsflow token`), fixture
//! templates for identity sources, failing authorizers and `AWS_IAM` (URLs presigned by
//! botocore), and `AuthMode=none` unchanged.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

const SECRET: &str = "e2e-secret-4f1c9a";

/// Handshakes with `headers`; `Err((status, body))` when refused.
async fn handshake(url: &str, headers: &[(&str, &str)]) -> Result<Client, (u16, String)> {
    let mut request = url.into_client_request().expect("request");
    for (k, v) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, response)) => {
            assert_eq!(response.status().as_u16(), 101);
            Ok(ws)
        }
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((response.status().as_u16(), body))
        }
        Err(e) => panic!("handshake {url}: {e}"),
    }
}

/// Asserts a refused handshake's status and AWS's body for it.
async fn refused(url: &str, headers: &[(&str, &str)], status: u16, message: &str) {
    match handshake(url, headers).await {
        Ok(_) => panic!("{url}: expected {status}, the handshake succeeded"),
        Err((got, body)) => {
            assert_eq!(got, status, "{url}: {body}");
            let body: Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{url}: body not JSON ({e}): {body:?}"));
            assert_eq!(body, json!({ "message": message }), "{url}");
        }
    }
}

/// `wsflow token` as a user runs it; returns the token.
fn wsflow_token(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wsflow"))
        .current_dir(workspace())
        .arg("token")
        .args(args)
        .output()
        .expect("run wsflow token");
    assert!(
        out.status.success(),
        "wsflow token {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "not a JWT: {token}");
    token
}

/// A token for `sub` that expired a minute ago.
fn expired_token(sub: &str, secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": sub, "exp": now - 60}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The `$default` event the stack echoes for a non-JSON message.
async fn default_event(ws: &mut Client) -> Value {
    send(ws, "who am i").await;
    recv_json(ws, 30).await
}

/// Every line the stack printed so far.
fn drain(stack: &Stack) -> Vec<String> {
    stack.log.try_iter().collect()
}

fn jwt_app() -> Stack {
    Stack::start_with(StackOptions {
        extra: vec![
            "--parameter-overrides".into(),
            "AuthMode=jwt".into(),
            format!("AuthSecret={SECRET}"),
        ],
        ..StackOptions::default()
    })
}

#[tokio::test]
async fn the_app_with_auth_mode_jwt_answers_401_403_and_101() {
    let stack = jwt_app();
    let url = stack.ws_url();
    // No token: the function fails with Unauthorized.
    refused(&url, &[], 401, "Unauthorized").await;
    refused(
        &url,
        &[("authorization", "Basic YTpi")],
        401,
        "Unauthorized",
    )
    .await;
    // A token signed with another secret, an expired one, garbage: Deny.
    let forged = wsflow_token(&["--sub", "mallory", "--secret", "not-the-secret"]);
    refused(&format!("{url}?token={forged}"), &[], 403, "Forbidden").await;
    let expired = expired_token("alice", SECRET);
    refused(&format!("{url}?token={expired}"), &[], 403, "Forbidden").await;
    refused(&format!("{url}?token=a.b.c"), &[], 403, "Forbidden").await;

    // `wsflow token` reads AuthSecret from the same parameter overrides as `wsflow up`.
    let token = wsflow_token(&[
        "--sub",
        "alice",
        "--parameter-overrides",
        "AuthMode=jwt",
        &format!("AuthSecret={SECRET}"),
    ]);
    let mut ws = handshake(&format!("{url}?token={token}&room=lobby"), &[])
        .await
        .expect("a valid token connects");
    let event = default_event(&mut ws).await;
    let alice_id = event["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let authorizer = &event["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "alice", "{event}");
    assert_eq!(authorizer["sub"], "alice", "{event}");

    // The Authorization: Bearer header works too.
    let bob = wsflow_token(&["--sub", "bob", "--secret", SECRET]);
    let mut ws_bob = handshake(&url, &[("authorization", &format!("Bearer {bob}"))])
        .await
        .expect("a bearer token connects");
    let event = default_event(&mut ws_bob).await;
    assert_eq!(
        event["requestContext"]["authorizer"]["principalId"], "bob",
        "{event}"
    );
    let bob_id = event["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();

    // The connection records keep the query string and headers, but not the credentials.
    let record = |id: String| {
        let stack = &stack;
        async move {
            let (status, body) = stack
                .aws_json(
                    "DynamoDB_20120810.GetItem",
                    json!({"TableName": "wsflow-ConnectionsTable", "Key": {"connectionid": {"S": id}}}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body["Item"].clone()
        }
    };
    let alice_record = record(alice_id).await;
    assert_eq!(
        alice_record["querystring"]["M"],
        json!({"room": {"S": "lobby"}}),
        "{alice_record}"
    );
    let bob_record = record(bob_id).await;
    let headers = bob_record["headers"]["M"].as_object().expect("headers");
    assert!(
        headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("sec-websocket-key"))
    );
    assert!(
        !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization")),
        "{bob_record}"
    );

    // The principal reaches the Express workflow through the sync_sfn mapping template
    // ($context.authorizer.principalId) and is in its output.
    send(&mut ws, r#"{"action":"sync_sfn","data":"123456"}"#).await;
    let reply = recv_json(&mut ws, 60).await;
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    let output: Value = serde_json::from_str(reply["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["principalId"], "alice", "{output}");
    assert_eq!(output["data"], "123456", "{output}");
    let input: Value = serde_json::from_str(reply["input"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"data": "123456", "principalId": "alice"}));

    // A principal with quotes and backslashes survives both escaping layers of the template.
    let odd = r#"o'brien "the\admin""#;
    let odd_token = wsflow_token(&["--sub", odd, "--secret", SECRET]);
    let mut ws_odd = handshake(&format!("{url}?token={odd_token}"), &[])
        .await
        .expect("connects");
    send(&mut ws_odd, r#"{"action":"sync_sfn","data":{"q":"'\""}}"#).await;
    let reply = recv_json(&mut ws_odd, 60).await;
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    let output: Value = serde_json::from_str(reply["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["principalId"], odd, "{output}");
    assert_eq!(output["data"], json!({"q": "'\""}), "{output}");

    // The Standard workflow's notifier names it in the message to the client.
    send(&mut ws_bob, r#"{"action":"async_sfn","data":"x"}"#).await;
    let started = recv_json(&mut ws_bob, 30).await;
    assert!(started["executionArn"].is_string(), "{started}");
    let pushed = recv_json(&mut ws_bob, 60).await;
    assert_eq!(pushed["status"], "SUCCEEDED", "{pushed}");
    assert_eq!(pushed["principalId"], "bob", "{pushed}");

    // The secret is in no line the stack printed (start-up lines, outputs, function logs).
    let mut lines = stack.startup.clone();
    lines.extend(drain(&stack));
    assert!(lines.iter().any(|l| l.contains("ready")));
    assert!(
        lines.iter().all(|l| !l.contains(SECRET)),
        "the secret was printed"
    );
}

#[tokio::test]
async fn the_app_with_auth_mode_none_is_unchanged() {
    let stack = Stack::start();
    let mut ws = handshake(&stack.ws_url(), &[]).await.expect("open access");
    let event = default_event(&mut ws).await;
    assert!(
        event["requestContext"].get("authorizer").is_none(),
        "{event}"
    );
    send(&mut ws, r#"{"action":"sync_sfn","data":"123456"}"#).await;
    let reply = recv_json(&mut ws, 60).await;
    assert_eq!(reply["status"], "SUCCEEDED", "{reply}");
    let input: Value = serde_json::from_str(reply["input"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"data": "123456"}));
    let output: Value = serde_json::from_str(reply["output"].as_str().unwrap()).unwrap();
    let mut keys: Vec<&str> = output
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["data", "result"], "{output}");
}

fn fixture_stack(overrides: &[&str], extra: &[&str]) -> Stack {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    if !overrides.is_empty() {
        args.push("--parameter-overrides".into());
        args.extend(overrides.iter().map(|s| s.to_string()));
    }
    Stack::start_with(StackOptions {
        template: &fixture_path("authorizer.yaml"),
        extra: args,
        ..StackOptions::default()
    })
}

fn fixture_path(name: &str) -> String {
    fixture(name)
}

#[tokio::test]
async fn authorizer_context_is_in_default_and_disconnect_events() {
    let stack = fixture_stack(&[], &[]);
    let token = wsflow_token(&["--sub", "carol", "--secret", "fixture-secret"]);
    let mut ws = handshake(&format!("{}?token={token}", stack.ws_url()), &[])
        .await
        .expect("connects");
    let event = default_event(&mut ws).await;
    let id = event["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let authorizer = &event["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "carol", "{event}");
    assert!(authorizer["integrationLatency"].is_u64(), "{event}");
    ws.close(None).await.unwrap();
    drop(ws);

    // $disconnect's Lambda event, as the fixture function printed it.
    let disconnect = eventually(30, || {
        let found = drain(&stack).into_iter().find_map(|line| {
            let json = line.split_once("fixture-event ")?.1;
            let ev: Value = serde_json::from_str(json).ok()?;
            (ev["requestContext"]["routeKey"] == "$disconnect"
                && ev["requestContext"]["connectionId"] == id.as_str())
            .then_some(ev)
        });
        async move { found }
    })
    .await;
    assert_eq!(
        disconnect["requestContext"]["authorizer"]["principalId"], "carol",
        "{disconnect}"
    );
    assert_eq!(disconnect["requestContext"]["eventType"], "DISCONNECT");
}

#[tokio::test]
async fn a_missing_identity_source_is_401_without_calling_the_authorizer() {
    let stack = fixture_stack(&["RequireApiKeyHeader=true"], &[]);
    let url = stack.ws_url();
    let good = wsflow_token(&["--sub", "dave", "--secret", "fixture-secret"]);
    let forged = wsflow_token(&["--sub", "dave", "--secret", "wrong"]);
    // A forged token would be a 403 from the function: 401 shows it was not called.
    refused(&format!("{url}?token={forged}"), &[], 401, "Unauthorized").await;
    refused(
        &format!("{url}?token={good}"),
        &[("x-api-key", "")],
        401,
        "Unauthorized",
    )
    .await;
    refused(
        &format!("{url}?token={forged}"),
        &[("x-api-key", "k")],
        403,
        "Forbidden",
    )
    .await;
    let mut ws = handshake(&format!("{url}?token={good}"), &[("x-api-key", "k")])
        .await
        .expect("identity source present, valid token");
    let event = default_event(&mut ws).await;
    assert_eq!(event["requestContext"]["authorizer"]["principalId"], "dave");
}

#[tokio::test]
async fn failing_authorizers_are_500() {
    // The function fails (no secret configured): not Unauthorized, so 500.
    let stack = fixture_stack(&["Secret="], &[]);
    let token = wsflow_token(&["--sub", "erin", "--secret", "fixture-secret"]);
    refused(
        &format!("{}?token={token}", stack.ws_url()),
        &[],
        500,
        "Internal server error",
    )
    .await;
    drop(stack);
    // The function returns something that is not a policy.
    let stack = fixture_stack(&["AuthFunction=fixture"], &[]);
    refused(&stack.ws_url(), &[], 500, "Internal server error").await;
}

/// A presigned `GET` of `url` for execute-api, made by botocore's `SigV4QueryAuth`.
fn presign(url: &str, key_id: &str, secret: &str) -> String {
    let script = r#"
import sys
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, key_id, secret = sys.argv[1:4]
request = AWSRequest(method="GET", url=url)
SigV4QueryAuth(Credentials(key_id, secret), "execute-api", "us-east-1", expires=300).add_auth(request)
print(request.url)
"#;
    let out = Command::new("python3")
        .args(["-c", script, url, key_id, secret])
        .output()
        .expect("python3 (with botocore) is needed for the AWS_IAM test");
    assert!(
        out.status.success(),
        "botocore presign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn aws_iam_accepts_a_botocore_presigned_url_and_refuses_an_unsigned_one() {
    let stack = Stack::start_with(StackOptions {
        template: &fixture_path("iam.yaml"),
        extra: vec![
            "--iam-credentials".into(),
            "AKIDWSFLOWTEST:wsflow/iam+secret".into(),
        ],
        ..StackOptions::default()
    });
    let url = stack.ws_url();
    refused(&url, &[], 403, "Forbidden").await;
    refused(&format!("{url}?foo=bar"), &[], 403, "Forbidden").await;

    let signed = presign(
        &format!("{url}?foo=bar"),
        "AKIDWSFLOWTEST",
        "wsflow/iam+secret",
    );
    assert!(signed.contains("X-Amz-Signature="), "{signed}");
    let mut ws = handshake(&signed, &[])
        .await
        .expect("presigned URL connects");
    let event = default_event(&mut ws).await;
    assert_eq!(event["requestContext"]["routeKey"], "$default", "{event}");

    // Another secret, another key, a changed query: 403.
    let wrong = presign(&url, "AKIDWSFLOWTEST", "not-the-secret");
    refused(&wrong, &[], 403, "Forbidden").await;
    let unknown = presign(&url, "AKIDSOMEONEELSE", "wsflow/iam+secret");
    refused(&unknown, &[], 403, "Forbidden").await;
    let tampered = signed.replace("foo=bar", "foo=baz");
    refused(&tampered, &[], 403, "Forbidden").await;
}

#[tokio::test]
async fn sam_websocket_api_auth_guards_connect() {
    let stack = Stack::start_with(StackOptions {
        template: &fixture_path("sam-websocket-auth.yaml"),
        ..StackOptions::default()
    });
    assert_eq!(stack.stage, "sam");
    let url = stack.ws_url();
    // IdentitySource route.request.querystring.token: none → 401 before the function runs.
    refused(&url, &[], 401, "Unauthorized").await;
    let forged = wsflow_token(&["--sub", "frank", "--secret", "wrong"]);
    refused(&format!("{url}?token={forged}"), &[], 403, "Forbidden").await;
    let token = wsflow_token(&["--sub", "frank", "--secret", "sam-fixture-secret"]);
    let mut ws = handshake(&format!("{url}?token={token}"), &[])
        .await
        .expect("connects");
    let event = default_event(&mut ws).await;
    assert_eq!(
        event["requestContext"]["authorizer"]["principalId"], "frank",
        "{event}"
    );
}
