//! Query-protocol responses: an operation's JSON result rendered as SNS's
//! XML (`<PublishResponse><PublishResult><MessageId>…`).
//!
//! Hand-written, as the SQS crate's: a handful of fixed shapes that only
//! need text escaping.

use serde_json::Value;
use wsflow_aws_wire::xml_escape;

/// SNS's XML namespace.
pub(crate) const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => xml_escape(s),
        Value::Null => String::new(),
        other => xml_escape(&other.to_string()),
    }
}

/// `<member><K>v</K>…</member>` for each object of `list`.
fn members(list: &Value) -> String {
    let mut out = String::new();
    for item in list.as_array().into_iter().flatten() {
        out.push_str("<member>");
        for (k, v) in item.as_object().into_iter().flatten() {
            out.push_str(&format!("<{k}>{}</{k}>", text(v)));
        }
        out.push_str("</member>");
    }
    out
}

/// The XML response of `action` with result `out`.
pub(crate) fn response(action: &str, out: &Value) -> String {
    let mut result = String::new();
    for (k, v) in out.as_object().into_iter().flatten() {
        if v.is_array() {
            result.push_str(&format!("<{k}>{}</{k}>", members(v)));
        } else {
            result.push_str(&format!("<{k}>{}</{k}>", text(v)));
        }
    }
    let request_id = uuid::Uuid::new_v4();
    let result = if matches!(action, "Unsubscribe" | "DeleteTopic") {
        String::new()
    } else {
        format!("<{action}Result>{result}</{action}Result>")
    };
    format!(
        "<?xml version=\"1.0\"?><{action}Response xmlns=\"{XMLNS}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}
