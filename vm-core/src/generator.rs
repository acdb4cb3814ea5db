//! Generators: resuming a suspended frame with a sent value or a thrown exception.

use std::rc::Rc;

use crate::code::Op;
use crate::eval::Exit;
use crate::frame::Frame;
use crate::objects::{GenKind, Generator};
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

/// What one resumption of a generator produced.
pub enum GenStep {
    /// It yielded a value and is suspended again.
    Yield(Value),
    /// It returned (it is now finished).
    Return(Value),
}

impl Vm {
    /// Resumes `gen` by sending `value`, or by raising `throw` at its suspension point (into
    /// the iterator it delegates to first, when suspended in `yield from` or `await`).
    pub fn gen_resume(
        &mut self,
        gen: &Rc<Generator>,
        value: Value,
        throw: Option<PyErr>,
    ) -> PyResult<GenStep> {
        if gen.running.get() {
            return Err(self.value_error(format!("{} already executing", gen_noun(gen.kind))));
        }
        let Some(mut frame) = gen.frame.borrow_mut().take() else {
            return match throw {
                Some(e) => Err(e),
                None if gen.kind == GenKind::Coroutine => {
                    Err(self.err("RuntimeError", "cannot reuse already awaited coroutine"))
                }
                None => Ok(GenStep::Return(Value::None)),
            };
        };
        if !gen.started.get() && throw.is_none() && !matches!(value, Value::None) {
            *gen.frame.borrow_mut() = Some(frame);
            return Err(self.type_error(format!(
                "can't send non-None value to a just-started {}",
                gen_noun(gen.kind)
            )));
        }
        let mut throw = throw;
        if let Some(exc) = throw.take() {
            match delegate(&frame) {
                Some(yf) => {
                    gen.running.set(true);
                    let r = self.throw_into_delegate(&yf, exc);
                    gen.running.set(false);
                    match r {
                        Ok(v) => {
                            *gen.frame.borrow_mut() = Some(frame);
                            return Ok(GenStep::Yield(v));
                        }
                        Err(e) => throw = Some(e),
                    }
                }
                None => throw = Some(exc),
            }
        }
        gen.started.set(true);
        if throw.is_none() {
            frame.push(value);
        }
        gen.running.set(true);
        let caller_exc = self.exc_info.clone();
        let own = std::mem::take(&mut *gen.exc_state.borrow_mut());
        if !matches!(own, Value::Null) {
            self.exc_info = own;
        }
        let r = self.eval(&mut frame, throw);
        let after = std::mem::replace(&mut self.exc_info, caller_exc.clone());
        if matches!(r, Ok(Exit::Yield(_))) && !after.is(&caller_exc) {
            *gen.exc_state.borrow_mut() = after;
        }
        gen.running.set(false);
        match r {
            Ok(Exit::Yield(v)) => {
                *gen.frame.borrow_mut() = Some(frame);
                Ok(GenStep::Yield(v))
            }
            Ok(Exit::Return(v)) => Ok(GenStep::Return(v)),
            Ok(Exit::NewGenerator) => {
                Err(self.err("SystemError", "RETURN_GENERATOR inside a running generator"))
            }
            Err(e) => Err(e),
        }
    }

    /// Throws `exc` into `yf`, the iterator a suspended generator delegates to: the value it
    /// yielded; the error to raise in the delegating frame otherwise (GeneratorExit
    /// closes the delegate and is then raised in the frame).
    fn throw_into_delegate(&mut self, yf: &Value, exc: PyErr) -> PyResult<Value> {
        if self.err_is(&exc, "GeneratorExit") {
            self.close_iter(yf)?;
            return Err(exc);
        }
        match yf {
            Value::Generator(g) => {
                let g = g.clone();
                match self.gen_resume(&g, Value::None, Some(exc))? {
                    GenStep::Yield(v) => Ok(v),
                    GenStep::Return(v) => Err(self.stop_iteration(v)),
                }
            }
            _ => match crate::coroutine::native_awaitable(self, yf) {
                Some(aw) => {
                    match crate::coroutine::awaitable_step(self, &aw, Value::None, Some(exc))? {
                        GenStep::Yield(v) => Ok(v),
                        GenStep::Return(v) => Err(self.stop_iteration(v)),
                    }
                }
                None => {
                    let throw = self.n.throw.clone();
                    let Ok(meth) = self.get_attr(yf, &throw) else {
                        return Err(exc);
                    };
                    self.call(&meth, &[Value::Instance(exc.0)], &[])
                }
            },
        }
    }

