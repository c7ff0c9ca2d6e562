//! Delivering a published message: SNS's JSON envelope to SQS (or the bare
//! message with `RawMessageDelivery`), an `aws:sns` event to Lambda. Each
//! delivery runs in its own task, as SNS delivers asynchronously; a failed
//! one is logged.

use serde_json::{Map, Value, json};
use wsflow_aws_wire::{Account, Protocol, ServiceRequest, arn};

use crate::{SnsBackends, Subscription, params::MessageAttribute};

/// One published message.
#[derive(Debug, Clone)]
pub struct Notification {
    /// `MessageId`.
    pub message_id: String,
    /// The topic.
    pub topic_arn: String,
    /// `Subject`, when given.
    pub subject: Option<String>,
    /// `Message`.
    pub message: String,
    /// When it was published (`2026-12-05T12:26:33.123Z`).
    pub timestamp: String,
    pub(crate) attributes: Vec<MessageAttribute>,
    pub(crate) region: String,
}

/// Now, as SNS writes `Timestamp`.
pub fn timestamp_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Notification {
    fn attributes(&self) -> Value {
        let map: Map<String, Value> = self
            .attributes
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    json!({ "Type": a.data_type, "Value": a.value }),
                )
            })
            .collect();
        Value::Object(map)
    }

    fn signing_cert_url(&self) -> String {
        format!(
            "https://sns.{}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
            self.region
        )
    }

    fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!(
            "https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            self.region
        )
    }

    /// The JSON document an SQS subscriber receives as its message body.
    pub fn sqs_envelope(&self, subscription_arn: &str) -> Value {
        let mut env = json!({
            "Type": "Notification",
            "MessageId": self.message_id,
            "TopicArn": self.topic_arn,
        });
        if let Some(s) = &self.subject {
            env["Subject"] = json!(s);
        }
        env["Message"] = json!(self.message);
        env["Timestamp"] = json!(self.timestamp);
        env["SignatureVersion"] = json!("1");
        env["Signature"] = json!("EXAMPLE");
        env["SigningCertURL"] = json!(self.signing_cert_url());
        env["UnsubscribeURL"] = json!(self.unsubscribe_url(subscription_arn));
        if !self.attributes.is_empty() {
            env["MessageAttributes"] = self.attributes();
        }
        env
    }

    /// The event a Lambda subscriber is invoked with.
    pub fn lambda_event(&self, subscription_arn: &str) -> Value {
        json!({
            "Records": [{
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": self.message_id,
                    "TopicArn": self.topic_arn,
                    "Subject": self.subject,
                    "Message": self.message,
                    "Timestamp": self.timestamp,
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": self.signing_cert_url(),
                    "UnsubscribeUrl": self.unsubscribe_url(subscription_arn),
                    "MessageAttributes": self.attributes(),
                }
            }]
        })
    }
}

/// Delivers `n` to `sub` in the background.
pub(crate) fn deliver(
    backends: &SnsBackends,
    account: &Account,
    endpoint: &str,
    sub: &Subscription,
    n: &Notification,
) {
    let backends = backends.clone();
    let sub = sub.clone();
    match sub.protocol.as_str() {
        "sqs" => {
            let queue = arn::parse(&sub.endpoint)
                .map(|a| a.resource.to_owned())
                .unwrap_or_default();
            let mut body = json!({
                "QueueUrl": account.queue_url(endpoint, &queue),
                "MessageBody": if sub.raw { n.message.clone() } else { n.sqs_envelope(&sub.arn).to_string() },
            });
            if sub.raw && !n.attributes.is_empty() {
                let attrs: Map<String, Value> = n
                    .attributes
                    .iter()
                    .map(|a| {
                        let field = if a.data_type.starts_with("Binary") {
                            "BinaryValue"
                        } else {
                            "StringValue"
                        };
                        (
                            a.name.clone(),
                            json!({ "DataType": a.data_type, field: a.value }),
                        )
                    })
                    .collect();
                body["MessageAttributes"] = Value::Object(attrs);
            }
            tokio::spawn(async move {
                let request = ServiceRequest {
                    operation: "SendMessage".into(),
                    protocol: Protocol::Json,
                    body: body.to_string().into_bytes(),
                };
                if let Err(e) = backends.sqs.call(request).await {
                    tracing::warn!(subscription = %sub.arn, error = %e, "SNS delivery to SQS failed");
                }
            });
        }
        _ => {
            let event = n.lambda_event(&sub.arn);
            tokio::spawn(async move {
                if let Err(e) = backends.lambda.invoke(&sub.endpoint, event).await {
                    tracing::warn!(subscription = %sub.arn, error = %e, "SNS delivery to Lambda failed");
                }
            });
        }
    }
}
