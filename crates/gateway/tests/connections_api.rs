//! The `@connections` API over real HTTP (hyper client and the official
//! Rust SDK, `aws-sdk-apigatewaymanagement`).

mod common;

use std::{net::SocketAddr, time::Duration};

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client as HttpClient, rt::TokioExecutor};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct HttpReply {
    status: u16,
    error_type: Option<String>,
    body: Bytes,
}

async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> HttpReply {
    let client = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        // Any SigV4 header is accepted unverified.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00",
        )
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let error_type = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    HttpReply {
        status,
        error_type,
        body,
    }
}

/// The connection id the `$connect` function saw.
async fn connected(lambda: &TestLambda) -> String {
    eventually(|| !lambda.calls_to("Connect").is_empty()).await;
    lambda.calls_to("Connect")[0]["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn connect_lambda() -> std::sync::Arc<TestLambda> {
    TestLambda::new(|_, _| Ok(json!({"statusCode": 200})))
}

#[tokio::test]
async fn post_get_delete_and_gone_over_http() {
    let lambda = connect_lambda();
    let mut config = api(vec![
        lambda_route("$connect", "Connect", false),
        lambda_route("$disconnect", "Disconnect", false),
    ]);
    config.limits.max_message_bytes = 1000;
    let s = serve(config, lambda.clone(), vec![]).await;
    let mut ws = connect(s.addr, "/api").await;
    let id = connected(&lambda).await;
    eventually(|| s.gateway.connection_count() == 1).await;
    // `=` percent-encoded, as SDKs send it.
    let path = format!("/@connections/{}", id.replace('=', "%3D"));

    let r = http(s.addr, "POST", &path, b"hello from the backend").await;
    assert_eq!(r.status, 200);
    assert_eq!(next_text(&mut ws).await, "hello from the backend");

    let r = http(s.addr, "POST", &format!("/api{path}"), b"via stage path").await;
    assert_eq!(r.status, 200);
    assert_eq!(next_text(&mut ws).await, "via stage path");

    let r = http(s.addr, "POST", &format!("/other{path}"), b"x").await;
    assert_eq!(
        (r.status, r.error_type.as_deref()),
        (403, Some("ForbiddenException"))
    );

    let r = http(s.addr, "POST", &path, &[b'x'; 1001]).await;
    assert_eq!(
        (r.status, r.error_type.as_deref()),
        (413, Some("PayloadTooLargeException"))
    );

    let r = http(s.addr, "GET", &path, b"").await;
    assert_eq!(r.status, 200);
    let info: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(info["identity"]["sourceIp"], "127.0.0.1");
    assert!(info["connectedAt"].as_str().unwrap().ends_with('Z'));
    assert!(info["lastActiveAt"].as_str().unwrap().ends_with('Z'));

    let r = http(s.addr, "DELETE", &path, b"").await;
    assert_eq!(r.status, 204);
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected a close frame, got {other:?}"),
    }
    eventually(|| lambda.calls_to("Disconnect").len() == 1).await;

    for method in ["POST", "GET", "DELETE"] {
        let r = http(s.addr, method, &path, b"late").await;
        assert_eq!(
            (r.status, r.error_type.as_deref()),
            (410, Some("GoneException")),
            "{method}"
        );
    }
    let r = http(s.addr, "POST", "/@connections/NeverExisted0=", b"x").await;
    assert_eq!(r.status, 410);
}

#[tokio::test]
async fn in_process_post_to_connection() {
    let lambda = connect_lambda();
    let s = serve(
        api(vec![lambda_route("$connect", "Connect", false)]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    let id = connected(&lambda).await;
    eventually(|| s.gateway.connection_count() == 1).await;
    s.gateway
        .post_to_connection(&id, Bytes::from_static(b"direct"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "direct");
    s.gateway
        .post_to_connection(&id, Bytes::from_static(&[0xff, 0x00]))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::binary(vec![0xffu8, 0x00]));
    let e = s
        .gateway
        .post_to_connection("nope", Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (410, "GoneException"));
}

#[tokio::test]
async fn official_sdk_client_works() {
    use aws_sdk_apigatewaymanagement::{
        Client, Config,
        config::{BehaviorVersion, Credentials, Region},
        primitives::Blob,
    };
    let lambda = connect_lambda();
    let s = serve(
        api(vec![lambda_route("$connect", "Connect", false)]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    let id = connected(&lambda).await;
    eventually(|| s.gateway.connection_count() == 1).await;

    let config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .endpoint_url(format!("http://{}/api", s.addr))
        .build();
    let client = Client::from_conf(config);
    client
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new(r#"{"hello":"sdk"}"#))
        .send()
        .await
        .expect("PostToConnection");
    assert_eq!(next_text(&mut ws).await, r#"{"hello":"sdk"}"#);

    let got = client
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .expect("GetConnection");
    assert!(got.connected_at().is_some() && got.last_active_at().is_some());
    assert_eq!(
        got.identity().and_then(|i| i.source_ip()),
        Some("127.0.0.1")
    );

    client
        .delete_connection()
        .connection_id(&id)
        .send()
        .await
        .expect("DeleteConnection");
    tokio::time::timeout(Duration::from_secs(5), async {
        while s.gateway.connection_count() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();

    let err = client
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("late"))
        .send()
        .await
        .expect_err("gone");
    let service_err = err.into_service_error();
    assert!(service_err.is_gone_exception(), "{service_err:?}");
}

/// `aws apigatewaymanagementapi … --endpoint-url`, the real CLI process.
/// Skipped (with a note) where no `aws` is installed.
#[tokio::test]
async fn aws_cli_post_get_delete() {
    let aws = |args: Vec<String>| {
        tokio::process::Command::new("aws")
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "AKID")
            .env("AWS_SECRET_ACCESS_KEY", "SECRET")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
    };
    if aws(vec!["--version".into()]).await.is_err() {
        eprintln!("aws CLI not installed: skipping");
        return;
    }
    let lambda = connect_lambda();
    let s = serve(
        api(vec![lambda_route("$connect", "Connect", false)]),
        lambda.clone(),
        vec![],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    let id = connected(&lambda).await;
    eventually(|| s.gateway.connection_count() == 1).await;
    let endpoint = format!("http://{}/api", s.addr);
    let cmd = |op: &str, extra: &[&str]| {
        let mut v: Vec<String> = vec![
            "apigatewaymanagementapi".into(),
            op.into(),
            "--endpoint-url".into(),
            endpoint.clone(),
            "--connection-id".into(),
            id.clone(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // CLI v1 takes blobs raw; v2 needs raw-in-base64-out to do the same.
    let version = aws(vec!["--version".into()]).await.unwrap();
    let v2 = String::from_utf8_lossy(&version.stdout).starts_with("aws-cli/2")
        || String::from_utf8_lossy(&version.stderr).starts_with("aws-cli/2");
    let mut post = vec!["--data", "hello from the cli"];
    if v2 {
        post.extend(["--cli-binary-format", "raw-in-base64-out"]);
    }
    let out = aws(cmd("post-to-connection", &post)).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(next_text(&mut ws).await, "hello from the cli");

    let out = aws(cmd("get-connection", &[])).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["Identity"]["SourceIp"], "127.0.0.1");

    let out = aws(cmd("delete-connection", &[])).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = aws(cmd("post-to-connection", &post)).await.unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GoneException"), "{err}");
}