    /// Closes an iterator a generator delegates to (`close()` if it has one).
    fn close_iter(&mut self, yf: &Value) -> PyResult<()> {
        match yf {
            Value::Generator(g) => {
                let g = g.clone();
                self.gen_close(&g)
            }
            _ => {
                let close = self.n.close.clone();
                if let Ok(meth) = self.get_attr(yf, &close) {
                    self.call(&meth, &[], &[])?;
                }
                Ok(())
            }
        }
    }

    /// `gen.send(value)`: the next yielded value, or StopIteration.
    pub fn gen_send(&mut self, gen: &Rc<Generator>, value: Value) -> PyResult<Value> {
        match self.gen_resume(gen, value, None)? {
            GenStep::Yield(v) => Ok(v),
            GenStep::Return(v) => Err(self.stop_iteration(v)),
        }
    }

    /// `gen.throw(exc)`.
    pub fn gen_throw(&mut self, gen: &Rc<Generator>, exc: PyErr) -> PyResult<Value> {
        match self.gen_resume(gen, Value::None, Some(exc))? {
            GenStep::Yield(v) => Ok(v),
            GenStep::Return(v) => Err(self.stop_iteration(v)),
        }
    }

    /// Closes the generators dropped while suspended in a `try` (see
    /// [`crate::objects::PENDING_CLOSE`]); errors are ignored, as CPython only reports them.
    #[inline]
    pub fn close_dropped_generators(&mut self) {
        if crate::objects::ANY_PENDING_CLOSE.get() {
            self.close_dropped_slow();
        }
    }

    #[cold]
    fn close_dropped_slow(&mut self) {
        crate::objects::ANY_PENDING_CLOSE.set(false);
        while let Some((frame, name, qualname, kind)) =
            crate::objects::PENDING_CLOSE.with(|p| p.borrow_mut().pop())
        {
            let gen = Rc::new(Generator {
                frame: std::cell::RefCell::new(Some(frame)),
                running: std::cell::Cell::new(false),
                started: std::cell::Cell::new(true),
                name,
                qualname,
                kind,
                exc_state: std::cell::RefCell::new(Value::Null),
            });
            if kind == GenKind::AsyncGenerator {
                if let Some(finalizer) = crate::coroutine::asyncgen_finalizer() {
                    // The event loop closes it (asyncio schedules `aclose()` as a task).
                    let _ = self.call(&finalizer, &[Value::Generator(gen)], &[]);
                    continue;
                }
            }
            let _ = self.gen_close(&gen);
            // One close only: a generator that ignored it is not queued again.
            gen.frame.borrow_mut().take();
        }
        self.run_finalizers();
    }

    /// `gen.close()`.
    pub fn gen_close(&mut self, gen: &Rc<Generator>) -> PyResult<()> {
        if gen.frame.borrow().is_none() || !gen.started.get() {
            gen.frame.borrow_mut().take();
            return Ok(());
        }
        let exit = PyErr(self.new_exception(self.exc_type("GeneratorExit"), vec![]));
        match self.gen_resume(gen, Value::None, Some(exit)) {
            Ok(GenStep::Yield(_)) => Err(self.err(
                "RuntimeError",
                format!("{} ignored GeneratorExit", gen_noun(gen.kind)),
            )),
            Ok(GenStep::Return(_)) => Ok(()),
            Err(e) if self.err_is(&e, "GeneratorExit") || self.err_is(&e, "StopIteration") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// "generator", "coroutine" or "async generator", for messages.
pub fn gen_noun(kind: GenKind) -> &'static str {
    match kind {
        GenKind::Generator => "generator",
        GenKind::Coroutine => "coroutine",
        GenKind::AsyncGenerator => "async generator",
    }
}

/// The iterator a suspended frame delegates to in `yield from` / `await` (CPython's
/// `_PyGen_yf`): the top of its stack when the next instruction is a RESUME after a delegation.
pub fn delegate(frame: &Frame) -> Option<Value> {
    let next = frame.code.instrs.get(frame.pc)?;
    if next.op == Op::Resume && next.arg >= 2 && frame.slots.len() > frame.base {
        Some(frame.peek(1).clone())
    } else {
        None
    }
}
