//! The engine's JSON value, [`Val`], and the data sources a state reads from
//! (the input document, the context object and the workflow variables),
//! bundled as [`Sources`].
//!
//! Documents flow from state to state, and templates (`Parameters`,
//! `ItemSelector`…) copy parts of their input into new documents. With
//! `serde_json::Value` every such copy is a deep copy, so a workflow whose
//! documents grow spends most of its time in malloc/free. [`Val`] shares
//! instead: strings, arrays and objects are reference-counted and immutable
//! once built, so selecting a subtree or putting it into a new document is a
//! reference-count increment; writing into a document (`ResultPath`) copies
//! only the containers on the written path, and only if they are shared
//! (`Arc::make_mut`).
//!
//! Every array and object also carries the exact length of its compact JSON
//! text, maintained as it is built and edited, so the 256 KiB payload limit
//! ([`crate::limits`]) is an O(1) comparison instead of a walk over the
//! document. Object keys keep their insertion order (like `serde_json` with
//! `preserve_order`), and numbers stay `serde_json::Number`, so conversion to
//! and from `serde_json::Value` at the engine's boundaries (execution input
//! and output, task calls, JSONata, history texts) is lossless.

use crate::path::{JsonPath, Root};
use indexmap::IndexMap;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A shared, immutable JSON value (see the module doc).
#[derive(Clone, Default, PartialEq)]
pub enum Val {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as `serde_json` keeps it.
    Number(Number),
    /// A string.
    String(Arc<str>),
    /// An array.
    Array(Arc<Arr>),
    /// An object.
    Object(Arc<Obj>),
}

/// The items of an array value and their JSON size.
#[derive(Clone, Default)]
pub struct Arr {
    items: Vec<Val>,
    size: usize,
}

/// The entries of an object value (insertion-ordered) and their JSON size.
#[derive(Clone, Default)]
pub struct Obj {
    map: IndexMap<Arc<str>, Val>,
    size: usize,
}

/// JSON length of a string literal (quotes and escapes included).
pub fn str_size(s: &str) -> usize {
    let mut n = s.len() + 2;
    for &b in s.as_bytes() {
        match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => n += 1,
            0..=0x1f => n += 5,
            _ => {}
        }
    }
    n
}

