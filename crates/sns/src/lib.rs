//! Local Amazon SNS: topics and their SQS and Lambda subscriptions.
//!
//! * the template's `AWS::SNS::Topic`s and `AWS::SNS::Subscription`s
//!   ([`TopicSpec`], [`SubscriptionSpec`]), plus topics and subscriptions
//!   created through the API (kept in memory: they do not survive a restart);
//! * the SNS query API on the edge port (`CreateTopic`, `ListTopics`,
//!   `DeleteTopic`, `Publish`, `Subscribe`, `Unsubscribe`, `ListSubscriptions`,
//!   `ListSubscriptionsByTopic`),
//!   with AWS's XML responses, and the same operations over JSON for the
//!   Step Functions `sns:publish` integration and API Gateway's
//!   `sns:action/Publish` (whose mapping template renders a form);
//! * delivery ([`delivery`]): to an SQS queue as SNS's JSON envelope (or the
//!   bare message with `RawMessageDelivery`), to a Lambda function as an
//!   `aws:sns` event record, invoked asynchronously as SNS does.
//!
//! * the template's topics changed while serving (`stack_update`,
//!   [`Sns::update_template_topics`]).
//!
//! Not emulated: FIFO topics' ordering, filter policies, HTTP/email/SMS
//! endpoints, message signatures (the `Signature` field is a placeholder:
//! nothing local can verify it against AWS's certificate).
#![warn(missing_docs)]

pub mod delivery;
mod ops;
mod params;
mod stack_update;
mod xml;

use std::sync::{Arc, Mutex};

use wsflow_aws_wire::{
    Account, AwsService, BoxFuture, LambdaInvoker, Protocol, ServiceError, ServiceRequest,
    ServiceResponse,
};

/// A topic as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// `TopicName`.
    pub name: String,
    /// Its subscriptions (inline `Subscription` and `AWS::SNS::Subscription`).
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// A subscription as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSpec {
    /// `sqs` or `lambda`.
    pub protocol: String,
    /// The queue or function ARN.
    pub endpoint: String,
    /// `RawMessageDelivery` (SQS only): the message without the envelope.
    pub raw_message_delivery: bool,
}

/// Where messages go.
#[derive(Clone)]
pub struct SnsBackends {
    /// The local SQS service.
    pub sqs: Arc<dyn AwsService>,
    /// The local functions.
    pub lambda: Arc<dyn LambdaInvoker>,
}

#[derive(Debug, Clone)]
struct Topic {
    arn: String,
    name: String,
}

#[derive(Debug, Clone)]
struct Subscription {
    arn: String,
    topic_arn: String,
    protocol: String,
    endpoint: String,
    raw: bool,
}

/// The local SNS service.
pub struct Sns {
    account: Account,
    endpoint: String,
    backends: SnsBackends,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    topics: Vec<Topic>,
    subscriptions: Vec<Subscription>,
}

impl Sns {
    /// The service with the template's topics; `endpoint` is the stack's URL
    /// (queue URLs are derived from it).
    pub fn new(
        account: Account,
        endpoint: impl Into<String>,
        topics: Vec<TopicSpec>,
        backends: SnsBackends,
    ) -> Result<Self, ServiceError> {
        let sns = Self {
            account,
            endpoint: endpoint.into(),
            backends,
            state: Mutex::new(State::default()),
        };
        for t in topics {
            let arn = sns.create_topic(&t.name)?;
            for s in t.subscriptions {
                // An endpoint the stack cannot deliver to (email, https,
                // sms, ...) does not stop the stack: it is named and skipped.
                if let Err(e) =
                    sns.subscribe(&arn, &s.protocol, &s.endpoint, s.raw_message_delivery)
                {
                    tracing::warn!(
                        topic = %arn, protocol = %s.protocol, endpoint = %s.endpoint,
                        "subscription skipped: {}", e.message
                    );
                }
            }
        }
        Ok(sns)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AwsService for Sns {
    fn target_prefix(&self) -> &'static str {
        // SNS has no JSON protocol on AWS; the prefix only keeps the edge's
        // `X-Amz-Target` routing from ever matching it by accident.
        "AmazonSimpleNotificationService"
    }

    fn integration_name(&self) -> &'static str {
        "sns"
    }

    fn speaks_query_protocol(&self) -> bool {
        true
    }

    fn query_actions(&self) -> &'static [&'static str] {
        ops::ACTIONS
    }

    fn query_namespace(&self) -> &'static str {
        xml::XMLNS
    }

    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let input = match request.protocol {
                Protocol::Query => params::Input::from_form(&request.body),
                // An API Gateway `sns:action/Publish` integration renders
                // the parameters as a form, as for AWS's query API.
                Protocol::Json if !request.body.trim_ascii_start().starts_with(b"{") => {
                    params::Input::from_form(&request.body)
                }
                Protocol::Json => params::Input::from_json(&request.body)?,
            };
            let out = self.dispatch(&request.operation, &input).await?;
            Ok(match request.protocol {
                Protocol::Query => ServiceResponse::xml(xml::response(&request.operation, &out)),
                Protocol::Json => ServiceResponse::json(&out),
            })
        })
    }
}

#[cfg(test)]
mod tests;
