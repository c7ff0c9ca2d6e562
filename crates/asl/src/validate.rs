//! `ValidateStateMachineDefinition` semantics: every diagnostic (errors and
//! warnings) for a definition text, without building a runnable machine.

use crate::error::Diagnostic;

/// Validates a definition; an empty list means it is valid.
pub fn validate(definition: &str) -> Vec<Diagnostic> {
    if definition.trim().is_empty() {
        return vec![Diagnostic::error(
            "MISSING_DESCRIPTION",
            "The state machine definition is empty",
            "",
        )];
    }
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
        assert_eq!(validate(" ")[0].code, "MISSING_DESCRIPTION");
        let dup = validate(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"P","States":{"P":{"Type":"Succeed"}}}]}}}"#,
        );
        assert!(
            dup.iter().any(|d| d.code == "DUPLICATE_STATE_NAME"),
            "{dup:?}"
        );
        let warn = validate(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x":"$.y"},"End":true}}}"#,
        );
        assert_eq!(warn.len(), 1);
        assert_eq!(
            (warn[0].code.as_str(), warn[0].severity),
            ("NO_DOLLAR", crate::Severity::Warning)
        );
        assert!(crate::StateMachine::parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x":"$.y"},"End":true}}}"#).is_ok());
        let loop_only = validate(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"}}}"#);
        assert_eq!(loop_only[0].code, "MISSING_END_STATE");
    }
}
