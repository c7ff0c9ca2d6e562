//! The redb file behind the queues, and the queue engine's synchronous core:
//! send (with FIFO deduplication), receive (visibility timeouts, FIFO group
//! blocking, retention), delete, change visibility, purge.
//!
//! Tables: `queues` (name → metadata JSON), `messages` (name ‖ 0 ‖ seq →
//! message JSON, so a queue's messages are one key range in send order) and
//! `dedup` (name ‖ 0 ‖ deduplication id → original message, 5-minute window).
//! Each operation is one redb transaction.
//!
//! The file is opened with a page cache of [`CACHE_BYTES`], not redb's default 1 GiB, so a
//! long-running stack's memory stays bounded (the OS page cache holds the rest).

use std::path::Path;

use base64::Engine as _;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use wsflow_aws_wire::ServiceError;

use crate::{
    SqsError,
    errors::{invalid_receipt, queue_does_not_exist},
    message::StoredMessage,
    queue::QueueMeta,
};

const QUEUES: TableDefinition<&str, &[u8]> = TableDefinition::new("queues");
const MESSAGES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("messages");
const DEDUP: TableDefinition<&[u8], &[u8]> = TableDefinition::new("dedup");

/// FIFO deduplication interval.
pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;

fn db_err(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(format!("storage failure: {e}"))
}

fn queue_prefix(queue: &str) -> Vec<u8> {
    let mut k = queue.as_bytes().to_vec();
    k.push(0);
    k
}

fn message_key(queue: &str, seq: u64) -> Vec<u8> {
    let mut k = queue_prefix(queue);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn dedup_key(queue: &str, id: &str) -> Vec<u8> {
    let mut k = queue_prefix(queue);
    k.extend_from_slice(id.as_bytes());
    k
}

/// A receipt handle: `queue \n seq \n nonce`, base64url.
pub fn receipt_handle(queue: &str, seq: u64, nonce: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{queue}\n{seq}\n{nonce}"))
}

fn parse_receipt(queue: &str, handle: &str) -> Result<(u64, String), ServiceError> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(handle)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid_receipt(handle))?;
    let mut parts = raw.splitn(3, '\n');
    match (
        parts.next(),
        parts.next().and_then(|s| s.parse().ok()),
        parts.next(),
    ) {
        (Some(q), Some(seq), Some(nonce)) if q == queue => Ok((seq, nonce.to_owned())),
        _ => Err(invalid_receipt(handle)),
    }
}

/// What to send (already validated against the queue type by the caller).
#[derive(Debug, Clone)]
pub struct SendInput {
    /// The message, with ids and digests filled in; `visible_at_ms` is the
    /// delivery time after any delay.
    pub message: StoredMessage,
}

/// SendMessage's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutput {
    /// `MessageId` (the original one for a deduplicated send).
    pub message_id: String,
    /// `SequenceNumber` (FIFO).
    pub sequence_number: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct DedupEntry {
    message_id: String,
    sequence_number: Option<String>,
    expires_ms: u64,
}

/// A received message with its new receipt handle.
#[derive(Debug, Clone)]
pub struct Received {
    /// The message (receive count and first-receive time updated).
    pub message: StoredMessage,
    /// The receipt handle of this receive.
    pub receipt_handle: String,
}

/// The database.
pub struct Store {
    db: Database,
}

/// The redb page cache of the file: 32 MiB.
pub(crate) const CACHE_BYTES: usize = 32 * 1024 * 1024;

