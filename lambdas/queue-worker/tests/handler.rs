//! The queue worker with SQS FIFO events shaped like Lambda's, against a real HTTP server
//! speaking the `@connections` protocol.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use queue_worker::App;
use serde_json::{Value, json};
use wsflow_lambda_kit::Settings;
use wsflow_lambda_kit::testing::{FakeAws, Reply, STAGE};

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:wsflow-Messages.fifo";

async fn setup() -> (FakeAws, App) {
    let aws = FakeAws::start().await.expect("bind a loopback port");
    let settings = Settings {
        connections_endpoint: Some(aws.connections_endpoint(STAGE)),
        table_name: None,
    };
    let app = App::new(&aws.sdk_config(), &settings).expect("configured");
    (aws, app)
}

/// One record as Lambda's SQS event source delivers a FIFO message the `queue` route sent.
fn record(n: usize, connection_id: &str, request_id: &str, body: &str) -> Value {
    json!({
        "messageId": format!("0e8f7d5c-0000-4000-8000-00000000000{n}"),
        "receiptHandle": format!("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{n}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1652722227357",
            "SequenceNumber": format!("1863242718735427300{n}"),
            "MessageGroupId": "test",
            "SenderId": "AROAEXAMPLE:apigateway",
            "MessageDeduplicationId": request_id,
            "ApproximateFirstReceiveTimestamp": "1652722227400"
        },
        "messageAttributes": {
            "connectionId": {"stringValue": connection_id, "stringListValues": [], "binaryListValues": [], "dataType": "String"},
            "requestId": {"stringValue": request_id, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
        },
        "md5OfMessageAttributes": "8c4b32c0b9f4e3a7f1d3b7c2a1e0f9d8",
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1"
    })
}

fn invoke(records: Vec<Value>) -> LambdaEvent<SqsEvent> {
    let event = serde_json::from_value(json!({"Records": records})).expect("a valid SQS event");
    LambdaEvent::new(event, Context::default())
}

fn failures(response: &aws_lambda_events::sqs::SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn replies_to_every_sender_in_order() {
    let (aws, app) = setup().await;
    aws.connect("A=");
    aws.connect("B=");
    let body = r#"{"action":"queue","MessageGroupId":"test","data":"hello world"}"#;
    let records = (0..10)
        .map(|n| {
            record(
                n,
                if n % 2 == 0 { "A=" } else { "B=" },
                &format!("req{n}="),
                body,
            )
        })
        .collect();

    let response = queue_worker::handle(&app, invoke(records))
        .await
        .expect("handled");

    assert!(failures(&response).is_empty());
    let posts = aws.posts();
    assert_eq!(posts.len(), 10);
    assert_eq!(posts[1].connection_id, "B=");
    // Byte-exact reply, members in the seed's order.
    assert_eq!(
        posts[0].text(),
        r#"{"connectionId":"A=","requestId":"req0=","message":"{\"action\":\"queue\",\"MessageGroupId\":\"test\",\"data\":\"hello world\"}"}"#
    );
    let requests: Vec<String> = posts
        .iter()
        .map(|p| {
            serde_json::from_str::<Value>(&p.text()).unwrap()["requestId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        requests,
        (0..10).map(|n| format!("req{n}=")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_sender_that_left_is_not_a_failure() {
    let (aws, app) = setup().await;
    aws.connect("B=");

    let response = queue_worker::handle(
        &app,
        invoke(vec![
            record(1, "left=", "r1=", "x"),
            record(2, "B=", "r2=", "y"),
        ]),
    )
    .await
    .unwrap();

    assert!(failures(&response).is_empty());
    assert_eq!(
        aws.posts().iter().map(|p| p.status).collect::<Vec<_>>(),
        [410, 200]
    );
}

#[tokio::test]
async fn a_failure_reports_that_record_and_every_later_one() {
    let (aws, app) = setup().await;
    aws.connect("A=");
    aws.reply(
        "broken=",
        Reply::Error {
            status: 500,
            code: "InternalServerErrorException",
        },
    );

    let response = queue_worker::handle(
        &app,
        invoke(vec![
            record(1, "A=", "r1=", "first"),
            record(2, "broken=", "r2=", "second"),
            record(3, "A=", "r3=", "third"),
        ]),
    )
    .await
    .unwrap();

    assert_eq!(
        failures(&response),
        [
            "0e8f7d5c-0000-4000-8000-000000000002",
            "0e8f7d5c-0000-4000-8000-000000000003"
        ]
    );
    // The third record was not sent: it goes back to the queue behind the second.
    assert_eq!(aws.posts().len(), 2);
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        json["batchItemFailures"][0]["itemIdentifier"],
        "0e8f7d5c-0000-4000-8000-000000000002"
    );
}

#[tokio::test]
async fn a_record_without_the_sender_attribute_is_reported() {
    let (aws, app) = setup().await;
    aws.connect("A=");
    let mut bad = record(1, "A=", "r1=", "x");
    bad["messageAttributes"]
        .as_object_mut()
        .unwrap()
        .remove("connectionId");

    let response = queue_worker::handle(&app, invoke(vec![bad])).await.unwrap();

    assert_eq!(
        failures(&response),
        ["0e8f7d5c-0000-4000-8000-000000000001"]
    );
    assert!(aws.posts().is_empty());
}

#[tokio::test]
async fn the_endpoint_is_required() {
    let aws = FakeAws::start().await.unwrap();
    let err = App::new(&aws.sdk_config(), &Settings::default()).unwrap_err();
    assert_eq!(err.error_type(), "ConfigurationError");
}
