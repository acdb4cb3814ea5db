//! An executing (or suspended) Python frame: one flat slot array holding the fast locals, the
//! cells and free variables, then the value stack.

use std::rc::Rc;

use crate::code::Code;
use crate::dict::DictObj;
use crate::pystr::PyStr;
use crate::value::Value;

/// A frame.
#[derive(Debug)]
pub struct Frame {
    /// The code being run.
    pub code: Rc<Code>,
    /// Fast slots (`code.nlocalsplus()` of them), then the value stack.
    pub slots: Vec<Value>,
    /// The index of the next instruction.
    pub pc: usize,
    /// Globals.
    pub globals: Rc<DictObj>,
    /// Builtins.
    pub builtins: Rc<DictObj>,
    /// The locals mapping of module and class bodies (NAME instructions).
    pub locals: Option<Rc<DictObj>>,
    /// A class body's namespace when it is not a plain dict (what a metaclass's
    /// `__prepare__` returned): NAME instructions then go through its `__getitem__`,
    /// `__setitem__` and `__delitem__`. Null otherwise.
    pub mapping: Value,
    /// Closure cells to copy into the free-variable slots (COPY_FREE_VARS).
    pub closure: Vec<Rc<crate::objects::Cell>>,
    /// Keyword names set by KW_NAMES for the next CALL.
    pub kwnames: Option<Rc<Vec<Value>>>,
    /// The number of fast slots: the value stack starts here.
    pub base: usize,
    /// Set when an exception is re-raised: no new traceback entry for this frame.
    pub reraising: bool,
}

impl Frame {
    /// A frame for `code` with all fast slots unbound, in `slots` (an empty or recycled vector).
    pub fn new(
        code: Rc<Code>,
        globals: Rc<DictObj>,
        builtins: Rc<DictObj>,
        locals: Option<Rc<DictObj>>,
        mut slots: Vec<Value>,
    ) -> Frame {
        slots.clear();
        let n = code.nlocalsplus();
        slots.reserve(n + code.stacksize + 1);
        for _ in 0..n {
            slots.push(Value::Null);
        }
        Frame {
            code,
            slots,
            pc: 0,
            globals,
            builtins,
            locals,
            mapping: Value::Null,
            closure: Vec::new(),
            kwnames: None,
            reraising: false,
            base: n,
        }
    }

    /// Pushes onto the value stack.
    #[inline(always)]
    pub fn push(&mut self, v: Value) {
        self.slots.push(v);
    }

    /// Pops the value stack (an empty stack yields Null rather than panicking).
    #[inline(always)]
    pub fn pop(&mut self) -> Value {
        // Never below the fast slots: malformed bytecode gets Null, not someone's local.
        if self.slots.len() > self.base {
            self.slots.pop().unwrap_or_default()
        } else {
            Value::Null
        }
    }

    /// The value `n` places below the top (1 = top); Null below the bottom.
    #[inline(always)]
    pub fn peek(&self, n: usize) -> &Value {
        const NULL: &Value = &Value::Null;
        match self.slots.len().checked_sub(n) {
            Some(i) => &self.slots[i],
            None => NULL,
        }
    }

    /// Pops the top `n` values, in stack order.
    pub fn take_top(&mut self, n: usize) -> Vec<Value> {
        let at = self.slots.len().saturating_sub(n).max(self.base);
        self.slots.split_off(at)
    }

    /// The name of fast slot `i`.
    pub fn local_name(&self, i: usize) -> Rc<PyStr> {
        self.code.localsplusnames[i].clone()
    }
}
