//! The JSONata query language: `{% … %}` fields, templates mixing literals and
//! expressions, `$states` and variables as bindings, and AWS's added functions
//! (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//!
//! Evaluation uses the `jsonata-rs` crate. Its `JsonAta` handle ties one parsed
//! expression to one arena, and every `evaluate` call allocates into that
//! arena, so a handle cannot be kept and reused without its memory growing.
//! Its expression tree, however, is an owned value, and its evaluator is
//! reachable from inside a native function (`FunctionContext::evaluator`).
//! So each expression is parsed **once**, at load: [`JExpr`] keeps an owned
//! copy of the tree inside a closure (the tree's type is not exported, a
//! closure can still own it). Each evaluation builds a per-call arena and a
//! `JsonAta` for the constant trampoline `$__wsflow_run()`; the native
//! `__wsflow_run` takes the current expression from a thread-local slot (a
//! native function is a plain `fn` pointer and cannot capture it) and
//! evaluates the pre-parsed tree in the `JsonAta`'s own frame and input, i.e.
//! exactly as if it had been that `JsonAta`'s own expression. The user's
//! expression text is never re-parsed.
//!
//! Known upstream limitation (jsonata-rs 0.3): every `evaluate` binds its ~55
//! built-in functions as arena values whose `String` names are never freed
//! (bumpalo does not run destructors), about 1.6 KiB per evaluation. That is
//! inside jsonata-rs and independent of how the expression was parsed.

use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, FunctionContext, JsonAta, Value as JV};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::sync::Arc;

/// True for a `{% … %}` string.
pub fn is_expr(s: &str) -> bool {
    s.starts_with("{%") && s.ends_with("%}") && s.len() >= 4
}

/// A pre-parsed expression: evaluates its owned tree with the evaluator of
/// the current call.
type Body =
    dyn for<'a, 'e> Fn(FunctionContext<'a, 'e>) -> jsonata_rs::Result<&'a JV<'a>> + Send + Sync;

/// Pins the higher-ranked signature on the closure that owns a parsed tree.
fn body<F>(f: F) -> Arc<Body>
where
    F: for<'a, 'e> Fn(FunctionContext<'a, 'e>) -> jsonata_rs::Result<&'a JV<'a>>
        + Send
        + Sync
        + 'static,
{
    Arc::new(f)
}

/// The constant expression each evaluation runs; it calls [`run_current`].
const TRAMPOLINE: &str = "$__wsflow_run()";

thread_local! {
    /// The expression [`run_current`] evaluates (set by [`JExpr::eval`] for one call).
    static CURRENT: RefCell<Option<Arc<Body>>> = const { RefCell::new(None) };
}

/// Restores the previous [`CURRENT`] on drop (also when evaluation panics).
struct CurrentGuard(Option<Arc<Body>>);

impl CurrentGuard {
    fn set(b: Arc<Body>) -> CurrentGuard {
        CurrentGuard(CURRENT.with(|c| c.borrow_mut().replace(b)))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// Native `$__wsflow_run()`: evaluates the current pre-parsed expression.
fn run_current<'a>(
    ctx: FunctionContext<'a, '_>,
    _args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    match CURRENT.with(|c| c.borrow().clone()) {
        Some(b) => b(ctx),
        None => Ok(JV::undefined()),
    }
}

/// A compiled JSONata expression: parsed once, evaluated many times.
#[derive(Clone)]
pub struct JExpr {
    /// The expression text without the `{% %}` delimiters.
    pub text: String,
    body: Arc<Body>,
}

impl std::fmt::Debug for JExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JExpr").field("text", &self.text).finish()
    }
}

impl PartialEq for JExpr {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// A JSONata failure: `(error name, cause detail)`.
#[derive(Debug, Clone, PartialEq)]
pub enum JError {
    /// The expression threw (cause is e.g. `T1006: Attempted to invoke a non-function`).
    Threw(String),
    /// The expression yielded undefined.
    Undefined,
    /// The expression yielded a function or other unsupported value.
    Unsupported,
}

impl JExpr {
    /// Compiles a `{% … %}` field value.
    pub fn compile_field(s: &str) -> Result<JExpr, String> {
        let t = s.trim();
        let inner = t
            .strip_prefix("{%")
            .and_then(|x| x.strip_suffix("%}"))
            .ok_or("not a JSONata expression")?;
        JExpr::compile(inner.trim())
    }

