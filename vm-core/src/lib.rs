//! A virtual machine for CPython 3.12 bytecode (issue 5): it runs the code objects that
//! pyc-loader reads and behaves as CPython 3.12 does.
//!
//! # Design (the decisions, and why)
//!
//! - **Values** ([`value::Value`]) are a 16-byte enum: `None`, bools, i64 ints and floats are
//!   unboxed; every heap object is an `Rc` to its own Rust type. Dispatch on a value's kind is a
//!   `match` on the tag, so `int + int` or `list[i]` never look up a special method: the tag is
//!   the "type slot" for built-in types. Classes defined in Python go through their special
//!   methods (looked up along the MRO with interned names).
//! - **Memory** is reference counting (`Rc`), so objects are freed when their last reference
//!   goes, as in CPython, and `RefCell` guards mutation (single-threaded VM). Reference cycles
//!   are not collected (CPython's cycle collector has no counterpart yet); types keep their MRO
//!   without themselves to avoid the most common cycle.
//! - **Strings** ([`pystr::PyStr`]) cache their hash (CPython's SipHash-1-3 with
//!   PYTHONHASHSEED=0, so set order matches a CPython run with that seed); every name in a code
//!   object is interned once at load, so global and attribute lookups compare pointers and
//!   never rehash.
//! - **dict** is CPython's compact layout (entries in insertion order + open-addressing index);
//!   **set** reproduces CPython's table and probe sequence, so iteration orders match.
//! - **Code** is decoded once ([`code::Code::decode`]): CACHE entries dropped, EXTENDED_ARG
//!   folded, jump targets and exception-table ranges resolved to instruction indices, constants
//!   converted. Instructions are 8 bytes; an unimplemented opcode decodes to `Unsupported` and
//!   raises a SystemError naming the opcode, offset and code object if it is reached.
//! - **Frames** ([`frame::Frame`]) hold one flat `Vec<Value>`: fast locals, cells, free
//!   variables, then the value stack (NULL is `Value::Null`, as in CPython).
//! - **Calls**: Python→Python calls recurse on the Rust stack (one `eval` per frame), which
//!   keeps generators simple (a suspended generator is just its boxed frame). Unbounded
//!   recursion is impossible: every frame entry checks `sys.getrecursionlimit()` *and* the
//!   remaining native stack, and the VM runs on a worker thread with a large stack
//!   ([`run::run_pyc`]), so deep recursion raises RecursionError and never overflows.
//! - **Exceptions** are instances of BaseException subclasses carrying args, `__cause__`,
//!   `__context__` and traceback entries; unwinding uses the 3.12 exception table exactly
//!   (PUSH_EXC_INFO / POP_EXCEPT keep the handled exception in [`vm::Vm::exc_info`]).

pub mod builtins;
pub mod call;
pub mod code;
pub mod dict;
pub mod eval;
pub mod format;
pub mod frame;
pub mod generator;
pub mod int;
pub mod itertools;
pub mod methods;
pub mod objects;
pub mod ops;
pub mod pystr;
pub mod run;
pub mod traceback;
pub mod types;
pub mod value;
pub mod vm;
