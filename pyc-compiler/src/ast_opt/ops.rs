//! Python operators applied to constants, with the size limits `ast_opt.c` puts on folding
//! (`safe_multiply`, `safe_power`, `safe_lshift`, `safe_mod`). `None` means CPython does not
//! fold: the operation raises, or its result would be too large to keep as a constant.

use num_bigint::BigInt;
use num_traits::{FromPrimitive, Signed, ToPrimitive, Zero};
use pyc_loader::marshal::Str;

use super::number::{self, Number};
use crate::ast::{Constant, Operator, UnaryOp};

/// Largest int result of `*`, `**` and `<<`, in bits.
const MAX_INT_SIZE: u64 = 128;
/// Largest tuple made by `*`.
const MAX_COLLECTION_SIZE: i64 = 256;
/// Largest str or bytes made by `*`.
const MAX_STR_SIZE: i64 = 4096;
/// Most items, nested tuples and frozensets included, in a tuple made by `*`.
const MAX_TOTAL_ITEMS: i64 = 1024;

/// `op operand`.
pub(super) fn unary(op: UnaryOp, operand: &Constant) -> Option<Constant> {
    Some(match op {
        UnaryOp::Not => Constant::Bool(!truthy(operand)),
        UnaryOp::Invert => number::invert(Number::of(operand)?)?.into_constant(),
        UnaryOp::UAdd => Number::of(operand)?.into_constant(),
        UnaryOp::USub => number::neg(Number::of(operand)?).into_constant(),
    })
}

/// `left op right`.
pub(super) fn binary(op: Operator, left: &Constant, right: &Constant) -> Option<Constant> {
    match op {
        Operator::Add => add(left, right),
        Operator::Mult => multiply(left, right),
        Operator::Mod if matches!(left, Constant::Str(_) | Constant::Bytes(_)) => None,
        Operator::Pow => power(left, right),
        Operator::LShift => lshift(left, right),
        Operator::BitAnd | Operator::BitOr | Operator::BitXor => bitwise(op, left, right),
        Operator::MatMult => None,
        Operator::Sub | Operator::Div | Operator::FloorDiv | Operator::Mod | Operator::RShift => {
            let (a, b) = (Number::of(left)?, Number::of(right)?);
            let result = match op {
                Operator::Sub => number::sub(a, b),
                Operator::Div => number::true_div(a, b),
                Operator::FloorDiv => number::floor_div(a, b),
                Operator::Mod => number::rem(a, b),
                _ => number::rshift(a, b),
            };
            Some(result?.into_constant())
        }
    }
}

/// `value[index]` for a str, bytes or tuple and an int index.
pub(super) fn subscript(value: &Constant, index: &Constant) -> Option<Constant> {
    let index = as_index(index)?;
    let pick = |len: usize| {
        let i = if index < 0 {
            index.checked_add(i64::try_from(len).ok()?)?
        } else {
            index
        };
        usize::try_from(i).ok().filter(|&i| i < len)
    };
    match value {
        Constant::Str(s) => {
            let chars: Vec<u32> = s.chars().collect();
            let cp = chars[pick(chars.len())?];
            Some(Constant::Str(str_from_chars(&[cp])))
        }
        Constant::Bytes(b) => Some(int(BigInt::from(b[pick(b.len())?]))),
        Constant::Tuple(items) => Some(items[pick(items.len())?].clone()),
        _ => None,
    }
}

/// Python's truth value of a constant.
pub(super) fn truthy(c: &Constant) -> bool {
    match c {
        Constant::None => false,
        Constant::Bool(b) => *b,
        Constant::Ellipsis => true,
        Constant::Int(i) => !i.to_big().is_zero(),
        Constant::Float(f) => *f != 0.0,
        Constant::Complex(re, im) => *re != 0.0 || *im != 0.0,
        Constant::Str(s) => !s.as_bytes().is_empty(),
        Constant::Bytes(b) => !b.is_empty(),
        Constant::Tuple(items) | Constant::FrozenSet(items) => !items.is_empty(),
    }
}

/// `frozenset(items)`: the first of equal items is kept, in insertion order (the order the
/// code generator needs to reproduce CPython's iteration order).
pub(super) fn frozenset(items: Vec<Constant>) -> Constant {
    let mut unique: Vec<Constant> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.iter().any(|u| equal(u, &item)) {
            unique.push(item);
        }
    }
    Constant::FrozenSet(unique)
}

