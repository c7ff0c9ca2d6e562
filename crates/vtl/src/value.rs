//! Runtime values and their Java-style rendering (`toString`) and JSON form.
//!
//! Containers are reference-counted (cheap copies, copy-on-write on mutation) and carry their
//! nesting depth so no template can build a value deep enough to overflow the stack.

use std::fmt::Write as _;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::VtlError;
use crate::limits::{MAX_OUTPUT, MAX_VALUE_DEPTH};

/// A value while rendering. `Null` is Java's `null` (an undefined reference).
#[derive(Debug, Clone, Default)]
pub(crate) enum V {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<ListV>),
    Map(Rc<MapV>),
}

/// A Java `List`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListV {
    pub items: Vec<V>,
    pub depth: u32,
}

/// A Java `Map` with insertion order (`LinkedHashMap`).
#[derive(Debug, Clone, Default)]
pub(crate) struct MapV {
    pub entries: IndexMap<String, V>,
    pub depth: u32,
}

fn too_deep() -> VtlError {
    VtlError::render("value nested too deeply")
}

impl V {
    pub fn str(s: impl Into<Rc<str>>) -> V {
        V::Str(s.into())
    }

    pub fn depth(&self) -> u32 {
        match self {
            V::List(l) => l.depth,
            V::Map(m) => m.depth,
            _ => 0,
        }
    }

    pub fn list(items: Vec<V>) -> Result<V, VtlError> {
        let depth = 1 + items.iter().map(V::depth).max().unwrap_or(0);
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        Ok(V::List(Rc::new(ListV { items, depth })))
    }

    pub fn map(entries: IndexMap<String, V>) -> Result<V, VtlError> {
        let depth = 1 + entries.values().map(V::depth).max().unwrap_or(0);
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        Ok(V::Map(Rc::new(MapV { entries, depth })))
    }

    /// Raises this container's recorded depth after a child of depth `child` was stored in it.
    pub fn note_child_depth(&mut self, child: u32) -> Result<(), VtlError> {
        let need = child + 1;
        if need > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        match self {
            V::List(l) if l.depth < need => Rc::make_mut(l).depth = need,
            V::Map(m) if m.depth < need => Rc::make_mut(m).depth = need,
            _ => {}
        }
        Ok(())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, V::Null)
    }

    /// Velocity 1.7 truthiness: null and `false` are false, everything else is true.
    pub fn truthy(&self) -> bool {
        !matches!(self, V::Null | V::Bool(false))
    }

    /// Java `toString`, bounded by [`MAX_OUTPUT`].
    pub fn to_java_string(&self) -> Result<String, VtlError> {
        let mut out = String::new();
        self.write_java(&mut out)?;
        Ok(out)
    }

    /// Appends the Java `toString` of this value (`null` renders as `null` inside containers).
    pub fn write_java(&self, out: &mut String) -> Result<(), VtlError> {
        if out.len() > MAX_OUTPUT {
            return Err(VtlError::render("output too large"));
        }
        match self {
            V::Null => out.push_str("null"),
            V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            V::Int(i) => {
                let _ = write!(out, "{i}");
            }
            V::Float(f) => out.push_str(&java_double(*f)),
            V::Str(s) => out.push_str(s),
            V::List(l) => {
                out.push('[');
                for (i, v) in l.items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_java(out)?;
                }
                out.push(']');
            }
            V::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    v.write_java(out)?;
                }
                out.push('}');
            }
        }
        if out.len() > MAX_OUTPUT {
            return Err(VtlError::render("output too large"));
        }
        Ok(())
    }

    /// Appends this value as JSON text (what `$input.json` returns).
    pub fn write_json(&self, out: &mut String) -> Result<(), VtlError> {
        if out.len() > MAX_OUTPUT {
            return Err(VtlError::render("output too large"));
        }
        match self {
            V::Null => out.push_str("null"),
            V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            V::Int(i) => {
                let _ = write!(out, "{i}");
            }
            V::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => {
                    let _ = write!(out, "{n}");
                }
                None => out.push_str("null"),
            },
            V::Str(s) => write_json_string(s, out),
            V::List(l) => {
                out.push('[');
                for (i, v) in l.items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out)?;
                }
                out.push(']');
            }
            V::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    v.write_json(out)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }

    /// Converts a `serde_json` value (used for `$context` and `$stageVariables`).
    pub fn from_json(v: &serde_json::Value) -> Result<V, VtlError> {
        from_json_depth(v, 0)
    }

    /// Parses JSON text keeping object key order; `None` when the text is not JSON.
    pub fn parse_json(text: &str) -> Option<V> {
        let mut de = serde_json::Deserializer::from_str(text);
        let v = <V as serde::Deserialize>::deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(v)
    }
}

fn from_json_depth(v: &serde_json::Value, depth: u32) -> Result<V, VtlError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    Ok(match v {
        serde_json::Value::Null => V::Null,
        serde_json::Value::Bool(b) => V::Bool(*b),
        serde_json::Value::Number(n) => number(n),
        serde_json::Value::String(s) => V::str(s.as_str()),
        serde_json::Value::Array(a) => V::list(
            a.iter()
                .map(|x| from_json_depth(x, depth + 1))
                .collect::<Result<_, _>>()?,
        )?,
        serde_json::Value::Object(o) => V::map(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), from_json_depth(x, depth + 1)?)))
                .collect::<Result<_, VtlError>>()?,
        )?,
    })
}

fn number(n: &serde_json::Number) -> V {
    match n.as_i64() {
        Some(i) => V::Int(i),
        None => V::Float(n.as_f64().unwrap_or(f64::NAN)),
    }
}

/// Writes `s` as a JSON string literal.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString`: `1.0`, `0.5`, `1.0E10`, `1.0E-5`, `NaN`, `Infinity`.
pub(crate) fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = f.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.to_string()
        } else {
            format!("{m}.0")
        };
        format!("{m}E{e}")
    }
}

impl<'de> serde::Deserialize<'de> for V {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<V, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = V;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<V, E> {
        Ok(V::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<V, E> {
        Ok(V::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<V, E> {
        Ok(V::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<V, E> {
        Ok(i64::try_from(u).map(V::Int).unwrap_or(V::Float(u as f64)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<V, E> {
        Ok(V::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<V, E> {
        Ok(V::str(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<V, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = a.next_element::<V>()? {
            items.push(v);
        }
        V::list(items).map_err(serde::de::Error::custom)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<V, A::Error> {
        let mut entries = IndexMap::new();
        while let Some((k, v)) = a.next_entry::<String, V>()? {
            entries.insert(k, v);
        }
        V::map(entries).map_err(serde::de::Error::custom)
    }
}
