//! Selection expressions (`$request.body.action`, `${request.body.a.b}-v1`,
//! `\$default`) compiled once and evaluated per message, with AWS's rules:
//!
//! * a variable starts with `$`; `${…}` marks its bounds explicitly;
//! * several variables may appear, each evaluated once (no recursion);
//! * `\$` is a literal dollar, e.g. `\$default`;
//! * `request.body` is the message parsed as JSON and what follows it a
//!   JSONPath (`.a.b`, `[0]`, `['a b']`); a non-string result is
//!   stringified (JSON text);
//! * a message that is not JSON, or a path that selects nothing, cannot be
//!   evaluated: the message goes to `$default`.
//!
//! Only `$request.body.*` variables exist for WebSocket route, model and
//! request template selection; an integration response's template selection
//! ([`SelectionExpression::parse_response`]) may also use
//! `$integration.response.statuscode`, `$integration.response.header.<name>`
//! and `$integration.response.multivalueheader.<name>`, as AWS documents.
//! Anything else is refused when the gateway is built.
//!
//! Evaluation reads the message text through [`wsflow_vtl::json_text`], so
//! a message of any nesting depth is routed by its fields (a parsed
//! `serde_json::Value` would stop at 128 levels).

use wsflow_vtl::json_text::{self, Selected, Step};

use crate::GatewayError;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Body(Vec<Step>),
    /// `$integration.response.statuscode`.
    StatusCode,
    /// `$integration.response.header.<name>` (the last value) or
    /// `…multivalueheader.<name>` (all values, comma-separated).
    Header {
        name: String,
        multi: bool,
    },
}

/// What an integration answered, for response template selection.
#[derive(Debug, Clone, Copy)]
pub struct IntegrationResult<'a> {
    /// The integration's status code.
    pub status: u16,
    /// The integration's response headers.
    pub headers: &'a [(String, String)],
}

/// A compiled selection expression.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionExpression {
    parts: Vec<Part>,
}

fn err(expression: &str, reason: impl Into<String>) -> GatewayError {
    GatewayError::SelectionExpression {
        expression: expression.to_owned(),
        reason: reason.into(),
    }
}

/// Parses a JSONPath tail after `request.body` (`.a.b[0]['c']`).
fn parse_path(expression: &str, mut s: &str) -> Result<Vec<Step>, GatewayError> {
    let mut steps = Vec::new();
    while !s.is_empty() {
        if let Some(rest) = s.strip_prefix('.') {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return Err(err(expression, "empty path segment"));
            }
            steps.push(Step::Key(rest[..end].to_owned()));
            s = &rest[end..];
        } else if let Some(rest) = s.strip_prefix('[') {
            let end = rest
                .find(']')
                .ok_or_else(|| err(expression, "unclosed '['"))?;
            let inner = rest[..end].trim();
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|x| x.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')));
            match quoted {
                Some(key) => steps.push(Step::Key(key.to_owned())),
                None => steps.push(Step::Index(
                    inner
                        .parse()
                        .map_err(|_| err(expression, format!("bad index [{inner}]")))?,
                )),
            }
            s = &rest[end + 1..];
        } else {
            return Err(err(expression, format!("unexpected {s:?} in path")));
        }
    }
    Ok(steps)
}

fn parse_variable(expression: &str, var: &str, response: bool) -> Result<Part, GatewayError> {
    // `$default` is the reserved key, never a variable: AWS documents the
    // escaped form `\$default`, and templates in the wild also write it bare.
    if var == "default" {
        return Ok(Part::Literal("$default".to_owned()));
    }
    if response {
        if var == "integration.response.statuscode" {
            return Ok(Part::StatusCode);
        }
        for (prefix, multi) in [
            ("integration.response.header.", false),
            ("integration.response.multivalueheader.", true),
        ] {
            if let Some(name) = var.strip_prefix(prefix).filter(|n| !n.is_empty()) {
                return Ok(Part::Header {
                    name: name.to_owned(),
                    multi,
                });
            }
        }
    }
    let tail = var.strip_prefix("request.body").ok_or_else(|| {
        let available = if response {
            "$request.body.*, $integration.response.statuscode, $integration.response.header.* and $integration.response.multivalueheader.* are available"
        } else {
            "only $request.body.* is available"
        };
        err(
            expression,
            format!("unsupported variable ${var}; {available}"),
        )
    })?;
    Ok(Part::Body(parse_path(expression, tail)?))
}

impl SelectionExpression {
    /// Compiles a route, model or request template selection expression
    /// (`$request.body.*` variables only).
    pub fn parse(expression: &str) -> Result<Self, GatewayError> {
        Self::compile(expression, false)
    }

    /// Compiles an integration response's template selection expression,
    /// which may also read the integration's status code and headers.
    pub fn parse_response(expression: &str) -> Result<Self, GatewayError> {
        Self::compile(expression, true)
    }

