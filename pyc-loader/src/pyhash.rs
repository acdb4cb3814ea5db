//! CPython's `hash()` of constant values and the iteration order of the sets built from them.
//!
//! A frozenset constant is marshalled in the order CPython iterated it when it wrote the pyc,
//! but `marshal.loads` rebuilds it by adding the items one by one to an empty set, so its
//! iteration order (and hence its `repr`) is the order of that new hash table. [`set_order`]
//! replays `Objects/setobject.c` (linear probing then perturbed probing, resizing at 60% fill)
//! with the hashes CPython computes, taking string and bytes hashes as SipHash-1-3 with a zero
//! key, which is what CPython uses under `PYTHONHASHSEED=0`.

use std::hash::Hasher;

use num_bigint::BigUint;
use num_traits::{FromPrimitive, ToPrimitive};
use siphasher::sip::SipHasher13;

use crate::marshal::{Int, Object, Str};
use crate::Target;

/// `_PyHASH_BITS` on 64-bit platforms.
const HASH_BITS: u32 = 61;
/// `_PyHASH_MODULUS`: numeric hashes are values modulo this prime.
const MODULUS: u64 = (1 << HASH_BITS) - 1;
/// `_PyHASH_INF`.
const HASH_INF: u64 = 314_159;
/// `_PyHASH_IMAG`.
const HASH_IMAG: u64 = 1_000_003;
/// `hash(None)` from 3.12 on.
const HASH_NONE: u64 = 0xFCA8_6420;

/// Why a value has no hash we can reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoHash {
    /// CPython raises `TypeError: unhashable type` (lists, dicts, sets).
    Unhashable(&'static str),
    /// The hash depends on the object's address (NaNs, `...`, types, code objects), so the
    /// order of a set holding it differs between runs of CPython itself.
    AddressBased,
}

/// CPython's `hash(obj)` as an unsigned machine word (`Py_uhash_t`), for `PYTHONHASHSEED=0`.
pub fn hash(obj: &Object, target: Target) -> Result<u64, NoHash> {
    Ok(match obj {
        Object::None if target >= Target::V3_12 => HASH_NONE,
        Object::None | Object::Ellipsis | Object::StopIteration | Object::Code(_) => {
            return Err(NoHash::AddressBased)
        }
        Object::True => 1,
        Object::False => 0,
        Object::Int(i) => fix(hash_int(i)),
        Object::Float(v) => hash_float(*v)?,
        Object::Complex(re, im) => {
            fix(hash_float(*re)?.wrapping_add(HASH_IMAG.wrapping_mul(hash_float(*im)?)))
        }
        Object::Str(s) => hash_str(s),
        Object::Bytes(b) => hash_bytes(b),
        Object::Tuple(items) => hash_tuple(items, target)?,
        Object::FrozenSet(items) => hash_frozenset(items, target)?,
        Object::List(_) | Object::Dict(_) | Object::Set(_) => {
            return Err(NoHash::Unhashable(obj.type_name()))
        }
    })
}

/// -1 is CPython's error return, so a hash of -1 becomes -2.
fn fix(h: u64) -> u64 {
    if h == u64::MAX {
        u64::MAX - 1
    } else {
        h
    }
}

fn hash_int(i: &Int) -> u64 {
    let (negative, reduced) = match i {
        Int::Small(v) => (*v < 0, v.unsigned_abs() % MODULUS),
        Int::Big(v) => {
            let m = v.magnitude() % BigUint::from(MODULUS);
            (v.sign() == num_bigint::Sign::Minus, m.to_u64().unwrap_or(0))
        }
    };
    if negative {
        reduced.wrapping_neg()
    } else {
        reduced
    }
}

