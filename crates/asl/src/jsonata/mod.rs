//! The JSONata query language: `{% … %}` fields, templates mixing literals and
//! expressions, `$states` and variables as bindings, and AWS's added functions
//! (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//!
//! Evaluation uses the `jsonata-rs` crate. Each expression is parsed
//! **once**, at load: [`JExpr`] keeps an owned copy of the parsed tree
//! inside a closure (the tree's type is not exported, a closure can still own
//! it) that evaluates it with the evaluator of the current call, reachable
//! from inside a native function (`FunctionContext::evaluator`). The user's
//! expression text is never re-parsed. Where and how the trees are evaluated
//! (long-lived, recycled evaluators that keep memory flat) is the `host` module.

mod host;

use crate::value::{Obj, Val};
use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, FunctionContext, JsonAta, Value as JV};
use serde_json::{Map, Value};
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

/// A compiled JSONata expression: parsed once, evaluated many times.
#[derive(Clone)]
pub struct JExpr {
    /// The expression text without the `{% %}` delimiters.
    pub text: String,
    body: Arc<Body>,
    /// The expression may contain a transform (`~> | … | … |`), which
    /// jsonata-rs applies by editing values in place: its evaluations get
    /// their own conversions of the input, never the evaluator's cached ones.
    /// (`|` appears in JSONata only in transforms and inside strings, so this
    /// errs on the safe side.)
    mutating: bool,
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
    ///
    /// The tree kept for evaluation is that of `(inner)`: a block, so that
    /// variables the expression assigns at its top level live in a frame of
    /// their own, not in the long-lived evaluator's (see the `host` module). The text
    /// is checked as written first, so errors and validity are those of
    /// `inner` itself.
    pub fn compile(inner: &str) -> Result<JExpr, String> {
        if nesting_bound(inner) > MAX_NESTING {
            return Err(format!(
                "The JSONata expression '{inner}' is invalid: it nests more than {MAX_NESTING} levels deep"
            ));
        }
        let parsed = std::panic::catch_unwind(|| {
            let arena = Bump::new();
            JsonAta::new(inner, &arena).map_err(|e| e.to_string())?;
            JsonAta::new(&format!("({inner}\n)"), &arena)
                .map(|j| j.ast().clone())
                .map_err(|e| e.to_string())
        });
        match parsed {
            Ok(Ok(ast)) => Ok(JExpr {
                text: inner.to_string(),
                body: body(move |ctx| ctx.evaluator.evaluate(&ast, ctx.input, &ctx.frame)),
                mutating: inner.contains('|'),
            }),
            Ok(Err(e)) => Err(format!(
                "The JSONata expression '{inner}' is invalid: {}",
                clean_error(&e)
            )),
            Err(_) => Err(format!("The JSONata expression '{inner}' is invalid")),
        }
    }

