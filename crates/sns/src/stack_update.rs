//! The template's topics on a stack update (`wsflow up --watch`): a topic
//! the template lost is deleted with its subscriptions (DeleteTopic), a new
//! one created (CreateTopic), and a topic's template subscriptions follow
//! the template (Unsubscribe, Subscribe). Topics and subscriptions created
//! through the API are left alone.

use wsflow_aws_wire::ServiceError;

use crate::{Sns, SubscriptionSpec, TopicSpec};

impl Sns {
    /// Checks a template topic's name as CreateTopic would, creating nothing.
    pub fn validate_topic(spec: &TopicSpec) -> Result<(), ServiceError> {
        let base = spec.name.strip_suffix(".fifo").unwrap_or(&spec.name);
        let valid = !base.is_empty()
            && spec.name.len() <= 256
            && base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(())
        } else {
            Err(ServiceError::client(
                "InvalidParameter",
                format!("Invalid parameter: Topic Name {}", spec.name),
            ))
        }
    }

    /// Moves the template's topics from `old` to `new` (see the module
    /// documentation). A subscription the stack cannot deliver to is
    /// skipped with a warning, as at start-up.
    pub fn update_template_topics(
        &self,
        old: &[TopicSpec],
        new: &[TopicSpec],
    ) -> Result<(), ServiceError> {
        for gone in old.iter().filter(|o| !new.iter().any(|n| n.name == o.name)) {
            self.delete_topic(&self.account.sns_topic(&gone.name));
        }
        for topic in new {
            let arn = self.create_topic(&topic.name)?;
            let before: &[SubscriptionSpec] = old
                .iter()
                .find(|o| o.name == topic.name)
                .map_or(&[], |o| &o.subscriptions);
            for s in before.iter().filter(|s| !topic.subscriptions.contains(s)) {
                self.state().subscriptions.retain(|have| {
                    !(have.topic_arn == arn
                        && have.protocol == s.protocol
                        && have.endpoint == s.endpoint)
                });
            }
            for s in topic.subscriptions.iter().filter(|s| !before.contains(s)) {
                if let Err(e) =
                    self.subscribe(&arn, &s.protocol, &s.endpoint, s.raw_message_delivery)
                {
                    tracing::warn!(
                        topic = %arn, protocol = %s.protocol, endpoint = %s.endpoint,
                        "subscription skipped: {}", e.message
                    );
                }
            }
        }
        Ok(())
    }
}
