//! Type objects: name, bases, C3 MRO, namespace, and the table of built-in types.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use crate::dict::{DictMap, DictObj};
use crate::objects::NativeFn;
use crate::pystr::{intern, PyStr};
use crate::value::Value;

/// A type object.
#[derive(Debug)]
pub struct Type {
    /// `__name__`.
    pub name: Rc<PyStr>,
    /// `__qualname__`.
    pub qualname: RefCell<Rc<PyStr>>,
    /// `__bases__`.
    pub bases: Vec<Rc<Type>>,
    /// `__mro__` without the type itself (which would make a reference cycle).
    pub mro: Vec<Rc<Type>>,
    /// The namespace.
    pub dict: Rc<DictObj>,
    /// Whether instances are exceptions (a subclass of BaseException).
    pub is_exception: bool,
    /// Whether this is a built-in type (its attributes cannot be set).
    pub builtin: bool,
    /// How calling a built-in type constructs its instances (`None`: generic object creation
    /// with `__new__`/`__init__`).
    pub new: Option<NativeFn>,
    /// Results of MRO lookups, valid while the global type epoch is unchanged.
    pub cache: RefCell<AttrCache>,
    /// The metaclass, when it is not `type`.
    pub meta: Option<Rc<Type>>,
    /// (epoch, whether instance attributes are plain): see [`Type::plain_attributes`].
    pub plain: Cell<(u64, bool)>,
    /// How many `__slots__` values instances carry (those of the bases included).
    pub nslots: usize,
    /// Whether instances have no `__dict__` (every class in the MRO defines `__slots__`
    /// without `"__dict__"`).
    pub dictless: bool,
    /// (epoch, whether instances have `__del__`): see [`Type::has_finalizer`].
    pub finalizer: Cell<(u64, bool)>,
}

