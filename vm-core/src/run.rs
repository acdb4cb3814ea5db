//! Running a program as `__main__` (a script's code object, or a module found on the path
//! as `python -m` finds it): the worker thread with a large native stack, `sys.path`, uncaught
//! exceptions printed as tracebacks, and `SystemExit` turned into an exit status.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use pyc_loader::CodeObject;

use crate::code::Code;
use crate::dict::DictObj;
use crate::module_code::CachePolicy;
use crate::objects::Module;
use crate::path_finder::{Found, Location};
use crate::pystr::intern;
use crate::value::Value;
use crate::vm::{PyErr, Vm};

/// The native stack the VM runs on; deep Python recursion is bounded by it and by the
/// recursion limit, whichever is hit first.
const STACK_SIZE: usize = 1 << 30;

/// What runs as `__main__`.
pub enum Main {
    /// A script's code object; `sys.argv[0]` is its path.
    Script(Arc<CodeObject>),
    /// A module (`-m NAME`): a package runs its `__main__` submodule; `sys.argv[0]` becomes the
    /// module's file.
    Module(String),
}

/// How to run a program.
pub struct RunOptions {
    /// The program.
    pub main: Main,
    /// `sys.argv`.
    pub argv: Vec<String>,
    /// `sys.path` entries after the first (the script's directory, or the current directory for
    /// a module): `--path` entries, then `PYTHONPATH`'s.
    pub path: Vec<PathBuf>,
    /// How imports treat missing or stale caches.
    pub policy: CachePolicy,
}

/// Runs the program; returns the process exit status.
pub fn run(options: RunOptions) -> i32 {
    let worker = std::thread::Builder::new()
        .name("pyc-vm".into())
        .stack_size(STACK_SIZE)
        .spawn(move || run_main(options));
    match worker.map(|h| h.join()) {
        Ok(Ok(status)) => status,
        _ => {
            eprintln!("pyc run: the VM thread failed");
            70
        }
    }
}

fn run_main(options: RunOptions) -> i32 {
    let RunOptions {
        main,
        argv,
        path,
        policy,
    } = options;
    let first = match &main {
        // As CPython: the directory of the script with symbolic links resolved.
        Main::Script(_) => {
            let script = Path::new(argv.first().map(String::as_str).unwrap_or(""));
            let real = std::fs::canonicalize(script).unwrap_or_else(|_| script.to_owned());
            real.parent().map(Path::to_owned).unwrap_or_default()
        }
        Main::Module(_) => std::env::current_dir().unwrap_or_default(),
    };
    let mut vm = Vm::new(STACK_SIZE, argv);
    vm.imports.policy = policy;
    for name in ["sys", "builtins"] {
        if let Some(m) = vm.modules.get_str(&intern(name)) {
            if let Err(e) = crate::module_spec::init_builtin(&mut vm, &m) {
                return uncaught(&mut vm, &e);
            }
        }
    }
    let entries = std::iter::once(first)
        .chain(path)
        .map(|p| Value::string(p.display().to_string()))
        .collect();
    vm.sys.dict.set_str(&intern("path"), Value::list(entries));
    let via_runpy = matches!(main, Main::Module(_));
    let prepared = match main {
        Main::Script(code) => script_main(&mut vm, &code),
        Main::Module(name) => module_main(&mut vm, &name),
    };
    let (code, globals) = match prepared {
        Ok(p) => p,
        Err(status) => {
            vm.flush();
            return status;
        }
    };
    let module = Value::Module(Rc::new(Module {
        name: intern("__main__"),
        dict: globals.clone(),
    }));
    vm.modules.set_str(&intern("__main__"), module);
    let result = crate::importer::exec(&mut vm, code, &globals);
    vm.close_dropped_generators();
    let status = match result {
        Ok(()) => 0,
        Err(err) if via_runpy => uncaught_through_runpy(&mut vm, &err),
        Err(err) => uncaught(&mut vm, &err),
    };
    vm.finalize_main(&globals);
    vm.flush();
    status
}

/// The exit status for an exception that reached the top, printing it as CPython does.
fn uncaught(vm: &mut Vm, err: &PyErr) -> i32 {
    let exit = vm.exc_type("SystemExit");
    if err.0.class.is_subtype(&exit) {
        exit_status(vm, err)
    } else {
        vm.flush();
        let text = vm.format_exception(&err.0);
        eprint!("{text}");
        1
    }
}

/// As [`uncaught`] for a module run by `-m`: CPython runs it through runpy, whose two frames
/// head the traceback of the exception leaving the module (the last one printed).
fn uncaught_through_runpy(vm: &mut Vm, err: &PyErr) -> i32 {
    if err.0.class.is_subtype(&vm.exc_type("SystemExit")) {
        return exit_status(vm, err);
    }
    vm.flush();
    let mut text = vm.format_exception(&err.0);
    let head = "Traceback (most recent call last):\n";
    if let Some(at) = text.rfind(head) {
        text.insert_str(
            at + head.len(),
            "  File \"<frozen runpy>\", line 198, in _run_module_as_main\n  \
             File \"<frozen runpy>\", line 88, in _run_code\n",
        );
    }
    eprint!("{text}");
    1
}

/// `__main__`'s `__builtins__`: the builtins module, as in CPython (other modules get its dict).
fn builtins_module(vm: &Vm) -> Value {
    vm.modules
        .get_str(&intern("builtins"))
        .unwrap_or_else(|| Value::Dict(vm.builtins.clone()))
}

