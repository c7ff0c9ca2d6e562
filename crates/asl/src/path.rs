//! AWS-flavoured JSONPath, compiled once at load.
//!
//! Hand-written on purpose: Step Functions uses the Jayway dialect (definite
//! paths yield one value or fail, indefinite paths yield arrays, `$$` is the
//! context object, `$name` a variable, `.length()` works, error texts quote
//! the Jayway form `$['a'][0]`), which differs from RFC 9535 crates in exactly
//! the places the conformance cases exercise.

use crate::value::{Obj, Val};
use std::fmt;
use std::sync::Arc;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the (effective) input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// `.name` / `['name']`.
    Field(String),
    /// `[n]` (negative counts from the end).
    Index(i64),
    /// `[*]` / `.*`.
    Wildcard,
    /// `..name` / `..*`.
    Descendant(Option<String>),
    /// `[a,b]` (fields or indices).
    Union(Vec<Segment>),
    /// `[start:end:step]`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `[?(…)]`.
    Filter(Box<Filter>),
    /// `.length()`.
    Length,
}

/// A filter predicate `[?(…)]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `@.a.b` exists (and is not false/null).
    Exists(Vec<Segment>),
    /// `@.x op literal-or-path`.
    Compare(Operand, CmpOp, Operand),
    /// `a && b`.
    And(Box<Filter>, Box<Filter>),
    /// `a || b`.
    Or(Box<Filter>, Box<Filter>),
    /// `!a`.
    Not(Box<Filter>),
}

/// Operand of a filter comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `@…`.
    Current(Vec<Segment>),
    /// `$…` (document root).
    Root(Vec<Segment>),
    /// A literal.
    Literal(Val),
}

/// Filter comparison operators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A compiled JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    /// The source text.
    pub text: String,
    /// Root kind.
    pub root: Root,
    /// Steps after the root.
    pub segments: Vec<Segment>,
    definite: bool,
}

/// Why a path failed to compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PathSyntaxError(pub String);

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonPath {
    /// Compiles a path. Variables (`$name`) are allowed.
    pub fn parse(text: &str) -> Result<JsonPath, PathSyntaxError> {
        let t = text.trim();
        let mut p = Parser {
            s: t.as_bytes(),
            i: 0,
            src: t,
        };
        let root = if t.starts_with("$$") {
            p.i = 2;
            Root::Context
        } else if t.starts_with('$') {
            p.i = 1;
            let start = p.i;
            while p.i < p.s.len() && is_ident_byte(p.s[p.i]) {
                p.i += 1;
            }
            if p.i > start {
                Root::Variable(t[start..p.i].to_string())
            } else {
                Root::Input
            }
        } else {
            return Err(PathSyntaxError(format!("path must start with '$': {text}")));
        };
        let segments = p.segments(false)?;
        if p.i != p.s.len() {
            return Err(PathSyntaxError(format!(
                "unexpected character in path: {text}"
            )));
        }
        let definite = segments
            .iter()
            .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_) | Segment::Length));
        Ok(JsonPath {
            text: t.to_string(),
            root,
            segments,
            definite,
        })
    }

    /// True when the path can only select one value (no wildcards, filters…).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// True for a reference path (only fields and indices), as `ResultPath` needs.
    pub fn is_reference_path(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)))
    }

    /// True when the path is just `$`.
    pub fn is_root(&self) -> bool {
        self.root == Root::Input && self.segments.is_empty()
    }

    /// Jayway's bracket notation, used in AWS error texts: `$['a'][0]`. The
    /// root is always `$`: Jayway evaluates the path against the document
    /// the root designates (input, context object or variable).
    pub fn bracket_form(&self) -> String {
        let mut s = String::from("$");
        for seg in &self.segments {
            match seg {
                Segment::Field(n) => {
                    s.push_str("['");
                    s.push_str(n);
                    s.push_str("']");
                }
                Segment::Index(i) => s.push_str(&format!("[{i}]")),
                Segment::Wildcard => s.push_str("[*]"),
                Segment::Length => s.push_str(".length()"),
                _ => s.push_str("[?]"),
            }
        }
        s
    }

    /// Why this path selects nothing in `root` (the document its root
    /// designates), in the words of Jayway JsonPath, the library whose texts
    /// AWS reports: a missing field *inside* the path (one that later steps
    /// would descend into) is `Missing property in path $['a']` (the path up
    /// to that field); anything else (a missing last field, an index out of
    /// range, a step into a value of the wrong type) leaves the path with no
    /// result: `No results for path: $['a']['b']` (the whole path).
    pub fn not_found_reason(&self, root: Option<&Val>) -> String {
        let mut cur = root;
        let mut at = String::from("$");
        let n = self.segments.len();
        for (k, seg) in self.segments.iter().enumerate() {
            let Some(v) = cur else { break };
            match seg {
                Segment::Field(name) => {
                    at.push_str("['");
                    at.push_str(name);
                    at.push_str("']");
                    match v {
                        Val::Object(o) => match o.get(name.as_str()) {
                            Some(next) => cur = Some(next),
                            None if k + 1 < n => return format!("Missing property in path {at}"),
                            None => break,
                        },
                        _ => break,
                    }
                }
                Segment::Index(i) => {
                    at.push_str(&format!("[{i}]"));
                    cur = step_ref(v, seg);
                }
                _ => break,
            }
        }
        format!("No results for path: {}", self.bracket_form())
    }

    /// Selects from `root`: `Some(value)` or `None` when a definite path does not match.
    /// Indefinite paths always yield an array of matches.
    pub fn select(&self, root: &Val) -> Option<Val> {
        if self.definite {
            select_definite(root, &self.segments).map(|c| c.into_owned())
        } else {
            let mut out = Vec::new();
            collect(root, root, &self.segments, &mut out);
            Some(Val::array(out.into_iter().cloned().collect()))
        }
    }

    /// Borrowing lookup for definite paths without `.length()` (fast path).
    pub fn select_ref<'v>(&self, root: &'v Val) -> Option<&'v Val> {
        let mut cur = root;
        for seg in &self.segments {
            cur = step_ref(cur, seg)?;
        }
        Some(cur)
    }

    /// True when every segment is a plain field/index (borrowing lookup possible).
    pub fn is_plain(&self) -> bool {
        self.is_reference_path()
    }
}