/// A hasher for pointer-sized keys that are already well distributed.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_usize(&mut self, v: usize) {
        self.0 = (v as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The per-type lookup cache: (epoch, name address → (name, result)). Each entry keeps its
/// name alive, so the address cannot be reused by another string while it is cached.
#[derive(Debug, Default)]
pub struct AttrCache {
    epoch: u64,
    map: HashMap<usize, (Rc<PyStr>, Option<Value>), BuildHasherDefault<PassThrough>>,
}

thread_local! {
    static EPOCH: Cell<u64> = const { Cell::new(1) };
}

/// Invalidates every type's lookup cache (called when a class namespace changes).
pub fn bump_epoch() {
    EPOCH.with(|e| e.set(e.get() + 1));
}

impl Type {
    /// A built-in type.
    pub fn builtin(name: &str, base: Option<&Rc<Type>>, new: Option<NativeFn>) -> Rc<Type> {
        let (bases, mro, is_exception) = match base {
            Some(b) => {
                let mut mro = vec![b.clone()];
                mro.extend(b.mro.iter().cloned());
                (
                    vec![b.clone()],
                    mro,
                    b.is_exception || name == "BaseException",
                )
            }
            None => (vec![], vec![], false),
        };
        Rc::new(Type {
            name: intern(name),
            qualname: RefCell::new(intern(name)),
            bases,
            mro,
            dict: DictObj::new(DictMap::new()),
            is_exception: is_exception || name == "BaseException",
            builtin: true,
            new,
            cache: RefCell::default(),
            meta: None,
            plain: Cell::new((0, false)),
            nslots: 0,
            // Instances of `object` itself have no __dict__.
            dictless: name == "object",
            finalizer: Cell::new((0, false)),
        })
    }

    /// Looks `name` up along the MRO.
    #[inline]
    pub fn lookup(&self, name: &Rc<PyStr>) -> Option<Value> {
        let epoch = EPOCH.with(Cell::get);
        let mut cache = self.cache.borrow_mut();
        if cache.epoch != epoch {
            cache.map.clear();
            cache.epoch = epoch;
        }
        let key = Rc::as_ptr(name) as usize;
        if let Some((_, v)) = cache.map.get(&key) {
            return v.clone();
        }
        let v = self
            .dict
            .get_str(name)
            .or_else(|| self.mro.iter().find_map(|t| t.dict.get_str(name)));
        cache.map.insert(key, (name.clone(), v.clone()));
        v
    }

    /// Whether attribute access on instances is plain dictionary access: no data descriptor
    /// (property, or a class with `__set__`/`__delete__`) anywhere in the MRO, no
    /// `__setattr__`/`__delattr__`, no wrapped built-in value. Cached per type epoch; lets the
    /// eval loop read and write instance attributes without any class lookup.
    pub fn plain_attributes(&self) -> bool {
        let epoch = EPOCH.with(Cell::get);
        let (at, plain) = self.plain.get();
        if at == epoch {
            return plain;
        }
        let special = |k: &Value| match k {
            Value::Str(s) => {
                matches!(
                    s.as_str(),
                    "__setattr__" | "__delattr__" | "__getattribute__"
                )
            }
            _ => false,
        };
        let descriptor = |v: &Value| match v {
            Value::Wrapper(w) => matches!(
                &**w,
                crate::objects::Wrapper::Property { .. } | crate::objects::Wrapper::Member { .. }
            ),
            Value::Instance(i) => {
                i.class.lookup(&crate::pystr::intern("__set__")).is_some()
                    || i.class
                        .lookup(&crate::pystr::intern("__delete__"))
                        .is_some()
            }
            _ => false,
        };
        let clean = |t: &Type| {
            t.dict
                .map
                .borrow()
                .iter()
                .all(|(k, v)| !special(k) && !descriptor(v))
        };
        let plain = self.builtin_base().is_none()
            && !self.dictless
            && !self.is_exception
            && clean(self)
            && self.mro.iter().all(|t| clean(t));
        self.plain.set((epoch, plain));
        plain
    }

    /// Whether instances have a `__del__` (`del` is the interned name), cached per type epoch;
    /// false while the thread's state is torn down.
    pub fn has_finalizer(&self, del: &Rc<PyStr>) -> bool {
        let Ok(epoch) = EPOCH.try_with(Cell::get) else {
            return false;
        };
        let (at, has) = self.finalizer.get();
        if at == epoch {
            return has;
        }
        let has = self.dict.get_str(del).is_some()
            || self.mro.iter().any(|b| b.dict.get_str(del).is_some());
        self.finalizer.set((epoch, has));
        has
    }

    /// The built-in type (other than object) whose values instances of this class wrap.
    pub fn builtin_base(&self) -> Option<Rc<Type>> {
        if self.builtin {
            return None;
        }
        self.mro
            .iter()
            .find(|b| b.builtin && b.new.is_some() && b.name.as_str() != "object")
            .cloned()
    }

    /// Whether `self` is `other` or a subclass of it.
    pub fn is_subtype(self: &Rc<Type>, other: &Rc<Type>) -> bool {
        Rc::ptr_eq(self, other) || self.mro.iter().any(|t| Rc::ptr_eq(t, other))
    }

    /// The `__module__` of the type.
    pub fn module_name(&self) -> String {
        match self.dict.get_str(&intern("__module__")) {
            Some(Value::Str(s)) => s.as_str().to_owned(),
            _ => "builtins".into(),
        }
    }
}

/// C3 linearization of `bases` (the MRO without the new class itself), or, when the bases
/// admit no consistent order, the classes left unmerged (for the error message).
pub fn c3_mro(bases: &[Rc<Type>]) -> Result<Vec<Rc<Type>>, Vec<Rc<Type>>> {
    let mut seqs: Vec<Vec<Rc<Type>>> = bases
        .iter()
        .map(|b| {
            let mut s = vec![b.clone()];
            s.extend(b.mro.iter().cloned());
            s
        })
        .collect();
    seqs.push(bases.to_vec());
    let mut out = Vec::new();
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Ok(out);
        }
        let head = seqs.iter().map(|s| s[0].clone()).find(|cand| {
            !seqs
                .iter()
                .any(|s| s[1..].iter().any(|t| Rc::ptr_eq(t, cand)))
        });
        let Some(head) = head else {
            let mut left: Vec<Rc<Type>> = Vec::new();
            for s in &seqs {
                if !left.iter().any(|t| Rc::ptr_eq(t, &s[0])) {
                    left.push(s[0].clone());
                }
            }
            return Err(left);
        };
        for s in &mut seqs {
            if Rc::ptr_eq(&s[0], &head) {
                s.remove(0);
            }
        }
        out.push(head);
    }
}

