//! What the gateway announces to watchers (the web console): connections
//! opening and closing and every data frame in or out, plus read-only views
//! of the open connections.
//!
//! Emission goes through [`Observer::emit`]: while nobody watches, a frame
//! costs one atomic load; while someone does, an event holding the frame's
//! bytes (a reference count, not a copy) and the connection id.

use std::sync::Arc;

use bytes::Bytes;
pub use wsflow_aws_wire::observe::{Observed, Observer, Subscription};

/// How a connection was opened: what its handshake carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSummary {
    /// The connection id.
    pub connection_id: Arc<str>,
    /// The request path of the handshake.
    pub path: String,
    /// The raw query string (without `?`), as the client sent it.
    pub query_string: String,
    /// The headers `$connect` saw (the client's plus API Gateway's), sorted by name.
    pub headers: Vec<(String, String)>,
    /// The client's IP address.
    pub source_ip: String,
    /// Milliseconds since the epoch at which `$connect` started.
    pub connected_at_millis: u64,
}

/// An open connection, as [`crate::Gateway::connections`] lists it.
#[derive(Debug, Clone)]
pub struct OpenConnection {
    /// Its handshake.
    pub summary: Arc<ConnectionSummary>,
    /// When the client last sent a frame (milliseconds since the epoch).
    pub last_active_millis: u64,
}

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the client.
    In,
    /// To the client.
    Out,
}

/// One announcement.
#[derive(Debug, Clone)]
pub enum GatewayEvent {
    /// A connection is open (after `$connect` accepted it).
    Opened(Arc<ConnectionSummary>),
    /// A connection closed, with this close code and reason.
    Closed {
        /// The connection id.
        connection_id: Arc<str>,
        /// The close code `$disconnect` gets.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// A data frame.
    Frame {
        /// The connection id.
        connection_id: Arc<str>,
        /// In or out.
        direction: Direction,
        /// Milliseconds since the epoch.
        at_millis: u64,
        /// Whether it is a binary frame.
        binary: bool,
        /// The payload.
        data: Bytes,
    },
}
