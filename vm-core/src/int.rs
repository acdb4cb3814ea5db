//! int arithmetic: an i64 fast path that overflows into num-bigint, with Python's floor
//! semantics for division and modulo.

use std::rc::Rc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

use crate::value::Value;

/// An int operand, borrowed from a value.
pub enum IntRef<'a> {
    /// Fits in i64.
    Small(i64),
    /// Does not.
    Big(&'a Rc<BigInt>),
}

impl IntRef<'_> {
    /// As a BigInt.
    pub fn big(&self) -> BigInt {
        match self {
            IntRef::Small(v) => BigInt::from(*v),
            IntRef::Big(b) => BigInt::clone(b),
        }
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, IntRef::Small(0))
    }

    /// Whether the value is negative.
    pub fn is_negative(&self) -> bool {
        match self {
            IntRef::Small(v) => *v < 0,
            IntRef::Big(b) => b.is_negative(),
        }
    }

    /// As f64 (None when too large).
    pub fn to_f64(&self) -> Option<f64> {
        match self {
            IntRef::Small(v) => Some(*v as f64),
            IntRef::Big(b) => b.to_f64().filter(|f| f.is_finite()),
        }
    }
}

/// The int inside `v` (bools are ints).
pub fn as_int(v: &Value) -> Option<IntRef<'_>> {
    match v {
        Value::Int(i) => Some(IntRef::Small(*i)),
        Value::Bool(b) => Some(IntRef::Small(i64::from(*b))),
        Value::BigInt(b) => Some(IntRef::Big(b)),
        _ => None,
    }
}

/// Integer operations that cannot fail except by division by zero (reported as None).
pub fn add(a: &IntRef, b: &IntRef) -> Value {
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        if let Some(r) = x.checked_add(*y) {
            return Value::Int(r);
        }
    }
    Value::from_bigint(a.big() + b.big())
}

/// a - b.
pub fn sub(a: &IntRef, b: &IntRef) -> Value {
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        if let Some(r) = x.checked_sub(*y) {
            return Value::Int(r);
        }
    }
    Value::from_bigint(a.big() - b.big())
}

/// a * b.
pub fn mul(a: &IntRef, b: &IntRef) -> Value {
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        if let Some(r) = x.checked_mul(*y) {
            return Value::Int(r);
        }
    }
    Value::from_bigint(a.big() * b.big())
}

/// a // b (None if b is zero).
pub fn floordiv(a: &IntRef, b: &IntRef) -> Option<Value> {
    if b.is_zero() {
        return None;
    }
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        if !(*x == i64::MIN && *y == -1) {
            return Some(Value::Int(x.div_floor(y)));
        }
    }
    Some(Value::from_bigint(a.big().div_floor(&b.big())))
}

/// a % b (None if b is zero).
pub fn modulo(a: &IntRef, b: &IntRef) -> Option<Value> {
    if b.is_zero() {
        return None;
    }
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        if *y == -1 {
            return Some(Value::Int(0));
        }
        return Some(Value::Int(x.mod_floor(y)));
    }
    Some(Value::from_bigint(a.big().mod_floor(&b.big())))
}

/// a ** b for b >= 0.
pub fn pow(a: &IntRef, b: u64) -> Value {
    if let IntRef::Small(x) = a {
        if let Ok(e) = u32::try_from(b) {
            if let Some(r) = x.checked_pow(e) {
                return Value::Int(r);
            }
        }
    }
    let mut result = BigInt::from(1);
    let mut base = a.big();
    let mut e = b;
    while e > 0 {
        if e & 1 == 1 {
            result *= &base;
        }
        e >>= 1;
        if e > 0 {
            base = &base * &base;
        }
    }
    Value::from_bigint(result)
}

/// a << b for 0 <= b.
pub fn lshift(a: &IntRef, b: u64) -> Value {
    if let IntRef::Small(x) = a {
        if b < 63 {
            let r = x.checked_shl(b as u32).filter(|r| r >> b == *x);
            if let Some(r) = r {
                return Value::Int(r);
            }
        }
    }
    Value::from_bigint(a.big() << b as usize)
}

/// a >> b for 0 <= b.
pub fn rshift(a: &IntRef, b: u64) -> Value {
    match a {
        IntRef::Small(x) => Value::Int(if b >= 64 {
            if *x < 0 {
                -1
            } else {
                0
            }
        } else {
            x >> b
        }),
        IntRef::Big(_) => {
            let big = a.big();
            // Floor semantics for negatives, as Python's >>.
            let d = BigInt::from(1) << b as usize;
            Value::from_bigint(big.div_floor(&d))
        }
    }
}

/// Bitwise and/or/xor.
pub fn bitop(a: &IntRef, b: &IntRef, op: u8) -> Value {
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        return Value::Int(match op {
            b'&' => x & y,
            b'|' => x | y,
            _ => x ^ y,
        });
    }
    let (x, y) = (a.big(), b.big());
    Value::from_bigint(match op {
        b'&' => x & y,
        b'|' => x | y,
        _ => x ^ y,
    })
}

/// -a.
pub fn neg(a: &IntRef) -> Value {
    match a {
        IntRef::Small(x) => match x.checked_neg() {
            Some(r) => Value::Int(r),
            None => Value::from_bigint(-BigInt::from(*x)),
        },
        IntRef::Big(b) => Value::from_bigint(-BigInt::clone(b)),
    }
}

/// a / b as a float (None when b is zero or the result overflows).
pub fn truediv(a: &IntRef, b: &IntRef) -> Option<f64> {
    if b.is_zero() {
        return None;
    }
    match (a, b) {
        (IntRef::Small(x), IntRef::Small(y)) if x.abs() < (1 << 53) && y.abs() < (1 << 53) => {
            Some(*x as f64 / *y as f64)
        }
        _ => {
            let (x, y) = (a.big(), b.big());
            let q = num_rational_div(&x, &y);
            Some(q)
        }
    }
}

/// A correctly-scaled quotient of big ints (accurate to a few ulps).
fn num_rational_div(x: &BigInt, y: &BigInt) -> f64 {
    let shift = (x.bits() as i64 - y.bits() as i64 - 60).max(0) as usize;
    let q = (x << 64usize) / (y << shift);
    q.to_f64().unwrap_or(f64::INFINITY) * 2f64.powi(shift as i32 - 64)
}

/// Ordering of two ints.
pub fn cmp(a: &IntRef, b: &IntRef) -> std::cmp::Ordering {
    match (a, b) {
        (IntRef::Small(x), IntRef::Small(y)) => x.cmp(y),
        _ => a.big().cmp(&b.big()),
    }
}

/// Whether a big int is zero (never true for a normalized BigInt value).
pub fn big_is_zero(b: &BigInt) -> bool {
    b.is_zero()
}
