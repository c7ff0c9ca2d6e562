//! Helpers for building history event details.

use serde_json::Value;

/// Namespace for detail builders.
pub(crate) struct Ev;

impl Ev {
    /// `(key, value)` pair for [`crate::HistoryEvent::details`].
    pub fn details(key: &str, v: Value) -> (String, Value) {
        (key.to_string(), v)
    }
}
