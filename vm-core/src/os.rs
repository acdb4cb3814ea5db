//! The `os` module (with `os.path`, which is `posixpath`): the system calls are native, the
//! rest is the module's Python half (`py/os.py`, `py/posixpath.py`).

use std::rc::Rc;

use crate::builtins::{builtin, nargs};
use crate::exc_attrs::os_error;
use crate::objects::{Module, NativeFn};
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Args<'a> = &'a [Value];
type Kw<'a> = &'a [Rc<PyStr>];

/// The `os` module; also registers `os.path` in `sys.modules`.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let functions: &[(&str, NativeFn)] = &[
        ("getcwd", getcwd),
        ("listdir", listdir),
        ("mkdir", mkdir),
        ("rmdir", rmdir),
        ("remove", remove),
        ("unlink", remove),
        ("rename", rename),
        ("replace", rename),
        ("getpid", getpid),
        ("cpu_count", cpu_count),
        ("_stat", stat),
        ("_environ", environ),
    ];
    let constants = [
        ("name", "posix"),
        ("sep", "/"),
        ("extsep", "."),
        ("pathsep", ":"),
        ("linesep", "\n"),
        ("curdir", "."),
        ("pardir", ".."),
        ("devnull", "/dev/null"),
    ];
    let module = Module::native(
        "os",
        functions
            .iter()
            .map(|&(name, f)| (name, builtin(name, f)))
            .chain(constants.map(|(name, v)| (name, Value::str(v)))),
    );
    let path = crate::builtins::import_module(vm, &intern("posixpath"))?;
    if let Value::Module(m) = &module {
        m.dict.set_str(&intern("path"), path.clone());
        m.dict.set_str(&intern("altsep"), Value::None);
    }
    vm.modules.set_str(&intern("os.path"), path);
    crate::natives::with_python_half(vm, module, include_str!("py/os.py"))
}

/// `posixpath` (`os.path`), all Python but for `os`'s stat.
pub fn path_module(vm: &mut Vm) -> PyResult<Value> {
    let module = Module::native("posixpath", []);
    crate::natives::with_python_half(vm, module, include_str!("py/posixpath.py"))
}

/// A path argument: a str (bytes paths are not supported yet).
fn path_arg(vm: &mut Vm, args: &[Value], i: usize, default: &str) -> PyResult<String> {
    match args.get(i) {
        None => Ok(default.to_owned()),
        Some(Value::Str(s)) => Ok(s.as_str().to_owned()),
        Some(other) => {
            let name = vm.type_name(other);
            Err(vm.type_error(format!(
                "expected str, bytes or os.PathLike object, not {name}"
            )))
        }
    }
}

fn getcwd(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "getcwd", args, 0, 0)?;
    let cwd = std::env::current_dir().map_err(|e| os_error(vm, &e, None))?;
    Ok(Value::string(cwd.display().to_string()))
}

fn listdir(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "listdir", args, 0, 1)?;
    let path = path_arg(vm, args, 0, ".")?;
    let entries = std::fs::read_dir(&path).map_err(|e| os_error(vm, &e, Some(&path)))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| os_error(vm, &e, Some(&path)))?;
        names.push(Value::string(
            entry.file_name().to_string_lossy().into_owned(),
        ));
    }
    Ok(Value::list(names))
}

/// A one-path operation that returns None.
fn path_op(
    vm: &mut Vm,
    name: &str,
    args: Args,
    max: usize,
    op: fn(&str) -> std::io::Result<()>,
) -> PyResult<Value> {
    nargs(vm, name, args, 1, max)?;
    let path = path_arg(vm, args, 0, "")?;
    op(&path).map_err(|e| os_error(vm, &e, Some(&path)))?;
    Ok(Value::None)
}

fn mkdir(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    path_op(vm, "mkdir", args, 2, |p| std::fs::create_dir(p))
}

fn rmdir(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    path_op(vm, "rmdir", args, 1, |p| std::fs::remove_dir(p))
}

fn remove(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    path_op(vm, "remove", args, 1, |p| std::fs::remove_file(p))
}

fn rename(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "rename", args, 2, 2)?;
    let (from, to) = (path_arg(vm, args, 0, "")?, path_arg(vm, args, 1, "")?);
    std::fs::rename(&from, &to).map_err(|e| os_error(vm, &e, Some(&from)))?;
    Ok(Value::None)
}

fn getpid(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "getpid", args, 0, 0)?;
    Ok(Value::Int(i64::from(std::process::id())))
}

fn cpu_count(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "cpu_count", args, 0, 0)?;
    Ok(std::thread::available_parallelism()
        .map(|n| Value::Int(n.get() as i64))
        .unwrap_or(Value::None))
}

/// `_stat(path, follow_symlinks)`: the ten `stat_result` items (times as ints) followed by
/// the three times as floats; the Python half makes the `stat_result`.
fn stat(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    use std::os::unix::fs::MetadataExt;
    nargs(vm, "_stat", args, 2, 2)?;
    let path = path_arg(vm, args, 0, "")?;
    let follow = vm.truthy(&args[1])?;
    let meta = if follow {
        std::fs::metadata(&path)
    } else {
        std::fs::symlink_metadata(&path)
    }
    .map_err(|e| os_error(vm, &e, Some(&path)))?;
    let float = |secs: i64, nsec: i64| Value::Float(secs as f64 + nsec as f64 * 1e-9);
    Ok(Value::tuple(vec![
        Value::Int(i64::from(meta.mode())),
        Value::Int(meta.ino() as i64),
        Value::Int(meta.dev() as i64),
        Value::Int(meta.nlink() as i64),
        Value::Int(i64::from(meta.uid())),
        Value::Int(i64::from(meta.gid())),
        Value::Int(meta.size() as i64),
        Value::Int(meta.atime()),
        Value::Int(meta.mtime()),
        Value::Int(meta.ctime()),
        float(meta.atime(), meta.atime_nsec()),
        float(meta.mtime(), meta.mtime_nsec()),
        float(meta.ctime(), meta.ctime_nsec()),
    ]))
}

/// `_environ()`: the process environment as a dict of str.
fn environ(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "_environ", args, 0, 0)?;
    let d = crate::ops::new_dict();
    for (k, v) in std::env::vars_os() {
        let (k, v) = (k.to_string_lossy(), v.to_string_lossy());
        vm.dict_set(&d, Value::str(&k), Value::str(&v))?;
    }
    Ok(Value::Dict(d))
}
