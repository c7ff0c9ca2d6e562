//! Connection ids, request ids and trace ids shaped like API Gateway's.
//!
//! AWS's ids are 16 characters of base64 ending in `=` (11 bytes), e.g.
//! `SOqGjdZioAMCEeg=`, with a time-derived prefix. Ours are 5 bytes of
//! milliseconds, 2 bytes of a process-wide counter and 4 random bytes,
//! base64-encoded with `+`/`/` swapped for letters so an id never needs
//! escaping in an `@connections/{id}` path. Hand-written (a dozen lines)
//! rather than pulling in `rand` and `base64` for it.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::atomic::{AtomicU64, Ordering},
};

use crate::clock;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u64(clock::now_nanos());
    h.finish()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789ab";

fn encode(bytes: &[u8; 11]) -> String {
    let mut out = String::with_capacity(16);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A new id of API Gateway's shape (`SOqGjdZioAMCEeg=`): used for
/// connection ids, request ids and message ids.
pub fn new_id() -> String {
    let ms = clock::now_millis();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let r = random_u64();
    let mut b = [0u8; 11];
    b[..5].copy_from_slice(&ms.to_be_bytes()[3..8]);
    b[5..7].copy_from_slice(&(count as u16).to_be_bytes());
    b[7..11].copy_from_slice(&r.to_be_bytes()[..4]);
    encode(&b)
}

/// An X-Ray trace header value: `Root=1-<8 hex secs>-<24 hex random>`.
pub fn trace_id() -> String {
    let secs = clock::now_millis() / 1000;
    format!(
        "Root=1-{:08x}-{:016x}{:08x}",
        secs as u32,
        random_u64(),
        random_u64() as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_aws_ids_and_are_unique() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            assert_eq!(id.len(), 16, "{id}");
            assert!(id.ends_with('=') && !id.ends_with("=="), "{id}");
            assert!(id[..15].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        }
        let t = trace_id();
        assert!(t.starts_with("Root=1-") && t.len() == 7 + 8 + 1 + 24, "{t}");
    }
}
