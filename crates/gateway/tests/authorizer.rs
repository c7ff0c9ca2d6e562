//! `$connect` authorization through the gateway's router with a real WebSocket client: the
//! authorizer's event, its result in every later event and in `$context`, and the statuses.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use wsflow_aws_wire::{LambdaInvokeError, ServiceResponse};
use wsflow_gateway::{ApiConfig, ConnectAuthorization, LambdaAuthorizer};

const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:u9jlm1pv1h/api/$connect";

/// `Auth` allows `?user=<name>` as that principal, denies `?user=deny`, throws `Unauthorized`
/// without a user and fails otherwise; every other function returns the event as its body.
fn lambda() -> std::sync::Arc<TestLambda> {
    TestLambda::new(|f, ev| {
        if f != "Auth" {
            return Ok(json!({"statusCode": 200, "body": ev.to_string()}));
        }
        let user = ev["queryStringParameters"]["user"].as_str().unwrap_or("");
        let effect = if user == "deny" { "Deny" } else { "Allow" };
        match user {
            "" => Err(LambdaInvokeError::Function {
                payload: json!({"errorType": "Error", "errorMessage": "Unauthorized"}),
            }),
            "crash" => Err(LambdaInvokeError::Function {
                payload: json!({"errorType": "Runtime.ExitError", "errorMessage": "exit status 1"}),
            }),
            _ => Ok(json!({
                "principalId": user,
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": effect, "Resource": ev["methodArn"]}]},
                "context": {"tier": "gold", "n": 7, "ok": true}
            })),
        }
    })
}

fn with_authorizer(mut config: ApiConfig, identity_sources: &[&str]) -> ApiConfig {
    config.connect_authorization = ConnectAuthorization::Lambda(LambdaAuthorizer {
        name: "Auth".into(),
        function: "Auth".into(),
        identity_sources: identity_sources.iter().map(|s| s.to_string()).collect(),
    });
    config
}

#[tokio::test]
async fn the_authorizer_runs_first_and_its_result_follows_the_connection() {
    let lambda = lambda();
    let s = serve(
        with_authorizer(
            api(vec![
                lambda_route("$connect", "Connect", false),
                lambda_route("$default", "Default", true),
                lambda_route("$disconnect", "Disconnect", false),
            ]),
            &[],
        ),
        lambda.clone(),
        vec![],
    )
    .await;
    assert_eq!(connect_status(s.addr, "/api").await, 401);
    assert_eq!(connect_status(s.addr, "/api?user=deny").await, 403);
    assert_eq!(connect_status(s.addr, "/api?user=crash").await, 500);
    // Refused handshakes never reach $connect.
    assert!(lambda.calls_to("Connect").is_empty());

    let mut ws = connect(s.addr, "/api?user=alice").await;
    let auth_event = lambda.calls_to("Auth").pop().unwrap();
    assert_eq!(auth_event["type"], "REQUEST");
    assert_eq!(auth_event["methodArn"], METHOD_ARN);
    assert_eq!(
        auth_event["queryStringParameters"],
        json!({"user": "alice"})
    );
    assert_eq!(auth_event["stageVariables"], json!({}));
    // The authorizer sees the upgrade headers, $connect does not.
    assert_eq!(auth_event["headers"]["Upgrade"], "websocket");
    assert_eq!(auth_event["headers"]["content-length"], "0");
    assert!(auth_event["headers"].get("Sec-WebSocket-Key").is_none());
    assert!(auth_event["multiValueHeaders"]["Sec-WebSocket-Key"].is_array());
    assert!(auth_event["requestContext"].get("authorizer").is_none());

    let expected = json!({"principalId": "alice", "tier": "gold", "n": "7", "ok": "true"});
    let connect_event = lambda.calls_to("Connect").pop().unwrap();
    assert!(connect_event["headers"].get("Upgrade").is_none());
    assert_eq!(
        connect_event["requestContext"]["connectionId"],
        auth_event["requestContext"]["connectionId"]
    );
    let mut got = connect_event["requestContext"]["authorizer"].clone();
    assert!(got["integrationLatency"].is_u64());
    got.as_object_mut().unwrap().remove("integrationLatency");
    assert_eq!(got, expected);

    send(&mut ws, "hi").await;
    let message: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
    assert_eq!(
        message["requestContext"]["authorizer"]["principalId"],
        "alice"
    );
    assert_eq!(message["requestContext"]["authorizer"]["tier"], "gold");

    ws.close(None).await.unwrap();
    eventually(|| lambda.calls_to("Disconnect").len() == 1).await;
    let disconnect = &lambda.calls_to("Disconnect")[0];
    assert_eq!(
        disconnect["requestContext"]["authorizer"]["principalId"],
        "alice"
    );
}

#[tokio::test]
async fn identity_sources_are_checked_before_the_function_is_called() {
    let lambda = lambda();
    let s = serve(
        with_authorizer(
            api(vec![lambda_route("$default", "Default", true)]),
            &[
                "route.request.querystring.user",
                "route.request.header.X-Key",
            ],
        ),
        lambda.clone(),
        vec![],
    )
    .await;
    assert_eq!(connect_status(s.addr, "/api?user=deny").await, 401);
    assert_eq!(connect_status(s.addr, "/api?user=").await, 401);
    assert!(lambda.calls_to("Auth").is_empty());
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/api?user=bob",
            s.addr
        ))
        .unwrap();
    request.headers_mut().insert("x-key", "k".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(lambda.calls_to("Auth").len(), 1);
    send(&mut ws, "hi").await;
    let message: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
    assert_eq!(
        message["requestContext"]["authorizer"]["principalId"],
        "bob"
    );
}

#[tokio::test]
async fn a_slow_authorizer_is_a_500() {
    let lambda = TestLambda::with_slow("Auth", Duration::from_secs(2), |_, _| Ok(json!({})));
    let mut config = with_authorizer(api(vec![]), &[]);
    config.limits.integration_timeout = Duration::from_millis(200);
    let s = serve(config, lambda, vec![]).await;
    assert_eq!(connect_status(s.addr, "/api?user=x").await, 500);
}

#[tokio::test]
async fn mapping_templates_see_context_authorizer() {
    let service = TestService::new("states", |_| {
        Ok(ServiceResponse::json(&json!({"ok": true})))
    });
    let s = serve(
        with_authorizer(
            api(vec![service_route(
                "$default",
                "states",
                Some("StartExecution"),
                None,
                r#"{"principal": "$context.authorizer.principalId", "tier": "$context.authorizer.tier"}"#,
                false,
            )]),
            &[],
        ),
        lambda(),
        vec![service.clone()],
    )
    .await;
    let mut ws = connect(s.addr, "/api?user=carol").await;
    send(&mut ws, "go").await;
    eventually(|| service.calls().len() == 1).await;
    let body: Value = serde_json::from_slice(&service.calls()[0].body).unwrap();
    assert_eq!(body, json!({"principal": "carol", "tier": "gold"}));
}
