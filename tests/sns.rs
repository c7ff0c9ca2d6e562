//! SNS on a real `wsflow up` process (`tests/fixtures/sns.yaml`), driven by
//! the real `aws` CLI and a real WebSocket client: the template's topic
//! delivers a published message to an SQS queue as SNS's JSON envelope, to a
//! raw-delivery queue as the bare message, and to a Lambda function as an
//! `aws:sns` event; topics and subscriptions made through the API work the
//! same; a workflow publishes with `arn:aws:states:::sns:publish`, and a
//! WebSocket route through an `sns:action/Publish` integration.

mod support;

use serde_json::{Value, json};
use support::*;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:events";

fn cli_available(stack: &Stack) -> bool {
    if aws_cli(stack, &["--version"]).is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the aws CLI is required on CI (.ci/run installs it)"
    );
    eprintln!("SKIPPED: the aws CLI is not installed (.ci/run installs it)");
    false
}

fn aws(stack: &Stack, args: &[&str]) -> Value {
    aws_cli(stack, args)
        .expect("aws CLI installed")
        .json(&format!("aws {}", args.join(" ")))
}

/// The next message of `queue`, within 10 s (long polls).
fn receive(stack: &Stack, queue: &str) -> Value {
    let url = format!("{}/123456789012/{queue}", stack.http_url());
    for _ in 0..5 {
        let got = aws(
            stack,
            &[
                "sqs",
                "receive-message",
                "--queue-url",
                &url,
                "--wait-time-seconds",
                "2",
                "--message-attribute-names",
                "All",
            ],
        );
        if let Some(m) = got["Messages"].get(0) {
            return m.clone();
        }
    }
    panic!("no message in {queue}");
}

fn envelope(message: &Value) -> Value {
    let body = message["Body"].as_str().expect("Body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not an SNS envelope ({e}): {body}"))
}

/// The `aws:sns` event the listener function logged with `message`.
async fn lambda_event(stack: &Stack, message: &str) -> Value {
    eventually(20, || {
        let found = stack.log.try_iter().find_map(|line| {
            let json = line.split_once("fixture-event ")?.1;
            let ev: Value = serde_json::from_str(json).ok()?;
            (ev["Records"][0]["Sns"]["Message"] == message).then_some(ev)
        });
        async move { found }
    })
    .await
}

#[tokio::test]
async fn a_published_message_reaches_queues_and_functions_from_cli_workflow_and_route() {
    // From a directory that is not a cargo project, with no cargo on PATH: the template has
    // no Rust function.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("sns.yaml"), dir.path().join("template.yaml")).unwrap();
    let path = path_without_cargo();
    let stack = Stack::start_from(
        StackOptions {
            template: "template.yaml",
            ..StackOptions::default()
        },
        tempfile::tempdir().unwrap(),
        dir.path(),
        &[("PATH", path.as_str())],
        None,
    );
    if !cli_available(&stack) {
        return;
    }
    let topics = aws(&stack, &["sns", "list-topics"]);
    assert_eq!(topics["Topics"], json!([{ "TopicArn": TOPIC }]));

    let published = aws(
        &stack,
        &[
            "sns",
            "publish",
            "--topic-arn",
            TOPIC,
            "--message",
            "hello subscribers",
            "--subject",
            "Greeting",
            "--message-attributes",
            r#"{"kind":{"DataType":"String","StringValue":"greeting"}}"#,
        ],
    );
    let message_id = published["MessageId"]
        .as_str()
        .expect("MessageId")
        .to_owned();

    let env = envelope(&receive(&stack, "envelopes"));
    assert_eq!(env["Type"], "Notification", "{env}");
    assert_eq!(env["MessageId"], message_id.as_str());
    assert_eq!(env["TopicArn"], TOPIC);
    assert_eq!(env["Subject"], "Greeting");
    assert_eq!(env["Message"], "hello subscribers");
    assert_eq!(
        env["MessageAttributes"]["kind"],
        json!({"Type": "String", "Value": "greeting"})
    );
    assert!(env["Timestamp"].as_str().unwrap().ends_with('Z'), "{env}");

    let raw = receive(&stack, "raw");
    assert_eq!(raw["Body"], "hello subscribers", "{raw}");
    assert_eq!(
        raw["MessageAttributes"]["kind"]["StringValue"], "greeting",
        "{raw}"
    );

    let event = lambda_event(&stack, "hello subscribers").await;
    let record = &event["Records"][0];
    assert_eq!(record["EventSource"], "aws:sns", "{event}");
    assert_eq!(record["Sns"]["MessageId"], message_id.as_str());
    assert_eq!(record["Sns"]["Subject"], "Greeting");
    assert!(
        record["EventSubscriptionArn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{TOPIC}:")),
        "{event}"
    );

    // A topic and a subscription made through the API.
    let created = aws(&stack, &["sns", "create-topic", "--name", "made-by-cli"]);
    let made = created["TopicArn"].as_str().unwrap().to_owned();
    assert_eq!(made, "arn:aws:sns:us-east-1:123456789012:made-by-cli");
    let sub = aws(
        &stack,
        &[
            "sns",
            "subscribe",
            "--topic-arn",
            &made,
            "--protocol",
            "sqs",
            "--notification-endpoint",
            "arn:aws:sqs:us-east-1:123456789012:raw",
            "--attributes",
            "RawMessageDelivery=true",
        ],
    );
    let sub_arn = sub["SubscriptionArn"].as_str().unwrap().to_owned();
    let subs = aws(&stack, &["sns", "list-subscriptions"]);
    let listed = subs["Subscriptions"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{subs}");
    assert!(
        listed
            .iter()
            .any(|s| s["SubscriptionArn"] == sub_arn.as_str() && s["TopicArn"] == made.as_str()),
        "{subs}"
    );
    aws(
        &stack,
        &[
            "sns",
            "publish",
            "--topic-arn",
            &made,
            "--message",
            "second",
        ],
    );
    assert_eq!(receive(&stack, "raw")["Body"], "second");

    // Unknown topic: AWS's NotFound.
    let out = aws_cli(
        &stack,
        &[
            "sns",
            "publish",
            "--topic-arn",
            "arn:aws:sns:us-east-1:123456789012:nope",
            "--message",
            "x",
        ],
    )
    .unwrap();
    assert!(
        !out.success()
            && out.stderr.contains("NotFound")
            && out.stderr.contains("Topic does not exist"),
        "{}",
        out.stderr
    );

    // A workflow's sns:publish task.
    let run = aws(
        &stack,
        &[
            "stepfunctions",
            "start-sync-execution",
            "--state-machine-arn",
            "arn:aws:states:us-east-1:123456789012:stateMachine:notify",
            "--input",
            r#"{"order":7}"#,
        ],
    );
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let output: Value = serde_json::from_str(run["output"].as_str().unwrap()).unwrap();
    let env = envelope(&receive(&stack, "envelopes"));
    assert_eq!(env["MessageId"], output["MessageId"], "{output}");
    assert_eq!(env["Subject"], "from a workflow");
    assert_eq!(env["Message"], r#"{"order":7}"#);

    // A WebSocket route with an sns:action/Publish integration.
    let mut ws = connect(&stack.ws_url()).await;
    send(&mut ws, r#"{"action":"publish","data":{"from":"socket"}}"#).await;
    let env = envelope(&receive(&stack, "envelopes"));
    assert_eq!(env["Message"], r#"{"from":"socket"}"#, "{env}");
}