    fn compile(expression: &str, response: bool) -> Result<Self, GatewayError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = expression.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some((_, '$'))) => {
                    chars.next();
                    literal.push('$');
                }
                '$' => {
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    let rest = &expression[i + 1..];
                    let (var, consumed) = if let Some(braced) = rest.strip_prefix('{') {
                        let end = braced
                            .find('}')
                            .ok_or_else(|| err(expression, "unclosed '${'"))?;
                        (&braced[..end], end + 2)
                    } else {
                        // An unbraced variable runs over name characters,
                        // dots and bracket segments.
                        let mut end = 0;
                        let bytes = rest.as_bytes();
                        while end < bytes.len() {
                            let b = bytes[end];
                            if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-' {
                                end += 1;
                            } else if b == b'[' {
                                match rest[end..].find(']') {
                                    Some(close) => end += close + 1,
                                    None => return Err(err(expression, "unclosed '['")),
                                }
                            } else {
                                break;
                            }
                        }
                        (&rest[..end], end)
                    };
                    parts.push(parse_variable(expression, var, response)?);
                    // Skip the characters the variable consumed.
                    while let Some(&(j, _)) = chars.peek() {
                        if j < i + 1 + consumed {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Self { parts })
    }

    /// Evaluates against a message's text. `None` means "cannot be
    /// evaluated": the text is not JSON, or a path selects nothing or `null`.
    pub fn evaluate(&self, body: &str) -> Option<String> {
        self.evaluate_with(body, None)
    }

    /// Evaluates an integration response's template selection expression:
    /// `$request.body.*` reads the client's message, the
    /// `$integration.response.*` variables read `result`. A header the
    /// integration did not send cannot be evaluated (`None`).
    pub fn evaluate_response(&self, body: &str, result: IntegrationResult<'_>) -> Option<String> {
        self.evaluate_with(body, Some(result))
    }

    fn evaluate_with(&self, body: &str, result: Option<IntegrationResult<'_>>) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Body(steps) => match json_text::select(body, steps)? {
                    Selected::Null => return None,
                    Selected::String(s) | Selected::Json(s) => out.push_str(&s),
                },
                Part::StatusCode => out.push_str(&result?.status.to_string()),
                Part::Header { name, multi } => {
                    let mut values = result?
                        .headers
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.as_str());
                    if *multi {
                        let all: Vec<&str> = values.collect();
                        if all.is_empty() {
                            return None;
                        }
                        out.push_str(&all.join(","));
                    } else {
                        out.push_str(values.next_back()?);
                    }
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str, body: &str) -> Option<String> {
        SelectionExpression::parse(expr).unwrap().evaluate(body)
    }

    #[test]
    fn evaluates_like_api_gateway() {
        let table: &[(&str, &str, Option<&str>)] = &[
            ("$request.body.action", r#"{"action":"echo"}"#, Some("echo")),
            (
                "${request.body.action}",
                r#"{"action":"echo"}"#,
                Some("echo"),
            ),
            ("$request.body.a.b", r#"{"a":{"b":"deep"}}"#, Some("deep")),
            ("$request.body.a[1]", r#"{"a":["x","y"]}"#, Some("y")),
            ("$request.body['odd key']", r#"{"odd key":"k"}"#, Some("k")),
            (
                "${request.body.version}-beta",
                r#"{"version":2}"#,
                Some("2-beta"),
            ),
            ("$request.body.n", r#"{"n":true}"#, Some("true")),
            ("$request.body.o", r#"{"o":{"x":1}}"#, Some(r#"{"x":1}"#)),
            ("$request.body.action", r#"{"other":1}"#, None),
            ("$request.body.action", r#"{"action":null}"#, None),
            ("$request.body.action", "not json", None),
            ("$request.body.action", r#"["array"]"#, None),
            ("\\$default", "anything", Some("$default")),
            (
                "${request.body.a}${request.body.b}",
                r#"{"a":"x","b":"y"}"#,
                Some("xy"),
            ),
        ];
        for (expr, body, want) in table {
            assert_eq!(eval(expr, body).as_deref(), *want, "{expr} on {body}");
        }
    }

    #[test]
    fn refuses_unsupported_expressions() {
        for bad in [
            "$context.routeKey",
            "${request.body.a",
            "$request.body.",
            "$request.body[x",
        ] {
            assert!(SelectionExpression::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            SelectionExpression::parse("\\$default")
                .unwrap()
                .evaluate("not JSON")
                .as_deref(),
            Some("$default")
        );
        assert!(
            SelectionExpression::parse("$request.body.x")
                .unwrap()
                .evaluate(r#"{"x": "1"}"#)
                .is_some()
        );
        // Response variables only where AWS allows them.
        assert!(SelectionExpression::parse("$integration.response.statuscode").is_err());
        assert!(SelectionExpression::parse_response("$integration.response.body.x").is_err());
        assert!(SelectionExpression::parse_response("$integration.response.header.").is_err());
    }

    #[test]
    fn response_template_selection() {
        let headers = [
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-A".to_owned(), "1".to_owned()),
            ("x-a".to_owned(), "2".to_owned()),
        ];
        let result = IntegrationResult {
            status: 404,
            headers: &headers,
        };
        let eval = |expr: &str, body: &str| {
            SelectionExpression::parse_response(expr)
                .unwrap()
                .evaluate_response(body, result)
        };
        assert_eq!(
            eval("$integration.response.statuscode", "x").as_deref(),
            Some("404")
        );
        assert_eq!(
            eval(
                "${integration.response.statuscode}-${request.body.kind}",
                r#"{"kind":"k"}"#
            )
            .as_deref(),
            Some("404-k")
        );
        assert_eq!(
            eval("$integration.response.header.content-type", "").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            eval("$integration.response.header.X-A", "").as_deref(),
            Some("2")
        );
        assert_eq!(
            eval("$integration.response.multivalueheader.X-A", "").as_deref(),
            Some("1,2")
        );
        assert_eq!(eval("$integration.response.header.Missing", ""), None);
        assert_eq!(eval("\\$default", "").as_deref(), Some("$default"));
        // Without a result the response variables cannot be evaluated.
        assert_eq!(
            SelectionExpression::parse_response("$integration.response.statuscode")
                .unwrap()
                .evaluate("{}"),
            None
        );
    }
}
