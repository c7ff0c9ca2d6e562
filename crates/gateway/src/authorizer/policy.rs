//! The IAM policy a Lambda authorizer returns, evaluated as API Gateway does
//! for `execute-api:Invoke` on the `$connect` method ARN.
//!
//! IAM's evaluation logic, reduced to what an authorizer policy can say: a
//! statement applies when its `Action` matches `execute-api:Invoke` (IAM
//! action names are case-insensitive) and its `Resource` matches the method
//! ARN (case-sensitive); `*` matches any run of characters, `?` any one. An
//! applicable `Deny` wins over any `Allow`; with no applicable `Allow` the
//! request is implicitly denied. `NotAction` / `NotResource` are honoured
//! (the statement applies when the value does *not* match). `Effect` is
//! case-sensitive, as in IAM. A `Condition` block is not evaluated: a policy
//! with one is refused (500, the error logged) rather than read without it.
//! Hand-written:
//! no maintained crate evaluates IAM policy documents (the wildcard matcher
//! is a dozen lines).

use serde_json::Value;

/// The action every WebSocket authorizer policy is checked for.
pub const INVOKE: &str = "execute-api:Invoke";

/// What a policy decides for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An `Allow` statement applies and no `Deny` does.
    Allow,
    /// A `Deny` statement applies.
    ExplicitDeny,
    /// No statement applies.
    ImplicitDeny,
}

/// Why a policy document could not be read (API Gateway answers 500, as
/// for any authorizer configuration error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy document: {0}")]
pub struct PolicyError(pub String);

/// Evaluates `document` (`{"Version", "Statement": [...] | {...}}`) for
/// `action` on `resource`.
pub fn evaluate(document: &Value, action: &str, resource: &str) -> Result<Decision, PolicyError> {
    let statements = match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => return Err(PolicyError("Statement must be an object or a list".into())),
        None => return Err(PolicyError("no Statement".into())),
    };
    let mut allowed = false;
    for statement in statements {
        // IAM: "The Effect value is case sensitive."
        let effect = match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err(PolicyError("Effect must be Allow or Deny".into())),
        };
        if statement.get("Condition").is_some_and(|c| !c.is_null()) {
            return Err(PolicyError(
                "a statement has a Condition, which the local stack does not evaluate (remove it to run locally)".into(),
            ));
        }
        let action_applies = applies(statement, "Action", "NotAction", |p| {
            wildcard_match(&p.to_ascii_lowercase(), &action.to_ascii_lowercase())
        })?;
        let resource_applies = applies(statement, "Resource", "NotResource", |p| {
            wildcard_match(p, resource)
        })?;
        if action_applies && resource_applies {
            if !effect {
                return Ok(Decision::ExplicitDeny);
            }
            allowed = true;
        }
    }
    Ok(if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    })
}

/// Whether `key` (or its negation `not_key`) of a statement matches.
fn applies(
    statement: &Value,
    key: &str,
    not_key: &str,
    matches: impl Fn(&str) -> bool,
) -> Result<bool, PolicyError> {
    let patterns = |v: &Value| -> Result<Vec<String>, PolicyError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| PolicyError(format!("{key} entries must be strings")))
                })
                .collect(),
            _ => Err(PolicyError(format!("{key} must be a string or a list"))),
        }
    };
    match (statement.get(key), statement.get(not_key)) {
        (Some(v), None) => Ok(patterns(v)?.iter().any(|p| matches(p))),
        (None, Some(v)) => Ok(!patterns(v)?.iter().any(|p| matches(p))),
        (Some(_), Some(_)) => Err(PolicyError(format!("both {key} and {not_key}"))),
        (None, None) => Err(PolicyError(format!("a statement needs {key}"))),
    }
}

