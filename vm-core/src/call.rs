//! Calling: Python functions (argument binding into the frame's fast slots, then the eval
//! loop), built-ins, bound methods, classes (`__new__`/`__init__`) and callable instances.

use std::rc::Rc;

use crate::code::flags;
use crate::dict::DictMap;
use crate::frame::Frame;
use crate::objects::{Function, Generator, Instance};
use crate::pystr::{str_eq, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

impl Vm {
    /// Calls `f` with positional `args` followed by the values of the keywords `kwnames`.
    pub fn call(&mut self, f: &Value, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
        match f {
            Value::Function(func) => self.call_function(func, args, kwnames),
            Value::Builtin(b) => match &b.bound {
                None => (b.func)(self, args, kwnames),
                Some(recv) => {
                    let mut full = Vec::with_capacity(args.len() + 1);
                    full.push(recv.clone());
                    full.extend_from_slice(args);
                    (b.func)(self, &full, kwnames)
                }
            },
            Value::BoundMethod(m) => {
                if let Value::Function(f) = &m.func {
                    if kwnames.is_empty() && f.code.simple_args(args.len() + 1) {
                        return self.call_method_simple(f, &m.receiver, args);
                    }
                }
                let mut full = Vec::with_capacity(args.len() + 1);
                full.push(m.receiver.clone());
                full.extend_from_slice(args);
                let func = m.func.clone();
                self.call(&func, &full, kwnames)
            }
            Value::Type(t) => self.call_type(t, args, kwnames),
            Value::Instance(inst) => {
                let n = self.n.call.clone();
                match inst.class.lookup(&n) {
                    Some(c) => {
                        let bound = self.bind_descriptor(c, f, None)?;
                        self.call(&bound, args, kwnames)
                    }
                    None => Err(self.not_callable(f)),
                }
            }
            _ => Err(self.not_callable(f)),
        }
    }

    fn not_callable(&self, f: &Value) -> PyErr {
        self.type_error(format!("'{}' object is not callable", self.type_name(f)))
    }

    /// Calls a plain Python function (see [`crate::code::Code::simple_args`]) with `first`
    /// followed by `args`, without collecting them into a vector first.
    pub fn call_method_simple(
        &mut self,
        func: &Rc<Function>,
        first: &Value,
        args: &[Value],
    ) -> PyResult<Value> {
        let pooled = self.slot_pool.pop().unwrap_or_default();
        let mut frame = Frame::new(
            func.code.clone(),
            func.globals.clone(),
            func.builtins.clone(),
            None,
            pooled,
        );
        if !func.closure.is_empty() {
            frame.closure = func.closure.clone();
        }
        frame.slots[0] = first.clone();
        frame.slots[1..=args.len()].clone_from_slice(args);
        let result = self.run_frame(&mut frame);
        self.recycle(frame);
        result
    }

    /// Calls a Python function.
    pub fn call_function(
        &mut self,
        func: &Rc<Function>,
        args: &[Value],
        kwnames: &[Rc<PyStr>],
    ) -> PyResult<Value> {
        let code = &func.code;
        let pooled = self.slot_pool.pop().unwrap_or_default();
        let mut frame = Frame::new(
            code.clone(),
            func.globals.clone(),
            func.builtins.clone(),
            None,
            pooled,
        );
        if !func.closure.is_empty() {
            frame.closure = func.closure.clone();
        }
        if kwnames.is_empty() && code.simple_args(args.len()) {
            frame.slots[..args.len()].clone_from_slice(args);
        } else {
            self.bind_args(func, &mut frame.slots, args, kwnames)?;
        }
        if code.is_generator() {
            return self.make_generator(frame);
        }
        let result = self.run_frame(&mut frame);
        self.recycle(frame);
        result
    }

    /// Returns a finished frame's slot vector to the pool (its values are dropped now).
    fn recycle(&mut self, mut frame: Frame) {
        let mut slots = std::mem::take(&mut frame.slots);
        drop(frame);
        if self.slot_pool.len() < 64 && slots.capacity() <= 256 {
            slots.clear();
            self.slot_pool.push(slots);
        }
    }

    fn make_generator(&mut self, mut frame: Frame) -> PyResult<Value> {
        // Run the prologue (cells, free variables) up to RETURN_GENERATOR.
        match self.eval(&mut frame, None)? {
            crate::eval::Exit::NewGenerator => {}
            _ => return Err(self.err("SystemError", "generator code without RETURN_GENERATOR")),
        }
        let code = frame.code.clone();
        Ok(Value::Generator(Rc::new(Generator {
            frame: std::cell::RefCell::new(Some(Box::new(frame))),
            running: std::cell::Cell::new(false),
            started: std::cell::Cell::new(false),
            name: code.name.clone(),
            qualname: code.qualname.clone(),
            kind: crate::coroutine::gen_kind(&code),
            exc_state: std::cell::RefCell::new(Value::Null),
        })))
    }

    /// Runs a frame to its return value, counting it against the recursion limit.
    pub fn run_frame(&mut self, frame: &mut Frame) -> PyResult<Value> {
        match self.eval(frame, None)? {
            crate::eval::Exit::Return(v) => Ok(v),
            _ => Err(self.err("SystemError", "unexpected yield in a non-generator frame")),
        }
    }

    /// Binds arguments to parameters as CPython does, with its error messages.
    #[allow(clippy::needless_range_loop)]
    fn bind_args(
        &mut self,
        func: &Rc<Function>,
        slots: &mut [Value],
        args: &[Value],
        kwnames: &[Rc<PyStr>],
    ) -> PyResult<()> {
        let code = func.code.clone();
        let qual = func.qualname.borrow().clone();
        let n = code.argcount;
        let kwonly = code.kwonlyargcount;
        let npos = args.len() - kwnames.len();
        let (posargs, kwvals) = args.split_at(npos);
        let has_varargs = code.flags & flags::VARARGS != 0;
        let has_varkw = code.flags & flags::VARKEYWORDS != 0;
        for (slot, a) in slots.iter_mut().zip(posargs.iter().take(n)) {
            *slot = a.clone();
        }
        let mut next = n + kwonly;
        if has_varargs {
            slots[next] = Value::tuple(posargs.get(n..).unwrap_or_default().to_vec());
            next += 1;
        } else if npos > n {
            let ndef = func.defaults.len();
            let given_kw = kwnames.len();
            let takes = if ndef > 0 {
                format!("from {} to {} positional arguments", n - ndef, n)
            } else {
                format!("{} positional argument{}", n, if n == 1 { "" } else { "s" })
            };
            let kw_note = if given_kw > 0 {
                format!(
                    " positional argument{} (and {} keyword-only argument{})",
                    if npos == 1 { "" } else { "s" },
                    given_kw,
                    if given_kw == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            };
            let were = if kw_note.is_empty() {
                format!("{npos} {}", if npos == 1 { "was" } else { "were" })
            } else {
                format!("{npos}{kw_note} were")
            };
            return Err(self.type_error(format!(
                "{}() takes {takes} but {were} given",
                qual.as_str()
            )));
        }
        let kwdict = if has_varkw {
            let d = crate::ops::new_dict();
            slots[next] = Value::Dict(d.clone());
            Some(d)
        } else {
            None
        };
        for (name, val) in kwnames.iter().zip(kwvals) {
            let pos = code.localsplusnames[code.posonlyargcount..n + kwonly]
                .iter()
                .position(|p| str_eq(p, name))
                .map(|i| i + code.posonlyargcount);
            match pos {
                Some(i) => {
                    if !matches!(slots[i], Value::Null) {
                        return Err(self.type_error(format!(
                            "{}() got multiple values for argument '{}'",
                            qual.as_str(),
                            name.as_str()
                        )));
                    }
                    slots[i] = val.clone();
                }
                None => match &kwdict {
                    Some(d) => d.set_str(name, val.clone()),
                    None => {
                        return Err(self.type_error(format!(
                            "{}() got an unexpected keyword argument '{}'",
                            qual.as_str(),
                            name.as_str()
                        )))
                    }
                },
            }
        }
        let ndef = func.defaults.len();
        let mut missing = Vec::new();
        for i in npos.min(n)..n {
            if matches!(slots[i], Value::Null) {
                if i + ndef >= n {
                    slots[i] = func.defaults[i + ndef - n].clone();
                } else {
                    missing.push(code.localsplusnames[i].clone());
                }
            }
        }
        if !missing.is_empty() {
            return Err(self.missing_args(&qual, &missing, "positional"));
        }
        for i in n..n + kwonly {
            if matches!(slots[i], Value::Null) {
                let name = code.localsplusnames[i].clone();
                match func.kwdefaults.as_ref().and_then(|d| d.get_str(&name)) {
                    Some(v) => slots[i] = v,
                    None => missing.push(name),
                }
            }
        }
        if !missing.is_empty() {
            return Err(self.missing_args(&qual, &missing, "keyword-only"));
        }
        Ok(())
    }

    fn missing_args(&self, qual: &PyStr, names: &[Rc<PyStr>], kind: &str) -> PyErr {
        let quoted: Vec<String> = names.iter().map(|n| format!("'{}'", n.as_str())).collect();
        let list = match quoted.len() {
            1 => quoted[0].clone(),
            2 => format!("{} and {}", quoted[0], quoted[1]),
            k => format!("{}, and {}", quoted[..k - 1].join(", "), quoted[k - 1]),
        };
        self.type_error(format!(
            "{}() missing {} required {kind} argument{}: {list}",
            qual.as_str(),
            names.len(),
            if names.len() == 1 { "" } else { "s" }
        ))
    }

    /// Calls a class: built-in constructors, or `__new__` then `__init__`.
    pub fn call_type(
        &mut self,
        t: &Rc<Type>,
        args: &[Value],
        kwnames: &[Rc<PyStr>],
    ) -> PyResult<Value> {
        if let Some(new) = t.new {
            if t.builtin {
                return new(self, args, kwnames);
            }
        }
        if let Some(meta) = &t.meta {
            let call = self.n.call.clone();
            if let Some(f @ Value::Function(_)) = meta.lookup(&call) {
                let mut full = Vec::with_capacity(args.len() + 1);
                full.push(Value::Type(t.clone()));
                full.extend_from_slice(args);
                return self.call(&f, &full, kwnames);
            }
        }
        self.construct(t, args, kwnames)
    }

    /// Creates an instance of class `t`: `__new__`, then `__init__` when `__new__` returned an
    /// instance of `t`.
    pub fn construct(
        &mut self,
        t: &Rc<Type>,
        args: &[Value],
        kwnames: &[Rc<PyStr>],
    ) -> PyResult<Value> {
        if let Some(new) = t.new {
            if t.builtin {
                return new(self, args, kwnames);
            }
        }
        let n_new = self.n.new.clone();
        let user_new = t.lookup(&n_new);
        let cls = Value::Type(t.clone());
        let obj = match &user_new {
            Some(f) => {
                let f = self.bind_descriptor(f.clone(), &Value::None, Some(t))?;
                let mut full = Vec::with_capacity(args.len() + 1);
                full.push(cls.clone());
                full.extend_from_slice(args);
                let obj = self.call(&f, &full, kwnames)?;
                if !self.isinstance(&obj, t) {
                    return Ok(obj);
                }
                obj
            }
            None => self.new_instance(t, &args[..args.len() - kwnames.len()])?,
        };
        let n_init = self.n.init.clone();
        match t.lookup(&n_init) {
            Some(Value::Function(f))
                if kwnames.is_empty() && f.code.simple_args(args.len() + 1) =>
            {
                let r = self.call_method_simple(&f, &obj, args)?;
                if !matches!(r, Value::None) {
                    return Err(self.type_error(format!(
                        "__init__() should return None, not '{}'",
                        self.type_name(&r)
                    )));
                }
            }
            Some(init) => {
                // object.__init__ with object.__new__ takes no arguments.
                if !args.is_empty()
                    && user_new.is_none()
                    && !t.is_exception
                    && t.builtin_base().is_none()
                    && std::iter::once(t)
                        .chain(t.mro.iter())
                        .find(|b| b.dict.get_str(&n_init).is_some())
                        .is_some_and(|b| Rc::ptr_eq(b, &self.t.object))
                {
                    return Err(
                        self.type_error(format!("{}() takes no arguments", t.name.as_str()))
                    );
                }
                let mut full = Vec::with_capacity(args.len() + 1);
                full.push(obj.clone());
                full.extend_from_slice(args);
                let r = match &init {
                    Value::Function(f) => self.call_function(f, &full, kwnames)?,
                    other => {
                        if let Value::Instance(i) = &obj {
                            if !matches!(i.payload, Value::Null)
                                && matches!(other, Value::Builtin(b) if !b.instance_method)
                            {
                                full[0] = i.payload.clone();
                            }
                        }
                        self.call(other, &full, kwnames)?
                    }
                };
                if !matches!(r, Value::None) {
                    return Err(self.type_error(format!(
                        "__init__() should return None, not '{}'",
                        self.type_name(&r)
                    )));
                }
            }
            None => {
                if !args.is_empty()
                    && user_new.is_none()
                    && !t.is_exception
                    && t.builtin_base().is_none()
                {
                    return Err(
                        self.type_error(format!("{}() takes no arguments", t.name.as_str()))
                    );
                }
            }
        }
        Ok(obj)
    }

    /// `object.__new__(t)`: exception classes keep the call's arguments as `args`; subclasses
    /// of immutable built-in types build their value from the arguments, those of list, dict
    /// and set start empty (their `__init__` fills them).
    pub fn new_instance(&mut self, t: &Rc<Type>, args: &[Value]) -> PyResult<Value> {
        if t.is_exception {
            let cls = crate::exc_attrs::exception_class(self, t, args);
            let inst = self.new_exception(cls, args.to_vec());
            crate::exc_attrs::init(self, &inst, args)?;
            return Ok(Value::Instance(inst));
        }
        let payload = match t.builtin_base() {
            Some(base) => {
                let new = base
                    .new
                    .ok_or_else(|| self.type_error("built-in base without a constructor"))?;
                let mutable = [&self.t.list, &self.t.dict, &self.t.set, &self.t.bytearray]
                    .iter()
                    .any(|m| Rc::ptr_eq(m, &base));
                if mutable {
                    new(self, &[], &[])?
                } else {
                    new(self, args, &[])?
                }
            }
            None => Value::Null,
        };
        Ok(Value::Instance(Rc::new(Instance {
            class: t.clone(),
            dict: crate::dict::DictObj::new(DictMap::new()),
            exc: None,
            payload,
            slots: std::cell::RefCell::new(vec![Value::Null; t.nslots]),
        })))
    }
}
