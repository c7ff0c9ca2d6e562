//! The SNS operations, each returning its result in the JSON shape
//! (`{"TopicArn": …}`); [`crate::xml`] renders it for the query protocol.

use serde_json::{Value, json};
use wsflow_aws_wire::{ServiceError, arn};

use crate::{Sns, Subscription, Topic, delivery, params::Input};

/// The actions this service answers.
pub(crate) const ACTIONS: &[&str] = &[
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "Publish",
    "Subscribe",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
];

/// The largest message SNS accepts (256 KB).
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

fn invalid(what: &str) -> ServiceError {
    ServiceError::client("InvalidParameter", format!("Invalid parameter: {what}"))
}

fn required<'a>(input: &'a Input, name: &str) -> Result<&'a str, ServiceError> {
    input.get(name).ok_or_else(|| {
        let mut member = name.to_owned();
        if let Some(first) = member.get_mut(..1) {
            first.make_ascii_lowercase();
        }
        ServiceError::client(
            "ValidationError",
            format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ),
        )
    })
}

fn topic_not_found() -> ServiceError {
    ServiceError::with_status(404, "NotFound", "Topic does not exist")
}

impl Sns {
    pub(crate) async fn dispatch(
        &self,
        action: &str,
        input: &Input,
    ) -> Result<Value, ServiceError> {
        match action {
            "CreateTopic" => {
                Ok(json!({ "TopicArn": self.create_topic(required(input, "Name")?)? }))
            }
            "DeleteTopic" => {
                self.delete_topic(required(input, "TopicArn")?);
                Ok(json!({}))
            }
            "ListTopics" => {
                let topics: Vec<Value> = self
                    .state()
                    .topics
                    .iter()
                    .map(|t| json!({ "TopicArn": t.arn }))
                    .collect();
                Ok(json!({ "Topics": topics }))
            }
            "Publish" => self.publish(input).await,
            "Subscribe" => {
                let topic = required(input, "TopicArn")?;
                let protocol = required(input, "Protocol")?;
                let endpoint = input.get("Endpoint").unwrap_or_default();
                let raw = input
                    .attributes
                    .get("RawMessageDelivery")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                let arn = self.subscribe(topic, protocol, endpoint, raw)?;
                Ok(json!({ "SubscriptionArn": arn }))
            }
            "Unsubscribe" => {
                let arn = required(input, "SubscriptionArn")?;
                self.state().subscriptions.retain(|s| s.arn != arn);
                Ok(json!({}))
            }
            "ListSubscriptions" => Ok(self.subscriptions(None)),
            "ListSubscriptionsByTopic" => {
                let topic = required(input, "TopicArn")?;
                if !self.state().topics.iter().any(|t| t.arn == topic) {
                    return Err(topic_not_found());
                }
                Ok(self.subscriptions(Some(topic)))
            }
            other => Err(ServiceError::client(
                "InvalidAction",
                format!("The action {other} is not valid for this endpoint."),
            )),
        }
    }

    /// Creates the topic `name` (idempotent, as on AWS) and returns its ARN.
    pub(crate) fn create_topic(&self, name: &str) -> Result<String, ServiceError> {
        let base = name.strip_suffix(".fifo").unwrap_or(name);
        let valid = !base.is_empty()
            && name.len() <= 256
            && base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(invalid("Topic Name"));
        }
        let arn = self.account.sns_topic(name);
        let mut state = self.state();
        if !state.topics.iter().any(|t| t.arn == arn) {
            state.topics.push(Topic {
                arn: arn.clone(),
                name: name.to_owned(),
            });
        }
        Ok(arn)
    }

    /// Deletes a topic and its subscriptions (idempotent, as on AWS).
    pub(crate) fn delete_topic(&self, topic_arn: &str) {
        let mut state = self.state();
        state.topics.retain(|t| t.arn != topic_arn);
        state.subscriptions.retain(|s| s.topic_arn != topic_arn);
    }

    /// Subscribes `endpoint` (a queue or function ARN) to `topic_arn`.
    pub(crate) fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        raw: bool,
    ) -> Result<String, ServiceError> {
        let expected = match protocol {
            "sqs" => "sqs",
            "lambda" => "lambda",
            "http" | "https" | "email" | "email-json" | "sms" | "application" | "firehose" => {
                return Err(ServiceError::client(
                    "InvalidParameter",
                    format!(
                        "Invalid parameter: Protocol: the local stack delivers to sqs and lambda endpoints, not {protocol}"
                    ),
                ));
            }
            _ => return Err(invalid("Protocol")),
        };
        if arn::parse(endpoint).is_none_or(|a| a.service != expected) {
            return Err(ServiceError::client(
                "InvalidParameter",
                format!("Invalid parameter: {protocol} endpoint ARN"),
            ));
        }
        let mut state = self.state();
        if !state.topics.iter().any(|t| t.arn == topic_arn) {
            return Err(topic_not_found());
        }
        if let Some(s) = state
            .subscriptions
            .iter()
            .find(|s| s.topic_arn == topic_arn && s.protocol == protocol && s.endpoint == endpoint)
        {
            return Ok(s.arn.clone());
        }
        let arn = format!("{topic_arn}:{}", uuid::Uuid::new_v4());
        state.subscriptions.push(Subscription {
            arn: arn.clone(),
            topic_arn: topic_arn.to_owned(),
            protocol: protocol.to_owned(),
            endpoint: endpoint.to_owned(),
            raw,
        });
        Ok(arn)
    }

    fn subscriptions(&self, topic: Option<&str>) -> Value {
        let subs: Vec<Value> = self
            .state()
            .subscriptions
            .iter()
            .filter(|s| topic.is_none_or(|t| s.topic_arn == t))
            .map(|s| {
                json!({
                    "SubscriptionArn": s.arn,
                    "Owner": self.account.account_id,
                    "Protocol": s.protocol,
                    "Endpoint": s.endpoint,
                    "TopicArn": s.topic_arn,
                })
            })
            .collect();
        json!({ "Subscriptions": subs })
    }

    async fn publish(&self, input: &Input) -> Result<Value, ServiceError> {
        let topic_arn = input
            .get("TopicArn")
            .or_else(|| input.get("TargetArn"))
            .ok_or_else(|| {
                invalid("TopicArn or TargetArn Reason: no value for required parameter")
            })?;
        let message = required(input, "Message")?;
        if message.is_empty() {
            return Err(invalid("Empty message"));
        }
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(invalid("Message too long"));
        }
        let (topic, subs) = {
            let state = self.state();
            let topic = state
                .topics
                .iter()
                .find(|t| t.arn == topic_arn)
                .cloned()
                .ok_or_else(topic_not_found)?;
            let subs: Vec<Subscription> = state
                .subscriptions
                .iter()
                .filter(|s| s.topic_arn == topic_arn)
                .cloned()
                .collect();
            (topic, subs)
        };
        let notification = delivery::Notification {
            message_id: uuid::Uuid::new_v4().to_string(),
            topic_arn: topic.arn.clone(),
            subject: input.get("Subject").map(str::to_owned),
            message: message.to_owned(),
            timestamp: delivery::timestamp_now(),
            attributes: input.message_attributes.clone(),
            region: self.account.region.clone(),
        };
        tracing::debug!(topic = %topic.name, subscriptions = subs.len(), "publish");
        for sub in subs {
            delivery::deliver(
                &self.backends,
                &self.account,
                &self.endpoint,
                &sub,
                &notification,
            );
        }
        Ok(json!({ "MessageId": notification.message_id }))
    }
}
