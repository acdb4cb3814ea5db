//! The `math` module, with CPython 3.12's error rules: a NaN from a non-NaN argument is
//! `ValueError("math domain error")`, an infinity from finite arguments is
//! `OverflowError("math range error")` (or a domain error for poles), and the logarithms of
//! ints too large for a float are still computed. The elementary functions are the C
//! library's, as in CPython: those Rust's std computes itself or takes from its own
//! builtins (cbrt, erf, erfc, the inverse hyperbolics) are looked up in the C library at
//! run time, with the `libm` crate as the fallback. `gamma` and `lgamma` are
//! CPython's own algorithms, not the C library's: ours (the `libm` crate's) can differ from
//! CPython's in the last bit.

use std::rc::Rc;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

use crate::builtins::{builtin, nargs, split_kw};
use crate::int::{as_int, IntRef};
use crate::objects::{Module, NativeFn};
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Args<'a> = &'a [Value];
type Kw<'a> = &'a [Rc<PyStr>];

/// The `math` module.
pub fn module() -> Value {
    let functions: &[(&str, NativeFn)] = &[
        ("acos", acos),
        ("acosh", acosh),
        ("asin", asin),
        ("asinh", asinh),
        ("atan", atan),
        ("atan2", atan2),
        ("atanh", atanh),
        ("cbrt", cbrt),
        ("ceil", ceil),
        ("comb", comb),
        ("copysign", copysign),
        ("cos", cos),
        ("cosh", cosh),
        ("degrees", degrees),
        ("dist", dist),
        ("erf", erf),
        ("erfc", erfc),
        ("exp", exp),
        ("exp2", exp2),
        ("expm1", expm1),
        ("fabs", fabs),
        ("factorial", factorial),
        ("floor", floor),
        ("fmod", fmod),
        ("frexp", frexp),
        ("fsum", fsum),
        ("gamma", gamma),
        ("gcd", gcd),
        ("hypot", hypot),
        ("isclose", isclose),
        ("isfinite", isfinite),
        ("isinf", isinf),
        ("isnan", isnan),
        ("isqrt", isqrt),
        ("lcm", lcm),
        ("ldexp", ldexp),
        ("lgamma", lgamma),
        ("log", log),
        ("log10", log10),
        ("log1p", log1p),
        ("log2", log2),
        ("modf", modf),
        ("nextafter", nextafter),
        ("perm", perm),
        ("pow", pow),
        ("prod", prod),
        ("radians", radians),
        ("remainder", remainder),
        ("sin", sin),
        ("sinh", sinh),
        ("sqrt", sqrt),
        ("sumprod", sumprod),
        ("tan", tan),
        ("tanh", tanh),
        ("trunc", trunc),
        ("ulp", ulp),
    ];
    let constants = [
        ("pi", std::f64::consts::PI),
        ("e", std::f64::consts::E),
        ("tau", std::f64::consts::TAU),
        ("inf", f64::INFINITY),
        ("nan", f64::NAN),
    ];
    Module::native(
        "math",
        functions
            .iter()
            .map(|&(name, f)| (name, builtin(name, f)))
            .chain(constants.map(|(name, v)| (name, Value::Float(v)))),
    )
}

/// A float argument (ints converted, too large ones an OverflowError).
pub fn float_arg(vm: &mut Vm, v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        v => match as_int(v) {
            Some(i) => i
                .to_f64()
                .ok_or_else(|| vm.err("OverflowError", "int too large to convert to float")),
            None => {
                let name = vm.type_name(v);
                Err(vm.type_error(format!("must be real number, not {name}")))
            }
        },
    }
}

fn domain_error(vm: &Vm) -> crate::vm::PyErr {
    vm.value_error("math domain error")
}

fn range_error(vm: &Vm) -> crate::vm::PyErr {
    vm.err("OverflowError", "math range error")
}

