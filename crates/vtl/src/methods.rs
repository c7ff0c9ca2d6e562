//! Java methods callable on values: `String`, `Map`, `List` and number methods, with Java's
//! semantics (UTF-16 indexes, `String.split` dropping trailing empty strings, Java regex and
//! replacement syntax translated to the `regex` crate, which matches in linear time).

use indexmap::IndexMap;
use regex::Regex;

use crate::VtlError;
use crate::limits::MAX_OUTPUT;
use crate::value::V;

/// Methods whose first argument is a Java regular expression.
pub(crate) fn takes_regex(name: &str) -> bool {
    matches!(name, "replaceAll" | "replaceFirst" | "matches" | "split")
}

/// Compiles a Java regex: escapes of non-alphanumeric characters (`\'`, `\/`, ...) that Java
/// accepts and the `regex` crate rejects are turned into plain escaped literals.
pub(crate) fn java_regex(pattern: &str) -> Result<Regex, String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) if n.is_ascii_alphanumeric() => {
                    out.push('\\');
                    out.push(n);
                }
                Some(n) => out.push_str(&regex::escape(n.encode_utf8(&mut [0; 4]))),
                None => return Err("pattern ends with a lone backslash".into()),
            }
        } else {
            out.push(c);
        }
    }
    regex::RegexBuilder::new(&out)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// Java `Matcher.replaceAll` replacement syntax (`$1`, `${name}`, `\x`) → `regex` syntax.
