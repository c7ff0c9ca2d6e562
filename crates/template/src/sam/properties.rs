//! The SAM translator's property checks on a SAM resource (`SamResourceMacro.validate_properties`
//! in aws-sam-translator), reproduced with its texts: an unknown property, a missing required
//! one, a value of the wrong type. A value shaped like an intrinsic function (a map with one
//! key) passes every type check, as in the translator, which leaves it to CloudFormation.

use serde_json::{Map, Value};

use super::invalid;
use crate::TemplateError;

/// The type a property's value must have.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// `IS_DICT`: "Property 'X' should be a map."
    Map,
    /// `IS_STR`: "Property 'X' should be a string."
    Str,
    /// `IS_BOOL`: "Type of property 'X' is invalid."
    Bool,
    /// `one_of(IS_STR, IS_DICT)`: "Type of property 'X' is invalid."
    StrOrMap,
    /// `dict_of(IS_STR, IS_STR)`: "Type of property 'X' is invalid."
    MapOfStr,
    /// A pass-through property: anything.
    Any,
}

/// One entry of a SAM resource's `property_types`, in the translator's order.
pub(crate) struct Prop {
    /// The property's name.
    pub name: &'static str,
    /// Whether it must be present.
    pub required: bool,
    /// The type its value must have.
    pub kind: Kind,
}

impl Kind {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Self::Map => v.is_object(),
            Self::Str => v.is_string(),
            Self::Bool => v.is_boolean(),
            Self::StrOrMap => v.is_string() || v.is_object(),
            Self::MapOfStr => v
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string)),
            Self::Any => true,
        }
    }

    fn message(self, name: &str) -> String {
        match self {
            Self::Map => format!("Property '{name}' should be a map."),
            Self::Str => format!("Property '{name}' should be a string."),
            _ => format!("Type of property '{name}' is invalid."),
        }
    }
}

/// Checks `props` (the resource's `Properties`) against `spec`, as the translator does: unknown
/// properties first (when the resource is read), then each property in `spec`'s order.
pub(crate) fn validate(
    id: &str,
    resource_type: &str,
    props: &Map<String, Value>,
    spec: &[Prop],
) -> Result<(), TemplateError> {
    if let Some(unknown) = props.keys().find(|k| !spec.iter().any(|p| p.name == *k)) {
        return Err(invalid(
            id,
            &format!("property {unknown} not defined for resource of type {resource_type}"),
        ));
    }
    for p in spec {
        match props.get(p.name) {
            None | Some(Value::Null) if p.required => {
                return Err(invalid(
                    id,
                    &format!("Missing required property '{}'.", p.name),
                ));
            }
            None | Some(Value::Null) => {}
            Some(v) if is_intrinsic_shaped(v) => {}
            Some(v) if !p.kind.accepts(v) => return Err(invalid(id, &p.kind.message(p.name))),
            Some(_) => {}
        }
    }
    Ok(())
}

/// The translator's `_is_intrinsic_function`: a map with exactly one key.
fn is_intrinsic_shaped(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.len() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &[Prop] = &[
        Prop {
            name: "Routes",
            required: true,
            kind: Kind::Map,
        },
        Prop {
            name: "Name",
            required: false,
            kind: Kind::Str,
        },
        Prop {
            name: "On",
            required: false,
            kind: Kind::Bool,
        },
    ];

    fn check(props: Value) -> String {
        let Value::Object(m) = props else {
            unreachable!()
        };
        validate("R", "T", &m, SPEC)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_translators_texts() {
        assert!(
            check(json!({"Bogus": 1}))
                .contains("property Bogus not defined for resource of type T")
        );
        assert!(check(json!({})).contains("Missing required property 'Routes'."));
        assert!(check(json!({"Routes": []})).contains("Property 'Routes' should be a map."));
        assert!(
            check(json!({"Routes": {}, "Name": 3})).contains("Property 'Name' should be a string.")
        );
        assert!(
            check(json!({"Routes": {}, "On": "x"})).contains("Type of property 'On' is invalid.")
        );
        assert_eq!(
            check(json!({"Routes": {}, "Name": {"Ref": "P"}, "On": {"Ref": "B"}})),
            ""
        );
    }
}
