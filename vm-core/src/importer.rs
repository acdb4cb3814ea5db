//! The import system, following importlib's `_bootstrap` (`_gcd_import`, `_find_and_load`,
//! `_handle_fromlist`, `__import__`) and CPython's `import_from` / `import_all_from`:
//!
//! - `sys.modules` is the cache; a module is registered before its body runs, so circular
//!   imports see the partially initialised module, and removed again if its body raises.
//! - Finders in `sys.meta_path` order: the built-in modules (`sys`, `builtins`, `itertools`,
//!   `time`), then the path finder ([`crate::path_finder`]) over `sys.path` or the parent
//!   package's `__path__`, then the native stand-ins for pure-Python standard modules
//!   (`collections`, `math`, `importlib`, ...), which in CPython live in the standard library
//!   directories at the end of `sys.path` (so a program's own `string.py` shadows them).
//! - Code comes from validated caches ([`crate::module_code`]): `pyc run` is bytecode-only
//!   unless `--compile`.
//! - Modules get importlib's attributes and spec ([`crate::module_spec`]); errors are CPython's
//!   ImportError / ModuleNotFoundError messages with `name` and `path`.

use std::path::PathBuf;
use std::rc::Rc;

use crate::dict::DictObj;
use crate::frame::Frame;
use crate::module_code::{CachePolicy, CodeError};
use crate::module_spec::{self, SpecClasses};
use crate::objects::Module;
use crate::path_finder::{Found, Location};
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

/// The import system's state in the VM.
#[derive(Debug, Default)]
pub struct ImportState {
    /// How missing or stale caches are treated.
    pub policy: CachePolicy,
    /// The spec and loader classes, once made.
    pub(crate) classes: Option<Rc<SpecClasses>>,
}

/// Modules CPython 3.12 builds into the interpreter (`sys.builtin_module_names`) that the VM
/// has; they are found before `sys.path`.
const BUILT_IN: &[&str] = &["builtins", "itertools", "sys", "time"];

/// An ImportError (or subclass `class`) with CPython's `name` and `path` attributes.
pub fn import_error(
    vm: &Vm,
    class: &str,
    msg: impl Into<String>,
    name: Option<&str>,
    path: Option<&str>,
) -> PyErr {
    let err = vm.err(class, msg);
    for (k, v) in [("name", name), ("path", path)] {
        if let Some(v) = v {
            err.0.dict.set_str(&intern(k), Value::str(v));
        }
    }
    err
}

fn not_found(vm: &Vm, name: &str) -> PyErr {
    import_error(
        vm,
        "ModuleNotFoundError",
        format!("No module named '{name}'"),
        Some(name),
        None,
    )
}

/// `importlib._bootstrap._gcd_import(name)`: imports the absolute module `name` (and its
/// parents) and returns it.
pub fn import_module(vm: &mut Vm, name: &Rc<PyStr>) -> PyResult<Value> {
    if name.as_str().is_empty() {
        return Err(vm.value_error("Empty module name"));
    }
    match vm.modules.get_str(name) {
        Some(Value::None) => Err(import_error(
            vm,
            "ModuleNotFoundError",
            format!("import of {} halted; None in sys.modules", name.as_str()),
            Some(name.as_str()),
            None,
        )),
        Some(m) => Ok(m),
        None => find_and_load(vm, name),
    }
}

fn find_and_load(vm: &mut Vm, name: &Rc<PyStr>) -> PyResult<Value> {
    let full = name.as_str();
    let (dirs, parent) = match full.rsplit_once('.') {
        Some((parent, _)) => {
            let parent_name = intern(parent);
            let parent_module = import_module(vm, &parent_name)?;
            if let Some(m) = vm.modules.get_str(name) {
                return Ok(m);
            }
            let path = vm.get_attr(&parent_module, &intern("__path__")).ok();
            let Some(path) = path else {
                return Err(import_error(
                    vm,
                    "ModuleNotFoundError",
                    format!("No module named '{full}'; '{parent}' is not a package"),
                    Some(full),
                    None,
                ));
            };
            (path_entries(vm, &path)?, Some(parent_module))
        }
        None => (search_path(vm), None),
    };
    let leaf = full.rsplit('.').next().unwrap_or(full);
    let module = if parent.is_none() && BUILT_IN.contains(&full) {
        native(vm, name)?
    } else if let Some(found) = crate::path_finder::find(&dirs, leaf) {
        load(vm, name, &found)?
    } else {
        native(vm, name)?
    };
    if let Some(parent) = parent {
        // As importlib: a parent that refuses the attribute does not fail the import.
        let _ = vm.set_attr(&parent, &intern(leaf), module.clone());
    }
    Ok(module)
}

