//! Coroutines and async generators (PEP 492, PEP 525): the awaitable protocol behind `await`,
//! `async for` and `async with`, and the `asend()` / `athrow()` / `aclose()` awaitables of
//! async generators. Coroutines and async generators are [`Generator`]s of another
//! [`GenKind`]; the awaitables are instances of native types whose state is a list payload.

use std::rc::Rc;

use crate::code::{flags, Code};
use crate::generator::GenStep;
use crate::natives::method;
use crate::objects::{GenKind, Generator, Instance, NativeFn};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

type Kw<'a> = &'a [Rc<PyStr>];

/// The types of coroutines, async generators and their awaitables.
#[derive(Debug)]
pub struct AsyncTypes {
    /// `coroutine`.
    pub coroutine: Rc<Type>,
    /// `async_generator`.
    pub async_generator: Rc<Type>,
    /// `async_generator_asend` (also what `__anext__()` returns).
    pub asend: Rc<Type>,
    /// `async_generator_athrow` (`athrow()` and `aclose()`).
    pub athrow: Rc<Type>,
    /// `anext_awaitable` (`anext(it, default)`).
    pub anext: Rc<Type>,
    /// A value an async generator yields (CALL_INTRINSIC_1 ASYNC_GEN_WRAP), told apart from
    /// the values its `await`s pass through.
    pub wrapped: Rc<Type>,
}

impl AsyncTypes {
    /// The types, with `object` as their base.
    pub fn new(object: &Rc<Type>) -> AsyncTypes {
        let o = Some(object);
        AsyncTypes {
            coroutine: Type::builtin("coroutine", o, None),
            async_generator: Type::builtin("async_generator", o, None),
            asend: Type::builtin("async_generator_asend", o, None),
            athrow: Type::builtin("async_generator_athrow", o, None),
            anext: Type::builtin("anext_awaitable", o, None),
            wrapped: Type::builtin("async_generator_wrapped_value", o, None),
        }
    }
}

thread_local! {
    /// The async generator finalizer hook (`sys.set_asyncgen_hooks(finalizer=...)`, set by the
    /// asyncio loop while it runs): called with an async generator dropped while suspended
    /// inside a `try`, instead of closing it synchronously. Null: none.
    static ASYNCGEN_FINALIZER: std::cell::RefCell<Value> =
        const { std::cell::RefCell::new(Value::Null) };
}

/// The async generator finalizer hook, if one is set.
pub fn asyncgen_finalizer() -> Option<Value> {
    ASYNCGEN_FINALIZER.with(|f| match &*f.borrow() {
        Value::Null | Value::None => None,
        v => Some(v.clone()),
    })
}

/// Sets the async generator finalizer hook (None clears it); returns the previous one.
pub fn set_asyncgen_finalizer(_: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let new = args.first().cloned().unwrap_or(Value::None);
    let old = ASYNCGEN_FINALIZER.with(|f| std::mem::replace(&mut *f.borrow_mut(), new));
    Ok(match old {
        Value::Null => Value::None,
        v => v,
    })
}

/// The state attributes of generators, coroutines and async generators (`gi_running`,
/// `cr_await`, ...), None when `name` does not apply to `g`'s kind.
pub fn gen_attr(g: &Generator, name: &str) -> Option<Value> {
    let prefix = match g.kind {
        GenKind::Generator => "gi_",
        GenKind::Coroutine => "cr_",
        GenKind::AsyncGenerator => "ag_",
    };
    let field = name.strip_prefix(prefix)?;
    let delegate = || {
        g.frame
            .borrow()
            .as_ref()
            .and_then(|f| crate::generator::delegate(f))
            .unwrap_or(Value::None)
    };
    Some(match (g.kind, field) {
        (_, "running") => Value::Bool(g.running.get()),
        (GenKind::Generator, "yieldfrom")
        | (GenKind::Coroutine | GenKind::AsyncGenerator, "await") => delegate(),
        (GenKind::Generator, "suspended") => {
            Value::Bool(g.started.get() && !g.running.get() && g.frame.borrow().is_some())
        }
        _ => return None,
    })
}

