//! Python's numeric tower for constant folding: `bool` is an `int`, an `int` meeting a `float`
//! becomes a float, anything meeting a `complex` becomes complex. Operations return `None`
//! where CPython raises, which leaves the node unfolded.

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use pyc_loader::marshal::Int;

use super::complex::{self, Complex};
use super::float::{self, FloatPow};
use crate::ast::Constant;

/// A numeric constant.
#[derive(Clone, Debug)]
pub(super) enum Number {
    Int(BigInt),
    Float(f64),
    Complex(Complex),
}

impl Number {
    /// The number a constant holds (`True` is 1), if it is one.
    pub(super) fn of(c: &Constant) -> Option<Number> {
        Some(match c {
            Constant::Bool(b) => Number::Int(BigInt::from(u8::from(*b))),
            Constant::Int(i) => Number::Int(i.to_big()),
            Constant::Float(f) => Number::Float(*f),
            Constant::Complex(re, im) => Number::Complex((*re, *im)),
            _ => return None,
        })
    }

    /// The constant holding this number.
    pub(super) fn into_constant(self) -> Constant {
        match self {
            Number::Int(i) => Constant::Int(Int::from_big(i)),
            Number::Float(f) => Constant::Float(f),
            Number::Complex((re, im)) => Constant::Complex(re, im),
        }
    }

    fn to_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => float::int_to_f64(i),
            Number::Float(f) => Some(*f),
            Number::Complex(_) => None,
        }
    }

    fn to_complex(&self) -> Option<Complex> {
        match self {
            Number::Complex(c) => Some(*c),
            other => Some((other.to_f64()?, 0.0)),
        }
    }
}

/// The operands of a binary operation, both converted to the wider kind.
enum Pair {
    Ints(BigInt, BigInt),
    Floats(f64, f64),
    Complexes(Complex, Complex),
}

/// Converts both operands as CPython's binary operators do; `None` when an int is too large
/// for a float (`OverflowError`).
fn coerce(a: Number, b: Number) -> Option<Pair> {
    Some(match (a, b) {
        (Number::Int(x), Number::Int(y)) => Pair::Ints(x, y),
        (a @ Number::Complex(_), b) | (a, b @ Number::Complex(_)) => {
            Pair::Complexes(a.to_complex()?, b.to_complex()?)
        }
        (a, b) => Pair::Floats(a.to_f64()?, b.to_f64()?),
    })
}

pub(super) fn add(a: Number, b: Number) -> Option<Number> {
    Some(match coerce(a, b)? {
        Pair::Ints(x, y) => Number::Int(x + y),
        Pair::Floats(x, y) => Number::Float(x + y),
        Pair::Complexes(x, y) => Number::Complex(complex::add(x, y)),
    })
}

pub(super) fn sub(a: Number, b: Number) -> Option<Number> {
    Some(match coerce(a, b)? {
        Pair::Ints(x, y) => Number::Int(x - y),
        Pair::Floats(x, y) => Number::Float(x - y),
        Pair::Complexes(x, y) => Number::Complex(complex::sub(x, y)),
    })
}

pub(super) fn mul(a: Number, b: Number) -> Option<Number> {
    Some(match coerce(a, b)? {
        Pair::Ints(x, y) => Number::Int(x * y),
        Pair::Floats(x, y) => Number::Float(x * y),
        Pair::Complexes(x, y) => Number::Complex(complex::mul(x, y)),
    })
}

pub(super) fn true_div(a: Number, b: Number) -> Option<Number> {
    Some(match coerce(a, b)? {
        Pair::Ints(x, y) => Number::Float(float::true_divide_ints(&x, &y)?),
        Pair::Floats(x, y) => {
            if y == 0.0 {
                return None;
            }
            Number::Float(x / y)
        }
        Pair::Complexes(x, y) => Number::Complex(complex::div(x, y)?),
    })
}

/// Floor division and remainder of ints (`divmod`), `None` for a zero divisor.
fn int_div_mod(x: &BigInt, y: &BigInt) -> Option<(BigInt, BigInt)> {
    if y.is_zero() {
        return None;
    }
    let (mut q, mut r) = (x / y, x % y);
    if !r.is_zero() && (r.is_negative() != y.is_negative()) {
        q -= 1;
        r += y;
    }
    Some((q, r))
}

pub(super) fn floor_div(a: Number, b: Number) -> Option<Number> {
    Some(match coerce(a, b)? {
        Pair::Ints(x, y) => Number::Int(int_div_mod(&x, &y)?.0),
        Pair::Floats(x, y) => Number::Float(float::floor_div(x, y)?),
        Pair::Complexes(..) => return None,
    })
}