/// A one-argument function under CPython's rules: NaN from non-NaN is a domain error, an
/// infinity from a finite argument a range error if `can_overflow`, else a domain error.
fn unary(
    vm: &mut Vm,
    name: &str,
    args: Args,
    f: fn(f64) -> f64,
    can_overflow: bool,
) -> PyResult<Value> {
    nargs(vm, name, args, 1, 1)?;
    let x = float_arg(vm, &args[0])?;
    let r = f(x);
    if r.is_nan() && !x.is_nan() {
        return Err(domain_error(vm));
    }
    if r.is_infinite() && x.is_finite() {
        return Err(if can_overflow {
            range_error(vm)
        } else {
            domain_error(vm)
        });
    }
    Ok(Value::Float(r))
}

macro_rules! unary_functions {
    ($($name:ident => $f:expr, $overflow:expr;)*) => {
        $(
            fn $name(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
                unary(vm, stringify!($name), args, $f, $overflow)
            }
        )*
    };
}

unary_functions! {
    acos => f64::acos, false;
    acosh => |x| (c_library().acosh)(x), false;
    asin => f64::asin, false;
    asinh => |x| (c_library().asinh)(x), false;
    atan => f64::atan, false;
    atanh => |x| (c_library().atanh)(x), false;
    cbrt => |x| (c_library().cbrt)(x), false;
    cos => f64::cos, false;
    cosh => f64::cosh, true;
    erf => |x| (c_library().erf)(x), false;
    erfc => |x| (c_library().erfc)(x), false;
    exp => f64::exp, true;
    exp2 => f64::exp2, true;
    expm1 => f64::exp_m1, true;
    fabs => f64::abs, false;
    log1p => f64::ln_1p, false;
    sin => f64::sin, false;
    sinh => f64::sinh, true;
    sqrt => f64::sqrt, false;
    tan => f64::tan, false;
    tanh => f64::tanh, false;
}

/// A function of one double.
type Unary = extern "C" fn(f64) -> f64;

/// The C library's functions that Rust's std does not call.
pub struct CLibrary {
    acosh: Unary,
    asinh: Unary,
    atanh: Unary,
    cbrt: Unary,
    erf: Unary,
    erfc: Unary,
}

/// The C library's math functions, loaded once; the `libm` crate's where it has none.
fn c_library() -> &'static CLibrary {
    static LIBRARY: std::sync::OnceLock<CLibrary> = std::sync::OnceLock::new();
    LIBRARY.get_or_init(|| {
        extern "C" fn acosh(x: f64) -> f64 {
            libm::acosh(x)
        }
        extern "C" fn asinh(x: f64) -> f64 {
            libm::asinh(x)
        }
        extern "C" fn atanh(x: f64) -> f64 {
            libm::atanh(x)
        }
        extern "C" fn cbrt(x: f64) -> f64 {
            libm::cbrt(x)
        }
        extern "C" fn erf(x: f64) -> f64 {
            libm::erf(x)
        }
        extern "C" fn erfc(x: f64) -> f64 {
            libm::erfc(x)
        }
        let fallback = CLibrary {
            acosh,
            asinh,
            atanh,
            cbrt,
            erf,
            erfc,
        };
        // SAFETY: loading the C math library runs no initialisers with preconditions, and
        // each symbol looked up is a pure function of one double returning a double, as
        // declared by C99's <math.h>.
        unsafe {
            let Ok(lib) = libloading::Library::new("libm.so.6") else {
                return fallback;
            };
            let get =
                |name: &[u8], default: Unary| lib.get::<Unary>(name).map(|f| *f).unwrap_or(default);
            let functions = CLibrary {
                acosh: get(b"acosh", fallback.acosh),
                asinh: get(b"asinh", fallback.asinh),
                atanh: get(b"atanh", fallback.atanh),
                cbrt: get(b"cbrt", fallback.cbrt),
                erf: get(b"erf", fallback.erf),
                erfc: get(b"erfc", fallback.erfc),
            };
            // The functions stay valid for the life of the process.
            std::mem::forget(lib);
            functions
        }
    })
}

