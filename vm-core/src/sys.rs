//! The `sys` attributes that describe the interpreter: `version_info` and the other struct
//! sequences, `version`, `hexversion`, encodings, `intern`. (The module itself, `argv`,
//! `path`, `modules`, the streams and the recursion limit are set up in [`crate::builtins`].)

use std::rc::Rc;

use crate::builtins::{builtin, nargs};
use crate::natives::struct_sequence;
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Kw<'a> = &'a [Rc<PyStr>];

/// The version the VM runs the bytecode of.
const VERSION: (i64, i64, i64) = (3, 12, 1);

/// Adds the interpreter's description to `sys`.
pub fn install(vm: &mut Vm) -> PyResult<()> {
    let (major, minor, micro) = VERSION;
    let version_info = struct_sequence(
        vm,
        "sys",
        "version_info",
        &["major", "minor", "micro", "releaselevel", "serial"],
        vec![
            Value::Int(major),
            Value::Int(minor),
            Value::Int(micro),
            Value::str("final"),
            Value::Int(0),
        ],
    )?;
    let float_info = struct_sequence(
        vm,
        "sys",
        "float_info",
        &[
            "max",
            "max_exp",
            "max_10_exp",
            "min",
            "min_exp",
            "min_10_exp",
            "dig",
            "mant_dig",
            "epsilon",
            "radix",
            "rounds",
        ],
        vec![
            Value::Float(f64::MAX),
            Value::Int(f64::MAX_EXP.into()),
            Value::Int(f64::MAX_10_EXP.into()),
            Value::Float(f64::MIN_POSITIVE),
            Value::Int(f64::MIN_EXP.into()),
            Value::Int(f64::MIN_10_EXP.into()),
            Value::Int(f64::DIGITS.into()),
            Value::Int(f64::MANTISSA_DIGITS.into()),
            Value::Float(f64::EPSILON),
            Value::Int(f64::RADIX.into()),
            Value::Int(1),
        ],
    )?;
    let int_info = struct_sequence(
        vm,
        "sys",
        "int_info",
        &[
            "bits_per_digit",
            "sizeof_digit",
            "default_max_str_digits",
            "str_digits_check_threshold",
        ],
        [30, 4, 4300, 640].map(Value::Int).to_vec(),
    )?;
    // The VM runs CPython 3.12's bytecode and uses its caches: it describes itself as that
    // implementation, so that code choosing cache names or features by it chooses CPython's.
    let namespace = crate::natives::simple_namespace_class(vm)?;
    let implementation = vm.call_type(&namespace, &[], &[])?;
    if let Value::Instance(i) = &implementation {
        for (k, v) in [
            ("name", Value::str("cpython")),
            (
                "cache_tag",
                Value::str(pyc_loader::Target::DEFAULT.cache_tag()),
            ),
            ("version", version_info.clone()),
            (
                "hexversion",
                Value::Int(major << 24 | minor << 16 | micro << 8 | 0xF0),
            ),
            (
                "_multiarch",
                Value::string(format!("{}-linux-gnu", std::env::consts::ARCH)),
            ),
        ] {
            i.dict.set_str(&intern(k), v);
        }
    }
    let executable = std::env::current_exe()
        .map(|p| Value::string(p.display().to_string()))
        .unwrap_or_else(|_| Value::str(""));
    let sys = vm.sys.clone();
    let set = |name: &str, v: Value| sys.dict.set_str(&intern(name), v);
    set("version_info", version_info);
    set("implementation", implementation);
    set(
        "version",
        Value::string(format!("{major}.{minor}.{micro} (pyc)")),
    );
    set(
        "hexversion",
        Value::Int(major << 24 | minor << 16 | micro << 8 | 0xF0),
    );
    set("api_version", Value::Int(1013));
    set("float_info", float_info);
    set("int_info", int_info);
    set("float_repr_style", Value::str("short"));
    set("maxunicode", Value::Int(0x10FFFF));
    set("executable", executable);
    set("dont_write_bytecode", Value::Bool(false));
    set("warnoptions", Value::list(Vec::new()));
    set("intern", builtin("intern", sys_intern));
    for name in ["getdefaultencoding", "getfilesystemencoding"] {
        set(name, builtin(name, sys_utf8));
    }
    Ok(())
}

/// `sys.intern(s)`: the interned string equal to `s`.
fn sys_intern(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "intern", args, 1, 1)?;
    match &args[0] {
        Value::Str(s) => Ok(Value::Str(intern(s.as_str()))),
        other => {
            let name = vm.type_name(other);
            Err(vm.type_error(format!("intern() argument must be str, not {name}")))
        }
    }
}

/// `sys.getdefaultencoding()` / `sys.getfilesystemencoding()`.
fn sys_utf8(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "getdefaultencoding", args, 0, 0)?;
    Ok(Value::str("utf-8"))
}
