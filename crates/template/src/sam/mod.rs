//! SAM resources the loader expands as the SAM transform does, before anything else reads the
//! template, so the rest of the loader sees only plain CloudFormation:
//! `AWS::Serverless::WebSocketApi` ([`websocket`]) and `AWS::Serverless::SimpleTable`
//! ([`simple_table`]). (`AWS::Serverless::Function` and `StateMachine` are read directly by the
//! loader: their properties map onto the model one to one.)
//!
//! The reference is aws-sam-translator 1.115 (PyPI): same logical ids, properties, resource
//! attributes and validation texts. `tests/sam_translator.rs` runs the translator on the same
//! templates and compares resource by resource.

mod properties;
mod simple_table;
mod websocket;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::TemplateError;

/// The translator's `InvalidResourceException` text.
fn invalid(id: &str, message: &str) -> TemplateError {
    TemplateError::Resource {
        resource: id.to_string(),
        property: String::new(),
        message: format!("Resource with id [{id}] is invalid. {message}"),
    }
}

/// Replaces every SAM resource the loader expands in `resources` by the resources the SAM
/// transform generates for it. `params` are the template's parameter values (defaults and
/// overrides); `account` gives the pseudo parameters the translator knows (`AWS::Region`,
/// `AWS::Partition`).
pub(crate) fn expand(
    resources: &mut Map<String, Value>,
    params: &BTreeMap<String, Value>,
    account: &wsflow_aws_wire::Account,
) -> Result<(), TemplateError> {
    let mut params = params.clone();
    params
        .entry("AWS::Region".into())
        .or_insert_with(|| account.region.clone().into());
    params
        .entry("AWS::Partition".into())
        .or_insert_with(|| account.partition.clone().into());
    let ids: Vec<(String, String)> = resources
        .iter()
        .filter_map(|(id, r)| Some((id.clone(), r.get("Type")?.as_str()?.to_string())))
        .collect();
    for (id, kind) in ids {
        let generated = match kind.as_str() {
            websocket::TYPE => websocket::expand(&id, &resources[&id], &params)?,
            simple_table::TYPE => simple_table::expand(&id, &resources[&id])?,
            _ => continue,
        };
        resources.remove(&id);
        for (new_id, resource) in generated {
            if new_id != id && resources.contains_key(&new_id) {
                return Err(invalid(
                    &id,
                    &format!(
                        "the generated resource {new_id} clashes with a resource of the template"
                    ),
                ));
            }
            resources.insert(new_id, resource);
        }
    }
    Ok(())
}

/// Python's truthiness for a template value (`if x:` in the translator).
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
    }
}

/// The translator's `resolve_parameter_refs`: `{"Ref": P}` and `${P}` inside `Fn::Sub` strings
/// replaced by the value of parameter `P` wherever it has one; everything else kept as written.
fn resolve_parameter_refs(v: &Value, params: &BTreeMap<String, Value>) -> Value {
    // Pre-order, as the translator's `_traverse`: the node first, then the children of what it
    // became (so the variables of a list-form `Fn::Sub` are resolved too).
    let node = resolve_node(v, params);
    match node {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, resolve_parameter_refs(&x, params)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| resolve_parameter_refs(x, params))
                .collect(),
        ),
        other => other,
    }
}

/// One node: a `Ref` to a parameter becomes its value; a `Fn::Sub` string has its parameter
/// names substituted.
fn resolve_node(v: &Value, params: &BTreeMap<String, Value>) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    if m.len() != 1 {
        return v.clone();
    }
    if let Some(name) = m.get("Ref").and_then(Value::as_str) {
        return params.get(name).cloned().unwrap_or_else(|| v.clone());
    }
    if let Some(sub) = m.get("Fn::Sub") {
        let sub = match sub {
            Value::String(s) => Value::String(substitute(s, params)),
            Value::Array(parts) => {
                let mut parts = parts.clone();
                if let Some(Value::String(s)) = parts.first_mut() {
                    *s = substitute(s, params);
                }
                Value::Array(parts)
            }
            other => other.clone(),
        };
        return serde_json::json!({ "Fn::Sub": sub });
    }
    v.clone()
}

/// `${P}` in a `Fn::Sub` string replaced by parameter `P`'s value when it is a string or a
/// number; `${!Literal}` and unknown names are kept.
fn substitute(text: &str, params: &BTreeMap<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match params.get(name) {
            Some(Value::String(s)) if !name.starts_with('!') => out.push_str(s),
            Some(Value::Number(n)) if !name.starts_with('!') => out.push_str(&n.to_string()),
            _ => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameter_refs_and_sub_strings_are_resolved() {
        let mut params = BTreeMap::new();
        params.insert("Fn".to_string(), json!("f"));
        params.insert("AWS::Region".to_string(), json!("eu-west-1"));
        let v = json!({
            "a": {"Ref": "Fn"},
            "b": {"Ref": "Other"},
            "c": {"Fn::Sub": "arn:${AWS::Region}:${Fn}:${Other}:${!Fn}"},
            "d": {"Fn::Sub": ["${Fn}-${x}", {"x": {"Ref": "Fn"}}]},
            "e": [{"Ref": "Fn"}, {"Fn::GetAtt": ["Fn", "Arn"]}],
        });
        assert_eq!(
            resolve_parameter_refs(&v, &params),
            json!({
                "a": "f",
                "b": {"Ref": "Other"},
                "c": {"Fn::Sub": "arn:eu-west-1:f:${Other}:${!Fn}"},
                "d": {"Fn::Sub": ["f-${x}", {"x": "f"}]},
                "e": ["f", {"Fn::GetAtt": ["Fn", "Arn"]}],
            })
        );
        assert_eq!(substitute("a ${unterminated", &params), "a ${unterminated");
    }
}