pub(super) fn rem(a: Number, b: Number) -> Option<Number> {
    Some(match coerce(a, b)? {
        Pair::Ints(x, y) => Number::Int(int_div_mod(&x, &y)?.1),
        Pair::Floats(x, y) => Number::Float(float::rem(x, y)?),
        Pair::Complexes(..) => return None,
    })
}

pub(super) fn pow(a: Number, b: Number) -> Option<Number> {
    Some(match coerce(a, b)? {
        Pair::Ints(x, y) => {
            if y.is_negative() {
                // `long_pow` hands negative exponents to `float_pow`.
                return float_pow(float::int_to_f64(&x)?, float::int_to_f64(&y)?);
            }
            Number::Int(int_pow(&x, &y))
        }
        Pair::Floats(x, y) => return float_pow(x, y),
        Pair::Complexes(x, y) => Number::Complex(complex::pow(x, y)?),
    })
}

/// `x ** y` for `y >= 0`. The caller bounds the result's size for a non-zero base.
fn int_pow(x: &BigInt, y: &BigInt) -> BigInt {
    if y.is_zero() {
        return BigInt::from(1);
    }
    match x.to_i8() {
        Some(0) => BigInt::zero(),
        Some(1) => BigInt::from(1),
        Some(-1) => BigInt::from(if y.bit(0) { -1 } else { 1 }),
        _ => x.pow(y.to_u32().expect("bounded by the folding size limit")),
    }
}

fn float_pow(x: f64, y: f64) -> Option<Number> {
    match float::pow(x, y)? {
        FloatPow::Float(f) => Some(Number::Float(f)),
        FloatPow::Complex => Some(Number::Complex(complex::pow((x, 0.0), (y, 0.0))?)),
    }
}

/// `-x`.
pub(super) fn neg(a: Number) -> Number {
    match a {
        Number::Int(i) => Number::Int(-i),
        Number::Float(f) => Number::Float(-f),
        Number::Complex((re, im)) => Number::Complex((-re, -im)),
    }
}

/// The int operands of a shift or bitwise operation (`bool` included).
fn ints(a: Number, b: Number) -> Option<(BigInt, BigInt)> {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => Some((x, y)),
        _ => None,
    }
}

/// `x << y`; `None` for a negative count.
pub(super) fn lshift(a: Number, b: Number) -> Option<Number> {
    let (x, y) = ints(a, b)?;
    if y.is_negative() {
        return None;
    }
    if x.is_zero() {
        return Some(Number::Int(x));
    }
    Some(Number::Int(x << y.to_u64()?))
}

/// `x >> y` (rounding towards negative infinity); `None` for a negative count.
pub(super) fn rshift(a: Number, b: Number) -> Option<Number> {
    let (x, y) = ints(a, b)?;
    if y.is_negative() {
        return None;
    }
    let shifted = match y.to_u64() {
        Some(n) if n < x.bits() => x >> n,
        _ if x.is_negative() => BigInt::from(-1),
        _ => BigInt::zero(),
    };
    Some(Number::Int(shifted))
}

/// `~x` for an int.
pub(super) fn invert(a: Number) -> Option<Number> {
    match a {
        Number::Int(i) => Some(Number::Int(-i - 1)),
        _ => None,
    }
}

/// `&`, `|` and `^` on ints (two's complement, as Python's).
pub(super) fn bitwise(a: Number, b: Number, op: fn(BigInt, BigInt) -> BigInt) -> Option<Number> {
    let (x, y) = ints(a, b)?;
    Some(Number::Int(op(x, y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> Number {
        Number::Int(BigInt::from(v))
    }

    fn as_int(n: Option<Number>) -> Option<i64> {
        match n? {
            Number::Int(i) => i.to_i64(),
            _ => None,
        }
    }

    #[test]
    fn int_division_floors() {
        assert_eq!(as_int(floor_div(int(-7), int(2))), Some(-4));
        assert_eq!(as_int(rem(int(-7), int(2))), Some(1));
        assert_eq!(as_int(rem(int(7), int(-2))), Some(-1));
        assert_eq!(as_int(floor_div(int(7), int(0))), None);
    }

    #[test]
    fn shifts_round_down_and_refuse_negative_counts() {
        assert_eq!(as_int(rshift(int(-5), int(1))), Some(-3));
        assert_eq!(as_int(rshift(int(-5), int(1000))), Some(-1));
        assert_eq!(as_int(rshift(int(5), int(1000))), Some(0));
        assert_eq!(as_int(lshift(int(5), int(-1))), None);
        assert_eq!(as_int(bitwise(int(-6), int(3), |x, y| x & y)), Some(-6 & 3));
    }
}
