//! The source hash of hash-based pycs (`importlib.util.source_hash`).

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

use crate::Target;

/// SipHash-1-3 of `source`, keyed with the target's magic bytes read as a little-endian integer,
/// as CPython 3.11+ computes it; the result is in header byte order.
pub fn source_hash(target: Target, source: &[u8]) -> [u8; 8] {
    let k0 = u64::from(u32::from_le_bytes(target.magic_bytes()));
    let mut hasher = SipHasher13::new_with_keys(k0, 0);
    hasher.write(source);
    hasher.finish().to_le_bytes()
}
