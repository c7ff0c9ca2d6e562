//! Request ids (UUID v4 text, as Lambda's) and X-Ray trace headers.
//!
//! Hand-written instead of the `uuid` crate: ids only need to be unique and
//! look like Lambda's, and this costs no syscall per invocation (a process
//! random seed from std's `RandomState`, then a SplitMix64 sequence).

use std::{
    hash::{BuildHasher, RandomState},
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

static SEED: LazyLock<u64> = LazyLock::new(|| RandomState::new().hash_one(0x5eed_u64));
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn next_u64() -> u64 {
    // SplitMix64 over a seeded counter: distinct inputs give distinct outputs.
    let mut z = SEED.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, value: u64, digits: usize) {
    for i in (0..digits).rev() {
        out.push(HEX[((value >> (i * 4)) & 0xf) as usize] as char);
    }
}

/// A new request id, e.g. `8476a536-e9f4-41e8-9739-2dfe598c3fcd`.
pub(crate) fn new_request_id() -> String {
    let hi = next_u64();
    let lo = next_u64();
    // Version 4, variant 10xx.
    let hi = (hi & !0xf000) | 0x4000;
    let lo = (lo & !(0xc << 60)) | (0x8 << 60);
    let mut s = String::with_capacity(36);
    push_hex(&mut s, hi >> 32, 8);
    s.push('-');
    push_hex(&mut s, (hi >> 16) & 0xffff, 4);
    s.push('-');
    push_hex(&mut s, hi & 0xffff, 4);
    s.push('-');
    push_hex(&mut s, lo >> 48, 4);
    s.push('-');
    push_hex(&mut s, lo & 0xffff_ffff_ffff, 12);
    s
}

/// An X-Ray trace header as Lambda passes it in `Lambda-Runtime-Trace-Id`:
/// `Root=1-<epoch hex>-<96 bit hex>;Parent=<64 bit hex>;Sampled=0`.
pub(crate) fn new_trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut s = String::with_capacity(80);
    s.push_str("Root=1-");
    push_hex(&mut s, secs & 0xffff_ffff, 8);
    s.push('-');
    push_hex(&mut s, next_u64() & 0xffff_ffff, 8);
    push_hex(&mut s, next_u64(), 16);
    s.push_str(";Parent=");
    push_hex(&mut s, next_u64(), 16);
    s.push_str(";Sampled=0");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4_and_distinct() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{a}");
        assert!(matches!(parts[3].as_bytes()[0], b'8'..=b'b'), "{a}");
        assert!(a.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn trace_ids_have_xray_shape() {
        let t = new_trace_id();
        let root = t.strip_prefix("Root=1-").unwrap();
        let (epoch, rest) = root.split_once('-').unwrap();
        assert_eq!(epoch.len(), 8);
        let (id, rest) = rest.split_once(";Parent=").unwrap();
        assert_eq!(id.len(), 24);
        let (parent, sampled) = rest.split_once(';').unwrap();
        assert_eq!(parent.len(), 16);
        assert_eq!(sampled, "Sampled=0");
    }
}
