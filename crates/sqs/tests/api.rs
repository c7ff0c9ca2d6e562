//! The local SQS driven through `AwsService` in both protocols, on a real
//! redb file in a temporary directory.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use wsflow_aws_wire::{
    Account, AwsService, Protocol, ServiceError, ServiceRequest, ServiceResponse,
};
use wsflow_sqs::{QueueSpec, Sqs};

const ENDPOINT: &str = "http://127.0.0.1:3001";
const FIFO_URL: &str = "http://127.0.0.1:3001/123456789012/jobs.fifo";
const STD_URL: &str = "http://127.0.0.1:3001/123456789012/plain";

fn specs() -> Vec<QueueSpec> {
    let mut fifo = QueueSpec::new("jobs.fifo");
    fifo.visibility_timeout = Duration::from_secs(1);
    let mut plain = QueueSpec::new("plain");
    plain.visibility_timeout = Duration::from_secs(1);
    let mut cbd = QueueSpec::new("cbd.fifo");
    cbd.content_based_deduplication = true;
    vec![fifo, plain, cbd]
}

fn open(dir: &Path) -> Sqs {
    Sqs::open(dir, specs(), Account::default(), ENDPOINT.into()).expect("open")
}

async fn json_call(sqs: &Sqs, op: &str, body: Value) -> Result<Value, ServiceError> {
    let resp = sqs
        .call(ServiceRequest {
            operation: op.into(),
            protocol: Protocol::Json,
            body: serde_json::to_vec(&body).unwrap(),
        })
        .await?;
    assert_eq!(resp.status, 200);
    Ok(serde_json::from_slice(&resp.body).unwrap())
}

async fn ok(sqs: &Sqs, op: &str, body: Value) -> Value {
    json_call(sqs, op, body)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
}

async fn query(sqs: &Sqs, form: &str) -> ServiceResponse {
    sqs.call(ServiceRequest {
        operation: String::new(),
        protocol: Protocol::Query,
        body: form.as_bytes().to_vec(),
    })
    .await
    .expect("query calls answer with a response")
}

fn text(resp: &ServiceResponse) -> String {
    String::from_utf8(resp.body.clone()).unwrap()
}

/// The text of the first `<tag>…</tag>` in `xml`.
fn tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn query_protocol_round_trip_as_the_gateway_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let sqs = open(dir.path());
    assert_eq!(
        (sqs.target_prefix(), sqs.integration_name()),
        ("AmazonSQS", "sqs")
    );
    // The body API Gateway's SQS integration renders (QueueUrl appended).
    let body = r#"{"action":"queue","data":"hi & bye"}"#;
    let form = format!(
        "Action=SendMessage&MessageGroupId=conn-1&MessageDeduplicationId=req-1&MessageBody={}\
         &MessageAttribute.1.Name=connectionId&MessageAttribute.1.Value.StringValue={}\
         &MessageAttribute.1.Value.DataType=String&QueueUrl={}",
        enc(body),
        enc("Kx2=abc"),
        enc(FIFO_URL)
    );
    let resp = query(&sqs, &form).await;
    let xml = text(&resp);
    assert_eq!((resp.status, resp.content_type), (200, "text/xml"), "{xml}");
    assert!(xml.starts_with("<?xml version=\"1.0\"?><SendMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><SendMessageResult>"), "{xml}");
    assert_eq!(
        tag(&xml, "MD5OfMessageBody"),
        Some("5757135314e3d1c84d61b99bb31d7640")
    );
    assert!(tag(&xml, "MD5OfMessageAttributes").is_some());
    let message_id = tag(&xml, "MessageId").unwrap().to_owned();
    let seq = tag(&xml, "SequenceNumber").unwrap();
    assert_eq!(seq.len(), 20, "{seq}");
    assert!(tag(&xml, "RequestId").is_some());

    let resp = query(
        &sqs,
        &format!(
            "Action=ReceiveMessage&QueueUrl={}&AttributeName.1=All&MessageAttributeName.1=All&MaxNumberOfMessages=10",
            enc(FIFO_URL)
        ),
    )
    .await;
    let xml = text(&resp);
    assert_eq!(tag(&xml, "MessageId"), Some(message_id.as_str()), "{xml}");
    assert_eq!(
        tag(&xml, "Body"),
        Some("{&quot;action&quot;:&quot;queue&quot;,&quot;data&quot;:&quot;hi &amp; bye&quot;}")
    );
    assert!(
        xml.contains("<Attribute><Name>MessageGroupId</Name><Value>conn-1</Value></Attribute>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>")
    );
    assert!(xml.contains("<MessageAttribute><Name>connectionId</Name><Value><StringValue>Kx2=abc</StringValue><DataType>String</DataType></Value></MessageAttribute>"));
    let handle = tag(&xml, "ReceiptHandle").unwrap().to_owned();

    let resp = query(
        &sqs,
        &format!(
            "Action=DeleteMessage&QueueUrl={}&ReceiptHandle={}",
            enc(FIFO_URL),
            enc(&handle)
        ),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert!(text(&resp).contains("<DeleteMessageResponse"));

    let resp = query(&sqs, "Action=GetQueueUrl&QueueName=nope").await;
    let xml = text(&resp);
    assert_eq!(resp.status, 400);
    assert!(xml.contains("<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist.</Message>"), "{xml}");
    let resp = query(
        &sqs,
        &format!(
            "Action=SendMessage&QueueUrl={}&MessageBody=x",
            enc(FIFO_URL)
        ),
    )
    .await;
    assert_eq!(resp.status, 400);
    assert!(text(&resp).contains("<Code>MissingParameter</Code><Message>The request must contain the parameter MessageGroupId.</Message>"));
    let resp = query(&sqs, "Action=ListQueues&QueueNamePrefix=pl").await;
    assert_eq!(tag(&text(&resp), "QueueUrl"), Some(STD_URL));
}

