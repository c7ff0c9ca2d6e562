//! Durable storage of Standard executions, their histories and user-created
//! state machines, in one redb file (`<data_dir>/sfn.redb`).
//!
//! Reads go straight to redb read transactions (they run concurrently with
//! the writer). All writes go through one writer thread fed by a channel; it
//! applies everything queued since its last commit in ONE write transaction
//! (group commit), so a burst of history events costs one fsync instead of
//! one per event. The durability trade-off: [`Store::append_event`] returns
//! before its commit, so events recorded in the last few milliseconds before a
//! crash can be lost; execution records (start, stop) are written with
//! [`Store::put_execution`] + [`Store::sync`], which wait for the commit, so a
//! started or finished execution is never reported before it is durable.
//! [`CommitMode::PerEvent`] (one transaction per write) exists to measure
//! the difference.

use std::path::Path;
use std::sync::{Arc, mpsc};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::records::{ExecutionRecord, MachineRecord};

const EXECUTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("executions");
const HISTORY: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("history");
const MACHINES: TableDefinition<&str, &[u8]> = TableDefinition::new("machines");

/// Most writes applied in one transaction.
const MAX_BATCH: usize = 4096;

/// A storage failure (I/O, corrupt file, encoding).
#[derive(Debug, Clone, thiserror::Error)]
#[error("sfn store: {0}")]
pub struct StoreError(String);

fn db_err(e: impl Into<redb::Error>) -> StoreError {
    StoreError(e.into().to_string())
}

/// How the writer thread groups writes into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitMode {
    /// Everything queued since the last commit goes into one transaction.
    #[default]
    Group,
    /// One transaction (one fsync) per write.
    PerEvent,
}

enum Op {
    Execution(String, Vec<u8>),
    Event(String, u64, Vec<u8>),
    Machine(String, Vec<u8>),
    DeleteMachine(String),
    Sync(oneshot::Sender<Result<(), StoreError>>),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    tx: mpsc::Sender<Op>,
}

impl Store {
    /// Opens (creating if needed) the database file and starts its writer thread.
    pub fn open(path: &Path, mode: CommitMode) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
        }
        let db = Arc::new(Database::create(path).map_err(db_err)?);
        let w = db.begin_write().map_err(db_err)?;
        w.open_table(EXECUTIONS).map_err(db_err)?;
        w.open_table(HISTORY).map_err(db_err)?;
        w.open_table(MACHINES).map_err(db_err)?;
        w.commit().map_err(db_err)?;
        let (tx, rx) = mpsc::channel();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("sfn-store-writer".into())
            .spawn(move || writer(writer_db, rx, mode))
            .map_err(|e| StoreError(e.to_string()))?;
        Ok(Store { db, tx })
    }

    fn send(&self, op: Op) {
        if self.tx.send(op).is_err() {
            tracing::error!("sfn store writer has stopped; a write was dropped");
        }
    }

    /// Queues an execution record write.
    pub fn put_execution(&self, rec: &ExecutionRecord) {
        match serde_json::to_vec(rec) {
            Ok(v) => self.send(Op::Execution(rec.execution_arn.clone(), v)),
            Err(e) => tracing::error!("encoding execution record: {e}"),
        }
    }

    /// Queues a history event append.
    pub fn append_event(&self, execution_arn: &str, id: u64, event: &Value) {
        match serde_json::to_vec(event) {
            Ok(v) => self.send(Op::Event(execution_arn.to_owned(), id, v)),
            Err(e) => tracing::error!("encoding history event: {e}"),
        }
    }

    /// Queues a machine record write.
    pub fn put_machine(&self, arn: &str, rec: &MachineRecord) {
        match serde_json::to_vec(rec) {
            Ok(v) => self.send(Op::Machine(arn.to_owned(), v)),
            Err(e) => tracing::error!("encoding machine record: {e}"),
        }
    }

    /// Queues a machine record removal.
    pub fn delete_machine(&self, arn: &str) {
        self.send(Op::DeleteMachine(arn.to_owned()));
    }

    /// Waits until every write queued before this call is committed.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Sync(tx));
        rx.await
            .map_err(|_| StoreError("writer thread stopped".into()))?
    }

    /// One execution record.
    pub fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(EXECUTIONS).map_err(db_err)?;
        match t.get(arn).map_err(db_err)? {
            Some(v) => decode(v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// All execution records whose ARN starts with `prefix`.
    pub fn executions_with_prefix(&self, prefix: &str) -> Result<Vec<ExecutionRecord>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(EXECUTIONS).map_err(db_err)?;
        let mut out = Vec::new();
        for item in t.range(prefix..).map_err(db_err)? {
            let (k, v) = item.map_err(db_err)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    /// The stored history of an execution, in event order.
    pub fn history(&self, arn: &str) -> Result<Vec<Value>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(HISTORY).map_err(db_err)?;
        let mut out = Vec::new();
        for item in t.range((arn, 0u64)..=(arn, u64::MAX)).map_err(db_err)? {
            let (_, v) = item.map_err(db_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(|e| StoreError(e.to_string()))?);
        }
        Ok(out)
    }

    /// All user-created machines, with their ARNs.
    pub fn machines(&self) -> Result<Vec<(String, MachineRecord)>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(MACHINES).map_err(db_err)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(db_err)? {
            let (k, v) = item.map_err(db_err)?;
            out.push((k.value().to_owned(), decode(v.value())?));
        }
        Ok(out)
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError(format!("corrupt record: {e}")))
}