/// `frexp`: `v = m * 2**e` with `0.5 <= |m| < 1`, for finite non-zero `v`.
fn frexp(v: f64) -> (f64, i32) {
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7FF) as i32;
    if exp == 0 {
        let (m, e) = frexp(v * f64::from_bits(0x43F0_0000_0000_0000)); // 2**64
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7FF << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// `_Py_HashDouble`.
fn hash_float(v: f64) -> Result<u64, NoHash> {
    if v.is_nan() {
        return Err(NoHash::AddressBased);
    }
    if v.is_infinite() {
        return Ok(if v > 0.0 {
            HASH_INF
        } else {
            HASH_INF.wrapping_neg()
        });
    }
    if v == 0.0 {
        return Ok(0);
    }
    let (mut m, mut e) = frexp(v);
    let negative = m < 0.0;
    if negative {
        m = -m;
    }
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & MODULUS) | x >> (HASH_BITS - 28);
        m *= 268_435_456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    let bits = HASH_BITS as i32;
    let e = if e >= 0 {
        e % bits
    } else {
        bits - 1 - ((-1 - e) % bits)
    } as u32;
    x = ((x << e) & MODULUS) | x >> (HASH_BITS - e);
    if negative {
        x = x.wrapping_neg();
    }
    Ok(fix(x))
}

/// `_Py_HashBytes` with a zero key.
fn hash_bytes(data: &[u8]) -> u64 {
    if data.is_empty() {
        return 0;
    }
    let mut hasher = SipHasher13::new_with_keys(0, 0);
    hasher.write(data);
    fix(hasher.finish())
}

/// A str is hashed in its compact in-memory form: 1, 2 or 4 bytes per code point, as the
/// widest code point needs, little-endian.
fn hash_str(s: &Str) -> u64 {
    let widest = s.chars().max().unwrap_or(0);
    let mut data = Vec::with_capacity(s.as_bytes().len() * 2);
    for cp in s.chars() {
        match widest {
            0..=0xFF => data.push(cp as u8),
            0x100..=0xFFFF => data.extend_from_slice(&(cp as u16).to_le_bytes()),
            _ => data.extend_from_slice(&cp.to_le_bytes()),
        }
    }
    hash_bytes(&data)
}

