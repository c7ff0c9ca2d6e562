//! The registry of open connections: what `@connections` and
//! [`crate::Gateway::post_to_connection`] look ids up in.
//!
//! Each connection has a bounded channel to its writer task, so posting is a
//! map look-up plus a channel send (no lock held across an await). The map is
//! split into shards by id hash to keep many posters from contending on one
//! lock.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::extract::ws::Message;
use tokio::sync::{mpsc, oneshot};

use crate::{events::ConnectionInfo, observe::ConnectionSummary};

/// What the writer task of a connection is told to do.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// Send a data frame.
    Message(Message),
    /// Send a close frame with this code and reason, then stop.
    Close { code: u16, reason: String },
    /// Flush what is pending (e.g. tungstenite's reply to the client's close
    /// frame) and stop.
    Shutdown,
}

/// A request to close a connection from the server side.
#[derive(Debug)]
pub(crate) struct CloseRequest {
    pub(crate) code: u16,
    pub(crate) reason: String,
}

/// One open connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) info: ConnectionInfo,
    /// The handshake, for the console.
    pub(crate) summary: Arc<ConnectionSummary>,
    pub(crate) outbound: mpsc::Sender<Outbound>,
    last_active: AtomicU64,
    close: Mutex<Option<oneshot::Sender<CloseRequest>>>,
}

impl Connection {
    pub(crate) fn new(
        info: ConnectionInfo,
        summary: Arc<ConnectionSummary>,
        outbound: mpsc::Sender<Outbound>,
        close: oneshot::Sender<CloseRequest>,
    ) -> Self {
        let now = info.connected_at;
        Self {
            info,
            summary,
            outbound,
            last_active: AtomicU64::new(now),
            close: Mutex::new(Some(close)),
        }
    }

    /// Records activity (milliseconds since the epoch).
    pub(crate) fn touch(&self, now_ms: u64) {
        self.last_active.store(now_ms, Ordering::Relaxed);
    }

    /// When the client last sent a frame.
    pub(crate) fn last_active(&self) -> u64 {
        self.last_active.load(Ordering::Relaxed)
    }

    /// Asks the connection's task to close the socket; `false` if it was
    /// already asked (or has ended).
    pub(crate) fn request_close(&self, code: u16, reason: &str) -> bool {
        let sender = self.close.lock().ok().and_then(|mut s| s.take());
        match sender {
            Some(tx) => tx
                .send(CloseRequest {
                    code,
                    reason: reason.to_owned(),
                })
                .is_ok(),
            None => false,
        }
    }
}

const SHARDS: usize = 16;

/// Open connections by id.
pub(crate) struct Registry {
    shards: Vec<RwLock<HashMap<String, Arc<Connection>>>>,
    hasher: RandomState,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, id: &str) -> &RwLock<HashMap<String, Arc<Connection>>> {
        &self.shards[(self.hasher.hash_one(id) as usize) % SHARDS]
    }

    pub(crate) fn insert(&self, conn: Arc<Connection>) {
        let id = conn.info.connection_id.clone();
        if let Ok(mut m) = self.shard(&id).write() {
            m.insert(id, conn);
        }
    }

    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Connection>> {
        self.shard(id).write().ok().and_then(|mut m| m.remove(id))
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.shard(id).read().ok().and_then(|m| m.get(id).cloned())
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    pub(crate) fn all(&self) -> Vec<Arc<Connection>> {
        self.shards
            .iter()
            .flat_map(|s| {
                s.read()
                    .map(|m| m.values().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .collect()
    }
}
