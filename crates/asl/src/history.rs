//! Execution history: events in the shape of AWS's `GetExecutionHistory`
//! (`{"timestamp", "type", "id", "previousEventId", "<kind>EventDetails": {…}}`).
//! Recording is skipped entirely when no [`HistorySink`] is given.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use std::sync::Mutex;

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based event id.
    pub id: u64,
    /// Id of the event this one follows (0 for the first).
    pub previous_event_id: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_millis: i64,
    /// Event type, e.g. `PassStateEntered`.
    pub event_type: String,
    /// Details key (e.g. `stateEnteredEventDetails`) and value, if any.
    pub details: Option<(String, Value)>,
}

impl HistoryEvent {
    /// The event as AWS JSON (timestamps as epoch seconds, like the AWS CLI's JSON output).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("timestamp", &(self.timestamp_millis as f64 / 1000.0))?;
        m.serialize_entry("type", &self.event_type)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("previousEventId", &self.previous_event_id)?;
        if let Some((k, v)) = &self.details {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Receives history events as the execution produces them.
pub trait HistorySink: Send + Sync {
    /// Records one event (ids are already assigned).
    fn record(&self, event: HistoryEvent);

    /// Records one event and returns the time the history gives it: its own
    /// timestamp, unless the sink replays a stored history, in which case an
    /// event already stored keeps its original time. The engine measures a
    /// state's deadlines (Wait) from the time its entered event records.
    fn record_timed(&self, event: HistoryEvent) -> i64 {
        let at = event.timestamp_millis;
        self.record(event);
        at
    }
}

/// A [`HistorySink`] that keeps events in memory.
#[derive(Debug, Default)]
pub struct VecHistory {
    events: Mutex<Vec<HistoryEvent>>,
}

impl VecHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }
    /// The events recorded so far.
    pub fn events(&self) -> Vec<HistoryEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl HistorySink for VecHistory {
    fn record(&self, event: HistoryEvent) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event);
        }
    }
}