/// The code and namespace of a script, as CPython sets them up for `python FILE`.
fn script_main(vm: &mut Vm, code: &Arc<CodeObject>) -> Result<(Rc<Code>, Rc<DictObj>), i32> {
    let code = Code::decode(code).map_err(|e| {
        eprintln!("pyc run: cannot decode code object: {e}");
        1
    })?;
    // The script's own path made absolute (a .pyc's, not its code's co_filename).
    let script = match vm.sys.dict.get_str(&intern("argv")) {
        Some(Value::List(argv)) => argv.items.borrow().first().cloned(),
        _ => None,
    };
    let file = match script.as_ref().and_then(Value::as_str) {
        Some(s) => std::path::absolute(s.as_str()).unwrap_or_else(|_| s.as_str().into()),
        None => PathBuf::from(code.filename.as_str()),
    };
    let location = if file.extension().is_some_and(|e| e == "pyc") {
        Location::Sourceless(file.clone())
    } else {
        Location::Source(file.clone())
    };
    let found = Found {
        location,
        package_dir: None,
    };
    let loader = crate::module_spec::spec_for(vm, "__main__", Some(&found))
        .map_err(|e| uncaught(vm, &e))?
        .1;
    let globals = crate::ops::new_dict();
    let set = |k: &str, v: Value| globals.set_str(&intern(k), v);
    set("__name__", Value::str("__main__"));
    set("__doc__", Value::None);
    set("__package__", Value::None);
    set("__loader__", loader);
    set("__spec__", Value::None);
    set("__annotations__", Value::Dict(crate::ops::new_dict()));
    set("__builtins__", builtins_module(vm));
    set("__file__", Value::string(file.display().to_string()));
    set("__cached__", Value::None);
    Ok((code, globals))
}

/// The code and namespace of module `name` run as `__main__` (`runpy._run_module_as_main`):
/// its parent packages are imported, a package runs its `__main__`, and `sys.argv[0]` is the
/// module's file.
fn module_main(vm: &mut Vm, name: &str) -> Result<(Rc<Code>, Rc<DictObj>), i32> {
    // As runpy: an ImportError about the module's own parent packages is reported in one line,
    // any other error (an ImportError raised while a parent runs, too) as a traceback.
    let fail = |vm: &mut Vm, err: PyErr| -> i32 {
        let about = match err.0.dict.get_str(&intern("name")) {
            Some(Value::Str(n)) => Some(n.as_str().to_owned()),
            _ => None,
        };
        let own = about.is_some_and(|n| name == n || name.starts_with(&format!("{n}.")));
        if !vm.err_is(&err, "ImportError") || !own {
            return uncaught(vm, &err);
        }
        let class = err.0.class.name.as_str().to_owned();
        let msg = vm
            .str_of(&Value::Instance(err.0.clone()))
            .unwrap_or_default();
        eprintln!(
            "pyc run: Error while finding module specification for '{name}' ({class}: {msg})"
        );
        1
    };
    let found = match crate::importer::find_on_path(vm, name) {
        Ok(Some(found)) => found,
        Ok(None) => {
            eprintln!("pyc run: No module named {name}");
            return Err(1);
        }
        Err(e) => return Err(fail(vm, e)),
    };
    let (main_name, found) = if found.is_package() {
        let main_name = format!("{name}.__main__");
        match crate::importer::find_on_path(vm, &main_name) {
            Ok(Some(inner)) => (main_name, inner),
            Ok(None) => {
                eprintln!(
                    "pyc run: No module named {main_name}; '{name}' is a package and cannot be \
                     directly executed"
                );
                return Err(1);
            }
            Err(e) => return Err(fail(vm, e)),
        }
    } else {
        (name.to_owned(), found)
    };
    let code = match crate::importer::module_code(vm, &main_name, &found) {
        Ok(Some(code)) => code,
        Ok(None) => {
            eprintln!("pyc run: No code object available for {main_name}");
            return Err(1);
        }
        Err(e) => {
            let status = uncaught(vm, &e);
            return Err(status);
        }
    };
    let spec = crate::module_spec::spec_for(vm, &main_name, Some(&found))
        .map_err(|e| uncaught(vm, &e))?
        .0;
    let get = |k: &str| crate::module_spec::spec_attr(&spec, k).unwrap_or(Value::None);
    let globals = crate::ops::new_dict();
    let set = |k: &str, v: Value| globals.set_str(&intern(k), v);
    set("__name__", Value::str("__main__"));
    set("__doc__", Value::None);
    set("__package__", get("parent"));
    set("__loader__", get("loader"));
    set("__spec__", spec.clone());
    set("__annotations__", Value::Dict(crate::ops::new_dict()));
    set("__builtins__", builtins_module(vm));
    set("__file__", get("origin"));
    set("__cached__", get("cached"));
    if let Some(Value::List(argv)) = vm.sys.dict.get_str(&intern("argv")) {
        if let Some(first) = argv.items.borrow_mut().first_mut() {
            *first = get("origin");
        }
    }
    Ok((code, globals))
}

fn exit_status(vm: &mut Vm, err: &crate::vm::PyErr) -> i32 {
    let args = err.0.exc.as_ref().map(|d| d.borrow().args.clone());
    let code = match args {
        Some(Value::Tuple(t)) if t.len() == 1 => t[0].clone(),
        Some(Value::Tuple(t)) if t.is_empty() => Value::None,
        Some(other) => other,
        None => Value::None,
    };
    match code {
        Value::None => 0,
        Value::Int(i) => i as i32,
        Value::Bool(b) => i32::from(b),
        other => {
            vm.flush();
            let text = vm.str_of(&other).unwrap_or_default();
            eprintln!("{text}");
            1
        }
    }
}
