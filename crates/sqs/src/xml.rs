//! Query-protocol responses: the JSON result of an operation rendered as
//! SQS's XML (`<SendMessageResponse><SendMessageResult>…`).
//!
//! Hand-written rather than via an XML crate: the output is a handful of
//! fixed shapes and only needs text escaping.

use serde_json::Value;

/// SQS's XML namespace.
pub const XMLNS: &str = wsflow_aws_wire::SQS_QUERY_NAMESPACE;

pub use wsflow_aws_wire::xml_escape as escape;

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => escape(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// `<Attribute><Name>k</Name><Value>v</Value></Attribute>` for each entry.
fn name_value_map(out: &mut String, element: &str, map: &serde_json::Map<String, Value>) {
    for (k, v) in map {
        out.push_str(&format!(
            "<{element}><Name>{}</Name><Value>{}</Value></{element}>",
            escape(k),
            scalar(v)
        ));
    }
}

fn message_attributes(out: &mut String, map: &serde_json::Map<String, Value>) {
    for (k, v) in map {
        out.push_str(&format!(
            "<MessageAttribute><Name>{}</Name><Value>",
            escape(k)
        ));
        for field in ["StringValue", "BinaryValue", "DataType"] {
            if let Some(x) = v.get(field) {
                out.push_str(&format!("<{field}>{}</{field}>", scalar(x)));
            }
        }
        out.push_str("</Value></MessageAttribute>");
    }
}

/// Renders the fields of one JSON object (a result or a nested entry).
fn fields(out: &mut String, op: &str, obj: &serde_json::Map<String, Value>) {
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("Attributes", Value::Object(m)) => name_value_map(out, "Attribute", m),
            ("MessageAttributes", Value::Object(m)) => message_attributes(out, m),
            ("Messages", Value::Array(a)) => {
                for m in a {
                    out.push_str("<Message>");
                    if let Value::Object(m) = m {
                        fields(out, op, m);
                    }
                    out.push_str("</Message>");
                }
            }
            ("QueueUrls", Value::Array(a)) => {
                for u in a {
                    out.push_str(&format!("<QueueUrl>{}</QueueUrl>", scalar(u)));
                }
            }
            ("Successful", Value::Array(a)) => {
                let el = format!("{op}ResultEntry");
                for e in a {
                    out.push_str(&format!("<{el}>"));
                    if let Value::Object(e) = e {
                        fields(out, op, e);
                    }
                    out.push_str(&format!("</{el}>"));
                }
            }
            ("Failed", Value::Array(a)) => {
                for e in a {
                    out.push_str("<BatchResultErrorEntry>");
                    if let Value::Object(e) = e {
                        fields(out, op, e);
                    }
                    out.push_str("</BatchResultErrorEntry>");
                }
            }
            (_, Value::Object(_) | Value::Array(_) | Value::Null) => {}
            (k, v) => out.push_str(&format!("<{k}>{}</{k}>", scalar(v))),
        }
    }
}

/// The whole query-protocol response document of `op`.
pub fn render(op: &str, result: &Value, request_id: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\"?><{op}Response xmlns=\"{XMLNS}\">");
    let has_result = !matches!(
        op,
        "DeleteMessage"
            | "ChangeMessageVisibility"
            | "PurgeQueue"
            | "SetQueueAttributes"
            | "DeleteQueue"
    );
    if has_result {
        out.push_str(&format!("<{op}Result>"));
        if let Value::Object(m) = result {
            fields(&mut out, op, m);
        }
        out.push_str(&format!("</{op}Result>"));
    }
    out.push_str(&format!(
        "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
        escape(request_id)
    ));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_receive_and_batch_shapes() {
        let xml = render(
            "ReceiveMessage",
            &json!({"Messages": [{"MessageId": "m1", "Body": "a<b", "Attributes": {"SenderId": "x"},
                    "MessageAttributes": {"connectionId": {"DataType": "String", "StringValue": "c="}}}]}),
            "rid",
        );
        // Element order follows the JSON object's order, which depends on
        // serde_json's `preserve_order` feature (unified across the
        // workspace); clients do not depend on it.
        assert!(xml.contains("<ReceiveMessageResult><Message>"), "{xml}");
        assert!(
            xml.contains("<Attribute><Name>SenderId</Name><Value>x</Value></Attribute>"),
            "{xml}"
        );
        assert!(xml.contains("<Body>a&lt;b</Body>"), "{xml}");
        assert!(xml.contains("<MessageAttribute><Name>connectionId</Name><Value><StringValue>c=</StringValue><DataType>String</DataType></Value></MessageAttribute>"));
        let xml = render(
            "SendMessageBatch",
            &json!({"Successful": [{"Id": "1", "MessageId": "m"}], "Failed": []}),
            "rid",
        );
        assert!(xml.contains("<SendMessageBatchResultEntry><Id>1</Id><MessageId>m</MessageId></SendMessageBatchResultEntry>"));
        let xml = render("DeleteMessage", &json!({}), "rid");
        assert_eq!(
            xml,
            format!(
                "<?xml version=\"1.0\"?><DeleteMessageResponse xmlns=\"{XMLNS}\"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteMessageResponse>"
            )
        );
    }
}