/// The module `full` as the path finder finds it (in `sys.path`, or in its parent package's
/// `__path__`, importing the parents), without loading it.
pub fn find_on_path(vm: &mut Vm, full: &str) -> PyResult<Option<Found>> {
    let dirs = match full.rsplit_once('.') {
        Some((parent, _)) => {
            let parent_module = import_module(vm, &intern(parent))?;
            match vm.get_attr(&parent_module, &intern("__path__")) {
                Ok(path) => path_entries(vm, &path)?,
                Err(_) => return Ok(None),
            }
        }
        None => search_path(vm),
    };
    let leaf = full.rsplit('.').next().unwrap_or(full);
    Ok(crate::path_finder::find(&dirs, leaf))
}

/// `importlib.util.find_spec` for an absolute name: the spec of a module in `sys.modules`, else
/// the spec the finders would use (importing the parent packages), or None.
pub fn find_spec(vm: &mut Vm, full: &str) -> PyResult<Option<Value>> {
    if let Some(m) = vm.modules.get_str(&intern(full)) {
        if matches!(m, Value::None) {
            return Ok(None);
        }
        let spec = vm.get_attr(&m, &intern("__spec__"))?;
        if matches!(spec, Value::None) {
            return Err(vm.value_error(format!("{full}.__spec__ is None")));
        }
        return Ok(Some(spec));
    }
    let dirs = match full.rsplit_once('.') {
        Some((parent, _)) => {
            let parent_module = import_module(vm, &intern(parent))?;
            let Ok(path) = vm.get_attr(&parent_module, &intern("__path__")) else {
                return Err(import_error(
                    vm,
                    "ModuleNotFoundError",
                    format!(
                        "__path__ attribute not found on '{parent}' while trying to find '{full}'"
                    ),
                    Some(full),
                    None,
                ));
            };
            path_entries(vm, &path)?
        }
        None if BUILT_IN.contains(&full) => {
            return Ok(Some(module_spec::spec_for(vm, full, None)?.0));
        }
        None => search_path(vm),
    };
    let leaf = full.rsplit('.').next().unwrap_or(full);
    if let Some(found) = crate::path_finder::find(&dirs, leaf) {
        return Ok(Some(module_spec::spec_for(vm, full, Some(&found))?.0));
    }
    if crate::builtins::native_module(vm, &intern(full))?.is_some() {
        return Ok(Some(module_spec::spec_for(vm, full, None)?.0));
    }
    Ok(None)
}

/// A native module registered in `sys.modules`, or ModuleNotFoundError.
fn native(vm: &mut Vm, name: &Rc<PyStr>) -> PyResult<Value> {
    let Some(m) = crate::builtins::native_module(vm, name)? else {
        return Err(not_found(vm, name.as_str()));
    };
    module_spec::init_builtin(vm, &m)?;
    vm.modules.set_str(name, m.clone());
    Ok(m)
}

/// The directories of `sys.path`.
fn search_path(vm: &mut Vm) -> Vec<PathBuf> {
    let path = vm.sys.dict.get_str(&intern("path")).unwrap_or(Value::None);
    path_entries(vm, &path).unwrap_or_default()
}

/// The string entries of a path list (other entries are skipped, as importlib skips them).
fn path_entries(vm: &mut Vm, path: &Value) -> PyResult<Vec<PathBuf>> {
    Ok(vm
        .to_vec(path)?
        .iter()
        .filter_map(|v| v.as_str().map(|s| PathBuf::from(s.as_str())))
        .collect())
}

