//! Generators shared by the property tests: hostile text, random JSON values,
//! deep nesting, token soups from a parser's own vocabulary, and random
//! mutations of a real JSON document.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Characters parsers trip on: quotes, escapes, brackets, separators,
/// control characters, and multi-byte UTF-8 (2, 3 and 4 bytes, combining
/// marks, right-to-left, BOM, the replacement character).
const SPECIAL: &[char] = &[
    '"',
    '\'',
    '\\',
    '$',
    '@',
    '.',
    ',',
    ':',
    ';',
    '[',
    ']',
    '{',
    '}',
    '(',
    ')',
    '*',
    '?',
    '!',
    '#',
    '%',
    '&',
    '|',
    '=',
    '<',
    '>',
    '-',
    '+',
    '/',
    '`',
    '~',
    '^',
    ' ',
    '\t',
    '\n',
    '\r',
    '\0',
    '\u{7f}',
    '\u{a0}',
    'é',
    'ß',
    '\u{301}',
    '\u{200b}',
    '\u{202e}',
    '\u{feff}',
    'ー',
    '中',
    '\u{fffd}',
    '\u{ffff}',
    '😀',
    '𝄞',
    '\u{10ffff}',
];

/// One character: mostly ASCII letters and digits, often punctuation and
/// escapes, sometimes any Unicode scalar value.
pub fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        1 => proptest::char::range('0', '9'),
        3 => proptest::sample::select(SPECIAL),
        1 => any::<char>(),
    ]
}

/// A string of up to `max` [`hostile_char`]s.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(hostile_char(), 0..=max).prop_map(|v| v.into_iter().collect())
}

/// A short name: usually an identifier, sometimes with spaces, dots,
/// quotes or non-ASCII letters in it.
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        1 => text(8),
        1 => Just(String::new()),
    ]
}

