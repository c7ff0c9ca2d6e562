//! The frame log: the latest WebSocket frames in and out of every
//! connection, for the connection pages.
//!
//! It subscribes to the gateway's observer on the console's first request
//! (so a stack nobody looks at pays nothing for it) and keeps the last
//! [`CAPACITY`] frames of all connections, each cut to [`PREVIEW`] bytes: at
//! most a few MiB whatever the traffic.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use wsflow_gateway::{
    Gateway,
    observe::{Direction, GatewayEvent, Observed},
};

/// Frames kept (all connections together).
pub const CAPACITY: usize = 5000;
/// Bytes of a frame kept.
pub const PREVIEW: usize = 1024;

/// One logged frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The connection.
    pub connection_id: Arc<str>,
    /// In or out.
    pub direction: Direction,
    /// Epoch milliseconds.
    pub at_millis: u64,
    /// The frame's size in bytes.
    pub len: usize,
    /// Its first [`PREVIEW`] bytes (UTF-8, lossy for binary frames).
    pub preview: String,
}

impl Frame {
    /// A log entry for a frame announcement.
    pub fn from_event(e: &GatewayEvent) -> Option<Frame> {
        let GatewayEvent::Frame {
            connection_id,
            direction,
            at_millis,
            data,
            ..
        } = e
        else {
            return None;
        };
        let cut = &data[..data.len().min(PREVIEW)];
        Some(Frame {
            connection_id: Arc::clone(connection_id),
            direction: *direction,
            at_millis: *at_millis,
            len: data.len(),
            preview: String::from_utf8_lossy(cut).into_owned(),
        })
    }
}

/// The log (shared with its collector task).
#[derive(Debug, Clone)]
pub struct FrameLog {
    frames: Arc<Mutex<VecDeque<Frame>>>,
    /// Epoch milliseconds at which logging started.
    pub since_millis: u64,
}

impl FrameLog {
    /// Subscribes to `gateway` and logs frames until the gateway is gone.
    pub fn start(gateway: &Gateway) -> FrameLog {
        let log = FrameLog {
            frames: Arc::new(Mutex::new(VecDeque::new())),
            since_millis: now_millis(),
        };
        let mut sub = gateway.subscribe();
        let frames = Arc::clone(&log.frames);
        tokio::spawn(async move {
            while let Some(o) = sub.recv().await {
                if let Observed::Event(e) = o
                    && let Some(f) = Frame::from_event(&e)
                {
                    let mut q = frames.lock().unwrap_or_else(|p| p.into_inner());
                    if q.len() == CAPACITY {
                        q.pop_front();
                    }
                    q.push_back(f);
                }
            }
        });
        log
    }

    /// The last `max` frames of one connection, oldest first.
    pub fn of(&self, connection_id: &str, max: usize) -> Vec<Frame> {
        let q = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Frame> = q
            .iter()
            .rev()
            .filter(|f| &*f.connection_id == connection_id)
            .take(max)
            .cloned()
            .collect();
        out.reverse();
        out
    }
}

/// Epoch milliseconds now.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
