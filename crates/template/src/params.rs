//! Parameter overrides as `sam deploy --parameter-overrides` accepts them, and resolution of
//! the template's Parameters (defaults, overrides, `AllowedValues`, list types).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::TemplateError;

/// Splits `--parameter-overrides` text: `Key=Value Key2='Value 2'` (shorthand, quotes allowed)
/// or `ParameterKey=K,ParameterValue=V` (one pair per whitespace-separated word).
pub fn parse_overrides(text: &str) -> Result<Vec<(String, String)>, TemplateError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(TemplateError::Parameter(format!(
            "unterminated quote in parameter overrides: {text}"
        )));
    }
    if in_word {
        words.push(cur);
    }
    let mut out = Vec::new();
    for w in words {
        if let Some(rest) = w.strip_prefix("ParameterKey=") {
            let Some((k, v)) = rest.split_once(",ParameterValue=") else {
                return Err(TemplateError::Parameter(format!(
                    "bad parameter override {w:?}: expected ParameterKey=K,ParameterValue=V"
                )));
            };
            out.push((k.to_string(), v.to_string()));
        } else if let Some((k, v)) = w.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        } else {
            return Err(TemplateError::Parameter(format!(
                "bad parameter override {w:?}: expected Key=Value"
            )));
        }
    }
    Ok(out)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Resolves every declared parameter to a string (or a list for `List<...>` /
/// `CommaDelimitedList` types).
pub(crate) fn resolve(
    declared: Option<&Value>,
    overrides: &[(String, String)],
) -> Result<BTreeMap<String, Value>, TemplateError> {
    let mut out = BTreeMap::new();
    let Some(Value::Object(decl)) = declared else {
        if let Some((k, _)) = overrides.first() {
            return Err(TemplateError::Parameter(format!(
                "Parameters: [{k}] do not exist in the template"
            )));
        }
        return Ok(out);
    };
    for (k, _) in overrides {
        if !decl.contains_key(k) {
            return Err(TemplateError::Parameter(format!(
                "Parameters: [{k}] do not exist in the template"
            )));
        }
    }
    let mut missing = Vec::new();
    for (name, spec) in decl {
        let given = overrides
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let text = match given.or_else(|| {
            spec.get("Default").and_then(scalar_text).or_else(|| {
                // A list default written as a YAML sequence.
                spec.get("Default").and_then(|d| d.as_array()).map(|a| {
                    a.iter()
                        .filter_map(scalar_text)
                        .collect::<Vec<_>>()
                        .join(",")
                })
            })
        }) {
            Some(t) => t,
            None => {
                missing.push(name.clone());
                continue;
            }
        };
        if let Some(Value::Array(allowed)) = spec.get("AllowedValues")
            && !allowed.iter().filter_map(scalar_text).any(|a| a == text)
        {
            return Err(TemplateError::Parameter(format!(
                "Parameter '{name}' must be one of AllowedValues"
            )));
        }
        let ty = spec.get("Type").and_then(Value::as_str).unwrap_or("String");
        let value = if ty == "CommaDelimitedList" || ty.starts_with("List<") {
            Value::Array(
                text.split(',')
                    .map(|s| Value::String(s.trim().to_string()))
                    .collect(),
            )
        } else {
            Value::String(text)
        };
        out.insert(name.clone(), value);
    }
    if !missing.is_empty() {
        return Err(TemplateError::Parameter(format!(
            "Parameters: [{}] must have values",
            missing.join(", ")
        )));
    }
    Ok(out)
}