/// `degrees`/`radians`: a plain product, never an error (as in CPython).
fn scaled(vm: &mut Vm, name: &str, args: Args, factor: f64) -> PyResult<Value> {
    nargs(vm, name, args, 1, 1)?;
    Ok(Value::Float(float_arg(vm, &args[0])? * factor))
}

fn degrees(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    scaled(vm, "degrees", args, 180.0 / std::f64::consts::PI)
}

fn radians(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    scaled(vm, "radians", args, std::f64::consts::PI / 180.0)
}

fn gamma(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "gamma", args, 1, 1)?;
    let x = float_arg(vm, &args[0])?;
    if x == f64::NEG_INFINITY || (x.is_finite() && x <= 0.0 && x == x.floor()) {
        return Err(domain_error(vm));
    }
    let r = libm::tgamma(x);
    if r.is_infinite() && x.is_finite() {
        return Err(range_error(vm));
    }
    Ok(Value::Float(r))
}

fn lgamma(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "lgamma", args, 1, 1)?;
    let x = float_arg(vm, &args[0])?;
    if x.is_finite() && x <= 0.0 && x == x.floor() {
        return Err(domain_error(vm));
    }
    let r = libm::lgamma(x);
    if r.is_infinite() && x.is_finite() {
        return Err(range_error(vm));
    }
    Ok(Value::Float(r))
}

/// `f` (a logarithm) of a positive int of any size: through a double when the int fits in
/// one, else as CPython does, `f(m) + f(2) * e` for `x = m * 2**e` with `m` in [0.5, 1).
fn int_log(i: &IntRef, f: fn(f64) -> f64) -> f64 {
    match i.to_f64() {
        Some(x) => f(x),
        None => {
            let big = i.big();
            let bits = big.bits();
            let top = (&big >> (bits - 64)).to_u64().unwrap_or(u64::MAX) as f64;
            let (m, e) = libm::frexp(top);
            f(m) + f(2.0) * (bits as f64 - 64.0 + f64::from(e))
        }
    }
}

/// `f` (a logarithm) of a number argument, or a domain error when it is not positive.
fn log_arg(vm: &mut Vm, v: &Value, f: fn(f64) -> f64) -> PyResult<f64> {
    if let Some(i) = as_int(v) {
        if i.is_negative() || i.is_zero() {
            return Err(domain_error(vm));
        }
        return Ok(int_log(&i, f));
    }
    let x = float_arg(vm, v)?;
    if x.is_nan() {
        return Ok(x);
    }
    if x <= 0.0 {
        return Err(domain_error(vm));
    }
    Ok(f(x))
}

fn log(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "log", args, 1, 2)?;
    let num = log_arg(vm, &args[0], f64::ln)?;
    match args.get(1) {
        None => Ok(Value::Float(num)),
        Some(base) => {
            let den = log_arg(vm, base, f64::ln)?;
            if den == 0.0 {
                return Err(vm.err("ZeroDivisionError", "float division by zero"));
            }
            Ok(Value::Float(num / den))
        }
    }
}

fn log2(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "log2", args, 1, 1)?;
    Ok(Value::Float(log_arg(vm, &args[0], f64::log2)?))
}

fn log10(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "log10", args, 1, 1)?;
    Ok(Value::Float(log_arg(vm, &args[0], f64::log10)?))
}

fn two_floats(vm: &mut Vm, name: &str, args: Args) -> PyResult<(f64, f64)> {
    nargs(vm, name, args, 2, 2)?;
    Ok((float_arg(vm, &args[0])?, float_arg(vm, &args[1])?))
}

fn atan2(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (y, x) = two_floats(vm, "atan2", args)?;
    Ok(Value::Float(y.atan2(x)))
}

