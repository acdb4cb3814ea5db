//! Python's `repr()` of the values a code object's constants can hold, as a given CPython
//! prints them (its Unicode database decides which characters a str repr escapes).

use std::fmt::Write;
use std::sync::Arc;

use crate::code::CodeObject;

use crate::marshal::{Int, Object, Str};
use crate::pyhash::{self, NoHash};
use crate::Target;

/// `sys.get_int_max_str_digits()` by default: CPython refuses to print longer ints.
pub const INT_MAX_STR_DIGITS: usize = 4300;

/// Why CPython's `repr` would raise instead of returning text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReprError {
    /// The int has more decimal digits than `sys.get_int_max_str_digits()` allows.
    #[error("Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit")]
    IntTooLong,
    /// A set holds a value Python cannot hash (`marshal.loads` would have failed).
    #[error("unhashable type: '{0}'")]
    Unhashable(&'static str),
}

/// `repr(obj)` as CPython `target` prints it.
///
/// Code objects print the address of our in-memory object where CPython prints its own, so
/// only that part differs. Sets holding NaNs or other values whose hash depends on an address
/// keep their marshal order, as CPython's own order then changes from run to run.
pub fn repr(obj: &Object, target: Target) -> Result<String, ReprError> {
    let mut out = String::new();
    write_repr(&mut out, obj, target)?;
    Ok(out)
}

fn write_repr(out: &mut String, obj: &Object, target: Target) -> Result<(), ReprError> {
    match obj {
        Object::None => out.push_str("None"),
        Object::True => out.push_str("True"),
        Object::False => out.push_str("False"),
        Object::Ellipsis => out.push_str("Ellipsis"),
        Object::StopIteration => out.push_str("<class 'StopIteration'>"),
        Object::Int(i) => out.push_str(&int_repr(i)?),
        Object::Float(v) => out.push_str(&float_repr(*v)),
        Object::Complex(re, im) => out.push_str(&complex_repr(*re, *im)),
        Object::Bytes(b) => out.push_str(&bytes_repr(b)),
        Object::Str(s) => out.push_str(&str_repr(s, target)),
        Object::Tuple(items) => {
            out.push('(');
            write_items(out, items.iter(), target)?;
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Object::List(items) => {
            out.push('[');
            write_items(out, items.iter(), target)?;
            out.push(']');
        }
        Object::Dict(pairs) => {
            out.push('{');
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, key, target)?;
                out.push_str(": ");
                write_repr(out, value, target)?;
            }
            out.push('}');
        }
        Object::Set(items) | Object::FrozenSet(items) => {
            let frozen = matches!(obj, Object::FrozenSet(_));
            let order: Vec<usize> = match pyhash::set_order(items, target) {
                Ok(order) => order,
                Err(NoHash::AddressBased) => (0..items.len()).collect(),
                Err(NoHash::Unhashable(name)) => return Err(ReprError::Unhashable(name)),
            };
            match (frozen, order.is_empty()) {
                (true, true) => out.push_str("frozenset()"),
                (false, true) => out.push_str("set()"),
                _ => {
                    out.push_str(if frozen { "frozenset({" } else { "{" });
                    write_items(out, order.iter().map(|&i| &items[i]), target)?;
                    out.push_str(if frozen { "})" } else { "}" });
                }
            }
        }
        Object::Code(code) => out.push_str(&code_repr(code)),
    }
    Ok(())
}

/// `repr(code)`: `<code object NAME at 0xADDRESS, file "FILENAME", line N>`, with the address
/// of our object.
pub fn code_repr(code: &Arc<CodeObject>) -> String {
    format!(
        "<code object {} at {:#x}, file \"{}\", line {}>",
        code.name.to_string_lossy(),
        Arc::as_ptr(code) as usize,
        code.filename.to_string_lossy(),
        code.firstlineno
    )
}

fn write_items<'a>(
    out: &mut String,
    items: impl Iterator<Item = &'a Object>,
    target: Target,
) -> Result<(), ReprError> {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_repr(out, item, target)?;
    }
    Ok(())
}

/// `repr(int)`, refusing what CPython refuses by default.
pub fn int_repr(i: &Int) -> Result<String, ReprError> {
    let text = i.to_string();
    if text.trim_start_matches('-').len() > INT_MAX_STR_DIGITS {
        return Err(ReprError::IntTooLong);
    }
    Ok(text)
}

/// `repr(float)`: the shortest digits that round-trip, in fixed notation when the decimal
/// exponent is in `-4 <= exp < 16` (with `.0` added to integral values), else in scientific
/// notation with a signed two-digit-minimum exponent.
pub fn float_repr(v: f64) -> String {
    format_float(v, true, false)
}

/// `repr(complex)`: `1j`, `(1+2j)`, `(-0-1j)`, `(inf+nanj)`.
pub fn complex_repr(re: f64, im: f64) -> String {
    if re == 0.0 && re.is_sign_positive() {
        format!("{}j", format_float(im, false, false))
    } else {
        format!(
            "({}{}j)",
            format_float(re, false, false),
            format_float(im, false, true)
        )
    }
}