fn writer(db: Arc<Database>, rx: mpsc::Receiver<Op>, mode: CommitMode) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        if mode == CommitMode::Group {
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(_) => break,
                }
            }
        }
        let result = apply(&db, &batch);
        if let Err(e) = &result {
            tracing::error!("{e}");
        }
        for op in batch {
            if let Op::Sync(ack) = op {
                let _ = ack.send(result.clone());
            }
        }
    }
}

fn apply(db: &Database, batch: &[Op]) -> Result<(), StoreError> {
    if batch.iter().all(|op| matches!(op, Op::Sync(_))) {
        return Ok(());
    }
    let w = db.begin_write().map_err(db_err)?;
    {
        let mut executions = w.open_table(EXECUTIONS).map_err(db_err)?;
        let mut history = w.open_table(HISTORY).map_err(db_err)?;
        let mut machines = w.open_table(MACHINES).map_err(db_err)?;
        for op in batch {
            match op {
                Op::Execution(k, v) => {
                    executions
                        .insert(k.as_str(), v.as_slice())
                        .map_err(db_err)?;
                }
                Op::Event(k, id, v) => {
                    history
                        .insert((k.as_str(), *id), v.as_slice())
                        .map_err(db_err)?;
                }
                Op::Machine(k, v) => {
                    machines.insert(k.as_str(), v.as_slice()).map_err(db_err)?;
                }
                Op::DeleteMachine(k) => {
                    machines.remove(k.as_str()).map_err(db_err)?;
                }
                Op::Sync(_) => {}
            }
        }
    }
    w.commit().map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Status;

    fn record(arn: &str) -> ExecutionRecord {
        ExecutionRecord {
            execution_arn: arn.into(),
            state_machine_arn: "m".into(),
            name: "n".into(),
            status: Status::Running,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            start_millis: 1,
            stop_millis: None,
        }
    }

    #[tokio::test]
    async fn both_commit_modes_store_records_and_ordered_history() {
        for mode in [CommitMode::Group, CommitMode::PerEvent] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("sfn.redb"), mode).unwrap();
            store.put_execution(&record("x:a:1"));
            store.put_execution(&record("x:b:1"));
            for id in (1..=12u64).rev() {
                store.append_event("x:a:1", id, &serde_json::json!({ "id": id }));
            }
            store.sync().await.unwrap();
            let ids: Vec<u64> = store
                .history("x:a:1")
                .unwrap()
                .iter()
                .map(|e| e["id"].as_u64().unwrap())
                .collect();
            assert_eq!(ids, (1..=12).collect::<Vec<_>>(), "{mode:?}");
            assert!(store.history("x:b:1").unwrap().is_empty());
            assert_eq!(store.executions_with_prefix("x:a:").unwrap().len(), 1);
            assert_eq!(store.execution("x:b:1").unwrap(), Some(record("x:b:1")));
            assert_eq!(store.execution("x:c:1").unwrap(), None);
        }
    }
}
