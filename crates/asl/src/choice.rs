//! Choice rules (JSONPath flavour): every comparison operator, the `…Path`
//! forms, `Is*` type checks, `StringMatches`, `And`/`Or`/`Not`. Compiled once;
//! JSONata `Condition`s are handled by the interpreter via [`crate::jsonata`].

use crate::error::ExecError;
use crate::path::JsonPath;
use crate::value::{Sources, Val};
use serde_json::Value;
use std::cmp::Ordering;

/// Comparison families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `String*`.
    String,
    /// `Numeric*`.
    Numeric,
    /// `Boolean*`.
    Boolean,
    /// `Timestamp*`.
    Timestamp,
}

/// The relation tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    /// `…Equals`
    Eq,
    /// `…LessThan`
    Lt,
    /// `…GreaterThan`
    Gt,
    /// `…LessThanEquals`
    Le,
    /// `…GreaterThanEquals`
    Ge,
}

/// Type checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `IsNull`
    Null,
    /// `IsPresent`
    Present,
    /// `IsNumeric`
    Numeric,
    /// `IsString`
    String,
    /// `IsBoolean`
    Boolean,
    /// `IsTimestamp`
    Timestamp,
}

/// Right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A literal.
    Value(Val),
    /// A `…Path` operand.
    Path(JsonPath),
}

/// A compiled boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// All must hold.
    And(Vec<Rule>),
    /// Any must hold.
    Or(Vec<Rule>),
    /// Negation.
    Not(Box<Rule>),
    /// `Variable` compared with a value.
    Compare(JsonPath, Family, Rel, Rhs),
    /// `StringMatches` with the pattern.
    Matches(JsonPath, String),
    /// `IsX: bool`.
    Is(JsonPath, Check, bool),
}

const OPS: &[(&str, Family, Rel)] = &[
    ("StringEquals", Family::String, Rel::Eq),
    ("StringLessThan", Family::String, Rel::Lt),
    ("StringGreaterThan", Family::String, Rel::Gt),
    ("StringLessThanEquals", Family::String, Rel::Le),
    ("StringGreaterThanEquals", Family::String, Rel::Ge),
    ("NumericEquals", Family::Numeric, Rel::Eq),
    ("NumericLessThan", Family::Numeric, Rel::Lt),
    ("NumericGreaterThan", Family::Numeric, Rel::Gt),
    ("NumericLessThanEquals", Family::Numeric, Rel::Le),
    ("NumericGreaterThanEquals", Family::Numeric, Rel::Ge),
    ("BooleanEquals", Family::Boolean, Rel::Eq),
    ("TimestampEquals", Family::Timestamp, Rel::Eq),
    ("TimestampLessThan", Family::Timestamp, Rel::Lt),
    ("TimestampGreaterThan", Family::Timestamp, Rel::Gt),
    ("TimestampLessThanEquals", Family::Timestamp, Rel::Le),
    ("TimestampGreaterThanEquals", Family::Timestamp, Rel::Ge),
];

const CHECKS: &[(&str, Check)] = &[
    ("IsNull", Check::Null),
    ("IsPresent", Check::Present),
    ("IsNumeric", Check::Numeric),
    ("IsString", Check::String),
    ("IsBoolean", Check::Boolean),
    ("IsTimestamp", Check::Timestamp),
];

/// Keys a choice rule may carry besides its operator.
pub const RULE_META: &[&str] = &[
    "Variable",
    "Next",
    "Comment",
    "Assign",
    "Output",
    "Condition",
];

