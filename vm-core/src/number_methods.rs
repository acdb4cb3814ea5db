//! The methods of int, float and range that go beyond arithmetic: `as_integer_ratio`,
//! `bit_count`, `conjugate`, `is_integer`, `float.hex`/`float.fromhex`, `range.count`/`index`.

use std::rc::Rc;

use num_bigint::BigInt;

use crate::builtins::{builtin, nargs};
use crate::int::{as_int, IntRef};
use crate::objects::{NativeFn, Wrapper};
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Args<'a> = &'a [Value];
type Kw<'a> = &'a [Rc<PyStr>];

/// Adds the methods to the built-in types.
pub fn install(vm: &mut Vm) {
    let t = &vm.t;
    let add = |ty: &Rc<crate::types::Type>, name: &'static str, f: NativeFn| {
        ty.dict.set_str(&intern(name), builtin(name, f));
    };
    add(&t.int, "as_integer_ratio", int_as_integer_ratio);
    add(&t.int, "bit_count", int_bit_count);
    add(&t.int, "conjugate", int_conjugate);
    add(&t.int, "is_integer", int_is_integer);
    add(&t.float, "as_integer_ratio", float_as_integer_ratio);
    add(&t.float, "conjugate", float_conjugate);
    add(&t.float, "hex", float_hex);
    t.float.dict.set_str(
        &intern("fromhex"),
        Value::Wrapper(Rc::new(Wrapper::ClassMethod(builtin(
            "fromhex",
            float_fromhex,
        )))),
    );
    add(&t.range, "count", range_count);
    add(&t.range, "index", range_index);
}

fn this_int<'a>(vm: &Vm, args: &'a [Value], method: &str) -> PyResult<IntRef<'a>> {
    args.first().and_then(as_int).ok_or_else(|| {
        vm.type_error(format!(
            "descriptor '{method}' for 'int' objects doesn't apply to this object"
        ))
    })
}

/// The value of an int as a plain int (a bool becomes 0 or 1).
fn int_value(i: &IntRef) -> Value {
    match i {
        IntRef::Small(v) => Value::Int(*v),
        IntRef::Big(b) => Value::BigInt((*b).clone()),
    }
}

fn int_as_integer_ratio(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let i = this_int(vm, args, "as_integer_ratio")?;
    Ok(Value::tuple(vec![int_value(&i), Value::Int(1)]))
}

fn int_bit_count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(match this_int(vm, args, "bit_count")? {
        IntRef::Small(v) => i64::from(v.unsigned_abs().count_ones()),
        IntRef::Big(b) => b.magnitude().count_ones() as i64,
    }))
}

fn int_conjugate(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(int_value(&this_int(vm, args, "conjugate")?))
}

fn int_is_integer(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    this_int(vm, args, "is_integer")?;
    Ok(Value::Bool(true))
}

fn this_float(vm: &Vm, args: &[Value], method: &str) -> PyResult<f64> {
    match args.first() {
        Some(Value::Float(f)) => Ok(*f),
        _ => Err(vm.type_error(format!(
            "descriptor '{method}' for 'float' objects doesn't apply to this object"
        ))),
    }
}

/// A finite float as `(mantissa, exponent)` with `f == mantissa * 2**exponent` and the
/// mantissa odd (or zero).
fn decompose(f: f64) -> (i64, i32) {
    if f == 0.0 {
        return (0, 0);
    }
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = (bits & ((1 << 52) - 1)) as i64;
    let (mut mantissa, mut exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    let zeros = mantissa.trailing_zeros();
    mantissa >>= zeros;
    exponent += zeros as i32;
    (if f < 0.0 { -mantissa } else { mantissa }, exponent)
}

fn float_as_integer_ratio(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let f = this_float(vm, args, "as_integer_ratio")?;
    if f.is_infinite() {
        return Err(vm.err("OverflowError", "cannot convert Infinity to integer ratio"));
    }
    if f.is_nan() {
        return Err(vm.value_error("cannot convert NaN to integer ratio"));
    }
    let (mantissa, exponent) = decompose(f);
    let shifted = |e: i32| Value::from_bigint(BigInt::from(1) << e.unsigned_abs());
    Ok(if exponent >= 0 {
        let numerator = Value::from_bigint(BigInt::from(mantissa) << exponent.unsigned_abs());
        Value::tuple(vec![numerator, Value::Int(1)])
    } else {
        Value::tuple(vec![Value::Int(mantissa), shifted(exponent)])
    })
}

fn float_conjugate(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Float(this_float(vm, args, "conjugate")?))
}

/// `float.hex()`: `[-]0x1.<13 hex digits>p<exp>` (`0x0.` for subnormals and zero).
fn float_hex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let f = this_float(vm, args, "hex")?;
    if f.is_nan() {
        return Ok(Value::str("nan"));
    }
    if f.is_infinite() {
        return Ok(Value::str(if f < 0.0 { "-inf" } else { "inf" }));
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return Ok(Value::string(format!("{sign}0x0.0p+0")));
    }
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (lead, exponent) = if biased == 0 {
        (0, -1022)
    } else {
        (1, biased - 1023)
    };
    Ok(Value::string(format!(
        "{sign}0x{lead}.{fraction:013x}p{exponent:+}"
    )))
}

