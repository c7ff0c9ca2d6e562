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

macro_rules! names {
    ($fn:ident, $suffix:literal) => {
        /// The event type for a state kind (static: no allocation per transition).
        pub fn $fn(type_name: &str) -> &'static str {
            match type_name {
                "Pass" => concat!("Pass", $suffix),
                "Task" => concat!("Task", $suffix),
                "Choice" => concat!("Choice", $suffix),
                "Wait" => concat!("Wait", $suffix),
                "Succeed" => concat!("Succeed", $suffix),
                "Fail" => concat!("Fail", $suffix),
                "Parallel" => concat!("Parallel", $suffix),
                _ => concat!("Map", $suffix),
            }
        }
    };
}

names!(entered, "StateEntered");
names!(exited, "StateExited");
