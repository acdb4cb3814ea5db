//! The eval loop: a `match` over pre-decoded instructions, with the value stack in the frame's
//! slot array. Errors leave `exec` through `?`; `eval` then consults the exception table, and
//! either jumps to the handler and re-enters `exec` or records a traceback entry and returns the
//! error to the caller.

use std::rc::Rc;

use crate::code::{Code, Op};
use crate::dict::DictMap;
use crate::frame::Frame;
use crate::objects::{Cell, Function, IterState, Slice};
use crate::ops::CmpOp;
use crate::pystr::PyStr;
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

/// How a frame stopped running.
#[derive(Debug)]
pub enum Exit {
    /// It returned.
    Return(Value),
    /// A generator frame yielded.
    Yield(Value),
    /// A generator function's frame reached RETURN_GENERATOR.
    NewGenerator,
}

/// A frame's (globals, locals): the locals mapping of a module or class body, or a snapshot of
/// a function's bound fast locals, cells and free variables (as CPython 3.12's `locals()`).
fn frame_namespaces(frame: &Frame) -> (Rc<crate::dict::DictObj>, Rc<crate::dict::DictObj>) {
    let locals = match &frame.locals {
        Some(l) => l.clone(),
        None => {
            let d = crate::ops::new_dict();
            let n = frame.code.nlocalsplus();
            for (i, name) in frame.code.localsplusnames.iter().enumerate().take(n) {
                let v = match &frame.slots[i] {
                    Value::Cell(c) => c.value.borrow().clone(),
                    other => other.clone(),
                };
                if !matches!(v, Value::Null) {
                    d.set_str(name, v);
                }
            }
            d
        }
    };
    (frame.globals.clone(), locals)
}

impl Vm {
    /// Runs `frame` until it returns, yields or raises; `throw` raises an exception at the
    /// current instruction first (generator `throw`).
    pub fn eval(&mut self, frame: &mut Frame, throw: Option<PyErr>) -> PyResult<Exit> {
        self.depth += 1;
        if self.depth > self.recursion_limit || !self.stack_ok() {
            self.depth -= 1;
            return Err(self.err("RecursionError", "maximum recursion depth exceeded"));
        }
        let mut pending = throw;
        let result = loop {
            let r = match pending.take() {
                Some(e) => Err(e),
                None => self.exec(frame),
            };
            match r {
                Ok(exit) => break Ok(exit),
                Err(err) => {
                    let at = frame.pc.saturating_sub(1);
                    if !std::mem::take(&mut frame.reraising) {
                        self.record_raise(&err, &frame.code, at);
                    }
                    let Some(h) = frame.code.handler_for(at).copied() else {
                        break Err(err);
                    };
                    frame
                        .slots
                        .truncate(frame.code.nlocalsplus() + h.depth as usize);
                    if h.lasti {
                        frame.push(Value::Int(at as i64));
                    }
                    frame.push(Value::Instance(err.0));
                    frame.pc = h.target as usize;
                }
            }
        };
        self.depth -= 1;
        result
    }

    /// Adds a traceback entry for `code` at instruction `at`, and sets `__context__` where the
    /// exception is first raised.
    fn record_raise(&mut self, err: &PyErr, code: &Rc<Code>, at: usize) {
        let Some(exc) = &err.0.exc else { return };
        let mut data = exc.borrow_mut();
        data.traceback.push((code.clone(), at));
        if !data.context_set {
            data.context_set = true;
            if let Value::Instance(handled) = &self.exc_info {
                if !Rc::ptr_eq(handled, &err.0) {
                    data.context = self.exc_info.clone();
                }
            }
        }
    }

    fn name_error(&self, name: &PyStr) -> PyErr {
        self.err(
            "NameError",
            format!("name '{}' is not defined", name.as_str()),
        )
    }

    fn unbound_local(&self, frame: &Frame, i: usize) -> PyErr {
        self.err(
            "UnboundLocalError",
            format!(
                "cannot access local variable '{}' where it is not associated with a value",
                frame.local_name(i).as_str()
            ),
        )
    }

    fn load_global(&mut self, frame: &Frame, name: &Rc<PyStr>) -> PyResult<Value> {
        if let Some(v) = frame.globals.get_str(name) {
            return Ok(v);
        }
        if let Some(v) = frame.builtins.get_str(name) {
            return Ok(v);
        }
        Err(self.name_error(name))
    }

    fn kwnames_of(&self, frame: &mut Frame) -> Vec<Rc<PyStr>> {
        match frame.kwnames.take() {
            Some(names) => names.iter().filter_map(|v| v.as_str().cloned()).collect(),
            None => Vec::new(),
        }
    }

