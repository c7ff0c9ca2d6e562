//! The Lambda event source mapping for SQS: long-polls a queue, batches
//! messages, invokes the function with the SQS event exactly as Lambda builds
//! it, then deletes what succeeded.
//!
//! Outcomes, as AWS Lambda documents them:
//! * the function returns normally → the whole batch is deleted, except,
//!   with `ReportBatchItemFailures`, the messages listed in
//!   `batchItemFailures`, which stay and become visible again after the
//!   visibility timeout (for FIFO queues the *function* must list every
//!   message after its first failure, as AWS requires);
//! * a `batchItemFailures` entry that is empty, null or names a message not
//!   in the batch makes the whole batch a failure;
//! * a function error → nothing is deleted: the whole batch returns after
//!   the visibility timeout. A message is never deleted unless its
//!   processing was reported successful.
//!
//! One poller per mapping processes one batch at a time (locally a single
//! concurrent invocation is enough; FIFO order is then trivially kept).

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Map, Value, json};
use tokio::{sync::watch, task::JoinHandle};
use wsflow_aws_wire::LambdaInvoker;

use crate::{Received, Sqs, ops::system_attributes};

/// An event source mapping: which queue feeds which function, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSourceMapping {
    /// Queue name.
    pub queue: String,
    /// Function name or ARN.
    pub function: String,
    /// Records per invocation (at most 10 for FIFO queues).
    pub batch_size: usize,
    /// How long to gather records before invoking.
    pub max_batching_window: Duration,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_batch_item_failures: bool,
}

/// Long-poll wait per receive (SQS's maximum).
const POLL_WAIT: Duration = Duration::from_secs(20);

/// Starts polling `mapping.queue` until `shutdown` becomes `true` (or its
/// sender is dropped).
pub fn spawn_event_source(
    sqs: Sqs,
    mapping: EventSourceMapping,
    invoker: Arc<dyn LambdaInvoker>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let fifo = mapping.queue.ends_with(".fifo");
        let batch_size = if fifo {
            mapping.batch_size.clamp(1, 10)
        } else {
            mapping.batch_size.clamp(1, 10_000)
        };
        tracing::debug!(queue = %mapping.queue, function = %mapping.function, batch_size, "SQS event source started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let first = tokio::select! {
                r = sqs.receive_messages(&mapping.queue, batch_size.min(10), POLL_WAIT, None) => r,
                _ = shutdown.changed() => break,
            };
            let mut batch = match first {
                Ok(b) if b.is_empty() => continue,
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(queue = %mapping.queue, error = %e, "SQS event source receive failed");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = shutdown.changed() => break,
                    }
                }
            };
            let window_end = Instant::now() + mapping.max_batching_window;
            while batch.len() < batch_size {
                let now = Instant::now();
                if now >= window_end {
                    break;
                }
                let wait = (window_end - now).min(POLL_WAIT);
                let want = (batch_size - batch.len()).min(10);
                match sqs.receive_messages(&mapping.queue, want, wait, None).await {
                    Ok(more) => batch.extend(more),
                    Err(e) => {
                        tracing::warn!(queue = %mapping.queue, error = %e, "SQS event source receive failed");
                        break;
                    }
                }
            }
            process_batch(&sqs, &mapping, invoker.as_ref(), batch).await;
        }
        tracing::debug!(queue = %mapping.queue, "SQS event source stopped");
    })
}

/// The Lambda SQS event for a batch.
pub fn build_event(sqs: &Sqs, queue: &str, batch: &[Received]) -> Value {
    let arn = sqs.queue_arn(queue);
    let region = sqs.account().region.clone();
    let all = vec!["All".to_owned()];
    let records: Vec<Value> = batch
        .iter()
        .map(|r| {
            let m = &r.message;
            let attrs: Map<String, Value> = m
                .attributes
                .iter()
                .map(|(k, v)| {
                    let mut a = json!({
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": v.data_type,
                    });
                    if let Some(s) = &v.string_value {
                        a["stringValue"] = json!(s);
                    }
                    if let Some(b) = &v.binary_value {
                        a["binaryValue"] = json!(b);
                    }
                    (k.clone(), a)
                })
                .collect();
            let mut rec = json!({
                "messageId": m.message_id,
                "receiptHandle": r.receipt_handle,
                "body": m.body,
                "attributes": Value::Object(system_attributes(r, &all)),
                "messageAttributes": Value::Object(attrs),
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": region,
            });
            if let Some(md5) = &m.md5_of_attributes {
                rec["md5OfMessageAttributes"] = json!(md5);
            }
            rec
        })
        .collect();
    json!({ "Records": records })
}

/// The message ids a `ReportBatchItemFailures` response marks as failed;
/// `None` when the response makes the whole batch a failure.
fn reported_failures(response: &Value, batch_ids: &HashSet<&str>) -> Option<HashSet<String>> {
    let list = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(HashSet::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return None,
    };
    let mut out = HashSet::new();
    for f in list {
        let id = f.get("itemIdentifier").and_then(Value::as_str)?;
        if id.is_empty() || !batch_ids.contains(id) {
            return None;
        }
        out.insert(id.to_owned());
    }
    Some(out)
}

async fn process_batch(
    sqs: &Sqs,
    mapping: &EventSourceMapping,
    invoker: &dyn LambdaInvoker,
    batch: Vec<Received>,
) {
    let event = build_event(sqs, &mapping.queue, &batch);
    let result = invoker.invoke(&mapping.function, event).await;
    let failed: HashSet<String> = match result {
        Err(e) => {
            tracing::warn!(
                queue = %mapping.queue, function = %mapping.function, error = %e,
                "function failed; the batch returns to the queue after the visibility timeout"
            );
            return;
        }
        Ok(resp) if mapping.report_batch_item_failures => {
            let ids: HashSet<&str> = batch
                .iter()
                .map(|r| r.message.message_id.as_str())
                .collect();
            match reported_failures(&resp, &ids) {
                Some(f) => f,
                None => {
                    tracing::warn!(
                        queue = %mapping.queue, function = %mapping.function,
                        "invalid batchItemFailures response; treating the whole batch as failed"
                    );
                    return;
                }
            }
        }
        Ok(_) => HashSet::new(),
    };
    for r in &batch {
        if failed.contains(&r.message.message_id) {
            continue;
        }
        if let Err(e) = sqs.delete_message(&mapping.queue, &r.receipt_handle).await {
            tracing::warn!(queue = %mapping.queue, error = %e, "deleting a processed message failed");
        }
    }
    if !failed.is_empty() {
        tracing::debug!(queue = %mapping.queue, failed = failed.len(), "partial batch failure");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_batch_item_failures() {
        let ids: HashSet<&str> = ["a", "b"].into_iter().collect();
        assert_eq!(reported_failures(&json!({}), &ids), Some(HashSet::new()));
        assert_eq!(reported_failures(&Value::Null, &ids), Some(HashSet::new()));
        assert_eq!(
            reported_failures(
                &json!({"batchItemFailures": [{"itemIdentifier": "b"}]}),
                &ids
            ),
            Some(["b".to_owned()].into_iter().collect())
        );
        assert_eq!(
            reported_failures(
                &json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
                &ids
            ),
            None
        );
        assert_eq!(
            reported_failures(
                &json!({"batchItemFailures": [{"itemIdentifier": "zz"}]}),
                &ids
            ),
            None
        );
        assert_eq!(
            reported_failures(&json!({"batchItemFailures": [{}]}), &ids),
            None
        );
    }
}
