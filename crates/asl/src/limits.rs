//! Service limits the engine enforces: the 256 KiB payload quota
//! (`States.DataLimitExceeded`).
//!
//! AWS measures a payload as the UTF-8 bytes of its JSON text. The engine's
//! values ([`Val`]) carry that length, kept up to date as documents are built
//! and edited, so a check is one comparison and never walks or serializes a
//! document. [`json_size`]/[`exceeds`] measure a `serde_json::Value` (values
//! that come from outside the engine) by counting its serialized bytes,
//! stopping as soon as the count passes the limit.
//!
//! The interpreter calls it only where a state produced new data (task and
//! Map/Parallel results, payload templates, ResultSelector/ResultPath merges,
//! JSONata `Output`/`Arguments`, execution input); a state that only passes or
//! narrows its input never measures it.

use crate::error::{DATA_LIMIT_EXCEEDED, ExecError};
use crate::value::Val;
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

/// True when `v`'s JSON text exceeds [`MAX_PAYLOAD_BYTES`] (O(1) for arrays and objects).
pub fn too_large(v: &Val) -> bool {
    v.size() > MAX_PAYLOAD_BYTES
}

/// True when the JSON text of `v` (a `serde_json::Value`) is longer than `limit` bytes.
pub fn exceeds(v: &Value, limit: usize) -> bool {
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
pub fn check(name: &str, v: Val) -> Result<Val, ExecError> {
    if too_large(&v) {
        Err(data_limit_error(name))
    } else {
        Ok(v)
    }
}

/// Fails with [`data_limit_error`] when `v` is too large.
pub fn check_ref(name: &str, v: &Val) -> Result<(), ExecError> {
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
    fn exceeds_is_exact() {
        for d in [
            json!(null),
            json!(-12345),
            json!(1e300),
            json!("q\"\u{1}é"),
            json!([1, "a", {"k\"": [null, 2.25]}]),
        ] {
            let exact = json_size(&d);
            assert!(!exceeds(&d, exact), "{d}");
            assert!(exceeds(&d, exact - 1), "{d}");
        }
    }

    #[test]
    fn limit_is_262144_bytes_of_json_text() {
        // A string of n bytes serializes to n + 2.
        let fits = Val::from("x".repeat(MAX_PAYLOAD_BYTES - 2));
        let over = Val::from("x".repeat(MAX_PAYLOAD_BYTES - 1));
        assert!(!too_large(&fits));
        assert!(too_large(&over));
        // Escapes count: 131,072 newlines are 262,144 bytes of escapes + quotes,
        // and 43,690 control characters are 262,140 bytes of `\u00XX` + quotes.
        assert!(too_large(&Val::from("\n".repeat(MAX_PAYLOAD_BYTES / 2))));
        assert!(!too_large(&Val::from("\u{1}".repeat(43_690))));
        assert!(too_large(&Val::from("\u{1}".repeat(43_691))));
        // Floats: the exact text length.
        let floats = Val::from(Value::Array(vec![json!(0.5); MAX_PAYLOAD_BYTES / 4]));
        assert_eq!(
            too_large(&floats),
            serde_json::to_string(&floats).unwrap().len() > MAX_PAYLOAD_BYTES
        );
        // A document made of one shared subtree many times counts every copy.
        let part = Val::from(json!({"k": "x".repeat(1000)}));
        let doc = Val::array(vec![part; 300]);
        assert!(too_large(&doc));
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
