//! Messages as stored, message attributes, and the MD5 digests SQS returns
//! (the SDKs verify them).

use std::collections::BTreeMap;

use base64::Engine as _;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use wsflow_aws_wire::ServiceError;

use crate::errors::{invalid_parameter, missing_parameter};

/// One message attribute value (`DataType` + string or binary value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    /// `String`, `Number`, `Binary`, optionally with a `.custom` suffix.
    pub data_type: String,
    /// The value of `String`/`Number` attributes.
    pub string_value: Option<String>,
    /// The value of `Binary` attributes, base64.
    pub binary_value: Option<String>,
}

/// A message in a queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMessage {
    /// `MessageId` (a UUID).
    pub message_id: String,
    /// The body.
    pub body: String,
    /// MD5 of the body (hex).
    pub md5_of_body: String,
    /// Message attributes by name.
    pub attributes: BTreeMap<String, AttributeValue>,
    /// MD5 of the attributes (hex), when there are any.
    pub md5_of_attributes: Option<String>,
    /// `SentTimestamp`, epoch milliseconds.
    pub sent_ms: u64,
    /// `SenderId`.
    pub sender_id: String,
    /// FIFO `MessageGroupId`.
    pub group_id: Option<String>,
    /// FIFO `MessageDeduplicationId` (given or content-based).
    pub dedup_id: Option<String>,
    /// FIFO `SequenceNumber`.
    pub sequence_number: Option<String>,
    /// `ApproximateReceiveCount`.
    pub receive_count: u32,
    /// `ApproximateFirstReceiveTimestamp`, epoch milliseconds.
    pub first_receive_ms: Option<u64>,
    /// When the message is next visible (after a delay or a receive), epoch ms.
    pub visible_at_ms: u64,
    /// The nonce of the latest receipt handle (`None` before the first receive).
    pub receipt_nonce: Option<String>,
}

/// Hex MD5 of a string.
pub fn md5_hex(data: &[u8]) -> String {
    let mut h = Md5::new();
    h.update(data);
    format!("{:x}", h.finalize())
}

/// `MD5OfMessageAttributes` as SQS computes it (Developer Guide,
/// "Calculating the MD5 message digest for message attributes"): attributes
/// sorted by name; for each, the 4-byte big-endian length and bytes of the
/// name, of the data type, one transport byte (1 string/number, 2 binary),
/// then the length and bytes of the value.
pub fn md5_of_attributes(attrs: &BTreeMap<String, AttributeValue>) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    let put = |b: &[u8], buf: &mut Vec<u8>| {
        buf.extend_from_slice(&(b.len() as u32).to_be_bytes());
        buf.extend_from_slice(b);
    };
    for (name, v) in attrs {
        put(name.as_bytes(), &mut buf);
        put(v.data_type.as_bytes(), &mut buf);
        match (&v.string_value, &v.binary_value) {
            (Some(s), _) => {
                buf.push(1);
                put(s.as_bytes(), &mut buf);
            }
            (None, Some(b)) => {
                buf.push(2);
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .unwrap_or_default();
                put(&bytes, &mut buf);
            }
            (None, None) => {}
        }
    }
    Some(md5_hex(&buf))
}

