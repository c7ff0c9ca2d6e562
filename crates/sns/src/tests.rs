//! The operations against in-memory SQS and Lambda backends.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wsflow_aws_wire::{
    Account, AwsService, BoxFuture, LambdaInvokeError, LambdaInvoker, Protocol, ServiceError,
    ServiceRequest, ServiceResponse,
};

use super::*;

#[derive(Default)]
struct Recorder {
    sqs: Mutex<Vec<Value>>,
    lambda: Mutex<Vec<(String, Value)>>,
}

struct FakeSqs(Arc<Recorder>);
struct FakeLambda(Arc<Recorder>);

impl AwsService for FakeSqs {
    fn target_prefix(&self) -> &'static str {
        "AmazonSQS"
    }
    fn integration_name(&self) -> &'static str {
        "sqs"
    }
    fn call(&self, r: ServiceRequest) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            self.0
                .sqs
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&r.body).unwrap());
            Ok(ServiceResponse::json(&json!({})))
        })
    }
}

impl LambdaInvoker for FakeLambda {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        payload: Value,
    ) -> BoxFuture<'a, Result<Value, LambdaInvokeError>> {
        Box::pin(async move {
            self.0
                .lambda
                .lock()
                .unwrap()
                .push((function.to_owned(), payload));
            Ok(Value::Null)
        })
    }
}

fn sns(rec: &Arc<Recorder>) -> Sns {
    let acct = Account::default();
    Sns::new(
        acct.clone(),
        "http://127.0.0.1:9",
        vec![TopicSpec {
            name: "events".into(),
            subscriptions: vec![
                SubscriptionSpec {
                    protocol: "sqs".into(),
                    endpoint: acct.sqs_queue("inbox"),
                    raw_message_delivery: false,
                },
                SubscriptionSpec {
                    protocol: "lambda".into(),
                    endpoint: acct.lambda_function("Handler"),
                    raw_message_delivery: false,
                },
            ],
        }],
        SnsBackends {
            sqs: Arc::new(FakeSqs(rec.clone())),
            lambda: Arc::new(FakeLambda(rec.clone())),
        },
    )
    .unwrap()
}

async fn query(sns: &Sns, form: &str) -> Result<String, ServiceError> {
    let action = form
        .split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .unwrap()
        .to_owned();
    let r = sns
        .call(ServiceRequest {
            operation: action,
            protocol: Protocol::Query,
            body: form.as_bytes().to_vec(),
        })
        .await?;
    Ok(String::from_utf8(r.body).unwrap())
}

#[tokio::test]
async fn publish_delivers_an_envelope_to_sqs_and_an_event_to_lambda() {
    let rec = Arc::new(Recorder::default());
    let sns = sns(&rec);
    let arn = "arn:aws:sns:us-east-1:123456789012:events";
    let xml = query(
        &sns,
        &format!("Action=Publish&TopicArn={arn}&Message=hi&Subject=S&MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=v"),
    )
    .await
    .unwrap();
    assert!(xml.contains("<PublishResult><MessageId>"), "{xml}");
    for _ in 0..100 {
        if !rec.sqs.lock().unwrap().is_empty() && !rec.lambda.lock().unwrap().is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let sent = rec.sqs.lock().unwrap()[0].clone();
    assert_eq!(sent["QueueUrl"], "http://127.0.0.1:9/123456789012/inbox");
    let env: Value = serde_json::from_str(sent["MessageBody"].as_str().unwrap()).unwrap();
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["Message"], "hi");
    assert_eq!(env["Subject"], "S");
    assert_eq!(env["TopicArn"], arn);
    assert_eq!(
        env["MessageAttributes"]["k"],
        json!({"Type": "String", "Value": "v"})
    );
    let (function, event) = rec.lambda.lock().unwrap()[0].clone();
    assert_eq!(
        function,
        "arn:aws:lambda:us-east-1:123456789012:function:Handler"
    );
    assert_eq!(event["Records"][0]["EventSource"], "aws:sns");
    assert_eq!(event["Records"][0]["Sns"]["Message"], "hi");
    assert!(xml.contains(env["MessageId"].as_str().unwrap()));
}