macro_rules! builtin_types {
    ($($field:ident = $name:literal),* $(,)?) => {
        /// The built-in types.
        #[derive(Debug)]
        pub struct Types {
            $(#[doc = $name] pub $field: Rc<Type>,)*
            /// Every exception class, by name, in definition order.
            pub exceptions: Vec<Rc<Type>>,
        }

        impl Types {
            /// Names and types of the non-exception built-in types, for the builtins module.
            pub fn named(&self) -> Vec<(&'static str, Rc<Type>)> {
                vec![$(($name, self.$field.clone()),)*]
            }
        }
    };
}

builtin_types! {
    object = "object",
    type_ = "type",
    int = "int",
    bool_ = "bool",
    float = "float",
    complex = "complex",
    str_ = "str",
    bytes = "bytes",
    bytearray = "bytearray",
    tuple = "tuple",
    list = "list",
    dict = "dict",
    set = "set",
    frozenset = "frozenset",
    none = "NoneType",
    not_implemented = "NotImplementedType",
    ellipsis = "ellipsis",
    range = "range",
    slice = "slice",
    function = "function",
    builtin_function = "builtin_function_or_method",
    method = "method",
    cell = "cell",
    code = "code",
    generator = "generator",
    iterator = "iterator",
    module = "module",
    property = "property",
    staticmethod = "staticmethod",
    classmethod = "classmethod",
    super_ = "super",
    enumerate = "enumerate",
    zip = "zip",
    map = "map",
    filter = "filter",
    reversed = "reversed",
    file = "TextIOWrapper",
    dict_keys = "dict_keys",
    dict_values = "dict_values",
    dict_items = "dict_items",
    member_descriptor = "member_descriptor",
    typevar = "TypeVar",
    paramspec = "ParamSpec",
    typevartuple = "TypeVarTuple",
    type_alias = "TypeAliasType",
    generic = "Generic",
    generic_alias = "GenericAlias",
    typing_alias = "_GenericAlias",
    union_type = "UnionType",
    typing_union = "_UnionGenericAlias",
}

/// The exception hierarchy: (name, base) in an order where each base comes first.
pub const EXCEPTIONS: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("SystemExit", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("GeneratorExit", "BaseException"),
    ("Exception", "BaseException"),
    ("StopIteration", "Exception"),
    ("StopAsyncIteration", "Exception"),
    ("ArithmeticError", "Exception"),
    ("FloatingPointError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("AssertionError", "Exception"),
    ("AttributeError", "Exception"),
    ("BufferError", "Exception"),
    ("EOFError", "Exception"),
    ("ImportError", "Exception"),
    ("ModuleNotFoundError", "ImportError"),
    ("LookupError", "Exception"),
    ("IndexError", "LookupError"),
    ("KeyError", "LookupError"),
    ("MemoryError", "Exception"),
    ("NameError", "Exception"),
    ("UnboundLocalError", "NameError"),
    ("OSError", "Exception"),
    ("BlockingIOError", "OSError"),
    ("ChildProcessError", "OSError"),
    ("ConnectionError", "OSError"),
    ("BrokenPipeError", "ConnectionError"),
    ("ConnectionAbortedError", "ConnectionError"),
    ("ConnectionRefusedError", "ConnectionError"),
    ("ConnectionResetError", "ConnectionError"),
    ("FileExistsError", "OSError"),
    ("FileNotFoundError", "OSError"),
    ("InterruptedError", "OSError"),
    ("IsADirectoryError", "OSError"),
    ("NotADirectoryError", "OSError"),
    ("PermissionError", "OSError"),
    ("ProcessLookupError", "OSError"),
    ("TimeoutError", "OSError"),
    ("ReferenceError", "Exception"),
    ("RuntimeError", "Exception"),
    ("NotImplementedError", "RuntimeError"),
    ("RecursionError", "RuntimeError"),
    ("SyntaxError", "Exception"),
    ("IndentationError", "SyntaxError"),
    ("TabError", "IndentationError"),
    ("SystemError", "Exception"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("UnicodeError", "ValueError"),
    ("UnicodeDecodeError", "UnicodeError"),
    ("UnicodeEncodeError", "UnicodeError"),
    ("UnicodeTranslateError", "UnicodeError"),
    ("Warning", "Exception"),
    ("BytesWarning", "Warning"),
    ("DeprecationWarning", "Warning"),
    ("EncodingWarning", "Warning"),
    ("FutureWarning", "Warning"),
    ("ImportWarning", "Warning"),
    ("PendingDeprecationWarning", "Warning"),
    ("ResourceWarning", "Warning"),
    ("RuntimeWarning", "Warning"),
    ("SyntaxWarning", "Warning"),
    ("UnicodeWarning", "Warning"),
    ("UserWarning", "Warning"),
];
