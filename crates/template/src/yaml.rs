//! YAML text → JSON value, with CloudFormation short-form tags turned into their long forms
//! (`!Ref X` → `{"Ref": "X"}`, `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` →
//! `{"Fn::Sub": s}`, ...).
//!
//! The parser is `saphyr` (pure Rust, YAML 1.2, maintained; it replaced the archived
//! `serde_yaml` 0.9 and its `unsafe-libyaml`): it keeps tags as `Yaml::Tagged`, which is all
//! the short forms need, limits nesting (255 levels) and bounds alias expansion (a
//! "billion laughs" document is an error, not a hang). Conversion recurses once per level of
//! that bounded nesting.

use saphyr::{LoadableYamlNode, Scalar, Yaml as Y};
use serde_json::Value;

use crate::TemplateError;

/// Parses template text (the first YAML document; an empty text is `null`).
pub(crate) fn parse(text: &str) -> Result<Value, TemplateError> {
    let docs = Y::load_from_str(text).map_err(|e| {
        let m = e.marker();
        TemplateError::Yaml {
            line: m.line(),
            column: m.col() + 1,
            message: e.info().to_owned(),
        }
    })?;
    match docs.into_iter().next() {
        Some(doc) => convert(doc),
        None => Ok(Value::Null),
    }
}

fn scalar(s: Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::from(i),
        Scalar::FloatingPoint(f) => serde_json::Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Scalar::String(s) => Value::String(s.into_owned()),
    }
}

/// Converts one YAML node.
fn convert(y: Y<'_>) -> Result<Value, TemplateError> {
    Ok(match y {
        Y::Value(s) => scalar(s),
        // Not produced by `load_from_str`, which resolves every scalar.
        Y::Representation(text, _, _) => Value::String(text.into_owned()),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(convert).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::Value(Scalar::String(s)) => s.into_owned(),
                    Y::Value(Scalar::Integer(i)) => i.to_string(),
                    Y::Value(Scalar::Boolean(b)) => b.to_string(),
                    Y::Value(Scalar::FloatingPoint(f)) => f.to_string(),
                    Y::Value(Scalar::Null) => "null".to_owned(),
                    other => {
                        return Err(TemplateError::Format(format!(
                            "unsupported mapping key {other:?}"
                        )));
                    }
                };
                out.insert(key, convert(v)?);
            }
            Value::Object(out)
        }
        Y::Alias(_) | Y::BadValue => {
            return Err(TemplateError::Format(
                "a YAML value could not be resolved (unknown alias or malformed scalar)".into(),
            ));
        }
        // `!!str 1` and the other core-schema tags: the value as tagged.
        Y::Tagged(tag, inner) if tag.is_yaml_core_schema() => core_tagged(&tag.suffix, *inner)?,
        Y::Tagged(tag, inner) => {
            let name = tag.suffix.as_str();
            let inner = convert(*inner)?;
            let (key, value) = match name {
                "Ref" => ("Ref".to_string(), inner),
                "Condition" => ("Condition".to_string(), inner),
                "GetAtt" => {
                    let v = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((a, b)) => Value::Array(vec![a.into(), b.into()]),
                            None => Value::String(s),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), v)
                }
                "Sub" | "Join" | "If" | "Select" | "Split" | "Equals" | "Not" | "And" | "Or"
                | "FindInMap" | "Base64" | "GetAZs" | "ImportValue" | "Cidr" | "ToJsonString"
                | "Length" => (format!("Fn::{name}"), inner),
                other => {
                    return Err(TemplateError::Format(format!("unknown tag !{other}")));
                }
            };
            let mut m = serde_json::Map::new();
            m.insert(key, value);
            Value::Object(m)
        }
    })
}

/// A value under a YAML core-schema tag (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`,
/// `!!seq`, `!!map`).
fn core_tagged(suffix: &str, inner: Y<'_>) -> Result<Value, TemplateError> {
    let value = convert(inner)?;
    Ok(match (suffix, value) {
        ("str", Value::String(s)) => Value::String(s),
        ("str", Value::Null) => Value::String(String::new()),
        ("str", other) => Value::String(match other {
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        }),
        (_, value) => value,
    })
}
