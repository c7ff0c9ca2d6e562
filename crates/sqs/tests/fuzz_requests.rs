//! No panic, no hang, on any input: property tests of the local SQS's two
//! request protocols, on a real redb file: query-protocol (form-encoded)
//! bodies built from SQS's parameter names with random indices, values and
//! percent-escapes; AWS JSON bodies of every operation with random shapes;
//! and raw bytes. Each call runs under a watchdog
//! (`wsflow_fuzz_kit::bounded`) on a runtime whose clock is paused (a long
//! poll of up to 20 s is a legitimate wait, not a hang: paused time lets it
//! end at once), and must answer with a result or a client error (4xx),
//! never a 500.
//!
//! Case counts: `PROPTEST_CASES` (default per test below), e.g.
//! `PROPTEST_CASES=20000 cargo test -p wsflow-sqs --test fuzz_requests --release`.

use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::OnceLock;
use wsflow_aws_wire::{Account, AwsService, Protocol, ServiceRequest};
use wsflow_fuzz_kit::{bounded, config, generate, preview};
use wsflow_sqs::{QueueSpec, Sqs};

const ENDPOINT: &str = "http://127.0.0.1:3001";
const URLS: &[&str] = &[
    "http://127.0.0.1:3001/123456789012/jobs.fifo",
    "http://127.0.0.1:3001/123456789012/plain",
    "http://127.0.0.1:3001/123456789012/nope",
    "http://127.0.0.1:3001/123456789012/",
    "plain",
    "",
];
const ROUND_TRIP_URL: &str = "http://127.0.0.1:3001/123456789012/roundtrip";

fn sqs() -> &'static Sqs {
    static SQS: OnceLock<(tempfile::TempDir, Sqs)> = OnceLock::new();
    &SQS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqs = Sqs::open(
            dir.path(),
            vec![
                QueueSpec::new("jobs.fifo"),
                QueueSpec::new("plain"),
                QueueSpec::new("roundtrip"),
            ],
            Account::default(),
            ENDPOINT.into(),
        )
        .expect("open");
        (dir, sqs)
    })
    .1
}

/// Sends one request under the watchdog; returns the status and body.
fn call(operation: &str, protocol: Protocol, body: Vec<u8>) -> (u16, Vec<u8>) {
    let what = format!(
        "{protocol:?} {operation:?} {}",
        preview(&String::from_utf8_lossy(&body), 1500)
    );
    let request = ServiceRequest {
        operation: operation.to_owned(),
        protocol,
        body,
    };
    bounded(&what, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let (status, body) = match rt.block_on(sqs().call(request)) {
            Ok(r) => (r.status, r.body),
            Err(e) => {
                assert!(!e.code.is_empty(), "error without a code");
                (e.status, e.message.into_bytes())
            }
        };
        assert!(
            status < 500,
            "status {status} for client input: {}",
            String::from_utf8_lossy(&body)
        );
        (status, body)
    })
}

// ---------------------------------------------------------------- query protocol

const ACTIONS: &[&str] = &[
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "GetQueueUrl",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "CreateQueue",
    "ListQueues",
    "PurgeQueue",
    "DeleteQueue",
    "TagQueue",
    "Nope",
];

