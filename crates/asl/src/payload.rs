//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, JSONPath
//! `Assign`): compiled once into a tree of literals, paths and intrinsic calls.

use crate::error::{ExecError, RUNTIME};
use crate::intrinsics::{self, Call};
use crate::path::JsonPath;
use crate::value::{Obj, Sources, Val};
use serde_json::Value;
use std::sync::Arc;

/// A compiled template node.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A constant value.
    Literal(Val),
    /// An object; each entry is (output key, node).
    Object(Vec<(Arc<str>, Template)>),
    /// An array of nodes.
    Array(Vec<Template>),
    /// `"key.$": "$.path"`; the original key (with `.$`) kept for error texts.
    Path(JsonPath, String),
    /// `"key.$": "States.X(…)"`.
    Intrinsic(Box<Call>, String, String),
}

impl Template {
    /// Compiles a template value; errors name the offending key.
    pub fn compile(v: &Value) -> Result<Template, (String, String)> {
        Ok(match v {
            Value::Object(o) => {
                let mut out = Vec::with_capacity(o.len());
                for (k, v) in o {
                    if let Some(base) = k.strip_suffix(".$") {
                        let Value::String(s) = v else {
                            return Err((
                                k.clone(),
                                format!(
                                    "The value for the field '{k}' must be a STRING that contains a JSONPath but was an {}",
                                    kind(v)
                                ),
                            ));
                        };
                        let node = if intrinsics::is_intrinsic(s) {
                            let c = intrinsics::parse(s).map_err(|m| (k.clone(), m))?;
                            Template::Intrinsic(Box::new(c), k.clone(), s.clone())
                        } else {
                            let p = JsonPath::parse(s).map_err(|e| {
                                (k.clone(), format!("The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call ({})", e.0))
                            })?;
                            Template::Path(p, k.clone())
                        };
                        out.push((Arc::from(base), node));
                    } else {
                        out.push((Arc::from(k.as_str()), Template::compile(v)?));
                    }
                }
                Template::Object(out)
            }
            Value::Array(a) => {
                let items = a
                    .iter()
                    .map(Template::compile)
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|t| matches!(t, Template::Literal(_))) {
                    Template::Literal(Val::from(v))
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Literal(Val::from(other)),
        })
    }

    /// Evaluates the template against `src`.
    pub fn eval(&self, src: &Sources<'_>) -> Result<Val, ExecError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(entries) => {
                let mut m = Obj::with_capacity(entries.len());
                for (k, t) in entries {
                    m.insert(k.clone(), t.eval(src)?);
                }
                Ok(Val::object(m))
            }
            Template::Array(items) => Ok(Val::array(
                items.iter().map(|t| t.eval(src)).collect::<Result<_, _>>()?,
            )),
            Template::Path(p, key) => src.resolve(p).ok_or_else(|| {
                ExecError::runtime(format!(
                    "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                    p.text,
                    key,
                    src.input.to_text()
                ))
            }),
            Template::Intrinsic(c, _key, _text) => intrinsics::eval(c, src)
                .map(Val::from)
                .map_err(|(e, m)| {
                    let e = if e == RUNTIME { RUNTIME.to_string() } else { e };
                    ExecError::new(e, m)
                }),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(_) => "NUMBER",
        Value::String(_) => "STRING",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}