/// The kind of generator calling `code` creates.
pub fn gen_kind(code: &Code) -> GenKind {
    if code.flags & flags::COROUTINE != 0 {
        GenKind::Coroutine
    } else if code.flags & flags::ASYNC_GENERATOR != 0 {
        GenKind::AsyncGenerator
    } else {
        GenKind::Generator
    }
}

/// Adds the methods of the coroutine, async generator and awaitable types.
pub fn install(vm: &mut Vm) {
    let add = |t: &Rc<Type>, fns: &[(&'static str, NativeFn)]| {
        for (name, f) in fns {
            t.dict.set_str(&intern(name), method(name, *f));
        }
    };
    add(
        &vm.aio.coroutine,
        &[
            ("send", coro_send),
            ("throw", coro_throw),
            ("close", coro_close),
            ("__await__", same),
        ],
    );
    add(
        &vm.aio.async_generator,
        &[
            ("__aiter__", same),
            ("__anext__", agen_anext),
            ("asend", agen_asend),
            ("athrow", agen_athrow),
            ("aclose", agen_aclose),
        ],
    );
    for (name, f) in [("aiter", bi_aiter as NativeFn), ("anext", bi_anext)] {
        vm.builtins
            .set_str(&intern(name), crate::builtins::builtin(name, f));
    }
    for t in [
        vm.aio.asend.clone(),
        vm.aio.athrow.clone(),
        vm.aio.anext.clone(),
    ] {
        add(
            &t,
            &[
                ("send", aw_send),
                ("throw", aw_throw),
                ("close", aw_close),
                ("__await__", same),
                ("__iter__", same),
                ("__next__", aw_next),
                ("__repr__", aw_repr),
            ],
        );
    }
}

fn same(_: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    Ok(args.first().cloned().unwrap_or(Value::None))
}

fn this_gen(vm: &Vm, args: &[Value], kind: GenKind) -> PyResult<Rc<Generator>> {
    match args.first() {
        Some(Value::Generator(g)) if g.kind == kind => Ok(g.clone()),
        _ => Err(vm.type_error(format!(
            "descriptor requires a '{}' object",
            crate::generator::gen_noun(kind).replace(' ', "_")
        ))),
    }
}

/// The one argument of method `name` (after self), with CPython's `type.name()` message.
fn one_arg<'a>(vm: &Vm, name: &str, args: &'a [Value]) -> PyResult<&'a Value> {
    match args {
        [_, v] => Ok(v),
        _ => Err(vm.type_error(format!(
            "{}.{name}() takes exactly one argument ({} given)",
            args.first().map_or("object".into(), |v| vm.type_name(v)),
            args.len().saturating_sub(1)
        ))),
    }
}

fn coro_send(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let v = one_arg(vm, "send", args)?.clone();
    let g = this_gen(vm, args, GenKind::Coroutine)?;
    vm.gen_send(&g, v)
}

/// The exception `throw(typ[, val[, tb]])` raises.
fn thrown(vm: &mut Vm, name: &str, args: &[Value]) -> PyResult<PyErr> {
    if args.len() < 2 || args.len() > 4 {
        return Err(vm.type_error(format!(
            "{name} expected at least 1 argument, got {}",
            args.len().saturating_sub(1)
        )));
    }
    match (&args[1], args.get(2)) {
        (Value::Type(t), Some(v)) if t.is_exception && !matches!(v, Value::None) => {
            if let Value::Instance(i) = v {
                if i.exc.is_some() && i.class.is_subtype(t) {
                    return Ok(PyErr(i.clone()));
                }
            }
            match vm.call(&args[1], std::slice::from_ref(v), &[])? {
                Value::Instance(i) if i.exc.is_some() => Ok(PyErr(i)),
                _ => Err(vm.type_error("exceptions must derive from BaseException")),
            }
        }
        (v, _) => {
            let is_exc = match v {
                Value::Type(t) => t.is_exception,
                Value::Instance(i) => i.exc.is_some(),
                _ => false,
            };
            if !is_exc {
                return Err(vm.type_error(format!(
                    "exceptions must be classes or instances deriving from BaseException, not {}",
                    vm.type_name(v)
                )));
            }
            vm.make_exception(v.clone())
        }
    }
}