/// A parameter name: the ones SQS knows, with `.N.` indices (including
/// 0, huge, negative and missing ones), or junk.
fn param_name() -> impl Strategy<Value = String> {
    let index = prop_oneof![
        6 => (1u32..4).prop_map(|n| n.to_string()),
        1 => Just("0".to_owned()),
        1 => Just("99999999999".to_owned()),
        1 => Just("-1".to_owned()),
        1 => Just(String::new()),
    ];
    let plain = proptest::sample::select(
        &[
            "QueueUrl",
            "QueueName",
            "MessageBody",
            "DelaySeconds",
            "MessageGroupId",
            "MessageDeduplicationId",
            "MaxNumberOfMessages",
            "VisibilityTimeout",
            "WaitTimeSeconds",
            "ReceiptHandle",
            "QueueNamePrefix",
            "MaxResults",
            "NextToken",
            "AttributeName.1",
            "MessageAttributeName.1",
            "Version",
        ][..],
    )
    .prop_map(str::to_owned);
    let indexed = (
        proptest::sample::select(
            &[
                "MessageAttribute",
                "Attribute",
                "SendMessageBatchRequestEntry",
                "DeleteMessageBatchRequestEntry",
                "ChangeMessageVisibilityBatchRequestEntry",
                "AttributeName",
                "Tag",
                "MessageSystemAttribute",
            ][..],
        ),
        index,
        proptest::sample::select(
            &[
                "",
                ".Name",
                ".Value",
                ".Value.DataType",
                ".Value.StringValue",
                ".Value.BinaryValue",
                ".Id",
                ".MessageBody",
                ".ReceiptHandle",
                ".VisibilityTimeout",
                ".DelaySeconds",
                ".MessageGroupId",
                ".Key",
                ".MessageAttribute.1.Name",
                ".MessageAttribute.1.Value.DataType",
                ".MessageAttribute.1.Value.StringValue",
            ][..],
        ),
    )
        .prop_map(|(p, n, rest)| format!("{p}.{n}{rest}"));
    prop_oneof![4 => plain, 4 => indexed, 1 => generate::name()]
}

fn param_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(URLS).prop_map(str::to_owned),
        3 => generate::text(16),
        2 => proptest::sample::select(
            &["String", "Number", "Binary", "String.custom", "Number.x", "1", "0", "-1", "20",
              "900", "99999999999999999999", "1.5", "true", "AAEC", "!!", "All", "g1",
              "VisibilityTimeout", "ReceiveMessageWaitTimeSeconds", "FifoQueue", "Policy",
              "RedrivePolicy", "x.fifo"][..],
        )
        .prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ]
}

fn percent_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A form body: `Action` (usually first), then random parameters; values
/// are percent-encoded, sometimes badly (`%`, `%zz`, raw `&`/`=`).
fn form_body() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(ACTIONS),
        proptest::collection::vec((param_name(), param_value()), 0..10),
        proptest::collection::vec(
            proptest::sample::select(&["%", "%zz", "&", "=", "&&", "%00", "+", "%FF%FE"][..]),
            0..2,
        ),
        any::<bool>(),
        proptest::option::weighted(0.85, proptest::sample::select(&URLS[..2])),
        proptest::option::weighted(
            0.2,
            proptest::sample::select(&["plain", "new-q", "new.fifo", "x y"][..]),
        ),
    )
        .prop_map(|(action, params, junk, action_first, url, name)| {
            let mut parts: Vec<String> = params
                .iter()
                .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                .collect();
            if let Some(u) = url {
                parts.insert(0, format!("QueueUrl={}", percent_encode(u)));
            }
            if let Some(n) = name {
                parts.insert(0, format!("QueueName={}", percent_encode(n)));
            }
            let action = format!("Action={action}");
            if action_first {
                parts.insert(0, action);
            } else {
                parts.push(action);
            }
            let mut s = parts.join("&");
            for j in junk {
                s.push_str(j);
            }
            s.into_bytes()
        })
}

// ---------------------------------------------------------------- JSON protocol