fn step_ref<'v>(cur: &'v Val, seg: &Segment) -> Option<&'v Val> {
    match seg {
        Segment::Field(n) => cur.as_object()?.get(n.as_str()),
        Segment::Index(i) => {
            let a = cur.as_array()?;
            let idx = if *i < 0 { a.len() as i64 + i } else { *i };
            if idx < 0 { None } else { a.get(idx as usize) }
        }
        _ => None,
    }
}

fn select_definite<'v>(root: &'v Val, segs: &[Segment]) -> Option<std::borrow::Cow<'v, Val>> {
    let mut cur = root;
    for (k, seg) in segs.iter().enumerate() {
        if let Segment::Length = seg {
            let n = match cur {
                Val::Array(a) => a.len(),
                Val::String(s) => s.chars().count(),
                Val::Object(o) => o.len(),
                _ => return None,
            };
            let v = Val::from(n as u64);
            return if k + 1 == segs.len() {
                Some(std::borrow::Cow::Owned(v))
            } else {
                None
            };
        }
        cur = step_ref(cur, seg)?;
    }
    Some(std::borrow::Cow::Borrowed(cur))
}

fn collect<'v>(doc: &'v Val, cur: &'v Val, segs: &[Segment], out: &mut Vec<&'v Val>) {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(cur);
        return;
    };
    match seg {
        Segment::Field(_) | Segment::Index(_) => {
            if let Some(v) = step_ref(cur, seg) {
                collect(doc, v, rest, out);
            }
        }
        Segment::Wildcard => match cur {
            Val::Array(a) => a.iter().for_each(|v| collect(doc, v, rest, out)),
            Val::Object(o) => o.values().for_each(|v| collect(doc, v, rest, out)),
            _ => {}
        },
        Segment::Union(items) => {
            for it in items {
                if let Some(v) = step_ref(cur, it) {
                    collect(doc, v, rest, out);
                }
            }
        }
        Segment::Slice(start, end, step) => {
            if let Val::Array(a) = cur {
                let len = a.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let s = start.map(norm).unwrap_or(0);
                let e = end.map(norm).unwrap_or(len);
                let st = step.unwrap_or(1).max(1);
                let mut i = s;
                while i < e {
                    collect(doc, &a[i as usize], rest, out);
                    i += st;
                }
            }
        }
        Segment::Descendant(name) => {
            descend(doc, cur, name.as_deref(), rest, out);
        }
        Segment::Filter(f) => {
            let items: Vec<&Val> = match cur {
                Val::Array(a) => a.iter().collect(),
                Val::Object(o) => o.values().collect(),
                _ => vec![],
            };
            for it in items {
                if eval_filter(f, doc, it) {
                    collect(doc, it, rest, out);
                }
            }
        }
        Segment::Length => {
            // `.length()` on an indefinite path is rare; ignore here.
        }
    }
}