fn coro_throw(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let g = this_gen(vm, args, GenKind::Coroutine)?;
    let e = thrown(vm, "throw", args)?;
    vm.gen_throw(&g, e)
}

fn coro_close(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let g = this_gen(vm, args, GenKind::Coroutine)?;
    vm.gen_close(&g)?;
    Ok(Value::None)
}

/// What an async generator awaitable does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Asend = 0,
    Athrow = 1,
    Aclose = 2,
    /// `anext(it, default)`: the awaitable of `it.__anext__()`, with StopAsyncIteration
    /// turned into the default.
    AnextDefault = 3,
}

const INIT: i64 = 0;
const ITER: i64 = 1;
const CLOSED: i64 = 2;

/// A new awaitable over `gen`: payload `[gen, value or exception, mode, state]`.
fn awaitable(vm: &Vm, gen: &Rc<Generator>, value: Value, mode: Mode) -> Value {
    new_awaitable(
        vm,
        Value::Generator(gen.clone()),
        value,
        mode,
        Value::Int(INIT),
    )
}

fn new_awaitable(vm: &Vm, target: Value, value: Value, mode: Mode, state: Value) -> Value {
    let class = match mode {
        Mode::Asend => vm.aio.asend.clone(),
        Mode::Athrow | Mode::Aclose => vm.aio.athrow.clone(),
        Mode::AnextDefault => vm.aio.anext.clone(),
    };
    Instance::plain(
        &class,
        &[],
        Value::list(vec![target, value, Value::Int(mode as i64), state]),
    )
}

fn agen_anext(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let g = this_gen(vm, args, GenKind::AsyncGenerator)?;
    Ok(awaitable(vm, &g, Value::None, Mode::Asend))
}

fn agen_asend(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let v = one_arg(vm, "asend", args)?.clone();
    let g = this_gen(vm, args, GenKind::AsyncGenerator)?;
    Ok(awaitable(vm, &g, v, Mode::Asend))
}

fn agen_athrow(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let g = this_gen(vm, args, GenKind::AsyncGenerator)?;
    let e = thrown(vm, "athrow", args)?;
    Ok(awaitable(vm, &g, Value::Instance(e.0), Mode::Athrow))
}

fn agen_aclose(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let g = this_gen(vm, args, GenKind::AsyncGenerator)?;
    Ok(awaitable(vm, &g, Value::None, Mode::Aclose))
}

/// The awaitable instance `v` is, if it is one of the native async generator awaitables.
pub fn native_awaitable(vm: &Vm, v: &Value) -> Option<Rc<Instance>> {
    match v {
        Value::Instance(i)
            if Rc::ptr_eq(&i.class, &vm.aio.asend)
                || Rc::ptr_eq(&i.class, &vm.aio.athrow)
                || Rc::ptr_eq(&i.class, &vm.aio.anext) =>
        {
            Some(i.clone())
        }
        _ => None,
    }
}

fn this_awaitable(vm: &Vm, args: &[Value]) -> PyResult<Rc<Instance>> {
    args.first()
        .and_then(|v| native_awaitable(vm, v))
        .ok_or_else(|| vm.type_error("descriptor requires an async generator awaitable"))
}

fn finish(vm: &Vm, step: GenStep) -> PyResult<Value> {
    match step {
        GenStep::Yield(v) => Ok(v),
        GenStep::Return(v) => Err(vm.stop_iteration(v)),
    }
}

