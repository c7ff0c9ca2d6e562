//! YAML text → JSON value, with CloudFormation short-form tags turned into their long forms
//! (`!Ref X` → `{"Ref": "X"}`, `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` →
//! `{"Fn::Sub": s}`, ...). serde_yaml 0.9 keeps tags as `Value::Tagged`, which is all we need.

use serde_json::Value;
use serde_yaml::Value as Y;

use crate::TemplateError;

/// unsafe-libyaml scans flow collections (`[[[…`) in time quadratic in their
/// depth (20,000 levels take seconds, 200,000 minutes) before serde_yaml's
/// recursion limit (128 levels) refuses them, so text whose brackets open
/// deeper than this is refused before it is scanned.
const MAX_FLOW_DEPTH: usize = 1_000;

/// Parses template text.
pub(crate) fn parse(text: &str) -> Result<Value, TemplateError> {
    let mut depth = 0usize;
    for (line, l) in text.lines().enumerate() {
        for (column, c) in l.chars().enumerate() {
            match c {
                '[' | '{' => depth += 1,
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_FLOW_DEPTH {
                return Err(TemplateError::Yaml {
                    line: line + 1,
                    column: column + 1,
                    message: format!(
                        "recursion limit exceeded: brackets nested over {MAX_FLOW_DEPTH} levels deep"
                    ),
                });
            }
        }
    }
    let y: Y = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        TemplateError::Yaml {
            line,
            column,
            message: e.to_string(),
        }
    })?;
    convert(y)
}

/// Converts one YAML value; also used for YAML state machine definitions.
pub(crate) fn convert(y: Y) -> Result<Value, TemplateError> {
    Ok(match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(convert).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
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
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = convert(t.value)?;
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
