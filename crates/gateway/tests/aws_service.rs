//! AWS service integrations: request templates rendered by `wsflow-vtl`,
//! calls to a recording in-test service, two-way replies and errors.

mod common;

use common::*;
use serde_json::{Value, json};
use wsflow_aws_wire::{Protocol, ServiceError, ServiceResponse};

fn ok_service(name: &'static str) -> std::sync::Arc<TestService> {
    TestService::new(name, |req| {
        Ok(ServiceResponse::json(
            &json!({"op": req.operation, "ok": true}),
        ))
    })
}

#[tokio::test]
async fn connect_and_disconnect_write_through_dynamodb_templates() {
    let dynamo = ok_service("dynamodb");
    let put = r#"{"TableName":"Sessions","Item":{"connectionid":{"S":"$context.connectionId"},"path":{"S":"$input.params('ws-uri')"},"headers":{"S":"$input.params().get('header')"},"querystring":{"S":"$input.params().get('querystring')"},"ttl":{"N":"$context.requestTimeEpoch"}}}"#;
    let del = r#"{"TableName":"Sessions","Key":{"connectionid":{"S":"$context.connectionId"}}}"#;
    let mut config = api(vec![
        service_route("$connect", "dynamodb", Some("PutItem"), None, put, false),
        service_route(
            "$disconnect",
            "dynamodb",
            Some("DeleteItem"),
            None,
            del,
            false,
        ),
    ]);
    config.url_path_header = Some("ws-uri".into());
    let s = serve(
        config,
        TestLambda::new(|_, _| Ok(Value::Null)),
        vec![dynamo.clone()],
    )
    .await;
    let ws = connect(s.addr, "/my/custom/path?x=1").await;
    eventually(|| dynamo.calls().len() == 1).await;
    drop(ws);
    eventually(|| dynamo.calls().len() == 2).await;

    let calls = dynamo.calls();
    assert_eq!(calls[0].operation, "PutItem");
    assert_eq!(calls[0].protocol, Protocol::Json);
    let item: Value = serde_json::from_slice(&calls[0].body).unwrap();
    let id = item["Item"]["connectionid"]["S"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 16);
    assert_eq!(item["Item"]["path"]["S"], "/my/custom/path");
    // Rendered as API Gateway renders maps: `{Host=…, …}`, sorted by name.
    let headers = item["Item"]["headers"]["S"].as_str().unwrap();
    assert!(
        headers.starts_with(&format!("{{Host={}, ", s.addr)),
        "{headers}"
    );
    assert!(headers.contains(", Sec-WebSocket-Key="), "{headers}");
    assert!(
        headers.contains(", ws-uri=/my/custom/path, X-Amzn-Trace-Id=Root=1-"),
        "{headers}"
    );
    assert_eq!(item["Item"]["querystring"]["S"], "{x=1}");
    assert!(
        item["Item"]["ttl"]["N"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(calls[1].operation, "DeleteItem");
    let key: Value = serde_json::from_slice(&calls[1].body).unwrap();
    assert_eq!(key["Key"]["connectionid"]["S"], id.as_str());
}

#[tokio::test]
async fn a_failing_connect_service_call_rejects_the_handshake() {
    let dynamo = TestService::new("dynamodb", |_| {
        Err(ServiceError::client(
            "ResourceNotFoundException",
            "Requested resource not found",
        ))
    });
    let s = serve(
        api(vec![service_route(
            "$connect",
            "dynamodb",
            Some("PutItem"),
            None,
            "{}",
            false,
        )]),
        TestLambda::new(|_, _| Ok(Value::Null)),
        vec![dynamo],
    )
    .await;
    assert_eq!(connect_status(s.addr, "/api").await, 500);
}

#[tokio::test]
async fn two_way_service_routes_reply_with_the_service_response() {
    let sfn = TestService::new("states", |req| {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        if body["input"] == "\"fail\"" {
            Err(ServiceError::validation("Invalid input"))
        } else {
            Ok(ServiceResponse::json(
                &json!({"executionArn": "arn:x", "input": body["input"]}),
            ))
        }
    });
    let template = r#"{"input": "$util.escapeJavaScript($input.json('$.data'))", "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:M"}"#;
    let s = serve(
        api(vec![
            service_route(
                "sync_sfn",
                "states",
                Some("StartSyncExecution"),
                None,
                template,
                true,
            ),
            service_route(
                "quiet",
                "states",
                Some("StartExecution"),
                None,
                template,
                false,
            ),
        ]),
        TestLambda::new(|_, _| Ok(Value::Null)),
        vec![sfn.clone()],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, r#"{"action":"quiet","data":"q"}"#).await;
    send(&mut ws, r#"{"action":"sync_sfn","data":{"n":1}}"#).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["executionArn"], "arn:x");
    assert_eq!(reply["input"], r#"{"n":1}"#);
    let calls = sfn.calls();
    assert_eq!(calls[0].operation, "StartExecution");
    assert_eq!(calls[1].operation, "StartSyncExecution");

    // A service error passes through on a two-way route.
    send(&mut ws, r#"{"action":"sync_sfn","data":"fail"}"#).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["__type"], "com.amazonaws.test#ValidationException");
    assert_eq!(reply["message"], "Invalid input");
}

#[tokio::test]
async fn sqs_path_integrations_send_query_forms_with_the_queue_url() {
    let sqs = TestService::new("sqs", |_| {
        Ok(ServiceResponse::xml("<SendMessageResponse/>".into()))
    });
    let template = "Action=SendMessage&MessageGroupId=$context.connectionId&MessageBody=$util.urlEncode($input.body)";
    let s = serve(
        api(vec![service_route(
            "queue",
            "sqs",
            None,
            Some("123456789012/requests.fifo"),
            template,
            false,
        )]),
        TestLambda::new(|_, _| Ok(Value::Null)),
        vec![sqs.clone()],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    send(&mut ws, r#"{"action":"queue","data":"a b"}"#).await;
    eventually(|| sqs.calls().len() == 1).await;
    let call = &sqs.calls()[0];
    assert_eq!(call.operation, "SendMessage");
    assert_eq!(call.protocol, Protocol::Query);
    let form = String::from_utf8(call.body.clone()).unwrap();
    assert!(
        form.starts_with("Action=SendMessage&MessageGroupId="),
        "{form}"
    );
    assert!(
        form.ends_with("&QueueUrl=http%3A%2F%2F127.0.0.1%3A3001%2F123456789012%2Frequests.fifo"),
        "{form}"
    );
}

#[tokio::test]
async fn unknown_services_and_bad_expressions_are_config_errors() {
    use wsflow_aws_wire::AwsService;
    use wsflow_gateway::{Backends, Gateway, GatewayError};
    let backends = || Backends {
        lambda: TestLambda::new(|_, _| Ok(Value::Null)),
        services: vec![ok_service("dynamodb") as std::sync::Arc<dyn AwsService>],
    };
    let cfg = api(vec![service_route(
        "x",
        "states",
        Some("StartExecution"),
        None,
        "{}",
        true,
    )]);
    assert!(matches!(
        Gateway::new(cfg, backends()),
        Err(GatewayError::UnknownService { .. })
    ));
    let mut cfg = api(vec![]);
    cfg.route_selection_expression = "$context.routeKey".into();
    assert!(matches!(
        Gateway::new(cfg, backends()),
        Err(GatewayError::SelectionExpression { .. })
    ));
    let cfg = api(vec![
        lambda_route("a", "A", true),
        lambda_route("a", "B", true),
    ]);
    assert!(matches!(
        Gateway::new(cfg, backends()),
        Err(GatewayError::DuplicateRoute(_))
    ));
}

#[tokio::test]
async fn template_selection_and_passthrough_behaviors() {
    use std::collections::BTreeMap;
    use wsflow_gateway::{IntegrationConfig, RouteConfig};
    let dynamo = ok_service("dynamodb");
    let route = |key: &str, selection: &str, passthrough: &str| RouteConfig {
        route_key: key.into(),
        integration: IntegrationConfig::AwsService {
            service: "dynamodb".into(),
            action: Some("PutItem".into()),
            path: None,
            request_templates: BTreeMap::from([(
                "put".to_owned(),
                r#"{"kind":"put","route":"$context.routeKey"}"#.to_owned(),
            )]),
            template_selection_expression: Some(selection.into()),
            passthrough_behavior: Some(passthrough.into()),
        },
        two_way: true,
        integration_responses: Vec::new(),
        request_validation: None,
    };
    let s = serve(
        api(vec![
            route("select", "${request.body.kind}", "WHEN_NO_MATCH"),
            route("strict", "${request.body.kind}", "NEVER"),
        ]),
        TestLambda::new(|_, _| Ok(Value::Null)),
        vec![dynamo.clone()],
    )
    .await;
    let mut ws = connect(s.addr, "/api").await;
    // The body's `kind` selects the `put` template.
    send(&mut ws, r#"{"action":"select","kind":"put"}"#).await;
    assert_eq!(next_json(&mut ws).await["op"], "PutItem");
    // No template matches: WHEN_NO_MATCH passes the body through unchanged...
    let raw = r#"{"action":"select","kind":"other"}"#;
    send(&mut ws, raw).await;
    next_json(&mut ws).await;
    // ...and NEVER fails the request.
    send(&mut ws, r#"{"action":"strict","kind":"other"}"#).await;
    assert_eq!(next_json(&mut ws).await["message"], "Internal server error");
    let calls = dynamo.calls();
    assert_eq!(calls.len(), 2);
    let rendered: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(rendered, json!({"kind": "put", "route": "select"}));
    assert_eq!(calls[1].body, raw.as_bytes());
}