/// `tuplehash`: xxHash-style lanes.
fn hash_tuple(items: &[Object], target: Target) -> Result<u64, NoHash> {
    const PRIME1: u64 = 11_400_714_785_074_694_791;
    const PRIME2: u64 = 14_029_467_366_897_019_727;
    const PRIME5: u64 = 2_870_177_450_012_600_261;
    let mut acc = PRIME5;
    for item in items {
        let lane = hash(item, target)?;
        acc = acc.wrapping_add(lane.wrapping_mul(PRIME2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(PRIME1);
    }
    acc = acc.wrapping_add(items.len() as u64 ^ (PRIME5 ^ 3_527_539));
    Ok(if acc == u64::MAX { 1_546_275_796 } else { acc })
}

/// `frozenset_hash`: order-independent, from the items' hashes.
fn hash_frozenset(items: &[Object], target: Target) -> Result<u64, NoHash> {
    let shuffle = |h: u64| ((h ^ 89_869_747) ^ (h << 16)).wrapping_mul(3_644_798_167);
    let mut distinct = Vec::new();
    for i in set_order(items, target)? {
        distinct.push(hash(&items[i], target)?);
    }
    let mut h = distinct.iter().fold(0u64, |acc, &x| acc ^ shuffle(x));
    h ^= (distinct.len() as u64 + 1).wrapping_mul(1_927_868_237);
    h ^= (h >> 11) ^ (h >> 25);
    h = h.wrapping_mul(69_069).wrapping_add(907_133_923);
    Ok(if h == u64::MAX { 590_923_713 } else { h })
}

/// Python's `==` between two constants (numbers compare across types).
fn py_eq(a: &Object, b: &Object) -> bool {
    match (numeric(a), numeric(b)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => match (a, b) {
            (Object::Tuple(x), Object::Tuple(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| py_eq(p, q))
            }
            _ => a == b,
        },
        _ => false,
    }
}

/// A number as (real, imaginary) parts for comparison; ints stay exact.
#[derive(PartialEq)]
enum Num {
    Int(num_bigint::BigInt),
    Float(f64, f64),
}

fn numeric(obj: &Object) -> Option<Num> {
    let exact_or_float = |v: f64| {
        if v.is_finite() && v.fract() == 0.0 {
            num_bigint::BigInt::from_f64(v).map(Num::Int)
        } else {
            Some(Num::Float(v, 0.0))
        }
    };
    match obj {
        Object::True => Some(Num::Int(1.into())),
        Object::False => Some(Num::Int(0.into())),
        Object::Int(i) => Some(Num::Int(i.to_big())),
        Object::Float(v) => exact_or_float(*v),
        Object::Complex(re, im) if *im == 0.0 => exact_or_float(*re),
        Object::Complex(re, im) => Some(Num::Float(*re, *im)),
        _ => None,
    }
}

/// The order in which CPython iterates a set built by adding `items` one by one to an empty
/// set (what `marshal.loads` does for sets and frozensets), as indices into `items`; equal
/// items after the first are dropped as CPython drops them.
///
/// Fails if an item is unhashable, or if its hash depends on addresses: then CPython's own
/// order is not reproducible either.
pub fn set_order(items: &[Object], target: Target) -> Result<Vec<usize>, NoHash> {
    let mut table = SetTable::new();
    for (i, item) in items.iter().enumerate() {
        let h = hash(item, target)?;
        table.add(i, h, items);
    }
    Ok(table.slots.iter().flatten().map(|&(i, _)| i).collect())
}

/// `PySetObject`'s hash table: slots of (item index, hash). Built only by insertion, so there
/// are no dummy entries and `fill == used`.
struct SetTable {
    slots: Vec<Option<(usize, u64)>>,
    used: usize,
}

const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;
const MIN_SIZE: usize = 8;

impl SetTable {
    fn new() -> SetTable {
        SetTable {
            slots: vec![None; MIN_SIZE],
            used: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// `set_add_entry`.
    fn add(&mut self, index: usize, hash: u64, items: &[Object]) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        let mut perturb = hash;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for slot in i..=i + probes {
                match self.slots[slot] {
                    None => {
                        self.slots[slot] = Some((index, hash));
                        self.used += 1;
                        if self.used * 5 >= mask * 3 {
                            let minused = if self.used > 50_000 {
                                self.used * 2
                            } else {
                                self.used * 4
                            };
                            self.resize(minused);
                        }
                        return;
                    }
                    Some((other, h)) if h == hash && py_eq(&items[other], &items[index]) => {
                        return;
                    }
                    Some(_) => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// `set_table_resize`: a new power-of-two table above `minused`, refilled in old-table order.
    fn resize(&mut self, minused: usize) {
        let mut size = MIN_SIZE;
        while size <= minused {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![None; size]);
        for (index, hash) in old.into_iter().flatten() {
            self.insert_clean(index, hash);
        }
    }

    /// `set_insert_clean`: insertion into a table known not to hold the key.
    fn insert_clean(&mut self, index: usize, hash: u64) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        let mut perturb = hash;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            if let Some(slot) = (i..=i + probes).find(|&s| self.slots[s].is_none()) {
                self.slots[slot] = Some((index, hash));
                return;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(obj: Object) -> i64 {
        hash(&obj, Target::V3_12).unwrap() as i64
    }

    /// Values printed by `PYTHONHASHSEED=0 python3.12 -c 'print(hash(...))'`.
    #[test]
    fn hashes_match_cpython() {
        assert_eq!(h(Object::Str(Str::new("a", false))), 4644417185603328019);
        assert_eq!(
            h(Object::Bytes(bytes::Bytes::from_static(b"a"))),
            4644417185603328019
        );
        assert_eq!(h(Object::Str(Str::new("", false))), 0);
        assert_eq!(h(Object::None), 4238894112);
        assert_eq!(h(Object::Float(1.5)), 1152921504606846977);
        assert_eq!(h(Object::Float(f64::INFINITY)), 314159);
        assert_eq!(h(Object::Int(Int::Small(-1))), -2);
        let pair = Object::tuple(vec![Object::Int(Int::Small(1)), Object::Int(Int::Small(2))]);
        assert_eq!(h(pair), -3550055125485641917);
    }

    #[test]
    fn equal_numbers_collapse() {
        let items = [Object::Int(Int::Small(1)), Object::Float(1.0), Object::True];
        assert_eq!(set_order(&items, Target::V3_12).unwrap(), vec![0]);
    }
}