    /// Parses expression text (no delimiters) once into a reusable [`JExpr`].
    pub fn compile(inner: &str) -> Result<JExpr, String> {
        if nesting_bound(inner) > MAX_NESTING {
            return Err(format!(
                "The JSONata expression '{inner}' is invalid: it nests more than {MAX_NESTING} levels deep"
            ));
        }
        let parsed = std::panic::catch_unwind(|| {
            let arena = Bump::new();
            JsonAta::new(inner, &arena)
                .map(|j| j.ast().clone())
                .map_err(|e| e.to_string())
        });
        match parsed {
            Ok(Ok(ast)) => Ok(JExpr {
                text: inner.to_string(),
                body: body(move |ctx| ctx.evaluator.evaluate(&ast, ctx.input, &ctx.frame)),
            }),
            Ok(Err(e)) => Err(format!(
                "The JSONata expression '{inner}' is invalid: {}",
                clean_error(&e)
            )),
            Err(_) => Err(format!("The JSONata expression '{inner}' is invalid")),
        }
    }

    /// Evaluates with `$states` = `states` and the given variables.
    pub fn eval(&self, states: &Value, vars: &crate::value::Variables) -> Result<Value, JError> {
        let _current = CurrentGuard::set(self.body.clone());
        let out =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| eval_current(states, vars)));
        match out {
            Ok(r) => r,
            Err(_) => Err(JError::Threw(
                "The expression could not be evaluated".into(),
            )),
        }
    }
}

/// jsonata-rs parses, post-processes, clones, evaluates and drops its tree
/// recursively, one stack frame (kilobytes in a debug build) per level, so
/// a deep expression (`((((…))))`, `- - - 1`, or a long chain `1+1+…+1`,
/// which nests one level per operator) overflows a 2 MiB worker thread's
/// stack and aborts the process. Expressions whose depth may pass this are
/// refused when the definition is loaded. Measured on a 2 MiB thread:
/// release builds overflow between 400 and 800 levels, debug builds (whose
/// frames are several times larger) between 60 and 150.
pub const MAX_NESTING: usize = if cfg!(debug_assertions) { 60 } else { 300 };

/// An upper bound of an expression's tree depth: its deepest bracket nesting
/// plus every operator outside string literals (each adds at most a level;
/// `?` counts four).
fn nesting_bound(expr: &str) -> usize {
    let (mut depth, mut deepest, mut operators) = (0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '&' | '=' | '<' | '>' | '!' | '.' | '~' | '^' | '|'
            | '@' | '#' => operators += 1,
            // A conditional costs the parser several times an operator's stack.
            '?' => operators += 4,
            _ => {}
        }
    }
    deepest + operators
}

fn clean_error(s: &str) -> String {
    // "T1006 @ 3: Attempted…" -> "T1006: Attempted…"
    if let Some((code, rest)) = s.split_once(" @ ")
        && let Some((_, msg)) = rest.split_once(": ")
    {
        return format!("{code}: {msg}");
    }
    s.to_string()
}

fn to_jv<'a>(arena: &'a Bump, v: &Value) -> &'a JV<'a> {
    match v {
        Value::Null => JV::null(arena),
        Value::Bool(b) => JV::bool(*b),
        Value::Number(n) => JV::number(arena, n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JV::string(arena, s),
        Value::Array(a) => {
            let arr = JV::array_with_capacity(arena, a.len(), ArrayFlags::empty());
            for x in a {
                arr.push(to_jv(arena, x));
            }
            arr
        }
        Value::Object(o) => {
            let obj = JV::object_with_capacity(arena, o.len());
            for (k, x) in o {
                obj.insert(k, to_jv(arena, x));
            }
            obj
        }
    }
}

fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Converts a JSONata value back; `None` for undefined, `Err` for functions.
fn from_jv<'a>(v: &'a JV<'a>) -> Result<Option<Value>, JError> {
    if v.is_undefined() {
        return Ok(None);
    }
    if v.is_function() {
        return Err(JError::Unsupported);
    }
    Ok(Some(if v.is_null() {
        Value::Null
    } else if v.is_bool() {
        Value::Bool(v.as_bool())
    } else if v.is_number() {
        num(v.as_f64())
    } else if v.is_string() {
        Value::String(v.as_str().into_owned())
    } else if v.is_array() {
        let mut out = Vec::with_capacity(v.len());
        for m in v.members() {
            if let Some(x) = from_jv(m)? {
                out.push(x);
            }
        }
        Value::Array(out)
    } else if v.is_object() {
        let mut out = Map::new();
        for (k, x) in v.entries() {
            if let Some(x) = from_jv(x)? {
                out.insert(k.to_string(), x);
            }
        }
        Value::Object(out)
    } else {
        return Err(JError::Unsupported);
    }))
}

