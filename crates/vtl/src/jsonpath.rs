//! The JSONPath subset API Gateway templates use: `$`, `.name`, `['name']`, `["name"]`, `[n]`
//! (negative counts from the end), `[*]` and `.*`. A path with a wildcard yields a list.
//!
//! [`select`] walks a parsed value; [`select_text`] reads a message too deep
//! to parse (see [`crate::json_text`]) along a path of names and indexes.

use crate::json_text;
use crate::value::V;

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    Wild,
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let b = path.trim().as_bytes();
    let path = path.trim();
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut i = 1;
    let mut steps = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                if b.get(i) == Some(&b'*') {
                    steps.push(Step::Wild);
                    i += 1;
                    continue;
                }
                let s = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if s == i {
                    return None;
                }
                steps.push(Step::Key(path[s..i].to_string()));
            }
            b'[' => {
                i += 1;
                match b.get(i) {
                    Some(&q @ (b'\'' | b'"')) => {
                        let s = i + 1;
                        let e = s + path[s..].find(q as char)?;
                        steps.push(Step::Key(path[s..e].to_string()));
                        i = e + 1;
                    }
                    Some(b'*') => {
                        steps.push(Step::Wild);
                        i += 1;
                    }
                    _ => {
                        let s = i;
                        while i < b.len() && b[i] != b']' {
                            i += 1;
                        }
                        steps.push(Step::Index(path[s..i].trim().parse().ok()?));
                    }
                }
                if b.get(i) != Some(&b']') {
                    return None;
                }
                i += 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// The result of applying a path.
pub(crate) enum Selected {
    /// The path is not valid JSONPath (of the supported subset).
    Invalid,
    /// No value at the path.
    Missing,
    /// The value (a list when the path contains a wildcard).
    Found(V),
}

/// What [`select_text`] found.
pub(crate) enum TextSelected {
    /// The path is not valid JSONPath (of the supported subset).
    Invalid,
    /// A wildcard or a negative index, which need the parsed document.
    Unsupported,
    /// No value at the path.
    Missing,
    /// The value.
    Found(json_text::Selected),
}

/// Applies `path` to the JSON text of a message without parsing all of it.
pub(crate) fn select_text(text: &str, path: &str) -> TextSelected {
    let Some(steps) = parse(path) else {
        return TextSelected::Invalid;
    };
    let mut text_steps = Vec::with_capacity(steps.len());
    for step in steps {
        text_steps.push(match step {
            Step::Key(k) => json_text::Step::Key(k),
            Step::Index(i) => match usize::try_from(i) {
                Ok(i) => json_text::Step::Index(i),
                Err(_) => return TextSelected::Unsupported,
            },
            Step::Wild => return TextSelected::Unsupported,
        });
    }
    match json_text::select(text, &text_steps) {
        Some(found) => TextSelected::Found(found),
        None => TextSelected::Missing,
    }
}

/// Applies `path` to `root`.
pub(crate) fn select(root: &V, path: &str) -> Selected {
    let Some(steps) = parse(path) else {
        return Selected::Invalid;
    };
    let multi = steps.contains(&Step::Wild);
    let mut cur = vec![root.clone()];
    for step in &steps {
        let mut next = Vec::new();
        for v in &cur {
            match (step, v) {
                (Step::Key(k), V::Map(m)) => next.extend(m.entries.get(k).cloned()),
                (Step::Index(i), V::List(l)) => {
                    let n = l.items.len() as i64;
                    let idx = if *i < 0 { n + i } else { *i };
                    if (0..n).contains(&idx) {
                        next.push(l.items[idx as usize].clone());
                    }
                }
                (Step::Wild, V::List(l)) => next.extend(l.items.iter().cloned()),
                (Step::Wild, V::Map(m)) => next.extend(m.entries.values().cloned()),
                _ => {}
            }
        }
        cur = next;
    }
    if multi {
        match V::list(cur) {
            Ok(v) => Selected::Found(v),
            Err(_) => Selected::Missing,
        }
    } else {
        match cur.pop() {
            Some(v) => Selected::Found(v),
            None => Selected::Missing,
        }
    }
}
