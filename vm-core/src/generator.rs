//! Generators: resuming a suspended frame with a sent value or a thrown exception.

use std::rc::Rc;

use crate::eval::Exit;
use crate::objects::Generator;
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
    /// Resumes `gen` by sending `value`, or by raising `throw` at its suspension point.
    pub fn gen_resume(
        &mut self,
        gen: &Rc<Generator>,
        value: Value,
        throw: Option<PyErr>,
    ) -> PyResult<GenStep> {
        if gen.running.get() {
            return Err(self.value_error("generator already executing"));
        }
        let Some(mut frame) = gen.frame.borrow_mut().take() else {
            return match throw {
                Some(e) => Err(e),
                None => Ok(GenStep::Return(Value::None)),
            };
        };
        if !gen.started.get() && throw.is_none() && !matches!(value, Value::None) {
            *gen.frame.borrow_mut() = Some(frame);
            return Err(self.type_error("can't send non-None value to a just-started generator"));
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
        while let Some((frame, name, qualname)) =
            crate::objects::PENDING_CLOSE.with(|p| p.borrow_mut().pop())
        {
            let gen = Rc::new(Generator {
                frame: std::cell::RefCell::new(Some(frame)),
                running: std::cell::Cell::new(false),
                started: std::cell::Cell::new(true),
                name,
                qualname,
                exc_state: std::cell::RefCell::new(Value::Null),
            });
            let _ = self.gen_close(&gen);
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
            Ok(GenStep::Yield(_)) => {
                Err(self.err("RuntimeError", "generator ignored GeneratorExit"))
            }
            Ok(GenStep::Return(_)) => Ok(()),
            Err(e) if self.err_is(&e, "GeneratorExit") || self.err_is(&e, "StopIteration") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
