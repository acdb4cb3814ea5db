//! A native `importlib` (`import_module`, `reload`, `invalidate_caches`) and `importlib.util`
//! (`find_spec`, `resolve_name`, `cache_from_source`, `source_from_cache`, `MAGIC_NUMBER`) over
//! the VM's import system ([`crate::importer`]).

use std::path::Path;
use std::rc::Rc;

use pyc_loader::{cache_from_source, source_from_cache, OptLevel, Target};

use crate::builtins::{nargs, split_kw};
use crate::objects::{Module, NativeFn};
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Kw<'a> = &'a [Rc<PyStr>];

/// The `importlib` package.
pub fn module() -> Value {
    Module::native(
        "importlib",
        [
            ("__path__", Value::list(Vec::new())),
            ("import_module", builtin("import_module", import_module)),
            (
                "invalidate_caches",
                builtin("invalidate_caches", invalidate),
            ),
            ("reload", builtin("reload", reload)),
        ],
    )
}

/// `importlib.util`.
pub fn util_module() -> Value {
    Module::native(
        "importlib.util",
        [
            ("find_spec", builtin("find_spec", find_spec)),
            ("resolve_name", builtin("resolve_name", resolve_name)),
            (
                "cache_from_source",
                builtin("cache_from_source", cache_from),
            ),
            (
                "source_from_cache",
                builtin("source_from_cache", source_from),
            ),
            (
                "MAGIC_NUMBER",
                Value::Bytes(Target::V3_12.magic_bytes().to_vec().into()),
            ),
        ],
    )
}

fn builtin(name: &'static str, f: NativeFn) -> Value {
    crate::builtins::builtin(name, f)
}

/// `(name, package)` from `f(name, package=None)`.
fn name_package(
    vm: &mut Vm,
    fname: &str,
    args: &[Value],
    kwnames: Kw,
) -> PyResult<(String, Value)> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, fname, pos, 1, 2)?;
    let package = pos
        .get(1)
        .cloned()
        .or_else(|| {
            kw.iter()
                .find(|(k, _)| *k == "package")
                .map(|(_, v)| (*v).clone())
        })
        .unwrap_or(Value::None);
    let Value::Str(name) = &pos[0] else {
        return Err(vm.type_error(format!(
            "module name must be str, not {}",
            vm.type_name(&pos[0])
        )));
    };
    Ok((name.as_str().to_owned(), package))
}

/// The absolute name for `importlib.import_module(name, package)` and `find_spec`.
fn absolute(vm: &mut Vm, name: &str, package: &Value) -> PyResult<String> {
    let level = name.len() - name.trim_start_matches('.').len();
    if level == 0 {
        return Ok(name.to_owned());
    }
    let package = match package {
        Value::Str(p) if !p.as_str().is_empty() => p.as_str().to_owned(),
        Value::None => {
            return Err(vm.type_error(format!(
                "the 'package' argument is required to perform a relative import for '{name}'"
            )))
        }
        Value::Str(_) => String::new(),
        _ => return Err(vm.type_error("__package__ not set to a string")),
    };
    crate::importer::resolve_name(vm, &name[level..], &package, level)
}

fn import_module(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (name, package) = name_package(vm, "import_module", args, kwnames)?;
    let full = absolute(vm, &name, &package)?;
    crate::importer::import_module(vm, &intern(&full))
}

/// `importlib.reload(module)`: finds the module again and runs its (new) code in its namespace;
/// a native module is left as it is.
fn reload(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "reload", args, 1, 1)?;
    let Value::Module(m) = &args[0] else {
        return Err(vm.type_error("reload() argument must be a module"));
    };
    let name = match m.dict.get_str(&intern("__name__")) {
        Some(Value::Str(s)) => s,
        _ => return Err(vm.type_error("reload() argument must be a module")),
    };
    match vm.modules.get_str(&name) {
        Some(Value::Module(current)) if Rc::ptr_eq(&current, m) => {}
        _ => {
            return Err(crate::importer::import_error(
                vm,
                "ImportError",
                format!("module {} not in sys.modules", name.as_str()),
                Some(name.as_str()),
                None,
            ))
        }
    }
    match crate::importer::find_on_path(vm, name.as_str())? {
        Some(found) => {
            if let Some(code) = crate::importer::module_code(vm, name.as_str(), &found)? {
                crate::importer::exec(vm, code, &m.dict)?;
            }
        }
        None if crate::builtins::native_module(vm, &name)?.is_some() => {}
        None => {
            return Err(crate::importer::import_error(
                vm,
                "ModuleNotFoundError",
                format!("spec not found for the module '{}'", name.as_str()),
                Some(name.as_str()),
                None,
            ))
        }
    }
    Ok(vm.modules.get_str(&name).unwrap_or_else(|| args[0].clone()))
}

fn invalidate(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "invalidate_caches", args, 0, 0)?;
    Ok(Value::None)
}

fn find_spec(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (name, package) = name_package(vm, "find_spec", args, kwnames)?;
    let full = absolute(vm, &name, &package)?;
    Ok(crate::importer::find_spec(vm, &full)?.unwrap_or(Value::None))
}

fn resolve_name(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (name, package) = name_package(vm, "resolve_name", args, kwnames)?;
    if !name.starts_with('.') {
        return Ok(Value::string(name));
    }
    if matches!(package, Value::None) {
        return Err(vm.err(
            "ImportError",
            format!("no package specified for '{name}' (required for relative module names)"),
        ));
    }
    Ok(Value::string(absolute(vm, &name, &package)?))
}

fn path_arg(vm: &mut Vm, fname: &str, args: &[Value]) -> PyResult<String> {
    nargs(vm, fname, args, 1, 1)?;
    match &args[0] {
        Value::Str(s) => Ok(s.as_str().to_owned()),
        other => Err(vm.type_error(format!(
            "expected str, bytes or os.PathLike object, not {}",
            vm.type_name(other)
        ))),
    }
}

fn cache_from(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let path = path_arg(vm, "cache_from_source", args)?;
    let cache = cache_from_source(Path::new(&path), Target::V3_12, OptLevel::O0);
    Ok(Value::string(cache.display().to_string()))
}

fn source_from(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let path = path_arg(vm, "source_from_cache", args)?;
    match source_from_cache(Path::new(&path)) {
        Some(source) => Ok(Value::string(source.display().to_string())),
        None => Err(vm.value_error(format!(
            "{path} not a valid PEP 3147 cache path for {}",
            Target::V3_12.cache_tag()
        ))),
    }
}
