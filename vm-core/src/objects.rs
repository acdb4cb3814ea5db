//! The heap objects other than str, dict and type: containers, functions, cells, instances,
//! generators, iterators, modules and descriptor wrappers.

use std::cell::{Cell as StdCell, RefCell};
use std::rc::Rc;

use crate::code::Code;
use crate::dict::{DictObj, SetMap};
use crate::frame::Frame;
use crate::pystr::PyStr;
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

/// A list.
#[derive(Debug, Default)]
pub struct ListObj {
    /// The items.
    pub items: RefCell<Vec<Value>>,
}

impl ListObj {
    /// A list holding `items`.
    pub fn new(items: Vec<Value>) -> ListObj {
        ListObj {
            items: RefCell::new(items),
        }
    }
}

/// A set or frozenset.
#[derive(Debug, Default)]
pub struct SetObj {
    /// Whether this is a frozenset.
    pub frozen: bool,
    /// The items.
    pub map: RefCell<SetMap>,
}

/// A range.
#[derive(Debug)]
pub struct Range {
    /// First value.
    pub start: i64,
    /// Bound (exclusive).
    pub stop: i64,
    /// Step (never 0).
    pub step: i64,
}

impl Range {
    /// The number of values.
    pub fn len(&self) -> i64 {
        let (lo, hi, step) = if self.step > 0 {
            (self.start, self.stop, self.step)
        } else {
            (self.stop, self.start, -self.step)
        };
        if lo >= hi {
            0
        } else {
            ((hi as i128 - lo as i128 - 1) / step as i128 + 1) as i64
        }
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A slice object.
#[derive(Debug)]
pub struct Slice {
    /// start, stop, step (each may be None).
    pub start: Value,
    /// The stop.
    pub stop: Value,
    /// The step.
    pub step: Value,
}

/// A closure cell.
#[derive(Debug, Default)]
pub struct Cell {
    /// The contents; `Null` when empty.
    pub value: RefCell<Value>,
}

/// A function defined in Python.
#[derive(Debug)]
pub struct Function {
    /// Its code.
    pub code: Rc<Code>,
    /// Its globals.
    pub globals: Rc<DictObj>,
    /// The builtins its frames see.
    pub builtins: Rc<DictObj>,
    /// `__name__`.
    pub name: RefCell<Rc<PyStr>>,
    /// `__qualname__`.
    pub qualname: RefCell<Rc<PyStr>>,
    /// Positional defaults.
    pub defaults: Vec<Value>,
    /// Keyword-only defaults.
    pub kwdefaults: Option<Rc<DictObj>>,
    /// The closure cells, in co_freevars order.
    pub closure: Vec<Rc<Cell>>,
    /// `__annotations__` (a dict or a tuple of name/value pairs).
    pub annotations: Value,
    /// `__dict__`.
    pub dict: Rc<DictObj>,
    /// `__module__`.
    pub module: Value,
    /// `__doc__`.
    pub doc: Value,
    /// `__type_params__` (Null: none), set by SET_FUNCTION_TYPE_PARAMS.
    pub type_params: RefCell<Value>,
}

/// The signature of a function implemented in Rust: positional arguments then the values of the
/// keyword arguments named by `kwnames` (CPython's vectorcall convention).
pub type NativeFn = fn(&mut Vm, &[Value], &[Rc<PyStr>]) -> PyResult<Value>;

/// A function implemented in Rust; with `bound`, a method already bound to its receiver.
#[derive(Debug)]
pub struct BuiltinFunction {
    /// Its name.
    pub name: &'static str,
    /// The implementation; a method receives its receiver as the first argument.
    pub func: NativeFn,
    /// The receiver of a bound built-in method.
    pub bound: Option<Value>,
    /// Whether it reads its caller's namespaces (`globals()`, `locals()`, `vars()`, `dir()`):
    /// the eval loop then records them in [`crate::vm::Vm::caller_ns`] before the call.
    pub needs_frame: bool,
    /// A method of a natively defined class (collections, functools): it receives the instance
    /// itself, never the built-in value an instance of a built-in subclass wraps.
    pub instance_method: bool,
}

/// A method bound to its receiver.
#[derive(Debug)]
pub struct BoundMethod {
    /// The function.
    pub func: Value,
    /// The receiver.
    pub receiver: Value,
}

/// The state an exception instance carries.
#[derive(Debug, Default)]
pub struct ExcData {
    /// `args`.
    pub args: Value,
    /// Traceback entries, innermost first: (code, instruction index).
    pub traceback: Vec<(Rc<Code>, usize)>,
    /// `__cause__`.
    pub cause: Value,
    /// `__context__`.
    pub context: Value,
    /// `__suppress_context__`.
    pub suppress_context: bool,
    /// Whether `__context__` has been decided (it is set once, where the exception is raised).
    pub context_set: bool,
    /// For exception groups: the tuple (message, exceptions) `__new__` stored; Null otherwise.
    pub group: Value,
}

/// An instance of a class.
#[derive(Debug)]
pub struct Instance {
    /// Its class.
    pub class: Rc<Type>,
    /// `__dict__`.
    pub dict: Rc<DictObj>,
    /// Exception state, for instances of BaseException subclasses.
    pub exc: Option<Box<RefCell<ExcData>>>,
    /// The built-in value an instance of a subclass of a built-in type wraps (a list for
    /// `class Stack(list)`); Null otherwise.
    pub payload: Value,
    /// The values of the `__slots__` of its class (Null: unset), indexed by
    /// [`Wrapper::Member`]'s `index`.
    pub slots: RefCell<Vec<Value>>,
}

impl Instance {
    /// An instance of `class` (one without `__slots__` and not an exception) with the
    /// attributes `attrs`, wrapping `payload` (Null for none).
    pub fn plain(class: &Rc<Type>, attrs: &[(&str, Value)], payload: Value) -> Value {
        let dict = DictObj::new(crate::dict::DictMap::new());
        for (k, v) in attrs {
            dict.set_str(&crate::pystr::intern(k), v.clone());
        }
        Value::Instance(Rc::new(Instance {
            class: class.clone(),
            dict,
            exc: None,
            payload,
            slots: Default::default(),
        }))
    }
}

/// A generator: its suspended frame.
#[derive(Debug)]
pub struct Generator {
    /// The frame; `None` once finished.
    pub frame: RefCell<Option<Box<Frame>>>,
    /// Whether it is executing now.
    pub running: StdCell<bool>,
    /// Whether it has started (a first `send` must be None).
    pub started: StdCell<bool>,
    /// `__name__`.
    pub name: Rc<PyStr>,
    /// `__qualname__`.
    pub qualname: Rc<PyStr>,
    /// Generator, coroutine or async generator.
    pub kind: GenKind,
    /// The exception the generator was handling when it last yielded (Null: none), restored
    /// when it resumes, so handlers in the generator and in its caller do not see each
    /// other's exceptions.
    pub exc_state: RefCell<Value>,
}

/// What kind of frame-backed iterator a [`Generator`] is (from its code's flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenKind {
    /// A generator (`def` with `yield`).
    Generator,
    /// A coroutine (`async def`).
    Coroutine,
    /// An async generator (`async def` with `yield`).
    AsyncGenerator,
}

/// A dropped generator awaiting its close: frame, `__name__`, `__qualname__`, kind.
pub type DroppedGenerator = (Box<Frame>, Rc<PyStr>, Rc<PyStr>, GenKind);

thread_local! {
    /// Set when [`PENDING_CLOSE`] may be non-empty: a one-load check for the eval loop.
    pub static ANY_PENDING_CLOSE: StdCell<bool> = const { StdCell::new(false) };

    /// Frames of generators dropped while suspended inside a `try` (or `with`): the VM closes
    /// them (raising GeneratorExit at the suspension point, as CPython does on deallocation) at
    /// its next call or return.
    pub static PENDING_CLOSE: RefCell<Vec<DroppedGenerator>> = const { RefCell::new(Vec::new()) };
}

impl Drop for ListObj {
    /// Items go last to first, as CPython's list deallocation releases them (the order in
    /// which their finalizers run).
    fn drop(&mut self) {
        if crate::finalizers::any() {
            let items = self.items.get_mut();
            while items.pop().is_some() {}
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if crate::finalizers::any() {
            crate::finalizers::on_drop(self);
        }
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        if let Some(frame) = self.frame.get_mut().take() {
            let suspended_in_try =
                self.started.get() && frame.code.handler_for(frame.pc.saturating_sub(1)).is_some();
            if suspended_in_try {
                ANY_PENDING_CLOSE.set(true);
                // At thread exit the queue itself is being destroyed (it may be what drops
                // this generator): the frame is then dropped without being closed.
                let _ = PENDING_CLOSE.try_with(|p| {
                    p.borrow_mut().push((
                        frame,
                        self.name.clone(),
                        self.qualname.clone(),
                        self.kind,
                    ))
                });
            }
        }
    }
}

/// What a dict iterator yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DictPart {
    /// Keys.
    Keys,
    /// Values.
    Values,
    /// (key, value) tuples.
    Items,
}

/// The state of a built-in iterator.
#[derive(Debug)]
pub enum IterState {
    /// Over a list, tuple, bytes or `__getitem__` sequence by index (list iterators see
    /// appends, as in CPython).
    Seq {
        /// The sequence.
        seq: Value,
        /// The next index.
        index: usize,
    },
    /// Over a str.
    Str {
        /// The str.
        s: Rc<PyStr>,
        /// The byte offset of the next character.
        pos: usize,
    },
    /// Over a range.
    Range {
        /// The next value.
        next: i64,
        /// The step.
        step: i64,
        /// How many values remain.
        left: i64,
    },
    /// Over a dict (or one of its views).
    Dict {
        /// The dict.
        dict: Rc<DictObj>,
        /// The next entry position.
        pos: usize,
        /// The size when iteration began (a change is an error).
        len: usize,
        /// Keys, values or items.
        part: DictPart,
    },
    /// Over a set.
    Set {
        /// The set.
        set: Rc<SetObj>,
        /// The next table position.
        pos: usize,
        /// The size when iteration began (a change is an error).
        len: usize,
    },
    /// Backwards over a sequence.
    Reversed {
        /// The sequence.
        seq: Value,
        /// One past the next index.
        index: usize,
    },
    /// enumerate().
    Enumerate {
        /// The underlying iterator.
        inner: Value,
        /// The next count.
        count: i64,
    },
    /// zip().
    Zip {
        /// The underlying iterators.
        inners: Vec<Value>,
    },
    /// map().
    Map {
        /// The function.
        func: Value,
        /// The underlying iterators.
        inners: Vec<Value>,
    },
    /// filter(), and itertools.filterfalse() (`keep` false: the items the predicate rejects).
    Filter {
        /// The predicate (None: truth).
        func: Value,
        /// The underlying iterator.
        inner: Value,
        /// Which verdict of the predicate keeps an item.
        keep: bool,
    },
    /// iter(callable, sentinel).
    Callable {
        /// The callable.
        func: Value,
        /// The value that ends iteration.
        sentinel: Value,
    },
    /// itertools.count().
    Count {
        /// The next value.
        next: Value,
        /// The step.
        step: Value,
    },
    /// itertools.chain().
    Chain {
        /// The iterables not started yet.
        rest: std::collections::VecDeque<Value>,
        /// The current iterator (Null: none).
        current: Value,
    },
    /// itertools.islice(): items at positions `next`, `next + step`, ... below `stop`.
    Islice {
        /// The underlying iterator.
        inner: Value,
        /// How many items were consumed from it.
        pos: usize,
        /// The position of the next item to produce.
        next: usize,
        /// The bound, if any.
        stop: Option<usize>,
        /// The step.
        step: usize,
    },
    /// itertools.repeat().
    Repeat {
        /// The repeated value.
        value: Value,
        /// Repetitions left (None: forever).
        left: Option<usize>,
    },
    /// itertools.cycle().
    Cycle {
        /// The underlying iterator (Null once exhausted).
        inner: Value,
        /// The items seen so far.
        saved: Vec<Value>,
        /// The next saved item to repeat.
        index: usize,
    },
    /// itertools.takewhile() (`func` None once the predicate failed).
    TakeWhile {
        /// The predicate.
        func: Value,
        /// The underlying iterator.
        inner: Value,
    },
    /// itertools.dropwhile() (`func` None once the predicate failed).
    DropWhile {
        /// The predicate.
        func: Value,
        /// The underlying iterator.
        inner: Value,
    },
    /// itertools.starmap().
    StarMap {
        /// The function.
        func: Value,
        /// The underlying iterator of argument tuples.
        inner: Value,
    },
    /// itertools.batched(): tuples of `n` items.
    Batched {
        /// The underlying iterator.
        inner: Value,
        /// The batch size (at least 1).
        n: usize,
    },
    /// One of the iterators of itertools.tee(): they read their common source through a
    /// shared chain of links.
    Tee {
        /// The common source iterator.
        source: Value,
        /// The link holding this iterator's next item (empty: not read from the source yet).
        link: Rc<TeeLink>,
    },
    /// Exhausted.
    Done,
}

/// One item tee() iterators have read from their common source, and the link to the next.
/// Iterators hold only the link of their next item, so a link is freed once every iterator
/// has moved past it (CPython's tee frees what all its iterators have read, too).
#[derive(Debug, Default)]
pub struct TeeLink {
    /// The item, once read.
    pub item: RefCell<Option<Value>>,
    /// The next link, made when the item is read.
    pub next: RefCell<Option<Rc<TeeLink>>>,
}

impl Drop for TeeLink {
    fn drop(&mut self) {
        // Unlink iteratively: a chain of a million unread links must not recurse.
        let mut next = self.next.get_mut().take();
        while let Some(link) = next {
            next = match Rc::try_unwrap(link) {
                Ok(mut link) => link.next.get_mut().take(),
                Err(_) => None,
            };
        }
    }
}

/// A built-in iterator.
#[derive(Debug)]
pub struct Iter {
    /// Its state.
    pub state: RefCell<IterState>,
}

/// A module.
#[derive(Debug)]
pub struct Module {
    /// Its name.
    pub name: Rc<PyStr>,
    /// Its namespace.
    pub dict: Rc<DictObj>,
}

impl Module {
    /// A native module: a namespace with `__name__` and the given members.
    pub fn native<'a>(name: &str, members: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        let dict = crate::ops::new_dict();
        dict.set_str(&crate::pystr::intern("__name__"), Value::str(name));
        for (member, value) in members {
            dict.set_str(&crate::pystr::intern(member), value);
        }
        Value::Module(Rc::new(Module {
            name: crate::pystr::intern(name),
            dict,
        }))
    }
}

