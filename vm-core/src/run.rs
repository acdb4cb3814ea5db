//! Running a module code object as `__main__`: the worker thread with a large native stack,
//! uncaught exceptions printed as tracebacks, and `SystemExit` turned into an exit status.

use std::sync::Arc;

use pyc_loader::CodeObject;

use crate::code::Code;
use crate::dict::{DictMap, DictObj};
use crate::frame::Frame;
use crate::pystr::intern;
use crate::value::Value;
use crate::vm::Vm;

/// The native stack the VM runs on; deep Python recursion is bounded by it and by the
/// recursion limit, whichever is hit first.
const STACK_SIZE: usize = 1 << 30;

/// Runs `code` as the `__main__` module with `sys.argv = argv`; returns the process exit status.
pub fn run_pyc(code: Arc<CodeObject>, argv: Vec<String>) -> i32 {
    let worker = std::thread::Builder::new()
        .name("pyc-vm".into())
        .stack_size(STACK_SIZE)
        .spawn(move || run_main(&code, argv));
    match worker.map(|h| h.join()) {
        Ok(Ok(status)) => status,
        _ => {
            eprintln!("pyc run: the VM thread failed");
            70
        }
    }
}

fn run_main(code: &Arc<CodeObject>, argv: Vec<String>) -> i32 {
    let code = match Code::decode(code) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pyc run: cannot decode code object: {e}");
            return 1;
        }
    };
    let script_dir = std::path::Path::new(argv.first().map(String::as_str).unwrap_or(""))
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let mut vm = Vm::new(STACK_SIZE, argv);
    vm.sys.dict.set_str(
        &intern("path"),
        Value::list(vec![Value::string(if script_dir.is_empty() {
            ".".into()
        } else {
            script_dir
        })]),
    );
    let globals = DictObj::new(DictMap::new());
    let main_globals = globals.clone();
    globals.set_str(&intern("__name__"), Value::str("__main__"));
    globals.set_str(&intern("__builtins__"), Value::Dict(vm.builtins.clone()));
    globals.set_str(&intern("__file__"), Value::Str(code.filename.clone()));
    globals.set_str(&intern("__doc__"), Value::None);
    let mut frame = Frame::new(
        code,
        globals.clone(),
        vm.builtins.clone(),
        Some(globals),
        Vec::new(),
    );
    let result = vm.run_frame(&mut frame);
    drop(frame);
    vm.close_dropped_generators();
    let status = match result {
        Ok(_) => 0,
        Err(err) => {
            let exit = vm.exc_type("SystemExit");
            if err.0.class.is_subtype(&exit) {
                exit_status(&mut vm, &err)
            } else {
                vm.flush();
                let text = vm.format_exception(&err.0);
                eprint!("{text}");
                1
            }
        }
    };
    vm.finalize_main(&main_globals);
    vm.flush();
    status
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