/// A JSON value up to `depth` levels of containers, with hostile strings and
/// edge-case numbers (0, -0.0, huge, tiny, i64/u64 extremes).
pub fn json(depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        proptest::sample::select(vec![
            0.0f64,
            -0.0,
            0.5,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            9_007_199_254_740_993.0
        ])
        .prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        text(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((name(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

/// Text made of `tokens` (a parser's keywords, operators and delimiters)
/// with some random text in between: reaches far deeper into a grammar than
/// random bytes do, and still produces every kind of malformed input.
pub fn soup(tokens: &'static [&'static str], max_tokens: usize) -> BoxedStrategy<String> {
    let piece = prop_oneof![
        8 => proptest::sample::select(tokens).prop_map(str::to_owned),
        1 => text(4),
        1 => name(),
    ];
    proptest::collection::vec(piece, 0..=max_tokens)
        .prop_map(|v| v.concat())
        .boxed()
}

/// `depth` copies of `open`, then `inner`, then `depth` copies of `close`.
pub fn nest(open: &str, inner: &str, close: &str, depth: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * depth + inner.len());
    for _ in 0..depth {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

/// JSON text nested 1 to 20,000 levels deep (arrays, objects or both),
/// balanced or cut short: what a hostile client sends to overflow a
/// recursive parser.
pub fn deep_json_text() -> impl Strategy<Value = String> {
    (
        1usize..20_000,
        0usize..3,
        any::<bool>(),
        proptest::sample::select(vec!["1", "\"x\"", "null", "[]", "{}", ""]),
    )
        .prop_map(|(depth, kind, balanced, inner)| {
            let (open, close) = match kind {
                0 => ("[", "]"),
                1 => ("{\"a\":", "}"),
                _ => ("[{\"a\":", "}]"),
            };
            let mut s = nest(open, inner, close, depth);
            if !balanced {
                s.truncate(s.len() - close.len() * (depth / 2));
            }
            s
        })
}

/// What to do to one node of a document.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Remove it from its parent.
    Delete,
    /// Put this value in its place.
    Replace(Value),
    /// Give it a value of another JSON type (its string form, a number, …).
    WrongType(u8),
    /// Move it under another key of its parent object.
    Rename(String),
    /// Put a copy of the node under a new key of, or at the end of, its parent.
    Duplicate(String),
}

/// One edit of the node picked by `at` (modulo the node count).
#[derive(Debug, Clone)]
pub struct Mutation {
    /// Which node (a pre-order index, taken modulo the number of nodes).
    pub at: u32,
    /// What to do to it.
    pub edit: Edit,
}

/// One to `max` random [`Mutation`]s.
pub fn mutations(max: usize) -> impl Strategy<Value = Vec<Mutation>> {
    let edit = prop_oneof![
        3 => Just(Edit::Delete),
        2 => json(2).prop_map(Edit::Replace),
        3 => any::<u8>().prop_map(Edit::WrongType),
        1 => name().prop_map(Edit::Rename),
        1 => name().prop_map(Edit::Duplicate),
    ];
    proptest::collection::vec(
        (any::<u32>(), edit).prop_map(|(at, edit)| Mutation { at, edit }),
        1..=max,
    )
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn collect(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(here.clone());
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                here.push(Step::Key(k.clone()));
                collect(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(Step::Index(i));
                collect(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn walk<'v>(mut v: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    for s in path {
        v = match s {
            Step::Key(k) => v.get_mut(k.as_str())?,
            Step::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

fn other_type(v: &Value, pick: u8) -> Value {
    let as_text = Value::String(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let choices = [
        as_text,
        Value::from(i64::from(pick) - 100),
        Value::Bool(pick.is_multiple_of(2)),
        Value::Null,
        Value::Array(vec![v.clone()]),
        Value::Object(Map::new()),
        Value::from(-1.5),
    ];
    choices[usize::from(pick) % choices.len()].clone()
}

/// Applies `muts` to `doc` in order (each picks its node in the document as
/// the previous edits left it).
pub fn mutate(doc: &mut Value, muts: &[Mutation]) {
    for m in muts {
        let mut paths = Vec::new();
        collect(doc, &mut Vec::new(), &mut paths);
        let path = &paths[m.at as usize % paths.len()];
        let Some((last, parent_path)) = path.split_last() else {
            // The root itself: only replacements apply.
            match &m.edit {
                Edit::Replace(v) => *doc = v.clone(),
                Edit::WrongType(p) => *doc = other_type(doc, *p),
                _ => {}
            }
            continue;
        };
        let Some(parent) = walk(doc, parent_path) else {
            continue;
        };
        match (&m.edit, last, parent) {
            (Edit::Delete, Step::Key(k), Value::Object(o)) => {
                o.remove(k);
            }
            (Edit::Delete, Step::Index(i), Value::Array(a)) => {
                a.remove(*i);
            }
            (Edit::Replace(v), Step::Key(k), Value::Object(o)) => {
                o.insert(k.clone(), v.clone());
            }
            (Edit::Replace(v), Step::Index(i), Value::Array(a)) => a[*i] = v.clone(),
            (Edit::WrongType(p), Step::Key(k), Value::Object(o)) => {
                let new = other_type(&o[k], *p);
                o.insert(k.clone(), new);
            }
            (Edit::WrongType(p), Step::Index(i), Value::Array(a)) => a[*i] = other_type(&a[*i], *p),
            (Edit::Rename(n), Step::Key(k), Value::Object(o)) => {
                if let Some(v) = o.remove(k) {
                    o.insert(n.clone(), v);
                }
            }
            (Edit::Duplicate(n), Step::Key(k), Value::Object(o)) => {
                let v = o[k].clone();
                o.insert(n.clone(), v);
            }
            (Edit::Duplicate(_), Step::Index(i), Value::Array(a)) => {
                let v = a[*i].clone();
                a.push(v);
            }
            _ => {}
        }
    }
}
