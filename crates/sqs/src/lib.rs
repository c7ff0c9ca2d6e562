//! A local Amazon SQS (standard and FIFO queues) speaking both the JSON 1.0
//! protocol (`X-Amz-Target: AmazonSQS.<Operation>`) and the query protocol
//! (`Action=SendMessage&…` form bodies, XML responses; awscli v1 and API
//! Gateway's SQS integrations use it), stored durably in an embedded
//! [redb](https://docs.rs/redb) database at `<data_dir>/sqs.redb`; plus the
//! Lambda event source mapping that feeds queues to functions
//! ([`spawn_event_source`]).
//!
//! Operations: GetQueueUrl, CreateQueue (idempotent), DeleteQueue, ListQueues,
//! GetQueueAttributes, SetQueueAttributes, SendMessage, SendMessageBatch,
//! ReceiveMessage (long polling), DeleteMessage, DeleteMessageBatch,
//! ChangeMessageVisibility(-Batch), PurgeQueue. FIFO queues keep per-group
//! order (a group with a message in flight delivers nothing more), deduplicate
//! for five minutes (explicit or content-based ids, the original `MessageId`
//! returned) and assign sequence numbers. MD5 digests of bodies and message
//! attributes are computed as SQS does, since SDKs verify them.
//!
//! Not implemented: dead-letter queues (RedrivePolicy is stored, not acted
//! on), tags, message system attributes (`AWSTraceHeader`),
//! fair-queue semantics for `MessageGroupId` on standard queues.
//!
//! **Stack updates.** [`Sqs::apply_queue`] and [`Sqs::delete_queue`] change the
//! template's queues while the stack serves (`wsflow up --watch`).
//!
//! **Query-protocol errors** are returned as `Ok` responses carrying the
//! HTTP status and SQS's XML `ErrorResponse`, exactly what the wire needs;
//! JSON-protocol errors are `Err(ServiceError)` (render with
//! `ServiceError::json_body(Some("com.amazonaws.sqs"))` and add the header
//! from [`query_error_header`]).
#![warn(missing_docs)]

mod errors;
mod event_source;
mod message;
mod ops;
mod query;
mod queue;
mod store;
mod xml;

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use tokio::sync::Notify;
use wsflow_aws_wire::{
    Account, AwsService, BoxFuture, Protocol, ServiceError, ServiceRequest, ServiceResponse,
};

pub use errors::{query_code, query_error_body, query_error_header};
pub use event_source::{EventSourceMapping, spawn_event_source};
pub use message::{AttributeValue, StoredMessage};
pub use queue::QueueSpec;
pub use store::Received;

/// Why the queues could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SqsError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The redb file could not be opened or written.
    #[error("sqs database: {0}")]
    Database(String),
    /// A queue from the template is invalid.
    #[error("queue {queue}: {message}")]
    InvalidQueue {
        /// Queue name.
        queue: String,
        /// SQS's validation message.
        message: String,
    },
}

pub(crate) struct Inner {
    pub(crate) store: store::Store,
    pub(crate) account: Account,
    endpoint: String,
    notify: Mutex<HashMap<String, Arc<Notify>>>,
}

/// The local SQS service. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Sqs {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Sqs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqs")
            .field("endpoint", &self.inner.endpoint)
            .finish_non_exhaustive()
    }
}

fn check_spec(spec: &QueueSpec) -> Result<(), SqsError> {
    if queue::valid_queue_name(&spec.name, spec.fifo) {
        Ok(())
    } else {
        Err(SqsError::InvalidQueue {
            queue: spec.name.clone(),
            message: errors::invalid_parameter(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (FIFO names end in .fifo)",
            )
            .message,
        })
    }
}