/// `float.fromhex(s)`: the value of a hexadecimal float string, correctly rounded.
fn float_fromhex(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "fromhex", &args[1..], 1, 1)?;
    let Some(text) = args[1].as_str() else {
        return Err(vm.type_error(format!("must be str, not {}", vm.type_name(&args[1]))));
    };
    let value = parse_hex_float(text.as_str().trim())
        .ok_or_else(|| vm.value_error("invalid hexadecimal floating-point string"))?;
    if value.is_infinite() && !text.as_str().to_ascii_lowercase().contains("inf") {
        return Err(vm.err(
            "OverflowError",
            "hexadecimal value too large to represent as a float",
        ));
    }
    let cls = &args[0];
    if matches!(cls, Value::Type(t) if Rc::ptr_eq(t, &vm.t.float)) {
        Ok(Value::Float(value))
    } else {
        vm.call(cls, &[Value::Float(value)], &[])
    }
}

/// Parses `[sign] ('inf' | 'infinity' | 'nan' | ['0x'] hexdigits ['.' hexdigits] ['p' exp])`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = rest.to_ascii_lowercase();
    let special = match lower.as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    let magnitude = match special {
        Some(v) => v,
        None => parse_hex_magnitude(lower.strip_prefix("0x").unwrap_or(&lower))?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_hex_magnitude(s: &str) -> Option<f64> {
    let (digits, exponent) = match s.split_once('p') {
        Some((d, e)) => (d, e.parse::<i64>().ok()?),
        None => (s, 0),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    // The significant digits as a 128-bit integer, with a sticky bit for any non-zero digit
    // beyond its reach; `scale` is the power of two of its last bit.
    let mut mantissa: u128 = 0;
    let mut sticky = false;
    let mut scale = exponent;
    for (i, c) in int_part.chars().chain(frac_part.chars()).enumerate() {
        let d = u128::from(c.to_digit(16)?);
        let is_fraction = i >= int_part.len();
        if mantissa >> 120 == 0 {
            mantissa = mantissa << 4 | d;
            if is_fraction {
                scale -= 4;
            }
        } else {
            sticky |= d != 0;
            if !is_fraction {
                scale += 4;
            }
        }
    }
    Some(round_to_f64(mantissa, sticky, scale))
}

/// `mantissa * 2**scale` (plus a little if `sticky`) rounded half to even to a double.
fn round_to_f64(mantissa: u128, sticky: bool, scale: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let bits = 128 - i64::from(mantissa.leading_zeros());
    // The exponent of the leading bit, and how many bits the double keeps (53, fewer for
    // subnormals).
    let top = scale + bits - 1;
    if top > 1023 {
        return f64::INFINITY;
    }
    let keep = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if keep <= 0 {
        // Below half the smallest subnormal, or exactly half of it (ties to even: zero).
        let half = keep == 0 && (mantissa.count_ones() > 1 || sticky);
        return if half { f64::from_bits(1) } else { 0.0 };
    }
    let drop = bits - keep;
    let mut kept = if drop > 0 {
        mantissa >> drop
    } else {
        mantissa << -drop
    };
    if drop > 0 {
        let rest = mantissa & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        if rest > half || (rest == half && (sticky || kept & 1 == 1)) {
            kept += 1;
        }
    }
    // `kept` has at most 54 bits and its last bit's weight is at least 2**-1074: the result
    // is exact (or infinite when rounding carried past the largest double).
    libm::scalbn(kept as f64, (scale + drop).clamp(-2200, 2200) as i32)
}

fn this_range<'a>(vm: &Vm, args: &'a [Value]) -> PyResult<&'a Rc<crate::objects::Range>> {
    match args.first() {
        Some(Value::Range(r)) => Ok(r),
        _ => Err(vm.type_error("descriptor requires a 'range' object")),
    }
}

/// The position of int `x` in range `r`, if it is there.
fn range_position(r: &crate::objects::Range, x: i64) -> Option<i64> {
    let offset = i128::from(x) - i128::from(r.start);
    let step = i128::from(r.step);
    let index = offset / step;
    (offset % step == 0 && index >= 0 && index < i128::from(r.len())).then_some(index as i64)
}

/// `range.count(x)`: ints by arithmetic, other values by equality with each item.
fn range_count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "count", &args[1..], 1, 1)?;
    let r = this_range(vm, args)?.clone();
    if let Some(IntRef::Small(x)) = as_int(&args[1]).filter(|_| !matches!(args[1], Value::Bool(_)))
    {
        return Ok(Value::Int(i64::from(range_position(&r, x).is_some())));
    }
    let mut count = 0;
    for item in range_items(&r) {
        if vm.eq_or_is(&Value::Int(item), &args[1])? {
            count += 1;
        }
    }
    Ok(Value::Int(count))
}

/// `range.index(x)`.
fn range_index(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "index", &args[1..], 1, 1)?;
    let r = this_range(vm, args)?.clone();
    let found = match as_int(&args[1]).filter(|_| !matches!(args[1], Value::Bool(_))) {
        Some(IntRef::Small(x)) => range_position(&r, x),
        Some(IntRef::Big(_)) => None,
        None => {
            let mut found = None;
            for (i, item) in range_items(&r).enumerate() {
                if vm.eq_or_is(&Value::Int(item), &args[1])? {
                    found = Some(i as i64);
                    break;
                }
            }
            found
        }
    };
    match found {
        Some(i) => Ok(Value::Int(i)),
        None if as_int(&args[1]).is_some() => {
            let text = vm.repr(&args[1])?;
            Err(vm.value_error(format!("{text} is not in range")))
        }
        None => Err(vm.value_error("sequence.index(x): x not in sequence")),
    }
}

fn range_items(r: &crate::objects::Range) -> impl Iterator<Item = i64> + '_ {
    (0..r.len()).map(move |i| r.start + i * r.step)
}
