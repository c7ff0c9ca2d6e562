//! Queues: the startup spec, the stored metadata, and queue attributes
//! (parsing CreateQueue's, rendering GetQueueAttributes').

use std::{collections::BTreeMap, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use wsflow_aws_wire::{Account, ServiceError};

use crate::errors::invalid_parameter;

/// A queue to create at startup (from the template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// Queue name (FIFO names end in `.fifo`).
    pub name: String,
    /// FIFO queue.
    pub fifo: bool,
    /// FIFO content-based deduplication (SHA-256 of the body).
    pub content_based_deduplication: bool,
    /// Default visibility timeout.
    pub visibility_timeout: Duration,
    /// Message retention period.
    pub message_retention: Duration,
    /// Delivery delay.
    pub delay: Duration,
}

impl QueueSpec {
    /// AWS's defaults: 30 s visibility, 4 days retention, no delay.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            fifo: name.ends_with(".fifo"),
            name,
            content_based_deduplication: false,
            visibility_timeout: Duration::from_secs(30),
            message_retention: Duration::from_secs(4 * 86_400),
            delay: Duration::ZERO,
        }
    }
}

/// A queue as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMeta {
    /// Name.
    pub name: String,
    /// FIFO queue.
    pub fifo: bool,
    /// Content-based deduplication.
    pub content_based_deduplication: bool,
    /// `VisibilityTimeout`, seconds.
    pub visibility_timeout: u64,
    /// `MessageRetentionPeriod`, seconds.
    pub retention: u64,
    /// `DelaySeconds`.
    pub delay: u64,
    /// `MaximumMessageSize`, bytes.
    pub max_message_size: u64,
    /// `ReceiveMessageWaitTimeSeconds`.
    pub receive_wait: u64,
    /// Other attributes kept verbatim (Policy, RedrivePolicy, …).
    pub extra: BTreeMap<String, String>,
    /// `CreatedTimestamp`, epoch seconds.
    pub created: u64,
    /// `LastModifiedTimestamp`, epoch seconds.
    pub modified: u64,
    /// Next internal message sequence (storage order).
    pub next_seq: u64,
    /// When the last PurgeQueue ran, epoch ms.
    pub last_purge_ms: Option<u64>,
}

