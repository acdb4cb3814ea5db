//! `asyncio`: a small stand-in for the standard module, written in Python (`asyncio.py` beside
//! this file: an event loop, futures, tasks, TaskGroup, gather, sleep, timeout, wait_for, wait,
//! as_completed, shield, to_thread, Queue, Event, Lock, Condition, Semaphore) and compiled by
//! pyc-compiler when first imported. Python is the right language here: the scheduling order
//! must follow asyncio's own code step by step. The loop runs on virtual time (it jumps over
//! idle waits, so programs run instantly and deterministically); its jumps also advance the
//! `time` module's clocks ([`clock_offset`]).

use std::rc::Rc;
use std::sync::Arc;

use crate::code::Code;
use crate::frame::Frame;
use crate::objects::Module;
use crate::pystr::intern;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

const SOURCE: &str = include_str!("asyncio.py");

thread_local! {
    static CLOCK_OFFSET: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Seconds of virtual time added to the `time` module's clocks: the event loop jumps over
/// its idle waits and `time.sleep` does not block, yet a program that measures elapsed time
/// around them sees what it would under CPython.
pub fn clock_offset() -> f64 {
    CLOCK_OFFSET.with(std::cell::Cell::get)
}

fn advance_clock(vm: &mut Vm, args: &[Value], _: &[Rc<crate::pystr::PyStr>]) -> PyResult<Value> {
    let secs = match args.first() {
        Some(Value::Float(f)) => *f,
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(other) => {
            return Err(vm.type_error(format!(
                "'{}' object cannot be interpreted as an integer or float",
                vm.type_name(other)
            )))
        }
        None => return Err(vm.type_error("sleep() takes exactly one argument (0 given)")),
    };
    if secs.is_nan() {
        return Err(vm.value_error("Invalid value NaN (not a number)"));
    }
    if secs < 0.0 {
        return Err(vm.value_error("sleep length must be non-negative"));
    }
    CLOCK_OFFSET.with(|c| c.set(c.get() + secs));
    Ok(Value::None)
}

/// `asyncio.iscoroutinefunction(f)`: whether `f` (or the function a method binds) is an
/// `async def`.
fn is_coroutine_function(
    _: &mut Vm,
    args: &[Value],
    _: &[Rc<crate::pystr::PyStr>],
) -> PyResult<Value> {
    let mut f = args.first().cloned().unwrap_or(Value::None);
    if let Value::BoundMethod(m) = &f {
        f = m.func.clone();
    }
    Ok(Value::Bool(matches!(
        &f,
        Value::Function(func) if func.code.flags & crate::code::flags::COROUTINE != 0
    )))
}

/// `time.sleep(secs)`: advances the clocks by `secs` at once.
pub fn time_sleep(vm: &mut Vm, args: &[Value], kw: &[Rc<crate::pystr::PyStr>]) -> PyResult<Value> {
    advance_clock(vm, args, kw)
}

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
        &intern("_clock_offset"),
        crate::builtins::builtin("_clock_offset", |_, _, _| Ok(Value::Float(clock_offset()))),
    );
    globals.set_str(
        &intern("iscoroutinefunction"),
        crate::builtins::builtin("iscoroutinefunction", is_coroutine_function),
    );
    globals.set_str(
        &intern("_advance_clock"),
        crate::builtins::builtin("_advance_clock", advance_clock),
    );
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