    /// Evaluates with `$states` = `states` and the given variables.
    pub fn eval(&self, states: &Val, vars: &crate::value::Variables) -> Result<Val, JError> {
        host::evaluate(
            self.body.clone(),
            self.mutating,
            states.clone(),
            vars.clone(),
        )
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

/// Registers AWS's added functions on an evaluator.
fn register_aws_functions(j: &JsonAta<'_>) {
    j.register_function("partition", 2, fn_partition);
    j.register_function("range", 3, fn_range);
    j.register_function("hash", 2, fn_hash);
    j.register_function("parse", 1, fn_parse);
    j.register_function("type", 1, fn_type);
    j.register_function("shuffle", 1, fn_shuffle);
    j.register_function("formatBase", 2, fn_format_base);
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
    Literal(Val),
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
                    JTemplate::Literal(Val::from(v))
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
                    JTemplate::Literal(Val::from(v))
                } else {
                    JTemplate::Array(items)
                }
            }
            other => JTemplate::Literal(Val::from(other)),
        })
    }

    /// Evaluates; errors carry the field path (e.g. `Output/FunctionResult`) and expression text.
    pub fn eval(
        &self,
        states: &Val,
        vars: &crate::value::Variables,
        field: &str,
    ) -> Result<Val, (String, String, JError)> {
        match self {
            JTemplate::Literal(v) => Ok(v.clone()),
            JTemplate::Expr(e) => e
                .eval(states, vars)
                .map_err(|err| (field.to_string(), e.text.clone(), err)),
            JTemplate::Object(entries) => {
                let mut m = Obj::with_capacity(entries.len());
                for (k, t) in entries {
                    m.insert(k.as_str(), t.eval(states, vars, &format!("{field}/{k}"))?);
                }
                Ok(Val::object(m))
            }
            JTemplate::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, t) in items.iter().enumerate() {
                    out.push(t.eval(states, vars, &format!("{field}[{i}]"))?);
                }
                Ok(Val::array(out))
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

    fn states(input: Value) -> Val {
        Val::from(json!({ "input": input }))
    }

    #[test]
    fn evaluates_the_tree_parsed_at_load_not_the_text() {
        let mut e = JExpr::compile_field("{% $states.input.a + $x %}").unwrap();
        // Spoil the text: evaluation must not depend on it any more.
        e.text = "this ) is ( not JSONata".into();
        let mut vars = Variables::new();
        for i in 0..50 {
            vars.insert("x".into(), Val::from(json!(i)));
            assert_eq!(
                e.eval(&states(json!({"a": 100})), &vars)
                    .map(|v| v.to_json()),
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
            e.eval(&states(json!({})), &vars).map(|v| v.to_json()),
            Ok(json!({"f": 120, "p": [[1, 2], [3]], "t": "object"}))
        );
        // Two expressions alternating on one thread each see their own tree.
        let a = JExpr::compile("$states.input.v & 'a'").unwrap();
        let b = JExpr::compile("$states.input.v & 'b'").unwrap();
        for _ in 0..3 {
            assert_eq!(
                a.eval(&states(json!({"v": "1"})), &vars)
                    .map(|v| v.to_json()),
                Ok(json!("1a"))
            );
            assert_eq!(
                b.eval(&states(json!({"v": "2"})), &vars)
                    .map(|v| v.to_json()),
                Ok(json!("2b"))
            );
        }
    }

    #[test]
    fn evaluations_sharing_an_evaluator_do_not_see_each_other() {
        let get = |e: &str, vars: &Variables| {
            JExpr::compile(e)
                .unwrap()
                .eval(&states(json!({})), vars)
                .map(|v| v.to_json())
        };
        let mut with_x = Variables::new();
        with_x.insert("x".into(), Val::from(json!(1)));
        assert_eq!(get("$x", &with_x), Ok(json!(1)));
        // The next evaluation has no `x`: it reads as unbound.
        assert_eq!(get("$x", &Variables::new()), Err(JError::Undefined));
        assert_eq!(get("$exists($x)", &Variables::new()), Ok(json!(false)));
        // An expression's own assignments stay inside it.
        assert_eq!(get("$y := 5", &Variables::new()), Ok(json!(5)));
        assert_eq!(get("$y", &Variables::new()), Err(JError::Undefined));
        // A variable named like a built-in leaves the built-in in place.
        let mut shadow = Variables::new();
        shadow.insert("string".into(), Val::from(json!("not a function")));
        assert_eq!(get("$string(12)", &shadow), Ok(json!("12")));
        assert_eq!(get("$string(13)", &Variables::new()), Ok(json!("13")));
    }

    #[test]
    fn failures_do_not_spoil_later_evaluations() {
        // An error thrown deep in a recursion leaves jsonata-rs's depth
        // counter raised; the evaluator is retired, so the next evaluation
        // starts from zero instead of hitting the recursion limit early.
        let runaway = JExpr::compile("($f := function($n){ 1 + $f($n + 1) }; $f(0))").unwrap();
        let deep =
            JExpr::compile("($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100))").unwrap();
        for _ in 0..3 {
            assert!(matches!(
                runaway.eval(&states(json!({})), &Variables::new()),
                Err(JError::Threw(m)) if m.starts_with("U1001")
            ));
            assert_eq!(
                deep.eval(&states(json!({})), &Variables::new())
                    .map(|v| v.to_json()),
                Ok(json!(100))
            );
        }
        // An evaluator that sat idle past its age hands the work to a new one
        // (the crate's time box counts from the evaluator's start).
        let e = JExpr::compile("$states.input.a * 2").unwrap();
        assert_eq!(
            e.eval(&states(json!({"a": 2})), &Variables::new())
                .map(|v| v.to_json()),
            Ok(json!(4))
        );
        host::shorten_max_age(std::time::Duration::from_millis(300));
        std::thread::sleep(std::time::Duration::from_millis(500));
        let before = host::evaluators_started();
        assert_eq!(
            e.eval(&states(json!({"a": 3})), &Variables::new())
                .map(|v| v.to_json()),
            Ok(json!(6))
        );
        assert!(host::evaluators_started() > before);
    }

    #[test]
    fn large_documents_converted_once_stay_correct() {
        let e = JExpr::compile("$states.input.a & '/' & $count($states.input.pad)").unwrap();
        for round in 0..50 {
            // A new large document each round: an earlier document's
            // conversion is never mistaken for it, even once it is freed.
            let doc = states(json!({"a": round, "pad": vec!["x".repeat(40); 20 + round]}));
            let want = format!("{round}/{}", 20 + round);
            assert_eq!(
                e.eval(&doc, &Variables::new()).map(|v| v.to_json()),
                Ok(json!(want))
            );
            // The same document again reuses the conversion.
            assert_eq!(
                e.eval(&doc, &Variables::new()).map(|v| v.to_json()),
                Ok(json!(want))
            );
        }
    }

    #[test]
    fn threads_evaluate_concurrently_with_their_own_bindings() {
        let e = Arc::new(JExpr::compile("$states.input.n + $k").unwrap());
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let e = e.clone();
                std::thread::spawn(move || {
                    let mut vars = Variables::new();
                    vars.insert("k".into(), Val::from(json!(t * 1000)));
                    for n in 0..200 {
                        let got = e.eval(&states(json!({"n": n})), &vars).map(|v| v.to_json());
                        assert_eq!(got, Ok(json!(t * 1000 + n)));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    #[test]
    fn errors_and_undefined_keep_their_texts() {
        let vars = Variables::new();
        let e = JExpr::compile("$states.input.nothing").unwrap();
        assert_eq!(
            e.eval(&states(json!({})), &vars).map(|v| v.to_json()),
            Err(JError::Undefined)
        );
        let e = JExpr::compile("$notAFunction()").unwrap();
        assert_eq!(
            e.eval(&states(json!({})), &vars).map(|v| v.to_json()),
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
                .eval(&states(json!({})), &vars)
                .map(|v| v.to_json());
            assert!(
                matches!(&r, Err(JError::Threw(m)) if m.starts_with("T0410: Argument")),
                "{text}: {r:?}"
            );
        }
    }
}
