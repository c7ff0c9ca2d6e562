//! The template's queues changed while serving (`wsflow up --watch`):
//! [`Sqs::apply_queue`] creates a queue or updates its settings keeping its
//! messages, [`Sqs::delete_queue`] and the DeleteQueue operation remove one
//! with its messages, and a long poll on a deleted queue ends.

use std::time::Duration;

use serde_json::{Value, json};
use wsflow_aws_wire::{Account, AwsService, Protocol, ServiceRequest};
use wsflow_sqs::{QueueSpec, Sqs};

const ENDPOINT: &str = "http://127.0.0.1:3001";

async fn call(sqs: &Sqs, op: &str, body: Value) -> Result<Value, String> {
    sqs.call(ServiceRequest {
        operation: op.into(),
        protocol: Protocol::Json,
        body: serde_json::to_vec(&body).unwrap(),
    })
    .await
    .map(|r| serde_json::from_slice(&r.body).unwrap())
    .map_err(|e| e.code)
}

#[tokio::test]
async fn template_queues_are_created_updated_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let sqs = Sqs::open(dir.path(), Vec::new(), Account::default(), ENDPOINT.into()).unwrap();
    let mut jobs = QueueSpec::new("jobs.fifo");
    jobs.fifo = true;
    assert!(sqs.apply_queue(&jobs).unwrap());
    assert!(!sqs.apply_queue(&jobs).unwrap());
    let url = sqs.queue_url("jobs.fifo");
    call(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": url, "MessageBody": "m", "MessageGroupId": "g", "MessageDeduplicationId": "d"}),
    )
    .await
    .unwrap();

    // New settings: applied, the message stays.
    jobs.visibility_timeout = Duration::from_secs(5);
    assert!(sqs.apply_queue(&jobs).unwrap());
    let attrs = call(
        &sqs,
        "GetQueueAttributes",
        json!({"QueueUrl": url, "AttributeNames": ["All"]}),
    )
    .await
    .unwrap();
    assert_eq!(attrs["Attributes"]["VisibilityTimeout"], "5");
    assert_eq!(attrs["Attributes"]["ApproximateNumberOfMessages"], "1");

    // A long poll on the queue ends when it is deleted (the one message is
    // in flight, so the poll waits).
    let first = sqs
        .receive_messages("jobs.fifo", 1, Duration::ZERO, None)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let poll = {
        let sqs = sqs.clone();
        tokio::spawn(async move {
            sqs.receive_messages("jobs.fifo", 1, Duration::from_secs(20), None)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    sqs.delete_queue("jobs.fifo").await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("the long poll ended")
        .unwrap();
    assert_eq!(ended.unwrap_err().code, "QueueDoesNotExist");
    assert_eq!(
        call(&sqs, "GetQueueUrl", json!({"QueueName": "jobs.fifo"})).await,
        Err("QueueDoesNotExist".to_owned())
    );
    assert!(sqs.queue_names().unwrap().is_empty());

    // Created again: empty (the old messages went with the queue).
    assert!(sqs.apply_queue(&jobs).unwrap());
    assert_eq!(sqs.message_counts("jobs.fifo").unwrap(), (0, 0, 0));

    // DeleteQueue through the API, and on a queue that does not exist.
    call(&sqs, "DeleteQueue", json!({"QueueUrl": url}))
        .await
        .unwrap();
    assert_eq!(
        call(&sqs, "DeleteQueue", json!({"QueueUrl": url})).await,
        Err("QueueDoesNotExist".to_owned())
    );
    let bad = QueueSpec::new("bad name");
    assert!(Sqs::validate_queue(&bad).is_err());
    assert!(sqs.apply_queue(&bad).is_err());
}