/// jsonata-rs's own call-depth limit (its `U1001` error), low enough that a
/// runaway recursive function fails with that error before it overflows a
/// 2 MiB worker thread's stack (each level takes several frames): 500, as
/// before, holds in a release build; a debug build's frames allow 40.
const MAX_EVAL_DEPTH: usize = if cfg!(debug_assertions) { 40 } else { 500 };

/// Runs [`TRAMPOLINE`] (and so the expression in [`CURRENT`]) in a fresh per-call arena.
fn eval_current(states: &Value, vars: &crate::value::Variables) -> Result<Value, JError> {
    let arena = Bump::new();
    let j =
        JsonAta::new(TRAMPOLINE, &arena).map_err(|e| JError::Threw(clean_error(&e.to_string())))?;
    j.assign_var("states", to_jv(&arena, states));
    for (k, v) in vars {
        j.assign_var(k, to_jv(&arena, v));
    }
    j.register_function("__wsflow_run", 0, run_current);
    j.register_function("partition", 2, fn_partition);
    j.register_function("range", 3, fn_range);
    j.register_function("hash", 2, fn_hash);
    j.register_function("parse", 1, fn_parse);
    j.register_function("type", 1, fn_type);
    j.register_function("shuffle", 1, fn_shuffle);
    j.register_function("formatBase", 2, fn_format_base);
    let r = j
        .evaluate_timeboxed(None, Some(MAX_EVAL_DEPTH), Some(10_000))
        .map_err(|e| JError::Threw(clean_error(&e.to_string())))?;
    match from_jv(r)? {
        Some(v) => Ok(v),
        None => Err(JError::Undefined),
    }
}

fn to_json<'a>(v: &'a JV<'a>) -> Value {
    from_jv(v).ok().flatten().unwrap_or(Value::Null)
}

/// Argument `i` as a number: `Ok(None)` when absent or undefined, JSONata's
/// `T0410` signature error when it is present but not a number.
fn num_arg<'a>(
    ctx: &FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
    i: usize,
) -> jsonata_rs::Result<Option<f64>> {
    match args.get(i) {
        None => Ok(None),
        Some(a) if a.is_undefined() => Ok(None),
        Some(a) if a.is_number() => Ok(Some(a.as_f64())),
        Some(_) => Err(jsonata_rs::Error::T0410ArgumentNotValid(
            ctx.char_index,
            i + 1,
            ctx.name.to_string(),
        )),
    }
}

fn fn_partition<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let arr = args.first().map(|a| to_json(a)).unwrap_or(Value::Null);
    let n = num_arg(&ctx, args, 1)?.unwrap_or(1.0).max(1.0) as usize;
    let items = match arr {
        Value::Array(a) => a,
        other => vec![other],
    };
    let out: Vec<Value> = items.chunks(n).map(|c| Value::Array(c.to_vec())).collect();
    Ok(to_jv(ctx.arena, &Value::Array(out)))
}

fn fn_range<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let f = |i: usize| Ok::<i64, jsonata_rs::Error>(num_arg(&ctx, args, i)?.unwrap_or(0.0) as i64);
    let (s, e, st) = (f(0)?, f(1)?, f(2)?);
    let mut out = Vec::new();
    if st != 0 {
        let mut i = s;
        while ((st > 0 && i <= e) || (st < 0 && i >= e)) && out.len() <= 1000 {
            out.push(Value::from(i));
            match i.checked_add(st) {
                Some(x) => i = x,
                None => break,
            }
        }
    }
    if out.len() == 1 {
        return Ok(to_jv(ctx.arena, &out[0]));
    }
    Ok(to_jv(ctx.arena, &Value::Array(out)))
}

