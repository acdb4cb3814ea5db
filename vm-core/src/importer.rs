//! Importing Python modules from cached bytecode: a module `name` is found on `sys.path` as
//! `name.py` with a valid cache in `__pycache__` (validated as importlib does), or as a
//! sourceless `name.pyc`; its code runs in a fresh module namespace registered in
//! `sys.modules` first (so circular imports see the partial module).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use pyc_loader::load::{CheckHashBasedPycs, PycFile, SourceStamp, Verdict};
use pyc_loader::{cache_from_source, OptLevel, Target};

use crate::code::Code;
use crate::dict::{DictMap, DictObj};
use crate::frame::Frame;
use crate::objects::Module;
use crate::pystr::{intern, PyStr};
use crate::value::Value;
use crate::vm::{PyResult, Vm};

/// The cache of `source` in `__pycache__` if importlib would use it, else why not.
pub fn cached_pyc(source: &Path) -> Result<PathBuf, String> {
    let meta = std::fs::metadata(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let cache = cache_from_source(source, Target::V3_12, OptLevel::O0);
    let pyc = PycFile::open(&cache).map_err(|e| {
        format!(
            "{}: no cached bytecode ({}: {e}); run `pyc compile` first",
            source.display(),
            cache.display()
        )
    })?;
    let verdict = pyc
        .verdict(
            Target::V3_12,
            SourceStamp::from_metadata(&meta),
            CheckHashBasedPycs::Default,
            || std::fs::read(source),
        )
        .map_err(|e| format!("{}: {e}", source.display()))?;
    match verdict {
        Verdict::Fresh => Ok(cache),
        Verdict::Stale(reason) => Err(format!(
            "{}: cached bytecode {} is stale ({reason}); run `pyc compile` first",
            source.display(),
            cache.display()
        )),
        Verdict::BadHeader(e) => Err(format!("{}: {e}", cache.display())),
        Verdict::BadBody(e) => Err(format!("{}: {e}", cache.display())),
    }
}

/// The directories of `sys.path`.
fn search_path(vm: &Vm) -> Vec<PathBuf> {
    match vm.sys.dict.get_str(&intern("path")) {
        Some(Value::List(l)) => l
            .items
            .borrow()
            .iter()
            .filter_map(|v| v.as_str().map(|s| PathBuf::from(s.as_str())))
            .collect(),
        _ => Vec::new(),
    }
}

/// Finds and runs the Python module `name` (dotted names go through their packages), or
/// None if no `sys.path` entry (or package `__path__`) has it.
pub fn import_python_module(vm: &mut Vm, name: &Rc<PyStr>) -> PyResult<Option<Value>> {
    let (dirs, leaf, parent) = match name.as_str().rsplit_once('.') {
        Some((parent, leaf)) => {
            let parent_name = intern(parent);
            let pkg = crate::builtins::import_module(vm, &parent_name)?;
            if let Some(m) = vm.modules.get_str(name) {
                return Ok(Some(m));
            }
            let path = match &pkg {
                Value::Module(m) => m.dict.get_str(&intern("__path__")),
                _ => None,
            };
            let Some(path) = path else {
                return Err(vm.err(
                    "ModuleNotFoundError",
                    format!(
                        "No module named '{}'; '{parent}' is not a package",
                        name.as_str()
                    ),
                ));
            };
            let dirs = vm
                .to_vec(&path)?
                .iter()
                .filter_map(|v| v.as_str().map(|s| PathBuf::from(s.as_str())))
                .collect();
            (dirs, leaf.to_owned(), Some(pkg))
        }
        None => (search_path(vm), name.as_str().to_owned(), None),
    };
    for dir in dirs {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let package_init = dir.join(&leaf).join("__init__.py");
        let source = dir.join(format!("{leaf}.py"));
        let (pyc, package_dir) = if package_init.is_file() {
            let pyc = cached_pyc(&package_init).map_err(|msg| vm.err("ImportError", msg))?;
            (pyc, Some(dir.join(&leaf)))
        } else if source.is_file() {
            (
                cached_pyc(&source).map_err(|msg| vm.err("ImportError", msg))?,
                None,
            )
        } else {
            let sourceless = dir.join(format!("{leaf}.pyc"));
            if !sourceless.is_file() {
                continue;
            }
            (sourceless, None)
        };
        let module = load(vm, name, &pyc, package_dir.as_deref())?;
        if let Some(Value::Module(p)) = &parent {
            p.dict.set_str(&intern(&leaf), module.clone());
        }
        return Ok(Some(module));
    }
    Ok(None)
}

/// IMPORT_NAME: `import name` (level 0) or a relative import from the module whose globals are
/// `globals`; returns the top-level package for `import a.b`, the module itself when there is a
/// `fromlist` (importing the listed submodules of a package).
pub fn import_name(
    vm: &mut Vm,
    name: &Rc<PyStr>,
    globals: &Rc<DictObj>,
    fromlist: &Value,
    level: i64,
) -> PyResult<Value> {
    let full = if level > 0 {
        let package = match globals.get_str(&intern("__package__")) {
            Some(Value::Str(p)) if !p.as_str().is_empty() => p.as_str().to_owned(),
            _ => {
                return Err(vm.err(
                    "ImportError",
                    "attempted relative import with no known parent package",
                ))
            }
        };
        let parts: Vec<&str> = package.split('.').collect();
        if (level as usize) > parts.len() {
            return Err(vm.err(
                "ImportError",
                "attempted relative import beyond top-level package",
            ));
        }
        let base = parts[..parts.len() + 1 - level as usize].join(".");
        if name.as_str().is_empty() {
            base
        } else {
            format!("{base}.{}", name.as_str())
        }
    } else {
        name.as_str().to_owned()
    };
    let full_name = intern(&full);
    let module = crate::builtins::import_module(vm, &full_name)?;
    let names = match fromlist {
        Value::Tuple(t) => (**t).clone(),
        _ => Vec::new(),
    };
    if names.is_empty() {
        if level == 0 {
            if let Some((top, _)) = full.split_once('.') {
                return crate::builtins::import_module(vm, &intern(top));
            }
        }
        return Ok(module);
    }
    if let Value::Module(m) = &module {
        if m.dict.get_str(&intern("__path__")).is_some() {
            for n in names {
                let Value::Str(n) = n else { continue };
                if n.as_str() == "*" || m.dict.get_str(&n).is_some() {
                    continue;
                }
                let sub = intern(&format!("{full}.{}", n.as_str()));
                match crate::builtins::import_module(vm, &sub) {
                    Ok(_) => {}
                    Err(e) if vm.err_is(&e, "ModuleNotFoundError") => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(module)
}

fn load(vm: &mut Vm, name: &Rc<PyStr>, pyc: &Path, package_dir: Option<&Path>) -> PyResult<Value> {
    let (_, code) = PycFile::load(pyc).map_err(|e| vm.err("ImportError", e.to_string()))?;
    let code = Code::decode(&code).map_err(|e| vm.err("ImportError", e.to_string()))?;
    let globals = DictObj::new(DictMap::new());
    globals.set_str(&intern("__name__"), Value::Str(name.clone()));
    globals.set_str(&intern("__file__"), Value::Str(code.filename.clone()));
    globals.set_str(&intern("__builtins__"), Value::Dict(vm.builtins.clone()));
    globals.set_str(&intern("__doc__"), Value::None);
    let package = match package_dir {
        Some(dir) => {
            globals.set_str(
                &intern("__path__"),
                Value::list(vec![Value::string(dir.display().to_string())]),
            );
            name.as_str().to_owned()
        }
        None => name
            .as_str()
            .rsplit_once('.')
            .map(|(p, _)| p.to_owned())
            .unwrap_or_default(),
    };
    globals.set_str(&intern("__package__"), Value::string(package));
    let module = Value::Module(Rc::new(Module {
        name: name.clone(),
        dict: globals.clone(),
    }));
    vm.modules.set_str(name, module.clone());
    let mut frame = Frame::new(
        code,
        globals.clone(),
        vm.builtins.clone(),
        Some(globals),
        Vec::new(),
    );
    if let Err(e) = vm.run_frame(&mut frame) {
        vm.modules
            .map
            .borrow_mut()
            .remove(&Value::Str(name.clone()), name.hash());
        return Err(e);
    }
    // A module may replace itself in sys.modules while it runs.
    Ok(vm.modules.get_str(name).unwrap_or(module))
}