fn aw_send(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let v = one_arg(vm, "send", args)?.clone();
    let aw = this_awaitable(vm, args)?;
    let step = awaitable_step(vm, &aw, v, None)?;
    finish(vm, step)
}

fn aw_next(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let aw = this_awaitable(vm, args)?;
    let step = awaitable_step(vm, &aw, Value::None, None)?;
    finish(vm, step)
}

fn aw_throw(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let aw = this_awaitable(vm, args)?;
    let e = thrown(vm, "throw", args)?;
    let step = awaitable_step(vm, &aw, Value::None, Some(e))?;
    finish(vm, step)
}

fn aw_repr(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let v = args.first().cloned().unwrap_or(Value::None);
    Ok(Value::string(format!(
        "<{} object at {:#x}>",
        vm.type_name(&v),
        v.id()
    )))
}

fn aw_close(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    let aw = this_awaitable(vm, args)?;
    if let Value::List(l) = &aw.payload {
        if let Some(s) = l.items.borrow_mut().get_mut(3) {
            *s = Value::Int(CLOSED);
        }
    }
    Ok(Value::None)
}

/// Whether `v` is a value an async generator yielded (not one its `await` passed through).
fn unwrap_yielded(vm: &Vm, v: &Value) -> Option<Value> {
    match v {
        Value::Instance(i) if Rc::ptr_eq(&i.class, &vm.aio.wrapped) => Some(i.payload.clone()),
        _ => None,
    }
}

/// CALL_INTRINSIC_1 ASYNC_GEN_WRAP: marks a value an async generator yields.
pub fn wrap(vm: &Vm, v: Value) -> Value {
    Instance::plain(&vm.aio.wrapped, &[], v)
}

/// Throws `exc` into the awaitable iterator `it`.
fn throw_to(vm: &mut Vm, it: &Value, exc: PyErr) -> PyResult<GenStep> {
    if let Value::Generator(g) = it {
        return vm.gen_resume(g, Value::None, Some(exc));
    }
    if let Some(aw) = native_awaitable(vm, it) {
        return awaitable_step(vm, &aw, Value::None, Some(exc));
    }
    let throw = vm.n.throw.clone();
    let m = vm.get_attr(it, &throw).map_err(|_| exc.clone())?;
    match vm.call(&m, &[Value::Instance(exc.0)], &[]) {
        Ok(x) => Ok(GenStep::Yield(x)),
        Err(e) if vm.err_is(&e, "StopIteration") => Ok(GenStep::Return(stop_value(&e))),
        Err(e) => Err(e),
    }
}

