//! One path of a JSON message, selected without building the document.
//!
//! API Gateway reads fields of a WebSocket message in two places: route and
//! template selection expressions (the gateway), and `$input.json(path)` /
//! `$input.path(path)` in mapping templates (this crate, for a message too
//! deep for [`crate::limits::MAX_VALUE_DEPTH`]). A message may be any valid
//! JSON up to 128 KB, nested however deep (64K levels fit). A
//! `serde_json::Value` stops at 128 levels (its recursion limit), and
//! without that limit building, dropping or printing such a tree recurses
//! once per level, which a hostile message can use to overflow the stack.
//! So this walks the text with a serde visitor that descends only along the
//! path: everything off the path is skipped by `IgnoredAny`, and the value
//! at the end of the path is captured as raw text (`RawValue`), both of
//! which serde_json runs in a loop with its own heap stack, at any depth.
//! The recursion here is bounded by the path's length, which the API's own
//! selection expression fixes. The whole message is still checked: text
//! that is not one valid JSON document selects nothing.
//!
//! No crate offers "validate and extract one path from JSON text of any
//! depth"; `serde_json` supplies the iterative parts, this module only
//! steers them.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// One step of a path: an object member or an array element.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name` or `['name']`.
    Key(String),
    /// `[n]`.
    Index(usize),
}

/// What a path selected.
#[derive(Debug, PartialEq)]
pub enum Selected {
    /// `null`.
    Null,
    /// A JSON string, unescaped.
    String(String),
    /// Any other value, as compact JSON text (objects and
    /// arrays keep their members' order).
    Json(String),
}

/// The value at `path` in the JSON document `text`; `None` when the text is
/// not JSON or the path selects nothing.
pub fn select(text: &str, path: &[Step]) -> Option<Selected> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw = PathSeed(path).deserialize(&mut de).ok()?;
    de.end().ok()?;
    let raw = raw?;
    let json = raw.get();
    match json.as_bytes().first()? {
        b'n' => Some(Selected::Null),
        b'"' => serde_json::from_str::<String>(json)
            .ok()
            .map(Selected::String),
        b'{' | b'[' => Some(Selected::Json(minify(json))),
        // Numbers and booleans print as serde_json prints them (`1e2` → `100.0`).
        _ => serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .map(|v| Selected::Json(v.to_string())),
    }
}

/// Whether `text` is one valid JSON document, at any depth.
pub fn is_json(text: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    <IgnoredAny as de::Deserialize>::deserialize(&mut de).is_ok() && de.end().is_ok()
}

/// Removes the whitespace between the tokens of valid JSON text, in one pass.
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// Deserializes the rest of the path: the raw value at its end, or `None`.
struct PathSeed<'p>(&'p [Step]);

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Option<Box<RawValue>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.0.split_first() {
            None => <Box<RawValue> as de::Deserialize>::deserialize(d).map(Some),
            Some((step, rest)) => d.deserialize_any(StepVisitor { step, rest }),
        }
    }
}

/// Looks for one step in an object or array, skipping every other member.
struct StepVisitor<'p> {
    step: &'p Step,
    rest: &'p [Step],
}

impl<'de> Visitor<'de> for StepVisitor<'_> {
    type Value = Option<Box<RawValue>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.step {
                // A repeated member: the last one counts, as in a parsed document.
                Step::Key(k) if *k == *key => found = map.next_value_seed(PathSeed(self.rest))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut index = 0usize;
        loop {
            let more = match self.step {
                Step::Index(i) if *i == index => seq
                    .next_element_seed(PathSeed(self.rest))?
                    .map(|v| found = v),
                _ => seq.next_element::<IgnoredAny>()?.map(|_| ()),
            };
            if more.is_none() {
                return Ok(found);
            }
            index += 1;
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    #[test]
    fn selects_like_a_parsed_document() {
        let doc = r#" {"a": {"b": [1, "two", {"c": null}]}, "s": "x\"y", "a2": 1e2, "dup": 1, "dup": 2} "#;
        assert_eq!(
            select(doc, &[key("s")]),
            Some(Selected::String("x\"y".into()))
        );
        assert_eq!(
            select(doc, &[key("a"), key("b"), Step::Index(1)]),
            Some(Selected::String("two".into()))
        );
        assert_eq!(
            select(doc, &[key("a"), key("b")]),
            Some(Selected::Json(r#"[1,"two",{"c":null}]"#.into()))
        );
        assert_eq!(
            select(doc, &[key("a2")]),
            Some(Selected::Json("100.0".into()))
        );
        assert_eq!(select(doc, &[key("dup")]), Some(Selected::Json("2".into())));
        assert_eq!(
            select(doc, &[key("a"), key("b"), Step::Index(2), key("c")]),
            Some(Selected::Null)
        );
        assert_eq!(select(doc, &[key("a"), key("b"), Step::Index(9)]), None);
        assert_eq!(select(doc, &[key("s"), key("deeper")]), None);
        assert_eq!(select(doc, &[key("missing")]), None);
    }

    #[test]
    fn whitespace_inside_strings_is_kept() {
        assert_eq!(
            select(r#"{"o": { "k" : "a b\\" , "n" : [ 1 ] }}"#, &[key("o")]),
            Some(Selected::Json(r#"{"k":"a b\\","n":[1]}"#.into()))
        );
    }

    #[test]
    fn text_that_is_not_one_json_document_selects_nothing() {
        for bad in [
            "",
            "hello",
            r#"{"action":"echo""#,
            r#"{"action":"echo"} trailing"#,
            r#"{"action":"echo","x":[1,}"#,
            r#"{"x":[[[[]]],"action":"echo"}"#,
        ] {
            assert_eq!(select(bad, &[key("action")]), None, "{bad}");
        }
    }

    #[test]
    fn any_depth_off_and_on_the_path() {
        // 64K levels: all a 128 KB message can hold.
        let depth = 65_000;
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let doc = format!(r#"{{"data":{deep},"action":"sync_sfn"}}"#);
        assert_eq!(
            select(&doc, &[key("action")]),
            Some(Selected::String("sync_sfn".into()))
        );
        match select(&doc, &[key("data")]) {
            Some(Selected::Json(text)) => assert_eq!(text, deep),
            other => panic!("{other:?}"),
        }
        let unbalanced = format!(r#"{{"action":"x","data":{}}}"#, "[".repeat(depth));
        assert_eq!(select(&unbalanced, &[key("action")]), None);
    }
}