/// Creates a template queue, or updates the stored one's template settings
/// (its messages, counters and API-set attributes stay); whether it changed.
fn apply_spec(store: &store::Store, spec: &QueueSpec) -> Result<bool, SqsError> {
    check_spec(spec)?;
    let fresh = queue::QueueMeta::from_spec(spec, now_ms() / 1000);
    let mut changed = true;
    store
        .create_queue(fresh.clone(), |old| {
            let mut updated = fresh.clone();
            updated.created = old.created;
            updated.next_seq = old.next_seq;
            updated.last_purge_ms = old.last_purge_ms;
            updated.extra = old.extra.clone();
            updated.max_message_size = old.max_message_size;
            updated.receive_wait = old.receive_wait;
            updated.modified = old.modified;
            changed = updated != *old;
            if changed {
                updated.modified = fresh.modified;
            }
            Ok(changed.then_some(updated))
        })
        .map_err(|e| SqsError::InvalidQueue {
            queue: spec.name.clone(),
            message: e.message,
        })?;
    Ok(changed)
}

/// Epoch milliseconds now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Sqs {
    /// Opens (or creates) `<data_dir>/sqs.redb` and creates the queues in
    /// `queues` that do not exist yet; an existing queue takes the spec's
    /// settings and keeps its messages. `endpoint` (e.g.
    /// `http://127.0.0.1:3001`) is the base of the queue URLs handed out.
    pub fn open(
        data_dir: &Path,
        queues: Vec<QueueSpec>,
        account: Account,
        endpoint: String,
    ) -> Result<Sqs, SqsError> {
        std::fs::create_dir_all(data_dir).map_err(|source| SqsError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let store = store::Store::open(&data_dir.join("sqs.redb"))?;
        for spec in &queues {
            apply_spec(&store, spec)?;
        }
        Ok(Sqs {
            inner: Arc::new(Inner {
                store,
                account,
                endpoint,
                notify: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Checks a template queue's settings, creating nothing (so a template
    /// can be checked in full before any of it is applied).
    pub fn validate_queue(spec: &QueueSpec) -> Result<(), SqsError> {
        check_spec(spec)
    }

    /// Creates the template queue `spec.name`, or gives the existing one the
    /// spec's settings (SetQueueAttributes: its messages stay). Returns
    /// whether anything changed.
    pub fn apply_queue(&self, spec: &QueueSpec) -> Result<bool, SqsError> {
        apply_spec(&self.inner.store, spec)
    }

    /// Deletes the queue `name` and its messages (DeleteQueue): pollers
    /// waiting on it get `QueueDoesNotExist`.
    pub async fn delete_queue(&self, name: &str) -> Result<(), ServiceError> {
        ops::dispatch(
            self,
            "DeleteQueue",
            &serde_json::json!({"QueueUrl": self.queue_url(name)}),
        )
        .await
        .map(drop)
    }

    /// The URL of a queue: `<endpoint>/<account>/<name>`.
    pub fn queue_url(&self, name: &str) -> String {
        self.inner.account.queue_url(&self.inner.endpoint, name)
    }

    /// The ARN of a queue.
    pub fn queue_arn(&self, name: &str) -> String {
        self.inner.account.sqs_queue(name)
    }

    /// Every queue's name, sorted.
    pub fn queue_names(&self) -> Result<Vec<String>, ServiceError> {
        self.inner.store.queue_names()
    }

    /// (visible, in flight, delayed) message counts of a queue.
    pub fn message_counts(&self, queue: &str) -> Result<(u64, u64, u64), ServiceError> {
        self.inner.store.counts(queue, now_ms())
    }

    /// Up to `limit` stored messages of `queue` in send order from sequence
    /// `from`, read without receiving them (their visibility is untouched),
    /// and the sequence of the next page, if any. The console's view.
    pub fn peek_messages(
        &self,
        queue: &str,
        from: u64,
        limit: usize,
    ) -> Result<(Vec<StoredMessage>, Option<u64>), ServiceError> {
        self.inner.store.peek(queue, from, limit)
    }

    /// The region/account the service presents.
    pub fn account(&self) -> &Account {
        &self.inner.account
    }

    /// Runs a storage call on the blocking pool (redb commits fsync).
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| ServiceError::internal(format!("SQS worker failed: {e}")))
    }

    fn notifier(&self, queue: &str) -> Arc<Notify> {
        let mut map = self
            .inner
            .notify
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(queue.to_owned()).or_default().clone()
    }

    /// Wakes long polls on `queue` (a message became available).
    pub(crate) fn notify(&self, queue: &str) {
        self.notifier(queue).notify_waiters();
    }

    /// Receives up to `max` messages from `queue`, waiting up to `wait` for
    /// the first one (long polling: woken by sends and by in-flight messages
    /// becoming visible, no busy loop). `visibility` overrides the queue's
    /// visibility timeout, in seconds.
    pub async fn receive_messages(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
        visibility: Option<u64>,
    ) -> Result<Vec<Received>, ServiceError> {
        let deadline = Instant::now() + wait;
        let notify = self.notifier(queue);
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let q = queue.to_owned();
            let (got, next_wake_ms) = self
                .blocking(move |s| {
                    s.store.receive(&q, max, visibility, now_ms(), &mut || {
                        uuid::Uuid::new_v4().simple().to_string()
                    })
                })
                .await??;
            if !got.is_empty() {
                return Ok(got);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(got);
            }
            let mut until = deadline;
            if let Some(w) = next_wake_ms {
                let ms = w.saturating_sub(now_ms());
                until = until.min(now + Duration::from_millis(ms));
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until.into()) => {}
            }
        }
    }

    /// Deletes a received message by its receipt handle. Returns whether a
    /// message was deleted (a stale handle succeeds without effect).
    pub async fn delete_message(
        &self,
        queue: &str,
        receipt_handle: &str,
    ) -> Result<bool, ServiceError> {
        let (q, h) = (queue.to_owned(), receipt_handle.to_owned());
        self.blocking(move |s| s.store.delete(&q, &h)).await?
    }

    /// Runs one operation with a JSON-protocol request body.
    pub async fn call_json(
        &self,
        operation: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ServiceError> {
        ops::dispatch(self, operation, body).await
    }
}

impl AwsService for Sqs {
    fn target_prefix(&self) -> &'static str {
        "AmazonSQS"
    }

    fn integration_name(&self) -> &'static str {
        "sqs"
    }

    fn error_namespace(&self) -> Option<&'static str> {
        Some("com.amazonaws.sqs")
    }

    fn speaks_query_protocol(&self) -> bool {
        true
    }

    fn query_namespace(&self) -> &'static str {
        xml::XMLNS
    }

    fn call(
        &self,
        request: ServiceRequest,
    ) -> BoxFuture<'_, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            match request.protocol {
                Protocol::Json => {
                    let body: serde_json::Value =
                        if request.body.iter().all(u8::is_ascii_whitespace) {
                            serde_json::json!({})
                        } else {
                            serde_json::from_slice(&request.body).map_err(|_| {
                                ServiceError::client(
                                    "SerializationException",
                                    "The request body is not valid JSON",
                                )
                            })?
                        };
                    let out = self.call_json(&request.operation, &body).await?;
                    Ok(ServiceResponse::json(&out))
                }
                Protocol::Query => {
                    let (action, body) = query::form_to_json(&request.body);
                    let op = if request.operation.is_empty() {
                        action.unwrap_or_default()
                    } else {
                        request.operation.clone()
                    };
                    let request_id = uuid::Uuid::new_v4().to_string();
                    match self.call_json(&op, &body).await {
                        Ok(out) => Ok(ServiceResponse::xml(xml::render(&op, &out, &request_id))),
                        Err(e) => Ok(ServiceResponse {
                            status: e.status,
                            content_type: "text/xml",
                            body: query_error_body(&e, &request_id),
                        }),
                    }
                }
            }
        })
    }
}
