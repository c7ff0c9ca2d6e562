//! Query-protocol requests: a form body (`Action=SendMessage&QueueUrl=…&
//! MessageAttribute.1.Name=…`) turned into the JSON-protocol request shape,
//! so both protocols share one implementation of every operation.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Decodes a form body into the operation name (`Action`) and the
/// equivalent JSON request.
pub fn form_to_json(body: &[u8]) -> (Option<String>, Value) {
    let params: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut action = None;
    let mut flat: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in params {
        if k == "Action" {
            action = Some(v);
        } else if k != "Version" {
            flat.insert(k, v);
        }
    }
    (action, convert(&flat))
}

/// Groups `Prefix.N.rest` parameters by N (in numeric order).
fn indexed<'a>(
    flat: &'a BTreeMap<String, String>,
    prefix: &str,
) -> BTreeMap<u32, BTreeMap<&'a str, &'a str>> {
    let mut out: BTreeMap<u32, BTreeMap<&str, &str>> = BTreeMap::new();
    let p = format!("{prefix}.");
    for (k, v) in flat {
        let Some(rest) = k.strip_prefix(&p) else {
            continue;
        };
        let (n, field) = match rest.split_once('.') {
            Some((n, f)) => (n, f),
            None => (rest, ""),
        };
        if let Ok(n) = n.parse::<u32>() {
            out.entry(n).or_default().insert(field, v.as_str());
        }
    }
    out
}

/// Re-nests `rest`-keyed fields (from [`indexed`]) as a flat map for recursion.
fn sub(fields: &BTreeMap<&str, &str>) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `MessageAttribute.N.Name` / `.Value.DataType|StringValue|BinaryValue`.
fn message_attributes(flat: &BTreeMap<String, String>, prefix: &str) -> Option<Value> {
    let groups = indexed(flat, prefix);
    if groups.is_empty() {
        return None;
    }
    let mut out = Map::new();
    for fields in groups.values() {
        let Some(name) = fields.get("Name") else {
            continue;
        };
        let mut v = Map::new();
        for (src, dst) in [
            ("Value.DataType", "DataType"),
            ("Value.StringValue", "StringValue"),
            ("Value.BinaryValue", "BinaryValue"),
        ] {
            if let Some(x) = fields.get(src) {
                v.insert(dst.into(), json!(x));
            }
        }
        out.insert((*name).to_owned(), Value::Object(v));
    }
    Some(Value::Object(out))
}

/// `Prefix.N` string lists.
fn list(flat: &BTreeMap<String, String>, prefix: &str) -> Option<Value> {
    let groups = indexed(flat, prefix);
    if groups.is_empty() {
        return None;
    }
    Some(Value::Array(
        groups
            .values()
            .filter_map(|f| f.get("").map(|v| json!(v)))
            .collect(),
    ))
}

fn convert(flat: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for (k, v) in flat {
        if !k.contains('.') {
            out.insert(k.clone(), json!(v));
        }
    }
    let attrs = indexed(flat, "Attribute");
    if !attrs.is_empty() {
        let m: Map<String, Value> = attrs
            .values()
            .filter_map(|f| {
                Some((
                    (*f.get("Name")?).to_owned(),
                    json!(f.get("Value").copied().unwrap_or("")),
                ))
            })
            .collect();
        out.insert("Attributes".into(), Value::Object(m));
    }
    let tags = indexed(flat, "Tag");
    if !tags.is_empty() {
        let m: Map<String, Value> = tags
            .values()
            .filter_map(|f| {
                Some((
                    (*f.get("Key")?).to_owned(),
                    json!(f.get("Value").copied().unwrap_or("")),
                ))
            })
            .collect();
        out.insert("tags".into(), Value::Object(m));
    }
    for (prefix, key) in [
        ("AttributeName", "AttributeNames"),
        ("MessageSystemAttributeName", "MessageSystemAttributeNames"),
        ("MessageAttributeName", "MessageAttributeNames"),
    ] {
        if let Some(l) = list(flat, prefix) {
            out.insert(key.into(), l);
        }
    }
    if let Some(m) = message_attributes(flat, "MessageAttribute") {
        out.insert("MessageAttributes".into(), m);
    }
    if let Some(m) = message_attributes(flat, "MessageSystemAttribute") {
        out.insert("MessageSystemAttributes".into(), m);
    }
    for prefix in [
        "SendMessageBatchRequestEntry",
        "DeleteMessageBatchRequestEntry",
        "ChangeMessageVisibilityBatchRequestEntry",
    ] {
        let groups = indexed(flat, prefix);
        if groups.is_empty() {
            continue;
        }
        let entries: Vec<Value> = groups.values().map(|f| convert(&sub(f))).collect();
        out.insert("Entries".into(), Value::Array(entries));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_send_message_form() {
        let (action, v) = form_to_json(
            b"Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2F127.0.0.1%3A3001%2F123456789012%2Fq.fifo\
              &MessageBody=hello+world&MessageGroupId=g&MessageAttribute.1.Name=connectionId\
              &MessageAttribute.1.Value.StringValue=abc%3D&MessageAttribute.1.Value.DataType=String",
        );
        assert_eq!(action.as_deref(), Some("SendMessage"));
        assert_eq!(
            v,
            json!({
                "QueueUrl": "http://127.0.0.1:3001/123456789012/q.fifo",
                "MessageBody": "hello world", "MessageGroupId": "g",
                "MessageAttributes": {"connectionId": {"DataType": "String", "StringValue": "abc="}}
            })
        );
    }

    #[test]
    fn converts_lists_and_batches() {
        let (_, v) = form_to_json(
            b"Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.2.Id=b\
              &SendMessageBatchRequestEntry.2.MessageBody=two&SendMessageBatchRequestEntry.1.Id=a\
              &SendMessageBatchRequestEntry.1.MessageBody=one\
              &SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k\
              &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Number\
              &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=1",
        );
        assert_eq!(
            v["Entries"],
            json!([
                {"Id": "a", "MessageBody": "one", "MessageAttributes": {"k": {"DataType": "Number", "StringValue": "1"}}},
                {"Id": "b", "MessageBody": "two"}
            ])
        );
        let (_, v) = form_to_json(b"Action=ReceiveMessage&AttributeName.1=All&MessageAttributeName.1=All&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=5");
        assert_eq!(v["AttributeNames"], json!(["All"]));
        assert_eq!(v["MessageAttributeNames"], json!(["All"]));
        assert_eq!(v["Attributes"], json!({"VisibilityTimeout": "5"}));
    }
}
