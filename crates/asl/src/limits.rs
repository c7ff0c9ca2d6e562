//! Service limits the engine enforces: the 256 KiB payload quota
//! (`States.DataLimitExceeded`).
//!
//! AWS measures a payload as the UTF-8 bytes of its JSON text. Serializing a
//! document to count it would cost a full formatting pass per check, so
//! [`too_large`] first walks the tree and adds up a cheap upper bound
//! without looking inside strings or formatting numbers (a string of `n` bytes
//! serializes to at most `6n + 2` bytes, `\u00XX` per byte at worst; a number
//! to at most 24). Only when that bound passes the limit (at least ~43 KiB of
//! text) is the exact size counted, by serializing into a byte counter that
//! stops as soon as the count passes the limit.
//!
//! The interpreter calls it only where a state produced new data (task and
//! Map/Parallel results, payload templates, ResultSelector/ResultPath merges,
//! JSONata `Output`/`Arguments`, execution input); a state that only passes or
//! narrows its input never measures it.

use crate::error::{DATA_LIMIT_EXCEEDED, ExecError};
use serde_json::Value;

/// Maximum size of a state's or execution's input or output, bytes (256 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// Serialized size of `v` (compact JSON, UTF-8 bytes) without allocating the text.
pub fn json_size(v: &Value) -> usize {
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
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// An upper bound of `v`'s JSON size, cut short once it passes `limit`.
/// Strings count `6n + 2` (every byte escaped as `\u00XX` at worst), numbers
/// 24 (the longest shortest-form `f64`; integers are at most 20), `false` 5.
fn upper_bound(v: &Value, limit: usize) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 24,
        Value::String(s) => s.len().saturating_mul(6).saturating_add(2),
        Value::Array(a) => {
            let mut n = 2 + a.len();
            for x in a {
                n = n.saturating_add(upper_bound(x, limit));
                if n > limit {
                    break;
                }
            }
            n
        }
        Value::Object(o) => {
            let mut n = 2 + o.len();
            for (k, x) in o {
                n = n
                    .saturating_add(k.len().saturating_mul(6).saturating_add(3))
                    .saturating_add(upper_bound(x, limit));
                if n > limit {
                    break;
                }
            }
            n
        }
    }
}

/// True when `v`'s JSON text exceeds [`MAX_PAYLOAD_BYTES`].
pub fn too_large(v: &Value) -> bool {
    exceeds(v, MAX_PAYLOAD_BYTES)
}

/// True when `v`'s JSON text is longer than `limit` bytes (see the module doc).
pub fn exceeds(v: &Value, limit: usize) -> bool {
    if upper_bound(v, limit) <= limit {
        return false;
    }
    // Count exactly, stopping as soon as the count passes the limit.
    struct Counter(usize, usize);
    impl std::io::Write for Counter {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            if self.0 > self.1 {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Counter(0, limit);
    serde_json::to_writer(&mut c, v).is_err() || c.0 > limit
}

/// AWS's `States.DataLimitExceeded` failure for state `name`.
pub fn data_limit_error(name: &str) -> ExecError {
    ExecError::new(
        DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// `States.DataLimitExceeded` for an execution whose input is over the limit
/// (only reachable when a caller skips [`execution_input_error`]).
pub fn execution_data_limit_error() -> ExecError {
    ExecError::new(
        DATA_LIMIT_EXCEEDED,
        "The execution input has a size exceeding the maximum number of bytes service limit.",
    )
}

/// The `ValidationException` message StartExecution/StartSyncExecution return
/// for an `input` longer than 262,144 bytes (`None` when it fits). AWS checks
/// the request's text as sent, so this takes the text, not a parsed value.
pub fn execution_input_error(input_text: &str) -> Option<String> {
    (input_text.len() > MAX_PAYLOAD_BYTES).then(|| {
        format!(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
        )
    })
}

/// Passes `v` through, or fails with [`data_limit_error`] when it is too large.
pub fn check(name: &str, v: Value) -> Result<Value, ExecError> {
    if too_large(&v) {
        Err(data_limit_error(name))
    } else {
        Ok(v)
    }
}

/// Fails with [`data_limit_error`] when `v` is too large.
pub fn check_ref(name: &str, v: &Value) -> Result<(), ExecError> {
    if too_large(v) {
        Err(data_limit_error(name))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bound_is_an_upper_bound_and_exceeds_is_exact() {
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
            json!(f64::MIN_POSITIVE),
            json!("plain"),
            json!("q\"b\\n\nt\tc\u{1}\u{7f}é😀"),
            json!("\u{1}\u{2}\u{3}"),
            json!([]),
            json!({}),
            json!([1, "a", {"k\"": [null, 2.25]}]),
            json!({"a": {"b": [1, 2, 3]}, "c": "d"}),
        ];
        for d in docs {
            let exact = json_size(&d);
            assert!(upper_bound(&d, usize::MAX) >= exact, "{d}");
            assert!(!exceeds(&d, exact), "{d}");
            assert!(exceeds(&d, exact - 1), "{d}");
        }
    }

    #[test]
    fn limit_is_262144_bytes_of_json_text() {
        // A string of n bytes serializes to n + 2.
        let fits = Value::String("x".repeat(MAX_PAYLOAD_BYTES - 2));
        let over = Value::String("x".repeat(MAX_PAYLOAD_BYTES - 1));
        assert!(!too_large(&fits));
        assert!(too_large(&over));
        // Escapes count: 131,072 newlines are 262,144 bytes of escapes + quotes,
        // and 43,690 control characters are 262,140 bytes of `\u00XX` + quotes.
        let escaped = Value::String("\n".repeat(MAX_PAYLOAD_BYTES / 2));
        assert!(too_large(&escaped));
        let controls = Value::String("\u{1}".repeat(43_690));
        assert!(!too_large(&controls));
        let controls = Value::String("\u{1}".repeat(43_691));
        assert!(too_large(&controls));
        // Floats straddling the bound fall back to exact serialization.
        let floats = Value::Array(vec![json!(0.5); MAX_PAYLOAD_BYTES / 4]);
        assert_eq!(too_large(&floats), json_size(&floats) > MAX_PAYLOAD_BYTES);
        let e = check("S", over).unwrap_err();
        assert_eq!(e.error, DATA_LIMIT_EXCEEDED);
        assert_eq!(
            e.cause.as_deref(),
            Some(
                "The state/task 'S' returned a result with a size exceeding the maximum number of bytes service limit."
            )
        );
    }
}
