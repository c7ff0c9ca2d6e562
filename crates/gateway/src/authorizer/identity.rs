//! Identity sources of a `REQUEST` authorizer: before the function is
//! called, API Gateway checks each one, and when one is missing, null or
//! empty it answers `401 Unauthorized` without calling the function.
//!
//! WebSocket APIs accept `route.request.header.<name>` (case-insensitive
//! name), `route.request.querystring.<name>`, `stageVariables.<name>` and
//! `context.<name>` (a `$context` variable, dotted paths allowed).

use serde_json::{Map, Value};

/// One parsed identity source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `route.request.header.<name>`.
    Header(String),
    /// `route.request.querystring.<name>`.
    Query(String),
    /// `stageVariables.<name>`.
    StageVariable(String),
    /// `context.<path>`.
    Context(String),
}

/// Why an identity source expression is not one API Gateway accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "identity source {0:?} must be route.request.header.X, route.request.querystring.X, stageVariables.X or context.X"
)]
pub struct BadSource(pub String);

impl Source {
    /// Parses one identity source (a leading `$`, as in
    /// `$request.header.X`, is accepted too).
    pub fn parse(expr: &str) -> Result<Source, BadSource> {
        let e = expr.trim().trim_start_matches('$');
        let e = e.strip_prefix("route.").unwrap_or(e);
        let named = |rest: &str| (!rest.is_empty()).then(|| rest.to_owned());
        let parsed = if let Some(n) = e.strip_prefix("request.header.") {
            named(n).map(Source::Header)
        } else if let Some(n) = e.strip_prefix("request.querystring.") {
            named(n).map(Source::Query)
        } else if let Some(n) = e.strip_prefix("stageVariables.") {
            named(n).map(Source::StageVariable)
        } else if let Some(n) = e.strip_prefix("context.") {
            named(n).map(Source::Context)
        } else {
            None
        };
        parsed.ok_or_else(|| BadSource(expr.to_owned()))
    }

    /// Whether the request carries a non-empty value for this source.
    pub fn present(
        &self,
        headers: &[(String, String)],
        query: &[(String, String)],
        stage_variables: &Map<String, Value>,
        context: &Map<String, Value>,
    ) -> bool {
        let non_empty = |v: Option<&Value>| match v {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
        };
        match self {
            Source::Header(n) => headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(n) && !v.is_empty()),
            Source::Query(n) => query.iter().any(|(k, v)| k == n && !v.is_empty()),
            Source::StageVariable(n) => non_empty(stage_variables.get(n)),
            Source::Context(path) => {
                let mut parts = path.split('.');
                let first = parts.next().and_then(|p| context.get(p));
                non_empty(parts.try_fold(first, |v, p| Some(v?.get(p))).flatten())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_checks_sources() {
        let h = vec![("Authorization".to_owned(), "Bearer x".to_owned())];
        let q = vec![
            ("token".to_owned(), "abc".to_owned()),
            ("empty".to_owned(), String::new()),
        ];
        let ctx = json!({"identity": {"sourceIp": "127.0.0.1"}});
        let ctx = ctx.as_object().unwrap();
        let sv = Map::new();
        let check = |e: &str| Source::parse(e).unwrap().present(&h, &q, &sv, ctx);
        assert!(check("route.request.header.authorization"));
        assert!(check("route.request.header.Authorization"));
        assert!(!check("route.request.header.X-Missing"));
        assert!(check("route.request.querystring.token"));
        assert!(!check("route.request.querystring.Token"));
        assert!(!check("route.request.querystring.empty"));
        assert!(check("context.identity.sourceIp"));
        assert!(!check("context.identity.userAgent"));
        assert!(!check("stageVariables.v"));
        assert!(check("$request.header.Authorization"));
        for bad in [
            "route.request.body.x",
            "header.X",
            "route.request.header.",
            "",
        ] {
            assert!(Source::parse(bad).is_err(), "{bad}");
        }
    }
}
