//! `asyncio`: a small stand-in for the standard module, written in Python (`asyncio.py` beside
//! this file: an event loop on virtual time, futures, tasks, TaskGroup, gather, sleep,
//! timeout, wait_for, wait, as_completed, shield, Queue, Event, Lock, Semaphore) and compiled by pyc-compiler when first imported. Python is the right language
//! here: the scheduling order must follow asyncio's own code step by step.

use std::rc::Rc;
use std::sync::Arc;

use crate::code::Code;
use crate::frame::Frame;
use crate::objects::Module;
use crate::pystr::intern;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

const SOURCE: &str = include_str!("asyncio.py");

/// Compiles and runs the module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let options = pyc_compiler::Options::default();
    let code = pyc_compiler::compile_source(SOURCE.as_bytes(), "<asyncio>", &options)
        .map_err(|e| vm.err("SystemError", format!("asyncio: {}", e.msg)))?;
    let code = Code::decode(&Arc::new(code)).map_err(|e| vm.err("SystemError", e.to_string()))?;
    let globals = crate::ops::new_dict();
    globals.set_str(&intern("__name__"), Value::str("asyncio"));
    globals.set_str(&intern("__builtins__"), Value::Dict(vm.builtins.clone()));
    globals.set_str(
        &intern("_set_asyncgen_finalizer"),
        crate::builtins::builtin(
            "_set_asyncgen_finalizer",
            crate::coroutine::set_asyncgen_finalizer,
        ),
    );
    let mut frame = Frame::new(
        code,
        globals.clone(),
        vm.builtins.clone(),
        Some(globals.clone()),
        Vec::new(),
    );
    vm.run_frame(&mut frame)?;
    Ok(Value::Module(Rc::new(Module {
        name: intern("asyncio"),
        dict: globals,
    })))
}