#[tokio::test]
async fn json_protocol_round_trip_with_attributes_and_md5s() {
    let dir = tempfile::tempdir().unwrap();
    let sqs = open(dir.path());
    assert_eq!(
        ok(&sqs, "GetQueueUrl", json!({"QueueName": "plain"})).await,
        json!({"QueueUrl": STD_URL})
    );
    let sent = ok(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": STD_URL, "MessageBody": "hello",
               "MessageAttributes": {"attribName1": {"DataType": "String", "StringValue": "attribValue 1"}}}),
    )
    .await;
    assert_eq!(
        sent["MD5OfMessageBody"],
        json!("5d41402abc4b2a76b9719d911017c592")
    );
    assert_eq!(
        sent["MD5OfMessageAttributes"],
        json!("19e27d4e946b072f3f58da80d94fd778")
    );
    assert!(sent.get("SequenceNumber").is_none());
    let attrs = ok(
        &sqs,
        "GetQueueAttributes",
        json!({"QueueUrl": STD_URL, "AttributeNames": ["All"]}),
    )
    .await;
    assert_eq!(
        attrs["Attributes"]["ApproximateNumberOfMessages"],
        json!("1")
    );
    assert_eq!(
        attrs["Attributes"]["QueueArn"],
        json!("arn:aws:sqs:us-east-1:123456789012:plain")
    );
    assert_eq!(attrs["Attributes"]["VisibilityTimeout"], json!("1"));

    let got = ok(
        &sqs,
        "ReceiveMessage",
        json!({"QueueUrl": STD_URL, "MessageSystemAttributeNames": ["SentTimestamp"], "MessageAttributeNames": ["All"]}),
    )
    .await;
    let m = &got["Messages"][0];
    assert_eq!(m["MessageId"], sent["MessageId"]);
    assert_eq!(m["Body"], json!("hello"));
    assert_eq!(m["MD5OfBody"], sent["MD5OfMessageBody"]);
    assert_eq!(m["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"]);
    assert_eq!(
        m["MessageAttributes"]["attribName1"],
        json!({"DataType": "String", "StringValue": "attribValue 1"})
    );
    assert_eq!(m["Attributes"].as_object().unwrap().len(), 1);
    let attrs = ok(
        &sqs,
        "GetQueueAttributes",
        json!({"QueueUrl": STD_URL, "AttributeNames": ["ApproximateNumberOfMessagesNotVisible"]}),
    )
    .await;
    assert_eq!(
        attrs,
        json!({"Attributes": {"ApproximateNumberOfMessagesNotVisible": "1"}})
    );
    ok(
        &sqs,
        "DeleteMessage",
        json!({"QueueUrl": STD_URL, "ReceiptHandle": m["ReceiptHandle"]}),
    )
    .await;
    let got = ok(
        &sqs,
        "ReceiveMessage",
        json!({"QueueUrl": STD_URL, "WaitTimeSeconds": 0}),
    )
    .await;
    assert_eq!(got, json!({}));

    // Batches.
    let r = ok(
        &sqs,
        "SendMessageBatch",
        json!({"QueueUrl": STD_URL, "Entries": [
            {"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": ""}
        ]}),
    )
    .await;
    assert_eq!(r["Successful"][0]["Id"], json!("a"));
    assert_eq!(r["Failed"][0]["Code"], json!("MissingParameter"));
    assert_eq!(r["Failed"][0]["SenderFault"], json!(true));
    let e = json_call(
        &sqs,
        "SendMessageBatch",
        json!({"QueueUrl": STD_URL, "Entries": [{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("BatchEntryIdsNotDistinct", "Id a repeated.")
    );

    // CreateQueue is idempotent; a conflicting attribute is an error.
    let r = ok(
        &sqs,
        "CreateQueue",
        json!({"QueueName": "plain", "Attributes": {"VisibilityTimeout": "1"}}),
    )
    .await;
    assert_eq!(r, json!({"QueueUrl": STD_URL}));
    let e = json_call(
        &sqs,
        "CreateQueue",
        json!({"QueueName": "plain", "Attributes": {"VisibilityTimeout": "5"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "QueueNameExists");
    let e = json_call(
        &sqs,
        "ReceiveMessage",
        json!({"QueueUrl": STD_URL, "MaxNumberOfMessages": 11}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "InvalidParameterValue",
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        )
    );
    let e = json_call(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": "http://x/1/none", "MessageBody": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("QueueDoesNotExist", "The specified queue does not exist.")
    );
    assert_eq!(
        wsflow_sqs::query_error_header(&e),
        "AWS.SimpleQueueService.NonExistentQueue;Sender"
    );
    let r = ok(&sqs, "ListQueues", json!({})).await;
    assert_eq!(r["QueueUrls"].as_array().unwrap().len(), 3);
}

async fn send_fifo(sqs: &Sqs, group: &str, body: &str, dedup: &str) -> Value {
    ok(
        sqs,
        "SendMessage",
        json!({"QueueUrl": FIFO_URL, "MessageBody": body, "MessageGroupId": group, "MessageDeduplicationId": dedup}),
    )
    .await
}

async fn receive_bodies(sqs: &Sqs, url: &str, max: u32) -> Vec<(String, String)> {
    let r = ok(
        sqs,
        "ReceiveMessage",
        json!({"QueueUrl": url, "MaxNumberOfMessages": max, "VisibilityTimeout": 30}),
    )
    .await;
    r.get("Messages")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["Body"].as_str().unwrap().to_owned(),
                        m["ReceiptHandle"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn fifo_orders_per_group_deduplicates_and_blocks_groups() {
    let dir = tempfile::tempdir().unwrap();
    let sqs = open(dir.path());
    let a = send_fifo(&sqs, "g1", "a", "d-a").await;
    let b = send_fifo(&sqs, "g1", "b", "d-b").await;
    send_fifo(&sqs, "g2", "c", "d-c").await;
    // Same deduplication id within 5 minutes: same MessageId, nothing enqueued.
    let dup = send_fifo(&sqs, "g1", "a-again", "d-a").await;
    assert_eq!(dup["MessageId"], a["MessageId"]);
    assert!(
        a["SequenceNumber"].as_str().unwrap() < b["SequenceNumber"].as_str().unwrap(),
        "sequence numbers increase"
    );

    let first = receive_bodies(&sqs, FIFO_URL, 1).await;
    assert_eq!(
        first.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    // g1 has a message in flight: only g2's message is delivered.
    let second = receive_bodies(&sqs, FIFO_URL, 10).await;
    assert_eq!(
        second.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        ["c"]
    );
    assert!(receive_bodies(&sqs, FIFO_URL, 10).await.is_empty());
    ok(
        &sqs,
        "DeleteMessage",
        json!({"QueueUrl": FIFO_URL, "ReceiptHandle": first[0].1}),
    )
    .await;
    let third = receive_bodies(&sqs, FIFO_URL, 10).await;
    assert_eq!(
        third.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        ["b"]
    );

    // FIFO rules.
    let e = json_call(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": FIFO_URL, "MessageBody": "x", "MessageGroupId": "g"}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.message,
        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    );
    let cbd = "http://127.0.0.1:3001/123456789012/cbd.fifo";
    let x1 = ok(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": cbd, "MessageBody": "same", "MessageGroupId": "g"}),
    )
    .await;
    let x2 = ok(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": cbd, "MessageBody": "same", "MessageGroupId": "g"}),
    )
    .await;
    assert_eq!(x1["MessageId"], x2["MessageId"]);
    let got = receive_bodies(&sqs, cbd, 10).await;
    assert_eq!(got.len(), 1);
    let e = json_call(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": cbd, "MessageBody": "x", "MessageGroupId": "g", "DelaySeconds": 5}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "InvalidParameterValue");
}

#[tokio::test]
async fn visibility_timeout_expires_and_stale_handles_do_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sqs = open(dir.path());
    ok(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": STD_URL, "MessageBody": "v"}),
    )
    .await;
    let r1 = ok(
        &sqs,
        "ReceiveMessage",
        json!({"QueueUrl": STD_URL, "AttributeNames": ["ApproximateReceiveCount"]}),
    )
    .await;
    let h1 = r1["Messages"][0]["ReceiptHandle"].clone();
    assert_eq!(
        ok(&sqs, "ReceiveMessage", json!({"QueueUrl": STD_URL})).await,
        json!({})
    );
    // Queue visibility timeout is 1 s; a long poll is woken when it expires.
    let t0 = Instant::now();
    let r2 = ok(
        &sqs,
        "ReceiveMessage",
        json!({"QueueUrl": STD_URL, "WaitTimeSeconds": 5, "AttributeNames": ["ApproximateReceiveCount"]}),
    )
    .await;
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "woken by the expiry, not the wait"
    );
    assert_eq!(
        r2["Messages"][0]["Attributes"]["ApproximateReceiveCount"],
        json!("2")
    );
    let h2 = r2["Messages"][0]["ReceiptHandle"].clone();
    assert_ne!(h1, h2);
    // The superseded handle succeeds without deleting.
    ok(
        &sqs,
        "DeleteMessage",
        json!({"QueueUrl": STD_URL, "ReceiptHandle": h1}),
    )
    .await;
    ok(
        &sqs,
        "ChangeMessageVisibility",
        json!({"QueueUrl": STD_URL, "ReceiptHandle": h2, "VisibilityTimeout": 0}),
    )
    .await;
    let r3 = ok(
        &sqs,
        "ReceiveMessage",
        json!({"QueueUrl": STD_URL, "VisibilityTimeout": 30}),
    )
    .await;
    assert_eq!(r3["Messages"][0]["Body"], json!("v"));
    ok(
        &sqs,
        "DeleteMessage",
        json!({"QueueUrl": STD_URL, "ReceiptHandle": r3["Messages"][0]["ReceiptHandle"]}),
    )
    .await;
    let attrs = ok(
        &sqs,
        "GetQueueAttributes",
        json!({"QueueUrl": STD_URL, "AttributeNames": ["All"]}),
    )
    .await;
    assert_eq!(
        attrs["Attributes"]["ApproximateNumberOfMessages"],
        json!("0")
    );
    assert_eq!(
        attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"],
        json!("0")
    );
    let e = json_call(
        &sqs,
        "DeleteMessage",
        json!({"QueueUrl": STD_URL, "ReceiptHandle": "garbage"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "ReceiptHandleIsInvalid");
}

#[tokio::test]
async fn long_poll_is_woken_by_a_send() {
    let dir = tempfile::tempdir().unwrap();
    let sqs = open(dir.path());
    let poller = sqs.clone();
    let t0 = Instant::now();
    let wait = tokio::spawn(async move {
        ok(
            &poller,
            "ReceiveMessage",
            json!({"QueueUrl": STD_URL, "WaitTimeSeconds": 10}),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    ok(
        &sqs,
        "SendMessage",
        json!({"QueueUrl": STD_URL, "MessageBody": "wake"}),
    )
    .await;
    let got = wait.await.unwrap();
    assert_eq!(got["Messages"][0]["Body"], json!("wake"));
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn messages_and_dedup_state_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (first_id, first_seq) = {
        let sqs = open(dir.path());
        let a = send_fifo(&sqs, "g", "persisted", "p-1").await;
        ok(
            &sqs,
            "SendMessage",
            json!({"QueueUrl": STD_URL, "MessageBody": "std"}),
        )
        .await;
        (
            a["MessageId"].clone(),
            a["SequenceNumber"].as_str().unwrap().to_owned(),
        )
    };
    assert!(dir.path().join("sqs.redb").is_file());
    let sqs = open(dir.path());
    let dup = send_fifo(&sqs, "g", "persisted", "p-1").await;
    assert_eq!(
        dup["MessageId"], first_id,
        "deduplication window survives a restart"
    );
    let next = send_fifo(&sqs, "g", "second", "p-2").await;
    assert!(next["SequenceNumber"].as_str().unwrap() > first_seq.as_str());
    let got = receive_bodies(&sqs, FIFO_URL, 10).await;
    assert_eq!(
        got.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        ["persisted", "second"]
    );
    assert_eq!(receive_bodies(&sqs, STD_URL, 10).await[0].0, "std");
}

#[tokio::test]
async fn batch_delete_and_purge() {
    let dir = tempfile::tempdir().unwrap();
    let sqs = open(dir.path());
    for body in ["1", "2", "3"] {
        ok(
            &sqs,
            "SendMessage",
            json!({"QueueUrl": STD_URL, "MessageBody": body}),
        )
        .await;
    }
    let got = receive_bodies(&sqs, STD_URL, 10).await;
    assert_eq!(got.len(), 3);
    let r = ok(
        &sqs,
        "DeleteMessageBatch",
        json!({"QueueUrl": STD_URL, "Entries": [
            {"Id": "x", "ReceiptHandle": got[0].1}, {"Id": "y", "ReceiptHandle": "bogus"}
        ]}),
    )
    .await;
    assert_eq!(r["Successful"], json!([{"Id": "x"}]));
    assert_eq!(r["Failed"][0]["Code"], json!("ReceiptHandleIsInvalid"));
    let r = ok(
        &sqs,
        "ChangeMessageVisibilityBatch",
        json!({"QueueUrl": STD_URL, "Entries": [{"Id": "z", "ReceiptHandle": got[1].1, "VisibilityTimeout": 0}]}),
    )
    .await;
    assert_eq!(r["Successful"], json!([{"Id": "z"}]));
    let again = receive_bodies(&sqs, STD_URL, 10).await;
    assert_eq!(
        again.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        ["2"]
    );
    ok(&sqs, "PurgeQueue", json!({"QueueUrl": STD_URL})).await;
    let attrs = ok(
        &sqs,
        "GetQueueAttributes",
        json!({"QueueUrl": STD_URL, "AttributeNames": ["All"]}),
    )
    .await;
    assert_eq!(
        attrs["Attributes"]["ApproximateNumberOfMessages"],
        json!("0")
    );
    assert_eq!(
        attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"],
        json!("0")
    );
    let e = json_call(&sqs, "PurgeQueue", json!({"QueueUrl": STD_URL}))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "PurgeQueueInProgress",
            "Only one PurgeQueue operation on plain is allowed every 60 seconds."
        )
    );
    let e = json_call(
        &sqs,
        "DeleteMessageBatch",
        json!({"QueueUrl": STD_URL, "Entries": []}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "EmptyBatchRequest",
            "There should be at least one DeleteMessageBatchRequestEntry in the request."
        )
    );
}