fn number_size(n: &Number) -> usize {
    if let Some(u) = n.as_u64() {
        digits(u)
    } else if let Some(i) = n.as_i64() {
        digits(i.unsigned_abs()) + 1
    } else {
        // Floats: format as serde_json does (shortest round-trip form).
        struct Counter(usize);
        impl std::io::Write for Counter {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0 += b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut c = Counter(0);
        let _ = serde_json::to_writer(&mut c, n);
        c.0
    }
}

fn digits(mut u: u64) -> usize {
    let mut d = 1;
    while u >= 10 {
        u /= 10;
        d += 1;
    }
    d
}

impl Arr {
    /// An empty array.
    pub fn new() -> Arr {
        Arr {
            items: Vec::new(),
            size: 2,
        }
    }

    /// The items.
    pub fn items(&self) -> &[Val] {
        &self.items
    }

    /// Appends an item.
    pub fn push(&mut self, v: Val) {
        if !self.items.is_empty() {
            self.size += 1;
        }
        self.size += v.size();
        self.items.push(v);
    }

    /// Runs `f` on item `i` (if present) and keeps the size up to date.
    pub fn update<R>(&mut self, i: usize, f: impl FnOnce(&mut Val) -> R) -> Option<R> {
        let slot = self.items.get_mut(i)?;
        let before = slot.size();
        let r = f(slot);
        self.size = self.size - before + slot.size();
        Some(r)
    }

    /// The items, by value.
    pub fn into_items(self) -> Vec<Val> {
        self.items
    }
}

impl std::ops::Deref for Arr {
    type Target = [Val];
    fn deref(&self) -> &[Val] {
        &self.items
    }
}

impl From<Vec<Val>> for Arr {
    fn from(items: Vec<Val>) -> Arr {
        let size = 2 + items.len().saturating_sub(1) + items.iter().map(Val::size).sum::<usize>();
        Arr { items, size }
    }
}

impl FromIterator<Val> for Arr {
    fn from_iter<I: IntoIterator<Item = Val>>(it: I) -> Arr {
        Arr::from(it.into_iter().collect::<Vec<_>>())
    }
}

impl PartialEq for Arr {
    fn eq(&self, other: &Arr) -> bool {
        self.items == other.items
    }
}

impl Obj {
    /// An empty object.
    pub fn new() -> Obj {
        Obj::with_capacity(0)
    }

    /// An empty object with room for `n` entries.
    pub fn with_capacity(n: usize) -> Obj {
        Obj {
            map: IndexMap::with_capacity(n),
            size: 2,
        }
    }

    /// Sets `key` to `v` (kept in place if it exists, appended otherwise).
    pub fn insert(&mut self, key: impl Into<Arc<str>> + AsRef<str>, v: Val) -> Option<Val> {
        let add = v.size();
        match self.map.get_mut(key.as_ref()) {
            Some(slot) => {
                self.size = self.size - slot.size() + add;
                Some(std::mem::replace(slot, v))
            }
            None => {
                if !self.map.is_empty() {
                    self.size += 1;
                }
                self.size += str_size(key.as_ref()) + 1 + add;
                self.map.insert(key.into(), v);
                None
            }
        }
    }

    /// Runs `f` on the value at `key`, first inserting `default()` when absent;
    /// keeps the size up to date.
    pub fn update<R>(
        &mut self,
        key: &str,
        default: impl FnOnce() -> Val,
        f: impl FnOnce(&mut Val) -> R,
    ) -> R {
        if !self.map.contains_key(key) {
            self.insert(key, default());
        }
        let slot = self
            .map
            .get_mut(key)
            .expect("the entry was inserted just above");
        let before = slot.size();
        let r = f(slot);
        self.size = self.size - before + slot.size();
        r
    }

    /// The entries, in order.
    pub fn entries(&self) -> &IndexMap<Arc<str>, Val> {
        &self.map
    }
}

impl std::ops::Deref for Obj {
    type Target = IndexMap<Arc<str>, Val>;
    fn deref(&self) -> &IndexMap<Arc<str>, Val> {
        &self.map
    }
}

impl<K: Into<Arc<str>> + AsRef<str>> FromIterator<(K, Val)> for Obj {
    fn from_iter<I: IntoIterator<Item = (K, Val)>>(it: I) -> Obj {
        let mut o = Obj::new();
        for (k, v) in it {
            o.insert(k, v);
        }
        o
    }
}

impl<K: Into<Arc<str>> + AsRef<str>> Extend<(K, Val)> for Obj {
    fn extend<I: IntoIterator<Item = (K, Val)>>(&mut self, it: I) {
        for (k, v) in it {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for Obj {
    type Item = (Arc<str>, Val);
    type IntoIter = indexmap::map::IntoIter<Arc<str>, Val>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}

impl PartialEq for Obj {
    fn eq(&self, other: &Obj) -> bool {
        self.map == other.map
    }
}

impl Val {
    /// Length of this value's compact JSON text, in bytes (O(1) for arrays
    /// and objects, O(n) for a string of n bytes).
    pub fn size(&self) -> usize {
        match self {
            Val::Null => 4,
            Val::Bool(true) => 4,
            Val::Bool(false) => 5,
            Val::Number(n) => number_size(n),
            Val::String(s) => str_size(s),
            Val::Array(a) => a.size,
            Val::Object(o) => o.size,
        }
    }

    /// A string value.
    pub fn str(s: &str) -> Val {
        Val::String(Arc::from(s))
    }

    /// An object value.
    pub fn object(o: Obj) -> Val {
        Val::Object(Arc::new(o))
    }

    /// An array value.
    pub fn array(items: Vec<Val>) -> Val {
        Val::Array(Arc::new(Arr::from(items)))
    }

    /// An empty object.
    pub fn empty_object() -> Val {
        Val::object(Obj::new())
    }

    /// Field `k` of an object.
    pub fn get(&self, k: &str) -> Option<&Val> {
        match self {
            Val::Object(o) => o.get(k),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// As `i64` (integers only).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// As `u64` (non-negative integers only).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Val::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// As `f64` (any number).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&Arr> {
        match self {
            Val::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Obj> {
        match self {
            Val::Object(o) => Some(o),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// True for an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Val::Array(_))
    }

    /// True for an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Val::Object(_))
    }

    /// True for a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Val::String(_))
    }

    /// True for a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Val::Number(_))
    }

    /// True for a boolean.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Val::Bool(_))
    }

    /// A deep copy as a `serde_json::Value`.
    pub fn to_json(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Number(n) => Value::Number(n.clone()),
            Val::String(s) => Value::String(s.to_string()),
            Val::Array(a) => Value::Array(a.iter().map(Val::to_json).collect()),
            Val::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Compact JSON text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl From<Value> for Val {
    fn from(v: Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Number(n),
            Value::String(s) => Val::String(Arc::from(s)),
            Value::Array(a) => Val::array(a.into_iter().map(Val::from).collect()),
            Value::Object(o) => {
                Val::object(o.into_iter().map(|(k, v)| (k, Val::from(v))).collect())
            }
        }
    }
}

impl From<&Value> for Val {
    fn from(v: &Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Number(n.clone()),
            Value::String(s) => Val::str(s),
            Value::Array(a) => Val::array(a.iter().map(Val::from).collect()),
            Value::Object(o) => {
                Val::object(o.iter().map(|(k, v)| (k.as_str(), Val::from(v))).collect())
            }
        }
    }
}

impl From<Val> for Value {
    fn from(v: Val) -> Value {
        v.to_json()
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::str(s)
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::String(Arc::from(s))
    }
}

impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}

impl From<u64> for Val {
    fn from(n: u64) -> Val {
        Val::Number(n.into())
    }
}

impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::Number(n.into())
    }
}

impl From<usize> for Val {
    fn from(n: usize) -> Val {
        Val::Number((n as u64).into())
    }
}

impl From<u32> for Val {
    fn from(n: u32) -> Val {
        Val::Number(n.into())
    }
}

impl From<Obj> for Val {
    fn from(o: Obj) -> Val {
        Val::object(o)
    }
}

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Null => s.serialize_unit(),
            Val::Bool(b) => s.serialize_bool(*b),
            Val::Number(n) => n.serialize(s),
            Val::String(t) => s.serialize_str(t),
            Val::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a.iter() {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Val::Object(o) => {
                let mut m = s.serialize_map(Some(o.len()))?;
                for (k, v) in o.iter() {
                    m.serialize_entry(&**k, v)?;
                }
                m.end()
            }
        }
    }
}