/// The code of a found module, as a Python exception on failure.
pub fn module_code(
    vm: &mut Vm,
    name: &str,
    found: &Found,
) -> PyResult<Option<Rc<crate::code::Code>>> {
    let policy = vm.imports.policy;
    let code = match &found.location {
        Location::Namespace(_) => return Ok(None),
        Location::Source(source) => crate::module_code::from_source(name, source, &policy),
        Location::Sourceless(pyc) => crate::module_code::sourceless(name, pyc),
    };
    let path = found.origin().map(|p| p.display().to_string());
    let code = code.map_err(|e| match e {
        CodeError::Import(msg) => import_error(vm, "ImportError", msg, Some(name), path.as_deref()),
        CodeError::Syntax(e, filename, bytes) => {
            crate::compiling::syntax_error(vm, &e, &filename, &bytes)
        }
    })?;
    crate::code::Code::decode(&code).map(Some).map_err(|e| {
        import_error(
            vm,
            "ImportError",
            e.to_string(),
            Some(name),
            path.as_deref(),
        )
    })
}

/// Creates, registers and runs module `name` found on the path.
fn load(vm: &mut Vm, name: &Rc<PyStr>, found: &Found) -> PyResult<Value> {
    let code = module_code(vm, name.as_str(), found)?;
    let (spec, _) = module_spec::spec_for(vm, name.as_str(), Some(found))?;
    let globals = module_spec::module_namespace(name.as_str(), &spec);
    let module = Value::Module(Rc::new(Module {
        name: name.clone(),
        dict: globals.clone(),
    }));
    vm.modules.set_str(name, module.clone());
    let Some(code) = code else {
        return Ok(module);
    };
    globals.set_str(&intern("__builtins__"), Value::Dict(vm.builtins.clone()));
    module_spec::set_initializing(&spec, true);
    let result = exec(vm, code, &globals);
    module_spec::set_initializing(&spec, false);
    if let Err(e) = result {
        vm.modules
            .map
            .borrow_mut()
            .remove(&Value::Str(name.clone()), name.hash());
        return Err(e);
    }
    // A module may replace itself in sys.modules while it runs.
    Ok(vm.modules.get_str(name).unwrap_or(module))
}

/// Runs a module body in its namespace.
pub fn exec(vm: &mut Vm, code: Rc<crate::code::Code>, globals: &Rc<DictObj>) -> PyResult<()> {
    let mut frame = Frame::new(
        code,
        globals.clone(),
        vm.builtins.clone(),
        Some(globals.clone()),
        Vec::new(),
    );
    vm.run_frame(&mut frame).map(drop)
}

/// The package a relative import in the module with `globals` is relative to
/// (`_calc___package__`).
fn calc_package(vm: &mut Vm, globals: &DictObj) -> PyResult<String> {
    match globals.get_str(&intern("__package__")) {
        Some(Value::Str(p)) => return Ok(p.as_str().to_owned()),
        Some(Value::None) | None => {}
        Some(_) => return Err(vm.type_error("package must be a string")),
    }
    if let Some(spec) = globals.get_str(&intern("__spec__")) {
        if !matches!(spec, Value::None) {
            let parent = vm.get_attr(&spec, &intern("parent"))?;
            return vm.str_of(&parent);
        }
    }
    let Some(Value::Str(name)) = globals.get_str(&intern("__name__")) else {
        return Err(vm.err("KeyError", "'__name__' not in globals"));
    };
    if globals.get_str(&intern("__path__")).is_some() {
        return Ok(name.as_str().to_owned());
    }
    Ok(name
        .as_str()
        .rsplit_once('.')
        .map_or(String::new(), |(p, _)| p.to_owned()))
}

/// The absolute name of a relative import of `name` at `level` from `package`
/// (`_resolve_name`).
pub fn resolve_name(vm: &Vm, name: &str, package: &str, level: usize) -> PyResult<String> {
    if package.is_empty() {
        return Err(vm.err(
            "ImportError",
            "attempted relative import with no known parent package",
        ));
    }
    let bits: Vec<&str> = package.rsplitn(level, '.').collect();
    if bits.len() < level {
        return Err(vm.err(
            "ImportError",
            "attempted relative import beyond top-level package",
        ));
    }
    let base = bits[bits.len() - 1];
    Ok(if name.is_empty() {
        base.to_owned()
    } else {
        format!("{base}.{name}")
    })
}