    #[allow(clippy::too_many_lines)]
    fn exec(&mut self, frame: &mut Frame) -> PyResult<Exit> {
        let code = frame.code.clone();
        let nlocals = code.nlocalsplus();
        loop {
            let Some(&instr) = code.instrs.get(frame.pc) else {
                return Err(self.err("SystemError", "execution ran past the end of the bytecode"));
            };
            frame.pc += 1;
            let arg = instr.arg as usize;
            match instr.op {
                Op::Nop | Op::Resume => {}
                Op::LoadFast | Op::LoadFastCheck => {
                    let v = frame.slots[arg].clone();
                    if matches!(v, Value::Null) {
                        return Err(self.unbound_local(frame, arg));
                    }
                    frame.push(v);
                }
                Op::LoadFastAndClear => {
                    let v = std::mem::take(&mut frame.slots[arg]);
                    frame.push(v);
                }
                Op::StoreFast => {
                    let v = frame.pop();
                    frame.slots[arg] = v;
                }
                Op::DeleteFast => {
                    if matches!(frame.slots[arg], Value::Null) {
                        return Err(self.unbound_local(frame, arg));
                    }
                    frame.slots[arg] = Value::Null;
                }
                Op::LoadConst => frame.push(code.consts[arg].clone()),
                Op::PopTop => {
                    frame.pop();
                }
                Op::PushNull => frame.push(Value::Null),
                Op::EndFor => {
                    frame.pop();
                    frame.pop();
                }
                Op::Copy => {
                    let v = frame.peek(arg).clone();
                    frame.push(v);
                }
                Op::Swap => {
                    let len = frame.slots.len();
                    if arg == 0 || arg > len - nlocals {
                        return Err(self.err("SystemError", "SWAP below the bottom of the stack"));
                    }
                    frame.slots.swap(len - 1, len - arg);
                }
                Op::ReturnValue => {
                    let v = frame.pop();
                    self.close_dropped_generators();
                    return Ok(Exit::Return(v));
                }
                Op::ReturnConst => return Ok(Exit::Return(code.consts[arg].clone())),
                Op::BinaryOp => {
                    let b = frame.pop();
                    let a = frame.pop();
                    let r = match (&a, &b, arg) {
                        (Value::Int(x), Value::Int(y), 0 | 13) if x.checked_add(*y).is_some() => {
                            Value::Int(x + y)
                        }
                        (Value::Int(x), Value::Int(y), 10 | 23) if x.checked_sub(*y).is_some() => {
                            Value::Int(x - y)
                        }
                        (Value::Int(x), Value::Int(y), 5 | 18) if x.checked_mul(*y).is_some() => {
                            Value::Int(x * y)
                        }
                        (Value::Int(x), Value::Int(y), 6 | 19) if *y > 0 => {
                            Value::Int(x.rem_euclid(*y))
                        }
                        (Value::Int(x), Value::Int(y), 2 | 15) if *y > 0 => {
                            Value::Int(x.div_euclid(*y))
                        }
                        (Value::Int(x), Value::Int(y), 11 | 24)
                            if *y != 0
                                && x.unsigned_abs() < 1 << 53
                                && y.unsigned_abs() < 1 << 53 =>
                        {
                            Value::Float(*x as f64 / *y as f64)
                        }
                        (Value::Int(x), Value::Int(y), 1 | 14) => Value::Int(x & y),
                        (Value::Int(x), Value::Int(y), 7 | 20) => Value::Int(x | y),
                        (Value::Int(x), Value::Int(y), 12 | 25) => Value::Int(x ^ y),
                        (Value::Float(x), Value::Float(y), 11 | 24) if *y != 0.0 => {
                            Value::Float(x / y)
                        }
                        (Value::Float(x), Value::Float(y), 0 | 13) => Value::Float(x + y),
                        (Value::Float(x), Value::Float(y), 10 | 23) => Value::Float(x - y),
                        (Value::Float(x), Value::Float(y), 5 | 18) => Value::Float(x * y),
                        _ => {
                            if arg == 13 {
                                if let Value::List(l) = &a {
                                    let items = self.to_vec(&b)?;
                                    l.items.borrow_mut().extend(items);
                                    frame.push(a);
                                    continue;
                                }
                            }
                            self.binary_op(&a, &b, instr.arg)?
                        }
                    };
                    frame.push(r);
                }
                Op::CompareOp => {
                    let b = frame.pop();
                    let a = frame.pop();
                    let op = CmpOp::from_arg(instr.arg >> 4)
                        .ok_or_else(|| self.err("SystemError", "bad COMPARE_OP argument"))?;
                    let r = match (&a, &b) {
                        (Value::Int(x), Value::Int(y)) => Value::Bool(match op {
                            CmpOp::Lt => x < y,
                            CmpOp::Le => x <= y,
                            CmpOp::Eq => x == y,
                            CmpOp::Ne => x != y,
                            CmpOp::Gt => x > y,
                            CmpOp::Ge => x >= y,
                        }),
                        _ => self.compare(&a, &b, op)?,
                    };
                    frame.push(r);
                }
                Op::IsOp => {
                    let b = frame.pop();
                    let a = frame.pop();
                    frame.push(Value::Bool(a.is(&b) != (arg == 1)));
                }
                Op::ContainsOp => {
                    let b = frame.pop();
                    let a = frame.pop();
                    let r = self.contains(&b, &a)?;
                    frame.push(Value::Bool(r != (arg == 1)));
                }
                Op::UnaryNegative => {
                    let v = frame.pop();
                    let r = self.neg(&v)?;
                    frame.push(r);
                }
                Op::UnaryNot => {
                    let v = frame.pop();
                    let r = self.truthy(&v)?;
                    frame.push(Value::Bool(!r));
                }
                Op::UnaryInvert => {
                    let v = frame.pop();
                    let r = self.invert(&v)?;
                    frame.push(r);
                }
                Op::PopJumpIfFalse | Op::PopJumpIfTrue => {
                    let v = frame.pop();
                    let t = match v {
                        Value::Bool(b) => b,
                        other => self.truthy(&other)?,
                    };
                    if t == (instr.op == Op::PopJumpIfTrue) {
                        frame.pc = arg;
                    }
                }
                Op::PopJumpIfNone | Op::PopJumpIfNotNone => {
                    let v = frame.pop();
                    if matches!(v, Value::None) == (instr.op == Op::PopJumpIfNone) {
                        frame.pc = arg;
                    }
                }
                Op::JumpForward | Op::JumpBackward | Op::JumpBackwardNoInterrupt => frame.pc = arg,
                Op::GetIter => {
                    let v = frame.pop();
                    let it = self.iter(&v)?;
                    frame.push(it);
                }
                Op::GetYieldFromIter => {
                    let v = frame.pop();
                    let it = match v {
                        Value::Generator(_) => v,
                        other => self.iter(&other)?,
                    };
                    frame.push(it);
                }
                Op::ForIter => {
                    let next = match frame.peek(1) {
                        Value::Iter(it) => {
                            let mut st = it.state.borrow_mut();
                            match &mut *st {
                                IterState::Range { next, step, left } => {
                                    if *left > 0 {
                                        let v = *next;
                                        *left -= 1;
                                        *next = next.wrapping_add(*step);
                                        Some(Value::Int(v))
                                    } else {
                                        None
                                    }
                                }
                                _ => {
                                    drop(st);
                                    let it = it.clone();
                                    self.next(&Value::Iter(it))?
                                }
                            }
                        }
                        other => {
                            let other = other.clone();
                            self.next(&other)?
                        }
                    };
                    match next {
                        Some(v) => frame.push(v),
                        None => {
                            frame.pop();
                            frame.pc = arg + 1;
                        }
                    }
                }
                Op::LoadGlobal => {
                    let name = &code.names[arg >> 1];
                    if arg & 1 == 1 {
                        frame.push(Value::Null);
                    }
                    let v = self.load_global(frame, name)?;
                    frame.push(v);
                }
                Op::StoreGlobal => {
                    let v = frame.pop();
                    frame.globals.set_str(&code.names[arg], v);
                }
                Op::DeleteGlobal => {
                    let name = &code.names[arg];
                    let removed = frame
                        .globals
                        .map
                        .borrow_mut()
                        .remove(&Value::Str(name.clone()), name.hash());
                    if removed.is_none() {
                        return Err(self.name_error(name));
                    }
                }
                Op::LoadName => {
                    let name = &code.names[arg];
                    let local = match &frame.mapping {
                        Value::Null => frame.locals.as_ref().and_then(|l| l.get_str(name)),
                        m => self.mapping_lookup(&m.clone(), name)?,
                    };
                    let v = match local {
                        Some(v) => v,
                        None => self.load_global(frame, name)?,
                    };
                    frame.push(v);
                }
                Op::StoreName => {
                    let v = frame.pop();
                    let name = &code.names[arg];
                    if !matches!(frame.mapping, Value::Null) {
                        let m = frame.mapping.clone();
                        self.set_item(&m, &Value::Str(name.clone()), v)?;
                        continue;
                    }
                    match &frame.locals {
                        Some(l) => l.set_str(name, v),
                        None => frame.globals.set_str(name, v),
                    }
                }
                Op::DeleteName => {
                    let name = &code.names[arg];
                    if !matches!(frame.mapping, Value::Null) {
                        let m = frame.mapping.clone();
                        if let Err(e) = self.del_item(&m, &Value::Str(name.clone())) {
                            return Err(if self.err_is(&e, "KeyError") {
                                self.name_error(name)
                            } else {
                                e
                            });
                        }
                        continue;
                    }
                    let ns = frame
                        .locals
                        .clone()
                        .unwrap_or_else(|| frame.globals.clone());
                    let removed = ns
                        .map
                        .borrow_mut()
                        .remove(&Value::Str(name.clone()), name.hash());
                    if removed.is_none() {
                        return Err(self.name_error(name));
                    }
                }
                Op::LoadLocals if !matches!(frame.mapping, Value::Null) => {
                    let m = frame.mapping.clone();
                    frame.push(m);
                }
                Op::LoadLocals => {
                    let l = frame
                        .locals
                        .clone()
                        .unwrap_or_else(|| frame.globals.clone());
                    frame.push(Value::Dict(l));
                }
                Op::LoadFromDictOrGlobals => {
                    let mapping = frame.pop();
                    let name = &code.names[arg];
                    let found = self.mapping_lookup(&mapping, name)?;
                    let v = match found {
                        Some(v) => v,
                        None => self.load_global(frame, name)?,
                    };
                    frame.push(v);
                }
                Op::LoadFromDictOrDeref => {
                    let mapping = frame.pop();
                    let name = code.localsplusnames[arg].clone();
                    let found = self.mapping_lookup(&mapping, &name)?;
                    let v = match found {
                        Some(v) => v,
                        None => self.load_deref(frame, arg)?,
                    };
                    frame.push(v);
                }
                Op::LoadAttr => {
                    let name = &code.names[arg >> 1];
                    let owner = frame.pop();
                    if arg & 1 == 1 {
                        let (m, recv) = self.load_method(&owner, name)?;
                        match recv {
                            Some(r) => {
                                frame.push(m);
                                frame.push(r);
                            }
                            None => {
                                frame.push(Value::Null);
                                frame.push(m);
                            }
                        }
                    } else {
                        let v = match &owner {
                            Value::Instance(inst) => match inst.dict.get_str(name) {
                                Some(v) if inst.class.plain_attributes() => v,
                                _ => self.get_attr(&owner, name)?,
                            },
                            _ => self.get_attr(&owner, name)?,
                        };
                        frame.push(v);
                    }
                }
                Op::StoreAttr => {
                    let owner = frame.pop();
                    let v = frame.pop();
                    if let Value::Instance(inst) = &owner {
                        if inst.class.plain_attributes() {
                            inst.dict.set_str(&code.names[arg], v);
                            continue;
                        }
                    }
                    self.set_attr(&owner, &code.names[arg], v)?;
                }
                Op::DeleteAttr => {
                    let owner = frame.pop();
                    self.del_attr(&owner, &code.names[arg])?;
                }
                Op::LoadSuperAttr => {
                    let name = &code.names[arg >> 2];
                    let obj = frame.pop();
                    let class = frame.pop();
                    let global_super = frame.pop();
                    let builtin_super =
                        matches!(&global_super, Value::Type(t) if Rc::ptr_eq(t, &self.t.super_));
                    let sup = if arg & 2 != 0 || (builtin_super && matches!(class, Value::Type(_)))
                    {
                        self.call(&global_super, &[class, obj.clone()], &[])?
                    } else {
                        self.call(&global_super, &[], &[])?
                    };
                    let attr = self.get_attr(&sup, name)?;
                    if arg & 1 == 1 {
                        match attr {
                            Value::BoundMethod(m) if m.receiver.is(&obj) => {
                                frame.push(m.func.clone());
                                frame.push(obj);
                            }
                            other => {
                                frame.push(Value::Null);
                                frame.push(other);
                            }
                        }
                    } else {
                        frame.push(attr);
                    }
                }
                Op::BinarySubscr => {
                    let key = frame.pop();
                    let container = frame.pop();
                    let v = self.get_item(&container, &key)?;
                    frame.push(v);
                }
                Op::StoreSubscr => {
                    let key = frame.pop();
                    let container = frame.pop();
                    let v = frame.pop();
                    self.set_item(&container, &key, v)?;
                }
                Op::DeleteSubscr => {
                    let key = frame.pop();
                    let container = frame.pop();
                    self.del_item(&container, &key)?;
                }
                Op::BinarySlice => {
                    let stop = frame.pop();
                    let start = frame.pop();
                    let container = frame.pop();
                    let s = Value::Slice(Rc::new(Slice {
                        start,
                        stop,
                        step: Value::None,
                    }));
                    let v = self.get_item(&container, &s)?;
                    frame.push(v);
                }
                Op::StoreSlice => {
                    let stop = frame.pop();
                    let start = frame.pop();
                    let container = frame.pop();
                    let v = frame.pop();
                    let s = Value::Slice(Rc::new(Slice {
                        start,
                        stop,
                        step: Value::None,
                    }));
                    self.set_item(&container, &s, v)?;
                }
                Op::BuildSlice => {
                    let step = if arg == 3 { frame.pop() } else { Value::None };
                    let stop = frame.pop();
                    let start = frame.pop();
                    frame.push(Value::Slice(Rc::new(Slice { start, stop, step })));
                }
                Op::BuildTuple => {
                    let items = frame.take_top(arg);
                    frame.push(Value::tuple(items));
                }
                Op::BuildList => {
                    let items = frame.take_top(arg);
                    frame.push(Value::list(items));
                }
                Op::BuildSet => {
                    let items = frame.take_top(arg);
                    let set = crate::builtins::new_set(self, false);
                    for item in items {
                        self.set_add(&set, item)?;
                    }
                    frame.push(Value::Set(set));
                }
                Op::BuildMap => {
                    let items = frame.take_top(2 * arg);
                    let mut map = DictMap::new();
                    for pair in items.chunks(2) {
                        let h = self.hash(&pair[0])?;
                        map.insert(pair[0].clone(), h, pair[1].clone());
                    }
                    frame.push(Value::Dict(crate::dict::DictObj::new(map)));
                }
                Op::BuildConstKeyMap => {
                    let keys = frame.pop();
                    let values = frame.take_top(arg);
                    let Value::Tuple(keys) = keys else {
                        return Err(self.err("SystemError", "bad BUILD_CONST_KEY_MAP keys"));
                    };
                    let mut map = DictMap::new();
                    for (k, v) in keys.iter().zip(values) {
                        let h = self.hash(k)?;
                        map.insert(k.clone(), h, v);
                    }
                    frame.push(Value::Dict(crate::dict::DictObj::new(map)));
                }
                Op::BuildString => {
                    let parts = frame.take_top(arg);
                    let mut s = String::new();
                    for p in &parts {
                        if let Value::Str(p) = p {
                            s.push_str(p.as_str());
                        }
                    }
                    frame.push(Value::string(s));
                }
                Op::ListAppend => {
                    let v = frame.pop();
                    if let Value::List(l) = frame.peek(arg) {
                        l.items.borrow_mut().push(v);
                    }
                }
                Op::SetAdd => {
                    let v = frame.pop();
                    if let Value::Set(s) = frame.peek(arg).clone() {
                        self.set_add(&s, v)?;
                    }
                }
                Op::MapAdd => {
                    let v = frame.pop();
                    let k = frame.pop();
                    let h = self.hash(&k)?;
                    if let Value::Dict(d) = frame.peek(arg) {
                        d.map.borrow_mut().insert(k, h, v);
                    }
                }
                Op::ListExtend => {
                    let it = frame.pop();
                    let items = self.to_vec(&it).map_err(|e| {
                        if self.err_is(&e, "TypeError") {
                            self.type_error(format!(
                                "Value after * must be an iterable, not {}",
                                self.type_name(&it)
                            ))
                        } else {
                            e
                        }
                    })?;
                    if let Value::List(l) = frame.peek(arg) {
                        l.items.borrow_mut().extend(items);
                    }
                }
                Op::SetUpdate => {
                    let it = frame.pop();
                    let items = self.to_vec(&it)?;
                    let target = frame.peek(arg).clone();
                    if let Value::Set(s) = target {
                        for item in items {
                            let h = self.hash(&item)?;
                            s.map.borrow_mut().add(item, h);
                        }
                    }
                }
                Op::DictUpdate | Op::DictMerge => {
                    let other = frame.pop();
                    let target = frame.peek(arg).clone();
                    if let Value::Dict(d) = target {
                        crate::builtins::dict_update(self, &d, &other)?;
                    }
                }
                Op::UnpackSequence => {
                    let seq = frame.pop();
                    let items = match &seq {
                        Value::Tuple(t) => (**t).clone(),
                        Value::List(l) => l.items.borrow().clone(),
                        other => self.to_vec(other).map_err(|e| {
                            if self.err_is(&e, "TypeError") {
                                self.type_error(format!(
                                    "cannot unpack non-iterable {} object",
                                    self.type_name(other)
                                ))
                            } else {
                                e
                            }
                        })?,
                    };
                    if items.len() != arg {
                        return Err(if items.len() > arg {
                            self.value_error(format!("too many values to unpack (expected {arg})"))
                        } else {
                            self.value_error(format!(
                                "not enough values to unpack (expected {arg}, got {})",
                                items.len()
                            ))
                        });
                    }
                    frame.slots.extend(items.into_iter().rev());
                }
                Op::UnpackEx => {
                    let before = arg & 0xFF;
                    let after = arg >> 8;
                    let seq = frame.pop();
                    let items = self.to_vec(&seq)?;
                    if items.len() < before + after {
                        return Err(self.value_error(format!(
                            "not enough values to unpack (expected at least {}, got {})",
                            before + after,
                            items.len()
                        )));
                    }
                    let mid_end = items.len() - after;
                    for v in items[mid_end..].iter().rev() {
                        frame.push(v.clone());
                    }
                    frame.push(Value::list(items[before..mid_end].to_vec()));
                    for v in items[..before].iter().rev() {
                        frame.push(v.clone());
                    }
                }
                Op::KwNames => {
                    if let Value::Tuple(t) = &code.consts[arg] {
                        frame.kwnames = Some(t.clone());
                    }
                }
                Op::Call => {
                    self.close_dropped_generators();
                    let kwnames = self.kwnames_of(frame);
                    let len = frame.slots.len();
                    let base = match len.checked_sub(arg + 2) {
                        Some(base) if base >= nlocals => base,
                        _ => {
                            return Err(
                                self.err("SystemError", "CALL below the bottom of the stack")
                            )
                        }
                    };
                    let mut start = base + 2;
                    let mut callable = std::mem::take(&mut frame.slots[base + 1]);
                    if !matches!(frame.slots[base], Value::Null) {
                        frame.slots[base + 1] = callable;
                        callable = std::mem::take(&mut frame.slots[base]);
                        start = base + 1;
                    } else if let Value::BoundMethod(m) = &callable {
                        frame.slots[base + 1] = m.receiver.clone();
                        callable = m.func.clone();
                        start = base + 1;
                    }
                    let r = match &callable {
                        Value::Function(f) => {
                            self.call_function(f, &frame.slots[start..], &kwnames)
                        }
                        other => {
                            if let Value::Builtin(b) = other {
                                if b.needs_frame {
                                    self.caller_ns = Some(frame_namespaces(frame));
                                }
                            } else if let Value::Type(t) = other {
                                // type(name, bases, ns) takes __module__ from the caller.
                                if frame.slots.len() - start == 3 && Rc::ptr_eq(t, &self.t.type_) {
                                    let g = frame.globals.clone();
                                    self.caller_ns = Some((g.clone(), g));
                                }
                            }
                            self.call(other, &frame.slots[start..], &kwnames)
                        }
                    };
                    frame.slots.truncate(base);
                    frame.push(r?);
                }
                Op::CallFunctionEx => {
                    let kwargs = if arg & 1 == 1 {
                        frame.pop()
                    } else {
                        Value::None
                    };
                    let callargs = frame.pop();
                    let func = frame.pop();
                    frame.pop();
                    let mut args = self.to_vec(&callargs)?;
                    let mut names = Vec::new();
                    if let Value::Dict(d) = &kwargs {
                        for (k, v) in d.map.borrow().iter() {
                            if let Value::Str(k) = k {
                                names.push(k.clone());
                                args.push(v.clone());
                            }
                        }
                    }
                    if let Value::Builtin(b) = &func {
                        if b.needs_frame {
                            self.caller_ns = Some(frame_namespaces(frame));
                        }
                    }
                    let r = self.call(&func, &args, &names)?;
                    frame.push(r);
                }
                Op::MakeFunction => {
                    let code_v = frame.pop();
                    let Value::Code(fcode) = code_v else {
                        return Err(self.err("SystemError", "MAKE_FUNCTION without a code object"));
                    };
                    let closure = if arg & 8 != 0 {
                        match frame.pop() {
                            Value::Tuple(t) => t
                                .iter()
                                .filter_map(|c| match c {
                                    Value::Cell(c) => Some(c.clone()),
                                    _ => None,
                                })
                                .collect(),
                            _ => Vec::new(),
                        }
                    } else {
                        Vec::new()
                    };
                    let annotations = if arg & 4 != 0 {
                        // A tuple of name/value pairs; `__annotations__` is their dict.
                        match frame.pop() {
                            Value::Tuple(pairs) => {
                                let d = crate::ops::new_dict();
                                for pair in pairs.chunks(2) {
                                    if let [k, v] = pair {
                                        self.dict_set(&d, k.clone(), v.clone())?;
                                    }
                                }
                                Value::Dict(d)
                            }
                            other => other,
                        }
                    } else {
                        Value::None
                    };
                    let kwdefaults = if arg & 2 != 0 {
                        match frame.pop() {
                            Value::Dict(d) => Some(d),
                            _ => None,
                        }
                    } else {
                        None
                    };
                    let defaults = if arg & 1 != 0 {
                        match frame.pop() {
                            Value::Tuple(t) => (*t).clone(),
                            _ => Vec::new(),
                        }
                    } else {
                        Vec::new()
                    };
                    let module = frame
                        .globals
                        .get_str(&self.n.name.clone())
                        .unwrap_or(Value::None);
                    let doc = match fcode.consts.first() {
                        Some(s @ Value::Str(_)) => s.clone(),
                        _ => Value::None,
                    };
                    frame.push(Value::Function(Rc::new(Function {
                        name: std::cell::RefCell::new(fcode.name.clone()),
                        qualname: std::cell::RefCell::new(fcode.qualname.clone()),
                        code: fcode,
                        globals: frame.globals.clone(),
                        builtins: frame.builtins.clone(),
                        defaults,
                        kwdefaults,
                        closure,
                        annotations,
                        dict: crate::ops::new_dict(),
                        module,
                        doc,
                        type_params: Default::default(),
                    })));
                }
                Op::MakeCell => {
                    let v = std::mem::take(&mut frame.slots[arg]);
                    frame.slots[arg] = Value::Cell(Rc::new(Cell {
                        value: std::cell::RefCell::new(v),
                    }));
                }
                Op::CopyFreeVars => {
                    let start = nlocals - arg;
                    for (i, cell) in frame.closure.iter().take(arg).enumerate() {
                        frame.slots[start + i] = Value::Cell(cell.clone());
                    }
                }
                Op::LoadClosure => {
                    let v = frame.slots[arg].clone();
                    frame.push(v);
                }
                Op::LoadDeref => {
                    let v = self.load_deref(frame, arg)?;
                    frame.push(v);
                }
                Op::StoreDeref => {
                    let v = frame.pop();
                    match &frame.slots[arg] {
                        Value::Cell(c) => *c.value.borrow_mut() = v,
                        _ => {
                            frame.slots[arg] = Value::Cell(Rc::new(Cell {
                                value: std::cell::RefCell::new(v),
                            }))
                        }
                    }
                }
                Op::DeleteDeref => {
                    // Deleting an empty cell is the error reading it would be.
                    self.load_deref(frame, arg)?;
                    if let Value::Cell(c) = &frame.slots[arg] {
                        *c.value.borrow_mut() = Value::Null;
                    }
                }
                Op::RaiseVarargs => {
                    return Err(match arg {
                        0 => {
                            frame.reraising = true;
                            match &self.exc_info {
                                Value::Instance(i) => PyErr(i.clone()),
                                _ => {
                                    frame.reraising = false;
                                    self.err("RuntimeError", "No active exception to reraise")
                                }
                            }
                        }
                        1 => {
                            let exc = frame.pop();
                            self.make_exception(exc)?
                        }
                        _ => {
                            let cause = frame.pop();
                            let exc = frame.pop();
                            let err = self.make_exception(exc)?;
                            let cause = match cause {
                                Value::None => Value::None,
                                c => Value::Instance(self.make_exception(c)?.0),
                            };
                            if let Some(e) = &err.0.exc {
                                let mut e = e.borrow_mut();
                                e.cause = cause;
                                e.suppress_context = true;
                            }
                            err
                        }
                    });
                }
                Op::Reraise => {
                    let exc = frame.pop();
                    frame.reraising = true;
                    return Err(match exc {
                        Value::Instance(i) => PyErr(i),
                        _ => {
                            frame.reraising = false;
                            self.err("SystemError", "RERAISE of a non-exception")
                        }
                    });
                }
                Op::PushExcInfo => {
                    let exc = frame.pop();
                    let prev = std::mem::replace(&mut self.exc_info, exc.clone());
                    frame.push(prev);
                    frame.push(exc);
                }
                Op::PopExcept => {
                    self.exc_info = frame.pop();
                }
                Op::CheckExcMatch => {
                    let typ = frame.pop();
                    let exc = frame.peek(1).clone();
                    let r = self.exception_matches(&exc, &typ)?;
                    frame.push(Value::Bool(r));
                }
                Op::LoadAssertionError => frame.push(Value::Type(self.exc_type("AssertionError"))),
                Op::BeforeWith => {
                    let mgr = frame.pop();
                    let n_exit = self.n.exit.clone();
                    let n_enter = self.n.enter.clone();
                    let exit = self.get_attr(&mgr, &n_exit).map_err(|_| {
                        self.type_error(format!(
                            "'{}' object does not support the context manager protocol",
                            self.type_name(&mgr)
                        ))
                    })?;
                    let enter = self.get_attr(&mgr, &n_enter)?;
                    frame.push(exit);
                    let r = self.call(&enter, &[], &[])?;
                    frame.push(r);
                }
                Op::WithExceptStart => {
                    let val = frame.peek(1).clone();
                    let exit = frame.peek(4).clone();
                    let typ = Value::Type(self.type_of(&val));
                    let r = self.call(&exit, &[typ, val, Value::None], &[])?;
                    frame.push(r);
                }
                Op::LoadBuildClass => {
                    let n = crate::pystr::intern("__build_class__");
                    let v = frame
                        .builtins
                        .get_str(&n)
                        .ok_or_else(|| self.err("NameError", "__build_class__ not found"))?;
                    frame.push(v);
                }
                Op::SetupAnnotations if !matches!(frame.mapping, Value::Null) => {
                    let (m, n) = (frame.mapping.clone(), self.n.annotations.clone());
                    if self.mapping_lookup(&m, &n)?.is_none() {
                        let d = Value::Dict(crate::ops::new_dict());
                        self.set_item(&m, &Value::Str(n), d)?;
                    }
                }
                Op::SetupAnnotations => {
                    let ns = frame
                        .locals
                        .clone()
                        .unwrap_or_else(|| frame.globals.clone());
                    let n = self.n.annotations.clone();
                    if ns.get_str(&n).is_none() {
                        ns.set_str(&n, Value::Dict(crate::ops::new_dict()));
                    }
                }
                Op::FormatValue => {
                    let spec = if arg & 4 != 0 {
                        Some(frame.pop())
                    } else {
                        None
                    };
                    let v = frame.pop();
                    let v = match arg & 3 {
                        1 => Value::string(self.str_of(&v)?),
                        2 => Value::string(self.repr(&v)?),
                        3 => Value::string(crate::builtins::ascii_of(&self.repr(&v)?)),
                        _ => v,
                    };
                    let r = match (&v, &spec) {
                        (Value::Str(_), None) => v,
                        _ => {
                            let spec = match &spec {
                                Some(Value::Str(s)) => s.as_str().to_owned(),
                                _ => String::new(),
                            };
                            Value::string(crate::format::format_value(self, &v, &spec)?)
                        }
                    };
                    frame.push(r);
                }
                Op::CallIntrinsic1 => {
                    let v = frame.pop();
                    let r = match arg {
                        3 => {
                            // INTRINSIC_STOPITERATION_ERROR
                            let kind = crate::coroutine::gen_kind(&code);
                            let noun = crate::generator::gen_noun(kind);
                            let msg = if self.isinstance(&v, &self.exc_type("StopIteration")) {
                                Some(format!("{noun} raised StopIteration"))
                            } else if kind == crate::objects::GenKind::AsyncGenerator
                                && self.isinstance(&v, &self.exc_type("StopAsyncIteration"))
                            {
                                Some(format!("{noun} raised StopAsyncIteration"))
                            } else {
                                None
                            };
                            match (&v, msg) {
                                (Value::Instance(i), Some(msg)) => {
                                    let e = self.err("RuntimeError", msg);
                                    if let Some(d) = &e.0.exc {
                                        let mut d = d.borrow_mut();
                                        d.cause = Value::Instance(i.clone());
                                        d.context = Value::Instance(i.clone());
                                        d.suppress_context = true;
                                        d.context_set = true;
                                    }
                                    Value::Instance(e.0)
                                }
                                _ => v,
                            }
                        }
                        5 => self.pos(&v)?,
                        6 => Value::tuple(self.to_vec(&v)?),
                        // INTRINSIC_ASYNC_GEN_WRAP
                        4 => crate::coroutine::wrap(self, v),
                        2 => {
                            crate::importer::import_star(self, &v, frame.locals.as_ref())?;
                            Value::None
                        }
                        7..=11 => {
                            let module = frame.globals.get_str(&self.n.name.clone());
                            let module = module.unwrap_or(Value::None);
                            crate::typeparams::intrinsic1(self, arg as u32, v, module)?
                        }
                        _ => return Err(self.unsupported(&code, frame.pc - 1, "CALL_INTRINSIC_1")),
                    };
                    frame.push(r);
                }
                Op::CallIntrinsic2 => {
                    let b = frame.pop();
                    let a = frame.pop();
                    let r = match arg {
                        // INTRINSIC_PREP_RERAISE_STAR
                        1 => crate::excgroup::prep_reraise_star(self, &a, &b)?,
                        2..=4 => crate::typeparams::intrinsic2(self, arg as u32, a, b)?,
                        _ => return Err(self.unsupported(&code, frame.pc - 1, "CALL_INTRINSIC_2")),
                    };
                    frame.push(r);
                }
                Op::ReturnGenerator => return Ok(Exit::NewGenerator),
                Op::YieldValue => {
                    let v = frame.pop();
                    return Ok(Exit::Yield(v));
                }
                Op::Send => {
                    let v = frame.pop();
                    let recv = frame.peek(1).clone();
                    match crate::coroutine::send_to(self, &recv, v)? {
                        crate::generator::GenStep::Yield(x) => frame.push(x),
                        crate::generator::GenStep::Return(r) => {
                            frame.push(r);
                            frame.pc = arg;
                        }
                    }
                }
                Op::GetAwaitable => {
                    let v = frame.pop();
                    let it = crate::coroutine::get_awaitable(self, &v, arg)?;
                    frame.push(it);
                }
                Op::GetAiter => {
                    let v = frame.pop();
                    let it = crate::coroutine::get_aiter(self, &v)?;
                    frame.push(it);
                }
                Op::GetAnext => {
                    let it = frame.peek(1).clone();
                    let aw = crate::coroutine::get_anext(self, &it)?;
                    frame.push(aw);
                }
                Op::EndAsyncFor => {
                    let exc = frame.pop();
                    frame.pop();
                    if !self.isinstance(&exc, &self.exc_type("StopAsyncIteration")) {
                        let Value::Instance(inst) = exc else {
                            return Err(self.err("SystemError", "END_ASYNC_FOR of a non-exception"));
                        };
                        frame.reraising = true;
                        return Err(PyErr(inst));
                    }
                }
                Op::BeforeAsyncWith => {
                    let mgr = frame.pop();
                    let (exit, res) = crate::coroutine::before_async_with(self, &mgr)?;
                    frame.push(exit);
                    frame.push(res);
                }
                Op::CheckEgMatch => {
                    let typ = frame.pop();
                    let exc = frame.pop();
                    let (rest, matched) = crate::excgroup::check_eg_match(self, &exc, &typ)?;
                    if !matches!(matched, Value::None) {
                        self.exc_info = matched.clone();
                    }
                    frame.push(rest);
                    frame.push(matched);
                }
                Op::EndSend => {
                    let v = frame.pop();
                    frame.pop();
                    frame.push(v);
                }
                Op::CleanupThrow => {
                    let exc = frame.pop();
                    let Value::Instance(inst) = exc else {
                        return Err(self.err("SystemError", "CLEANUP_THROW of a non-exception"));
                    };
                    if inst.class.is_subtype(&self.exc_type("StopIteration")) {
                        frame.pop();
                        frame.pop();
                        let value = match inst.exc.as_ref().map(|e| e.borrow().args.clone()) {
                            Some(Value::Tuple(t)) if !t.is_empty() => t[0].clone(),
                            _ => Value::None,
                        };
                        frame.push(Value::None);
                        frame.push(value);
                    } else {
                        frame.reraising = true;
                        return Err(PyErr(inst));
                    }
                }
                Op::ImportName => {
                    let fromlist = frame.pop();
                    let level = frame.pop();
                    let level = self.index_of(&level)?;
                    let name = code.names[arg].clone();
                    let globals = frame.globals.clone();
                    let m = crate::importer::import_name(self, &name, &globals, &fromlist, level)?;
                    frame.push(m);
                }
                Op::ImportFrom => {
                    let module = frame.peek(1).clone();
                    let v = crate::importer::import_from(self, &module, &code.names[arg])?;
                    frame.push(v);
                }
                Op::GetLen => {
                    let top = frame.peek(1).clone();
                    let n = self.len(&top)?;
                    frame.push(Value::Int(n as i64));
                }
                Op::MatchMapping => {
                    let r = matches!(frame.peek(1), Value::Dict(_));
                    frame.push(Value::Bool(r));
                }
                Op::MatchSequence => {
                    let r = matches!(
                        frame.peek(1),
                        Value::List(_) | Value::Tuple(_) | Value::Range(_)
                    );
                    frame.push(Value::Bool(r));
                }
                Op::MatchKeys => {
                    let keys = frame.peek(1).clone();
                    let subject = frame.peek(2).clone();
                    let r = self.match_keys(&subject, &keys)?;
                    frame.push(r);
                }
                Op::MatchClass => {
                    let names = frame.pop();
                    let cls = frame.pop();
                    let subject = frame.pop();
                    let r = self.match_class(&subject, &cls, arg, &names)?;
                    frame.push(r);
                }
                Op::Unsupported => {
                    let name = pyc_loader::Target::V3_12
                        .opcodes()
                        .info(instr.arg as u8)
                        .name;
                    let name = if name.is_empty() { "<unknown>" } else { name };
                    return Err(self.unsupported(&code, frame.pc - 1, name));
                }
            }
        }
    }

