//! AWS's rules for execution and state machine names, and ARN checks.

use wsflow_aws_wire::ServiceError;

/// Characters AWS rejects in names (besides whitespace and control characters).
const FORBIDDEN: &[char] = &[
    '<', '>', '{', '}', '[', ']', '?', '*', '"', '#', '%', '\\', '^', '|', '~', '`', '$', '&', ',',
    ';', ':', '/',
];

/// Checks a name against AWS's rules: 1–80 characters; no whitespace,
/// brackets, wildcards, `" # % \ ^ | ~ ` $ & , ; : /`, nor control characters
/// (U+0000–001F, U+007F–009F). Violations are `InvalidName` errors.
pub fn check_name(name: &str) -> Result<(), ServiceError> {
    let len = name.chars().count();
    let bad = len == 0
        || len > 80
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || FORBIDDEN.contains(&c));
    if bad {
        return Err(ServiceError::client(
            "InvalidName",
            format!("Invalid Name: '{name}'"),
        ));
    }
    Ok(())
}

/// An `InvalidArn` error for `arn`.
pub fn invalid_arn(arn: &str) -> ServiceError {
    ServiceError::client("InvalidArn", format!("Invalid Arn: '{arn}'"))
}

/// The `<resource-type>:<machine>:<name>` parts of a state machine or
/// execution ARN in the given account; `InvalidArn` if `arn` is not one.
pub fn split_states_arn<'a>(
    arn: &'a str,
    resource_type: &str,
) -> Result<Vec<&'a str>, ServiceError> {
    let parsed = wsflow_aws_wire::arn::parse(arn).ok_or_else(|| invalid_arn(arn))?;
    let mut parts = parsed.resource.split(':');
    if parsed.service != "states" || parts.next() != Some(resource_type) {
        return Err(invalid_arn(arn));
    }
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || rest.iter().any(|p| p.is_empty()) {
        return Err(invalid_arn(arn));
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_aws_style_names() {
        for ok in ["a", "run-1", "Run_2.x", &"x".repeat(80), "ünïcode"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_invalid_names() {
        for bad in [
            "",
            "a b",
            "a/b",
            "a:b",
            "a$b",
            "tab\t",
            "nl\n",
            "\u{7f}",
            &"x".repeat(81),
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.code, "InvalidName", "{bad:?}");
        }
    }

    #[test]
    fn splits_arns() {
        let a = "arn:aws:states:us-east-1:123456789012:execution:M:e1";
        assert_eq!(split_states_arn(a, "execution").unwrap(), vec!["M", "e1"]);
        assert_eq!(
            split_states_arn(a, "stateMachine").unwrap_err().code,
            "InvalidArn"
        );
        assert_eq!(
            split_states_arn("nope", "execution").unwrap_err().code,
            "InvalidArn"
        );
    }
}