/// AWS's queue-name rule.
pub fn valid_queue_name(name: &str, fifo: bool) -> bool {
    let base = if fifo {
        match name.strip_suffix(".fifo") {
            Some(b) => b,
            None => return false,
        }
    } else {
        name
    };
    !base.is_empty()
        && name.len() <= 80
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

const KNOWN_EXTRA: &[&str] = &[
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

fn bad_value(name: &str) -> ServiceError {
    ServiceError::client(
        "InvalidAttributeValue",
        format!("Invalid value for the parameter {name}."),
    )
}

impl QueueMeta {
    /// Metadata for a template spec.
    pub fn from_spec(spec: &QueueSpec, now_s: u64) -> QueueMeta {
        QueueMeta {
            name: spec.name.clone(),
            fifo: spec.fifo,
            content_based_deduplication: spec.content_based_deduplication,
            visibility_timeout: spec.visibility_timeout.as_secs(),
            retention: spec.message_retention.as_secs(),
            delay: spec.delay.as_secs(),
            max_message_size: 1_048_576,
            receive_wait: 0,
            extra: BTreeMap::new(),
            created: now_s,
            modified: now_s,
            next_seq: 0,
            last_purge_ms: None,
        }
    }

    /// Metadata for CreateQueue (`name` + its `Attributes` map).
    pub fn from_create(
        name: &str,
        attrs: &BTreeMap<String, String>,
        now_s: u64,
    ) -> Result<QueueMeta, ServiceError> {
        let fifo = match attrs.get("FifoQueue").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(bad_value("FifoQueue")),
        };
        if !valid_queue_name(name, fifo) {
            return Err(invalid_parameter(if fifo || name.ends_with(".fifo") {
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
            } else {
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
            }));
        }
        let mut spec = QueueSpec::new(name);
        spec.fifo = fifo;
        let mut meta = QueueMeta::from_spec(&spec, now_s);
        meta.apply(attrs, true)?;
        Ok(meta)
    }

    /// Applies an `Attributes` map (CreateQueue / SetQueueAttributes).
    pub fn apply(
        &mut self,
        attrs: &BTreeMap<String, String>,
        creating: bool,
    ) -> Result<(), ServiceError> {
        let num = |k: &str, v: &str, lo: u64, hi: u64| -> Result<u64, ServiceError> {
            v.parse::<u64>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| bad_value(k))
        };
        for (k, v) in attrs {
            match k.as_str() {
                "DelaySeconds" => self.delay = num(k, v, 0, 900)?,
                "MaximumMessageSize" => self.max_message_size = num(k, v, 1024, 1_048_576)?,
                "MessageRetentionPeriod" => self.retention = num(k, v, 60, 1_209_600)?,
                "ReceiveMessageWaitTimeSeconds" => self.receive_wait = num(k, v, 0, 20)?,
                "VisibilityTimeout" => self.visibility_timeout = num(k, v, 0, 43_200)?,
                "FifoQueue" if creating => {}
                "ContentBasedDeduplication" if self.fifo => {
                    self.content_based_deduplication = match v.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad_value(k)),
                    }
                }
                k if KNOWN_EXTRA.contains(&k) => {
                    self.extra.insert(k.to_owned(), v.clone());
                }
                other => {
                    return Err(ServiceError::client(
                        "InvalidAttributeName",
                        format!("Unknown Attribute {other}."),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Every attribute as GetQueueAttributes reports it, given the message counts.
    pub fn attributes(
        &self,
        account: &Account,
        counts: (u64, u64, u64),
    ) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            a.insert(k.to_owned(), v);
        };
        put("QueueArn", account.sqs_queue(&self.name));
        put("ApproximateNumberOfMessages", counts.0.to_string());
        put(
            "ApproximateNumberOfMessagesNotVisible",
            counts.1.to_string(),
        );
        put("ApproximateNumberOfMessagesDelayed", counts.2.to_string());
        put("CreatedTimestamp", self.created.to_string());
        put("LastModifiedTimestamp", self.modified.to_string());
        put("VisibilityTimeout", self.visibility_timeout.to_string());
        put("MaximumMessageSize", self.max_message_size.to_string());
        put("MessageRetentionPeriod", self.retention.to_string());
        put("DelaySeconds", self.delay.to_string());
        put(
            "ReceiveMessageWaitTimeSeconds",
            self.receive_wait.to_string(),
        );
        put("SqsManagedSseEnabled", "true".into());
        if self.fifo {
            put("FifoQueue", "true".into());
            put(
                "ContentBasedDeduplication",
                self.content_based_deduplication.to_string(),
            );
            put("DeduplicationScope", "queue".into());
            put("FifoThroughputLimit", "perQueue".into());
        }
        for (k, v) in &self.extra {
            a.insert(k.clone(), v.clone());
        }
        a
    }
}

/// Selects the attributes named in `AttributeNames` (`All` selects all).
pub fn select_attributes(
    all: &BTreeMap<String, String>,
    names: &[String],
) -> Result<Value, ServiceError> {
    let mut out = Map::new();
    for n in names {
        if n == "All" {
            for (k, v) in all {
                out.insert(k.clone(), json!(v));
            }
        } else if let Some(v) = all.get(n) {
            out.insert(n.clone(), json!(v));
        } else if !matches!(
            n.as_str(),
            "Policy"
                | "RedrivePolicy"
                | "RedriveAllowPolicy"
                | "KmsMasterKeyId"
                | "KmsDataKeyReusePeriodSeconds"
        ) {
            return Err(ServiceError::client(
                "InvalidAttributeName",
                format!("Unknown Attribute {n}."),
            ));
        }
    }
    Ok(Value::Object(out))
}
