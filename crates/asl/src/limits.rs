//! Service limits the engine enforces (payload size → `States.DataLimitExceeded`).

use serde_json::Value;

/// Maximum size of a state's input or output, bytes (256 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// Serialized size of `v` without allocating the text.
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

/// True when `v` exceeds [`MAX_PAYLOAD_BYTES`]. Cheap for small scalars.
pub fn too_large(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
        Value::String(s) => s.len() > MAX_PAYLOAD_BYTES,
        _ => json_size(v) > MAX_PAYLOAD_BYTES,
    }
}