#[tokio::test]
async fn topics_and_subscriptions_are_listed_and_errors_are_awss() {
    let rec = Arc::new(Recorder::default());
    let sns = sns(&rec);
    let xml = query(&sns, "Action=CreateTopic&Name=more").await.unwrap();
    assert!(xml.contains("<TopicArn>arn:aws:sns:us-east-1:123456789012:more</TopicArn>"));
    let xml = query(&sns, "Action=ListTopics").await.unwrap();
    assert!(xml.contains("<Topics><member><TopicArn>arn:aws:sns:us-east-1:123456789012:events</TopicArn></member>"), "{xml}");
    let xml = query(
        &sns,
        "Action=Subscribe&TopicArn=arn:aws:sns:us-east-1:123456789012:more&Protocol=sqs&Endpoint=arn:aws:sqs:us-east-1:123456789012:q&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true",
    )
    .await
    .unwrap();
    assert!(
        xml.contains("<SubscriptionArn>arn:aws:sns:us-east-1:123456789012:more:"),
        "{xml}"
    );
    let xml = query(&sns, "Action=ListSubscriptions").await.unwrap();
    assert_eq!(xml.matches("<member>").count(), 3, "{xml}");
    let err = query(
        &sns,
        "Action=Publish&TopicArn=arn:aws:sns:us-east-1:123456789012:nope&Message=x",
    )
    .await
    .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (404, "NotFound"));
    let err = query(&sns, "Action=CreateTopic&Name=bad%20name")
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidParameter");
    let err = query(
        &sns,
        "Action=Publish&TopicArn=arn:aws:sns:us-east-1:123456789012:more",
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "ValidationError");
}

/// A template subscription the stack cannot deliver to (email) does not stop the service: it is
/// skipped, and the topic's other subscriptions are kept and delivered to.
#[tokio::test]
async fn an_undeliverable_template_subscription_is_skipped() {
    let rec = Arc::new(Recorder::default());
    let acct = Account::default();
    let sns = Sns::new(
        acct.clone(),
        "http://127.0.0.1:9",
        vec![TopicSpec {
            name: "alerts".into(),
            subscriptions: vec![
                SubscriptionSpec {
                    protocol: "email".into(),
                    endpoint: "ops@example.com".into(),
                    raw_message_delivery: false,
                },
                SubscriptionSpec {
                    protocol: "sqs".into(),
                    endpoint: acct.sqs_queue("inbox"),
                    raw_message_delivery: true,
                },
            ],
        }],
        SnsBackends {
            sqs: Arc::new(FakeSqs(rec.clone())),
            lambda: Arc::new(FakeLambda(rec.clone())),
        },
    )
    .expect("an email subscription must not stop the stack");
    let xml = query(&sns, "Action=ListSubscriptions").await.unwrap();
    assert_eq!(xml.matches("<member>").count(), 1, "{xml}");
    assert!(xml.contains("<Protocol>sqs</Protocol>"), "{xml}");
    assert!(!xml.contains("email"), "{xml}");
    let arn = "arn:aws:sns:us-east-1:123456789012:alerts";
    query(&sns, &format!("Action=Publish&TopicArn={arn}&Message=up"))
        .await
        .unwrap();
    for _ in 0..100 {
        if !rec.sqs.lock().unwrap().is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(rec.sqs.lock().unwrap()[0]["MessageBody"], "up");
}

#[tokio::test]
async fn template_topics_follow_a_stack_update() {
    let rec = Arc::new(Recorder::default());
    let sns = sns(&rec);
    let acct = Account::default();
    let old = vec![TopicSpec {
        name: "events".into(),
        subscriptions: vec![
            SubscriptionSpec {
                protocol: "sqs".into(),
                endpoint: acct.sqs_queue("inbox"),
                raw_message_delivery: false,
            },
            SubscriptionSpec {
                protocol: "lambda".into(),
                endpoint: acct.lambda_function("Handler"),
                raw_message_delivery: false,
            },
        ],
    }];
    // An API-created topic stays whatever the template does.
    query(&sns, "Action=CreateTopic&Name=mine").await.unwrap();
    let new = vec![
        TopicSpec {
            name: "events".into(),
            subscriptions: vec![SubscriptionSpec {
                protocol: "sqs".into(),
                endpoint: acct.sqs_queue("inbox"),
                raw_message_delivery: true,
            }],
        },
        TopicSpec {
            name: "alerts".into(),
            subscriptions: Vec::new(),
        },
    ];
    sns.update_template_topics(&old, &new).unwrap();
    let topics = query(&sns, "Action=ListTopics").await.unwrap();
    for t in ["events", "alerts", "mine"] {
        assert!(topics.contains(&format!(":{t}</TopicArn>")), "{topics}");
    }
    let subs = sns.state().subscriptions.clone();
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(subs[0].topic_arn, acct.sns_topic("events"));
    assert_eq!(subs[0].protocol, "sqs");
    assert!(subs[0].raw);

    // The template loses "events": deleted with its subscription.
    sns.update_template_topics(&new, &new[1..]).unwrap();
    let topics = query(&sns, "Action=ListTopics").await.unwrap();
    assert!(!topics.contains(":events<"), "{topics}");
    assert!(sns.state().subscriptions.is_empty());
    let xml = query(
        &sns,
        &format!("Action=DeleteTopic&TopicArn={}", acct.sns_topic("alerts")),
    )
    .await
    .unwrap();
    assert!(xml.contains("<DeleteTopicResponse"), "{xml}");
    assert!(
        Sns::validate_topic(&TopicSpec {
            name: "no spaces".into(),
            subscriptions: Vec::new()
        })
        .is_err()
    );
}
