//! The built-in exceptions that carry more than `args`: the OSError family (`errno`,
//! `strerror`, `filename`, `filename2`, and the subclass chosen by errno, as
//! `OSError(2, "...")` gives a FileNotFoundError) and UnicodeDecodeError (`encoding`,
//! `object`, `start`, `end`, `reason`), with CPython's messages.

use std::rc::Rc;

use crate::objects::Instance;
use crate::pystr::intern;
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

/// The OSError subclass CPython picks for an errno (Linux numbering).
fn subclass_name(errno: i64) -> Option<&'static str> {
    Some(match errno {
        11 | 114 | 115 => "BlockingIOError",
        10 => "ChildProcessError",
        32 | 108 => "BrokenPipeError",
        103 => "ConnectionAbortedError",
        111 => "ConnectionRefusedError",
        104 => "ConnectionResetError",
        17 => "FileExistsError",
        2 => "FileNotFoundError",
        21 => "IsADirectoryError",
        20 => "NotADirectoryError",
        4 => "InterruptedError",
        1 | 13 => "PermissionError",
        3 => "ProcessLookupError",
        110 => "TimeoutError",
        _ => return None,
    })
}

/// The class an exception of class `cls` called with `args` is made of: `OSError` itself
/// becomes the subclass its errno stands for (`OSError(errno, strerror, ...)`).
pub fn exception_class(vm: &Vm, cls: &Rc<Type>, args: &[Value]) -> Rc<Type> {
    if !Rc::ptr_eq(cls, &vm.exc_type("OSError")) || !(2..=5).contains(&args.len()) {
        return cls.clone();
    }
    let errno = match &args[0] {
        Value::Int(i) => *i,
        Value::Bool(b) => i64::from(*b),
        _ => return cls.clone(),
    };
    subclass_name(errno).map_or_else(|| cls.clone(), |name| vm.exc_type(name))
}

/// Sets the attributes a new exception `inst` of a built-in class with extra attributes takes
/// from its constructor's `args`.
pub fn init(vm: &Vm, inst: &Instance, args: &[Value]) -> PyResult<()> {
    if inst.class.is_subtype(&vm.exc_type("OSError")) {
        init_os_error(inst, args);
    } else if inst.class.is_subtype(&vm.exc_type("UnicodeDecodeError")) {
        init_unicode_decode_error(vm, inst, args)?;
    }
    Ok(())
}

/// `OSError(errno, strerror[, filename[, winerror[, filename2]]])`.
fn init_os_error(inst: &Instance, args: &[Value]) {
    let set = |name: &str, v: Value| inst.dict.set_str(&intern(name), v);
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::None);
    if (2..=5).contains(&args.len()) {
        set("errno", arg(0));
        set("strerror", arg(1));
        set("filename", arg(2));
        // The second file name counts only with a first, and a first one leaves `args` with
        // the errno and the message only.
        let has_filename = !matches!(arg(2), Value::None);
        set("filename2", if has_filename { arg(4) } else { Value::None });
        if has_filename {
            if let Some(exc) = &inst.exc {
                exc.borrow_mut().args = Value::tuple(args[..2].to_vec());
            }
        }
    } else {
        for name in ["errno", "strerror", "filename", "filename2"] {
            set(name, Value::None);
        }
    }
}

fn init_unicode_decode_error(vm: &Vm, inst: &Instance, args: &[Value]) -> PyResult<()> {
    if args.len() != 5 {
        return Err(vm.type_error(format!(
            "function takes exactly 5 arguments ({} given)",
            args.len()
        )));
    }
    set_decode_attributes(inst, args);
    Ok(())
}

/// `UnicodeDecodeError(encoding, object, start, end, reason)`.
fn set_decode_attributes(inst: &Instance, args: &[Value]) {
    for (name, arg) in ["encoding", "object", "start", "end", "reason"]
        .iter()
        .zip(args)
    {
        inst.dict.set_str(&intern(name), arg.clone());
    }
}

