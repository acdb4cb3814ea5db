//! The interpreter state: built-in types and modules, the handled-exception slot, recursion
//! accounting, buffered stdout, and the constructors of exceptions raised from Rust.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use crate::dict::{DictMap, DictObj};
use crate::objects::{ExcData, Instance, Module};
use crate::pystr::{intern, PyStr};
use crate::types::{Type, Types};
use crate::value::Value;

/// A raised exception (always an exception instance).
#[derive(Clone, Debug)]
pub struct PyErr(pub Rc<Instance>);

/// The result of anything that can raise.
pub type PyResult<T> = Result<T, PyErr>;

macro_rules! names {
    ($($field:ident = $text:literal),* $(,)?) => {
        /// Interned names the VM looks up itself.
        #[derive(Debug)]
        pub struct Names { $(#[doc = $text] pub $field: Rc<PyStr>,)* }
        impl Names {
            fn new() -> Names { Names { $($field: intern($text),)* } }
        }
    };
}

names! {
    init = "__init__", new = "__new__", repr = "__repr__", str = "__str__", hash = "__hash__",
    eq = "__eq__", ne = "__ne__", lt = "__lt__", le = "__le__", gt = "__gt__", ge = "__ge__",
    len = "__len__", bool = "__bool__", iter = "__iter__", next = "__next__",
    getitem = "__getitem__", setitem = "__setitem__", delitem = "__delitem__",
    contains = "__contains__", call = "__call__", getattr = "__getattr__",
    getattribute = "__getattribute__", setattr = "__setattr__", delattr = "__delattr__",
    get = "__get__", set = "__set__", delete = "__delete__", enter = "__enter__",
    exit = "__exit__", neg = "__neg__", pos = "__pos__", invert = "__invert__",
    abs = "__abs__", index = "__index__", int = "__int__", float = "__float__",
    format = "__format__", name = "__name__", qualname = "__qualname__",
    module = "__module__", doc = "__doc__", dict = "__dict__", class = "__class__",
    classcell = "__classcell__", annotations = "__annotations__", main = "__main__",
    builtins = "__builtins__", args = "args", init_subclass = "__init_subclass__",
    set_name = "__set_name__", mro_entries = "__mro_entries__", value = "value",
    send = "send", throw = "throw", close = "close", reversed = "__reversed__",
}

/// The interpreter.
pub struct Vm {
    /// Built-in types.
    pub t: Types,
    /// Interned names.
    pub n: Names,
    /// The types of coroutines, async generators and their awaitables.
    pub aio: crate::coroutine::AsyncTypes,
    /// The builtins namespace.
    pub builtins: Rc<DictObj>,
    /// `sys`.
    pub sys: Rc<Module>,
    /// `sys.modules`.
    pub modules: Rc<DictObj>,
    /// The exception being handled (`sys.exception()`), or None.
    pub exc_info: Value,
    /// Python frames active now.
    pub depth: usize,
    /// `sys.getrecursionlimit()`.
    pub recursion_limit: usize,
    /// Ids of containers whose repr is being computed (for `[...]`).
    pub repr_stack: Vec<usize>,
    /// The calling frame's (globals, locals), recorded by the eval loop for built-ins that
    /// need them (`globals()`, `locals()`, `vars()`, `dir()`).
    pub caller_ns: Option<(Rc<DictObj>, Rc<DictObj>)>,
    /// Slot vectors of finished frames, reused by new frames.
    pub slot_pool: Vec<Vec<Value>>,
    /// The import system's policy and classes.
    pub imports: crate::importer::ImportState,
    /// Buffered stdout.
    out: Vec<u8>,
    /// Lowest native stack address calls may reach before RecursionError.
    stack_floor: usize,
}

/// Bytes of native stack kept free below the floor for Rust code between checks.
const STACK_MARGIN: usize = 256 * 1024;

impl Vm {
    /// A fresh interpreter; `stack_size` is the size of the native stack it runs on.
    pub fn new(stack_size: usize, argv: Vec<String>) -> Vm {
        let t = crate::builtins::make_types();
        let here = &t as *const Types as usize;
        let aio = crate::coroutine::AsyncTypes::new(&t.object);
        let mut vm = Vm {
            t,
            aio,
            n: Names::new(),
            builtins: DictObj::new(DictMap::new()),
            sys: Rc::new(Module {
                name: intern("sys"),
                dict: DictObj::new(DictMap::new()),
            }),
            modules: DictObj::new(DictMap::new()),
            exc_info: Value::None,
            depth: 0,
            recursion_limit: 1000,
            repr_stack: Vec::new(),
            slot_pool: Vec::new(),
            imports: Default::default(),
            caller_ns: None,
            out: Vec::with_capacity(1 << 16),
            stack_floor: here.saturating_sub(stack_size.saturating_sub(STACK_MARGIN)),
        };
        crate::builtins::install(&mut vm, argv);
        // Built from the VM's own types: failing here is a bug in the VM, not in a program.
        crate::sys::install(&mut vm).expect("the sys module's struct sequences");
        vm
    }

    /// Whether the native stack still has room for another nested Python call.
    #[inline]
    pub fn stack_ok(&self) -> bool {
        let marker = 0u8;
        (&marker as *const u8 as usize) > self.stack_floor
    }

    /// Writes to stdout (buffered).
    pub fn write_out(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        if self.out.len() > 1 << 15 {
            self.flush();
        }
    }

    /// Flushes stdout.
    pub fn flush(&mut self) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&self.out);
        let _ = stdout.flush();
        self.out.clear();
    }

    /// The exception class called `name`.
    pub fn exc_type(&self, name: &str) -> Rc<Type> {
        self.t
            .exceptions
            .iter()
            .find(|t| t.name.as_str() == name)
            .cloned()
            .unwrap_or_else(|| self.t.exceptions[0].clone())
    }

    /// A new instance of exception class `cls` with `args`.
    pub fn new_exception(&self, cls: Rc<Type>, args: Vec<Value>) -> Rc<Instance> {
        Rc::new(Instance {
            class: cls,
            dict: DictObj::new(DictMap::new()),
            payload: Value::Null,
            slots: Default::default(),
            exc: Some(Box::new(RefCell::new(ExcData {
                args: Value::tuple(args),
                cause: Value::None,
                context: Value::None,
                ..Default::default()
            }))),
        })
    }

    /// An exception of class `name` with one message argument.
    pub fn err(&self, name: &str, msg: impl Into<String>) -> PyErr {
        PyErr(self.new_exception(self.exc_type(name), vec![Value::string(msg.into())]))
    }

    /// A TypeError.
    pub fn type_error(&self, msg: impl Into<String>) -> PyErr {
        self.err("TypeError", msg)
    }

    /// A ValueError.
    pub fn value_error(&self, msg: impl Into<String>) -> PyErr {
        self.err("ValueError", msg)
    }

    /// A StopIteration carrying `value`.
    pub fn stop_iteration(&self, value: Value) -> PyErr {
        let args = if matches!(value, Value::None) {
            vec![]
        } else {
            vec![value]
        };
        PyErr(self.new_exception(self.exc_type("StopIteration"), args))
    }

    /// Whether `err` is an instance of exception class `name`.
    pub fn err_is(&self, err: &PyErr, name: &str) -> bool {
        err.0.class.is_subtype(&self.exc_type(name))
    }
}
