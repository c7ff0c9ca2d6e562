//! `ValidateStateMachineDefinition` semantics: every diagnostic (errors and
//! warnings) for a definition text, without building a runnable machine.

use crate::error::Diagnostic;

/// Validates a definition; an empty list means it is valid.
pub fn validate(definition: &str) -> Vec<Diagnostic> {
    match serde_json::from_str::<serde_json::Value>(definition) {
        Err(e) => vec![Diagnostic::error(
            "INVALID_JSON_DESCRIPTION",
            format!("Invalid JSON: {e}"),
            "",
        )],
        Ok(v) => crate::definition::compile_definition(v).1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_missing_target_location() {
        let d = validate(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "MISSING_TRANSITION_TARGET");
        assert_eq!(d[0].location.as_deref(), Some("/States/A/Next"));
        assert!(
            validate(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#).is_empty()
        );
        assert_eq!(validate("{").len(), 1);
    }
}
