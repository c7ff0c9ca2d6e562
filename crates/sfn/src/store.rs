//! Durable storage of Standard executions, their histories and user-created
//! state machines, in one redb file (`<data_dir>/sfn.redb`).
//!
//! Reads go straight to redb read transactions (they run concurrently with
//! the writer). All writes go through one writer thread fed by a channel; it
//! applies everything queued since its last commit in ONE write transaction
//! (group commit), so a burst of history events costs one fsync instead of
//! one per event. Every commit is durable (redb's default
//! `Durability::Immediate`: the commit returns after its fsync); only the
//! number of commits is reduced.
//!
//! # What a crash can lose
//! [`Store::append_history`], [`Store::append_event`], [`Store::put_execution`]
//! and the machine writes return before their commit: whatever was queued
//! after the last commit that finished before a crash is lost (normally the
//! last few milliseconds of events; more if the writer was backed up).
//! Nothing else is: a commit is all-or-nothing and commits apply writes in
//! queue order, so each execution's stored history is always a gap-free
//! prefix of what was appended for it. [`Store::sync`] waits until every
//! write queued before it is committed (durable), so callers write an
//! execution record and `sync` before they report a start or a finish; the
//! sync also makes every event appended before it durable. An execution
//! whose RUNNING record survived but whose last events did not is resumed by
//! replaying its stored prefix (`replay`), which re-creates the lost events.
//! [`CommitMode::PerEvent`] (one transaction, one fsync, per write) exists
//! to measure the difference.
//!
//! # Memory
//! redb keeps a page cache of 1 GiB by default, which a long-running stack fills as the file
//! grows (the soak of issue 13 saw the stack's RSS climb from 40 MiB to 1.1 GiB over 139,000
//! executions). The store opens the file with [`DEFAULT_CACHE_BYTES`] instead (the OS page
//! cache still holds what redb evicts); `cargo bench -p wsflow-sfn --bench page_cache` measures
//! the durable throughput with both sizes side by side.

//! # History layout
//! One redb row per execution per commit, not per event: the writer packs
//! the events a batch holds for one execution into one row keyed
//! `(execution ARN, smallest event id in the row)`, whose value is a
//! sequence of `[id: u64 LE][length: u32 LE][event JSON]` frames after a
//! tag byte (`CHUNK_TAG`, 1). A batch of a few thousand events from 64 executions
//! is then 64 B-tree inserts instead of thousands: appending alone went
//! from ~160k to ~450-520k events/s (benches/throughput.rs, "store alone").
//! Rows written by older versions (one event's JSON per row, starting with
//! `{`) are still read. A commit's cost grows with the bytes it writes
//! (~500 bytes per event, with redb's copy-on-write pages), which is why
//! the writer does not linger to gather bigger batches (see `collect`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Instant;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::Value;
use tokio::sync::oneshot;
use wsflow_asl::HistoryEvent;

use crate::observe::{Changes, Observer, SfnChange, execution_change};
use crate::records::{ExecutionRecord, MachineRecord};

const EXECUTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("executions");
const HISTORY: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("history");
const MACHINES: TableDefinition<&str, &[u8]> = TableDefinition::new("machines");
/// Definition version (SHA-256 hex) → definition text.
const DEFINITIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("definitions");

/// Most writes applied in one transaction.
const MAX_BATCH: usize = 4096;

/// First byte of a packed history row (an event's JSON starts with `{`).
const CHUNK_TAG: u8 = 1;

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
    Definition(String, Vec<u8>),
    Sync(oneshot::Sender<Result<(), StoreError>>),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    tx: mpsc::Sender<Op>,
    observer: Observer<Changes>,
}

/// The redb page cache the store asks for: 64 MiB (redb's default is 1 GiB).
pub const DEFAULT_CACHE_BYTES: usize = 64 * 1024 * 1024;

impl Store {
    /// Opens (creating if needed) the database file and starts its writer thread, with a
    /// page cache of [`DEFAULT_CACHE_BYTES`].
    pub fn open(path: &Path, mode: CommitMode) -> Result<Store, StoreError> {
        Self::open_with_cache(path, mode, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with a page cache of `cache_bytes`.
    pub fn open_with_cache(
        path: &Path,
        mode: CommitMode,
        cache_bytes: usize,
    ) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
        }
        let db = Arc::new(
            Database::builder()
                .set_cache_size(cache_bytes)
                .create(path)
                .map_err(db_err)?,
        );
        let w = db.begin_write().map_err(db_err)?;
        w.open_table(EXECUTIONS).map_err(db_err)?;
        w.open_table(HISTORY).map_err(db_err)?;
        w.open_table(MACHINES).map_err(db_err)?;
        w.open_table(DEFINITIONS).map_err(db_err)?;
        w.commit().map_err(db_err)?;
        let (tx, rx) = mpsc::channel();
        let writer_db = db.clone();
        let observer = Observer::new();
        let announce = observer.clone();
        std::thread::Builder::new()
            .name("sfn-store-writer".into())
            .spawn(move || writer(writer_db, rx, mode, announce))
            .map_err(|e| StoreError(e.to_string()))?;
        Ok(Store { db, tx, observer })
    }