fn copysign(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "copysign", args)?;
    Ok(Value::Float(x.copysign(y)))
}

fn pow(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "pow", args)?;
    let r = x.powf(y);
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(domain_error(vm));
    }
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(if x == 0.0 {
            domain_error(vm)
        } else {
            range_error(vm)
        });
    }
    Ok(Value::Float(r))
}

fn fmod(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "fmod", args)?;
    if y.is_infinite() && x.is_finite() {
        return Ok(Value::Float(x));
    }
    let r = x % y;
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(domain_error(vm));
    }
    Ok(Value::Float(r))
}

fn remainder(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (x, y) = two_floats(vm, "remainder", args)?;
    let r = libm::remainder(x, y);
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(domain_error(vm));
    }
    Ok(Value::Float(r))
}

fn frexp(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "frexp", args, 1, 1)?;
    let x = float_arg(vm, &args[0])?;
    let (m, e) = if x.is_finite() {
        libm::frexp(x)
    } else {
        (x, 0)
    };
    Ok(Value::tuple(vec![
        Value::Float(m),
        Value::Int(i64::from(e)),
    ]))
}

fn ldexp(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "ldexp", args, 2, 2)?;
    let x = float_arg(vm, &args[0])?;
    let Some(e) = as_int(&args[1]) else {
        return Err(vm.type_error("Expected an int as second argument to ldexp."));
    };
    if x == 0.0 || !x.is_finite() {
        return Ok(Value::Float(x));
    }
    // Exponents beyond any double's range are clamped: the result is the same.
    let e = match e {
        IntRef::Small(e) => e.clamp(-10_000, 10_000),
        IntRef::Big(b) if b.is_negative() => -10_000,
        IntRef::Big(_) => 10_000,
    };
    let r = libm::scalbn(x, e as i32);
    if r.is_infinite() {
        return Err(range_error(vm));
    }
    Ok(Value::Float(r))
}

fn modf(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "modf", args, 1, 1)?;
    let x = float_arg(vm, &args[0])?;
    let (fraction, whole) = if x.is_infinite() {
        (0.0f64.copysign(x), x)
    } else {
        let whole = x.trunc();
        ((x - whole).copysign(x), whole)
    };
    Ok(Value::tuple(vec![
        Value::Float(fraction),
        Value::Float(whole),
    ]))
}

fn predicate(vm: &mut Vm, name: &str, args: Args, f: fn(f64) -> bool) -> PyResult<Value> {
    nargs(vm, name, args, 1, 1)?;
    let x = float_arg(vm, &args[0])?;
    Ok(Value::Bool(f(x)))
}

fn isfinite(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    predicate(vm, "isfinite", args, f64::is_finite)
}

fn isinf(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    predicate(vm, "isinf", args, f64::is_infinite)
}

fn isnan(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    predicate(vm, "isnan", args, f64::is_nan)
}

fn nextafter(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "nextafter", pos, 2, 2)?;
    let (mut x, y) = (float_arg(vm, &pos[0])?, float_arg(vm, &pos[1])?);
    let mut steps = 1i64;
    for (k, v) in kw {
        if k != "steps" {
            return Err(vm.type_error(format!(
                "nextafter() got an unexpected keyword argument '{k}'"
            )));
        }
        if !matches!(v, Value::None) {
            steps = vm.index_of(v)?;
        }
    }
    if steps < 0 {
        return Err(vm.value_error("steps must be a non-negative integer"));
    }
    for _ in 0..steps.min(1 << 12) {
        let next = libm::nextafter(x, y);
        if next == x {
            break;
        }
        x = next;
    }
    if steps > 1 << 12 && x != y {
        // Many steps: count them on the ordered integer line of doubles.
        x = step_many(x, y, steps - (1 << 12));
    }
    Ok(Value::Float(x))
}

