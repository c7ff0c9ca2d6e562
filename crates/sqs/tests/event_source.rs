//! The SQS → Lambda event source with an in-test `LambdaInvoker` that
//! records every event and answers from a script.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use wsflow_aws_wire::{Account, BoxFuture, LambdaInvokeError, LambdaInvoker};
use wsflow_sqs::{EventSourceMapping, QueueSpec, Sqs, spawn_event_source};

const FIFO_URL: &str = "http://127.0.0.1:3001/123456789012/work.fifo";

/// What the fake function answers, per invocation, given the event.
type Script = Box<dyn Fn(&Value) -> Result<Value, LambdaInvokeError> + Send + Sync>;

struct FakeLambda {
    script: Mutex<VecDeque<Script>>,
    calls: mpsc::UnboundedSender<(String, Value)>,
}

impl LambdaInvoker for FakeLambda {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move {
            let step = self.script.lock().unwrap().pop_front();
            let out = match step {
                Some(f) => f(&payload),
                None => Ok(Value::Null),
            };
            let _ = self.calls.send((function.to_owned(), payload));
            out
        })
    }
}

fn ids(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageId"].as_str().unwrap().to_owned())
        .collect()
}

fn bodies(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap().to_owned())
        .collect()
}

async fn next_call(rx: &mut mpsc::UnboundedReceiver<(String, Value)>) -> (String, Value) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the function was invoked in time")
        .expect("channel open")
}

fn setup(
    dir: &std::path::Path,
    script: Vec<Script>,
) -> (
    Sqs,
    Arc<FakeLambda>,
    mpsc::UnboundedReceiver<(String, Value)>,
) {
    let mut spec = QueueSpec::new("work.fifo");
    spec.visibility_timeout = Duration::from_secs(1);
    let sqs = Sqs::open(
        dir,
        vec![spec],
        Account::default(),
        "http://127.0.0.1:3001".into(),
    )
    .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let lambda = Arc::new(FakeLambda {
        script: Mutex::new(script.into()),
        calls: tx,
    });
    (sqs, lambda, rx)
}

async fn send(sqs: &Sqs, group: &str, body: &str) -> String {
    let r = sqs
        .call_json(
            "SendMessage",
            &json!({"QueueUrl": FIFO_URL, "MessageBody": body, "MessageGroupId": group,
                    "MessageDeduplicationId": format!("{group}-{body}"),
                    "MessageAttributes": {"connectionId": {"DataType": "String", "StringValue": "conn="}}}),
        )
        .await
        .unwrap();
    r["MessageId"].as_str().unwrap().to_owned()
}

async fn queue_is_empty(sqs: &Sqs) -> bool {
    let a = sqs
        .call_json(
            "GetQueueAttributes",
            &json!({"QueueUrl": FIFO_URL, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}),
        )
        .await
        .unwrap();
    a["Attributes"]["ApproximateNumberOfMessages"] == json!("0")
        && a["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == json!("0")
}

#[tokio::test]
async fn partial_batch_failure_redelivers_only_the_failed_messages() {
    let dir = tempfile::tempdir().unwrap();
    let script: Vec<Script> = vec![
        // First batch: m1 succeeds; m2 fails, so (FIFO) m2 and m3 are reported.
        Box::new(|event: &Value| {
            let ids = ids(event);
            Ok(
                json!({"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}),
            )
        }),
        // Redelivery: everything succeeds.
        Box::new(|_: &Value| Ok(json!({"batchItemFailures": []}))),
    ];
    let (sqs, lambda, mut calls) = setup(dir.path(), script);
    let m1 = send(&sqs, "g", "m1").await;
    let m2 = send(&sqs, "g", "m2").await;
    let m3 = send(&sqs, "g", "m3").await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let handle = spawn_event_source(
        sqs.clone(),
        EventSourceMapping {
            queue: "work.fifo".into(),
            function: "QueueWorker".into(),
            batch_size: 10,
            max_batching_window: Duration::ZERO,
            report_batch_item_failures: true,
        },
        lambda,
        stop_rx,
    );

    let (function, event) = next_call(&mut calls).await;
    assert_eq!(function, "QueueWorker");
    assert_eq!(ids(&event), [m1.clone(), m2.clone(), m3.clone()]);
    let r = &event["Records"][0];
    assert_eq!(r["eventSource"], json!("aws:sqs"));
    assert_eq!(
        r["eventSourceARN"],
        json!("arn:aws:sqs:us-east-1:123456789012:work.fifo")
    );
    assert_eq!(r["awsRegion"], json!("us-east-1"));
    assert_eq!(r["attributes"]["ApproximateReceiveCount"], json!("1"));
    assert_eq!(r["attributes"]["MessageGroupId"], json!("g"));
    assert_eq!(r["attributes"]["MessageDeduplicationId"], json!("g-m1"));
    assert_eq!(r["attributes"]["SenderId"], json!("123456789012"));
    for k in [
        "SentTimestamp",
        "ApproximateFirstReceiveTimestamp",
        "SequenceNumber",
    ] {
        assert!(
            r["attributes"][k]
                .as_str()
                .is_some_and(|s| s.parse::<u128>().is_ok()),
            "{k}"
        );
    }
    assert_eq!(
        r["messageAttributes"]["connectionId"],
        json!({"stringValue": "conn=", "stringListValues": [], "binaryListValues": [], "dataType": "String"})
    );
    assert_eq!(r["md5OfBody"], json!("ae7be26cdaa742ca148068d5ac90eaca"));
    assert!(r["md5OfMessageAttributes"].is_string());
    assert!(r["receiptHandle"].is_string());

    // After the 1 s visibility timeout only m2 and m3 come back, in order.
    let (_, event) = next_call(&mut calls).await;
    assert_eq!(ids(&event), [m2, m3]);
    assert_eq!(bodies(&event), ["m2", "m3"]);
    assert_eq!(
        event["Records"][0]["attributes"]["ApproximateReceiveCount"],
        json!("2")
    );

    // Everything was eventually deleted.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !queue_is_empty(&sqs).await {
        assert!(tokio::time::Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn function_errors_and_invalid_responses_return_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let script: Vec<Script> = vec![
        Box::new(|_: &Value| {
            Err(LambdaInvokeError::Function {
                payload: json!({"errorType": "Boom", "errorMessage": "failed"}),
            })
        }),
        Box::new(|_: &Value| {
            Ok(json!({"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}))
        }),
        Box::new(|_: &Value| Ok(json!({"statusCode": 200}))),
    ];
    let (sqs, lambda, mut calls) = setup(dir.path(), script);
    let a = send(&sqs, "g1", "a").await;
    let b = send(&sqs, "g2", "b").await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let handle = spawn_event_source(
        sqs.clone(),
        EventSourceMapping {
            queue: "work.fifo".into(),
            function: "QueueWorker".into(),
            batch_size: 5,
            max_batching_window: Duration::from_millis(100),
            report_batch_item_failures: true,
        },
        lambda,
        stop_rx,
    );
    for attempt in 1..=3 {
        let (_, event) = next_call(&mut calls).await;
        assert_eq!(ids(&event), [a.clone(), b.clone()], "attempt {attempt}");
        assert_eq!(
            event["Records"][0]["attributes"]["ApproximateReceiveCount"],
            json!(attempt.to_string())
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !queue_is_empty(&sqs).await {
        assert!(tokio::time::Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(stop_tx);
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
}