fn descend<'v>(
    doc: &'v Val,
    cur: &'v Val,
    name: Option<&str>,
    rest: &[Segment],
    out: &mut Vec<&'v Val>,
) {
    match name {
        Some(n) => {
            if let Some(v) = cur.as_object().and_then(|o| o.get(n)) {
                collect(doc, v, rest, out);
            }
        }
        None => match cur {
            Val::Array(a) => a.iter().for_each(|v| collect(doc, v, rest, out)),
            Val::Object(o) => o.values().for_each(|v| collect(doc, v, rest, out)),
            _ => {}
        },
    }
    match cur {
        Val::Array(a) => a.iter().for_each(|v| descend(doc, v, name, rest, out)),
        Val::Object(o) => o.values().for_each(|v| descend(doc, v, name, rest, out)),
        _ => {}
    }
}

fn operand<'v>(o: &'v Operand, doc: &'v Val, cur: &'v Val) -> Option<std::borrow::Cow<'v, Val>> {
    match o {
        Operand::Current(s) => select_definite(cur, s),
        Operand::Root(s) => select_definite(doc, s),
        Operand::Literal(v) => Some(std::borrow::Cow::Borrowed(v)),
    }
}

fn eval_filter(f: &Filter, doc: &Val, cur: &Val) -> bool {
    match f {
        Filter::Exists(s) => select_definite(cur, s).is_some(),
        Filter::And(a, b) => eval_filter(a, doc, cur) && eval_filter(b, doc, cur),
        Filter::Or(a, b) => eval_filter(a, doc, cur) || eval_filter(b, doc, cur),
        Filter::Not(a) => !eval_filter(a, doc, cur),
        Filter::Compare(l, op, r) => {
            let (Some(l), Some(r)) = (operand(l, doc, cur), operand(r, doc, cur)) else {
                return false;
            };
            let ord = match (&*l, &*r) {
                (Val::Number(a), Val::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                (Val::String(a), Val::String(b)) => Some(a.cmp(b)),
                (a, b) => {
                    return match op {
                        CmpOp::Eq => a == b,
                        CmpOp::Ne => a != b,
                        _ => false,
                    };
                }
            };
            let Some(ord) = ord else { return false };
            use std::cmp::Ordering::*;
            match op {
                CmpOp::Eq => ord == Equal,
                CmpOp::Ne => ord != Equal,
                CmpOp::Lt => ord == Less,
                CmpOp::Le => ord != Greater,
                CmpOp::Gt => ord == Greater,
                CmpOp::Ge => ord != Less,
            }
        }
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn err(&self, m: &str) -> PathSyntaxError {
        PathSyntaxError(format!("{m} in path '{}'", self.src))
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.i += 1;
        }
    }
    fn ident(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len()
            && !matches!(
                self.s[self.i],
                b'.' | b'[' | b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|'
            )
        {
            self.i += 1;
        }
        self.src[start..self.i].to_string()
    }
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Segment>, PathSyntaxError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    if self.s.get(self.i + 1) == Some(&b'.') {
                        self.i += 2;
                        if self.peek() == Some(b'*') {
                            self.i += 1;
                            segs.push(Segment::Descendant(None));
                        } else if self.peek() == Some(b'[') {
                            segs.push(Segment::Descendant(None));
                        } else {
                            let n = self.ident();
                            if n.is_empty() {
                                return Err(self.err("empty field"));
                            }
                            segs.push(Segment::Descendant(Some(n)));
                        }
                    } else {
                        self.i += 1;
                        if self.peek() == Some(b'*') {
                            self.i += 1;
                            segs.push(Segment::Wildcard);
                        } else {
                            let mut n = self.ident();
                            if n.is_empty() {
                                return Err(self.err("empty field"));
                            }
                            if n.ends_with('(') && self.peek() == Some(b')') {
                                self.i += 1;
                                n.push(')');
                            }
                            if n == "length()" {
                                segs.push(Segment::Length);
                            } else if n.ends_with("()") {
                                return Err(self.err("unsupported function"));
                            } else {
                                segs.push(Segment::Field(n));
                            }
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    let seg = self.bracket()?;
                    self.ws();
                    if self.peek() != Some(b']') {
                        return Err(self.err("expected ']'"));
                    }
                    self.i += 1;
                    segs.push(seg);
                }
                _ => break,
            }
            if in_filter && self.peek().is_some_and(|c| c == b' ') {
                break;
            }
        }
        Ok(segs)
    }
    fn quoted(&mut self) -> Result<String, PathSyntaxError> {
        let q = self.peek().ok_or_else(|| self.err("eof"))?;
        self.i += 1;
        let mut out = String::new();
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == q {
                out.push_str(&self.src[start..self.i]);
                self.i += 1;
                return Ok(out.replace("\\'", "'"));
            }
            if c == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        Err(self.err("unterminated string"))
    }
    fn int(&mut self) -> Option<i64> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.src[start..self.i].parse().ok()
    }
    fn bracket(&mut self) -> Result<Segment, PathSyntaxError> {
        match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Ok(Segment::Wildcard)
            }
            Some(b'?') => {
                self.i += 1;
                self.ws();
                if self.peek() != Some(b'(') {
                    return Err(self.err("expected '('"));
                }
                self.i += 1;
                let f = self.filter_or()?;
                self.ws();
                if self.peek() != Some(b')') {
                    return Err(self.err("expected ')'"));
                }
                self.i += 1;
                Ok(Segment::Filter(Box::new(f)))
            }
            Some(b'\'') | Some(b'"') => {
                let mut items = vec![Segment::Field(self.quoted()?)];
                self.ws();
                while self.peek() == Some(b',') {
                    self.i += 1;
                    self.ws();
                    items.push(Segment::Field(self.quoted()?));
                    self.ws();
                }
                Ok(if items.len() == 1 {
                    items.remove(0)
                } else {
                    Segment::Union(items)
                })
            }
            _ => {
                let a = self.int();
                self.ws();
                if self.peek() == Some(b':') {
                    self.i += 1;
                    let b = self.int();
                    let mut c = None;
                    if self.peek() == Some(b':') {
                        self.i += 1;
                        c = self.int();
                    }
                    return Ok(Segment::Slice(a, b, c));
                }
                let a = a.ok_or_else(|| self.err("bad index"))?;
                let mut items = vec![Segment::Index(a)];
                while self.peek() == Some(b',') {
                    self.i += 1;
                    self.ws();
                    items.push(Segment::Index(
                        self.int().ok_or_else(|| self.err("bad index"))?,
                    ));
                    self.ws();
                }
                Ok(if items.len() == 1 {
                    items.remove(0)
                } else {
                    Segment::Union(items)
                })
            }
        }
    }
    fn filter_or(&mut self) -> Result<Filter, PathSyntaxError> {
        let mut l = self.filter_and()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"||") {
                self.i += 2;
                let r = self.filter_and()?;
                l = Filter::Or(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }
    fn filter_and(&mut self) -> Result<Filter, PathSyntaxError> {
        let mut l = self.filter_atom()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"&&") {
                self.i += 2;
                let r = self.filter_atom()?;
                l = Filter::And(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }
    fn filter_atom(&mut self) -> Result<Filter, PathSyntaxError> {
        self.ws();
        if self.peek() == Some(b'!') {
            self.i += 1;
            return Ok(Filter::Not(Box::new(self.filter_atom()?)));
        }
        if self.peek() == Some(b'(') {
            self.i += 1;
            let f = self.filter_or()?;
            self.ws();
            if self.peek() != Some(b')') {
                return Err(self.err("expected ')'"));
            }
            self.i += 1;
            return Ok(f);
        }
        let l = self.operand()?;
        self.ws();
        let rest = &self.s[self.i..];
        let op = if rest.starts_with(b"==") {
            Some((CmpOp::Eq, 2))
        } else if rest.starts_with(b"!=") {
            Some((CmpOp::Ne, 2))
        } else if rest.starts_with(b"<=") {
            Some((CmpOp::Le, 2))
        } else if rest.starts_with(b">=") {
            Some((CmpOp::Ge, 2))
        } else if rest.starts_with(b"<") {
            Some((CmpOp::Lt, 1))
        } else if rest.starts_with(b">") {
            Some((CmpOp::Gt, 1))
        } else {
            None
        };
        match op {
            None => match l {
                Operand::Current(s) => Ok(Filter::Exists(s)),
                _ => Err(self.err("bad filter")),
            },
            Some((op, n)) => {
                self.i += n;
                self.ws();
                let r = self.operand()?;
                Ok(Filter::Compare(l, op, r))
            }
        }
    }
    fn operand(&mut self) -> Result<Operand, PathSyntaxError> {
        match self.peek() {
            Some(b'@') => {
                self.i += 1;
                Ok(Operand::Current(self.segments(true)?))
            }
            Some(b'$') => {
                self.i += 1;
                Ok(Operand::Root(self.segments(true)?))
            }
            Some(b'\'') | Some(b'"') => Ok(Operand::Literal(Val::from(self.quoted()?))),
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, b' ' | b')' | b'&' | b'|'))
                {
                    self.i += 1;
                }
                let lit = &self.src[start..self.i];
                serde_json::from_str::<serde_json::Value>(lit)
                    .map(|v| Operand::Literal(Val::from(v)))
                    .map_err(|_| self.err("bad literal"))
            }
        }
    }
}

