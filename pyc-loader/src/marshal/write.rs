//! The deterministic marshal writer.
//!
//! CPython marks an object with FLAG_REF when its reference count is above one at the time of
//! writing, which makes its output depend on what else is alive. We decide from the value
//! alone, by the rules that give CPython's own bytes for a freshly compiled module (what
//! `py_compile` writes):
//! - the compiler merges equal constants, and equal `co_consts`, `co_names`,
//!   `co_localsplusnames`, `co_linetable` and `co_exceptiontable` values, into one object
//!   (its constant cache), so those are shared by value: FLAG_REF when a value occurs twice;
//! - objects CPython always holds more than once are flagged even when they occur once:
//!   interned and immortal strings (`''`, one Latin-1 character, the compiler's `<lambda>`
//!   style names), small ints, the empty tuple, empty and one-byte constant bytes, the file
//!   name (shared by every code object and the caller), the outermost code object, and every
//!   `co_code` (CPython builds it afresh and caches it while writing);
//! - `co_qualname` is the very `co_name` object when the two are equal;
//! - everything else (nested code objects, `co_localspluskinds`, lists, dicts, sets) is shared
//!   only by identity.
//!
//! Equal input gives equal bytes, whatever the thread, order or environment.

use std::cell::Cell;
use std::sync::Arc;

use num_bigint::Sign;
use rustc_hash::{FxHashMap, FxHashSet};

use super::type_code as tc;
use super::{on_deep_stack, Int, Object, Str, DEEP, FLAG_REF, LONG_SHIFT, MAX_DEPTH};
use crate::code::CodeObject;

/// The object nests deeper than the reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("object nests deeper than {MAX_DEPTH} levels")]
pub struct TooDeep;

/// Serializes `obj` in marshal format version 4, writing set items in the order `obj` holds
/// them (what was read from marshal data stays as it was).
pub fn dumps(obj: &Object) -> Result<Vec<u8>, TooDeep> {
    write_with(obj, false)
}

/// Serializes `obj` as CPython 3.12's marshal writes a freshly compiled object: set items
/// sorted by their own marshal bytes (see [`Writer::set_order`]), whatever order `obj` holds
/// them in. For values made by the compiler, whose sets are in insertion order.
pub fn dumps_compiled(obj: &Object) -> Result<Vec<u8>, TooDeep> {
    write_with(obj, true)
}

thread_local! {
    /// This thread's sharing tables, emptied after each object but kept with their capacity
    /// for the next one (a tree compile writes thousands of objects per thread).
    static SPARE: Cell<Option<Spare>> = const { Cell::new(None) };
}

/// Tables grown past this many keys are dropped after use rather than kept.
const KEPT_KEYS: usize = 1 << 16;

fn write_with(obj: &Object, sort_sets: bool) -> Result<Vec<u8>, TooDeep> {
    let mut writer = Writer {
        out: Vec::new(),
        refs: Refs::from_spare(SPARE.take().unwrap_or_default()),
        sort_sets,
    };
    let written = writer.write(obj);
    let Writer { out, refs, .. } = writer;
    if refs.ids.len() <= KEPT_KEYS {
        SPARE.set(Some(refs.into_spare()));
    }
    written.map(|()| out)
}

/// The names CPython's compiler gives unnamed scopes: static, immortal strings.
const STATIC_NAMES: [&str; 6] = [
    "<module>",
    "<lambda>",
    "<genexpr>",
    "<listcomp>",
    "<setcomp>",
    "<dictcomp>",
];

