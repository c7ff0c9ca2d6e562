//! The `post` handler against a real HTTP server speaking the `@connections` and DynamoDB protocols.

use aws_lambda_events::encodings::Body;
use lambda_runtime::{Context, LambdaEvent};
use post_route::{App, USAGE};
use serde_json::{Value, json};
use wsflow_lambda_kit::Settings;
use wsflow_lambda_kit::testing::{FakeAws, Reply, STAGE, message_event};

const TABLE: &str = "wsflow-Connections";
const SENDER: &str = "SOqGjdZioAMCEeg=";

async fn setup() -> (FakeAws, App) {
    let aws = FakeAws::start().await.expect("bind a loopback port");
    let settings = Settings {
        connections_endpoint: Some(aws.connections_endpoint(STAGE)),
        table_name: Some(TABLE.into()),
    };
    let app = App::new(aws.sdk_config(), &settings).expect("configured");
    (aws, app)
}

fn invoke(body: &str) -> LambdaEvent<aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest> {
    LambdaEvent::new(message_event("post", SENDER, body), Context::default())
}

fn body_json(response: &aws_lambda_events::apigw::ApiGatewayProxyResponse) -> Value {
    match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).expect("a JSON body"),
        other => panic!("expected a text body, got {other:?}"),
    }
}

#[tokio::test]
async fn sends_data_to_every_connection_and_forgets_the_gone_ones() {
    let (aws, app) = setup().await;
    // Five records (the server pages Scan two at a time); "left=" is no longer connected.
    aws.create_table(TABLE, &[SENDER, "peer1=", "peer2=", "peer3=", "left="]);
    for id in [SENDER, "peer1=", "peer2=", "peer3="] {
        aws.connect(id);
    }

    let response = post_route::handle(&app, invoke(r#"{"action":"post","data":"hello world"}"#))
        .await
        .expect("handled");

    assert_eq!(response.status_code, 200);
    assert_eq!(body_json(&response), json!({"delivered": 4, "gone": 1}));
    let mut receivers: Vec<String> = aws
        .posts()
        .iter()
        .map(|p| p.connection_id.clone())
        .collect();
    receivers.sort();
    assert_eq!(
        receivers,
        ["SOqGjdZioAMCEeg=", "left=", "peer1=", "peer2=", "peer3="]
    );
    assert!(aws.posts().iter().all(|p| p.text() == "hello world"));
    assert_eq!(aws.deleted(), [(TABLE.to_string(), "left=".to_string())]);
    assert_eq!(
        aws.table_ids(TABLE).unwrap(),
        ["SOqGjdZioAMCEeg=", "peer1=", "peer2=", "peer3="]
    );
}

#[tokio::test]
async fn a_message_without_data_is_answered_to_the_sender_only() {
    let (aws, app) = setup().await;
    aws.create_table(TABLE, &[SENDER, "peer1="]);
    aws.connect(SENDER);
    aws.connect("peer1=");

    let response = post_route::handle(&app, invoke(r#"{"action":"post","text":"hi"}"#))
        .await
        .expect("handled");

    assert_eq!(response.status_code, 400);
    let posts = aws.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].connection_id, SENDER);
    let sent: Value = serde_json::from_str(&posts[0].text()).unwrap();
    assert_eq!(sent["message"], USAGE);
}

#[tokio::test]
async fn a_failing_connection_fails_the_invocation_after_the_others_got_the_message() {
    let (aws, app) = setup().await;
    aws.create_table(TABLE, &["ok1=", "broken=", "ok2="]);
    aws.connect("ok1=");
    aws.connect("ok2=");
    aws.reply(
        "broken=",
        Reply::Error {
            status: 500,
            code: "InternalServerErrorException",
        },
    );

    let err = post_route::handle(&app, invoke(r#"{"action":"post","data":{"n":1}}"#))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "ConnectionsUnavailable");
    let delivered: Vec<String> = aws
        .posts()
        .iter()
        .filter(|p| p.status == 200)
        .map(|p| p.text())
        .collect();
    assert_eq!(delivered, [r#"{"n":1}"#, r#"{"n":1}"#]);
    assert!(aws.deleted().is_empty(), "a failing connection is not gone");
}

#[tokio::test]
async fn an_unreadable_table_fails_the_invocation() {
    let (aws, app) = setup().await;
    // No table created: Scan answers ResourceNotFoundException.

    let err = post_route::handle(&app, invoke(r#"{"action":"post","data":"x"}"#))
        .await
        .unwrap_err();

    assert_eq!(err.error_type(), "ConnectionsTableError");
    assert!(
        err.to_string().contains("ResourceNotFoundException"),
        "{err}"
    );
    assert!(aws.posts().is_empty());
}

#[tokio::test]
async fn the_table_name_is_required() {
    let aws = FakeAws::start().await.unwrap();
    let err = App::new(aws.sdk_config(), &Settings::default()).unwrap_err();
    assert_eq!(err.error_type(), "ConfigurationError");
    assert!(err.to_string().contains("TABLE_NAME"), "{err}");
}