/// IMPORT_NAME and `__import__(name, globals, locals, fromlist, level)`.
pub fn import_name(
    vm: &mut Vm,
    name: &Rc<PyStr>,
    globals: &Rc<DictObj>,
    fromlist: &Value,
    level: i64,
) -> PyResult<Value> {
    if level < 0 {
        return Err(vm.value_error("level must be >= 0"));
    }
    let full = if level > 0 {
        let package = calc_package(vm, globals)?;
        intern(&resolve_name(vm, name.as_str(), &package, level as usize)?)
    } else {
        name.clone()
    };
    let module = import_module(vm, &full)?;
    let names = match fromlist {
        Value::None => Vec::new(),
        other => vm.to_vec(other)?,
    };
    if names.is_empty() {
        let name = name.as_str();
        return match name.split_once('.') {
            None if level == 0 => Ok(module),
            Some((top, _)) if level == 0 => import_module(vm, &intern(top)),
            _ if name.is_empty() => Ok(module),
            _ => {
                // `__import__('b.c', level=1)` returns the package `b` names, relative to `full`.
                let cut = name.len() - name.split('.').next().unwrap_or(name).len();
                let top = &full.as_str()[..full.as_str().len() - cut];
                Ok(vm.modules.get_str(&intern(top)).unwrap_or(module))
            }
        };
    }
    if let Value::Module(m) = &module {
        if m.dict.get_str(&intern("__path__")).is_some() {
            handle_fromlist(vm, &module, &names, false)?;
        }
    }
    Ok(module)
}

/// The module's `__name__` as a string, for messages.
fn module_name(vm: &mut Vm, module: &Value) -> String {
    match vm.get_attr(module, &intern("__name__")) {
        Ok(Value::Str(s)) => s.as_str().to_owned(),
        _ => "?".to_owned(),
    }
}

