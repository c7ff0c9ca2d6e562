//! How a message's `data` value becomes the text sent to a client (and hashed by the workflow task).
//!
//! A JSON string is sent as its characters (`"hello world"` → `hello world`, as in the seed
//! samples); any other JSON value is sent as its compact JSON text.

use std::borrow::Cow;

use serde_json::Value;

/// The text of `data`: a string's characters, or any other value's compact JSON.
pub fn data_text(data: &Value) -> Cow<'_, str> {
    match data {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// The `data` member of a route message body (`{"action": "...", "data": ...}`).
///
/// Returns `None` when the body is not a JSON object or has no `data` member (or it is `null`).
pub fn body_data(body: Option<&str>) -> Option<Value> {
    let mut message: Value = serde_json::from_str(body?).ok()?;
    match message.get_mut("data").map(Value::take) {
        Some(Value::Null) | None => None,
        Some(data) => Some(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_sent_raw_and_other_values_as_json() {
        assert_eq!(data_text(&json!("hello world")), "hello world");
        assert_eq!(data_text(&json!({"a": [1, "x"]})), r#"{"a":[1,"x"]}"#);
        assert_eq!(data_text(&json!(42)), "42");
    }

    #[test]
    fn body_data_needs_an_object_with_data() {
        assert_eq!(
            body_data(Some(r#"{"action":"echo","data":"hello world"}"#)),
            Some(json!("hello world"))
        );
        assert_eq!(body_data(Some(r#"{"action":"echo"}"#)), None);
        assert_eq!(body_data(Some(r#"{"action":"echo","data":null}"#)), None);
        assert_eq!(body_data(Some("not json")), None);
        assert_eq!(body_data(Some(r#"["data"]"#)), None);
        assert_eq!(body_data(None), None);
    }
}