impl fmt::Debug for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for Obj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.map.iter()).finish()
    }
}

impl fmt::Debug for Arr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.items.iter()).finish()
    }
}

/// Workflow variables visible to a state (inner scopes get a copy of the outer ones).
pub type Variables = HashMap<String, Val>;

/// Shared handle to variables.
pub type SharedVars = Arc<Variables>;

/// Everything a path can point into.
pub struct Sources<'a> {
    /// `$`.
    pub input: &'a Val,
    /// `$$`.
    pub context: &'a Val,
    /// `$name`.
    pub vars: &'a Variables,
}

impl Sources<'_> {
    /// The document a path's root designates, if any.
    pub fn root_of(&self, p: &JsonPath) -> Option<&Val> {
        match &p.root {
            Root::Input => Some(self.input),
            Root::Context => Some(self.context),
            Root::Variable(n) => self.vars.get(n),
        }
    }

    /// Resolves a path against the right root.
    pub fn resolve(&self, p: &JsonPath) -> Option<Val> {
        let root = self.root_of(p)?;
        if p.is_plain() {
            p.select_ref(root).cloned()
        } else {
            p.select(root)
        }
    }
}

impl crate::intrinsics::Resolver for Sources<'_> {
    fn resolve(&self, path: &JsonPath) -> Option<Value> {
        Sources::resolve(self, path).map(|v| v.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exact(v: &Val) -> usize {
        serde_json::to_string(v).unwrap().len()
    }

    #[test]
    fn sizes_are_exact_and_maintained() {
        let docs = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-12345),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(-0.000123),
            json!(1e300),
            json!("q\"b\\n\nt\tc\u{1}\u{7f}é😀\u{8}\u{c}"),
            json!([]),
            json!({}),
            json!([1, "a", {"k\"": [null, 2.25]}]),
            json!({"a": {"b": [1, 2, 3]}, "c": "d"}),
        ];
        for d in docs {
            let v = Val::from(&d);
            assert_eq!(v.size(), exact(&v), "{d}");
            assert_eq!(serde_json::to_string(&v).unwrap(), d.to_string());
            assert_eq!(v.to_json(), d);
        }
        let mut o = Obj::new();
        o.insert("a", Val::from(1u64));
        o.insert("b\n", Val::str("x"));
        o.insert("a", Val::str("longer"));
        o.update("c", Val::empty_object, |c| {
            if let Val::Object(c) = c {
                Arc::make_mut(c).insert("d", Val::array(vec![Val::Null, Val::Bool(false)]));
            }
        });
        let v = Val::object(o);
        assert_eq!(v.size(), exact(&v));
        assert_eq!(
            v.to_text(),
            r#"{"a":"longer","b\n":"x","c":{"d":[null,false]}}"#
        );
        let mut a = Arr::new();
        a.push(Val::from(10u64));
        a.push(v.clone());
        a.update(0, |x| *x = Val::str("ten"));
        let a = Val::Array(Arc::new(a));
        assert_eq!(a.size(), exact(&a));
    }

    #[test]
    fn copies_share_subtrees() {
        let doc = Val::from(json!({"big": {"k": "v"}}));
        let copy = doc.get("big").cloned().unwrap();
        match (doc.get("big").unwrap(), &copy) {
            (Val::Object(a), Val::Object(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => panic!("not objects"),
        }
    }
}