/// `x` moved `steps` doubles towards `y` (never past it).
fn step_many(x: f64, y: f64, steps: i64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    let key = |f: f64| {
        let bits = f.to_bits() as i64;
        if bits < 0 {
            i64::MIN - bits
        } else {
            bits
        }
    };
    let unkey = |k: i64| {
        let bits = if k < 0 { i64::MIN - k } else { k };
        f64::from_bits(bits as u64)
    };
    let (kx, ky) = (key(x), key(y));
    let moved = if ky > kx {
        kx.saturating_add(steps).min(ky)
    } else {
        kx.saturating_sub(steps).max(ky)
    };
    unkey(moved)
}

fn ulp(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "ulp", args, 1, 1)?;
    let x = float_arg(vm, &args[0])?.abs();
    if x.is_nan() || x.is_infinite() {
        return Ok(Value::Float(x));
    }
    let next = libm::nextafter(x, f64::INFINITY);
    Ok(Value::Float(if next.is_infinite() {
        x - libm::nextafter(x, 0.0)
    } else {
        next - x
    }))
}

/// `floor`/`ceil`/`trunc`: the argument's `__floor__`/`__ceil__`/`__trunc__` if it has one,
/// ints unchanged, floats rounded by `f`.
fn integral(vm: &mut Vm, name: &str, args: Args, f: fn(f64) -> f64) -> PyResult<Value> {
    nargs(vm, name, args, 1, 1)?;
    let special = intern(&format!("__{name}__"));
    if let Some(r) = vm.call_special(&args[0], &special, &[])? {
        return Ok(r);
    }
    if as_int(&args[0]).is_some() {
        return vm.pos(&args[0]);
    }
    let x = float_arg(vm, &args[0])?;
    crate::builtins::float_to_int(vm, f(x))
}

fn floor(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    integral(vm, "floor", args, f64::floor)
}

fn ceil(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    integral(vm, "ceil", args, f64::ceil)
}

fn trunc(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    integral(vm, "trunc", args, f64::trunc)
}

fn int_args(vm: &Vm, args: Args) -> PyResult<Vec<BigInt>> {
    args.iter()
        .map(|a| {
            as_int(a).map(|i| i.big()).ok_or_else(|| {
                vm.type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    vm.type_name(a)
                ))
            })
        })
        .collect()
}

fn gcd(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let mut g = BigInt::zero();
    for i in int_args(vm, args)? {
        g = num_integer::Integer::gcd(&g, &i);
    }
    Ok(Value::from_bigint(g))
}

fn lcm(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let mut l = BigInt::from(1);
    for i in int_args(vm, args)? {
        if i.is_zero() {
            return Ok(Value::Int(0));
        }
        l = num_integer::Integer::lcm(&l, &i);
    }
    Ok(Value::from_bigint(l))
}

fn isqrt(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "isqrt", args, 1, 1)?;
    let n = int_args(vm, args)?.remove(0);
    if n.is_negative() {
        return Err(vm.value_error("isqrt() argument must be nonnegative"));
    }
    Ok(Value::from_bigint(n.sqrt()))
}

fn factorial(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "factorial", args, 1, 1)?;
    if matches!(args[0], Value::Float(_)) {
        return Err(vm.type_error("'float' object cannot be interpreted as an integer"));
    }
    let n = vm.index_of(&args[0])?;
    if n < 0 {
        return Err(vm.value_error("factorial() not defined for negative values"));
    }
    Ok(Value::from_bigint(falling_product(n, n)))
}

/// `n * (n-1) * ... * (n-k+1)`.
fn falling_product(n: i64, k: i64) -> BigInt {
    let mut r = BigInt::from(1);
    for i in (n - k + 1)..=n {
        r *= i;
    }
    r
}