/// One `send(value)` (or `throw`) of an async generator awaitable.
pub fn awaitable_step(
    vm: &mut Vm,
    aw: &Rc<Instance>,
    value: Value,
    throw: Option<PyErr>,
) -> PyResult<GenStep> {
    let Value::List(state) = &aw.payload else {
        return Err(vm.err("SystemError", "bad async generator awaitable"));
    };
    let (target, stored, mode, st) = {
        let s = state.items.borrow();
        let (Some(target), Some(stored), Some(Value::Int(mode)), Some(st)) =
            (s.first(), s.get(1), s.get(2), s.get(3))
        else {
            return Err(vm.err("SystemError", "bad async generator awaitable"));
        };
        let mode = match mode {
            0 => Mode::Asend,
            1 => Mode::Athrow,
            2 => Mode::Aclose,
            _ => Mode::AnextDefault,
        };
        (target.clone(), stored.clone(), mode, st.clone())
    };
    if mode == Mode::AnextDefault {
        // `stored` is the awaitable of `__anext__()`, the state slot the default value: this
        // awaitable has no state of its own.
        let it = awaitable_iter_checked(vm, &stored, false)?;
        let r = match throw {
            None => send_to(vm, &it, value),
            Some(e) => throw_to(vm, &it, e),
        };
        return match r {
            Err(e) if vm.err_is(&e, "StopAsyncIteration") => Ok(GenStep::Return(st)),
            other => other,
        };
    }
    let (Value::Generator(gen), Value::Int(st)) = (target, st) else {
        return Err(vm.err("SystemError", "bad async generator awaitable"));
    };
    let set_state = |v: i64| {
        if let Some(s) = state.items.borrow_mut().get_mut(3) {
            *s = Value::Int(v);
        }
    };
    if st == CLOSED {
        return Err(vm.err(
            "RuntimeError",
            if mode == Mode::Asend {
                "cannot reuse already awaited __anext__()/asend()"
            } else {
                "cannot reuse already awaited aclose()/athrow()"
            },
        ));
    }
    let r = if st == INIT {
        set_state(ITER);
        match mode {
            Mode::Asend => {
                let v = if matches!(value, Value::None) {
                    stored
                } else {
                    value
                };
                vm.gen_resume(&gen, v, throw)
            }
            _ => {
                if throw.is_none() && !matches!(value, Value::None) {
                    return Err(vm.err(
                        "RuntimeError",
                        "can't send non-None value to a just-started coroutine",
                    ));
                }
                if gen.frame.borrow().is_none() {
                    set_state(CLOSED);
                    return if mode == Mode::Aclose {
                        Ok(GenStep::Return(Value::None))
                    } else {
                        Err(stop_async(vm))
                    };
                }
                let exc = match (mode, &stored) {
                    (Mode::Athrow, Value::Instance(i)) => PyErr(i.clone()),
                    _ => PyErr(vm.new_exception(vm.exc_type("GeneratorExit"), vec![])),
                };
                if !gen.started.get() {
                    // Throwing into a generator that has not started finishes it.
                    gen.frame.borrow_mut().take();
                    gen.started.set(true);
                    set_state(CLOSED);
                    return if mode == Mode::Aclose {
                        Ok(GenStep::Return(Value::None))
                    } else {
                        Err(exc)
                    };
                }
                vm.gen_resume(&gen, Value::None, Some(exc))
            }
        }
    } else {
        vm.gen_resume(&gen, value, throw)
    };
    match r {
        Ok(GenStep::Yield(v)) => match unwrap_yielded(vm, &v) {
            Some(inner) => {
                set_state(CLOSED);
                if mode == Mode::Aclose {
                    Err(vm.err("RuntimeError", "async generator ignored GeneratorExit"))
                } else {
                    Ok(GenStep::Return(inner))
                }
            }
            None => Ok(GenStep::Yield(v)),
        },
        Ok(GenStep::Return(_)) => {
            set_state(CLOSED);
            if mode == Mode::Aclose {
                Ok(GenStep::Return(Value::None))
            } else {
                Err(stop_async(vm))
            }
        }
        Err(e) => {
            set_state(CLOSED);
            if mode == Mode::Aclose
                && (vm.err_is(&e, "StopAsyncIteration") || vm.err_is(&e, "GeneratorExit"))
            {
                Ok(GenStep::Return(Value::None))
            } else {
                Err(e)
            }
        }
    }
}

fn stop_async(vm: &Vm) -> PyErr {
    PyErr(vm.new_exception(vm.exc_type("StopAsyncIteration"), vec![]))
}

/// SEND: sends `v` into the iterator `recv` a `yield from` or `await` delegates to.
pub fn send_to(vm: &mut Vm, recv: &Value, v: Value) -> PyResult<GenStep> {
    if let Value::Generator(g) = recv {
        return vm.gen_resume(g, v, None);
    }
    if let Some(aw) = native_awaitable(vm, recv) {
        return awaitable_step(vm, &aw, v, None);
    }
    let r = if matches!(v, Value::None) {
        if let Value::Iter(_) = recv {
            return Ok(match vm.next(recv)? {
                Some(x) => GenStep::Yield(x),
                None => GenStep::Return(Value::None),
            });
        }
        let next = vm.n.next.clone();
        match vm.type_of(recv).lookup(&next) {
            Some(_) => call_method(vm, recv, &next),
            None => {
                return Err(vm.type_error(format!(
                    "'{}' object is not an iterator",
                    vm.type_name(recv)
                )))
            }
        }
    } else {
        let send = vm.n.send.clone();
        let m = vm.get_attr(recv, &send)?;
        vm.call(&m, &[v], &[])
    };
    match r {
        Ok(x) => Ok(GenStep::Yield(x)),
        Err(e) if vm.err_is(&e, "StopIteration") => Ok(GenStep::Return(stop_value(&e))),
        Err(e) => Err(e),
    }
}

