//! wsflow-vtl: API Gateway mapping templates (the Apache Velocity 1.7 subset API Gateway uses).
//!
//! A template is parsed once into an AST ([`Template::parse`]) and rendered many times
//! ([`Template::render`]) against a [`RenderContext`] (the message body, `$context`,
//! `$stageVariables`, and the request's headers / query string / path parameters).
//!
//! Hand-written on purpose: no maintained Rust crate implements Velocity. The Rust template
//! engines (tera, handlebars, minijinja, askama) speak other languages, and the few "velocity"
//! crates on crates.io are abandoned, incomplete toys without `$input`/`$util` or Java
//! `toString` semantics. API Gateway's dialect is small (references, `#set`, `#if`, `#foreach`,
//! a few Java `String`/`Map`/`List` methods and the `$input`/`$util` helpers), so a compact
//! parser + tree-walking renderer is the straightforward route.
//!
//! Covered: `$input.body`, `$input.json(path)`, `$input.path(path)`, `$input.params()`,
//! `$input.params(name)`, `$context.*`, `$stageVariables.*`, `$util.*` (escapeJavaScript,
//! urlEncode, urlDecode, base64Encode, base64Decode, parseJson), `$method.request.*`,
//! `#set`, `#if/#elseif/#else/#end`, `#foreach` (with `$foreach.*` and `$velocityCount`),
//! `#break`, `#stop`, comments, quiet (`$!x`) and formal (`${x}`) references, literals,
//! integer arithmetic, comparisons, logic, and the common Java methods. Values render the way
//! Java's `toString` does (`{k=v, k2=v2}`, `[a, b]`); an undefined reference renders as its
//! own source text unless quiet — exactly Velocity's behaviour.
//!
//! Choices where API Gateway's behaviour is not documented, made to keep output useful:
//! `$input.json(path)` of a missing path renders an empty string, `$input.params(name)` of a
//! missing parameter renders an empty string, a body that is not JSON is seen by
//! `$input.json` / `$input.path` as one JSON string, headers in `$input.params()` are sorted by name
//! case-insensitively (as the seed's DynamoDB record shows API Gateway does) while query
//! string and path parameters keep the caller's order, and values are
//! copy-on-write (`#set($b = $a)` then `$b.put(..)` leaves `$a` unchanged, unlike Java).
//! Velocity identifiers here are `[A-Za-z_][A-Za-z0-9_]*` (no `-`), and string literals keep
//! backslashes verbatim as Velocity 1.7 does (so `"\\'"` is the Java regex for `\'`).
//!
//! Limits (no input can make rendering panic or run away): nesting of the source is limited to
//! [`limits::MAX_NESTING`], loop iterations per render to [`limits::MAX_ITERATIONS`], value
//! nesting to [`limits::MAX_VALUE_DEPTH`], and output to [`limits::MAX_OUTPUT`] bytes.
#![warn(missing_docs)]

mod ast;
mod eval;
pub mod json_text;
mod jsonpath;
pub mod limits;
mod methods;
mod parser;
mod util;
mod value;

use std::sync::Arc;

/// A parsed mapping template: cheap to clone, shareable between threads, rendered many times.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Arc<Vec<ast::Node>>,
}

impl Template {
    /// Parses `source` once. Errors carry the 1-based line and column of the offending text.
    pub fn parse(source: &str) -> Result<Template, VtlError> {
        let nodes = parser::parse(source)?;
        Ok(Template {
            nodes: Arc::new(nodes),
        })
    }

    /// Renders the template against one request.
    pub fn render(&self, ctx: &RenderContext) -> Result<String, VtlError> {
        eval::render(&self.nodes, ctx)
    }
}

/// Everything a template can see of one request / message.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The raw message / request body (`$input.body`, `$input.json`, `$input.path`).
    pub body: &'a str,
    /// `$context.*` (connectionId, requestId, requestTimeEpoch, routeKey, identity.sourceIp, ...).
    pub context: &'a serde_json::Map<String, serde_json::Value>,
    /// `$stageVariables.*`.
    pub stage_variables: &'a serde_json::Map<String, serde_json::Value>,
    /// Request headers (`$input.params().header`; rendered sorted by name).
    pub headers: &'a [(String, String)],
    /// Query string parameters (`$input.params().querystring`).
    pub query: &'a [(String, String)],
    /// Path parameters (`$input.params().path`).
    pub path: &'a [(String, String)],
}

/// Why a template could not be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VtlError {
    /// The template source is malformed.
    #[error("template parse error at line {line}, column {column}: {message}")]
    Parse {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Rendering failed (a limit was hit or a value could not be produced).
    #[error("template render error: {message}")]
    Render {
        /// What went wrong.
        message: String,
    },
}

impl VtlError {
    pub(crate) fn render(message: impl Into<String>) -> Self {
        VtlError::Render {
            message: message.into(),
        }
    }
}