fn fn_hash<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let data = args.first().map(|a| to_json(a)).unwrap_or(Value::Null);
    let alg = args.get(1).map(|a| to_json(a)).unwrap_or(Value::Null);
    match crate::intrinsics::apply_named(crate::intrinsics::Func::Hash, vec![data, alg]) {
        Ok(v) => Ok(to_jv(ctx.arena, &v)),
        Err(_) => Ok(JV::undefined()),
    }
}

fn fn_parse<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let s = args.first().map(|a| to_json(a)).unwrap_or(Value::Null);
    match s
        .as_str()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
    {
        Some(v) => Ok(to_jv(ctx.arena, &v)),
        None => Ok(JV::undefined()),
    }
}

fn fn_type<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let Some(v) = args.first() else {
        return Ok(JV::undefined());
    };
    let t = if v.is_undefined() {
        return Ok(JV::undefined());
    } else if v.is_null() {
        "null"
    } else if v.is_bool() {
        "boolean"
    } else if v.is_number() {
        "number"
    } else if v.is_string() {
        "string"
    } else if v.is_array() {
        "array"
    } else if v.is_function() {
        "function"
    } else {
        "object"
    };
    Ok(JV::string(ctx.arena, t))
}

fn fn_shuffle<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let mut items = match args.first().map(|a| to_json(a)) {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => return Ok(JV::undefined()),
        Some(other) => vec![other],
    };
    for i in (1..items.len()).rev() {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        let j = (u64::from_le_bytes(b) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
    Ok(to_jv(ctx.arena, &Value::Array(items)))
}

fn fn_format_base<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let n = num_arg(&ctx, args, 0)?.unwrap_or(0.0).round() as i64;
    let radix = args
        .get(1)
        .filter(|r| r.is_number())
        .map(|r| r.as_f64() as u32)
        .unwrap_or(10)
        .clamp(2, 36);
    let mut digits = Vec::new();
    let mut x = n.unsigned_abs();
    loop {
        digits.push(std::char::from_digit((x % radix as u64) as u32, radix).unwrap_or('0'));
        x /= radix as u64;
        if x == 0 {
            break;
        }
    }
    if n < 0 {
        digits.push('-');
    }
    let s: String = digits.into_iter().rev().collect();
    Ok(JV::string(ctx.arena, &s))
}

/// A JSONata template: literals with `{% %}` expressions anywhere inside.
#[derive(Debug, Clone, PartialEq)]
pub enum JTemplate {
    /// Constant.
    Literal(Value),
    /// An expression.
    Expr(JExpr),
    /// Object with at least one expression inside.
    Object(Vec<(String, JTemplate)>),
    /// Array with at least one expression inside.
    Array(Vec<JTemplate>),
}

impl JTemplate {
    /// Compiles a template value.
    pub fn compile(v: &Value) -> Result<JTemplate, String> {
        Ok(match v {
            Value::String(s) if is_expr(s) => JTemplate::Expr(JExpr::compile_field(s)?),
            Value::Object(o) => {
                let entries = o
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), JTemplate::compile(v)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                if entries
                    .iter()
                    .all(|(_, t)| matches!(t, JTemplate::Literal(_)))
                {
                    JTemplate::Literal(v.clone())
                } else {
                    JTemplate::Object(entries)
                }
            }
            Value::Array(a) => {
                let items = a
                    .iter()
                    .map(JTemplate::compile)
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|t| matches!(t, JTemplate::Literal(_))) {
                    JTemplate::Literal(v.clone())
                } else {
                    JTemplate::Array(items)
                }
            }
            other => JTemplate::Literal(other.clone()),
        })
    }

    /// Evaluates; errors carry the field path (e.g. `Output/FunctionResult`) and expression text.
    pub fn eval(
        &self,
        states: &Value,
        vars: &crate::value::Variables,
        field: &str,
    ) -> Result<Value, (String, String, JError)> {
        match self {
            JTemplate::Literal(v) => Ok(v.clone()),
            JTemplate::Expr(e) => e
                .eval(states, vars)
                .map_err(|err| (field.to_string(), e.text.clone(), err)),
            JTemplate::Object(entries) => {
                let mut m = Map::with_capacity(entries.len());
                for (k, t) in entries {
                    m.insert(k.clone(), t.eval(states, vars, &format!("{field}/{k}"))?);
                }
                Ok(Value::Object(m))
            }
            JTemplate::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, t) in items.iter().enumerate() {
                    out.push(t.eval(states, vars, &format!("{field}[{i}]"))?);
                }
                Ok(Value::Array(out))
            }
        }
    }
}

