//! An operation's input, read from the query protocol's form
//! (`MessageAttributes.entry.1.Name=…`) or from JSON (Step Functions).

use std::collections::BTreeMap;

use serde_json::Value;
use wsflow_aws_wire::ServiceError;

/// One message attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageAttribute {
    pub(crate) name: String,
    pub(crate) data_type: String,
    pub(crate) value: String,
}

/// The parameters of one call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Input {
    fields: BTreeMap<String, String>,
    /// `MessageAttributes`, in name order.
    pub(crate) message_attributes: Vec<MessageAttribute>,
    /// `Attributes` (`Subscribe`'s `RawMessageDelivery`, …).
    pub(crate) attributes: BTreeMap<String, String>,
}

impl Input {
    /// A top-level string parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// Reads a form body.
    pub(crate) fn from_form(body: &[u8]) -> Self {
        let mut input = Self::default();
        let mut attrs: BTreeMap<String, (String, String, String)> = BTreeMap::new();
        let mut entries: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            let (k, v) = (k.into_owned(), v.into_owned());
            if let Some(rest) = k.strip_prefix("MessageAttributes.entry.") {
                let (n, field) = rest.split_once('.').unwrap_or((rest, ""));
                let slot = attrs.entry(n.to_owned()).or_default();
                match field {
                    "Name" => slot.0 = v,
                    "Value.DataType" => slot.1 = v,
                    "Value.StringValue" | "Value.BinaryValue" => slot.2 = v,
                    _ => {}
                }
            } else if let Some(rest) = k.strip_prefix("Attributes.entry.") {
                let (n, field) = rest.split_once('.').unwrap_or((rest, ""));
                let slot = entries.entry(n.to_owned()).or_default();
                match field {
                    "key" => slot.0 = v,
                    "value" => slot.1 = v,
                    _ => {}
                }
            } else {
                input.fields.insert(k, v);
            }
        }
        input.message_attributes = attrs
            .into_values()
            .filter(|(name, _, _)| !name.is_empty())
            .map(|(name, data_type, value)| MessageAttribute {
                name,
                data_type,
                value,
            })
            .collect();
        input.message_attributes.sort_by(|a, b| a.name.cmp(&b.name));
        input.attributes = entries
            .into_values()
            .filter(|(k, _)| !k.is_empty())
            .collect();
        input
    }

    /// Reads a JSON body (`{"TopicArn": …, "Message": …,
    /// "MessageAttributes": {"k": {"DataType": …, "StringValue": …}}}`).
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, ServiceError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ServiceError::client("InvalidParameter", format!("Invalid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(ServiceError::client(
                "InvalidParameter",
                "The input must be a JSON object",
            ));
        };
        let mut input = Self::default();
        for (k, v) in map {
            match (k.as_str(), v) {
                ("MessageAttributes", Value::Object(attrs)) => {
                    for (name, a) in attrs {
                        let text = |f: &str| a.get(f).and_then(Value::as_str).map(str::to_owned);
                        input.message_attributes.push(MessageAttribute {
                            name,
                            data_type: text("DataType").unwrap_or_default(),
                            value: text("StringValue")
                                .or_else(|| text("BinaryValue"))
                                .unwrap_or_default(),
                        });
                    }
                }
                ("Attributes", Value::Object(attrs)) => {
                    for (name, a) in attrs {
                        if let Some(s) = a.as_str() {
                            input.attributes.insert(name, s.to_owned());
                        }
                    }
                }
                (_, Value::String(s)) => {
                    input.fields.insert(k, s);
                }
                (_, Value::Bool(b)) => {
                    input.fields.insert(k, b.to_string());
                }
                (_, Value::Number(n)) => {
                    input.fields.insert(k, n.to_string());
                }
                _ => {}
            }
        }
        input.message_attributes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(input)
    }
}
