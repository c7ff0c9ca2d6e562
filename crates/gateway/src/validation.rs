//! Route request validation: a route's `ModelSelectionExpression` picks one
//! of its `RequestModels` (JSON Schema, draft 4) and the message must be
//! valid against it before the integration is called, on proxy and
//! non-proxy integrations alike, as API Gateway validates.
//!
//! * The expression's key selects the model; a key with no model (or an
//!   expression that cannot be evaluated, e.g. on a message that is not
//!   JSON) falls back to the `$default` model; with no `$default` model the
//!   message fails validation, as AWS documents.
//! * The message must be JSON (parsed with `serde_json`, so at most 128
//!   levels deep) and valid against the schema.
//! * A message that fails gets API Gateway's reply, `{"message": "Invalid
//!   request body", "connectionId", "requestId"}` (the socket layer sends
//!   it), and the integration is not called.
//! * Schemas are compiled once, when the gateway is built (each model once,
//!   however many keys name it), with the `jsonschema` crate forced to
//!   draft 4 whatever their `$schema` says; a schema that does not compile
//!   is a configuration error. References to other documents are not
//!   fetched (no network): such a schema does not compile.

use std::{collections::HashMap, sync::Arc};

use jsonschema::Validator;
use serde_json::Value;

use crate::{GatewayError, config::RequestValidationConfig, route_selection::SelectionExpression};

/// A route's compiled request validation.
pub(crate) struct RequestValidator {
    selection: SelectionExpression,
    /// Model selection key → compiled schema.
    models: HashMap<String, Arc<Validator>>,
}

/// Compiles a draft 4 schema.
pub(crate) fn compile_schema(schema: &Value) -> Result<Validator, String> {
    jsonschema::draft4::options()
        .build(schema)
        .map_err(|e| e.to_string())
}

impl RequestValidator {
    pub(crate) fn compile(
        route_key: &str,
        config: &RequestValidationConfig,
    ) -> Result<Self, GatewayError> {
        let selection =
            SelectionExpression::parse(&config.model_selection_expression).map_err(|e| {
                GatewayError::Integration {
                    route_key: route_key.to_owned(),
                    reason: format!("ModelSelectionExpression: {e}"),
                }
            })?;
        let mut by_name: HashMap<&str, Arc<Validator>> = HashMap::new();
        let mut models = HashMap::new();
        for (key, model) in &config.models {
            let validator = match by_name.get(model.name.as_str()) {
                Some(v) => Arc::clone(v),
                None => {
                    let v = Arc::new(compile_schema(&model.schema).map_err(|reason| {
                        GatewayError::Model {
                            route_key: route_key.to_owned(),
                            model: model.name.clone(),
                            reason: format!("the schema does not compile: {reason}"),
                        }
                    })?);
                    by_name.insert(&model.name, Arc::clone(&v));
                    v
                }
            };
            models.insert(key.clone(), validator);
        }
        Ok(Self { selection, models })
    }

    /// Whether the message passes validation.
    pub(crate) fn accepts(&self, body: &str) -> bool {
        let model = self
            .selection
            .evaluate(body)
            .and_then(|key| self.models.get(&key))
            .or_else(|| self.models.get("$default"));
        let Some(validator) = model else {
            return false;
        };
        match serde_json::from_str::<Value>(body) {
            Ok(value) => validator.is_valid(&value),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::config::RequestModel;

    fn validator(
        expr: &str,
        models: &[(&str, &str, Value)],
    ) -> Result<RequestValidator, GatewayError> {
        RequestValidator::compile(
            "r",
            &RequestValidationConfig {
                model_selection_expression: expr.to_owned(),
                models: models
                    .iter()
                    .map(|(k, name, schema)| {
                        (
                            (*k).to_owned(),
                            RequestModel {
                                name: (*name).to_owned(),
                                schema: schema.clone(),
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
            },
        )
    }

    fn email() -> Value {
        json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "required": ["address"],
            "properties": {"address": {"type": "string"}}
        })
    }

    #[test]
    fn selects_the_model_and_validates() {
        let v = validator(
            "${request.body.messageType}",
            &[
                ("email", "emailModel", email()),
                ("$default", "anyObject", json!({"type": "object"})),
            ],
        )
        .unwrap();
        assert!(!v.accepts(r#"{"action":"sendMessage","messageType":"email"}"#));
        assert!(v.accepts(r#"{"action":"sendMessage","messageType":"email","address":"a@b.c"}"#));
        assert!(!v.accepts(r#"{"messageType":"email","address":7}"#));
        // Other keys fall back to $default.
        assert!(v.accepts(r#"{"messageType":"sms"}"#));
        assert!(v.accepts(r#"{}"#));
        assert!(!v.accepts("[1]"));
        assert!(!v.accepts("not json"));
        // Deeper than serde_json parses: refused, never a panic.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(!v.accepts(&deep));
    }

    #[test]
    fn without_a_default_model_unmatched_messages_fail() {
        let v = validator("$request.body.kind", &[("email", "emailModel", email())]).unwrap();
        assert!(v.accepts(r#"{"kind":"email","address":"x"}"#));
        assert!(!v.accepts(r#"{"kind":"other","address":"x"}"#));
        assert!(!v.accepts(r#"{"address":"x"}"#));
        let none = validator("\\$default", &[]).unwrap();
        assert!(!none.accepts("{}"));
    }

    #[test]
    fn draft_4_rules_apply() {
        // Draft 4: exclusiveMaximum is a boolean beside maximum.
        let v = validator(
            "\\$default",
            &[("$default", "n", json!({"type":"object","properties":{"n":{"type":"number","maximum":10,"exclusiveMaximum":true}}}))],
        )
        .unwrap();
        assert!(v.accepts(r#"{"n": 9}"#));
        assert!(!v.accepts(r#"{"n": 10}"#));
    }

    #[test]
    fn deep_messages_on_a_small_stack() {
        // The stack's worker threads have 2 MiB stacks: the deepest message serde_json parses,
        // against a recursive schema, must validate there.
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(|| {
                let v = validator(
                    "\\$default",
                    &[(
                        "$default",
                        "tree",
                        json!({"type": ["array", "number"], "items": {"$ref": "#"}}),
                    )],
                )
                .unwrap();
                let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
                assert!(v.accepts(&deep(127)));
                assert!(!v.accepts(&deep(129)), "deeper than serde_json parses");
                assert!(!v.accepts(r#"[["x"]]"#));
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
    }

    #[test]
    fn a_schema_that_does_not_compile_is_refused() {
        for schema in [
            json!({"type": 12}),
            json!({"pattern": "("}),
            json!({"$ref": "http://example.invalid/s.json"}),
        ] {
            let e = validator("\\$default", &[("$default", "broken", schema.clone())])
                .err()
                .unwrap_or_else(|| panic!("{schema} compiled"));
            let text = e.to_string();
            assert!(
                text.contains("broken") && text.contains("does not compile"),
                "{text}"
            );
        }
    }
}