/// CPython's `PyOS_double_to_string(v, 'r', 0, flags)`: `add_dot_0` is `Py_DTSF_ADD_DOT_0`,
/// `sign` is `Py_DTSF_SIGN`.
fn format_float(v: f64, add_dot_0: bool, sign: bool) -> String {
    let negative = v.is_sign_negative() && !v.is_nan();
    let mut out = String::new();
    if negative {
        out.push('-');
    } else if sign {
        out.push('+');
    }
    if v.is_nan() {
        out.push_str("nan");
        return out;
    }
    if v.is_infinite() {
        out.push_str("inf");
        return out;
    }
    let (digits, decpt) = shortest_digits(v.abs());
    let n = digits.len() as i32;
    if (-4 < decpt) && (decpt <= 16) {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= n {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (decpt - n) as usize));
            if add_dot_0 {
                out.push_str(".0");
            }
        } else {
            out.push_str(&digits[..decpt as usize]);
            out.push('.');
            out.push_str(&digits[decpt as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let _ = write!(out, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    out
}

/// The shortest decimal digits that round-trip to `v` (finite, non-negative) and the position
/// of the decimal point relative to them, choosing among equally short candidates the nearest
/// one and, at an exact tie, the one with an even last digit (as David Gay's `dtoa` in CPython
/// does; Rust's formatter rounds such ties up).
fn shortest_digits(v: f64) -> (String, i32) {
    let split = |sci: &str| {
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        (digits, exp.parse::<i32>().unwrap_or(0) + 1)
    };
    let (digits, decpt) = split(&format!("{v:e}"));
    // Ties need 17 significant digits (a 16-digit tie is also possible near powers of two).
    if digits.len() < 16 {
        return (digits, decpt);
    }
    // Every finite double has an exact decimal expansion of at most 767 significant digits.
    let (exact, exact_decpt) = split(&format!("{v:.800e}"));
    let n = digits.len();
    let tail = &exact.as_bytes()[n..];
    let is_tie =
        exact_decpt == decpt && tail.first() == Some(&b'5') && tail[1..].iter().all(|&d| d == b'0');
    let truncated = &exact[..n];
    if is_tie && truncated.as_bytes()[n - 1] % 2 == 0 {
        let candidate = format!("{}.{}e{}", &truncated[..1], &truncated[1..], decpt - 1);
        if candidate.parse::<f64>() == Ok(v) {
            return (truncated.to_string(), decpt);
        }
    }
    (digits, decpt)
}

/// `repr(bytes)`.
pub fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if char::from(b) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(quote);
    out
}

/// `repr(str)`: non-printable characters (per the target's Unicode database) and lone
/// surrogates are escaped.
pub fn str_repr(s: &Str, target: Target) -> String {
    let (mut single, mut double) = (false, false);
    for cp in s.chars() {
        single |= cp == u32::from(b'\'');
        double |= cp == u32::from(b'"');
    }
    let quote = if single && !double { '"' } else { '\'' };
    let mut out = String::with_capacity(s.as_bytes().len() + 2);
    out.push(quote);
    for cp in s.chars() {
        match cp {
            0x5C => out.push_str("\\\\"),
            0x09 => out.push_str("\\t"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            _ if cp == u32::from(quote) => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7E => out.push(char::from(cp as u8)),
            0..=0x7F => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            _ => match char::from_u32(cp).filter(|_| target.is_printable(cp)) {
                Some(c) => out.push(c),
                None if cp <= 0xFF => {
                    let _ = write!(out, "\\x{cp:02x}");
                }
                None if cp <= 0xFFFF => {
                    let _ = write!(out, "\\u{cp:04x}");
                }
                None => {
                    let _ = write!(out, "\\U{cp:08x}");
                }
            },
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        let cases = [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0.0"),
            (1.5e300, "1.5e+300"),
            (0.1, "0.1"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
            (123.456, "123.456"),
            (2.9802322387695312e-08, "2.9802322387695312e-08"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (v, text) in cases {
            assert_eq!(float_repr(v), text);
        }
        assert_eq!(complex_repr(1.0, 2.0), "(1+2j)");
        assert_eq!(complex_repr(-0.0, 1.0), "(-0+1j)");
        assert_eq!(complex_repr(0.0, -0.0), "-0j");
        assert_eq!(complex_repr(1.0, f64::NAN), "(1+nanj)");
        assert_eq!(complex_repr(-0.0, -1.5e-7), "(-0-1.5e-07j)");
        assert_eq!(complex_repr(0.0, 2e16), "2e+16j");
    }

    #[test]
    fn strings() {
        let t = Target::V3_12;
        assert_eq!(str_repr(&Str::new("it's", false), t), "\"it's\"");
        assert_eq!(str_repr(&Str::new("'\"", false), t), "'\\'\"'");
        assert_eq!(
            str_repr(&Str::new("a\x00\x7f\u{a0}é\u{10ffff}\\", false), t),
            "'a\\x00\\x7f\\xa0é\\U0010ffff\\\\'"
        );
        let lone = bytes::Bytes::from_static(b"\xed\xb2\x80");
        let s = Str::from_surrogatepass(lone, false).unwrap();
        assert_eq!(str_repr(&s, t), "'\\udc80'");
        assert_eq!(bytes_repr(b"'\x00\xff"), "b\"'\\x00\\xff\"");
    }
}
