//! The value representation: a 16-byte enum. Small ints, floats, bools, `None` and the other
//! singletons are unboxed; every heap object is an `Rc` to its own Rust type, so dispatch on a
//! value's kind is one `match` on the tag and never a type-object lookup.

use std::cell::RefCell;
use std::rc::Rc;

use num_bigint::BigInt;

use crate::code::Code;
use crate::dict::DictObj;
use crate::objects::{
    BoundMethod, BuiltinFunction, Cell, Function, Generator, Instance, Iter, ListObj, Module,
    Range, SetObj, Slice, Wrapper,
};
use crate::pystr::PyStr;
use crate::types::Type;

/// A Python value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// CPython's NULL: an unbound local slot or the absent "self" under a callable on the value
    /// stack. Python code never sees it.
    #[default]
    Null,
    /// `None`.
    None,
    /// `NotImplemented`.
    NotImplemented,
    /// `...`.
    Ellipsis,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits in an i64.
    Int(i64),
    /// A float.
    Float(f64),
    /// A complex number (real, imaginary).
    Complex(Rc<(f64, f64)>),
    /// An int outside the i64 range (never one that fits).
    BigInt(Rc<BigInt>),
    /// A str.
    Str(Rc<PyStr>),
    /// A bytes object.
    Bytes(Rc<Vec<u8>>),
    /// A bytearray: a mutable byte buffer.
    ByteArray(Rc<RefCell<Vec<u8>>>),
    /// A tuple.
    Tuple(Rc<Vec<Value>>),
    /// A list.
    List(Rc<ListObj>),
    /// A dict.
    Dict(Rc<DictObj>),
    /// A set or frozenset.
    Set(Rc<SetObj>),
    /// A range.
    Range(Rc<Range>),
    /// A slice.
    Slice(Rc<Slice>),
    /// A Python function.
    Function(Rc<Function>),
    /// A function implemented in Rust (possibly bound to a self).
    Builtin(Rc<BuiltinFunction>),
    /// A function bound to its first argument.
    BoundMethod(Rc<BoundMethod>),
    /// A type object.
    Type(Rc<Type>),
    /// An instance of a class defined in Python (or of an exception class).
    Instance(Rc<Instance>),
    /// A closure cell.
    Cell(Rc<Cell>),
    /// A code object.
    Code(Rc<Code>),
    /// A generator.
    Generator(Rc<Generator>),
    /// A built-in iterator.
    Iter(Rc<Iter>),
    /// A module.
    Module(Rc<Module>),
    /// property, staticmethod, classmethod, super.
    Wrapper(Rc<Wrapper>),
}

impl Value {
    /// A str value.
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::new(PyStr::new(s.to_owned())))
    }

    /// A str value from an owned String.
    pub fn string(s: String) -> Value {
        Value::Str(Rc::new(PyStr::new(s)))
    }

    /// A tuple value.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(items))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(ListObj::new(items)))
    }

    /// An int from a big integer, unboxed when it fits.
    pub fn from_bigint(b: BigInt) -> Value {
        match i64::try_from(&b) {
            Ok(v) => Value::Int(v),
            Err(_) => Value::BigInt(Rc::new(b)),
        }
    }

    /// `a is b`.
    pub fn is(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) | (None, None) | (NotImplemented, NotImplemented) => true,
            (Ellipsis, Ellipsis) => true,
            (Bool(a), Bool(b)) => a == b,
            // Small ints are shared in CPython; ours are unboxed, so equal ints are identical.
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (BigInt(a), BigInt(b)) => Rc::ptr_eq(a, b),
            (Str(a), Str(b)) => Rc::ptr_eq(a, b),
            (Bytes(a), Bytes(b)) => Rc::ptr_eq(a, b),
            (ByteArray(a), ByteArray(b)) => Rc::ptr_eq(a, b),
            (Tuple(a), Tuple(b)) => Rc::ptr_eq(a, b) || (a.is_empty() && b.is_empty()),
            (List(a), List(b)) => Rc::ptr_eq(a, b),
            (Dict(a), Dict(b)) => Rc::ptr_eq(a, b),
            (Set(a), Set(b)) => Rc::ptr_eq(a, b),
            (Range(a), Range(b)) => Rc::ptr_eq(a, b),
            (Slice(a), Slice(b)) => Rc::ptr_eq(a, b),
            (Function(a), Function(b)) => Rc::ptr_eq(a, b),
            (Builtin(a), Builtin(b)) => Rc::ptr_eq(a, b),
            (BoundMethod(a), BoundMethod(b)) => Rc::ptr_eq(a, b),
            (Type(a), Type(b)) => Rc::ptr_eq(a, b),
            (Instance(a), Instance(b)) => Rc::ptr_eq(a, b),
            (Cell(a), Cell(b)) => Rc::ptr_eq(a, b),
            (Code(a), Code(b)) => Rc::ptr_eq(a, b),
            (Generator(a), Generator(b)) => Rc::ptr_eq(a, b),
            (Iter(a), Iter(b)) => Rc::ptr_eq(a, b),
            (Module(a), Module(b)) => Rc::ptr_eq(a, b),
            (Wrapper(a), Wrapper(b)) => Rc::ptr_eq(a, b),
            (Complex(a), Complex(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// A stable address for `id()` and default reprs.
    pub fn id(&self) -> usize {
        use Value::*;
        fn p<T>(r: &Rc<T>) -> usize {
            Rc::as_ptr(r) as usize
        }
        match self {
            Null => 0,
            None => 0x1000,
            NotImplemented => 0x1010,
            Ellipsis => 0x1020,
            Bool(b) => 0x1030 + usize::from(*b) * 16,
            Int(v) => 0x10_0000 ^ (*v as usize).wrapping_mul(16),
            Float(v) => v.to_bits() as usize,
            BigInt(r) => p(r),
            Str(r) => p(r),
            Bytes(r) => p(r),
            ByteArray(r) => p(r),
            Tuple(r) => p(r),
            List(r) => p(r),
            Dict(r) => p(r),
            Set(r) => p(r),
            Range(r) => p(r),
            Slice(r) => p(r),
            Function(r) => p(r),
            Builtin(r) => p(r),
            BoundMethod(r) => p(r),
            Type(r) => p(r),
            Instance(r) => p(r),
            Cell(r) => p(r),
            Code(r) => p(r),
            Generator(r) => p(r),
            Iter(r) => p(r),
            Module(r) => p(r),
            Wrapper(r) => p(r),
            Complex(r) => p(r),
        }
    }

    /// The str inside, if this is a str.
    pub fn as_str(&self) -> Option<&Rc<PyStr>> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);
