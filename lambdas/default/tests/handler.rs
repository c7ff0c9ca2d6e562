//! The `$default` handler with events shaped like API Gateway's.

use aws_lambda_events::encodings::Body;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

/// A MESSAGE event as API Gateway sends it for `$default` (the seed 002 sample, plus the fields
/// AWS adds for Lambda proxy integrations).
fn message_event() -> Value {
    json!({
        "requestContext": {
            "routeKey": "$default",
            "messageId": "SOqIDdzSoAMCEeg=",
            "eventType": "MESSAGE",
            "extendedRequestId": "SOqIDEacoAMFaHQ=",
            "requestTime": "16/May/2022:17:30:27 +0000",
            "messageDirection": "IN",
            "stage": "api",
            "connectedAt": 1652722217711_u64,
            "requestTimeEpoch": 1652722227357_u64,
            "identity": {"sourceIp": "203.0.113.7"},
            "requestId": "SOqIDEacoAMFaHQ=",
            "domainName": "u9jlm1pv1h.execute-api.us-east-1.amazonaws.com",
            "connectionId": "SOqGjdZioAMCEeg=",
            "apiId": "u9jlm1pv1h"
        },
        "body": "{\"first_name\" : \"Jane\", \"last_name\" : \"Doe\"}",
        "isBase64Encoded": false
    })
}

fn invoke(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

#[tokio::test]
async fn replies_with_the_event_exactly_as_received() {
    let event = message_event();

    let response = default_route::handle(invoke(event.clone()))
        .await
        .expect("handled");

    assert_eq!(response.status_code, 200);
    let Some(Body::Text(body)) = response.body else {
        panic!("expected a text body, got {:?}", response.body);
    };
    let echoed: Value = serde_json::from_str(&body).expect("the body is JSON");
    assert_eq!(echoed, event, "no field added, dropped or changed");
}

#[tokio::test]
async fn a_binary_frame_is_echoed_base64_encoded_as_received() {
    let mut event = message_event();
    event["body"] = json!("AAEC/w==");
    event["isBase64Encoded"] = json!(true);

    let response = default_route::handle(invoke(event.clone()))
        .await
        .expect("handled");

    let Some(Body::Text(body)) = response.body else {
        panic!("expected a text body");
    };
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), event);
}

#[tokio::test]
async fn a_non_websocket_event_is_refused() {
    // An SQS event delivered to the wrong function.
    let sqs = json!({"Records": [{"messageId": "1", "body": "x", "eventSource": "aws:sqs"}]});
    let err = default_route::handle(invoke(sqs)).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");

    // A WebSocket-shaped event without a connection id.
    let mut event = message_event();
    event["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("connectionId");
    let err = default_route::handle(invoke(event)).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    assert!(err.to_string().contains("connectionId"), "{err}");
}
