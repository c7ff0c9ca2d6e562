//! DynamoDB attribute values (`{"S": "…"}`, `{"N": "…"}`, …): parsing and
//! validating the wire JSON, writing it back, comparing, sizing.

use std::{cmp::Ordering, collections::BTreeMap};

use base64::Engine as _;
use serde_json::{Map, Value, json};
use wsflow_aws_wire::ServiceError;

use crate::number;

/// An item: attribute name → value.
pub type Item = BTreeMap<String, AttrValue>;

/// One DynamoDB attribute value.
///
/// Numbers are kept as their canonical decimal text (see [`number`]);
/// binaries as their base64 text (what the wire carries), decoded when compared.
#[derive(Debug, Clone)]
pub enum AttrValue {
    /// String.
    S(String),
    /// Number (canonical decimal text).
    N(String),
    /// Binary (base64 text).
    B(String),
    /// Boolean.
    Bool(bool),
    /// Null.
    Null,
    /// Map.
    M(Item),
    /// List.
    L(Vec<AttrValue>),
    /// String set.
    Ss(Vec<String>),
    /// Number set (canonical decimal texts).
    Ns(Vec<String>),
    /// Binary set (base64 texts).
    Bs(Vec<String>),
}

impl PartialEq for AttrValue {
    fn eq(&self, other: &Self) -> bool {
        use AttrValue::*;
        match (self, other) {
            (S(a), S(b)) | (N(a), N(b)) => a == b,
            (B(a), B(b)) => decode_b(a) == decode_b(b),
            (Bool(a), Bool(b)) => a == b,
            (Null, Null) => true,
            (M(a), M(b)) => a == b,
            (L(a), L(b)) => a == b,
            (Ss(a), Ss(b)) | (Ns(a), Ns(b)) => same_set(a, b),
            (Bs(a), Bs(b)) => {
                let a: Vec<_> = a.iter().map(|x| decode_b(x)).collect();
                let b: Vec<_> = b.iter().map(|x| decode_b(x)).collect();
                same_set(&a, &b)
            }
            _ => false,
        }
    }
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// Decodes a base64 binary (invalid base64 was rejected at parse time; an
/// empty vector stands in otherwise).
pub fn decode_b(b64: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_default()
}

impl AttrValue {
    /// The type descriptor: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::S(_) => "S",
            AttrValue::N(_) => "N",
            AttrValue::B(_) => "B",
            AttrValue::Bool(_) => "BOOL",
            AttrValue::Null => "NULL",
            AttrValue::M(_) => "M",
            AttrValue::L(_) => "L",
            AttrValue::Ss(_) => "SS",
            AttrValue::Ns(_) => "NS",
            AttrValue::Bs(_) => "BS",
        }
    }

    /// Parses one wire attribute value, validating it as DynamoDB does.
    pub fn from_json(v: &Value) -> Result<AttrValue, ServiceError> {
        let obj = v.as_object().ok_or_else(|| {
            ServiceError::client(
                "SerializationException",
                "Start of structure or map found where not expected.",
            )
        })?;
        if obj.is_empty() {
            return Err(ServiceError::validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            ));
        }
        if obj.len() > 1 {
            return Err(ServiceError::validation(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
            ));
        }
        let (ty, inner) = obj.iter().next().ok_or_else(|| {
            ServiceError::validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        })?;
        let ser = |what: &str| {
            ServiceError::client(
                "SerializationException",
                format!("Unexpected value type in payload for {what}"),
            )
        };
        Ok(match ty.as_str() {
            "S" => AttrValue::S(inner.as_str().ok_or_else(|| ser("S"))?.to_owned()),
            "N" => AttrValue::N(number::canonical(inner.as_str().ok_or_else(|| ser("N"))?)?),
            "B" => AttrValue::B(parse_b64(inner.as_str().ok_or_else(|| ser("B"))?)?),
            "BOOL" => AttrValue::Bool(inner.as_bool().ok_or_else(|| ser("BOOL"))?),
            "NULL" => {
                if inner.as_bool() != Some(true) {
                    return Err(ServiceError::validation(
                        "One or more parameter values were invalid: Null attribute value types must have the value of true",
                    ));
                }
                AttrValue::Null
            }
            "M" => AttrValue::M(parse_item(inner)?),
            "L" => AttrValue::L(
                inner
                    .as_array()
                    .ok_or_else(|| ser("L"))?
                    .iter()
                    .map(AttrValue::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            "SS" | "NS" | "BS" => {
                let arr = inner.as_array().ok_or_else(|| ser(ty))?;
                let mut out = Vec::with_capacity(arr.len());
                for x in arr {
                    let s = x.as_str().ok_or_else(|| ser(ty))?;
                    let s = match ty.as_str() {
                        "NS" => number::canonical(s)?,
                        "BS" => parse_b64(s)?,
                        _ => s.to_owned(),
                    };
                    if out.contains(&s) {
                        return Err(ServiceError::validation(format!(
                            "One or more parameter values were invalid: Input collection {} contains duplicates.",
                            render_set(arr)
                        )));
                    }
                    out.push(s);
                }
                if out.is_empty() {
                    let kind = match ty.as_str() {
                        "SS" => "string",
                        "NS" => "number",
                        _ => "binary",
                    };
                    return Err(ServiceError::validation(format!(
                        "One or more parameter values were invalid: An {kind} set  may not be empty"
                    )));
                }
                match ty.as_str() {
                    "SS" => AttrValue::Ss(out),
                    "NS" => AttrValue::Ns(out),
                    _ => AttrValue::Bs(out),
                }
            }
            other => {
                return Err(ServiceError::client(
                    "SerializationException",
                    format!("Unknown AttributeValue type: {other}"),
                ));
            }
        })
    }

    /// The wire JSON of this value.
    pub fn to_json(&self) -> Value {
        match self {
            AttrValue::S(s) => json!({ "S": s }),
            AttrValue::N(n) => json!({ "N": n }),
            AttrValue::B(b) => json!({ "B": b }),
            AttrValue::Bool(b) => json!({ "BOOL": b }),
            AttrValue::Null => json!({ "NULL": true }),
            AttrValue::M(m) => json!({ "M": item_to_json(m) }),
            AttrValue::L(l) => json!({ "L": l.iter().map(AttrValue::to_json).collect::<Vec<_>>() }),
            AttrValue::Ss(s) => json!({ "SS": s }),
            AttrValue::Ns(s) => json!({ "NS": s }),
            AttrValue::Bs(s) => json!({ "BS": s }),
        }
    }

    /// Ordering for `<`, `<=`, `>`, `>=`, `BETWEEN` and sort keys: only
    /// between two strings (UTF-8 bytes), two numbers (numerically) or two
    /// binaries (unsigned bytes); `None` otherwise.
    pub fn compare(&self, other: &AttrValue) -> Option<Ordering> {
        match (self, other) {
            (AttrValue::S(a), AttrValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (AttrValue::N(a), AttrValue::N(b)) => Some(number::compare(a, b)),
            (AttrValue::B(a), AttrValue::B(b)) => Some(decode_b(a).cmp(&decode_b(b))),
            _ => None,
        }
    }

    /// The size DynamoDB charges for this value (Developer Guide, "Item sizes").
    pub fn size(&self) -> usize {
        match self {
            AttrValue::S(s) => s.len(),
            AttrValue::N(n) => number::size(n),
            AttrValue::B(b) => decode_b(b).len(),
            AttrValue::Bool(_) | AttrValue::Null => 1,
            AttrValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            AttrValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttrValue::Ss(s) => s.iter().map(String::len).sum(),
            AttrValue::Ns(s) => s.iter().map(|n| number::size(n)).sum(),
            AttrValue::Bs(s) => s.iter().map(|b| decode_b(b).len()).sum(),
        }
    }
}

fn render_set(arr: &[Value]) -> String {
    let parts: Vec<String> = arr
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    format!("[{}]", parts.join(", "))
}

fn parse_b64(s: &str) -> Result<String, ServiceError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map(|_| s.to_owned())
        .map_err(|_| {
            ServiceError::client(
                "SerializationException",
                "Base64 encoded binary data is not valid",
            )
        })
}