/// AWS's cause text for a failed JSONata field.
pub fn cause_text(field: &str, expr: &str, err: &JError) -> String {
    match err {
        JError::Undefined => format!(
            "The JSONata expression '{expr}' specified for the field '{field}' returned nothing (undefined)."
        ),
        JError::Unsupported => format!(
            "The JSONata expression '{expr}' specified for the field '{field}' returned an unsupported result type."
        ),
        JError::Threw(m) => format!(
            "The JSONata expression '{expr}' specified for the field '{field}' threw an error during evaluation. {m}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Variables;
    use serde_json::json;

    fn states(input: Value) -> Value {
        json!({ "input": input })
    }

    #[test]
    fn evaluates_the_tree_parsed_at_load_not_the_text() {
        let mut e = JExpr::compile_field("{% $states.input.a + $x %}").unwrap();
        // Spoil the text: evaluation must not depend on it any more.
        e.text = "this ) is ( not JSONata".into();
        let mut vars = Variables::new();
        for i in 0..50 {
            vars.insert("x".into(), json!(i));
            assert_eq!(
                e.eval(&states(json!({"a": 100})), &vars),
                Ok(json!(100 + i))
            );
        }
    }

    #[test]
    fn lambdas_recursion_and_custom_functions_work_from_the_parsed_tree() {
        let vars = Variables::new();
        let e = JExpr::compile(
            r#"($f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; {"f": $f(5), "p": $partition([1,2,3], 2), "t": $type($states.input)})"#,
        )
        .unwrap();
        assert_eq!(
            e.eval(&states(json!({})), &vars),
            Ok(json!({"f": 120, "p": [[1, 2], [3]], "t": "object"}))
        );
        // Two expressions alternating on one thread each see their own tree.
        let a = JExpr::compile("$states.input.v & 'a'").unwrap();
        let b = JExpr::compile("$states.input.v & 'b'").unwrap();
        for _ in 0..3 {
            assert_eq!(a.eval(&states(json!({"v": "1"})), &vars), Ok(json!("1a")));
            assert_eq!(b.eval(&states(json!({"v": "2"})), &vars), Ok(json!("2b")));
        }
    }

    #[test]
    fn errors_and_undefined_keep_their_texts() {
        let vars = Variables::new();
        let e = JExpr::compile("$states.input.nothing").unwrap();
        assert_eq!(e.eval(&states(json!({})), &vars), Err(JError::Undefined));
        let e = JExpr::compile("$notAFunction()").unwrap();
        assert_eq!(
            e.eval(&states(json!({})), &vars),
            Err(JError::Threw(
                "T1006: Attempted to invoke a non-function".into()
            ))
        );
        assert!(
            JExpr::compile_field("{% 1 + %}")
                .unwrap_err()
                .starts_with("The JSONata expression '1 +' is invalid")
        );
        // AWS's added functions reject non-numbers instead of panicking.
        for text in [
            "$partition([1, 2], 'a')",
            "$range(1, 'x', 1)",
            "$formatBase('7', 2)",
        ] {
            let r = JExpr::compile(text)
                .unwrap()
                .eval(&states(json!({})), &vars);
            assert!(
                matches!(&r, Err(JError::Threw(m)) if m.starts_with("T0410: Argument")),
                "{text}: {r:?}"
            );
        }
        // The thread-local slot is cleared after each evaluation.
        assert!(CURRENT.with(|c| c.borrow().is_none()));
    }
}
