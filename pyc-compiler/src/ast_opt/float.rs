//! Float arithmetic as CPython's `floatobject.c` and `longobject.c` do it: correctly rounded
//! int-to-float conversion and int true division, floor division and remainder with Python's
//! sign rules, and `float ** float` with its special cases.
//!
//! Every function returns `None` where CPython raises (`ZeroDivisionError`, `OverflowError`),
//! which leaves the folded node alone. The platform `pow`, `fmod` and `floor` are the C
//! library's, as CPython's are.

use num_bigint::{BigInt, Sign};
use num_traits::{Signed, ToPrimitive, Zero};

/// What `float ** float` gives: a float, or a complex when a negative base meets a
/// non-integral exponent (CPython hands those to `complex.__pow__`).
pub(super) enum FloatPow {
    Float(f64),
    Complex,
}

/// `x * 2**exp`, exact whenever the result is representable.
pub(super) fn ldexp(mut x: f64, mut exp: i64) -> f64 {
    // Steps of at most 2**1000 keep every intermediate product exact until the last one.
    while exp > 1000 {
        x *= pow2(1000);
        exp -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while exp < -1000 {
        x *= pow2(-1000);
        exp += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * pow2(exp as i32)
}

/// `2**e` for a normal exponent (`-1022 <= e <= 1023`).
fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `PyLong_AsDouble`: the nearest float (ties to even); `None` (`OverflowError`) past the
/// float range.
pub(super) fn int_to_f64(v: &BigInt) -> Option<f64> {
    let bits = v.bits();
    let magnitude = v.magnitude();
    let value = if bits <= 53 {
        magnitude.to_u64()? as f64
    } else {
        // Keep 54 bits (the mantissa and a rounding bit); the rest only decides ties.
        let shift = bits - 54;
        let top = (magnitude >> shift).to_u64()?;
        let sticky = magnitude.trailing_zeros().unwrap_or(0) < shift;
        let mut mantissa = top >> 1;
        if top & 1 == 1 && (sticky || mantissa & 1 == 1) {
            mantissa += 1;
        }
        let result = ldexp(mantissa as f64, (shift + 1) as i64);
        if result.is_infinite() {
            return None;
        }
        result
    };
    Some(if v.sign() == Sign::Minus {
        -value
    } else {
        value
    })
}

/// `int / int` (`long_true_divide`): the correctly rounded quotient; `None` for a zero divisor
/// or a quotient too large for a float.
pub(super) fn true_divide_ints(a: &BigInt, b: &BigInt) -> Option<f64> {
    if b.is_zero() {
        return None;
    }
    let negate = a.is_negative() != b.is_negative();
    let signed = |v: f64| if negate { -v } else { v };
    let (a, b) = (a.abs(), b.abs());
    if a.is_zero() {
        return Some(signed(0.0));
    }
    // The quotient lies in [2**(e-1), 2**e).
    let e0 = a.bits() as i64 - b.bits() as i64;
    let at_least = if e0 >= 0 {
        a >= (&b << e0 as u64)
    } else {
        (&a << (-e0) as u64) >= b
    };
    let e = if at_least { e0 + 1 } else { e0 };
    if e > 1024 {
        return None;
    }
    // The weight of the last mantissa bit: 53 significant bits, fewer for subnormals.
    let lsb = (e - 53).max(-1074);
    let (num, den) = if lsb <= 0 {
        (a << (-lsb) as u64, b)
    } else {
        (a, b << lsb as u64)
    };
    let (mut q, r) = (&num / &den, &num % &den);
    let twice_r: BigInt = r << 1u32;
    if twice_r > den || (twice_r == den && q.bit(0)) {
        q += 1;
    }
    let result = ldexp(q.to_u64()? as f64, lsb);
    if result.is_infinite() {
        return None;
    }
    Some(signed(result))
}

/// `float // float` (`float_floor_div`); `None` for a zero divisor.
pub(super) fn floor_div(vx: f64, wx: f64) -> Option<f64> {
    div_mod(vx, wx).map(|(div, _)| div)
}

/// `float % float` (`float_rem`): the remainder takes the divisor's sign; `None` for a zero
/// divisor.
pub(super) fn rem(vx: f64, wx: f64) -> Option<f64> {
    if wx == 0.0 {
        return None;
    }
    let mut m = vx % wx;
    if m != 0.0 {
        if (wx < 0.0) != (m < 0.0) {
            m += wx;
        }
    } else {
        m = 0.0f64.copysign(wx);
    }
    Some(m)
}

/// `divmod(float, float)` as `_float_div_mod` computes it.
fn div_mod(vx: f64, wx: f64) -> Option<(f64, f64)> {
    if wx == 0.0 {
        return None;
    }
    let mut m = vx % wx;
    // `vx - m` is mathematically a multiple of `wx`; the division may still be inexact.
    let mut div = (vx - m) / wx;
    if m != 0.0 {
        if (wx < 0.0) != (m < 0.0) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(wx);
    }
    let floordiv = if div != 0.0 {
        let mut f = div.floor();
        if div - f > 0.5 {
            f += 1.0;
        }
        f
    } else {
        0.0f64.copysign(vx / wx)
    };
    Some((floordiv, m))
}

/// `DOUBLE_IS_ODD_INTEGER`.
fn is_odd_integer(x: f64) -> bool {
    x.abs() % 2.0 == 1.0
}

/// `float ** float` (`float_pow`); `None` where CPython raises (`0.0` to a negative power,
/// overflow).
pub(super) fn pow(iv: f64, iw: f64) -> Option<FloatPow> {
    let float = |v: f64| Some(FloatPow::Float(v));
    if iw == 0.0 {
        return float(1.0);
    }
    if iv.is_nan() {
        return float(iv);
    }
    if iw.is_nan() {
        return float(if iv == 1.0 { 1.0 } else { iw });
    }
    if iw.is_infinite() {
        let av = iv.abs();
        return if av == 1.0 {
            float(1.0)
        } else if (iw > 0.0) == (av > 1.0) {
            float(iw.abs())
        } else {
            float(0.0)
        };
    }
    if iv.is_infinite() {
        let odd = is_odd_integer(iw);
        return if iw > 0.0 {
            float(if odd { iv } else { iv.abs() })
        } else {
            float(if odd { 0.0f64.copysign(iv) } else { 0.0 })
        };
    }
    if iv == 0.0 {
        if iw < 0.0 {
            return None;
        }
        return float(if is_odd_integer(iw) { iv } else { 0.0 });
    }
    let mut base = iv;
    let mut negate = false;
    if iv < 0.0 {
        if iw != iw.floor() {
            return Some(FloatPow::Complex);
        }
        base = -iv;
        negate = is_odd_integer(iw);
    }
    if base == 1.0 {
        return float(if negate { -1.0 } else { 1.0 });
    }
    let ix = base.powf(iw);
    // An infinite result from finite operands is `ERANGE`: an `OverflowError`.
    if ix.is_infinite() {
        return None;
    }
    float(if negate { -ix } else { ix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rounds_to_even_and_overflows() {
        let two = BigInt::from(2);
        // 2**53 + 1 is a tie between 2**53 and 2**53 + 2: the even mantissa wins.
        let v = two.pow(53) + 1;
        assert_eq!(int_to_f64(&v), Some(9007199254740992.0));
        let v = two.pow(53) + 3;
        assert_eq!(int_to_f64(&v), Some(9007199254740996.0));
        assert_eq!(int_to_f64(&-two.pow(1023)), Some(-(2f64.powi(1023))));
        assert_eq!(int_to_f64(&two.pow(1024)), None);
        // Just below 2**1024 rounds up to it: overflow.
        assert_eq!(int_to_f64(&(two.pow(1024) - 1)), None);
    }

    #[test]
    fn true_division_is_correctly_rounded() {
        let d = |a: i64, b: i64| true_divide_ints(&BigInt::from(a), &BigInt::from(b));
        assert_eq!(d(1, 3), Some(1.0 / 3.0));
        assert_eq!(d(-7, 2), Some(-3.5));
        assert_eq!(d(0, -5).map(f64::is_sign_negative), Some(true));
        assert_eq!(d(1, 0), None);
        let big = BigInt::from(10).pow(400);
        assert_eq!(true_divide_ints(&big, &BigInt::from(3)), None);
        assert_eq!(true_divide_ints(&BigInt::from(1), &big), Some(0.0));
        let tiny = true_divide_ints(&BigInt::from(1), &BigInt::from(2).pow(1074));
        assert_eq!(tiny, Some(f64::from_bits(1)));
    }

    #[test]
    fn floor_division_and_remainder_follow_the_divisor() {
        assert_eq!(floor_div(7.0, -2.0), Some(-4.0));
        assert_eq!(rem(7.0, -2.0), Some(-1.0));
        assert!(rem(-0.0, 5.0).unwrap().is_sign_positive());
        assert!(floor_div(-0.0, 5.0).unwrap().is_sign_negative());
        assert_eq!(rem(1.0, 0.0), None);
    }
}