/// Parses the JSON-protocol `MessageAttributes` map, validating as SQS does.
pub fn parse_attributes(
    v: Option<&Value>,
) -> Result<BTreeMap<String, AttributeValue>, ServiceError> {
    let mut out = BTreeMap::new();
    let Some(map) = v.filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let map = map
        .as_object()
        .ok_or_else(|| invalid_parameter("MessageAttributes must be a map"))?;
    if map.len() > 10 {
        return Err(invalid_parameter(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            map.len()
        )));
    }
    for (name, attr) in map {
        if name.is_empty()
            || name.len() > 256
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            || name.starts_with('.')
            || name.ends_with('.')
            || name.contains("..")
            || name.to_ascii_lowercase().starts_with("aws.")
            || name.to_ascii_lowercase().starts_with("amazon.")
        {
            return Err(invalid_parameter(format!(
                "Message (user) attribute '{name}' must contain a non-empty attribute name and may only contain alphanumeric characters, hyphens, underscores and periods."
            )));
        }
        let data_type = attr
            .get("DataType")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                invalid_parameter(format!(
                    "The message attribute '{name}' must contain non-empty message attribute type."
                ))
            })?;
        let base = data_type.split('.').next().unwrap_or_default();
        let string_value = attr
            .get("StringValue")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let binary_value = attr
            .get("BinaryValue")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match base {
            "String" | "Number" => {
                if string_value.as_deref().is_none_or(str::is_empty) {
                    return Err(invalid_parameter(format!(
                        "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
                    )));
                }
                if base == "Number"
                    && string_value
                        .as_deref()
                        .is_some_and(|s| s.trim().parse::<f64>().is_err())
                {
                    return Err(invalid_parameter(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
            }
            "Binary" => {
                let ok = binary_value.as_deref().is_some_and(|b| {
                    !b.is_empty() && base64::engine::general_purpose::STANDARD.decode(b).is_ok()
                });
                if !ok {
                    return Err(invalid_parameter(format!(
                        "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
                    )));
                }
            }
            _ => {
                return Err(invalid_parameter(format!(
                    "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
                )));
            }
        }
        out.insert(
            name.clone(),
            AttributeValue {
                data_type: data_type.to_owned(),
                string_value: if base == "Binary" { None } else { string_value },
                binary_value: if base == "Binary" { binary_value } else { None },
            },
        );
    }
    Ok(out)
}

/// The JSON-protocol shape of message attributes (`MessageAttributes` in
/// ReceiveMessage), filtered by the requested names (`All`, `.*` prefixes).
pub fn attributes_json(attrs: &BTreeMap<String, AttributeValue>, wanted: &[String]) -> Value {
    let mut out = Map::new();
    for (name, v) in attrs {
        let selected = wanted.iter().any(|w| {
            w == "All"
                || w == ".*"
                || w == name
                || w.strip_suffix(".*")
                    .is_some_and(|p| name.starts_with(&format!("{p}.")))
        });
        if !selected {
            continue;
        }
        let mut a = json!({"DataType": v.data_type});
        if let Some(s) = &v.string_value {
            a["StringValue"] = json!(s);
        }
        if let Some(b) = &v.binary_value {
            a["BinaryValue"] = json!(b);
        }
        out.insert(name.clone(), a);
    }
    Value::Object(out)
}

/// SQS allows #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
pub fn validate_body(body: &str) -> Result<(), ServiceError> {
    if body.is_empty() {
        return Err(missing_parameter("MessageBody"));
    }
    if let Some(c) = body.chars().find(|c| {
        let c = *c as u32;
        !(c == 0x9
            || c == 0xA
            || c == 0xD
            || (0x20..=0xD7FF).contains(&c)
            || (0xE000..=0xFFFD).contains(&c)
            || (0x10000..=0x10FFFF).contains(&c))
    }) {
        return Err(ServiceError::client(
            "InvalidMessageContents",
            format!(
                "Invalid binary character '#x{:X}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                c as u32
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(t: &str, s: Option<&str>, b: Option<&str>) -> AttributeValue {
        AttributeValue {
            data_type: t.into(),
            string_value: s.map(Into::into),
            binary_value: b.map(Into::into),
        }
    }

    #[test]
    fn md5_of_attributes_matches_aws_vectors() {
        // Vectors computed by AWS's documented algorithm (also used by the
        // aws-md5-of-message-attributes npm package's examples).
        let mut m = BTreeMap::new();
        m.insert(
            "attribName1".into(),
            attr("String", Some("attribValue 1"), None),
        );
        assert_eq!(
            md5_of_attributes(&m).unwrap(),
            "19e27d4e946b072f3f58da80d94fd778"
        );
        let mut m = BTreeMap::new();
        let b64 = base64::engine::general_purpose::STANDARD.encode("Hello binary world!");
        m.insert("binaryAttribute".into(), attr("Binary", None, Some(&b64)));
        assert_eq!(
            md5_of_attributes(&m).unwrap(),
            "31a92b15d92f8db860eda32aceb656c3"
        );
        m.insert(
            "attribName1".into(),
            attr("String", Some("attribValue 1"), None),
        );
        m.insert(
            "customNumberTypeAttrib".into(),
            attr(
                "Number.float",
                Some("4563442423554324324264524243.32543234"),
                None,
            ),
        );
        assert_eq!(
            md5_of_attributes(&m).unwrap(),
            "c932db14a896c663f83c260297d594ff"
        );
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn validates_bodies_and_attributes() {
        assert!(validate_body("ok\n").is_ok());
        let e = validate_body("bad\u{1}").unwrap_err();
        assert_eq!(e.code, "InvalidMessageContents");
        assert_eq!(validate_body("").unwrap_err().code, "MissingParameter");
        let e = parse_attributes(Some(
            &json!({"x": {"DataType": "Number", "StringValue": "abc"}}),
        ))
        .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        let ok = parse_attributes(Some(
            &json!({"connectionId": {"DataType": "String", "StringValue": "a="}}),
        ))
        .unwrap();
        assert_eq!(ok["connectionId"].string_value.as_deref(), Some("a="));
    }
}