/// IAM wildcard matching: `*` any run of characters (also empty), `?` one
/// character. Iterative with one backtrack point (linear for typical ARNs,
/// no recursion on hostile input).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:wsflowlocl/api/$connect";

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", ARN));
        assert!(wildcard_match(ARN, ARN));
        assert!(wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:wsflowlocl/*",
            ARN
        ));
        assert!(wildcard_match(
            "arn:aws:execute-api:*:*:wsflowlocl/ap?/$connect",
            ARN
        ));
        assert!(!wildcard_match(
            "arn:aws:execute-api:*:*:wsflowlocl/a?/$connect",
            ARN
        ));
        assert!(!wildcard_match(
            "arn:aws:execute-api:us-east-1:123456789012:other/*",
            ARN
        ));
        assert!(wildcard_match("a*b*c", "a-x-b-y-b-c"));
        assert!(!wildcard_match("a*b*c", "a-x-b-y-b-d"));
        assert!(!wildcard_match("?", ""));
        assert!(wildcard_match("*?*", "x"));
    }

    #[test]
    fn allow_deny_and_implicit_deny() {
        let allow = doc(json!([{"Action": INVOKE, "Effect": "Allow", "Resource": ARN}]));
        assert_eq!(evaluate(&allow, INVOKE, ARN), Ok(Decision::Allow));
        // A single statement object, wildcard resource and action.
        let one = json!({"Statement": {"Action": "execute-api:*", "Effect": "Allow", "Resource": "arn:aws:execute-api:*"}});
        assert_eq!(evaluate(&one, INVOKE, ARN), Ok(Decision::Allow));
        // Action names are case-insensitive, resources are not.
        let case =
            doc(json!([{"Action": "EXECUTE-API:invoke", "Effect": "Allow", "Resource": ARN}]));
        assert_eq!(evaluate(&case, INVOKE, ARN), Ok(Decision::Allow));
        let upper =
            doc(json!([{"Action": INVOKE, "Effect": "Allow", "Resource": ARN.to_uppercase()}]));
        assert_eq!(evaluate(&upper, INVOKE, ARN), Ok(Decision::ImplicitDeny));
        // The AWS docs' deny example (another resource entirely): implicit deny.
        let other = doc(json!([{"Action": INVOKE, "Effect": "Allow",
            "Resource": "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/dev/GET/"}]));
        assert_eq!(evaluate(&other, INVOKE, ARN), Ok(Decision::ImplicitDeny));
        // Explicit deny wins, whatever the order.
        let both = doc(json!([
            {"Action": INVOKE, "Effect": "Allow", "Resource": "*"},
            {"Action": [INVOKE], "Effect": "Deny", "Resource": [ARN]}
        ]));
        assert_eq!(evaluate(&both, INVOKE, ARN), Ok(Decision::ExplicitDeny));
        // Another action does not apply.
        let other_action = doc(
            json!([{"Action": "execute-api:ManageConnections", "Effect": "Allow", "Resource": "*"}]),
        );
        assert_eq!(
            evaluate(&other_action, INVOKE, ARN),
            Ok(Decision::ImplicitDeny)
        );
        // NotResource: allow everything but another stage.
        let not = doc(json!([{"Action": INVOKE, "Effect": "Allow", "NotResource": "*/prod/*"}]));
        assert_eq!(evaluate(&not, INVOKE, ARN), Ok(Decision::Allow));
        assert_eq!(
            evaluate(&doc(json!([])), INVOKE, ARN),
            Ok(Decision::ImplicitDeny)
        );
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            json!({}),
            json!({"Statement": "x"}),
            doc(json!([{"Action": INVOKE, "Effect": "Maybe", "Resource": "*"}])),
            doc(json!([{"Action": INVOKE, "Effect": "allow", "Resource": "*"}])),
            doc(
                json!([{"Action": INVOKE, "Effect": "Allow", "Resource": "*",
                        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]),
            ),
            doc(json!([{"Action": INVOKE, "Effect": "Allow"}])),
            doc(json!([{"Action": 3, "Effect": "Allow", "Resource": "*"}])),
            doc(json!([{"Action": [INVOKE, 1], "Effect": "Allow", "Resource": "*"}])),
        ] {
            assert!(evaluate(&bad, INVOKE, ARN).is_err(), "{bad}");
        }
    }
}
