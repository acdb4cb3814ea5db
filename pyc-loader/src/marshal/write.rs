//! The deterministic marshal writer.
//!
//! CPython marks an object with FLAG_REF when its reference count is above one at the time of
//! writing, which makes its output depend on what else is alive. We decide from the value
//! alone instead: an object gets FLAG_REF when it occurs more than once in what is written
//! (leaves compared by value, containers by identity) or when CPython always shares it
//! (interned strings, small ints, the empty tuple and the empty bytes). Equal input gives
//! equal bytes, whatever the thread, order or environment.

use std::collections::HashMap;
use std::sync::Arc;

use num_bigint::Sign;

use super::type_code as tc;
use super::{on_deep_stack, Int, Object, Str, DEEP, FLAG_REF, LONG_SHIFT, MAX_DEPTH};
use crate::code::CodeObject;

/// The object nests deeper than the reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("object nests deeper than {MAX_DEPTH} levels")]
pub struct TooDeep;

/// Serializes `obj` in marshal format version 4.
pub fn dumps(obj: &Object) -> Result<Vec<u8>, TooDeep> {
    let mut writer = Writer::default();
    writer.write(obj)?;
    Ok(writer.finish())
}

/// What identifies an object for sharing: leaves by value, containers by address.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(Int),
    Float(u64),
    Complex(u64, u64),
    Bytes(bytes::Bytes),
    Str(bool, Str),
    EmptyTuple,
    Container(usize),
}

/// How often each key occurs, then which reference index it was given.
#[derive(Default)]
struct Refs {
    count: HashMap<Key, u32>,
    index: HashMap<Key, u32>,
    next: u32,
}

/// A marshal writer that can append several objects to one buffer.
#[derive(Default)]
pub struct Writer {
    out: Vec<u8>,
    refs: Refs,
}