fn comb_perm_args(vm: &mut Vm, name: &str, args: Args) -> PyResult<(i64, Option<i64>)> {
    nargs(vm, name, args, 1, 2)?;
    for a in args {
        if as_int(a).is_none() {
            let t = vm.type_name(a);
            return Err(vm.type_error(format!("'{t}' object cannot be interpreted as an integer")));
        }
    }
    let n = vm.index_of(&args[0])?;
    let k = match args.get(1) {
        Some(Value::None) | None => None,
        Some(k) => Some(vm.index_of(k)?),
    };
    if n < 0 {
        return Err(vm.value_error("n must be a non-negative integer"));
    }
    if k.is_some_and(|k| k < 0) {
        return Err(vm.value_error("k must be a non-negative integer"));
    }
    Ok((n, k))
}

fn comb(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "comb", args, 2, 2)?;
    let (n, k) = comb_perm_args(vm, "comb", args)?;
    let k = k.unwrap_or(0);
    if k > n {
        return Ok(Value::Int(0));
    }
    let k = k.min(n - k);
    Ok(Value::from_bigint(
        falling_product(n, k) / falling_product(k, k),
    ))
}

fn perm(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let (n, k) = comb_perm_args(vm, "perm", args)?;
    let k = k.unwrap_or(n);
    if k > n {
        return Ok(Value::Int(0));
    }
    Ok(Value::from_bigint(falling_product(n, k)))
}