/// Parses a wire item (`{"name": {"S": "…"}, …}`).
pub fn parse_item(v: &Value) -> Result<Item, ServiceError> {
    let obj = v.as_object().ok_or_else(|| {
        ServiceError::client(
            "SerializationException",
            "Unexpected value type in payload: expected a map of attribute values",
        )
    })?;
    obj.iter()
        .map(|(k, v)| Ok((k.clone(), AttrValue::from_json(v)?)))
        .collect()
}

/// The wire JSON of an item.
pub fn item_to_json(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect::<Map<_, _>>(),
    )
}

/// The size of an item as DynamoDB counts it (names + values).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// DynamoDB's item size limit, 400 KB.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_validates() {
        let v = json!({"M": {"a": {"N": "01.50"}, "b": {"SS": ["x", "y"]}, "c": {"NULL": true}}});
        let a = AttrValue::from_json(&v).unwrap();
        assert_eq!(
            a.to_json(),
            json!({"M": {"a": {"N": "1.5"}, "b": {"SS": ["x", "y"]}, "c": {"NULL": true}}})
        );
        assert!(AttrValue::from_json(&json!({})).is_err());
        assert!(AttrValue::from_json(&json!({"S": "a", "N": "1"})).is_err());
        assert!(AttrValue::from_json(&json!({"SS": []})).is_err());
        assert!(AttrValue::from_json(&json!({"SS": ["a", "a"]})).is_err());
        assert!(AttrValue::from_json(&json!({"N": "abc"})).is_err());
        assert!(AttrValue::from_json(&json!({"B": "!!"})).is_err());
    }

    #[test]
    fn compares_by_type() {
        let n = |s: &str| AttrValue::N(number::canonical(s).unwrap());
        assert_eq!(n("10").compare(&n("9")), Some(Ordering::Greater));
        assert_eq!(n("-1.5").compare(&n("-1.25")), Some(Ordering::Less));
        assert_eq!(n("1").compare(&AttrValue::S("1".into())), None);
        assert_eq!(
            AttrValue::Ss(vec!["a".into(), "b".into()]),
            AttrValue::Ss(vec!["b".into(), "a".into()])
        );
    }
}