/// Writes `value` at reference path `path` inside `target` (ResultPath semantics):
/// missing objects along the way are created; returns `Err(cause)` when a step
/// crosses a non-object. Only the containers on the path are copied, and only
/// when they are shared.
pub fn set_reference(target: &mut Val, path: &JsonPath, value: Val) -> Result<(), String> {
    set_at(target, &path.segments, value).map_err(|invalid| {
        format!(
            "{} ResultPath \"{}\"",
            if invalid {
                "Invalid"
            } else {
                "Unable to apply"
            },
            path.text
        )
    })
}

/// `Err(true)` for a segment a reference path cannot have, `Err(false)` when
/// a step does not apply to the document.
fn set_at(cur: &mut Val, segs: &[Segment], value: Val) -> Result<(), bool> {
    let Some((seg, rest)) = segs.split_first() else {
        *cur = value;
        return Ok(());
    };
    match seg {
        Segment::Field(name) => {
            let Val::Object(obj) = cur else {
                return Err(false);
            };
            let obj = Arc::make_mut(obj);
            if rest.is_empty() {
                obj.insert(name.as_str(), value);
                return Ok(());
            }
            obj.update(
                name,
                || Val::object(Obj::new()),
                |child| set_at(child, rest, value),
            )
        }
        Segment::Index(i) => {
            let Val::Array(a) = cur else {
                return Err(false);
            };
            let idx = if *i < 0 { a.len() as i64 + i } else { *i };
            if idx < 0 || idx as usize >= a.len() {
                return Err(false);
            }
            Arc::make_mut(a)
                .update(idx as usize, |slot| set_at(slot, rest, value))
                .unwrap_or(Err(false))
        }
        _ => Err(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Val {
        Val::from(j)
    }

    #[test]
    fn definite_and_indefinite() {
        let doc = v(json!({"a": {"b": [1, 2, {"c": 3}]}, "x": [{"p": 1}, {"p": 5}]}));
        assert_eq!(
            JsonPath::parse("$.a.b[1]")
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json()),
            Some(json!(2))
        );
        assert_eq!(
            JsonPath::parse("$['a']['b'][-1].c")
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json()),
            Some(json!(3))
        );
        assert_eq!(
            JsonPath::parse("$.x[*].p")
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json()),
            Some(json!([1, 5]))
        );
        assert_eq!(
            JsonPath::parse("$.x[?(@.p > 2)]")
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json()),
            Some(json!([{"p": 5}]))
        );
        assert_eq!(
            JsonPath::parse("$..p")
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json()),
            Some(json!([1, 5]))
        );
        assert_eq!(
            JsonPath::parse("$.a.b.length()")
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json()),
            Some(json!(3))
        );
        assert_eq!(
            JsonPath::parse("$.nope")
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json()),
            None
        );
        assert_eq!(
            JsonPath::parse("$.a.b").unwrap().bracket_form(),
            "$['a']['b']"
        );
        assert!(JsonPath::parse("a.b").is_err());
        let var = JsonPath::parse("$var.x").unwrap();
        assert_eq!(var.root, Root::Variable("var".into()));
    }

    #[test]
    fn filters_and_slices() {
        let doc = v(
            json!({"items": [{"n": "a", "s": "on", "v": 1}, {"n": "b", "s": "off", "v": 2}, {"n": "c", "s": "on", "v": 3}]}),
        );
        let sel = |p: &str| {
            JsonPath::parse(p)
                .unwrap()
                .select(&doc)
                .map(|x| x.to_json())
        };
        assert_eq!(sel("$.items[?(@.s == 'on')].n"), Some(json!(["a", "c"])));
        assert_eq!(
            sel("$.items[?(@.v >= 2 && @.s != 'on')].n"),
            Some(json!(["b"]))
        );
        assert_eq!(sel("$.items[-1:].n"), Some(json!(["c"])));
        assert_eq!(sel("$.items[0:2].v"), Some(json!([1, 2])));
        assert_eq!(sel("$.items[0,2].v"), Some(json!([1, 3])));
        assert_eq!(sel("$.items[*]['n']"), Some(json!(["a", "b", "c"])));
        assert_eq!(sel("$.items.length()"), Some(json!(3)));
        assert_eq!(sel("$.items[1].n"), Some(json!("b")));
    }

    #[test]
    fn not_found_reasons_follow_jayway() {
        let doc = v(json!({"a": {"b": 1}, "s": "text", "l": [1, {"x": 2}]}));
        let why = |p: &str| JsonPath::parse(p).unwrap().not_found_reason(Some(&doc));
        // A missing last field: no results for the whole path.
        assert_eq!(why("$.no"), "No results for path: $['no']");
        assert_eq!(why("$.a.no"), "No results for path: $['a']['no']");
        // A missing field with steps after it: the path up to that field.
        assert_eq!(why("$.no.such.thing"), "Missing property in path $['no']");
        assert_eq!(why("$.a.no.such"), "Missing property in path $['a']['no']");
        assert_eq!(
            why("$.l[1].no.x"),
            "Missing property in path $['l'][1]['no']"
        );
        // Indices out of range and steps into non-objects: no results.
        assert_eq!(why("$.l[5].x"), "No results for path: $['l'][5]['x']");
        assert_eq!(why("$.s.x.y"), "No results for path: $['s']['x']['y']");
        // The context object's and variables' paths are shown from `$`.
        assert_eq!(
            JsonPath::parse("$$.Execution.No.X")
                .unwrap()
                .not_found_reason(Some(&doc)),
            "Missing property in path $['Execution']"
        );
        assert_eq!(
            JsonPath::parse("$var.x").unwrap().not_found_reason(None),
            "No results for path: $['x']"
        );
    }

    #[test]
    fn set_reference_creates_objects() {
        let mut doc = v(json!({"a": 1}));
        set_reference(&mut doc, &JsonPath::parse("$.b.c").unwrap(), v(json!(2))).unwrap();
        assert_eq!(doc.to_json(), json!({"a": 1, "b": {"c": 2}}));
        assert_eq!(doc.size(), doc.to_text().len());
        assert!(set_reference(&mut doc, &JsonPath::parse("$.a.c").unwrap(), v(json!(2))).is_err());
    }
}
