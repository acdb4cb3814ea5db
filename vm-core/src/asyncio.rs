//! `asyncio`: a small stand-in for the standard module, written in Python (`asyncio.py` beside
//! this file: an event loop, futures, tasks, TaskGroup, gather, sleep, timeout, wait_for, wait,
//! as_completed, shield, to_thread, Queue, Event, Lock, Condition, Semaphore) and compiled by
//! pyc-compiler when first imported. Python is the right language here: the scheduling order
//! must follow asyncio's own code step by step. The loop runs on the monotonic clock and
//! sleeps while no callback is ready.

use std::rc::Rc;

use crate::objects::Module;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

const SOURCE: &str = include_str!("asyncio.py");

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

/// The module: its Python source run over the native helpers it needs.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let module = Module::native(
        "asyncio",
        [
            (
                "iscoroutinefunction",
                crate::builtins::builtin("iscoroutinefunction", is_coroutine_function),
            ),
            (
                "_set_asyncgen_finalizer",
                crate::builtins::builtin(
                    "_set_asyncgen_finalizer",
                    crate::coroutine::set_asyncgen_finalizer,
                ),
            ),
        ],
    );
    crate::natives::with_python_half(vm, module, SOURCE)
}