fn int(v: BigInt) -> Constant {
    Number::Int(v).into_constant()
}

/// The int value of an `int` or `bool` constant.
fn as_int(c: &Constant) -> Option<BigInt> {
    match c {
        Constant::Bool(_) | Constant::Int(_) => match Number::of(c)? {
            Number::Int(i) => Some(i),
            _ => None,
        },
        _ => None,
    }
}

/// `PyNumber_AsSsize_t(index, IndexError)`: an int index that fits a machine word.
fn as_index(c: &Constant) -> Option<i64> {
    as_int(c)?.to_i64()
}

/// A `str` of these code points.
pub(super) fn str_from_chars(chars: &[u32]) -> Str {
    let mut bytes = Vec::with_capacity(chars.len());
    for &cp in chars {
        // Lone surrogates are kept, in the `surrogatepass` encoding `Str` uses.
        let mut buf = [0u8; 4];
        match char::from_u32(cp) {
            Some(ch) => bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes()),
            None => bytes.extend_from_slice(&[
                0xE0 | (cp >> 12) as u8,
                0x80 | ((cp >> 6) & 0x3F) as u8,
                0x80 | (cp & 0x3F) as u8,
            ]),
        }
    }
    Str::from_surrogatepass(bytes.into(), false).expect("encoded as surrogatepass UTF-8")
}

fn concat_str(a: &Str, b: &Str) -> Str {
    let bytes = [a.as_bytes(), b.as_bytes()].concat();
    Str::from_surrogatepass(bytes.into(), false).expect("concatenation of valid strings")
}

fn add(left: &Constant, right: &Constant) -> Option<Constant> {
    Some(match (left, right) {
        (Constant::Str(a), Constant::Str(b)) => Constant::Str(concat_str(a, b)),
        (Constant::Bytes(a), Constant::Bytes(b)) => Constant::Bytes([&a[..], &b[..]].concat()),
        (Constant::Tuple(a), Constant::Tuple(b)) => Constant::Tuple([&a[..], &b[..]].concat()),
        _ => number::add(Number::of(left)?, Number::of(right)?)?.into_constant(),
    })
}

/// The length `*` repeats: items of a tuple or frozenset, characters of a str, bytes.
enum Sized {
    Collection(usize),
    Text(usize),
}

fn sized(c: &Constant) -> Option<Sized> {
    match c {
        Constant::Tuple(items) | Constant::FrozenSet(items) => Some(Sized::Collection(items.len())),
        Constant::Str(s) => Some(Sized::Text(s.char_len())),
        Constant::Bytes(b) => Some(Sized::Text(b.len())),
        _ => None,
    }
}

/// `safe_multiply`.
fn multiply(left: &Constant, right: &Constant) -> Option<Constant> {
    if let (Some(v), Some(w)) = (as_int(left), as_int(right)) {
        if !v.is_zero() && !w.is_zero() && v.bits() + w.bits() > MAX_INT_SIZE {
            return None;
        }
        return Some(int(v * w));
    }
    let (count, seq) = match (as_int(left), as_int(right)) {
        (Some(n), None) if sized(right).is_some() => (n, right),
        (None, Some(n)) if sized(left).is_some() => (n, left),
        _ => return number::mul(Number::of(left)?, Number::of(right)?).map(Number::into_constant),
    };
    let (size, max) = match sized(seq)? {
        Sized::Collection(size) => (size, MAX_COLLECTION_SIZE),
        Sized::Text(size) => (size, MAX_STR_SIZE),
    };
    if size > 0 {
        // `PyLong_AsLong` fails (-1) for ints beyond a machine word.
        let n = count.to_i64().unwrap_or(-1);
        if n < 0 || n > max / size as i64 {
            return None;
        }
        if matches!(seq, Constant::Tuple(_) | Constant::FrozenSet(_))
            && n > 0
            && complexity(seq, MAX_TOTAL_ITEMS / n) < 0
        {
            return None;
        }
    }
    repeat(seq, &count)
}

/// `check_complexity`: the limit minus the items of nested tuples and frozensets, negative
/// once exceeded.
fn complexity(c: &Constant, mut limit: i64) -> i64 {
    if let Constant::Tuple(items) | Constant::FrozenSet(items) = c {
        limit -= items.len() as i64;
        for item in items {
            if limit < 0 {
                break;
            }
            limit = complexity(item, limit);
        }
    }
    limit
}