fn valid_json_requests() -> Vec<(&'static str, Value)> {
    let fifo = URLS[0];
    let plain = URLS[1];
    vec![
        (
            "SendMessage",
            json!({"QueueUrl": plain, "MessageBody": "hi", "DelaySeconds": 0,
            "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"},
                                  "b": {"DataType": "Binary", "BinaryValue": "AAEC"}}}),
        ),
        (
            "SendMessage",
            json!({"QueueUrl": fifo, "MessageBody": "hi", "MessageGroupId": "g",
            "MessageDeduplicationId": "d"}),
        ),
        (
            "SendMessageBatch",
            json!({"QueueUrl": plain, "Entries": [
            {"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "y", "DelaySeconds": 1}]}),
        ),
        (
            "ReceiveMessage",
            json!({"QueueUrl": plain, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0,
            "VisibilityTimeout": 0, "AttributeNames": ["All"], "MessageAttributeNames": ["All"]}),
        ),
        (
            "DeleteMessage",
            json!({"QueueUrl": plain, "ReceiptHandle": "bm90IGEgaGFuZGxl"}),
        ),
        (
            "DeleteMessageBatch",
            json!({"QueueUrl": plain, "Entries": [{"Id": "a", "ReceiptHandle": "x"}]}),
        ),
        (
            "ChangeMessageVisibility",
            json!({"QueueUrl": plain, "ReceiptHandle": "x", "VisibilityTimeout": 5}),
        ),
        (
            "ChangeMessageVisibilityBatch",
            json!({"QueueUrl": plain, "Entries": [
            {"Id": "a", "ReceiptHandle": "x", "VisibilityTimeout": 5}]}),
        ),
        ("GetQueueUrl", json!({"QueueName": "plain"})),
        (
            "GetQueueAttributes",
            json!({"QueueUrl": fifo, "AttributeNames": ["All"]}),
        ),
        (
            "SetQueueAttributes",
            json!({"QueueUrl": plain, "Attributes": {"VisibilityTimeout": "30"}}),
        ),
        (
            "CreateQueue",
            json!({"QueueName": "made.fifo", "Attributes": {"FifoQueue": "true",
            "ContentBasedDeduplication": "true"}}),
        ),
        (
            "ListQueues",
            json!({"QueueNamePrefix": "p", "MaxResults": 1}),
        ),
        ("PurgeQueue", json!({"QueueUrl": URLS[2]})),
    ]
}

/// A message body SQS accepts: XML-legal characters.
fn message_body() -> impl Strategy<Value = String> {
    generate::text(64)
        .prop_map(|s| {
            s.chars()
                .filter(|&c| {
                    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
                        || c >= '\u{10000}'
                })
                .collect::<String>()
        })
        .prop_filter("non-empty", |s| !s.is_empty())
}

proptest! {
    #![proptest_config(config(1200))]

    /// Form bodies from SQS's own parameter vocabulary.
    #[test]
    fn query_bodies(body in form_body()) {
        let (status, out) = call("", Protocol::Query, body);
        let text = String::from_utf8_lossy(&out);
        prop_assert!(status == 200 || text.contains("<Error>"), "{} {}", status, text);
    }

    /// Valid JSON requests of every operation with fields deleted, renamed,
    /// retyped or replaced.
    #[test]
    fn json_shapes(pick in any::<prop::sample::Index>(), muts in generate::mutations(4)) {
        let (op, mut body) = pick.get(&valid_json_requests()).clone();
        generate::mutate(&mut body, &muts);
        call(op, Protocol::Json, serde_json::to_vec(&body).unwrap());
    }

    /// Bytes that are neither JSON nor a form, in both protocols.
    #[test]
    fn raw_bodies(
        op in prop_oneof![proptest::sample::select(ACTIONS).prop_map(str::to_owned), generate::name()],
        json in any::<bool>(),
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            generate::deep_json_text().prop_map(String::into_bytes),
        ],
    ) {
        call(&op, if json { Protocol::Json } else { Protocol::Query }, body);
    }

    /// A message sent through the query protocol is received, through the
    /// JSON protocol, with the same body and that body's MD5.
    #[test]
    fn send_then_receive_round_trips(text in message_body()) {
        let form = format!(
            "Action=SendMessage&QueueUrl={}&MessageBody={}",
            percent_encode(ROUND_TRIP_URL),
            percent_encode(&text)
        );
        let (status, out) = call("", Protocol::Query, form.into_bytes());
        prop_assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));
        let (status, out) = call(
            "ReceiveMessage",
            Protocol::Json,
            serde_json::to_vec(&json!({"QueueUrl": ROUND_TRIP_URL, "MaxNumberOfMessages": 1})).unwrap(),
        );
        prop_assert_eq!(status, 200);
        let got: Value = serde_json::from_slice(&out).expect("JSON");
        let m = &got["Messages"][0];
        prop_assert_eq!(m["Body"].as_str(), Some(text.as_str()));
        let md5 = format!("{:x}", <md5::Md5 as md5::Digest>::digest(text.as_bytes()));
        prop_assert_eq!(m["MD5OfBody"].as_str(), Some(md5.as_str()));
        let (status, _) = call(
            "DeleteMessage",
            Protocol::Json,
            serde_json::to_vec(&json!({"QueueUrl": ROUND_TRIP_URL, "ReceiptHandle": m["ReceiptHandle"]})).unwrap(),
        );
        prop_assert_eq!(status, 200);
    }
}
