//! The JSONata query language: `{% … %}` fields, templates mixing literals and
//! expressions, `$states` and variables as bindings, and AWS's added functions
//! (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//!
//! Evaluation uses the `jsonata-rs` crate. Its expression tree is tied to a
//! per-evaluation arena, so the text is syntax-checked once at load and
//! re-parsed per evaluation (parsing is a small part of evaluation cost).

use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, FunctionContext, JsonAta, Value as JV};
use serde_json::{Map, Value};

/// True for a `{% … %}` string.
pub fn is_expr(s: &str) -> bool {
    s.starts_with("{%") && s.ends_with("%}") && s.len() >= 4
}

/// A compiled (syntax-checked) JSONata expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JExpr {
    /// The expression text without the `{% %}` delimiters.
    pub text: String,
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
        let inner = inner.trim().to_string();
        let parsed = std::panic::catch_unwind(|| {
            let arena = Bump::new();
            JsonAta::new(&inner, &arena)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        match parsed {
            Ok(Ok(())) => Ok(JExpr { text: inner }),
            Ok(Err(e)) => Err(format!(
                "The JSONata expression '{inner}' is invalid: {}",
                clean_error(&e)
            )),
            Err(_) => Err(format!("The JSONata expression '{inner}' is invalid")),
        }
    }

    /// Evaluates with `$states` = `states` and the given variables.
    pub fn eval(&self, states: &Value, vars: &crate::value::Variables) -> Result<Value, JError> {
        let text = self.text.as_str();
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            eval_text(text, states, vars)
        }));
        match out {
            Ok(r) => r,
            Err(_) => Err(JError::Threw(
                "The expression could not be evaluated".into(),
            )),
        }
    }
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

fn eval_text(text: &str, states: &Value, vars: &crate::value::Variables) -> Result<Value, JError> {
    let arena = Bump::new();
    let j = JsonAta::new(text, &arena).map_err(|e| JError::Threw(clean_error(&e.to_string())))?;
    j.assign_var("states", to_jv(&arena, states));
    for (k, v) in vars {
        j.assign_var(k, to_jv(&arena, v));
    }
    j.register_function("partition", 2, fn_partition);
    j.register_function("range", 3, fn_range);
    j.register_function("hash", 2, fn_hash);
    j.register_function("parse", 1, fn_parse);
    j.register_function("type", 1, fn_type);
    j.register_function("shuffle", 1, fn_shuffle);
    j.register_function("formatBase", 2, fn_format_base);
    let r = j
        .evaluate_timeboxed(None, Some(500), Some(10_000))
        .map_err(|e| JError::Threw(clean_error(&e.to_string())))?;
    match from_jv(r)? {
        Some(v) => Ok(v),
        None => Err(JError::Undefined),
    }
}

fn to_json<'a>(v: &'a JV<'a>) -> Value {
    from_jv(v).ok().flatten().unwrap_or(Value::Null)
}

fn fn_partition<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JV<'a>],
) -> jsonata_rs::Result<&'a JV<'a>> {
    let arr = args.first().map(|a| to_json(a)).unwrap_or(Value::Null);
    let n = args.get(1).map(|a| a.as_f64()).unwrap_or(1.0).max(1.0) as usize;
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
    let f = |i: usize| args.get(i).map(|a| a.as_f64() as i64).unwrap_or(0);
    let (s, e, st) = (f(0), f(1), f(2));
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
    let n = args.first().map(|a| a.as_f64().round() as i64).unwrap_or(0);
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
