//! The notifier against a real HTTP server speaking the `@connections` and DynamoDB protocols.

use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use notifier::{App, Notified};
use serde_json::{Value, json};
use wsflow_lambda_kit::Settings;
use wsflow_lambda_kit::testing::{FakeAws, Reply, STAGE};

const TABLE: &str = "wsflow-Connections";
const CLIENT: &str = "SOqGjdZioAMCEeg=";

async fn setup(table: Option<&str>) -> (FakeAws, App) {
    let aws = FakeAws::start().await.expect("bind a loopback port");
    let settings = Settings {
        connections_endpoint: Some(aws.connections_endpoint(STAGE)),
        table_name: table.map(str::to_owned),
    };
    let app = App::new(&aws.sdk_config(), &settings).expect("configured");
    (aws, app)
}

/// The payload the Standard workflow's Notify state builds.
fn succeeded() -> Value {
    json!({
        "connectionId": CLIENT,
        "message": {
            "status": "SUCCEEDED",
            "executionArn": "arn:aws:states:us-east-1:123456789012:execution:AsyncWorkflow:1b4e",
            "data": "123456",
            "result": {"type": "string", "length": 6, "bytes": 6,
                       "sha256": "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92",
                       "processedAt": "2026-11-22T03:04:05.678Z"}
        }
    })
}

fn invoke(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

#[tokio::test]
async fn posts_the_message_as_json_to_the_connection() {
    let (aws, app) = setup(Some(TABLE)).await;
    aws.create_table(TABLE, &[CLIENT]);
    aws.connect(CLIENT);

    let notified = notifier::handle(&app, invoke(succeeded()))
        .await
        .expect("delivered");

    assert_eq!(
        notified,
        Notified {
            connection_id: CLIENT.into(),
            delivered: true,
            record_removed: false
        }
    );
    let posts = aws.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].connection_id, CLIENT);
    let sent: Value = serde_json::from_str(&posts[0].text()).expect("JSON was sent");
    assert_eq!(sent, succeeded()["message"]);
    assert_eq!(
        aws.table_ids(TABLE).unwrap(),
        [CLIENT],
        "an open connection keeps its record"
    );
}

#[tokio::test]
async fn a_gone_connection_is_reported_and_its_record_removed() {
    let (aws, app) = setup(Some(TABLE)).await;
    aws.create_table(TABLE, &[CLIENT, "other="]);
    // CLIENT is not connected: the real HTTP server answers 410 GoneException.

    let notified = notifier::handle(&app, invoke(succeeded()))
        .await
        .expect("gone is not a failure");

    assert_eq!(
        serde_json::to_value(&notified).unwrap(),
        json!({"connectionId": CLIENT, "delivered": false, "recordRemoved": true})
    );
    assert_eq!(aws.posts()[0].status, 410);
    assert_eq!(aws.deleted(), [(TABLE.to_string(), CLIENT.to_string())]);
    assert_eq!(aws.table_ids(TABLE).unwrap(), ["other="]);
}

#[tokio::test]
async fn a_gone_connection_without_a_table_is_only_reported() {
    let (aws, app) = setup(None).await;
    aws.reply(CLIENT, Reply::BareGone);

    let notified = notifier::handle(&app, invoke(succeeded())).await.unwrap();

    assert!(!notified.delivered && !notified.record_removed);
    assert!(aws.deleted().is_empty());
}

#[tokio::test]
async fn a_table_failure_after_gone_does_not_fail_the_task() {
    // TABLE_NAME names a table the server does not have: DeleteItem fails.
    let (aws, app) = setup(Some("missing-table")).await;

    let notified = notifier::handle(&app, invoke(succeeded())).await.unwrap();

    assert!(!notified.delivered && !notified.record_removed);
    assert_eq!(aws.posts().len(), 1);
}

#[tokio::test]
async fn transient_failures_fail_the_task_for_the_states_retry() {
    let (aws, app) = setup(Some(TABLE)).await;
    aws.create_table(TABLE, &[CLIENT]);
    aws.reply(
        CLIENT,
        Reply::Error {
            status: 500,
            code: "InternalServerErrorException",
        },
    );

    let err = notifier::handle(&app, invoke(succeeded()))
        .await
        .unwrap_err();

    let diagnostic = Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "ConnectionsUnavailable");
    assert!(
        diagnostic.error_message.contains(CLIENT),
        "{}",
        diagnostic.error_message
    );
    assert!(aws.deleted().is_empty());
    assert_eq!(aws.table_ids(TABLE).unwrap(), [CLIENT]);

    aws.reply(
        CLIENT,
        Reply::Error {
            status: 429,
            code: "LimitExceededException",
        },
    );
    let err = notifier::handle(&app, invoke(succeeded()))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ConnectionsUnavailable");

    aws.reply(
        CLIENT,
        Reply::Error {
            status: 413,
            code: "PayloadTooLargeException",
        },
    );
    let err = notifier::handle(&app, invoke(succeeded()))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ConnectionsRejected");
}

#[tokio::test]
async fn malformed_input_is_an_invalid_event() {
    let (aws, app) = setup(Some(TABLE)).await;
    for payload in [
        json!({"message": {"status": "SUCCEEDED"}}),
        json!({"connectionId": CLIENT}),
        json!({"connectionId": CLIENT, "message": null}),
        json!({"connectionId": 7, "message": "x"}),
    ] {
        let err = notifier::handle(&app, invoke(payload.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidEvent", "{payload}");
    }
    assert!(aws.posts().is_empty());
}

#[tokio::test]
async fn the_endpoint_is_required() {
    let aws = FakeAws::start().await.unwrap();
    let settings = Settings {
        connections_endpoint: None,
        table_name: Some(TABLE.into()),
    };
    let err = App::new(&aws.sdk_config(), &settings).unwrap_err();
    assert_eq!(err.error_type(), "ConfigurationError");
    assert!(err.to_string().contains("CONNECTIONS_ENDPOINT"), "{err}");
}