    fn unsupported(&self, code: &Code, at: usize, name: &str) -> PyErr {
        self.err(
            "SystemError",
            format!(
                "unsupported opcode {name} at offset {} in code object {} ({})",
                code.offsets.get(at).copied().unwrap_or(0),
                code.qualname.as_str(),
                code.filename.as_str()
            ),
        )
    }

    fn load_deref(&mut self, frame: &Frame, i: usize) -> PyResult<Value> {
        let v = match &frame.slots[i] {
            Value::Cell(c) => c.value.borrow().clone(),
            other => other.clone(),
        };
        if matches!(v, Value::Null) {
            let name = frame.local_name(i);
            let free = frame.code.localspluskinds[i] & pyc_loader::code::kinds::FREE != 0;
            return Err(if free {
                self.err(
                    "NameError",
                    format!(
                        "cannot access free variable '{}' where it is not associated with a value in enclosing scope",
                        name.as_str()
                    ),
                )
            } else {
                self.unbound_local(frame, i)
            });
        }
        Ok(v)
    }

    /// MATCH_KEYS: the values of `keys` in mapping `subject`, or None if one is missing.
    fn match_keys(&mut self, subject: &Value, keys: &Value) -> PyResult<Value> {
        let Value::Tuple(keys) = keys else {
            return Err(self.err("SystemError", "MATCH_KEYS without a key tuple"));
        };
        let Value::Dict(d) = subject else {
            return Ok(Value::None);
        };
        let mut values = Vec::with_capacity(keys.len());
        for k in keys.iter() {
            match self.dict_get(d, k)? {
                Some(v) => values.push(v),
                None => return Ok(Value::None),
            }
        }
        Ok(Value::tuple(values))
    }