impl Store {
    /// Opens or creates the file.
    pub fn open(path: &Path) -> Result<Store, SqsError> {
        let err =
            |e: &dyn std::fmt::Display| SqsError::Database(format!("{}: {e}", path.display()));
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| err(&e))?;
        let txn = db.begin_write().map_err(|e| err(&e))?;
        txn.open_table(QUEUES).map_err(|e| err(&e))?;
        txn.open_table(MESSAGES).map_err(|e| err(&e))?;
        txn.open_table(DEDUP).map_err(|e| err(&e))?;
        txn.commit().map_err(|e| err(&e))?;
        Ok(Store { db })
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<(T, bool), ServiceError>,
    ) -> Result<T, ServiceError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let (out, changed) = f(&txn)?;
        if changed {
            txn.commit().map_err(db_err)?;
        } else {
            txn.abort().map_err(db_err)?;
        }
        Ok(out)
    }

    fn load_meta(txn: &WriteTransaction, queue: &str) -> Result<QueueMeta, ServiceError> {
        let t = txn.open_table(QUEUES).map_err(db_err)?;
        let v = t
            .get(queue)
            .map_err(db_err)?
            .ok_or_else(queue_does_not_exist)?;
        serde_json::from_slice(v.value()).map_err(db_err)
    }

    fn save_meta(txn: &WriteTransaction, meta: &QueueMeta) -> Result<(), ServiceError> {
        let bytes = serde_json::to_vec(meta).map_err(db_err)?;
        txn.open_table(QUEUES)
            .map_err(db_err)?
            .insert(meta.name.as_str(), bytes.as_slice())
            .map_err(db_err)?;
        Ok(())
    }

    /// A queue's metadata.
    pub fn queue(&self, queue: &str) -> Result<QueueMeta, ServiceError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(QUEUES).map_err(db_err)?;
        let v = t
            .get(queue)
            .map_err(db_err)?
            .ok_or_else(queue_does_not_exist)?;
        serde_json::from_slice(v.value()).map_err(db_err)
    }

    /// Every queue name, sorted.
    pub fn queue_names(&self) -> Result<Vec<String>, ServiceError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let t = txn.open_table(QUEUES).map_err(db_err)?;
        let mut out = Vec::new();
        for e in t.iter().map_err(db_err)? {
            let (k, _) = e.map_err(db_err)?;
            out.push(k.value().to_owned());
        }
        Ok(out)
    }

    /// Creates a queue; if it exists, `on_existing` decides (given the stored
    /// metadata) whether to keep it (`Ok(None)`), replace it (`Ok(Some)`), or fail.
    pub fn create_queue(
        &self,
        meta: QueueMeta,
        on_existing: impl FnOnce(&QueueMeta) -> Result<Option<QueueMeta>, ServiceError>,
    ) -> Result<(), ServiceError> {
        self.write(|txn| {
            let existing = match Self::load_meta(txn, &meta.name) {
                Ok(m) => Some(m),
                Err(e) if e.code == "QueueDoesNotExist" => None,
                Err(e) => return Err(e),
            };
            let to_save = match existing {
                None => Some(meta),
                Some(old) => on_existing(&old)?,
            };
            match to_save {
                Some(m) => {
                    Self::save_meta(txn, &m)?;
                    Ok(((), true))
                }
                None => Ok(((), false)),
            }
        })
    }

    /// Deletes a queue with its messages and deduplication entries.
    pub fn delete_queue(&self, queue: &str) -> Result<(), ServiceError> {
        self.write(|txn| {
            Self::load_meta(txn, queue)?;
            txn.open_table(QUEUES)
                .map_err(db_err)?
                .remove(queue)
                .map_err(db_err)?;
            let prefix = queue_prefix(queue);
            for def in [MESSAGES, DEDUP] {
                let mut table = txn.open_table(def).map_err(db_err)?;
                let mut keys = Vec::new();
                for e in table.range(prefix.as_slice()..).map_err(db_err)? {
                    let (k, _) = e.map_err(db_err)?;
                    if !k.value().starts_with(&prefix) {
                        break;
                    }
                    keys.push(k.value().to_vec());
                }
                for k in keys {
                    table.remove(k.as_slice()).map_err(db_err)?;
                }
            }
            Ok(((), true))
        })
    }

    /// Sends one message. FIFO deduplication: a deduplication id seen in the
    /// last five minutes returns the original message's id and stores nothing.
    pub fn send(
        &self,
        queue: &str,
        input: SendInput,
        now_ms: u64,
    ) -> Result<SendOutput, ServiceError> {
        self.write(|txn| {
            let mut meta = Self::load_meta(txn, queue)?;
            let mut msg = input.message;
            if meta.fifo {
                let mut dedup = txn.open_table(DEDUP).map_err(db_err)?;
                let k = msg.dedup_id.as_deref().map(|d| dedup_key(queue, d));
                if let Some(k) = &k
                    && let Some(v) = dedup.get(k.as_slice()).map_err(db_err)?
                {
                    let e: DedupEntry = serde_json::from_slice(v.value()).map_err(db_err)?;
                    if e.expires_ms > now_ms {
                        return Ok((
                            SendOutput {
                                message_id: e.message_id,
                                sequence_number: e.sequence_number,
                            },
                            false,
                        ));
                    }
                }
                msg.sequence_number = Some(format!(
                    "{}",
                    10_000_000_000_000_000_000u128 + u128::from(meta.next_seq)
                ));
                if let Some(k) = &k {
                    let entry = DedupEntry {
                        message_id: msg.message_id.clone(),
                        sequence_number: msg.sequence_number.clone(),
                        expires_ms: now_ms + DEDUP_WINDOW_MS,
                    };
                    let bytes = serde_json::to_vec(&entry).map_err(db_err)?;
                    dedup
                        .insert(k.as_slice(), bytes.as_slice())
                        .map_err(db_err)?;
                }
            }
            let seq = meta.next_seq;
            meta.next_seq += 1;
            let bytes = serde_json::to_vec(&msg).map_err(db_err)?;
            txn.open_table(MESSAGES)
                .map_err(db_err)?
                .insert(message_key(queue, seq).as_slice(), bytes.as_slice())
                .map_err(db_err)?;
            Self::save_meta(txn, &meta)?;
            Ok((
                SendOutput {
                    message_id: msg.message_id,
                    sequence_number: msg.sequence_number,
                },
                true,
            ))
        })
    }

    /// Receives up to `max` messages, making them invisible for `visibility`
    /// seconds (the queue's default when `None`). Also returns the earliest
    /// time (epoch ms) a currently invisible message becomes visible, so a
    /// long poll knows when to look again.
    ///
    /// FIFO: messages come in send order; a group whose oldest message is
    /// in flight (or delayed) yields nothing.
    pub fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Option<u64>,
        now_ms: u64,
        nonce: &mut dyn FnMut() -> String,
    ) -> Result<(Vec<Received>, Option<u64>), ServiceError> {
        self.write(|txn| {
            let meta = Self::load_meta(txn, queue)?;
            let vis_ms = visibility.unwrap_or(meta.visibility_timeout) * 1000;
            let retention_ms = meta.retention * 1000;
            let prefix = queue_prefix(queue);
            let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
            let mut blocked: Vec<String> = Vec::new();
            let mut next_wake: Option<u64> = None;
            let mut expired: Vec<Vec<u8>> = Vec::new();
            let mut taken: Vec<(Vec<u8>, StoredMessage)> = Vec::new();
            for entry in table.range(prefix.as_slice()..).map_err(db_err)? {
                let (k, v) = entry.map_err(db_err)?;
                let key = k.value();
                if !key.starts_with(&prefix) {
                    break;
                }
                let msg: StoredMessage = serde_json::from_slice(v.value()).map_err(db_err)?;
                if msg.sent_ms + retention_ms <= now_ms {
                    expired.push(key.to_vec());
                    continue;
                }
                let group = msg.group_id.clone().unwrap_or_default();
                if meta.fifo && blocked.contains(&group) {
                    continue;
                }
                if msg.visible_at_ms > now_ms {
                    next_wake =
                        Some(next_wake.map_or(msg.visible_at_ms, |w| w.min(msg.visible_at_ms)));
                    if meta.fifo {
                        blocked.push(group);
                    }
                    continue;
                }
                if taken.len() < max {
                    taken.push((key.to_vec(), msg));
                } else {
                    break;
                }
            }
            let changed = !expired.is_empty() || !taken.is_empty();
            for k in &expired {
                table.remove(k.as_slice()).map_err(db_err)?;
            }
            let mut out = Vec::with_capacity(taken.len());
            for (k, mut msg) in taken {
                msg.receive_count += 1;
                msg.first_receive_ms.get_or_insert(now_ms);
                msg.visible_at_ms = now_ms + vis_ms;
                let n = nonce();
                msg.receipt_nonce = Some(n.clone());
                let seq =
                    u64::from_be_bytes(k[k.len().saturating_sub(8)..].try_into().unwrap_or([0; 8]));
                let bytes = serde_json::to_vec(&msg).map_err(db_err)?;
                table
                    .insert(k.as_slice(), bytes.as_slice())
                    .map_err(db_err)?;
                out.push(Received {
                    receipt_handle: receipt_handle(queue, seq, &n),
                    message: msg,
                });
            }
            Ok(((out, next_wake), changed))
        })
    }

    /// Deletes the message of a receipt handle. A handle superseded by a
    /// later receive, or of an already deleted message, succeeds without
    /// effect (as SQS documents).
    pub fn delete(&self, queue: &str, handle: &str) -> Result<bool, ServiceError> {
        let (seq, nonce) = parse_receipt(queue, handle)?;
        self.write(|txn| {
            Self::load_meta(txn, queue)?;
            let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
            let key = message_key(queue, seq);
            let current = match table.get(key.as_slice()).map_err(db_err)? {
                Some(v) => {
                    let msg: StoredMessage = serde_json::from_slice(v.value()).map_err(db_err)?;
                    msg.receipt_nonce.as_deref() == Some(nonce.as_str())
                }
                None => false,
            };
            if current {
                table.remove(key.as_slice()).map_err(db_err)?;
            }
            Ok((current, current))
        })
    }

    /// Changes the visibility timeout of an in-flight message.
    pub fn change_visibility(
        &self,
        queue: &str,
        handle: &str,
        timeout_s: u64,
        now_ms: u64,
    ) -> Result<(), ServiceError> {
        let (seq, nonce) = parse_receipt(queue, handle)?;
        self.write(|txn| {
            Self::load_meta(txn, queue)?;
            let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
            let key = message_key(queue, seq);
            let msg = match table.get(key.as_slice()).map_err(db_err)? {
                Some(v) => {
                    Some(serde_json::from_slice::<StoredMessage>(v.value()).map_err(db_err)?)
                }
                None => None,
            };
            let Some(mut msg) = msg.filter(|m| {
                m.receipt_nonce.as_deref() == Some(nonce.as_str()) && m.visible_at_ms > now_ms
            }) else {
                return Err(ServiceError::client(
                    "MessageNotInflight",
                    "Message does not exist or is not available for visibility timeout change.",
                ));
            };
            msg.visible_at_ms = now_ms + timeout_s * 1000;
            let bytes = serde_json::to_vec(&msg).map_err(db_err)?;
            table
                .insert(key.as_slice(), bytes.as_slice())
                .map_err(db_err)?;
            Ok(((), true))
        })
    }

    /// Deletes every message of a queue (once per 60 seconds, as SQS allows).
    pub fn purge(&self, queue: &str, now_ms: u64) -> Result<(), ServiceError> {
        self.write(|txn| {
            let mut meta = Self::load_meta(txn, queue)?;
            if meta.last_purge_ms.is_some_and(|t| now_ms < t + 60_000) {
                return Err(ServiceError::client(
                    "PurgeQueueInProgress",
                    format!(
                        "Only one PurgeQueue operation on {queue} is allowed every 60 seconds."
                    ),
                ));
            }
            let prefix = queue_prefix(queue);
            let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
            let mut keys = Vec::new();
            for e in table.range(prefix.as_slice()..).map_err(db_err)? {
                let (k, _) = e.map_err(db_err)?;
                if !k.value().starts_with(&prefix) {
                    break;
                }
                keys.push(k.value().to_vec());
            }
            for k in keys {
                table.remove(k.as_slice()).map_err(db_err)?;
            }
            meta.last_purge_ms = Some(now_ms);
            Self::save_meta(txn, &meta)?;
            Ok(((), true))
        })
    }

    /// Up to `limit` of a queue's stored messages in send order, starting at
    /// sequence `from`, without receiving them (no visibility change): the
    /// console's read-only view. Also returns the sequence to continue from.
    pub fn peek(
        &self,
        queue: &str,
        from: u64,
        limit: usize,
    ) -> Result<(Vec<StoredMessage>, Option<u64>), ServiceError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(MESSAGES).map_err(db_err)?;
        let prefix = queue_prefix(queue);
        let start = message_key(queue, from);
        let mut out = Vec::new();
        for e in table.range(start.as_slice()..).map_err(db_err)? {
            let (k, v) = e.map_err(db_err)?;
            let Some(seq) = k.value().strip_prefix(prefix.as_slice()) else {
                break;
            };
            let seq = <[u8; 8]>::try_from(seq)
                .map(u64::from_be_bytes)
                .map_err(db_err)?;
            if out.len() == limit {
                return Ok((out, Some(seq)));
            }
            out.push(serde_json::from_slice(v.value()).map_err(db_err)?);
        }
        Ok((out, None))
    }

    /// (visible, in flight, delayed) message counts.
    pub fn counts(&self, queue: &str, now_ms: u64) -> Result<(u64, u64, u64), ServiceError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(MESSAGES).map_err(db_err)?;
        let prefix = queue_prefix(queue);
        let (mut visible, mut inflight, mut delayed) = (0, 0, 0);
        for e in table.range(prefix.as_slice()..).map_err(db_err)? {
            let (k, v) = e.map_err(db_err)?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            let m: StoredMessage = serde_json::from_slice(v.value()).map_err(db_err)?;
            if m.visible_at_ms <= now_ms {
                visible += 1;
            } else if m.receive_count > 0 {
                inflight += 1;
            } else {
                delayed += 1;
            }
        }
        Ok((visible, inflight, delayed))
    }
}