/// `str()` of an OSError or UnicodeDecodeError, or `None` for other exceptions (and for those
/// whose attributes do not make a message: they fall back to `BaseException.__str__`).
pub fn message(vm: &mut Vm, inst: &Instance) -> PyResult<Option<String>> {
    let get = |name: &str| {
        inst.dict
            .get_str(&intern(name))
            .filter(|v| !matches!(v, Value::None))
    };
    if inst.class.is_subtype(&vm.exc_type("OSError")) {
        let (Some(errno), Some(strerror)) = (get("errno"), get("strerror")) else {
            return Ok(None);
        };
        let mut text = format!("[Errno {}] {}", vm.str_of(&errno)?, vm.str_of(&strerror)?);
        if let Some(filename) = get("filename") {
            text += &format!(": {}", vm.repr(&filename)?);
            if let Some(filename2) = get("filename2") {
                text += &format!(" -> {}", vm.repr(&filename2)?);
            }
        }
        return Ok(Some(text));
    }
    if inst.class.is_subtype(&vm.exc_type("UnicodeDecodeError")) {
        let (Some(Value::Str(encoding)), Some(Value::Bytes(object))) =
            (get("encoding"), get("object"))
        else {
            return Ok(None);
        };
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(reason)) =
            (get("start"), get("end"), get("reason"))
        else {
            return Ok(None);
        };
        let reason = vm.str_of(&reason)?;
        let byte = usize::try_from(start).ok().and_then(|i| object.get(i));
        return Ok(Some(match byte {
            Some(byte) if end == start + 1 => format!(
                "'{}' codec can't decode byte 0x{byte:02x} in position {start}: {reason}",
                encoding.as_str()
            ),
            _ => format!(
                "'{}' codec can't decode bytes in position {start}-{}: {reason}",
                encoding.as_str(),
                end - 1
            ),
        }));
    }
    Ok(None)
}

/// The IsADirectoryError of `open()` on a directory.
pub fn is_a_directory(vm: &Vm, filename: &str) -> PyErr {
    os_error(vm, &std::io::Error::from_raw_os_error(21), Some(filename))
}

/// The OSError (or the subclass for its errno) for a failed system call on `filename`.
pub fn os_error(vm: &Vm, e: &std::io::Error, filename: Option<&str>) -> PyErr {
    let errno = e.raw_os_error().map(i64::from).unwrap_or(match e.kind() {
        std::io::ErrorKind::NotFound => 2,
        std::io::ErrorKind::PermissionDenied => 13,
        std::io::ErrorKind::AlreadyExists => 17,
        _ => 0,
    });
    let text = match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => e.to_string(),
    };
    // Rust appends " (os error N)" to the C library's message.
    let strerror = text
        .rsplit_once(" (os error ")
        .map_or(text.as_str(), |(message, _)| message);
    let mut args = vec![Value::Int(errno), Value::str(strerror)];
    if let Some(filename) = filename {
        args.push(Value::str(filename));
    }
    let cls = exception_class(vm, &vm.exc_type("OSError"), &args);
    let inst = vm.new_exception(cls, args.clone());
    init_os_error(&inst, &args);
    PyErr(inst)
}

/// The UnicodeDecodeError of the `utf-8` codec for `data`, which `error` found invalid.
pub fn utf8_decode_error(vm: &Vm, data: &[u8], error: std::str::Utf8Error) -> PyErr {
    let start = error.valid_up_to();
    let (end, reason) = match error.error_len() {
        None => (data.len(), "unexpected end of data"),
        Some(_) if !(0xC2..=0xF4).contains(&data[start]) => (start + 1, "invalid start byte"),
        Some(n) => (start + n, "invalid continuation byte"),
    };
    decode_error(vm, "utf-8", data, start, end, reason)
}

/// A UnicodeDecodeError: `encoding` could not decode `data[start..end]` for `reason`.
pub fn decode_error(
    vm: &Vm,
    encoding: &str,
    data: &[u8],
    start: usize,
    end: usize,
    reason: &str,
) -> PyErr {
    let args = vec![
        Value::str(encoding),
        Value::Bytes(Rc::new(data.to_vec())),
        Value::Int(start as i64),
        Value::Int(end as i64),
        Value::str(reason),
    ];
    let inst = vm.new_exception(vm.exc_type("UnicodeDecodeError"), args.clone());
    set_decode_attributes(&inst, &args);
    PyErr(inst)
}