fn isclose(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "isclose", pos, 2, 2)?;
    let (a, b) = (float_arg(vm, &pos[0])?, float_arg(vm, &pos[1])?);
    let (mut rel, mut abs) = (1e-9, 0.0);
    for (k, v) in kw {
        match k {
            "rel_tol" => rel = float_arg(vm, v)?,
            "abs_tol" => abs = float_arg(vm, v)?,
            _ => {
                return Err(vm.type_error(format!(
                    "isclose() got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    if rel < 0.0 || abs < 0.0 {
        return Err(vm.value_error("tolerances must be non-negative"));
    }
    if a == b {
        return Ok(Value::Bool(true));
    }
    if a.is_infinite() || b.is_infinite() {
        return Ok(Value::Bool(false));
    }
    let diff = (a - b).abs();
    let close = diff <= (rel * b).abs() || diff <= (rel * a).abs() || diff <= abs;
    Ok(Value::Bool(close))
}

/// Exact floating-point summation (Shewchuk's partials), correctly rounded.
pub fn exact_sum(values: impl IntoIterator<Item = f64>) -> Result<f64, &'static str> {
    let mut partials: Vec<f64> = Vec::new();
    let (mut special, mut inf_sum) = (0.0f64, 0.0f64);
    for mut x in values {
        if !x.is_finite() {
            if x.is_infinite() {
                inf_sum += x;
            }
            special += x;
            continue;
        }
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        if !x.is_finite() {
            return Err("intermediate overflow in fsum");
        }
        partials.truncate(i);
        partials.push(x);
    }
    if special != 0.0 {
        if inf_sum.is_nan() {
            return Err("-inf + inf in fsum");
        }
        return Ok(special);
    }
    // Sum the partials from the top, then correct a half-way rounding.
    let Some(mut hi) = partials.pop() else {
        return Ok(0.0);
    };
    let mut lo = 0.0;
    while let Some(y) = partials.pop() {
        let x = hi;
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    if let Some(&next) = partials.last() {
        if (lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
    }
    Ok(hi)
}

fn fsum(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "fsum", args, 1, 1)?;
    let items = vm.to_vec(&args[0])?;
    let mut values = Vec::with_capacity(items.len());
    for item in &items {
        values.push(float_arg(vm, item)?);
    }
    exact_sum_value(vm, values)
}

/// [`exact_sum`] as a Python float, or its errors as CPython's fsum raises them.
fn exact_sum_value(vm: &Vm, values: impl IntoIterator<Item = f64>) -> PyResult<Value> {
    match exact_sum(values) {
        Ok(sum) => Ok(Value::Float(sum)),
        Err(msg) if msg.starts_with("intermediate") => Err(vm.err("OverflowError", msg)),
        Err(msg) => Err(vm.value_error(msg)),
    }
}

fn prod(vm: &mut Vm, args: Args, kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "prod", pos, 1, 1)?;
    let mut acc = Value::Int(1);
    for (k, v) in kw {
        if k != "start" {
            return Err(vm.type_error(format!("prod() got an unexpected keyword argument '{k}'")));
        }
        acc = v.clone();
    }
    for item in vm.to_vec(&pos[0])? {
        acc = vm.binary_op(&acc, &item, crate::ops::NB_MULTIPLY)?;
    }
    Ok(acc)
}

/// `sumprod(p, q)`: ints exactly; floats (and ints that fit) as the correctly rounded sum of
/// the exact products; anything else through `+` and `*`.
fn sumprod(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "sumprod", args, 2, 2)?;
    let (p, q) = (vm.to_vec(&args[0])?, vm.to_vec(&args[1])?);
    if p.len() != q.len() {
        return Err(vm.value_error("Inputs are not the same length"));
    }
    let all_float_like = p
        .iter()
        .chain(&q)
        .all(|v| matches!(v, Value::Float(_) | Value::Int(_) | Value::Bool(_)));
    let any_float = p.iter().chain(&q).any(|v| matches!(v, Value::Float(_)));
    if all_float_like && any_float {
        let mut parts = Vec::with_capacity(2 * p.len());
        for (a, b) in p.iter().zip(&q) {
            let (a, b) = (float_arg(vm, a)?, float_arg(vm, b)?);
            let product = a * b;
            parts.push(product);
            // The rounding error of the product, exact by fused multiply-add.
            if product.is_finite() {
                parts.push(a.mul_add(b, -product));
            }
        }
        return exact_sum_value(vm, parts);
    }
    let mut acc = Value::Int(0);
    for (a, b) in p.iter().zip(&q) {
        let product = vm.binary_op(a, b, crate::ops::NB_MULTIPLY)?;
        acc = vm.binary_op(&acc, &product, crate::ops::NB_ADD)?;
    }
    Ok(acc)
}

/// The Euclidean norm of `values`, correctly rounded: scaled by a power of two against
/// overflow, the squares summed exactly, the square root corrected once.
fn vector_norm(values: &[f64]) -> f64 {
    if values.iter().any(|v| v.is_infinite()) {
        return f64::INFINITY;
    }
    if values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let max = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 || values.len() <= 1 {
        return max;
    }
    let (_, exponent) = libm::frexp(max);
    let scale = |v: f64| libm::scalbn(v, -exponent);
    let mut parts = Vec::with_capacity(2 * values.len());
    for &v in values {
        let x = scale(v);
        let square = x * x;
        parts.push(square);
        parts.push(x.mul_add(x, -square));
    }
    let sum = exact_sum(parts.iter().copied()).unwrap_or(f64::NAN);
    let mut h = sum.sqrt();
    // One Newton step on the exact residual: sum - h*h.
    let hh = h * h;
    let residual = exact_sum(parts.iter().copied().chain([-hh, -h.mul_add(h, -hh)])).unwrap_or(0.0);
    h += residual / (2.0 * h);
    libm::scalbn(h, exponent)
}

fn hypot(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        values.push(float_arg(vm, a)?);
    }
    Ok(Value::Float(vector_norm(&values)))
}

fn dist(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "dist", args, 2, 2)?;
    let (p, q) = (vm.to_vec(&args[0])?, vm.to_vec(&args[1])?);
    if p.len() != q.len() {
        return Err(vm.value_error("both points must have the same number of dimensions"));
    }
    let mut diffs = Vec::with_capacity(p.len());
    for (a, b) in p.iter().zip(&q) {
        diffs.push(float_arg(vm, a)? - float_arg(vm, b)?);
    }
    Ok(Value::Float(vector_norm(&diffs)))
}
