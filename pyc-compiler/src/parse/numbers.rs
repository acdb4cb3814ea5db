//! Number literals from their source text, with CPython's values (big integers exact, floats
//! correctly rounded).

use num_bigint::BigInt;
use pyc_loader::marshal::Int;

use crate::ast::Constant;

/// CPython's limit on the digits of a decimal integer literal (`sys.int_info.default_max_str_digits`).
const MAX_STR_DIGITS: usize = 4300;

/// The constant of a number literal's source text (`0x_FF`, `1_000.5e-3`, `2j`), or CPython's
/// message for a decimal integer longer than its conversion limit.
pub(super) fn number(text: &str) -> Result<Constant, String> {
    if let Some(value) = small_decimal(text) {
        return Ok(Constant::Int(Int::Small(value)));
    }
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let lower = digits.to_ascii_lowercase();
    if let Some(imag) = lower.strip_suffix('j') {
        return Ok(Constant::Complex(0.0, float(imag)));
    }
    let radix = match lower.get(..2) {
        Some("0x") => 16,
        Some("0o") => 8,
        Some("0b") => 2,
        _ if lower.contains(['.', 'e']) => return Ok(Constant::Float(float(&lower))),
        _ => 10,
    };
    let body = if radix == 10 { &lower[..] } else { &lower[2..] };
    if radix == 10 && body.len() > MAX_STR_DIGITS {
        return Err(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: value \
             has {} digits; use sys.set_int_max_str_digits() to increase the limit - Consider \
             hexadecimal for huge integer literals to avoid decimal conversion limits.",
            body.len()
        ));
    }
    let value = BigInt::parse_bytes(body.as_bytes(), radix).unwrap_or_default();
    Ok(Constant::Int(Int::from_big(value)))
}

/// The value of a plain decimal literal of at most 18 digits (no underscore, sign or
/// suffix), which always fits an `i64`: most literals, read without building a big integer.
fn small_decimal(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 18 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0, |value, &b| value * 10 + i64::from(b - b'0')),
    )
}

fn float(text: &str) -> f64 {
    // Rust's parse is correctly rounded, as CPython's `PyOS_string_to_double`; overflow is inf.
    text.parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Constant {
        super::number(text).unwrap()
    }

    #[test]
    fn decimal_digit_limit() {
        assert!(super::number(&"9".repeat(4300)).is_ok());
        assert!(super::number(&format!("{}9", "9_".repeat(4300))).is_err());
        assert!(super::number(&format!("0x{}", "f".repeat(6000))).is_ok());
    }

    #[test]
    fn literals() {
        assert_eq!(number("0x_ff"), Constant::Int(Int::Small(255)));
        assert_eq!(number("0o17"), Constant::Int(Int::Small(15)));
        assert_eq!(number("0B1_0"), Constant::Int(Int::Small(2)));
        assert_eq!(number("1_000"), Constant::Int(Int::Small(1000)));
        assert_eq!(number("00"), Constant::Int(Int::Small(0)));
        assert_eq!(number("7"), Constant::Int(Int::Small(7)));
        assert_eq!(
            number("999999999999999999"),
            Constant::Int(Int::Small(999_999_999_999_999_999))
        );
        assert_eq!(
            number("9223372036854775807"),
            Constant::Int(Int::Small(i64::MAX))
        );
        assert_eq!(number("1e400"), Constant::Float(f64::INFINITY));
        assert_eq!(number("1.5J"), Constant::Complex(0.0, 1.5));
        assert_eq!(number("10j"), Constant::Complex(0.0, 10.0));
        assert_eq!(number(".5"), Constant::Float(0.5));
        let big = number("123456789012345678901234567890");
        assert_eq!(
            big,
            Constant::Int(Int::from_big(
                "123456789012345678901234567890".parse().unwrap()
            ))
        );
    }
}