/// What identifies an object for sharing, borrowing from the object being written (a clone
/// of a string or bytes value would cost an allocation or an atomic count each time).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key<'a> {
    Int(&'a Int),
    Float(u64),
    Complex(u64, u64),
    Bytes(&'a [u8]),
    /// A string's data, and whether it is interned.
    Str(bool, &'a [u8]),
    /// One of [`STATIC_NAMES`] as a code object's name.
    StaticName(&'a [u8]),
    /// The file name all code objects of a module share.
    Filename(&'a [u8]),
    /// A tuple by the key ids of its items.
    Tuple(Vec<u32>),
    /// A frozenset by the key ids of its items, in marshal order.
    FrozenSet(Vec<u32>),
    /// A singleton inside a tuple, by its type code.
    Singleton(u8),
    /// A field of one code object that is never shared (`co_code`, `co_localspluskinds`).
    Field(usize, u8),
    /// A mutable container or a code object, by address.
    Address(usize),
}

/// Keys numbered as they are first met (so a tuple's key is a flat list of numbers), how
/// often each occurs, then which reference index it was given.
struct Refs<'a> {
    ids: FxHashMap<Key<'a>, u32>,
    /// Key id of each tuple and frozenset met, by address: each is keyed once.
    memo: FxHashMap<usize, u32>,
    /// Key id of each node keyed so far, by [`Node::place`]: both passes key every node they
    /// visit, the second one from here.
    placed: FxHashMap<(usize, u8), u32>,
    /// Occurrences of each key id.
    count: Vec<u32>,
    /// The reference index of each key id written with FLAG_REF so far (`None` past the end).
    index: Vec<Option<u32>>,
    next: u32,
    /// Class bodies (by address) whose `co_qualname` is the object of their `__qualname__`
    /// constant.
    qualname_is_const: FxHashSet<usize>,
}

/// The tables of [`Refs`] that hold no borrowed keys, kept empty between objects; the key
/// table is made afresh, as large as the last one grew.
#[derive(Default)]
struct Spare {
    memo: FxHashMap<usize, u32>,
    placed: FxHashMap<(usize, u8), u32>,
    count: Vec<u32>,
    index: Vec<Option<u32>>,
    qualname_is_const: FxHashSet<usize>,
    keys: usize,
}

impl<'a> Refs<'a> {
    fn from_spare(spare: Spare) -> Refs<'a> {
        Refs {
            ids: FxHashMap::with_capacity_and_hasher(spare.keys, Default::default()),
            memo: spare.memo,
            placed: spare.placed,
            count: spare.count,
            index: spare.index,
            next: 0,
            qualname_is_const: spare.qualname_is_const,
        }
    }

    /// Forgets every key, keeping the tables' capacity.
    fn into_spare(mut self) -> Spare {
        self.memo.clear();
        self.placed.clear();
        self.count.clear();
        self.index.clear();
        self.qualname_is_const.clear();
        Spare {
            memo: self.memo,
            placed: self.placed,
            count: self.count,
            index: self.index,
            qualname_is_const: self.qualname_is_const,
            keys: self.ids.len(),
        }
    }

    fn intern(&mut self, key: Key<'a>) -> u32 {
        let next = self.ids.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            self.count.push(0);
        }
        id
    }

    fn index_of(&self, id: u32) -> Option<u32> {
        self.index.get(id as usize).copied().flatten()
    }

    /// Gives key `id` the next reference index.
    fn assign_index(&mut self, id: u32) {
        let at = id as usize;
        if self.index.len() <= at {
            self.index.resize(at + 1, None);
        }
        self.index[at] = Some(self.next);
        self.next += 1;
    }
}

/// A marshal writer for one object (addresses key objects, so everything written must stay
/// alive until the writer is done).
struct Writer<'a> {
    out: Vec<u8>,
    refs: Refs<'a>,
    /// Write set items in CPython 3.12's sorted order rather than the stored one.
    sort_sets: bool,
}

