//! A virtual machine for CPython 3.12 bytecode (issue 5): it runs the code objects that
//! pyc-loader reads and behaves as CPython 3.12 does. `pyc run` ([`run::run`]) is the entry.
//!
//! # Design (the decisions, and why)
//!
//! - **Values** ([`value::Value`]) are a 16-byte enum: `None`, bools, i64 ints and floats are
//!   unboxed; every heap object is an `Rc` to its own Rust type. Dispatch on a value's kind is a
//!   `match` on the tag, so `int + int`, `list[i]` or `len(str)` never look up a special method:
//!   the tag plays the role of CPython's type slots for built-in types. Ints overflow from the
//!   i64 fast path into num-bigint ([`int`]); `BigInt` never holds a value that fits in i64.
//! - **Memory** is reference counting (`Rc`), so objects are freed when their last reference
//!   goes, as in CPython, and `RefCell` guards mutation (the VM is single-threaded). Reference
//!   cycles are not collected: CPython's cycle collector has no counterpart yet, and the VM
//!   avoids creating cycles of its own (a type's MRO excludes the type itself; frames do not
//!   point back to their callers). A cycle created by a program leaks until exit.
//! - **Strings** ([`pystr::PyStr`]) cache their hash (CPython's SipHash-1-3 with
//!   PYTHONHASHSEED=0, so set iteration order matches a CPython run with that seed); every name
//!   in a code object is interned once when the code is decoded, so global and attribute
//!   lookups compare pointers and never rehash.
//! - **dict** is CPython's compact layout (entries in insertion order plus an open-addressing
//!   index, same probe sequence); **set** reproduces CPython's table, probing and resizing, so
//!   iteration orders match CPython's. Keys whose class defines `__eq__` are compared through
//!   Python code; built-in keys never are.
//! - **Attribute lookup**: each type caches MRO lookups by interned-name address; any change to
//!   a class namespace bumps a global epoch that invalidates every cache (class namespaces
//!   rarely change after creation). Method calls (`LOAD_ATTR` with the method flag + `CALL`) do
//!   not allocate bound-method objects.
//! - **Code** is decoded once ([`code::Code::decode`]): CACHE entries dropped, EXTENDED_ARG
//!   folded, jump targets and exception-table ranges resolved to instruction indices, constant,
//!   name and slot indices validated, constants converted. Instructions are 8 bytes. An opcode
//!   the VM does not implement decodes to `Op::Unsupported` and raises a SystemError naming the
//!   opcode, offset and code object if it is reached (never a panic).
//! - **Frames** ([`frame::Frame`]) hold one flat `Vec<Value>`: fast locals, cells and free
//!   variables, then the value stack (CPython's NULL is `Value::Null`). Slot vectors of finished
//!   frames are pooled and reused.
//! - **Calls**: a Python→Python call recurses on the Rust stack (one `eval` per frame), which
//!   keeps generators simple (a suspended generator is its boxed frame, resumed by a nested
//!   `eval`). Recursion is still bounded: every frame entry checks `sys.getrecursionlimit()`
//!   *and* the remaining native stack, and the VM runs on a worker thread with a 1 GiB stack, so
//!   deep recursion raises RecursionError and never overflows the native stack, whatever the
//!   recursion limit. (A frame stack inside the eval loop is the planned next step for speed.)
//! - **Exceptions** are instances of BaseException subclasses carrying args, `__cause__`,
//!   `__context__` (set where the exception is first raised) and traceback entries (code,
//!   instruction). Unwinding uses the 3.12 exception table exactly; PUSH_EXC_INFO / POP_EXCEPT
//!   keep the handled exception in [`vm::Vm::exc_info`]. Uncaught exceptions print CPython's
//!   traceback ([`traceback`]): chains, source lines, caret lines with binary-operator and
//!   subscript anchors, collapsed repeated lines.
//! - **Imports** are bytecode-only, because `pyc run` is for deploying caches: a module whose
//!   cache is missing, stale (importlib's timestamp or hash rule), damaged or for another
//!   version is an ImportError naming the module, the source, the cache and the reason and
//!   saying how to fix it. `--compile` compiles such modules and writes their caches
//!   atomically as importlib does. The main script follows CPython instead (compiled in memory
//!   without a valid cache, never written). Import frames are Rust, so tracebacks go straight
//!   from the importing line to the imported module's, as CPython's with importlib's frames
//!   removed (`-m` adds runpy's two frames, as CPython prints them). Known gaps: no
//!   `sys.meta_path` / `sys.path_hooks` / `sys.path_importer_cache` objects (the finders are
//!   fixed), no import lock (one thread), no `.so` extension modules.
//! - **Generators** dropped while suspended inside a `try`/`with` are closed (GeneratorExit at
//!   the suspension point) at the VM's next call or return, as CPython's finalizer does.
//!
//! # Status
//!
//! Implemented:
//! - the opcodes CPython 3.12's compiler emits, pattern matching and PEP 695 type
//!   parameters included;
//! - coroutines, `await` (with the `__await__` protocol), async generators
//!   (`asend`/`athrow`/`aclose`), `async for`, `async with`, async comprehensions,
//!   `aiter()`, `anext()` ([`coroutine`]); `throw()`/`close()` reach the iterator a
//!   `yield from` or `await` delegates to, as in CPython;
//! - exception groups and `except*` ([`excgroup`]), with CPython's boxed traceback layout;
//! - int (i64 + big), float, complex, str, bytes, bytearray (one method set shared with bytes,
//!   [`bytesobj`]), tuple, list, dict (+ views), set, frozenset, range, slice; functions,
//!   closures, bound methods, generators (send/throw/close, `yield from`, finalization);
//! - classes: C3 MRO, `super()`, properties, class/static methods, descriptors
//!   (`__get__`/`__set__`/`__delete__`, `__set_name__`), `__init_subclass__` with class
//!   keywords, metaclasses (`__prepare__` with any mapping as the namespace, `__new__`,
//!   `__init__`, `__call__`, `__instancecheck__`/`__subclasscheck__`, special methods and
//!   properties that apply to their classes, metaclass functions),
//!   PEP 560 `__mro_entries__`/`__orig_bases__`, `__slots__` (member descriptors over
//!   per-instance slot storage, [`slots`]), `__getattribute__`/`__getattr__`, subclasses of the
//!   built-in value types (an instance wraps the built-in value and protocols fall through to
//!   it), the special-method protocol, `__del__` finalizers ([`finalizers`]);
//! - PEP 695/604 typing objects ([`typeparams`]): TypeVar/ParamSpec/TypeVarTuple with lazy
//!   bounds, `type X = ...` aliases with lazy values, `Generic`, `__type_params__`,
//!   `list[int]`-style generic aliases and `int | None` unions (also in isinstance);
//! - exceptions with chaining and CPython's traceback format;
//! - the built-in exception hierarchy, with OSError's errno/strerror/filename (and the
//!   subclass an errno picks) and UnicodeDecodeError's attributes ([`exc_attrs`]);
//! - builtins (including `open()` for UTF-8 text and bytes, `input()`, `globals()`,
//!   `locals()`, `__import__`), `sys` ([`sys`]: struct sequences such as `version_info`),
//!   `math` ([`math`], with CPython's error rules), `time` ([`time`]: clocks, `sleep`),
//!   `itertools`, `os` and `os.path` ([`os`]), `io` (StringIO, BytesIO) and `types`, a
//!   seeded-identical `random`, native stand-ins
//!   for `collections`, `functools`, `heapq`, `dataclasses`, `operator`, `string` and `copy`
//!   ([`natives`]); the parts of these simplest in Python are written in Python
//!   (`src/py/*.py`, compiled by pyc-compiler when the module is first imported);
//! - the import system ([`importer`]), mirroring importlib: `sys.path` (script directory,
//!   `--path`, `PYTHONPATH`), `sys.modules`, built-in modules before the path finder
//!   ([`path_finder`]: regular, namespace and sourceless packages and modules), submodules,
//!   relative imports, `from package import submodule`, `import *` with `__all__`,
//!   `__import__`, a native `importlib` (`import_module`, `reload`) and `importlib.util`
//!   ([`importlib`]), circular imports with CPython's messages, module specs and attributes
//!   ([`module_spec`]), ImportError / ModuleNotFoundError with `name` and `path`; code from
//!   validated caches only unless `pyc run --compile` ([`module_code`]); `-m`, `-O` ([`run`]);
//! - an `asyncio` written in Python ([`asyncio`]: run, sleep, gather, tasks, TaskGroup,
//!   timeout, wait_for, wait, as_completed, shield, to_thread, Queue, Event, Lock, Condition,
//!   Semaphore) whose interleavings match CPython's;
//! - `compile()`, `exec()` and `eval()` through pyc-compiler ([`compiling`]).
//!
//! Not yet: the "coroutine ... was never awaited" RuntimeWarning, asyncio's firstiter hook
//! (`shutdown_asyncgens`), `types.coroutine`, a `typing` module (the typing objects exist,
//! but only as the compiler's type-parameter syntax makes them), `__class__` assignment, weak
//! references, collection of reference cycles (their finalizers never run), the real Python
//! standard library.

pub mod asyncio;
pub mod builtins;
pub mod bytesobj;
pub mod call;
pub mod code;
pub mod compiling;
pub mod coroutine;
pub mod dict;
pub mod eval;
pub mod exc_attrs;
pub mod excgroup;
pub mod files;
pub mod finalizers;
pub mod format;
pub mod frame;
pub mod generator;
pub mod importer;
pub mod importlib;
pub mod int;
pub mod itertools;
pub mod math;
pub mod methods;
pub mod module_code;
pub mod module_spec;
pub mod natives;
pub mod number_methods;
pub mod objects;
pub mod ops;
pub mod os;
pub mod path_finder;
pub mod pystr;
pub mod random;
pub mod run;
pub mod slots;
pub mod sys;
pub mod time;
pub mod traceback;
pub mod typeparams;
pub mod types;
pub mod value;
pub mod vm;