    /// MATCH_CLASS: the attributes a class pattern extracts from `subject` (positional ones via
    /// `__match_args__`, then the keyword ones), or None when it does not match.
    fn match_class(
        &mut self,
        subject: &Value,
        cls: &Value,
        npos: usize,
        names: &Value,
    ) -> PyResult<Value> {
        let Value::Type(t) = cls else {
            return Err(self.type_error("called match pattern must be a class"));
        };
        if !self.isinstance(subject, t) {
            return Ok(Value::None);
        }
        let mut out = Vec::new();
        let mut seen: Vec<Rc<PyStr>> = Vec::new();
        if npos > 0 {
            let self_matching = t.builtin
                && [
                    &self.t.bool_,
                    &self.t.bytes,
                    &self.t.dict,
                    &self.t.float,
                    &self.t.frozenset,
                    &self.t.int,
                    &self.t.list,
                    &self.t.set,
                    &self.t.str_,
                    &self.t.tuple,
                ]
                .iter()
                .any(|b| Rc::ptr_eq(b, t));
            let match_args = t.lookup(&crate::pystr::intern("__match_args__"));
            match match_args {
                Some(Value::Tuple(args)) => {
                    if npos > args.len() {
                        return Err(self.type_error(format!(
                            "{}() accepts {} positional sub-pattern{} ({npos} given)",
                            t.name.as_str(),
                            args.len(),
                            if args.len() == 1 { "" } else { "s" }
                        )));
                    }
                    for a in args.iter().take(npos) {
                        let Value::Str(name) = a else {
                            return Err(self.type_error("__match_args__ elements must be strings"));
                        };
                        let name = crate::pystr::intern(name.as_str());
                        match self.get_attr(subject, &name) {
                            Ok(v) => out.push(v),
                            Err(e) if self.err_is(&e, "AttributeError") => return Ok(Value::None),
                            Err(e) => return Err(e),
                        }
                        seen.push(name);
                    }
                }
                Some(_) => {
                    return Err(self.type_error(format!(
                        "{}.__match_args__ must be a tuple",
                        t.name.as_str()
                    )))
                }
                None if self_matching && npos == 1 => out.push(subject.clone()),
                None => {
                    return Err(self.type_error(format!(
                        "{}() accepts {} positional sub-pattern{} ({npos} given)",
                        t.name.as_str(),
                        usize::from(self_matching),
                        if self_matching { "" } else { "s" }
                    )))
                }
            }
        }
        if let Value::Tuple(names) = names {
            for n in names.iter() {
                let Value::Str(name) = n else { continue };
                if seen.iter().any(|s| s.as_str() == name.as_str()) {
                    return Err(self.type_error(format!(
                        "{}() got multiple sub-patterns for attribute '{}'",
                        t.name.as_str(),
                        name.as_str()
                    )));
                }
                let name = crate::pystr::intern(name.as_str());
                match self.get_attr(subject, &name) {
                    Ok(v) => out.push(v),
                    Err(e) if self.err_is(&e, "AttributeError") => return Ok(Value::None),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(Value::tuple(out))
    }

    /// The exception instance `raise v` raises (classes are instantiated).
    pub fn make_exception(&mut self, v: Value) -> PyResult<PyErr> {
        match &v {
            Value::Instance(i) if i.exc.is_some() => Ok(PyErr(i.clone())),
            Value::Type(t) if t.is_exception => match self.call_type(t, &[], &[])? {
                Value::Instance(i) if i.exc.is_some() => Ok(PyErr(i)),
                _ => {
                    Err(self.type_error("calling the exception class did not return an exception"))
                }
            },
            _ => Err(self.type_error("exceptions must derive from BaseException")),
        }
    }

    /// CHECK_EXC_MATCH / `except T`: whether `exc` is an instance of `typ` (or a tuple of them).
    pub fn exception_matches(&mut self, exc: &Value, typ: &Value) -> PyResult<bool> {
        match typ {
            Value::Type(t) => {
                if !t.is_exception {
                    return Err(self.type_error(
                        "catching classes that do not inherit from BaseException is not allowed",
                    ));
                }
                Ok(self.isinstance(exc, t))
            }
            Value::Tuple(ts) => {
                for t in ts.iter() {
                    if self.exception_matches(exc, t)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(self.type_error(
                "catching classes that do not inherit from BaseException is not allowed",
            )),
        }
    }
}