/// The value a StopIteration carries.
fn stop_value(e: &PyErr) -> Value {
    match e.0.exc.as_ref().map(|d| d.borrow().args.clone()) {
        Some(Value::Tuple(t)) if !t.is_empty() => t[0].clone(),
        _ => Value::None,
    }
}

/// Calls special method `name` (found on the type of `v`) without arguments.
fn call_method(vm: &mut Vm, v: &Value, name: &Rc<PyStr>) -> PyResult<Value> {
    match vm.type_of(v).lookup(name) {
        Some(f @ (Value::Builtin(_) | Value::Function(_))) => {
            vm.call(&f, std::slice::from_ref(v), &[])
        }
        _ => {
            let m = vm.get_attr(v, name)?;
            vm.call(&m, &[], &[])
        }
    }
}

/// Whether `v` can be the iterator an `__await__` returns.
fn is_iterator(vm: &Vm, v: &Value) -> bool {
    match v {
        Value::Iter(_) => true,
        Value::Generator(g) => g.kind == GenKind::Generator,
        _ => vm.type_of(v).lookup(&vm.n.next).is_some(),
    }
}

/// GET_AWAITABLE: the iterator `await v` drives; `context` is 1 after `__aenter__`, 2 after
/// `__aexit__` (for the error message), 0 otherwise.
pub fn get_awaitable(vm: &mut Vm, v: &Value, context: usize) -> PyResult<Value> {
    match awaitable_iter(vm, v) {
        Ok(it) => Ok(it),
        Err(e) if context > 0 && vm.err_is(&e, "TypeError") => Err(vm.type_error(format!(
            "'async with' received an object from __a{}__ that does not implement __await__: {}",
            if context == 1 { "enter" } else { "exit" },
            vm.type_name(v)
        ))),
        Err(e) => Err(e),
    }
}

/// CPython's `_PyCoro_GetAwaitableIter`, plus (when `await` asks) the "being awaited
/// already" check.
fn awaitable_iter(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    awaitable_iter_checked(vm, v, true)
}

fn awaitable_iter_checked(vm: &mut Vm, v: &Value, check_busy: bool) -> PyResult<Value> {
    if let Value::Generator(g) = v {
        if g.kind == GenKind::Coroutine {
            let busy = check_busy
                && g.frame
                    .borrow()
                    .as_ref()
                    .is_some_and(|f| crate::generator::delegate(f).is_some());
            if busy {
                return Err(vm.err("RuntimeError", "coroutine is being awaited already"));
            }
            return Ok(v.clone());
        }
    }
    let name = intern("__await__");
    if vm.type_of(v).lookup(&name).is_none() || matches!(v, Value::Generator(_)) {
        return Err(vm.type_error(format!(
            "object {} can't be used in 'await' expression",
            vm.type_name(v)
        )));
    }
    let r = call_method(vm, v, &name)?;
    if matches!(&r, Value::Generator(g) if g.kind == GenKind::Coroutine) {
        return Err(vm.type_error("__await__() returned a coroutine"));
    }
    if !is_iterator(vm, &r) {
        return Err(vm.type_error(format!(
            "__await__() returned non-iterator of type '{}'",
            vm.type_name(&r)
        )));
    }
    Ok(r)
}