/// Descriptor and proxy objects.
#[derive(Debug)]
pub enum Wrapper {
    /// property(fget, fset, fdel, doc).
    Property {
        /// Getter.
        fget: Value,
        /// Setter.
        fset: Value,
        /// Deleter.
        fdel: Value,
        /// Docstring.
        doc: Value,
    },
    /// staticmethod(f).
    StaticMethod(Value),
    /// classmethod(f).
    ClassMethod(Value),
    /// A file from `open()`.
    File(RefCell<crate::files::FileState>),
    /// `dict.keys()`, `dict.values()`, `dict.items()`: live views of a dict.
    DictView {
        /// The dict.
        dict: Rc<DictObj>,
        /// Which part it shows.
        part: DictPart,
    },
    /// A `__slots__` entry on its class (`member_descriptor`): a data descriptor reading and
    /// writing slot `index` of an instance.
    Member {
        /// The slot's (mangled) name.
        name: Rc<PyStr>,
        /// Its index in [`Instance::slots`].
        index: usize,
        /// The class that defines it (weak: the class holds the descriptor).
        owner: std::rc::Weak<Type>,
    },
    /// super(type, obj): lookups start after `this` in the MRO of `obj`'s type.
    Super {
        /// The class where the lookup starts (exclusive).
        this: Rc<Type>,
        /// The object (or class) methods bind to.
        obj: Value,
        /// The type whose MRO is searched.
        obj_type: Rc<Type>,
    },
}