/// A borrowed view of anything the writer emits as one marshal object, with the role that
/// decides how CPython would share it.
#[derive(Clone, Copy)]
enum Node<'a> {
    /// A value: a constant, or any marshal data.
    Obj(&'a Object),
    /// An item of a frozenset constant: CPython's constant cache keeps a second reference.
    SetItem(&'a Object),
    /// `co_consts`.
    Tuple(&'a Arc<[Object]>),
    /// `co_names` or `co_localsplusnames`.
    StrTuple(&'a Arc<[Str]>),
    /// `co_linetable` or `co_exceptiontable`: merged by value.
    Table(&'a bytes::Bytes),
    /// `co_code` of the code object at this address.
    Code(&'a bytes::Bytes, usize),
    /// `co_localspluskinds` of the code object at this address.
    Kinds(&'a bytes::Bytes, usize),
    /// `co_filename`.
    Filename(&'a Str),
    /// `co_name` of the code object at this address, or a `co_qualname` that is the same
    /// object.
    Name(&'a Str, usize),
    /// An item of `co_names` or `co_localsplusnames`: shared by value.
    Str(&'a Str),
    /// A `co_qualname` that differs from the name, of the code object at this address: a
    /// string of its own.
    Qualname(&'a Str, usize),
}

fn addr<T: ?Sized>(arc: &Arc<T>) -> usize {
    Arc::as_ptr(arc) as *const () as usize
}

fn str_key(s: &Str) -> Key<'_> {
    Key::Str(s.is_interned(), s.as_bytes())
}

/// Whether a code object's name is one of [`STATIC_NAMES`].
fn is_static_name(s: &Str) -> bool {
    !s.is_interned() && STATIC_NAMES.iter().any(|n| s.as_str() == Some(n))
}

/// Strings CPython keeps as immortal singletons: the empty string and one Latin-1 character.
fn is_immortal_str(s: &Str) -> bool {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) => true,
        (Some(c), None) => c < 256,
        _ => false,
    }
}

fn place_of<T>(value: &T, role: u8) -> (usize, u8) {
    (value as *const T as usize, role)
}

impl Node<'_> {
    /// Where the node's value lives in the object being written, and its role: the same place
    /// in the same role always gets the same key.
    fn place(self) -> (usize, u8) {
        match self {
            Node::Obj(obj) | Node::SetItem(obj) => place_of(obj, 0),
            Node::Tuple(items) => place_of(items, 1),
            Node::StrTuple(items) => place_of(items, 2),
            Node::Table(b) => place_of(b, 3),
            Node::Code(b, _) => place_of(b, 4),
            Node::Kinds(b, _) => place_of(b, 5),
            Node::Filename(s) => place_of(s, 6),
            Node::Name(s, _) => place_of(s, 7),
            Node::Str(s) => place_of(s, 8),
            Node::Qualname(s, _) => place_of(s, 9),
        }
    }

    /// An interned string: shared by value and always flagged (see [`Node::always_shared`]).
    fn is_interned_str(self) -> bool {
        match self {
            Node::Obj(Object::Str(s)) | Node::Str(s) | Node::Name(s, _) | Node::Qualname(s, _) => {
                s.is_interned()
            }
            _ => false,
        }
    }

    /// Objects CPython always holds more than once (immortal, interned, or kept by the
    /// writer or its caller); `outermost` is the object `write` was given.
    fn always_shared(self, outermost: bool) -> bool {
        if outermost {
            return true;
        }
        match self {
            Node::SetItem(_) => true,
            Node::Obj(Object::Int(Int::Small(v))) => (-5..=256).contains(v),
            Node::Obj(Object::Str(s)) | Node::Str(s) | Node::Qualname(s, _) => {
                s.is_interned() || is_immortal_str(s)
            }
            Node::Name(s, _) => s.is_interned() || is_immortal_str(s) || is_static_name(s),
            Node::Obj(Object::Tuple(t)) | Node::Tuple(t) => t.is_empty(),
            Node::StrTuple(t) => t.is_empty(),
            Node::Obj(Object::Bytes(b)) => b.len() <= 1,
            Node::Table(b) | Node::Kinds(b, _) => b.is_empty(),
            Node::Code(..) | Node::Filename(_) => true,
            _ => false,
        }
    }
}

impl<'a> Writer<'a> {
    /// The key id of a node, or `None` for singletons (never flagged). Tuples are keyed by
    /// their items' ids, computed once per tuple.
    fn key(&mut self, node: Node<'a>, depth: usize) -> Result<Option<u32>, TooDeep> {
        if let Node::Obj(obj) | Node::SetItem(obj) = node {
            if is_singleton(obj) {
                return Ok(None);
            }
        }
        let place = node.place();
        if let Some(&id) = self.refs.placed.get(&place) {
            return Ok(Some(id));
        }
        let id = self.new_key(node, depth)?;
        self.refs.placed.insert(place, id);
        Ok(Some(id))
    }

    /// The key id of a node not keyed before (not a singleton).
    fn new_key(&mut self, node: Node<'a>, depth: usize) -> Result<u32, TooDeep> {
        let key = match node {
            Node::Obj(obj) | Node::SetItem(obj) => match obj {
                Object::None
                | Object::True
                | Object::False
                | Object::Ellipsis
                | Object::StopIteration => unreachable!("singletons have no key"),
                Object::Int(i) => Key::Int(i),
                // NaN never equals itself, so CPython's constant cache never merges one.
                Object::Float(f) if f.is_nan() => Key::Field(obj as *const Object as usize, 4),
                Object::Complex(re, im) if re.is_nan() || im.is_nan() => {
                    Key::Field(obj as *const Object as usize, 4)
                }
                Object::Float(f) => Key::Float(f.to_bits()),
                Object::Complex(re, im) => Key::Complex(re.to_bits(), im.to_bits()),
                Object::Bytes(b) => Key::Bytes(b),
                Object::Str(s) => str_key(s),
                Object::Tuple(items) => return self.items_key(items, false, depth),
                // CPython 3.12's constant cache does not merge equal frozensets of
                // different code objects (it does compare them by value inside tuples).
                Object::FrozenSet(items) | Object::List(items) | Object::Set(items) => {
                    Key::Address(addr(items))
                }
                Object::Dict(items) => Key::Address(addr(items)),
                Object::Code(code) => Key::Address(addr(code)),
            },
            Node::Tuple(items) => return self.items_key(items, false, depth),
            Node::StrTuple(items) => {
                let ids = items.iter().map(|s| self.refs.intern(str_key(s))).collect();
                Key::Tuple(ids)
            }
            Node::Table(b) => Key::Bytes(b),
            Node::Code(_, code) => Key::Field(code, 0),
            Node::Kinds(b, _) if b.is_empty() => Key::Bytes(b),
            Node::Kinds(_, code) => Key::Field(code, 1),
            Node::Filename(s) => Key::Filename(s.as_bytes()),
            Node::Name(s, _) if is_static_name(s) => Key::StaticName(s.as_bytes()),
            // Other made-up names (`<generic parameters of f>`) are strings of their own.
            Node::Name(s, code) if !s.is_interned() => Key::Field(code, 3),
            Node::Name(s, _) | Node::Str(s) => str_key(s),
            // An interned qualified name (3.13 interns them) is the one interned string.
            Node::Qualname(s, _) if s.is_interned() => str_key(s),
            Node::Qualname(_, code) => Key::Field(code, 2),
        };
        Ok(self.refs.intern(key))
    }

    fn items_key(
        &mut self,
        items: &'a Arc<[Object]>,
        frozen: bool,
        depth: usize,
    ) -> Result<u32, TooDeep> {
        if let Some(&id) = self.refs.memo.get(&addr(items)) {
            return Ok(id);
        }
        if depth >= MAX_DEPTH {
            return Err(TooDeep);
        }
        let mut ids = Vec::with_capacity(items.len());
        for item in items.iter() {
            let item_key = |writer: &mut Writer<'a>| match item {
                Object::FrozenSet(inner) => writer.items_key(inner, true, depth + 1).map(Some),
                _ => writer.key(Node::Obj(item), depth + 1),
            };
            let id = if depth + 1 == DEEP {
                on_deep_stack(|| item_key(self))?
            } else {
                item_key(self)?
            };
            ids.push(match id {
                Some(id) => id,
                None => self.refs.intern(Key::Singleton(singleton_code(item))),
            });
        }
        let id = self.refs.intern(if frozen {
            Key::FrozenSet(ids)
        } else {
            Key::Tuple(ids)
        });
        self.refs.memo.insert(addr(items), id);
        Ok(id)
    }

    /// Whether `code` is a class body whose `__qualname__` constant is, in CPython, its own
    /// `co_qualname` object: the compiler's constant cache takes the qualified name itself
    /// unless an equal string constant was met before (in marshal order, which follows
    /// compilation order).
    fn class_qualname_is_first_const(&mut self, code: &'a CodeObject) -> bool {
        const CO_OPTIMIZED_OR_NEWLOCALS: u32 = 0x3;
        let class_body = code.flags & CO_OPTIMIZED_OR_NEWLOCALS == 0
            && code.qualname != code.name
            && code.name.as_str() != Some("<module>");
        let as_const =
            |c: &Object| matches!(c, Object::Str(s) if *s == code.qualname && !s.is_interned());
        if !class_body || !code.consts.iter().any(as_const) {
            return false;
        }
        let key = Key::Str(false, code.qualname.as_bytes());
        let met = self
            .refs
            .ids
            .get(&key)
            .is_some_and(|&id| self.refs.count[id as usize] > 0);
        !met
    }

    /// Appends `obj`.
    fn write(&mut self, obj: &'a Object) -> Result<(), TooDeep> {
        self.count(Node::Obj(obj), 0)?;
        self.node(Node::Obj(obj), 0);
        Ok(())
    }

    /// First pass: count occurrences of each shareable object.
    fn count(&mut self, node: Node<'a>, depth: usize) -> Result<(), TooDeep> {
        if depth >= MAX_DEPTH {
            return Err(TooDeep);
        }
        if depth == DEEP {
            return on_deep_stack(|| self.count_children(node, depth));
        }
        self.count_children(node, depth)
    }

    fn count_children(&mut self, node: Node<'a>, depth: usize) -> Result<(), TooDeep> {
        if node.is_interned_str() {
            return Ok(()); // always flagged, whatever its count, and holds nothing
        }
        let Some(key) = self.key(node, depth)? else {
            return Ok(());
        };
        let seen = &mut self.refs.count[key as usize];
        *seen += 1;
        if *seen > 1 {
            return Ok(()); // its contents were counted the first time
        }
        let depth = depth + 1;
        let node = match node {
            Node::SetItem(obj) => Node::Obj(obj),
            other => other,
        };
        match node {
            Node::Obj(Object::Tuple(items))
            | Node::Obj(Object::List(items))
            | Node::Obj(Object::Set(items))
            | Node::Tuple(items) => {
                for item in items.iter() {
                    self.count(Node::Obj(item), depth)?;
                }
            }
            Node::Obj(Object::FrozenSet(items)) => {
                for item in items.iter() {
                    self.count(Node::SetItem(item), depth)?;
                }
            }
            Node::Obj(Object::Dict(items)) => {
                for (k, v) in items.iter() {
                    self.count(Node::Obj(k), depth)?;
                    self.count(Node::Obj(v), depth)?;
                }
            }
            Node::Obj(Object::Code(code)) => {
                if self.class_qualname_is_first_const(code) {
                    self.refs.qualname_is_const.insert(addr(code));
                }
                for child in code_children(code, &self.refs.qualname_is_const) {
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
    fn node(&mut self, node: Node<'a>, depth: usize) {
        if depth == DEEP {
            on_deep_stack(|| self.emit(node, depth));
        } else {
            self.emit(node, depth);
        }
    }

    fn emit(&mut self, node: Node<'a>, depth: usize) {
        let mut flag = 0;
        let key = self.key(node, depth).expect("keyed while counting");
        if let Some(key) = key {
            if let Some(index) = self.refs.index_of(key) {
                self.out.push(tc::REF);
                self.i32_le(index);
                return;
            }
            if node.always_shared(depth == 0) || self.refs.count[key as usize] > 1 {
                self.refs.assign_index(key);
                flag = FLAG_REF;
            }
        }
        match node {
            Node::Obj(obj) | Node::SetItem(obj) => self.object(obj, flag, depth),
            Node::Tuple(items) => self.items(tc::TUPLE, items, flag, depth),
            Node::StrTuple(items) => {
                self.sequence_header(tc::TUPLE, items.len(), flag);
                for s in items.iter() {
                    self.node(Node::Str(s), depth + 1);
                }
            }
            Node::Filename(s) | Node::Name(s, _) | Node::Str(s) | Node::Qualname(s, _) => {
                self.str(s, flag)
            }
            Node::Table(b) | Node::Code(b, _) | Node::Kinds(b, _) => self.bytes(b, flag),
        }
    }

    fn object(&mut self, obj: &'a Object, flag: u8, depth: usize) {
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
            Object::Set(items) => {
                self.sequence_header(tc::SET, items.len(), flag);
                for item in self.set_order(items, depth) {
                    self.node(Node::Obj(item), depth + 1);
                }
            }
            Object::FrozenSet(items) => {
                self.sequence_header(tc::FROZENSET, items.len(), flag);
                for item in self.set_order(items, depth) {
                    self.node(Node::SetItem(item), depth + 1);
                }
            }
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

    /// The order CPython 3.12 writes a set's items in: sorted by each item's own marshal
    /// bytes, made by a fresh writer (references numbered afresh) while the set is the item's
    /// holder, so FLAG_REF marks only what is shared anyway (interned, immortal, or merged
    /// with equal constants elsewhere in the module).
    fn set_order(&mut self, items: &'a [Object], depth: usize) -> Vec<&'a Object> {
        if !self.sort_sets {
            return items.iter().collect();
        }
        let mut keyed: Vec<(Vec<u8>, &Object)> = Vec::with_capacity(items.len());
        for item in items {
            let out = std::mem::take(&mut self.out);
            let index = std::mem::take(&mut self.refs.index);
            let next = std::mem::replace(&mut self.refs.next, 0);
            self.node(Node::Obj(item), depth + 1);
            let alone = std::mem::replace(&mut self.out, out);
            self.refs.index = index;
            self.refs.next = next;
            keyed.push((alone, item));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.into_iter().map(|(_, item)| item).collect()
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

    fn items(&mut self, code: u8, items: &'a [Object], flag: u8, depth: usize) {
        self.sequence_header(code, items.len(), flag);
        for item in items {
            self.node(Node::Obj(item), depth + 1);
        }
    }

    fn code(&mut self, code: &'a Arc<CodeObject>, flag: u8, depth: usize) {
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
        let children = code_children(code, &self.refs.qualname_is_const);
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
fn code_children<'a>(
    code: &'a Arc<CodeObject>,
    qualname_is_const: &FxHashSet<usize>,
) -> [Node<'a>; 10] {
    let at = addr(code);
    // The compiler reuses the name object as the qualified name when they are equal.
    let qualname = if code.qualname == code.name {
        Node::Name(&code.qualname, at)
    } else if qualname_is_const.contains(&at) {
        Node::Str(&code.qualname)
    } else {
        Node::Qualname(&code.qualname, at)
    };
    [
        Node::Code(&code.code, at),
        Node::Tuple(&code.consts),
        Node::StrTuple(&code.names),
        Node::StrTuple(&code.localsplusnames),
        Node::Kinds(&code.localspluskinds, at),
        Node::Filename(&code.filename),
        Node::Name(&code.name, at),
        qualname,
        Node::Table(&code.linetable),
        Node::Table(&code.exceptiontable),
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

/// Whether `obj` is one of the singletons, which marshal never flags.
fn is_singleton(obj: &Object) -> bool {
    matches!(
        obj,
        Object::None | Object::True | Object::False | Object::Ellipsis | Object::StopIteration
    )
}

/// The type code of a singleton.
fn singleton_code(obj: &Object) -> u8 {
    match obj {
        Object::None => tc::NONE,
        Object::True => tc::TRUE,
        Object::False => tc::FALSE,
        Object::Ellipsis => tc::ELLIPSIS,
        _ => tc::STOPITER,
    }
}
