//! Complex arithmetic as CPython 3.12's `complexobject.c` computes it (`_Py_c_prod`,
//! `_Py_c_quot`, `_Py_c_pow` and the repeated squaring of small integral powers).
//!
//! `None` stands for the errors CPython raises (`ZeroDivisionError`, `OverflowError`).

/// A complex value (real, imaginary).
pub(super) type Complex = (f64, f64);

const ONE: Complex = (1.0, 0.0);

pub(super) fn add(a: Complex, b: Complex) -> Complex {
    (a.0 + b.0, a.1 + b.1)
}

pub(super) fn sub(a: Complex, b: Complex) -> Complex {
    (a.0 - b.0, a.1 - b.1)
}

pub(super) fn mul(a: Complex, b: Complex) -> Complex {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

/// The quotient, or `None` (`EDOM`) for a zero divisor. Divides through by the divisor's larger
/// component (Smith's method), as CPython does.
fn quot(a: Complex, b: Complex) -> Option<Complex> {
    let (abs_re, abs_im) = (b.0.abs(), b.1.abs());
    if abs_re >= abs_im {
        if abs_re == 0.0 {
            return None;
        }
        let ratio = b.1 / b.0;
        let denom = b.0 + b.1 * ratio;
        Some(((a.0 + a.1 * ratio) / denom, (a.1 - a.0 * ratio) / denom))
    } else if abs_im >= abs_re {
        let ratio = b.0 / b.1;
        let denom = b.0 * ratio + b.1;
        Some(((a.0 * ratio + a.1) / denom, (a.1 * ratio - a.0) / denom))
    } else {
        // A NaN component.
        Some((f64::NAN, f64::NAN))
    }
}

/// `complex / complex` (`complex_div`).
pub(super) fn div(a: Complex, b: Complex) -> Option<Complex> {
    quot(a, b)
}

/// `complex ** complex` (`complex_pow`).
pub(super) fn pow(a: Complex, b: Complex) -> Option<Complex> {
    let p = if b.1 == 0.0 && b.0 == b.0.floor() && b.0.abs() <= 100.0 {
        powi(a, b.0 as i64)?
    } else {
        pow_general(a, b)?
    };
    // An infinite component is `ERANGE`: an `OverflowError`.
    if p.0.is_infinite() || p.1.is_infinite() {
        return None;
    }
    Some(p)
}

/// `c_powu`: repeated squaring.
fn powu(x: Complex, n: i64) -> Complex {
    let mut r = ONE;
    let mut p = x;
    let mut mask = 1i64;
    while mask > 0 && n >= mask {
        if n & mask != 0 {
            r = mul(r, p);
        }
        mask <<= 1;
        p = mul(p, p);
    }
    r
}

/// `c_powi`: an integral power; a negative one divides 1 by the positive power.
fn powi(x: Complex, n: i64) -> Option<Complex> {
    if n > 0 {
        Some(powu(x, n))
    } else {
        quot(ONE, powu(x, -n))
    }
}

/// `_Py_c_pow`: polar form. `None` where CPython sets `EDOM`: zero to a negative or complex
/// power, or `cos`/`sin` of an infinite phase.
fn pow_general(a: Complex, b: Complex) -> Option<Complex> {
    if b.0 == 0.0 && b.1 == 0.0 {
        return Some(ONE);
    }
    if a.0 == 0.0 && a.1 == 0.0 {
        if b.1 != 0.0 || b.0 < 0.0 {
            return None;
        }
        return Some((0.0, 0.0));
    }
    let vabs = a.0.hypot(a.1);
    let mut len = vabs.powf(b.0);
    let at = a.1.atan2(a.0);
    let mut phase = at * b.0;
    if b.1 != 0.0 {
        len /= (at * b.1).exp();
        phase += b.1 * vabs.ln();
    }
    if phase.is_infinite() {
        return None;
    }
    Some((len * phase.cos(), len * phase.sin()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_integral_powers_square_repeatedly() {
        assert_eq!(pow((0.0, 1.0), (2.0, 0.0)), Some((-1.0, 0.0)));
        assert_eq!(pow((2.0, 0.0), (-1.0, 0.0)), Some((0.5, 0.0)));
        assert_eq!(pow((0.0, 0.0), (-1.0, 0.0)), None);
        assert_eq!(pow((0.0, 0.0), (0.0, 1.0)), None);
        assert_eq!(div((1.0, 0.0), (0.0, 0.0)), None);
    }
}