/// Compiles one rule object; errors are `(location suffix, message)`.
pub fn compile(v: &Value, loc: &str) -> Result<Rule, (String, String)> {
    let Value::Object(o) = v else {
        return Err((loc.to_string(), "A choice rule must be an object".into()));
    };
    if let Some(a) = o.get("And").or_else(|| o.get("Or")) {
        let is_and = o.contains_key("And");
        let Value::Array(items) = a else {
            return Err((
                format!("{loc}/{}", if is_and { "And" } else { "Or" }),
                "must be an array".into(),
            ));
        };
        let rules = items
            .iter()
            .enumerate()
            .map(|(i, r)| {
                compile(
                    r,
                    &format!("{loc}/{}[{i}]", if is_and { "And" } else { "Or" }),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(if is_and {
            Rule::And(rules)
        } else {
            Rule::Or(rules)
        });
    }
    if let Some(n) = o.get("Not") {
        return Ok(Rule::Not(Box::new(compile(n, &format!("{loc}/Not"))?)));
    }
    let var = match o.get("Variable") {
        Some(Value::String(s)) => {
            JsonPath::parse(s).map_err(|e| (format!("{loc}/Variable"), e.0))?
        }
        _ => return Err((loc.to_string(), "The field 'Variable' is required".into())),
    };
    for (k, val) in o {
        if RULE_META.contains(&k.as_str()) {
            continue;
        }
        if k == "StringMatches" {
            let Value::String(p) = val else {
                return Err((format!("{loc}/{k}"), "must be a string".into()));
            };
            return Ok(Rule::Matches(var, p.clone()));
        }
        if let Some((_, c)) = CHECKS.iter().find(|(n, _)| n == k) {
            let Value::Bool(b) = val else {
                return Err((format!("{loc}/{k}"), "must be a boolean".into()));
            };
            return Ok(Rule::Is(var, *c, *b));
        }
        let (name, is_path) = match k.strip_suffix("Path") {
            Some(n) => (n, true),
            None => (k.as_str(), false),
        };
        if let Some((_, fam, rel)) = OPS.iter().find(|(n, _, _)| *n == name) {
            let rhs = if is_path {
                let Value::String(s) = val else {
                    return Err((format!("{loc}/{k}"), "must be a path string".into()));
                };
                Rhs::Path(JsonPath::parse(s).map_err(|e| (format!("{loc}/{k}"), e.0))?)
            } else {
                let ok = match fam {
                    Family::String | Family::Timestamp => val.is_string(),
                    Family::Numeric => val.is_number(),
                    Family::Boolean => val.is_boolean(),
                };
                if !ok {
                    return Err((
                        format!("{loc}/{k}"),
                        format!("The value of '{k}' has the wrong type"),
                    ));
                }
                Rhs::Value(Val::from(val))
            };
            return Ok(Rule::Compare(var, *fam, *rel, rhs));
        }
        return Err((
            format!("{loc}/{k}"),
            format!("Field '{k}' is not supported in a choice rule"),
        ));
    }
    Err((
        loc.to_string(),
        "A choice rule needs a comparison operator".into(),
    ))
}

/// Parses an ISO-8601/RFC 3339 timestamp as AWS accepts it.
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    if !s.contains('T') {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(s).ok()
}

/// `StringMatches`: `*` matches any run; `\*` and `\\` are literal.
pub fn string_matches(s: &str, pat: &str) -> bool {
    // tokens: Some(c) literal char, None = star
    let mut toks: Vec<Option<char>> = Vec::new();
    let mut it = pat.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => toks.push(Some(it.next().unwrap_or('\\'))),
            '*' => toks.push(None),
            c => toks.push(Some(c)),
        }
    }
    let s: Vec<char> = s.chars().collect();
    let (mut si, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while si < s.len() {
        if ti < toks.len() && toks[ti] == Some(s[si]) {
            si += 1;
            ti += 1;
        } else if ti < toks.len() && toks[ti].is_none() {
            star = Some(ti);
            mark = si;
            ti += 1;
        } else if let Some(st) = star {
            ti = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while ti < toks.len() && toks[ti].is_none() {
        ti += 1;
    }
    ti == toks.len()
}

fn invalid_path(p: &JsonPath) -> ExecError {
    ExecError::runtime(format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        p.text
    ))
}

/// Evaluates a rule.
pub fn eval(rule: &Rule, src: &Sources<'_>) -> Result<bool, ExecError> {
    Ok(match rule {
        Rule::And(rs) => {
            for r in rs {
                if !eval(r, src)? {
                    return Ok(false);
                }
            }
            true
        }
        Rule::Or(rs) => {
            for r in rs {
                if eval(r, src)? {
                    return Ok(true);
                }
            }
            false
        }
        Rule::Not(r) => !eval(r, src)?,
        Rule::Is(p, check, want) => {
            let v = src.resolve(p);
            let got = match (check, &v) {
                (Check::Present, v) => v.is_some(),
                (_, None) => false,
                (Check::Null, Some(v)) => v.is_null(),
                (Check::Numeric, Some(v)) => v.is_number(),
                (Check::String, Some(v)) => v.is_string(),
                (Check::Boolean, Some(v)) => v.is_boolean(),
                (Check::Timestamp, Some(v)) => v.as_str().and_then(parse_timestamp).is_some(),
            };
            got == *want
        }
        Rule::Matches(p, pat) => {
            let v = src.resolve(p).ok_or_else(|| invalid_path(p))?;
            v.as_str().is_some_and(|s| string_matches(s, pat))
        }
        Rule::Compare(p, fam, rel, rhs) => {
            let l = src.resolve(p).ok_or_else(|| invalid_path(p))?;
            let r = match rhs {
                Rhs::Value(v) => v.clone(),
                Rhs::Path(rp) => src.resolve(rp).ok_or_else(|| invalid_path(rp))?,
            };
            let ord = match fam {
                Family::String => match (l.as_str(), r.as_str()) {
                    (Some(a), Some(b)) => Some(a.cmp(b)),
                    _ => None,
                },
                Family::Numeric => match (&l, &r) {
                    (Val::Number(a), Val::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                    _ => None,
                },
                Family::Boolean => match (l.as_bool(), r.as_bool()) {
                    (Some(a), Some(b)) => Some(if a == b {
                        Ordering::Equal
                    } else {
                        Ordering::Less
                    }),
                    _ => None,
                },
                Family::Timestamp => match (
                    l.as_str().and_then(parse_timestamp),
                    r.as_str().and_then(parse_timestamp),
                ) {
                    (Some(a), Some(b)) => Some(a.cmp(&b)),
                    _ => None,
                },
            };
            match ord {
                None => false,
                Some(o) => match rel {
                    Rel::Eq => o == Ordering::Equal,
                    Rel::Lt => o == Ordering::Less,
                    Rel::Gt => o == Ordering::Greater,
                    Rel::Le => o != Ordering::Greater,
                    Rel::Ge => o != Ordering::Less,
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches() {
        assert!(string_matches("log-2024.txt", "log-*.txt"));
        assert!(string_matches("a*b", "a\\*b"));
        assert!(!string_matches("axb", "a\\*b"));
        assert!(string_matches("", "*"));
        assert!(!string_matches("abc", "*d"));
    }
}
