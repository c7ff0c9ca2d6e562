//! The `echo` handler against a real HTTP server speaking the `@connections` protocol.

use echo_route::{App, USAGE};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use wsflow_lambda_kit::Settings;
use wsflow_lambda_kit::testing::{FakeAws, Reply, STAGE, message_event};

const SENDER: &str = "SOqGjdZioAMCEeg=";

async fn setup() -> (FakeAws, App) {
    let aws = FakeAws::start().await.expect("bind a loopback port");
    let settings = Settings {
        connections_endpoint: Some(aws.connections_endpoint(STAGE)),
        table_name: None,
    };
    let app = App::new(aws.sdk_config(), &settings);
    (aws, app)
}

fn invoke(body: &str) -> LambdaEvent<aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest> {
    LambdaEvent::new(message_event("echo", SENDER, body), Context::default())
}

#[tokio::test]
async fn sends_string_data_back_to_the_sender() {
    let (aws, app) = setup().await;
    aws.connect(SENDER);

    let response = echo_route::handle(&app, invoke(r#"{"action":"echo","data":"hello world"}"#))
        .await
        .expect("handled");

    assert_eq!(response.status_code, 200);
    let posts = aws.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].connection_id, SENDER);
    assert_eq!(posts[0].stage, STAGE);
    assert_eq!(posts[0].text(), "hello world");
}

#[tokio::test]
async fn sends_other_json_data_as_json_text() {
    let (aws, app) = setup().await;
    aws.connect(SENDER);

    echo_route::handle(
        &app,
        invoke(r#"{"action":"echo","data":{"n":[1,2],"quote":"\"'\\"}}"#),
    )
    .await
    .expect("handled");

    let sent: Value = serde_json::from_str(&aws.posts()[0].text()).expect("JSON was sent");
    assert_eq!(sent, json!({"n": [1, 2], "quote": "\"'\\"}));
}

#[tokio::test]
async fn a_message_without_data_gets_an_error_message_back() {
    let (aws, app) = setup().await;
    aws.connect(SENDER);

    let response = echo_route::handle(&app, invoke(r#"{"action":"echo"}"#))
        .await
        .expect("handled");

    assert_eq!(response.status_code, 400);
    let sent: Value = serde_json::from_str(&aws.posts()[0].text()).unwrap();
    assert_eq!(sent["message"], USAGE);
    assert_eq!(sent["connectionId"], SENDER);
    assert_eq!(sent["requestId"], "SOqIDEacoAMFaHQ=");
}

#[tokio::test]
async fn a_sender_that_left_is_not_an_error() {
    let (aws, app) = setup().await;
    // SENDER never connected: the server answers 410 GoneException.

    let response = echo_route::handle(&app, invoke(r#"{"action":"echo","data":"hi"}"#))
        .await
        .expect("gone is an outcome");

    assert_eq!(response.status_code, 410);
    assert_eq!(aws.posts()[0].status, 410);
}

#[tokio::test]
async fn other_connections_failures_fail_the_invocation() {
    let (aws, app) = setup().await;
    aws.reply(
        SENDER,
        Reply::Error {
            status: 500,
            code: "InternalServerErrorException",
        },
    );
    let err = echo_route::handle(&app, invoke(r#"{"action":"echo","data":"hi"}"#))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ConnectionsUnavailable");

    aws.reply(
        SENDER,
        Reply::Error {
            status: 403,
            code: "ForbiddenException",
        },
    );
    let err = echo_route::handle(&app, invoke(r#"{"action":"echo","data":"hi"}"#))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ConnectionsRejected");
}

#[tokio::test]
async fn without_a_configured_endpoint_the_event_must_name_one() {
    let aws = FakeAws::start().await.unwrap();
    let app = App::new(aws.sdk_config(), &Settings::default());
    let mut event = invoke(r#"{"action":"echo","data":"hi"}"#);
    event.payload.request_context.domain_name = None;

    let err = echo_route::handle(&app, event).await.unwrap_err();

    assert_eq!(err.error_type(), "ConfigurationError");
    assert!(aws.posts().is_empty());
}