/// `_handle_fromlist`: imports the submodules a `from package import ...` names that are not
/// attributes of the package yet (`*` means its `__all__`).
fn handle_fromlist(vm: &mut Vm, module: &Value, names: &[Value], recursive: bool) -> PyResult<()> {
    for x in names {
        let Value::Str(x) = x else {
            let what = if recursive {
                format!("{}.__all__", module_name(vm, module))
            } else {
                "``from list''".to_owned()
            };
            return Err(vm.type_error(format!(
                "Item in {what} must be str, not {}",
                vm.type_name(x)
            )));
        };
        if x.as_str() == "*" {
            if !recursive {
                if let Ok(all) = vm.get_attr(module, &intern("__all__")) {
                    let all = vm.to_vec(&all)?;
                    handle_fromlist(vm, module, &all, true)?;
                }
            }
        } else if vm.get_attr(module, x).is_err() {
            let from_name = format!("{}.{}", module_name(vm, module), x.as_str());
            if let Err(e) = import_module(vm, &intern(&from_name)) {
                let missing = vm.err_is(&e, "ModuleNotFoundError")
                    && matches!(e.0.dict.get_str(&intern("name")), Some(Value::Str(n)) if n.as_str() == from_name)
                    && !matches!(vm.modules.get_str(&intern(&from_name)), Some(Value::None));
                if !missing {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// IMPORT_FROM: `from module import name`, falling back to the submodule `module.name` in
/// `sys.modules`; CPython's messages otherwise (circular imports included).
pub fn import_from(vm: &mut Vm, module: &Value, name: &Rc<PyStr>) -> PyResult<Value> {
    match vm.get_attr(module, name) {
        Ok(v) => return Ok(v),
        Err(e) if vm.err_is(&e, "AttributeError") => {}
        Err(e) => return Err(e),
    }
    let pkgname = match vm.get_attr(module, &intern("__name__")) {
        Ok(Value::Str(s)) => s,
        _ => {
            return Err(vm.err(
                "ImportError",
                format!("cannot import name '{}'", name.as_str()),
            ))
        }
    };
    let full = intern(&format!("{}.{}", pkgname.as_str(), name.as_str()));
    if let Some(m) = vm.modules.get_str(&full) {
        return Ok(m);
    }
    let dict = match module {
        Value::Module(m) => Some(m.dict.clone()),
        _ => None,
    };
    let path = dict
        .as_ref()
        .and_then(|d| d.get_str(&intern("__file__")))
        .and_then(|f| f.as_str().map(|s| s.as_str().to_owned()));
    let (n, p) = (name.as_str(), pkgname.as_str());
    let msg = match &path {
        None => format!("cannot import name '{n}' from '{p}' (unknown location)"),
        Some(file) if dict.as_deref().is_some_and(module_spec::is_initializing) => format!(
            "cannot import name '{n}' from partially initialized module '{p}' \
             (most likely due to a circular import) ({file})"
        ),
        Some(file) => format!("cannot import name '{n}' from '{p}' ({file})"),
    };
    Err(import_error(
        vm,
        "ImportError",
        msg,
        Some(p),
        path.as_deref(),
    ))
}

/// `from module import *` into `locals`: the names in `__all__`, or the public names of the
/// namespace.
pub fn import_star(vm: &mut Vm, module: &Value, locals: Option<&Rc<DictObj>>) -> PyResult<()> {
    let Some(locals) = locals else {
        return Err(vm.err("SystemError", "no locals found during 'import *'"));
    };
    let (names, from_dict) = match vm.get_attr(module, &intern("__all__")) {
        Ok(all) => (vm.to_vec(&all)?, false),
        Err(e) if vm.err_is(&e, "AttributeError") => {
            match vm.get_attr(module, &vm.n.dict.clone()) {
                Ok(d) => (vm.to_vec(&d)?, true),
                Err(_) => {
                    return Err(vm.err(
                        "ImportError",
                        "from-import-* object has no __dict__ and no __all__",
                    ))
                }
            }
        }
        Err(e) => return Err(e),
    };
    for n in names {
        let Value::Str(s) = &n else {
            let (what, place) = if from_dict {
                ("Key", "__dict__")
            } else {
                ("Item", "__all__")
            };
            let module = module_name(vm, module);
            return Err(vm.type_error(format!(
                "{what} in {module}.{place} must be str, not {}",
                vm.type_name(&n)
            )));
        };
        if from_dict && s.as_str().starts_with('_') {
            continue;
        }
        let v = vm.get_attr(module, s)?;
        locals.set_str(s, v);
    }
    Ok(())
}

/// The error for a missing module attribute, after the module's own `__getattr__` (PEP 562);
/// a module still running its body says so, as CPython does.
pub fn module_getattr(vm: &mut Vm, m: &Module, name: &Rc<PyStr>) -> PyResult<Value> {
    if name.as_str() == "__dict__" {
        return Ok(Value::Dict(m.dict.clone()));
    }
    if let Some(f) = m.dict.get_str(&intern("__getattr__")) {
        return vm.call(&f, &[Value::Str(name.clone())], &[]);
    }
    let module = match m.dict.get_str(&intern("__name__")) {
        Some(Value::Str(s)) => s.as_str().to_owned(),
        _ => {
            return Err(vm.err(
                "AttributeError",
                format!("module has no attribute '{}'", name.as_str()),
            ))
        }
    };
    let msg = if module_spec::is_initializing(&m.dict) {
        format!(
            "partially initialized module '{module}' has no attribute '{}' \
             (most likely due to a circular import)",
            name.as_str()
        )
    } else {
        format!("module '{module}' has no attribute '{}'", name.as_str())
    };
    Err(vm.err("AttributeError", msg))
}

/// `ImportError.__init__(self, *args, name=None, path=None, name_from=None)`.
pub fn import_error_init(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, values) = args.split_at(args.len() - kwnames.len());
    let Some(Value::Instance(inst)) = pos.first() else {
        return Err(vm.type_error("ImportError.__init__ needs an instance"));
    };
    if let Some(e) = &inst.exc {
        e.borrow_mut().args = Value::tuple(pos[1..].to_vec());
    }
    for (k, v) in kwnames.iter().zip(values) {
        match k.as_str() {
            "name" | "path" | "name_from" => inst.dict.set_str(k, v.clone()),
            other => {
                return Err(vm.type_error(format!(
                    "'{other}' is an invalid keyword argument for ImportError()"
                )))
            }
        }
    }
    Ok(Value::None)
}
