//! `$util.*`: the helper functions API Gateway gives templates.
//!
//! `escapeJavaScript` follows Apache Commons Lang `StringEscapeUtils.escapeJavaScript`, which is
//! what API Gateway runs: `"` → `\"`, `\` → `\\`, `'` → `\'`, `/` → `\/`, the control characters
//! `\b \f \n \r \t` by name, every other UTF-16 unit below 0x20 or above 0x7E as `\uXXXX`
//! (upper-case hex). JSON-safety caveat (also in the AWS docs): `\'` is NOT a valid JSON escape,
//! so templates that put the result into a JSON string must turn `\'` back into `'`
//! (the usual `.replaceAll("\\'","'")`); every other escape it produces is valid JSON.

use base64::Engine as _;

use crate::VtlError;
use crate::value::V;

/// Calls `$util.<name>(args)`. `Ok(V::Null)` means "undefined" (renders as its source).
pub(crate) fn call(name: &str, args: &[V]) -> Result<V, VtlError> {
    let arg = |i: usize| -> Result<String, VtlError> {
        match args.get(i) {
            Some(V::Null) | None => Err(VtlError::render(format!(
                "$util.{name} needs a non-null argument"
            ))),
            Some(v) => v.to_java_string(),
        }
    };
    Ok(match name {
        "escapeJavaScript" => V::str(escape_javascript(&arg(0)?)),
        "urlEncode" => V::str(url_encode(&arg(0)?)),
        "urlDecode" => url_decode(&arg(0)?).map(V::str).unwrap_or(V::Null),
        "base64Encode" => V::str(base64::engine::general_purpose::STANDARD.encode(arg(0)?)),
        "base64Decode" => base64::engine::general_purpose::STANDARD
            .decode(arg(0)?.trim())
            .map(|b| V::str(String::from_utf8_lossy(&b).as_ref()))
            .unwrap_or(V::Null),
        "parseJson" => V::parse_json(&arg(0)?).unwrap_or(V::Null),
        _ => V::Null,
    })
}

/// Commons Lang `escapeJavaScript` (see the module doc for the JSON caveat about `\'`).
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for u in s.encode_utf16() {
        match u {
            0x22 => out.push_str("\\\""),
            0x27 => out.push_str("\\'"),
            0x5C => out.push_str("\\\\"),
            0x2F => out.push_str("\\/"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x20..=0x7E => out.push(u as u8 as char),
            _ => out.push_str(&format!("\\u{u:04X}")),
        }
    }
    out
}

/// Java `URLEncoder.encode(s, "UTF-8")`: `a-zA-Z0-9.-*_` kept, space → `+`, rest `%XX`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Java `URLDecoder.decode(s, "UTF-8")`: `+` → space, `%XX` → byte; `None` on a bad escape.
pub fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}
