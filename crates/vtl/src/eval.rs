//! The renderer: walks the AST against one request's [`RenderContext`].
//!
//! Values are copy-on-write: `#set($b = $a)` copies, so a later `$b.put(..)` does not change
//! `$a` (Java would alias them; no API Gateway template relies on that).

use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::ast::{BinOp, Expr, Lit, Node, Part, Reference};
use crate::json_text;
use crate::jsonpath::{self, Selected, TextSelected};
use crate::limits::{MAX_ITERATIONS, MAX_OUTPUT};
use crate::methods::{self, as_f64, java_eq};
use crate::value::V;
use crate::{RenderContext, VtlError, util};

type R<T> = Result<T, VtlError>;

/// Renders `nodes` against `ctx`.
pub(crate) fn render(nodes: &[Node], ctx: &RenderContext) -> R<String> {
    let mut st = State {
        ctx,
        locals: HashMap::new(),
        iterations: 0,
        body: None,
        params: None,
    };
    let mut out = String::with_capacity(256);
    st.block(nodes, &mut out)?;
    Ok(out)
}

#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Stop,
}

/// What a reference's root or intermediate step denotes.
enum Cur<'a> {
    Val(V),
    /// Inside `$context` / `$stageVariables`: navigated without converting the whole map.
    Json(&'a serde_json::Value),
    JsonMap(&'a serde_json::Map<String, serde_json::Value>),
    Input,
    Util,
}

struct State<'c, 'a> {
    ctx: &'c RenderContext<'a>,
    locals: HashMap<String, V>,
    iterations: usize,
    body: Option<Body>,
    params: Option<V>,
}

/// The message body as `$input.json` and `$input.path` see it.
enum Body {
    /// Parsed: JSON, or a body that is not JSON seen as one JSON string.
    Parsed(V),
    /// Valid JSON nested deeper than a value may be: read by path from the
    /// text (see [`crate::json_text`]).
    Deep,
}

fn check_size(out: &str) -> R<()> {
    if out.len() > MAX_OUTPUT {
        Err(VtlError::render("output too large"))
    } else {
        Ok(())
    }
}

fn pairs_map(pairs: &[(String, String)]) -> R<V> {
    let mut m = IndexMap::new();
    for (k, v) in pairs {
        m.insert(k.clone(), V::str(v.as_str()));
    }
    V::map(m)
}

/// Headers as API Gateway presents them: sorted by name, case-insensitively (as in the
/// `{Host=.., Sec-WebSocket-Extensions=.., ..}` records of the seeds).
fn header_map(headers: &[(String, String)]) -> R<V> {
    let mut sorted: Vec<&(String, String)> = headers.iter().collect();
    sorted.sort_by_cached_key(|(k, _)| k.to_ascii_lowercase());
    let mut m = IndexMap::with_capacity(sorted.len());
    for (k, v) in sorted {
        m.insert(k.clone(), V::str(v.as_str()));
    }
    V::map(m)
}

fn is_mutator(name: &str) -> bool {
    matches!(
        name,
        "put" | "putAll" | "remove" | "clear" | "add" | "addAll" | "set"
    )
}

impl<'a> State<'_, 'a> {
    fn block(&mut self, nodes: &[Node], out: &mut String) -> R<Flow> {
        for n in nodes {
            match n {
                Node::Text(t) => {
                    out.push_str(t);
                    check_size(out)?;
                }
                Node::Ref(r) => {
                    let v = self.reference(r)?;
                    if v.is_null() {
                        if !r.quiet {
                            out.push_str(&r.source);
                        }
                    } else {
                        v.write_java(out)?;
                    }
                    check_size(out)?;
                }
                Node::Set { target, value } => {
                    let v = self.expr(value)?;
                    if !v.is_null() {
                        self.assign(target, v)?;
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut chosen = otherwise;
                    for (cond, body) in branches {
                        if self.expr(cond)?.truthy() {
                            chosen = body;
                            break;
                        }
                    }
                    let flow = self.block(chosen, out)?;
                    if flow != Flow::Normal {
                        return Ok(flow);
                    }
                }
                Node::Foreach { var, iter, body } => {
                    if self.foreach(var, iter, body, out)? == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Stop => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Normal)
    }

    fn foreach(&mut self, var: &str, iter: &Expr, body: &[Node], out: &mut String) -> R<Flow> {
        let items: Vec<V> = match self.expr(iter)? {
            V::List(l) => l.items.clone(),
            V::Map(m) => m.entries.values().cloned().collect(),
            _ => Vec::new(),
        };
        let saved_var = self.locals.remove(var);
        let saved_foreach = self.locals.remove("foreach");
        let saved_count = self.locals.remove("velocityCount");
        let n = items.len();
        let mut flow = Flow::Normal;
        for (i, item) in items.into_iter().enumerate() {
            self.iterations += 1;
            if self.iterations > MAX_ITERATIONS {
                return Err(VtlError::render("too many #foreach iterations"));
            }
            self.locals.insert(var.to_string(), item);
            let mut f = IndexMap::with_capacity(5);
            f.insert("index".to_string(), V::Int(i as i64));
            f.insert("count".to_string(), V::Int(i as i64 + 1));
            f.insert("hasNext".to_string(), V::Bool(i + 1 < n));
            f.insert("first".to_string(), V::Bool(i == 0));
            f.insert("last".to_string(), V::Bool(i + 1 == n));
            self.locals.insert("foreach".to_string(), V::map(f)?);
            self.locals
                .insert("velocityCount".to_string(), V::Int(i as i64 + 1));
            match self.block(body, out)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        for (name, saved) in [
            (var, saved_var),
            ("foreach", saved_foreach),
            ("velocityCount", saved_count),
        ] {
            match saved {
                Some(v) => self.locals.insert(name.to_string(), v),
                None => self.locals.remove(name),
            };
        }
        Ok(flow)
    }

    /// `#set($root.a.b = v)`: plain roots bind a variable; paths store into maps / lists.
    fn assign(&mut self, target: &Reference, v: V) -> R<()> {
        if target.parts.is_empty() {
            self.locals.insert(target.root.clone(), v);
            return Ok(());
        }
        let keys = self.path_keys(&target.parts)?;
        let Some(root) = self.locals.get_mut(&target.root) else {
            return Ok(());
        };
        let (last, prefix) = keys.split_last().unwrap_or((&V::Null, &[]));
        let last = last.clone();
        mutate(root, prefix, &mut |slot| {
            match slot {
                V::Map(_) => {
                    methods::call(slot, "put", &[last.clone(), v.clone()], None)?;
                }
                V::List(_) => {
                    methods::call(slot, "set", &[last.clone(), v.clone()], None)?;
                }
                _ => {}
            }
            Ok(None)
        })?;
        Ok(())
    }

    /// Evaluates the keys of a path of properties / indexes (`None` for method calls).
    fn path_keys(&mut self, parts: &[Part]) -> R<Vec<V>> {
        let mut keys = Vec::with_capacity(parts.len());
        for p in parts {
            keys.push(match p {
                Part::Prop(name) => V::str(name.as_str()),
                Part::Index(e) => self.expr(e)?,
                Part::Call { .. } => V::Null,
            });
        }
        Ok(keys)
    }

    fn root(&mut self, name: &str) -> R<Cur<'a>> {
        if let Some(v) = self.locals.get(name) {
            return Ok(Cur::Val(v.clone()));
        }
        Ok(match name {
            "input" => Cur::Input,
            "util" => Cur::Util,
            "context" => Cur::JsonMap(self.ctx.context),
            "stageVariables" => Cur::JsonMap(self.ctx.stage_variables),
            "method" => {
                let mut req = IndexMap::new();
                req.insert("path".to_string(), pairs_map(self.ctx.path)?);
                req.insert("querystring".to_string(), pairs_map(self.ctx.query)?);
                req.insert("header".to_string(), header_map(self.ctx.headers)?);
                let mut m = IndexMap::new();
                m.insert("request".to_string(), V::map(req)?);
                Cur::Val(V::map(m)?)
            }
            _ => Cur::Val(V::Null),
        })
    }

    fn reference(&mut self, r: &Reference) -> R<V> {
        // In-place mutation: `$local.path.put(..)` changes the variable itself.
        if let Some((Part::Call { name, args, .. }, prefix)) = r.parts.split_last()
            && is_mutator(name)
            && self.locals.contains_key(&r.root)
            && prefix.iter().all(|p| !matches!(p, Part::Call { .. }))
        {
            let keys = self.path_keys(prefix)?;
            let args = args.iter().map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
            let Some(root) = self.locals.get_mut(&r.root) else {
                return Ok(V::Null);
            };
            return Ok(mutate(root, &keys, &mut |slot| {
                methods::call(slot, name, &args, None)
            })?
            .unwrap_or(V::Null));
        }
        let mut cur = self.root(&r.root)?;
        for part in &r.parts {
            cur = match (cur, part) {
                (Cur::JsonMap(m), Part::Prop(p)) => match m.get(p) {
                    Some(v) => Cur::Json(v),
                    None => return Ok(V::Null),
                },
                (Cur::Json(serde_json::Value::Object(m)), Part::Prop(p)) => match m.get(p) {
                    Some(v) => Cur::Json(v),
                    None => return Ok(V::Null),
                },
                (Cur::Json(serde_json::Value::Null), _) => return Ok(V::Null),
                (Cur::Json(j), part) => self.step(Cur::Val(V::from_json(j)?), part)?,
                (Cur::JsonMap(m), part) => self.step(Cur::Val(object(m)?), part)?,
                (cur, part) => self.step(cur, part)?,
            };
        }
        Ok(match cur {
            Cur::Val(v) => v,
            Cur::Json(j) => V::from_json(j)?,
            Cur::JsonMap(m) => object(m)?,
            Cur::Input | Cur::Util => V::Null,
        })
    }

    /// One step of a reference from an already-converted value (or `$input` / `$util`).
    fn step(&mut self, cur: Cur<'a>, part: &Part) -> R<Cur<'a>> {
        Ok(match (cur, part) {
            (Cur::Val(V::Null), _) => Cur::Val(V::Null),
            (Cur::Input, Part::Prop(p)) if p == "body" => Cur::Val(V::str(self.ctx.body)),
            (Cur::Input, Part::Call { name, args, .. }) => {
                let args = args.iter().map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
                Cur::Val(self.input_call(name, &args)?)
            }
            (Cur::Util, Part::Call { name, args, .. }) => {
                let args = args.iter().map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
                Cur::Val(util::call(name, &args)?)
            }
            (Cur::Input | Cur::Util, _) => Cur::Val(V::Null),
            (Cur::Val(v), Part::Prop(p)) => Cur::Val(property(&v, p)),
            (Cur::Val(v), Part::Index(e)) => {
                let k = self.expr(e)?;
                Cur::Val(index(&v, &k)?)
            }
            (
                Cur::Val(mut v),
                Part::Call {
                    name,
                    args: arg_exprs,
                    regex,
                },
            ) => {
                let args = arg_exprs
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<R<Vec<_>>>()?;
                let owned;
                let re = if methods::takes_regex(name) && matches!(v, V::Str(_)) {
                    let pattern = match args.first() {
                        Some(a) if !a.is_null() => a.to_java_string()?,
                        _ => return Err(VtlError::render(format!("{name} needs a pattern"))),
                    };
                    // A literal pattern is compiled once per template, not per render.
                    let literal = matches!(arg_exprs.first(), Some(Expr::Lit(Lit::Str(_))));
                    // Borrowed, not cloned: a cloned `Regex` starts with an empty
                    // matching cache, which costs microseconds per call.
                    let compiled: Result<&regex::Regex, &String> = if literal {
                        regex.get_or_init(|| methods::java_regex(&pattern)).as_ref()
                    } else {
                        owned = methods::java_regex(&pattern);
                        owned.as_ref()
                    };
                    Some(compiled.map_err(|e| {
                        VtlError::render(format!("bad regular expression {pattern:?}: {e}"))
                    })?)
                } else {
                    None
                };
                Cur::Val(methods::call(&mut v, name, &args, re)?.unwrap_or(V::Null))
            }
            (Cur::Json(j), _) => Cur::Json(j),
            (Cur::JsonMap(m), _) => Cur::JsonMap(m),
        })
    }

    fn body_json(&mut self) -> &Body {
        let text = self.ctx.body;
        self.body.get_or_insert_with(|| match V::parse_json(text) {
            Some(v) => Body::Parsed(v),
            None if json_text::is_json(text) => Body::Deep,
            // A body that is not JSON is seen as one JSON string.
            None => Body::Parsed(V::str(text)),
        })
    }

    /// `$input.json(path)` (`as_json`) or `$input.path(path)` on a body too
    /// deep to parse.
    fn deep_input_path(&self, path: &str, as_json: bool) -> R<V> {
        Ok(match jsonpath::select_text(self.ctx.body, path) {
            TextSelected::Invalid => {
                return Err(VtlError::render(format!(
                    "Invalid JSONPath expression: {path}"
                )));
            }
            TextSelected::Unsupported => {
                return Err(VtlError::render(format!(
                    "JSONPath {path}: wildcards and negative indexes need the whole body, \
                     which is nested too deeply"
                )));
            }
            TextSelected::Missing if as_json => V::str(""),
            TextSelected::Missing => V::Null,
            TextSelected::Found(found) => match (found, as_json) {
                (json_text::Selected::Null, true) => V::str("null"),
                (json_text::Selected::Null, false) => V::Null,
                (json_text::Selected::String(s), true) => {
                    let mut out = String::with_capacity(s.len() + 2);
                    crate::value::write_json_string(&s, &mut out);
                    V::str(out)
                }
                (json_text::Selected::String(s), false) => V::str(s),
                (json_text::Selected::Json(text), true) => V::str(text),
                (json_text::Selected::Json(text), false) => V::parse_json(&text)
                    .ok_or_else(|| VtlError::render("value nested too deeply"))?,
            },
        })
    }

    fn input_call(&mut self, name: &str, args: &[V]) -> R<V> {
        match (name, args) {
            ("json" | "path", [p]) => {
                let path = p.to_java_string()?;
                let root = match self.body_json() {
                    Body::Parsed(v) => v.clone(),
                    Body::Deep => return self.deep_input_path(&path, name == "json"),
                };
                match jsonpath::select(&root, &path) {
                    Selected::Invalid => Err(VtlError::render(format!(
                        "Invalid JSONPath expression: {path}"
                    ))),
                    Selected::Missing if name == "json" => Ok(V::str("")),
                    Selected::Missing => Ok(V::Null),
                    Selected::Found(v) if name == "json" => {
                        let mut s = String::new();
                        v.write_json(&mut s)?;
                        Ok(V::str(s))
                    }
                    Selected::Found(v) => Ok(v),
                }
            }
            ("params", []) => {
                if self.params.is_none() {
                    let mut m = IndexMap::new();
                    m.insert("path".to_string(), pairs_map(self.ctx.path)?);
                    m.insert("querystring".to_string(), pairs_map(self.ctx.query)?);
                    m.insert("header".to_string(), header_map(self.ctx.headers)?);
                    self.params = Some(V::map(m)?);
                }
                Ok(self.params.clone().unwrap_or_default())
            }
            ("params", [n]) => {
                let n = n.to_java_string()?;
                let found = last_match(self.ctx.path, |k| k == n)
                    .or_else(|| last_match(self.ctx.query, |k| k == n))
                    .or_else(|| last_match(self.ctx.headers, |k| k.eq_ignore_ascii_case(&n)));
                Ok(V::str(found.unwrap_or("")))
            }
            _ => Ok(V::Null),
        }
    }

    fn expr(&mut self, e: &Expr) -> R<V> {
        Ok(match e {
            Expr::Lit(l) => match l {
                Lit::Null => V::Null,
                Lit::Bool(b) => V::Bool(*b),
                Lit::Int(i) => V::Int(*i),
                Lit::Float(f) => V::Float(*f),
                Lit::Str(s) => V::str(s.as_str()),
            },
            Expr::Interp(nodes) => {
                let mut s = String::new();
                self.block(nodes, &mut s)?;
                V::str(s)
            }
            Expr::Ref(r) => self.reference(r)?,
            Expr::List(items) => V::list(items.iter().map(|i| self.expr(i)).collect::<R<_>>()?)?,
            Expr::Range(a, b) => {
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                let (Some(a), Some(b)) = (int_of(&a), int_of(&b)) else {
                    return Ok(V::Null);
                };
                if a.abs_diff(b) >= MAX_ITERATIONS as u64 {
                    return Err(VtlError::render("range too large"));
                }
                let items: Vec<V> = if a <= b {
                    (a..=b).map(V::Int).collect()
                } else {
                    (b..=a).rev().map(V::Int).collect()
                };
                V::list(items)?
            }
            Expr::Map(entries) => {
                let mut m = IndexMap::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.expr(k)?.to_java_string()?;
                    let v = self.expr(v)?;
                    m.insert(k, v);
                }
                V::map(m)?
            }
            Expr::Not(e) => V::Bool(!self.expr(e)?.truthy()),
            Expr::Neg(e) => match self.expr(e)? {
                V::Int(i) => i.checked_neg().map(V::Int).unwrap_or(V::Float(-(i as f64))),
                V::Float(f) => V::Float(-f),
                _ => V::Null,
            },
            Expr::Bin(op, l, r) => match op {
                BinOp::And => V::Bool(self.expr(l)?.truthy() && self.expr(r)?.truthy()),
                BinOp::Or => V::Bool(self.expr(l)?.truthy() || self.expr(r)?.truthy()),
                _ => {
                    let (a, b) = (self.expr(l)?, self.expr(r)?);
                    binary(*op, &a, &b)?
                }
            },
        })
    }
}

/// Applies `f` to the value at `path` under `v` (map keys / list indexes), then raises the
/// recorded depth of every container on the way back up.
fn mutate(v: &mut V, path: &[V], f: &mut dyn FnMut(&mut V) -> R<Option<V>>) -> R<Option<V>> {
    let Some((k, rest)) = path.split_first() else {
        return f(v);
    };
    let (r, d) = {
        let child = match v {
            V::Map(m) => {
                let key = k.to_java_string()?;
                match Rc::make_mut(m).entries.get_mut(&key) {
                    Some(c) => c,
                    None => return Ok(None),
                }
            }
            V::List(l) => match int_of(k)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| Rc::make_mut(l).items.get_mut(i))
            {
                Some(c) => c,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let r = mutate(child, rest, f)?;
        (r, child.depth())
    };
    v.note_child_depth(d)?;
    Ok(r)
}

fn object(m: &serde_json::Map<String, serde_json::Value>) -> R<V> {
    let mut out = IndexMap::with_capacity(m.len());
    for (k, v) in m {
        out.insert(k.clone(), V::from_json(v)?);
    }
    V::map(out)
}

fn last_match(pairs: &[(String, String)], f: impl Fn(&str) -> bool) -> Option<&str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| f(k))
        .map(|(_, v)| v.as_str())
}

fn int_of(v: &V) -> Option<i64> {
    match v {
        V::Int(i) => Some(*i),
        V::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        V::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `$v.name`: a map entry, or Velocity's `isEmpty()` via `.empty`.
fn property(v: &V, name: &str) -> V {
    match v {
        V::Map(m) => m.entries.get(name).cloned().unwrap_or(V::Null),
        V::List(l) if name == "empty" => V::Bool(l.items.is_empty()),
        V::Str(s) if name == "empty" => V::Bool(s.is_empty()),
        _ => V::Null,
    }
}

/// `$v[k]`.
fn index(v: &V, k: &V) -> R<V> {
    Ok(match v {
        V::List(l) => int_of(k)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| l.items.get(i).cloned())
            .unwrap_or(V::Null),
        V::Map(m) => m
            .entries
            .get(&k.to_java_string()?)
            .cloned()
            .unwrap_or(V::Null),
        _ => V::Null,
    })
}

fn is_num(v: &V) -> bool {
    matches!(v, V::Int(_) | V::Float(_))
}

/// Velocity's `==`: numbers by value, same kinds by `equals`, otherwise by `toString`.
fn velocity_eq(a: &V, b: &V) -> R<bool> {
    Ok(match (a, b) {
        (V::Null, V::Null) => true,
        (V::Null, _) | (_, V::Null) => false,
        _ if is_num(a) && is_num(b) => as_f64(a) == as_f64(b),
        (V::Str(_), V::Str(_))
        | (V::Bool(_), V::Bool(_))
        | (V::List(_), V::List(_))
        | (V::Map(_), V::Map(_)) => java_eq(a, b),
        _ => a.to_java_string()? == b.to_java_string()?,
    })
}

fn binary(op: BinOp, a: &V, b: &V) -> R<V> {
    use std::cmp::Ordering;
    Ok(match op {
        BinOp::Eq => V::Bool(velocity_eq(a, b)?),
        BinOp::Ne => V::Bool(!velocity_eq(a, b)?),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ord = match (a, b) {
                (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
                _ if is_num(a) && is_num(b) => as_f64(a).partial_cmp(&as_f64(b)),
                (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
                _ => None,
            };
            V::Bool(match ord {
                None => false,
                Some(o) => match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Le => o != Ordering::Greater,
                    BinOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
            })
        }
        _ => arith(op, a, b),
    })
}

/// Integer arithmetic (Java semantics: truncating division; overflow widens to a double);
/// non-numbers and division by zero give null, as Velocity does.
fn arith(op: BinOp, a: &V, b: &V) -> V {
    match (a, b) {
        (V::Int(x), V::Int(y)) => {
            let (x, y) = (*x, *y);
            let r = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::Div if y == 0 => return V::Null,
                BinOp::Div => x.checked_div(y),
                BinOp::Rem if y == 0 => return V::Null,
                BinOp::Rem => x.checked_rem(y),
                _ => return V::Null,
            };
            match r {
                Some(i) => V::Int(i),
                None => arith(op, &V::Float(x as f64), &V::Float(y as f64)),
            }
        }
        _ if is_num(a) && is_num(b) => {
            let (x, y) = (as_f64(a), as_f64(b));
            match op {
                BinOp::Add => V::Float(x + y),
                BinOp::Sub => V::Float(x - y),
                BinOp::Mul => V::Float(x * y),
                BinOp::Div if y == 0.0 => V::Null,
                BinOp::Div => V::Float(x / y),
                BinOp::Rem if y == 0.0 => V::Null,
                BinOp::Rem => V::Float(x % y),
                _ => V::Null,
            }
        }
        _ => V::Null,
    }
}