fn java_replacement(rep: &str) -> Result<String, VtlError> {
    let mut out = String::with_capacity(rep.len());
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(n) => out.push(n),
                None => return Err(VtlError::render("replacement ends with a lone backslash")),
            },
            '$' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        n.push(*d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                Some('{') => out.push('$'),
                _ => return Err(VtlError::render("illegal group reference in replacement")),
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from_utf16(u: &[u16]) -> V {
    V::str(String::from_utf16_lossy(u))
}

fn int_arg(args: &[V], i: usize) -> Option<i64> {
    match args.get(i)? {
        V::Int(n) => Some(*n),
        V::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        V::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn str_arg(args: &[V], i: usize) -> Result<String, VtlError> {
    match args.get(i) {
        None | Some(V::Null) => Err(VtlError::render("method needs a non-null argument")),
        Some(v) => v.to_java_string(),
    }
}

/// Java `equals` (numbers compare by value). Shared sub-values can make a structure
/// exponentially large, so comparison gives up (unequal) after a bounded number of steps.
pub(crate) fn java_eq(a: &V, b: &V) -> bool {
    let mut budget = crate::limits::MAX_ITERATIONS;
    eq_bounded(a, b, &mut budget)
}

fn eq_bounded(a: &V, b: &V, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => as_f64(a) == as_f64(b),
        (V::Str(x), V::Str(y)) => x == y,
        (V::List(x), V::List(y)) => {
            x.items.len() == y.items.len()
                && x.items
                    .iter()
                    .zip(&y.items)
                    .all(|(p, q)| eq_bounded(p, q, budget))
        }
        (V::Map(x), V::Map(y)) => {
            x.entries.len() == y.entries.len()
                && x.entries
                    .iter()
                    .all(|(k, v)| y.entries.get(k).is_some_and(|w| eq_bounded(v, w, budget)))
        }
        _ => false,
    }
}

pub(crate) fn as_f64(v: &V) -> f64 {
    match v {
        V::Int(i) => *i as f64,
        V::Float(f) => *f,
        _ => f64::NAN,
    }
}

fn bounds(what: &str) -> VtlError {
    VtlError::render(format!("{what}: index out of range"))
}

/// Calls `recv.name(args)`. Mutating methods change `recv` in place. `Ok(None)` = no such
/// method for this receiver (the reference is then undefined, as in Velocity).
pub(crate) fn call(
    recv: &mut V,
    name: &str,
    args: &[V],
    regex: Option<&Regex>,
) -> Result<Option<V>, VtlError> {
    // Methods every object has.
    match (name, args.len()) {
        ("toString", 0) => return Ok(Some(V::str(recv.to_java_string()?))),
        ("equals", 1) => return Ok(Some(V::Bool(java_eq(recv, &args[0])))),
        _ => {}
    }
    match recv {
        V::Str(s) => string_method(s, name, args, regex),
        V::Map(_) => map_method(recv, name, args),
        V::List(_) => list_method(recv, name, args),
        V::Int(_) | V::Float(_) => Ok(match name {
            "intValue" | "longValue" => Some(V::Int(as_f64(recv) as i64)),
            "doubleValue" | "floatValue" => Some(V::Float(as_f64(recv))),
            _ => None,
        }),
        V::Bool(b) => Ok(match name {
            "booleanValue" => Some(V::Bool(*b)),
            _ => None,
        }),
        V::Null => Ok(None),
    }
}

fn string_method(
    s: &str,
    name: &str,
    args: &[V],
    regex: Option<&Regex>,
) -> Result<Option<V>, VtlError> {
    let n = args.len();
    let v = match (name, n) {
        ("length", 0) => V::Int(s.encode_utf16().count() as i64),
        ("isEmpty", 0) => V::Bool(s.is_empty()),
        ("toLowerCase", 0) => V::str(s.to_lowercase()),
        ("toUpperCase", 0) => V::str(s.to_uppercase()),
        ("trim", 0) => V::str(s.trim_matches(|c: char| c <= ' ')),
        ("contains", 1) => V::Bool(s.contains(str_arg(args, 0)?.as_str())),
        ("startsWith", 1) => V::Bool(s.starts_with(str_arg(args, 0)?.as_str())),
        ("endsWith", 1) => V::Bool(s.ends_with(str_arg(args, 0)?.as_str())),
        ("equalsIgnoreCase", 1) => V::Bool(match &args[0] {
            V::Str(o) => s.to_lowercase() == o.to_lowercase(),
            _ => false,
        }),
        ("concat", 1) => V::str(format!("{s}{}", str_arg(args, 0)?)),
        ("indexOf", 1) | ("lastIndexOf", 1) => {
            let hay = utf16(s);
            let needle = utf16(&str_arg(args, 0)?);
            let found = if needle.len() > hay.len() {
                None
            } else if name == "indexOf" {
                (0..=hay.len() - needle.len()).find(|&i| hay[i..].starts_with(&needle))
            } else {
                (0..=hay.len() - needle.len())
                    .rev()
                    .find(|&i| hay[i..].starts_with(&needle))
            };
            V::Int(found.map(|i| i as i64).unwrap_or(-1))
        }
        ("charAt", 1) => {
            let u = utf16(s);
            let i = int_arg(args, 0).ok_or_else(|| bounds("charAt"))?;
            let c = usize::try_from(i)
                .ok()
                .and_then(|i| u.get(i))
                .ok_or_else(|| bounds("charAt"))?;
            from_utf16(&[*c])
        }
        ("substring", 1 | 2) => {
            let u = utf16(s);
            let b = int_arg(args, 0).ok_or_else(|| bounds("substring"))?;
            let e = if n == 2 {
                int_arg(args, 1).ok_or_else(|| bounds("substring"))?
            } else {
                u.len() as i64
            };
            if b < 0 || e > u.len() as i64 || b > e {
                return Err(bounds("substring"));
            }
            from_utf16(&u[b as usize..e as usize])
        }
        ("replace", 2) => {
            let from = str_arg(args, 0)?;
            let to = str_arg(args, 1)?;
            if from.is_empty() {
                // Java inserts the replacement between every character.
                let mut out = String::from(to.as_str());
                for c in s.chars() {
                    out.push(c);
                    out.push_str(&to);
                    if out.len() > MAX_OUTPUT {
                        return Err(VtlError::render("output too large"));
                    }
                }
                V::str(out)
            } else {
                let grow = to.len().saturating_sub(from.len()) * s.matches(from.as_str()).count();
                if s.len() + grow > MAX_OUTPUT {
                    return Err(VtlError::render("output too large"));
                }
                V::str(s.replace(from.as_str(), &to))
            }
        }
        ("replaceAll" | "replaceFirst", 2) => {
            let re = regex.ok_or_else(|| VtlError::render("bad regular expression"))?;
            let rep = java_replacement(&str_arg(args, 1)?)?;
            let out = if name == "replaceAll" {
                re.replace_all(s, rep.as_str())
            } else {
                re.replace(s, rep.as_str())
            };
            if out.len() > MAX_OUTPUT {
                return Err(VtlError::render("output too large"));
            }
            V::str(out.as_ref())
        }
        ("matches", 1) => {
            let re = regex.ok_or_else(|| VtlError::render("bad regular expression"))?;
            V::Bool(
                re.find(s)
                    .is_some_and(|m| m.start() == 0 && m.end() == s.len()),
            )
        }
        ("split", 1) => {
            let re = regex.ok_or_else(|| VtlError::render("bad regular expression"))?;
            let mut parts: Vec<&str> = if s.is_empty() {
                vec![""]
            } else {
                re.split(s).collect()
            };
            // Java: a leading empty string from a zero-width match at 0 is dropped, and
            // trailing empty strings are removed.
            if parts.len() > 1 && parts[0].is_empty() && re.find(s).is_some_and(|m| m.end() == 0) {
                parts.remove(0);
            }
            while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
                parts.pop();
            }
            V::list(parts.into_iter().map(V::str).collect())?
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn key(v: &V) -> Result<String, VtlError> {
    v.to_java_string()
}

fn map_method(recv: &mut V, name: &str, args: &[V]) -> Result<Option<V>, VtlError> {
    let V::Map(m) = recv else { return Ok(None) };
    let v = match (name, args.len()) {
        ("get", 1) => m.entries.get(&key(&args[0])?).cloned().unwrap_or(V::Null),
        ("containsKey", 1) => V::Bool(m.entries.contains_key(&key(&args[0])?)),
        ("containsValue", 1) => V::Bool(m.entries.values().any(|v| java_eq(v, &args[0]))),
        ("size", 0) => V::Int(m.entries.len() as i64),
        ("isEmpty", 0) => V::Bool(m.entries.is_empty()),
        ("keySet", 0) => V::list(m.entries.keys().map(|k| V::str(k.as_str())).collect())?,
        ("values", 0) => V::list(m.entries.values().cloned().collect())?,
        ("entrySet", 0) => V::list(
            m.entries
                .iter()
                .map(|(k, v)| {
                    let mut e = IndexMap::new();
                    e.insert("key".to_string(), V::str(k.as_str()));
                    e.insert("value".to_string(), v.clone());
                    V::map(e)
                })
                .collect::<Result<_, _>>()?,
        )?,
        ("put", 2) => {
            let k = key(&args[0])?;
            let val = args[1].clone();
            let d = val.depth();
            recv.note_child_depth(d)?;
            let V::Map(m) = recv else { return Ok(None) };
            std::rc::Rc::make_mut(m)
                .entries
                .insert(k, val)
                .unwrap_or(V::Null)
        }
        ("putAll", 1) => {
            let V::Map(other) = &args[0] else {
                return Ok(None);
            };
            recv.note_child_depth(other.depth.saturating_sub(1))?;
            let V::Map(m) = recv else { return Ok(None) };
            let m = std::rc::Rc::make_mut(m);
            for (k, v) in &other.entries {
                m.entries.insert(k.clone(), v.clone());
            }
            V::Null
        }
        ("remove", 1) => {
            let k = key(&args[0])?;
            std::rc::Rc::make_mut(m)
                .entries
                .shift_remove(&k)
                .unwrap_or(V::Null)
        }
        ("clear", 0) => {
            std::rc::Rc::make_mut(m).entries.clear();
            V::Null
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn list_method(recv: &mut V, name: &str, args: &[V]) -> Result<Option<V>, VtlError> {
    let V::List(l) = recv else { return Ok(None) };
    let len = l.items.len();
    let idx = |i: usize| -> Result<usize, VtlError> {
        int_arg(args, i)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < len)
            .ok_or_else(|| bounds(name))
    };
    let v = match (name, args.len()) {
        ("size", 0) => V::Int(len as i64),
        ("isEmpty", 0) => V::Bool(len == 0),
        ("get", 1) => l.items[idx(0)?].clone(),
        ("contains", 1) => V::Bool(l.items.iter().any(|v| java_eq(v, &args[0]))),
        ("indexOf", 1) => V::Int(
            l.items
                .iter()
                .position(|v| java_eq(v, &args[0]))
                .map(|i| i as i64)
                .unwrap_or(-1),
        ),
        ("add", 1) => {
            let val = args[0].clone();
            recv.note_child_depth(val.depth())?;
            let V::List(l) = recv else { return Ok(None) };
            std::rc::Rc::make_mut(l).items.push(val);
            V::Bool(true)
        }
        ("addAll", 1) => {
            let V::List(other) = &args[0] else {
                return Ok(None);
            };
            if len + other.items.len() > crate::limits::MAX_ITERATIONS {
                return Err(VtlError::render("list too large"));
            }
            recv.note_child_depth(other.depth.saturating_sub(1))?;
            let V::List(l) = recv else { return Ok(None) };
            std::rc::Rc::make_mut(l)
                .items
                .extend(other.items.iter().cloned());
            V::Bool(true)
        }
        ("set", 2) => {
            let i = idx(0)?;
            let val = args[1].clone();
            recv.note_child_depth(val.depth())?;
            let V::List(l) = recv else { return Ok(None) };
            std::mem::replace(&mut std::rc::Rc::make_mut(l).items[i], val)
        }
        ("remove", 1) => {
            let i = idx(0)?;
            std::rc::Rc::make_mut(l).items.remove(i)
        }
        ("clear", 0) => {
            std::rc::Rc::make_mut(l).items.clear();
            V::Null
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}