    /// Where committed execution records and history events are announced
    /// (see [`crate::observe`]).
    pub fn observer(&self) -> &Observer<Changes> {
        &self.observer
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

    /// Queues a history event append (an event already in AWS JSON form).
    pub fn append_event(&self, execution_arn: &str, id: u64, event: &Value) {
        match serde_json::to_vec(event) {
            Ok(v) => self.send(Op::Event(execution_arn.to_owned(), id, v)),
            Err(e) => tracing::error!("encoding history event: {e}"),
        }
    }

    /// Queues an engine history event append, under `event.id`: the event is
    /// encoded straight to its AWS JSON bytes (no intermediate
    /// `serde_json::Value`). Stored events read back through
    /// [`Store::history`] exactly as [`HistoryEvent::to_json`] shows them.
    pub fn append_history(&self, execution_arn: &str, event: &HistoryEvent) {
        match serde_json::to_vec(event) {
            Ok(v) => self.send(Op::Event(execution_arn.to_owned(), event.id, v)),
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

    /// Queues the text of a definition version (idempotent).
    pub fn put_definition(&self, version: &str, definition: &str) {
        self.send(Op::Definition(
            version.to_owned(),
            definition.as_bytes().to_vec(),
        ));
    }

    /// The text of a definition version, if stored.
    pub fn definition(&self, version: &str) -> Result<Option<String>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(DEFINITIONS).map_err(db_err)?;
        match t.get(version).map_err(db_err)? {
            Some(v) => String::from_utf8(v.value().to_vec())
                .map(Some)
                .map_err(|e| StoreError(format!("corrupt definition: {e}"))),
            None => Ok(None),
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

    /// The stored history of an execution, in event id order (an id appended
    /// more than once appears once: the copy appended last, when both were in
    /// the same commit or the later one started a row at that id).
    pub fn history(&self, arn: &str) -> Result<Vec<Value>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(HISTORY).map_err(db_err)?;
        let mut events: Vec<(u64, u64, Value)> = Vec::new();
        for (row, item) in t
            .range((arn, 0u64)..=(arn, u64::MAX))
            .map_err(db_err)?
            .enumerate()
        {
            let (k, v) = item.map_err(db_err)?;
            let (_, first_id) = k.value();
            let bytes = v.value();
            if bytes.first() == Some(&CHUNK_TAG) {
                for frame in Frames(&bytes[1..]) {
                    let (id, json) = frame?;
                    events.push((id, row as u64, decode(json)?));
                }
            } else {
                events.push((first_id, row as u64, decode(bytes)?));
            }
        }
        // Usually sorted already (rows are packed in id order and keyed by
        // their first id); the stable sort keeps a repeated id's copies in
        // append order within a row, and dedup keeps the last one.
        events.sort_by_key(|(id, row, _)| (*id, *row));
        events.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        Ok(events.into_iter().map(|(_, _, v)| v).collect())
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

/// The `(id, event JSON)` frames of a packed history row (after its tag).
struct Frames<'a>(&'a [u8]);

impl<'a> Iterator for Frames<'a> {
    type Item = Result<(u64, &'a [u8]), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let frame = (|| {
            let (id, rest) = self.0.split_first_chunk::<8>()?;
            let (len, rest) = rest.split_first_chunk::<4>()?;
            let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
            (rest.len() >= len).then(|| (u64::from_le_bytes(*id), rest.split_at(len)))
        })();
        match frame {
            Some((id, (json, rest))) => {
                self.0 = rest;
                Some(Ok((id, json)))
            }
            None => {
                self.0 = &[];
                Some(Err(StoreError(
                    "corrupt history row: truncated frame".into(),
                )))
            }
        }
    }
}

/// Two rows stored under the same key as one: `old`'s frames, then `new`'s.
fn merge(first_id: u64, old: &[u8], new: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut row = vec![CHUNK_TAG];
    let old_frames = match old.first() {
        Some(&CHUNK_TAG) => &old[1..],
        _ => {
            // A row of an older version: one event, keyed by its id.
            let len = u32::try_from(old.len()).map_err(|_| {
                StoreError(format!("history event {first_id} is larger than 4 GiB"))
            })?;
            row.extend_from_slice(&first_id.to_le_bytes());
            row.extend_from_slice(&len.to_le_bytes());
            old
        }
    };
    row.extend_from_slice(old_frames);
    row.extend_from_slice(new.get(1..).unwrap_or_default());
    Ok(row)
}

/// Packs one execution's events of a batch into a history row: the
/// smallest id (the row's key) and the row bytes, frames in id order.
fn pack(events: &mut [(u64, &[u8])]) -> Result<(u64, Vec<u8>), StoreError> {
    events.sort_by_key(|(id, _)| *id);
    let size: usize = events.iter().map(|(_, e)| 12 + e.len()).sum();
    let mut row = Vec::with_capacity(1 + size);
    row.push(CHUNK_TAG);
    for (id, json) in events.iter() {
        let len = u32::try_from(json.len())
            .map_err(|_| StoreError(format!("history event {id} is larger than 4 GiB")))?;
        row.extend_from_slice(&id.to_le_bytes());
        row.extend_from_slice(&len.to_le_bytes());
        row.extend_from_slice(json);
    }
    Ok((events.first().map_or(0, |(id, _)| *id), row))
}

/// The next batch: `first` and everything already queued (group mode).
///
/// No linger: the writer starts the next transaction as soon as the last one
/// is committed. Measured (benches/throughput.rs), waiting up to one commit
/// time for more writes made throughput worse (~80k vs ~90-108k transitions/s):
/// a commit's cost here grows with the bytes it writes, so a smaller commit
/// started at once is cheaper than idle time spent gathering a bigger one.
fn collect(rx: &mpsc::Receiver<Op>, first: Op, mode: CommitMode) -> Vec<Op> {
    let mut batch = vec![first];
    if mode == CommitMode::Group {
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
    }
    batch
}

/// The writer loop. A failed commit is sticky: its writes are lost, so every
/// later `sync` reports the failure too (a caller waiting for durability must
/// never be told that writes queued after a lost batch are durable, since the
/// histories would then have gaps).
fn writer(
    db: Arc<Database>,
    rx: mpsc::Receiver<Op>,
    mode: CommitMode,
    observer: Observer<Changes>,
) {
    let mut failed: Option<StoreError> = None;
    while let Ok(first) = rx.recv() {
        let batch = collect(&rx, first, mode);
        let started = Instant::now();
        let result = match &failed {
            Some(e) => Err(e.clone()),
            None => apply(&db, &batch),
        };
        if let Err(e) = &result {
            failed.get_or_insert_with(|| e.clone());
        }
        let took = started.elapsed();
        tracing::trace!(ops = batch.len(), ?took, "sfn store commit");
        if let Err(e) = &result {
            tracing::error!("{e}");
        }
        // Announced only once durable, and only while someone watches.
        let announce = result.is_ok() && observer.is_watched();
        let mut changes = Vec::new();
        for op in batch {
            match op {
                Op::Sync(ack) => {
                    let _ = ack.send(result.clone());
                }
                Op::Execution(arn, record) if announce => {
                    changes.extend(execution_change(arn, &record));
                }
                Op::Event(arn, id, json) if announce => changes.push(SfnChange::Event {
                    execution_arn: arn,
                    id,
                    json: json.into(),
                }),
                _ => {}
            }
        }
        if !changes.is_empty() {
            observer.emit(|| Arc::new(changes));
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
        let mut definitions = w.open_table(DEFINITIONS).map_err(db_err)?;
        // One row per execution: its events of this batch, packed.
        let mut rows: HashMap<&str, Vec<(u64, &[u8])>> = HashMap::new();
        for op in batch {
            match op {
                Op::Execution(k, v) => {
                    executions
                        .insert(k.as_str(), v.as_slice())
                        .map_err(db_err)?;
                }
                Op::Event(k, id, v) => {
                    rows.entry(k.as_str())
                        .or_default()
                        .push((*id, v.as_slice()));
                }
                Op::Machine(k, v) => {
                    machines.insert(k.as_str(), v.as_slice()).map_err(db_err)?;
                }
                Op::DeleteMachine(k) => {
                    machines.remove(k.as_str()).map_err(db_err)?;
                }
                Op::Definition(k, v) => {
                    definitions
                        .insert(k.as_str(), v.as_slice())
                        .map_err(db_err)?;
                }
                Op::Sync(_) => {}
            }
        }
        for (arn, mut events) in rows {
            let (first_id, row) = pack(&mut events)?;
            let replaced = history
                .insert((arn, first_id), row.as_slice())
                .map_err(db_err)?
                .map(|old| old.value().to_vec());
            if let Some(old) = replaced {
                // A row already starts at this id (an id appended again):
                // keep both rows' events, the new ones after the old.
                history
                    .insert((arn, first_id), merge(first_id, &old, &row)?.as_slice())
                    .map_err(db_err)?;
            }
        }
    }
    w.commit().map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Status;
    use std::time::Duration;

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
            test_case: None,
            definition_version: None,
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
    fn engine_event(id: u64, with_details: bool) -> HistoryEvent {
        HistoryEvent {
            id,
            previous_event_id: id - 1,
            timestamp_millis: 1_763_790_000_000 + id as i64,
            event_type: "PassStateEntered".into(),
            details: with_details.then(|| {
                (
                    "stateEnteredEventDetails".into(),
                    serde_json::json!({"name": format!("S{id}"), "input": "{\"a\":\"\\n\"}"}),
                )
            }),
        }
    }

    /// Opens the file again once the previous handle's writer has let go.
    fn reopen(path: &Path) -> Store {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match Store::open(path, CommitMode::Group) {
                Ok(s) => return s,
                Err(e) if Instant::now() > deadline => panic!("reopen: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    #[tokio::test]
    async fn append_history_reads_back_as_aws_json_across_commits_and_a_reopen() {
        for mode in [CommitMode::Group, CommitMode::PerEvent] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sfn.redb");
            let store = Store::open(&path, mode).unwrap();
            let events: Vec<HistoryEvent> =
                (1..=300).map(|id| engine_event(id, id % 3 != 0)).collect();
            // Out of order within a commit, and spread over several commits;
            // two executions interleaved (one row each per commit).
            for chunk in events.chunks(70) {
                for e in chunk.iter().rev() {
                    store.append_history("x:a:1", e);
                    store.append_history("x:b:1", e);
                }
                store.sync().await.unwrap();
            }
            let want: Vec<Value> = events.iter().map(HistoryEvent::to_json).collect();
            assert_eq!(store.history("x:a:1").unwrap(), want, "{mode:?}");
            drop(store);
            let store = reopen(&path);
            assert_eq!(
                store.history("x:a:1").unwrap(),
                want,
                "{mode:?} after reopen"
            );
            assert_eq!(
                store.history("x:b:1").unwrap(),
                want,
                "{mode:?} after reopen"
            );
            assert!(store.history("x:a:").unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn many_concurrent_appenders_are_all_durable_after_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sfn.redb");
        let store = Store::open(&path, CommitMode::Group).unwrap();
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let arn = format!("x:t:{t}");
                for id in 1..=500 {
                    store.append_history(&arn, &engine_event(id, true));
                    if id % 100 == 0 {
                        store.sync().await.unwrap();
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        drop(store);
        let store = reopen(&path);
        for t in 0..8 {
            let ids: Vec<u64> = store
                .history(&format!("x:t:{t}"))
                .unwrap()
                .iter()
                .map(|e| e["id"].as_u64().unwrap())
                .collect();
            assert_eq!(ids, (1..=500).collect::<Vec<_>>(), "x:t:{t}");
        }
    }

    #[tokio::test]
    async fn rows_of_older_versions_and_a_repeated_id_read_back_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sfn.redb"), CommitMode::Group).unwrap();
        // One event per row, as earlier versions stored them.
        let w = store.db.begin_write().unwrap();
        {
            let mut t = w.open_table(HISTORY).unwrap();
            for id in 1..=3u64 {
                let json = serde_json::to_vec(&serde_json::json!({"id": id, "old": true})).unwrap();
                t.insert(("x:a:1", id), json.as_slice()).unwrap();
            }
        }
        w.commit().unwrap();
        // A row that starts at an id an older row already has (3) merges
        // with it; the copy appended last wins.
        store.append_event("x:a:1", 4, &serde_json::json!({"id": 4}));
        store.append_event("x:a:1", 3, &serde_json::json!({"id": 3, "again": true}));
        store.sync().await.unwrap();
        store.append_event("x:a:1", 5, &serde_json::json!({"id": 5}));
        store.sync().await.unwrap();
        let history = store.history("x:a:1").unwrap();
        let ids: Vec<u64> = history.iter().map(|e| e["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        assert_eq!(history[0]["old"], true);
        assert_eq!(history[2]["again"], true);
    }

    #[test]
    fn a_truncated_row_is_an_error_not_a_panic() {
        let (_, mut row) = pack(&mut [(1, b"{}".as_slice()), (2, b"{}".as_slice())]).unwrap();
        row.truncate(row.len() - 1);
        let frames: Vec<_> = Frames(&row[1..]).collect();
        assert_eq!(frames.len(), 2);
        assert!(frames[0].is_ok());
        assert!(frames[1].is_err());
    }
}