/// A borrowed view of anything the writer emits as one marshal object.
#[derive(Clone, Copy)]
enum Node<'a> {
    Obj(&'a Object),
    Tuple(&'a Arc<[Object]>),
    StrTuple(&'a Arc<[Str]>),
    Str(&'a Str),
    Bytes(&'a bytes::Bytes),
}

fn addr<T: ?Sized>(arc: &Arc<T>) -> Key {
    Key::Container(Arc::as_ptr(arc) as *const () as usize)
}

impl Node<'_> {
    /// The sharing key, or `None` for singletons (never flagged).
    fn key(self) -> Option<Key> {
        Some(match self {
            Node::Obj(obj) => match obj {
                Object::None
                | Object::True
                | Object::False
                | Object::Ellipsis
                | Object::StopIteration => return None,
                Object::Int(i) => Key::Int(i.clone()),
                Object::Float(f) => Key::Float(f.to_bits()),
                Object::Complex(re, im) => Key::Complex(re.to_bits(), im.to_bits()),
                Object::Bytes(b) => Key::Bytes(b.clone()),
                Object::Str(s) => Key::Str(s.is_interned(), s.clone()),
                Object::Tuple(t) if t.is_empty() => Key::EmptyTuple,
                Object::Tuple(t) | Object::List(t) | Object::Set(t) | Object::FrozenSet(t) => {
                    addr(t)
                }
                Object::Dict(d) => addr(d),
                Object::Code(c) => addr(c),
            },
            Node::Tuple(t) if t.is_empty() => Key::EmptyTuple,
            Node::Tuple(t) => addr(t),
            Node::StrTuple(t) if t.is_empty() => Key::EmptyTuple,
            Node::StrTuple(t) => addr(t),
            Node::Str(s) => Key::Str(s.is_interned(), s.clone()),
            Node::Bytes(b) => Key::Bytes(b.clone()),
        })
    }

    /// Objects CPython always holds more than once (immortal or interned).
    fn always_shared(self) -> bool {
        match self {
            Node::Obj(Object::Int(Int::Small(v))) => (-5..=256).contains(v),
            Node::Obj(Object::Str(s)) | Node::Str(s) => s.is_interned(),
            Node::Obj(Object::Tuple(t)) | Node::Tuple(t) => t.is_empty(),
            Node::StrTuple(t) => t.is_empty(),
            Node::Obj(Object::Bytes(b)) | Node::Bytes(b) => b.is_empty(),
            _ => false,
        }
    }
}

impl Writer {
    /// Appends `obj`. References may point to objects of earlier calls.
    pub fn write(&mut self, obj: &Object) -> Result<(), TooDeep> {
        self.count(Node::Obj(obj), 0)?;
        self.node(Node::Obj(obj), 0);
        Ok(())
    }

    /// The bytes written so far.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    /// First pass: count occurrences of each shareable object.
    fn count(&mut self, node: Node, depth: usize) -> Result<(), TooDeep> {
        if depth >= MAX_DEPTH {
            return Err(TooDeep);
        }
        if depth == DEEP {
            return on_deep_stack(|| self.count_children(node, depth));
        }
        self.count_children(node, depth)
    }

    fn count_children(&mut self, node: Node, depth: usize) -> Result<(), TooDeep> {
        let Some(key) = node.key() else { return Ok(()) };
        let seen = self.refs.count.entry(key).or_insert(0);
        *seen += 1;
        if *seen > 1 {
            return Ok(()); // its contents were counted the first time
        }
        let depth = depth + 1;
        match node {
            Node::Obj(Object::Tuple(items))
            | Node::Obj(Object::List(items))
            | Node::Obj(Object::Set(items))
            | Node::Obj(Object::FrozenSet(items))
            | Node::Tuple(items) => {
                for item in items.iter() {
                    self.count(Node::Obj(item), depth)?;
                }
            }
            Node::Obj(Object::Dict(items)) => {
                for (k, v) in items.iter() {
                    self.count(Node::Obj(k), depth)?;
                    self.count(Node::Obj(v), depth)?;
                }
            }
            Node::Obj(Object::Code(code)) => {
                for child in code_children(code) {
                    self.count(child, depth)?;
                }
            }
            Node::StrTuple(items) => {
                for s in items.iter() {
                    self.count(Node::Str(s), depth)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Second pass: emit, with FLAG_REF on first sight of a shared object and REF after.
    fn node(&mut self, node: Node, depth: usize) {
        if depth == DEEP {
            on_deep_stack(|| self.emit(node, depth));
        } else {
            self.emit(node, depth);
        }
    }

    fn emit(&mut self, node: Node, depth: usize) {
        let mut flag = 0;
        if let Some(key) = node.key() {
            if let Some(&index) = self.refs.index.get(&key) {
                self.out.push(tc::REF);
                self.i32_le(index);
                return;
            }
            if node.always_shared() || self.refs.count.get(&key).copied().unwrap_or(0) > 1 {
                self.refs.index.insert(key, self.refs.next);
                self.refs.next += 1;
                flag = FLAG_REF;
            }
        }
        match node {
            Node::Obj(obj) => self.object(obj, flag, depth),
            Node::Tuple(items) => self.items(tc::TUPLE, items, flag, depth),
            Node::StrTuple(items) => {
                self.sequence_header(tc::TUPLE, items.len(), flag);
                for s in items.iter() {
                    self.node(Node::Str(s), depth + 1);
                }
            }
            Node::Str(s) => self.str(s, flag),
            Node::Bytes(b) => self.bytes(b, flag),
        }
    }

    fn object(&mut self, obj: &Object, flag: u8, depth: usize) {
        match obj {
            Object::None => self.out.push(tc::NONE),
            Object::True => self.out.push(tc::TRUE),
            Object::False => self.out.push(tc::FALSE),
            Object::Ellipsis => self.out.push(tc::ELLIPSIS),
            Object::StopIteration => self.out.push(tc::STOPITER),
            Object::Int(i) => self.int(i, flag),
            Object::Float(f) => {
                self.out.push(tc::BINARY_FLOAT | flag);
                self.out.extend_from_slice(&f.to_le_bytes());
            }
            Object::Complex(re, im) => {
                self.out.push(tc::BINARY_COMPLEX | flag);
                self.out.extend_from_slice(&re.to_le_bytes());
                self.out.extend_from_slice(&im.to_le_bytes());
            }
            Object::Bytes(b) => self.bytes(b, flag),
            Object::Str(s) => self.str(s, flag),
            Object::Tuple(items) => self.items(tc::TUPLE, items, flag, depth),
            Object::List(items) => self.items(tc::LIST, items, flag, depth),
            Object::Set(items) => self.items(tc::SET, items, flag, depth),
            Object::FrozenSet(items) => self.items(tc::FROZENSET, items, flag, depth),
            Object::Dict(items) => {
                self.out.push(tc::DICT | flag);
                for (k, v) in items.iter() {
                    self.node(Node::Obj(k), depth + 1);
                    self.node(Node::Obj(v), depth + 1);
                }
                self.out.push(tc::NULL);
            }
            Object::Code(code) => self.code(code, flag, depth),
        }
    }

    fn i32_le(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn length(&mut self, n: usize) {
        // Our values come from marshal data or the compiler; neither holds 2**31 items.
        let n = u32::try_from(n).expect("marshal lengths fit in 32 bits");
        self.i32_le(n);
    }

    fn int(&mut self, value: &Int, flag: u8) {
        if let Int::Small(v) = value {
            if let Ok(v) = i32::try_from(*v) {
                self.out.push(tc::INT | flag);
                self.out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
        let (sign, magnitude) = value.to_big().into_parts();
        let digits = digits_15(&magnitude);
        let n = i32::try_from(digits.len()).expect("long fits marshal");
        self.out.push(tc::LONG | flag);
        let signed = if sign == Sign::Minus { -n } else { n };
        self.out.extend_from_slice(&signed.to_le_bytes());
        for d in digits {
            self.out.extend_from_slice(&d.to_le_bytes());
        }
    }

    fn bytes(&mut self, b: &[u8], flag: u8) {
        self.out.push(tc::STRING | flag);
        self.length(b.len());
        self.out.extend_from_slice(b);
    }

    fn str(&mut self, s: &Str, flag: u8) {
        let data = s.as_bytes();
        let interned = s.is_interned();
        if s.is_ascii() {
            if data.len() < 256 {
                let code = if interned {
                    tc::SHORT_ASCII_INTERNED
                } else {
                    tc::SHORT_ASCII
                };
                self.out.extend_from_slice(&[code | flag, data.len() as u8]);
            } else {
                let code = if interned {
                    tc::ASCII_INTERNED
                } else {
                    tc::ASCII
                };
                self.out.push(code | flag);
                self.length(data.len());
            }
        } else {
            let code = if interned { tc::INTERNED } else { tc::UNICODE };
            self.out.push(code | flag);
            self.length(data.len());
        }
        self.out.extend_from_slice(data);
    }

    fn sequence_header(&mut self, code: u8, n: usize, flag: u8) {
        if code == tc::TUPLE && n < 256 {
            self.out
                .extend_from_slice(&[tc::SMALL_TUPLE | flag, n as u8]);
        } else {
            self.out.push(code | flag);
            self.length(n);
        }
    }

    fn items(&mut self, code: u8, items: &[Object], flag: u8, depth: usize) {
        self.sequence_header(code, items.len(), flag);
        for item in items {
            self.node(Node::Obj(item), depth + 1);
        }
    }

    fn code(&mut self, code: &Arc<CodeObject>, flag: u8, depth: usize) {
        self.out.push(tc::CODE | flag);
        for v in [
            code.argcount,
            code.posonlyargcount,
            code.kwonlyargcount,
            code.stacksize,
            code.flags,
        ] {
            self.i32_le(v);
        }
        let children = code_children(code);
        let (before, after) = children.split_at(8);
        for child in before {
            self.node(*child, depth + 1);
        }
        self.i32_le(u32::from_le_bytes(code.firstlineno.to_le_bytes()));
        for child in after {
            self.node(*child, depth + 1);
        }
    }
}

/// A code object's object-valued fields in marshal order; `co_firstlineno` goes after the
/// eighth.
fn code_children(code: &CodeObject) -> [Node<'_>; 10] {
    [
        Node::Bytes(&code.code),
        Node::Tuple(&code.consts),
        Node::StrTuple(&code.names),
        Node::StrTuple(&code.localsplusnames),
        Node::Bytes(&code.localspluskinds),
        Node::Str(&code.filename),
        Node::Str(&code.name),
        Node::Str(&code.qualname),
        Node::Bytes(&code.linetable),
        Node::Bytes(&code.exceptiontable),
    ]
}

/// The base-2**15 digits of a magnitude, least significant first.
fn digits_15(magnitude: &num_bigint::BigUint) -> Vec<u16> {
    let count = magnitude.bits().div_ceil(u64::from(LONG_SHIFT));
    (0..count)
        .map(|i| {
            (0..u64::from(LONG_SHIFT))
                .filter(|&b| magnitude.bit(i * u64::from(LONG_SHIFT) + b))
                .fold(0u16, |d, b| d | (1 << b))
        })
        .collect()
}