/// `seq * n` (a frozenset cannot be repeated).
fn repeat(seq: &Constant, count: &BigInt) -> Option<Constant> {
    // The repeat count must fit a machine word (`OverflowError` otherwise).
    let n = usize::try_from(count.to_i64()?.max(0)).ok()?;
    Some(match seq {
        Constant::Str(s) => {
            let bytes = s.as_bytes().repeat(n);
            Constant::Str(Str::from_surrogatepass(bytes.into(), false)?)
        }
        Constant::Bytes(b) => Constant::Bytes(b.repeat(n)),
        Constant::Tuple(items) => Constant::Tuple(
            items
                .iter()
                .cycle()
                .take(items.len() * n)
                .cloned()
                .collect(),
        ),
        _ => return None,
    })
}

/// `safe_power`.
fn power(left: &Constant, right: &Constant) -> Option<Constant> {
    if let (Some(v), Some(w)) = (as_int(left), as_int(right)) {
        if !v.is_zero() && w.is_positive() {
            let wbits = w.to_u64()?;
            if v.bits() > MAX_INT_SIZE / wbits {
                return None;
            }
        }
    }
    Some(number::pow(Number::of(left)?, Number::of(right)?)?.into_constant())
}

/// `safe_lshift`.
fn lshift(left: &Constant, right: &Constant) -> Option<Constant> {
    if let (Some(v), Some(w)) = (as_int(left), as_int(right)) {
        if !v.is_zero() && !w.is_zero() {
            // `PyLong_AsSize_t` refuses negative counts.
            let wbits = w.to_u64()?;
            if wbits > MAX_INT_SIZE || v.bits() > MAX_INT_SIZE - wbits {
                return None;
            }
        }
    }
    Some(number::lshift(Number::of(left)?, Number::of(right)?)?.into_constant())
}

/// `&`, `|`, `^`: two bools give a bool.
fn bitwise(op: Operator, left: &Constant, right: &Constant) -> Option<Constant> {
    if let (Constant::Bool(a), Constant::Bool(b)) = (left, right) {
        return Some(Constant::Bool(match op {
            Operator::BitAnd => a & b,
            Operator::BitOr => a | b,
            _ => a ^ b,
        }));
    }
    let f: fn(BigInt, BigInt) -> BigInt = match op {
        Operator::BitAnd => |x, y| x & y,
        Operator::BitOr => |x, y| x | y,
        _ => |x, y| x ^ y,
    };
    Some(number::bitwise(Number::of(left)?, Number::of(right)?, f)?.into_constant())
}

/// Python's `==` between constants (as set membership uses it).
fn equal(a: &Constant, b: &Constant) -> bool {
    if let (Some(x), Some(y)) = (Number::of(a), Number::of(b)) {
        return numbers_equal(&x, &y);
    }
    match (a, b) {
        (Constant::None, Constant::None) | (Constant::Ellipsis, Constant::Ellipsis) => true,
        (Constant::Str(x), Constant::Str(y)) => x == y,
        (Constant::Bytes(x), Constant::Bytes(y)) => x == y,
        (Constant::Tuple(x), Constant::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Constant::FrozenSet(x), Constant::FrozenSet(y)) => {
            x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| equal(p, q)))
        }
        _ => false,
    }
}

fn numbers_equal(a: &Number, b: &Number) -> bool {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => x == y,
        (Number::Int(i), Number::Float(f)) | (Number::Float(f), Number::Int(i)) => {
            int_equals_float(i, *f)
        }
        (Number::Float(x), Number::Float(y)) => x == y,
        (Number::Complex((re, im)), other) | (other, Number::Complex((re, im))) => match other {
            Number::Complex((re2, im2)) => re == re2 && im == im2,
            Number::Float(f) => *im == 0.0 && re == f,
            Number::Int(i) => *im == 0.0 && int_equals_float(i, *re),
        },
    }
}

/// Exact comparison, as `float.__eq__` compares with an int.
fn int_equals_float(i: &BigInt, f: f64) -> bool {
    f.is_finite() && f.fract() == 0.0 && BigInt::from_f64(f).as_ref() == Some(i)
}
