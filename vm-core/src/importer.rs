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

/// Finds and runs the Python module `name`, or None if no `sys.path` entry has it.
pub fn import_python_module(vm: &mut Vm, name: &Rc<PyStr>) -> PyResult<Option<Value>> {
    for dir in search_path(vm) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let source = dir.join(format!("{}.py", name.as_str()));
        let pyc = if source.is_file() {
            cached_pyc(&source).map_err(|msg| vm.err("ImportError", msg))?
        } else {
            let sourceless = dir.join(format!("{}.pyc", name.as_str()));
            if !sourceless.is_file() {
                continue;
            }
            sourceless
        };
        return load(vm, name, &pyc).map(Some);
    }
    Ok(None)
}

fn load(vm: &mut Vm, name: &Rc<PyStr>, pyc: &Path) -> PyResult<Value> {
    let (_, code) = PycFile::load(pyc).map_err(|e| vm.err("ImportError", e.to_string()))?;
    let code = Code::decode(&code).map_err(|e| vm.err("ImportError", e.to_string()))?;
    let globals = DictObj::new(DictMap::new());
    globals.set_str(&intern("__name__"), Value::Str(name.clone()));
    globals.set_str(&intern("__file__"), Value::Str(code.filename.clone()));
    globals.set_str(&intern("__builtins__"), Value::Dict(vm.builtins.clone()));
    globals.set_str(&intern("__doc__"), Value::None);
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