/// GET_AITER: `type(v).__aiter__(v)`.
pub fn get_aiter(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    let name = intern("__aiter__");
    if vm.type_of(v).lookup(&name).is_none() {
        return Err(vm.type_error(format!(
            "'async for' requires an object with __aiter__ method, got {}",
            vm.type_name(v)
        )));
    }
    let it = call_method(vm, v, &name)?;
    if vm.type_of(&it).lookup(&intern("__anext__")).is_none() {
        return Err(vm.type_error(format!(
            "'async for' received an object from __aiter__ that does not implement __anext__: {}",
            vm.type_name(&it)
        )));
    }
    Ok(it)
}

/// GET_ANEXT: the awaitable of `type(it).__anext__(it)`.
pub fn get_anext(vm: &mut Vm, it: &Value) -> PyResult<Value> {
    if let Value::Generator(g) = it {
        if g.kind == GenKind::AsyncGenerator {
            return Ok(awaitable(vm, g, Value::None, Mode::Asend));
        }
    }
    let name = intern("__anext__");
    if vm.type_of(it).lookup(&name).is_none() {
        return Err(vm.type_error(format!(
            "'async for' requires an iterator with __anext__ method, got {}",
            vm.type_name(it)
        )));
    }
    let r = call_method(vm, it, &name)?;
    awaitable_iter(vm, &r).map_err(|e| {
        if vm.err_is(&e, "TypeError") {
            vm.type_error(format!(
                "'async for' received an invalid object from __anext__: {}",
                vm.type_name(&r)
            ))
        } else {
            e
        }
    })
}

/// `aiter(obj)`.
fn bi_aiter(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    if args.len() != 1 {
        return Err(vm.type_error(format!(
            "aiter() takes exactly one argument ({} given)",
            args.len()
        )));
    }
    let v = &args[0];
    let name = intern("__aiter__");
    if vm.type_of(v).lookup(&name).is_none() {
        return Err(vm.type_error(format!(
            "'{}' object is not an async iterable",
            vm.type_name(v)
        )));
    }
    let it = call_method(vm, v, &name)?;
    if vm.type_of(&it).lookup(&intern("__anext__")).is_none() {
        return Err(vm.type_error(format!(
            "aiter() returned not an async iterator of type '{}'",
            vm.type_name(&it)
        )));
    }
    Ok(it)
}

/// `anext(it[, default])`.
fn bi_anext(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    crate::builtins::nargs(vm, "anext", args, 1, 2)?;
    let it = &args[0];
    let name = intern("__anext__");
    if vm.type_of(it).lookup(&name).is_none() {
        return Err(vm.type_error(format!(
            "'{}' object is not an async iterator",
            vm.type_name(it)
        )));
    }
    let awaitable = match it {
        Value::Generator(g) if g.kind == GenKind::AsyncGenerator => {
            self::awaitable(vm, g, Value::None, Mode::Asend)
        }
        _ => call_method(vm, it, &name)?,
    };
    match args.get(1) {
        None => Ok(awaitable),
        Some(default) => Ok(new_awaitable(
            vm,
            Value::None,
            awaitable,
            Mode::AnextDefault,
            default.clone(),
        )),
    }
}

/// BEFORE_ASYNC_WITH: (bound `__aexit__`, result of `__aenter__()`).
pub fn before_async_with(vm: &mut Vm, mgr: &Value) -> PyResult<(Value, Value)> {
    let t = vm.type_of(mgr);
    let (enter, exit) = (intern("__aenter__"), intern("__aexit__"));
    if t.lookup(&enter).is_none() {
        return Err(vm.type_error(format!(
            "'{}' object does not support the asynchronous context manager protocol",
            t.name.as_str()
        )));
    }
    if t.lookup(&exit).is_none() {
        return Err(vm.type_error(format!(
            "'{}' object does not support the asynchronous context manager protocol (missed __aexit__ method)",
            t.name.as_str()
        )));
    }
    let exit = vm.get_attr(mgr, &exit)?;
    let res = call_method(vm, mgr, &enter)?;
    Ok((exit, res))
}
