//! The object protocols: type of a value, truth, hashing, equality and ordering, arithmetic,
//! repr/str, attribute access, subscripts, iteration. Built-in types are dispatched by a `match`
//! on the value's tag; instances of classes go through their special methods.

use std::cmp::Ordering;
use std::rc::Rc;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive};

use crate::dict::{key_eq, DictMap, DictObj};
use crate::int::{self, as_int, IntRef};
use crate::objects::{
    BuiltinFunction, DictPart, GenKind, Instance, Iter, IterState, SetObj, Wrapper,
};
use crate::pystr::PyStr;
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyErr, PyResult, Vm};

const HASH_MODULUS: i64 = (1 << 61) - 1;

fn fix_hash(h: i64) -> i64 {
    if h == -1 {
        -2
    } else {
        h
    }
}

fn hash_int(i: &IntRef) -> i64 {
    match i {
        IntRef::Small(v) => {
            let m = (v.unsigned_abs() % HASH_MODULUS as u64) as i64;
            fix_hash(if *v < 0 { -m } else { m })
        }
        IntRef::Big(b) => {
            let m = (b.magnitude() % num_bigint::BigUint::from(HASH_MODULUS as u64))
                .to_i64()
                .unwrap_or(0);
            fix_hash(if b.is_negative() { -m } else { m })
        }
    }
}

fn hash_float(v: f64) -> i64 {
    if v.is_nan() {
        return 0;
    }
    if v.is_infinite() {
        return if v > 0.0 { 314159 } else { -314159 };
    }
    if v.fract() == 0.0 && v.abs() < 9.2e18 {
        return hash_int(&IntRef::Small(v as i64));
    }
    let obj = pyc_loader::Object::Float(v);
    pyc_loader::pyhash::hash(&obj, pyc_loader::Target::V3_12).unwrap_or(0) as i64
}

fn hash_tuple(items: &[i64]) -> i64 {
    const P1: u64 = 11400714785074694791;
    const P2: u64 = 14029467366897019727;
    const P5: u64 = 2870177450012600261;
    let mut acc = P5;
    for &h in items {
        acc = acc.wrapping_add((h as u64).wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add((items.len() as u64) ^ (P5 ^ 3527539));
    if acc == u64::MAX {
        return 1546275796;
    }
    acc as i64
}

/// The hash of a built-in hashable value, without calling Python code (None: unhashable or
/// needs a Python `__hash__`).
pub fn hash_builtin(v: &Value) -> Option<i64> {
    Some(match v {
        Value::Str(s) => s.hash(),
        Value::Int(i) => hash_int(&IntRef::Small(*i)),
        Value::Bool(b) => i64::from(*b),
        Value::BigInt(b) => hash_int(&IntRef::Big(b)),
        Value::Float(f) => hash_float(*f),
        Value::Complex(c) => {
            let obj = pyc_loader::Object::Complex(c.0, c.1);
            pyc_loader::pyhash::hash(&obj, pyc_loader::Target::V3_12).ok()? as i64
        }
        Value::None => 0xFCA86420_u32 as i64,
        Value::Tuple(items) => {
            let hs = items.iter().map(hash_builtin).collect::<Option<Vec<_>>>()?;
            hash_tuple(&hs)
        }
        Value::Bytes(b) => {
            let _ = bytes_crate;
            let obj = pyc_loader::Object::Tuple(
                b.iter()
                    .map(|&x| {
                        pyc_loader::Object::Int(pyc_loader::marshal::Int::Small(i64::from(x)))
                    })
                    .collect::<Vec<_>>()
                    .into(),
            );
            pyc_loader::pyhash::hash(&obj, pyc_loader::Target::V3_12).ok()? as i64
        }
        Value::Set(s) if s.frozen => {
            let map = s.map.borrow();
            let mut hash: u64 = 0;
            for (h, _) in map.iter() {
                let h = h as u64;
                hash ^= ((h ^ 89869747) ^ (h << 16)).wrapping_mul(3644798167);
            }
            hash ^= (map.len() as u64 + 1).wrapping_mul(1927868237);
            hash ^= (hash >> 11) ^ (hash >> 25);
            hash = hash.wrapping_mul(69069).wrapping_add(907133923);
            fix_hash(hash as i64)
        }
        // Slices hash as the tuple (start, stop, step) since 3.12.
        Value::Slice(s) => {
            let hs = [&s.start, &s.stop, &s.step]
                .into_iter()
                .map(hash_builtin)
                .collect::<Option<Vec<_>>>()?;
            hash_tuple(&hs)
        }
        Value::List(_) | Value::Dict(_) | Value::Set(_) => return None,
        Value::ByteArray(_) => return None,
        Value::Instance(_) => return None,
        other => fix_hash((other.id() >> 4) as i64),
    })
}

fn bytes_crate(b: &[u8]) -> pyc_loader::marshal::Str {
    pyc_loader::marshal::Str::from_latin1(b, false)
}

/// A comparison operator, in COMPARE_OP's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// <
    Lt,
    /// <=
    Le,
    /// ==
    Eq,
    /// !=
    Ne,
    /// >
    Gt,
    /// >=
    Ge,
}

impl CmpOp {
    /// From COMPARE_OP's `oparg >> 4`.
    pub fn from_arg(arg: u32) -> Option<CmpOp> {
        Some(match arg {
            0 => CmpOp::Lt,
            1 => CmpOp::Le,
            2 => CmpOp::Eq,
            3 => CmpOp::Ne,
            4 => CmpOp::Gt,
            5 => CmpOp::Ge,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        ["<", "<=", "==", "!=", ">", ">="][self as usize]
    }

    fn swapped(self) -> CmpOp {
        [
            CmpOp::Gt,
            CmpOp::Ge,
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
        ][self as usize]
    }

    fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

/// BINARY_OP's argument for `+`.
pub const NB_ADD: u32 = 0;
/// BINARY_OP's argument for `*`.
pub const NB_MULTIPLY: u32 = 5;

/// The binary operators of BINARY_OP, in CPython's NB_* order (in-place forms add 13).
pub const NB_NAMES: [(&str, &str, &str, &str); 13] = [
    ("+", "__add__", "__radd__", "__iadd__"),
    ("&", "__and__", "__rand__", "__iand__"),
    ("//", "__floordiv__", "__rfloordiv__", "__ifloordiv__"),
    ("<<", "__lshift__", "__rlshift__", "__ilshift__"),
    ("@", "__matmul__", "__rmatmul__", "__imatmul__"),
    ("*", "__mul__", "__rmul__", "__imul__"),
    ("%", "__mod__", "__rmod__", "__imod__"),
    ("|", "__or__", "__ror__", "__ior__"),
    ("**", "__pow__", "__rpow__", "__ipow__"),
    (">>", "__rshift__", "__rrshift__", "__irshift__"),
    ("-", "__sub__", "__rsub__", "__isub__"),
    ("/", "__truediv__", "__rtruediv__", "__itruediv__"),
    ("^", "__xor__", "__rxor__", "__ixor__"),
];

fn float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::BigInt(b) => b.to_f64(),
        _ => None,
    }
}

/// Complex division as CPython's `_Py_c_quot` (scaled to avoid overflow); None when dividing
/// by zero.
fn complex_quot(a: (f64, f64), b: (f64, f64)) -> Option<(f64, f64)> {
    let (abs_br, abs_bi) = (b.0.abs(), b.1.abs());
    if abs_br >= abs_bi {
        if abs_br == 0.0 {
            return None;
        }
        let ratio = b.1 / b.0;
        let denom = b.0 + b.1 * ratio;
        Some(((a.0 + a.1 * ratio) / denom, (a.1 - a.0 * ratio) / denom))
    } else if abs_bi >= abs_br {
        let ratio = b.0 / b.1;
        let denom = b.0 * ratio + b.1;
        Some(((a.0 * ratio + a.1) / denom, (a.1 * ratio - a.0) / denom))
    } else {
        Some((f64::NAN, f64::NAN))
    }
}

/// Python's float floor division and modulo.
pub fn float_divmod(x: f64, y: f64) -> (f64, f64) {
    let mut m = x % y;
    let mut div = (x - m) / y;
    if m != 0.0 {
        if (y < 0.0) != (m < 0.0) {
            m += y;
            div -= 1.0;
        }
    } else {
        m = 0f64.copysign(y);
    }
    let floordiv = if div != 0.0 {
        let mut f = div.floor();
        if div - f > 0.5 {
            f += 1.0;
        }
        f
    } else {
        0f64.copysign(x / y)
    };
    (floordiv, m)
}

impl Vm {
    /// `type(v)`.
    pub fn type_of(&self, v: &Value) -> Rc<Type> {
        let t = &self.t;
        match v {
            Value::Null | Value::None => t.none.clone(),
            Value::NotImplemented => t.not_implemented.clone(),
            Value::Ellipsis => t.ellipsis.clone(),
            Value::Bool(_) => t.bool_.clone(),
            Value::Int(_) | Value::BigInt(_) => t.int.clone(),
            Value::Float(_) => t.float.clone(),
            Value::Complex(_) => t.complex.clone(),
            Value::Str(_) => t.str_.clone(),
            Value::Bytes(_) => t.bytes.clone(),
            Value::ByteArray(_) => t.bytearray.clone(),
            Value::Tuple(_) => t.tuple.clone(),
            Value::List(_) => t.list.clone(),
            Value::Dict(_) => t.dict.clone(),
            Value::Set(s) => {
                if s.frozen {
                    t.frozenset.clone()
                } else {
                    t.set.clone()
                }
            }
            Value::Range(_) => t.range.clone(),
            Value::Slice(_) => t.slice.clone(),
            Value::Function(_) => t.function.clone(),
            Value::Builtin(_) => t.builtin_function.clone(),
            Value::BoundMethod(_) => t.method.clone(),
            Value::Type(ty) => ty.meta.clone().unwrap_or_else(|| t.type_.clone()),
            Value::Instance(i) => i.class.clone(),
            Value::Cell(_) => t.cell.clone(),
            Value::Code(_) => t.code.clone(),
            Value::Generator(g) => match g.kind {
                GenKind::Generator => t.generator.clone(),
                GenKind::Coroutine => self.aio.coroutine.clone(),
                GenKind::AsyncGenerator => self.aio.async_generator.clone(),
            },
            Value::Iter(it) => match &*it.state.borrow() {
                IterState::Enumerate { .. } => t.enumerate.clone(),
                IterState::Zip { .. } => t.zip.clone(),
                IterState::Map { .. } => t.map.clone(),
                IterState::Filter { keep: true, .. } => t.filter.clone(),
                IterState::Reversed { .. } => t.reversed.clone(),
                _ => t.iterator.clone(),
            },
            Value::Module(_) => t.module.clone(),
            Value::Wrapper(w) => match &**w {
                Wrapper::Property { .. } => t.property.clone(),
                Wrapper::StaticMethod(_) => t.staticmethod.clone(),
                Wrapper::ClassMethod(_) => t.classmethod.clone(),
                Wrapper::Super { .. } => t.super_.clone(),
                Wrapper::File(_) => t.file.clone(),
                Wrapper::Member { .. } => t.member_descriptor.clone(),
                Wrapper::DictView { part, .. } => match part {
                    DictPart::Keys => t.dict_keys.clone(),
                    DictPart::Values => t.dict_values.clone(),
                    DictPart::Items => t.dict_items.clone(),
                },
            },
        }
    }

    /// The `__name__` of `type(v)`.
    pub fn type_name(&self, v: &Value) -> String {
        self.type_of(v).name.as_str().to_owned()
    }

    /// `isinstance(v, cls)` by the MRO.
    pub fn isinstance(&self, v: &Value, cls: &Rc<Type>) -> bool {
        self.type_of(v).is_subtype(cls)
    }

    /// Looks up a special method on the type of an instance.
    fn special(&self, v: &Value, name: &Rc<PyStr>) -> Option<Value> {
        match v {
            Value::Instance(i) => i.class.lookup(name),
            // A class's special methods come from a metaclass defined in Python.
            Value::Type(t) => {
                let meta = t.meta.as_ref()?;
                std::iter::once(meta)
                    .chain(meta.mro.iter())
                    .filter(|m| !m.builtin)
                    .find_map(|m| m.dict.get_str(name))
            }
            _ => None,
        }
    }

    /// Whether `v` is a class whose metaclass is defined in Python (its special methods
    /// then apply to the class).
    fn has_user_meta(v: &Value) -> bool {
        matches!(v, Value::Type(t) if t.meta.is_some())
    }

    /// Calls special method `name` of instance `v` if its class defines one.
    pub fn call_special(
        &mut self,
        v: &Value,
        name: &Rc<PyStr>,
        args: &[Value],
    ) -> PyResult<Option<Value>> {
        let Some(f) = self.special(v, name) else {
            return Ok(None);
        };
        if let Value::Function(func) = &f {
            if func.code.simple_args(args.len() + 1) {
                return self.call_method_simple(func, v, args).map(Some);
            }
        }
        let mut full = Vec::with_capacity(args.len() + 1);
        full.push(v.clone());
        full.extend_from_slice(args);
        self.call_descriptor(&f, v, &full).map(Some)
    }

    /// Calls `f` found on a class as a method of `obj` with `args` (which start with obj).
    fn call_descriptor(&mut self, f: &Value, obj: &Value, args: &[Value]) -> PyResult<Value> {
        match f {
            Value::Function(_) | Value::Builtin(_) => self.call(f, args, &[]),
            _ => {
                let bound = self.bind_descriptor(f.clone(), obj, None)?;
                self.call(&bound, &args[1..], &[])
            }
        }
    }

    /// The wrapped built-in value of an instance of a built-in subclass, when the class does not
    /// define any of `specials` itself (then the protocol applies to the wrapped value).
    #[inline]
    pub fn payload_for(&self, v: &Value, specials: &[&str]) -> Option<Value> {
        match v {
            Value::Instance(i) if !matches!(i.payload, Value::Null) => {
                Self::unoverridden_payload(i, specials)
            }
            _ => None,
        }
    }

    fn unoverridden_payload(i: &Instance, specials: &[&str]) -> Option<Value> {
        // Built-in types keep no special methods in their namespaces, so any one found was
        // defined by a class.
        let overridden = specials
            .iter()
            .any(|s| i.class.lookup(&crate::pystr::intern(s)).is_some());
        (!overridden).then(|| i.payload.clone())
    }

    /// `bool(v)`.
    pub fn truthy(&mut self, v: &Value) -> PyResult<bool> {
        if let Some(p) = self.payload_for(v, &["__bool__", "__len__"]) {
            return self.truthy(&p);
        }
        Ok(match v {
            Value::Bool(b) => *b,
            Value::None | Value::Null => false,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(c) => c.0 != 0.0 || c.1 != 0.0,
            Value::BigInt(_) => true,
            Value::Str(s) => !s.as_str().is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::ByteArray(b) => !b.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::List(l) => !l.items.borrow().is_empty(),
            Value::Dict(d) => !d.map.borrow().is_empty(),
            Value::Set(s) => !s.map.borrow().is_empty(),
            Value::Range(r) => !r.is_empty(),
            Value::Instance(_) | Value::Type(_)
                if matches!(v, Value::Instance(_)) || Self::has_user_meta(v) =>
            {
                let n = self.n.bool.clone();
                if let Some(r) = self.call_special(v, &n, &[])? {
                    return match r {
                        Value::Bool(b) => Ok(b),
                        other => Err(self.type_error(format!(
                            "__bool__ should return bool, returned {}",
                            self.type_name(&other)
                        ))),
                    };
                }
                let n = self.n.len.clone();
                if let Some(r) = self.call_special(v, &n, &[])? {
                    let n = self.index_of(&r)?;
                    if n < 0 {
                        return Err(self.value_error("__len__() should return >= 0"));
                    }
                    return Ok(n != 0);
                }
                true
            }
            _ => true,
        })
    }

    /// `hash(v)`.
    pub fn hash(&mut self, v: &Value) -> PyResult<i64> {
        match v {
            Value::Int(i) if (0..HASH_MODULUS).contains(i) => return Ok(*i),
            Value::Str(s) => return Ok(s.hash()),
            _ => {}
        }
        if let Some(p) = self.payload_for(v, &["__hash__", "__eq__"]) {
            return self.hash(&p);
        }
        if let Some(h) = hash_builtin(v) {
            return Ok(h);
        }
        if let Value::Tuple(items) = v {
            let hashes = items
                .iter()
                .map(|x| self.hash(x))
                .collect::<PyResult<Vec<_>>>()?;
            return Ok(hash_tuple(&hashes));
        }
        if let Value::Instance(inst) = v {
            let n = self.n.hash.clone();
            match inst.class.lookup(&n) {
                Some(Value::None) => {}
                Some(f) => {
                    let r = self.call_descriptor(&f, v, std::slice::from_ref(v))?;
                    return match as_int(&r) {
                        Some(i) => Ok(hash_int(&i)),
                        None => Err(self.type_error("__hash__ method should return an integer")),
                    };
                }
                None => {
                    // A class that defines __eq__ without __hash__ is unhashable.
                    let eq = self.n.eq.clone();
                    if inst
                        .class
                        .lookup(&eq)
                        .is_none_or(|f| !matches!(f, Value::Function(_)))
                    {
                        return Ok(fix_hash((v.id() >> 4) as i64));
                    }
                }
            }
        }
        Err(self.type_error(format!("unhashable type: '{}'", self.type_name(v))))
    }

    /// `a == b` as a bool.
    pub fn eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        if let Some(r) = builtin_eq(a, b) {
            return Ok(r);
        }
        let r = self.compare(a, b, CmpOp::Eq)?;
        self.truthy(&r)
    }

    /// Equality for containers: identity first, as CPython's `PyObject_RichCompare` users do.
    pub fn eq_or_is(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        if a.is(b) {
            return Ok(true);
        }
        self.eq(a, b)
    }

    /// Whether dict/set lookups of `key` need Python-level `__eq__`.
    fn needs_py_eq(&self, key: &Value) -> bool {
        match key {
            Value::Instance(i) => matches!(
                i.class.lookup(&self.n.eq),
                Some(Value::Function(_) | Value::Builtin(_))
            ),
            Value::Tuple(t) => t.iter().any(|k| self.needs_py_eq(k)),
            _ => false,
        }
    }

    /// The entry index of `key` in `d`, using Python equality where keys need it.
    pub fn dict_find(&mut self, d: &DictObj, key: &Value, hash: i64) -> PyResult<Option<usize>> {
        let cands = d.map.borrow().hash_matches(hash);
        let slow = self.needs_py_eq(key);
        for ix in cands {
            let k = d.map.borrow().entry_at(ix).0.clone();
            if k.is(key)
                || (if slow {
                    self.eq(&k, key)?
                } else {
                    key_eq(&k, key)
                })
            {
                return Ok(Some(ix));
            }
        }
        Ok(None)
    }

    /// `d[key]` or None.
    pub fn dict_get(&mut self, d: &DictObj, key: &Value) -> PyResult<Option<Value>> {
        let h = self.hash(key)?;
        if !self.needs_py_eq(key) {
            return Ok(d.map.borrow().get(key, h).cloned());
        }
        Ok(self
            .dict_find(d, key, h)?
            .map(|ix| d.map.borrow().entry_at(ix).1.clone()))
    }

    /// `d[key] = value`.
    pub fn dict_set(&mut self, d: &DictObj, key: Value, value: Value) -> PyResult<()> {
        let h = self.hash(&key)?;
        if self.needs_py_eq(&key) {
            if let Some(ix) = self.dict_find(d, &key, h)? {
                d.map.borrow_mut().set_value_at(ix, value);
                return Ok(());
            }
        }
        d.map.borrow_mut().insert(key, h, value);
        Ok(())
    }

    /// Whether `key` is in set `s`.
    pub fn set_contains(&mut self, s: &SetObj, key: &Value) -> PyResult<bool> {
        let h = self.hash(key)?;
        if !self.needs_py_eq(key) {
            return Ok(s.map.borrow().contains(key, h));
        }
        for k in s.map.borrow().hash_matches(h) {
            if k.is(key) || self.eq(&k, key)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Adds `key` to set `s`.
    pub fn set_add(&mut self, s: &SetObj, key: Value) -> PyResult<()> {
        if self.needs_py_eq(&key) && self.set_contains(s, &key)? {
            return Ok(());
        }
        let h = self.hash(&key)?;
        s.map.borrow_mut().add(key, h);
        Ok(())
    }

    /// A rich comparison.
    pub fn compare(&mut self, a: &Value, b: &Value, op: CmpOp) -> PyResult<Value> {
        if let Some(o) = builtin_order(a, b) {
            return Ok(Value::Bool(match o {
                Some(o) => op.test(o),
                None => op == CmpOp::Ne,
            }));
        }
        if matches!(op, CmpOp::Eq | CmpOp::Ne) {
            if let Some(r) = builtin_eq(a, b) {
                return Ok(Value::Bool(r == (op == CmpOp::Eq)));
            }
        }
        // Sequences compare item by item.
        if let Some(r) = self.compare_sequences(a, b, op)? {
            return Ok(Value::Bool(r));
        }
        let names = [
            self.n.lt.clone(),
            self.n.le.clone(),
            self.n.eq.clone(),
            self.n.ne.clone(),
            self.n.gt.clone(),
            self.n.ge.clone(),
        ];
        // The reflected method of a right operand whose class is a proper subclass goes first.
        let same_class = match (a, b) {
            (Value::Instance(ai), Value::Instance(bi)) => Rc::ptr_eq(&ai.class, &bi.class),
            _ => false,
        };
        let b_first = matches!(b, Value::Instance(_))
            && !same_class
            && self.type_of(b).is_subtype(&self.type_of(a));
        if b_first {
            if let Some(r) =
                self.call_special(b, &names[op.swapped() as usize], std::slice::from_ref(a))?
            {
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        if let Some(r) = self.call_special(a, &names[op as usize], std::slice::from_ref(b))? {
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        if !b_first {
            if let Some(r) =
                self.call_special(b, &names[op.swapped() as usize], std::slice::from_ref(a))?
            {
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        let pa = self.payload_for(a, &[]);
        let pb = self.payload_for(b, &[]);
        if pa.is_some() || pb.is_some() {
            let (a2, b2) = (
                pa.unwrap_or_else(|| a.clone()),
                pb.unwrap_or_else(|| b.clone()),
            );
            return self.compare(&a2, &b2, op);
        }
        match op {
            CmpOp::Eq => Ok(Value::Bool(a.is(b))),
            CmpOp::Ne => {
                // Default __ne__ inverts __eq__ (the left operand's, then the right's).
                for (x, y) in [(a, b), (b, a)] {
                    if let Some(r) = self.call_special(x, &names[2], std::slice::from_ref(y))? {
                        if !matches!(r, Value::NotImplemented) {
                            return Ok(Value::Bool(!self.truthy(&r)?));
                        }
                    }
                }
                Ok(Value::Bool(!a.is(b)))
            }
            _ => Err(self.type_error(format!(
                "'{}' not supported between instances of '{}' and '{}'",
                op.symbol(),
                self.type_name(a),
                self.type_name(b)
            ))),
        }
    }

    fn compare_sequences(&mut self, a: &Value, b: &Value, op: CmpOp) -> PyResult<Option<bool>> {
        let (x, y) = match (a, b) {
            (Value::Tuple(x), Value::Tuple(y)) => ((**x).clone(), (**y).clone()),
            (Value::List(x), Value::List(y)) => {
                (x.items.borrow().clone(), y.items.borrow().clone())
            }
            (Value::Dict(x), Value::Dict(y)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                let eq = self.dict_eq(x, y)?;
                return Ok(Some(eq == (op == CmpOp::Eq)));
            }
            (Value::Set(x), Value::Set(y)) => {
                let (xm, ym) = (x.map.borrow().clone(), y.map.borrow().clone());
                let sub = xm.iter().all(|(h, k)| ym.contains(k, h));
                let sup = ym.iter().all(|(h, k)| xm.contains(k, h));
                return Ok(Some(match op {
                    CmpOp::Eq => sub && sup,
                    CmpOp::Ne => !(sub && sup),
                    CmpOp::Le => sub,
                    CmpOp::Lt => sub && !sup,
                    CmpOp::Ge => sup,
                    CmpOp::Gt => sup && !sub,
                }));
            }
            _ => return Ok(None),
        };
        for (p, q) in x.iter().zip(y.iter()) {
            if !self.eq_or_is(p, q)? {
                return Ok(Some(match op {
                    CmpOp::Eq => false,
                    CmpOp::Ne => true,
                    _ => {
                        let r = self.compare(p, q, op)?;
                        self.truthy(&r)?
                    }
                }));
            }
        }
        Ok(Some(op.test(x.len().cmp(&y.len()))))
    }

    fn dict_eq(&mut self, x: &Rc<DictObj>, y: &Rc<DictObj>) -> PyResult<bool> {
        let xs: Vec<(i64, Value, Value)> = x
            .map
            .borrow()
            .iter_hashed()
            .map(|(h, k, v)| (h, k.clone(), v.clone()))
            .collect();
        if xs.len() != y.map.borrow().len() {
            return Ok(false);
        }
        for (h, k, v) in xs {
            let other = y.map.borrow().get(&k, h).cloned();
            match other {
                Some(w) => {
                    if !self.eq_or_is(&v, &w)? {
                        return Ok(false);
                    }
                }
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Sorting comparison: `a < b`.
    pub fn lt(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        if let Some(Some(o)) = builtin_order(a, b) {
            return Ok(o == Ordering::Less);
        }
        let r = self.compare(a, b, CmpOp::Lt)?;
        self.truthy(&r)
    }

    /// BINARY_OP `nb` (0..=25).
    pub fn binary_op(&mut self, a: &Value, b: &Value, nb: u32) -> PyResult<Value> {
        let base = (nb % 13) as usize;
        if let (Value::ByteArray(arr), 13 | 18) = (a, nb) {
            crate::bytesobj::in_place(self, arr, b, base)?;
            return Ok(a.clone());
        }
        if let (Value::List(l), 13) = (a, nb) {
            let items = self.to_vec(b)?;
            l.items.borrow_mut().extend(items);
            return Ok(a.clone());
        }
        if let (Value::List(l), 18) = (a, nb) {
            if as_int(b).is_some() {
                let len = l.items.borrow().len();
                let k = self.repeat_count(b, len * 16)?;
                let items = l.items.borrow().clone();
                let mut v = Vec::with_capacity(items.len() * k);
                for _ in 0..k {
                    v.extend(items.iter().cloned());
                }
                *l.items.borrow_mut() = v;
                return Ok(a.clone());
            }
        }
        if let Some(r) = self.builtin_binary(a, b, base)? {
            return Ok(r);
        }
        let (sym, name, rname, iname) = NB_NAMES[base];
        if nb >= 13 {
            if let Value::Instance(inst) = a {
                let iname = crate::pystr::intern(iname);
                if let Some(f) = inst.class.lookup(&iname) {
                    let r = self.call_descriptor(&f, a, &[a.clone(), b.clone()])?;
                    if !matches!(r, Value::NotImplemented) {
                        return Ok(r);
                    }
                }
            }
        }
        let name = crate::pystr::intern(name);
        let rname = crate::pystr::intern(rname);
        let a_inst = matches!(a, Value::Instance(_)) || Self::has_user_meta(a);
        let b_inst = matches!(b, Value::Instance(_)) || Self::has_user_meta(b);
        if a_inst {
            if let Some(r) = self.call_special(a, &name, std::slice::from_ref(b))? {
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        if b_inst
            && !(a_inst
                && self.type_of(a).is_subtype(&self.type_of(b))
                && self.type_of(b).is_subtype(&self.type_of(a)))
        {
            if let Some(r) = self.call_special(b, &rname, std::slice::from_ref(a))? {
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        let pa = self.payload_for(a, &[]);
        let pb = self.payload_for(b, &[]);
        if pa.is_some() || pb.is_some() {
            let (a2, b2) = (
                pa.unwrap_or_else(|| a.clone()),
                pb.unwrap_or_else(|| b.clone()),
            );
            let r = self.binary_op(&a2, &b2, nb)?;
            // An in-place operation on the wrapped value keeps the instance.
            if nb >= 13 && r.is(&a2) {
                return Ok(a.clone());
            }
            return Ok(r);
        }
        let sym = if nb >= 13 {
            format!("{sym}=")
        } else {
            sym.to_owned()
        };
        if base == 7 {
            if let Some(u) = crate::typeparams::union(self, a, b)? {
                return Ok(u);
            }
        }
        if base == 8 {
            return Err(self.type_error(format!(
                "unsupported operand type(s) for ** or pow(): '{}' and '{}'",
                self.type_name(a),
                self.type_name(b)
            )));
        }
        if base == 5 {
            // seq * n where n has __index__.
            let is_seq = |v: &Value| {
                matches!(
                    v,
                    Value::Str(_)
                        | Value::List(_)
                        | Value::Tuple(_)
                        | Value::Bytes(_)
                        | Value::ByteArray(_)
                )
            };
            let index = self.n.index.clone();
            let indexable =
                |v: &Value| matches!(v, Value::Instance(i) if i.class.lookup(&index).is_some());
            if is_seq(a) && indexable(b) {
                let n = Value::Int(self.index_of(b)?);
                return self.binary_op(a, &n, nb);
            }
            if is_seq(b) && indexable(a) {
                let n = Value::Int(self.index_of(a)?);
                return self.binary_op(&n, b, nb);
            }
        }
        if base == 5
            && (matches!(a, Value::Str(_) | Value::List(_) | Value::Tuple(_))
                || matches!(b, Value::Str(_) | Value::List(_) | Value::Tuple(_)))
        {
            let other = if matches!(a, Value::Str(_) | Value::List(_) | Value::Tuple(_)) {
                b
            } else {
                a
            };
            return Err(self.type_error(format!(
                "can't multiply sequence by non-int of type '{}'",
                self.type_name(other)
            )));
        }
        if base == 0 && matches!(a, Value::Bytes(_) | Value::ByteArray(_)) {
            return Err(self.type_error(format!(
                "can't concat {} to {}",
                self.type_name(b),
                self.type_name(a)
            )));
        }
        if base == 0 && matches!(a, Value::Str(_)) {
            return Err(self.type_error(format!(
                "can only concatenate str (not \"{}\") to str",
                self.type_name(b)
            )));
        }
        if base == 0 && matches!(a, Value::List(_)) {
            return Err(self.type_error(format!(
                "can only concatenate list (not \"{}\") to list",
                self.type_name(b)
            )));
        }
        Err(self.type_error(format!(
            "unsupported operand type(s) for {sym}: '{}' and '{}'",
            self.type_name(a),
            self.type_name(b)
        )))
    }

    fn zero_div(&self, msg: &str) -> PyErr {
        self.err("ZeroDivisionError", msg)
    }

    fn builtin_binary(&mut self, a: &Value, b: &Value, op: usize) -> PyResult<Option<Value>> {
        if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
            return Ok(Some(match op {
                0 => int::add(&x, &y),
                10 => int::sub(&x, &y),
                5 => int::mul(&x, &y),
                2 => int::floordiv(&x, &y)
                    .ok_or_else(|| self.zero_div("integer division or modulo by zero"))?,
                6 => int::modulo(&x, &y).ok_or_else(|| self.zero_div("integer modulo by zero"))?,
                11 => match int::truediv(&x, &y) {
                    Some(f) => Value::Float(f),
                    None => return Err(self.zero_div("division by zero")),
                },
                8 => {
                    if y.is_negative() {
                        let (fx, fy) = (
                            x.to_f64().unwrap_or(f64::INFINITY),
                            y.to_f64().unwrap_or(f64::NEG_INFINITY),
                        );
                        if fx == 0.0 {
                            return Err(self.zero_div("0.0 cannot be raised to a negative power"));
                        }
                        Value::Float(fx.powf(fy))
                    } else {
                        let e = match y {
                            IntRef::Small(e) => e as u64,
                            IntRef::Big(_) => {
                                return Err(self.err("OverflowError", "exponent too large"))
                            }
                        };
                        int::pow(&x, e)
                    }
                }
                3 | 9 => {
                    if y.is_negative() {
                        return Err(self.value_error("negative shift count"));
                    }
                    let s = match y {
                        IntRef::Small(s) => s as u64,
                        IntRef::Big(_) => {
                            return Err(self.err("OverflowError", "too many digits in integer"))
                        }
                    };
                    if op == 3 {
                        int::lshift(&x, s)
                    } else {
                        int::rshift(&x, s)
                    }
                }
                1 | 7 | 12 => {
                    if let (Value::Bool(p), Value::Bool(q)) = (a, b) {
                        return Ok(Some(Value::Bool(match op {
                            1 => *p & *q,
                            7 => *p | *q,
                            _ => *p ^ *q,
                        })));
                    }
                    int::bitop(&x, &y, [b'&', 0, 0, 0, 0, 0, 0, b'|', 0, 0, 0, 0, b'^'][op])
                }
                _ => return Ok(None),
            }));
        }
        if matches!(a, Value::Complex(_)) || matches!(b, Value::Complex(_)) {
            let as_c = |v: &Value| match v {
                Value::Complex(c) => Some(**c),
                other => float_of(other).map(|f| (f, 0.0)),
            };
            if let (Some((ar, ai)), Some((br, bi))) = (as_c(a), as_c(b)) {
                let r = match op {
                    0 => (ar + br, ai + bi),
                    10 => (ar - br, ai - bi),
                    5 => (ar * br - ai * bi, ar * bi + ai * br),
                    11 => match complex_quot((ar, ai), (br, bi)) {
                        Some(q) => q,
                        None => return Err(self.zero_div("complex division by zero")),
                    },
                    8 if matches!(b, Value::Int(n) if n.unsigned_abs() <= 100) => {
                        // Small integer powers by repeated multiplication, as CPython's c_powi.
                        let Value::Int(n) = b else { return Ok(None) };
                        let mul = |x: (f64, f64), y: (f64, f64)| {
                            (x.0 * y.0 - x.1 * y.1, x.0 * y.1 + x.1 * y.0)
                        };
                        let (mut result, mut base, mut e) =
                            ((1.0, 0.0), (ar, ai), n.unsigned_abs());
                        while e > 0 {
                            if e & 1 == 1 {
                                result = mul(result, base);
                            }
                            base = mul(base, base);
                            e >>= 1;
                        }
                        if *n < 0 {
                            match complex_quot((1.0, 0.0), result) {
                                Some(q) => q,
                                None => {
                                    return Err(self.zero_div("0.0 to a negative or complex power"))
                                }
                            }
                        } else {
                            result
                        }
                    }
                    8 => {
                        if ar == 0.0 && ai == 0.0 {
                            if bi != 0.0 || br < 0.0 {
                                return Err(self.zero_div("0.0 to a negative or complex power"));
                            }
                            (if br == 0.0 { 1.0 } else { 0.0 }, 0.0)
                        } else {
                            let (modulus, arg) = ((ar * ar + ai * ai).sqrt(), ai.atan2(ar));
                            let len = modulus.powf(br) * (-bi * arg).exp();
                            let phase = arg * br + bi * modulus.ln();
                            (len * phase.cos(), len * phase.sin())
                        }
                    }
                    _ => return Ok(None),
                };
                return Ok(Some(Value::Complex(Rc::new(r))));
            }
        }
        if let (Some(x), Some(y)) = (float_of(a), float_of(b)) {
            if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
                return Ok(Some(Value::Float(match op {
                    0 => x + y,
                    10 => x - y,
                    5 => x * y,
                    11 => {
                        if y == 0.0 {
                            return Err(self.zero_div("float division by zero"));
                        }
                        x / y
                    }
                    2 | 6 => {
                        if y == 0.0 {
                            return Err(self.zero_div(if op == 2 {
                                "float floor division by zero"
                            } else {
                                "float modulo"
                            }));
                        }
                        let (d, m) = float_divmod(x, y);
                        if op == 2 {
                            d
                        } else {
                            m
                        }
                    }
                    8 => {
                        if x == 0.0 && y < 0.0 {
                            return Err(self.zero_div("0.0 cannot be raised to a negative power"));
                        }
                        if x < 0.0 && y.fract() != 0.0 {
                            return Err(self.value_error(
                                "negative number cannot be raised to a fractional power",
                            ));
                        }
                        x.powf(y)
                    }
                    _ => return Ok(None),
                })));
            }
        }
        Ok(match (a, b, op) {
            (Value::Str(x), Value::Str(y), 0) => {
                let mut s = String::with_capacity(x.as_str().len() + y.as_str().len());
                s.push_str(x.as_str());
                s.push_str(y.as_str());
                Some(Value::string(s))
            }
            (Value::Str(x), _, 6) => Some(crate::format::percent_format(self, x.as_str(), b)?),
            (Value::Str(s), n, 5) | (n, Value::Str(s), 5) if as_int(n).is_some() => {
                let k = self.repeat_count(n, s.as_str().len())?;
                Some(Value::string(s.as_str().repeat(k)))
            }
            (Value::List(x), Value::List(y), 0) => {
                let mut v = x.items.borrow().clone();
                v.extend(y.items.borrow().iter().cloned());
                Some(Value::list(v))
            }
            (Value::Tuple(x), Value::Tuple(y), 0) => {
                let mut v = (**x).clone();
                v.extend(y.iter().cloned());
                Some(Value::tuple(v))
            }
            (Value::Bytes(_) | Value::ByteArray(_), y, 0)
                if matches!(y, Value::Bytes(_) | Value::ByteArray(_))
                    || crate::bytesobj::bytes_of(y).is_some() =>
            {
                let v = match byte_pair(a, y, |x, y| [x, y].concat()) {
                    Some(v) => v,
                    // A subclass instance of bytes or bytearray on the right.
                    None => {
                        let mut v = crate::bytesobj::bytes_of(a).unwrap_or_default();
                        v.extend(crate::bytesobj::bytes_of(y).unwrap_or_default());
                        v
                    }
                };
                Some(match a {
                    Value::ByteArray(_) => crate::bytesobj::bytearray(v),
                    _ => Value::Bytes(Rc::new(v)),
                })
            }
            (Value::Bytes(_) | Value::ByteArray(_), n, 5)
            | (n, Value::Bytes(_) | Value::ByteArray(_), 5)
                if as_int(n).is_some() =>
            {
                let seq = if as_int(a).is_some() { b } else { a };
                let data = crate::bytesobj::bytes_of(seq).unwrap_or_default();
                let k = self.repeat_count(n, data.len())?;
                let v = data.repeat(k);
                Some(match seq {
                    Value::ByteArray(_) => crate::bytesobj::bytearray(v),
                    _ => Value::Bytes(Rc::new(v)),
                })
            }
            (Value::List(l), n, 5) | (n, Value::List(l), 5) if as_int(n).is_some() => {
                let len = l.items.borrow().len();
                let k = self.repeat_count(n, len * 16)?;
                let items = l.items.borrow();
                let mut v = Vec::with_capacity(items.len() * k);
                for _ in 0..k {
                    v.extend(items.iter().cloned());
                }
                Some(Value::list(v))
            }
            (Value::Tuple(t), n, 5) | (n, Value::Tuple(t), 5) if as_int(n).is_some() => {
                let k = self.repeat_count(n, t.len() * 16)?;
                let mut v = Vec::with_capacity(t.len() * k);
                for _ in 0..k {
                    v.extend(t.iter().cloned());
                }
                Some(Value::tuple(v))
            }
            (Value::Set(x), Value::Set(y), 1 | 7 | 10 | 12) => Some(self.set_op(x, y, op)?),
            (Value::Dict(x), Value::Dict(y), 7) => {
                let mut m = x.map.borrow().clone();
                for (h, k, v) in y.map.borrow().iter_hashed() {
                    m.insert(k.clone(), h, v.clone());
                }
                Some(Value::Dict(DictObj::new(m)))
            }
            _ => None,
        })
    }

    /// The repeat count of `seq * n`, refusing results beyond what can be allocated (a
    /// MemoryError, as CPython raises, rather than an allocation failure).
    fn repeat_count(&mut self, n: &Value, item_bytes: usize) -> PyResult<usize> {
        let k = match n {
            Value::BigInt(b) if b.is_negative() => 0,
            Value::BigInt(_) => {
                return Err(self.err(
                    "OverflowError",
                    "cannot fit 'int' into an index-sized integer",
                ))
            }
            _ => self.index_of(n)?.max(0) as usize,
        };
        match k.checked_mul(item_bytes) {
            Some(total) if total < 1 << 40 => Ok(k),
            _ if item_bytes == 0 => Ok(k),
            _ => Err(PyErr(
                self.new_exception(self.exc_type("MemoryError"), vec![]),
            )),
        }
    }

    /// set & | - ^ set.
    pub fn set_op(&mut self, x: &Rc<SetObj>, y: &Rc<SetObj>, op: usize) -> PyResult<Value> {
        let (xm, ym) = (x.map.borrow().clone(), y.map.borrow().clone());
        let mut out = crate::dict::SetMap::default();
        match op {
            1 => {
                for (h, k) in xm.iter() {
                    if ym.contains(k, h) {
                        out.add(k.clone(), h);
                    }
                }
            }
            7 => {
                out = xm.clone();
                for (h, k) in ym.iter() {
                    out.add(k.clone(), h);
                }
            }
            10 => {
                for (h, k) in xm.iter() {
                    if !ym.contains(k, h) {
                        out.add(k.clone(), h);
                    }
                }
            }
            _ => {
                for (h, k) in xm.iter() {
                    if !ym.contains(k, h) {
                        out.add(k.clone(), h);
                    }
                }
                for (h, k) in ym.iter() {
                    if !xm.contains(k, h) {
                        out.add(k.clone(), h);
                    }
                }
            }
        }
        Ok(Value::Set(Rc::new(SetObj {
            frozen: x.frozen,
            map: std::cell::RefCell::new(out),
        })))
    }

    /// An int argument used as an index or count (`__index__`).
    pub fn index_of(&mut self, v: &Value) -> PyResult<i64> {
        if let Some(p) = self.payload_for(v, &["__index__"]) {
            return self.index_of(&p);
        }
        match v {
            Value::Int(i) => Ok(*i),
            Value::Bool(b) => Ok(i64::from(*b)),
            Value::BigInt(_) => {
                Err(self.err("IndexError", "cannot fit 'int' into an index-sized integer"))
            }
            _ => {
                let n = self.n.index.clone();
                if let Some(r) = self.call_special(v, &n, &[])? {
                    if crate::int::as_int(&r).is_none() {
                        return Err(self.type_error(format!(
                            "__index__ returned non-int (type {})",
                            self.type_name(&r)
                        )));
                    }
                    return self.index_of(&r);
                }
                Err(self.type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    self.type_name(v)
                )))
            }
        }
    }

    /// Unary minus.
    pub fn neg(&mut self, v: &Value) -> PyResult<Value> {
        if let Some(i) = as_int(v) {
            return Ok(int::neg(&i));
        }
        if let Value::Float(f) = v {
            return Ok(Value::Float(-f));
        }
        if let Value::Complex(c) = v {
            return Ok(Value::Complex(Rc::new((-c.0, -c.1))));
        }
        let n = self.n.neg.clone();
        self.unary_special(v, &n, "-")
    }

    /// Unary plus.
    pub fn pos(&mut self, v: &Value) -> PyResult<Value> {
        match v {
            Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Complex(_) => Ok(v.clone()),
            Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
            _ => {
                let n = self.n.pos.clone();
                self.unary_special(v, &n, "+")
            }
        }
    }

    /// Unary invert.
    pub fn invert(&mut self, v: &Value) -> PyResult<Value> {
        if let Some(i) = as_int(v) {
            return Ok(int::sub(&IntRef::Small(-1), &i));
        }
        let n = self.n.invert.clone();
        self.unary_special(v, &n, "~")
    }

    fn unary_special(&mut self, v: &Value, name: &Rc<PyStr>, sym: &str) -> PyResult<Value> {
        match self.call_special(v, name, &[])? {
            Some(r) => Ok(r),
            None => Err(self.type_error(format!(
                "bad operand type for unary {sym}: '{}'",
                self.type_name(v)
            ))),
        }
    }

    /// `repr(v)`.
    pub fn repr(&mut self, v: &Value) -> PyResult<String> {
        Ok(match v {
            Value::Null => "<NULL>".into(),
            Value::None => "None".into(),
            Value::NotImplemented => "NotImplemented".into(),
            Value::Ellipsis => "Ellipsis".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::BigInt(b) => b.to_string(),
            Value::Float(f) => pyc_loader::repr::float_repr(*f),
            Value::Complex(c) => pyc_loader::repr::complex_repr(c.0, c.1),
            Value::Str(s) => str_repr(s.as_str()),
            Value::Bytes(b) => pyc_loader::repr::bytes_repr(b),
            Value::ByteArray(b) => crate::bytesobj::bytearray_repr(&b.borrow()),
            Value::Tuple(items) => {
                let items = items.clone();
                if !self.repr_enter(v) {
                    return Ok("(...)".into());
                }
                let parts = self.repr_items(&items);
                self.repr_leave();
                let parts = parts?;
                if items.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            Value::List(l) => {
                let items = l.items.borrow().clone();
                if !self.repr_enter(v) {
                    return Ok("[...]".into());
                }
                let parts = self.repr_items(&items);
                self.repr_leave();
                format!("[{}]", parts?.join(", "))
            }
            Value::Dict(d) => {
                let items = d.items();
                if !self.repr_enter(v) {
                    return Ok("{...}".into());
                }
                let mut parts = Vec::with_capacity(items.len());
                let mut result = Ok(());
                for (k, val) in &items {
                    match (self.repr(k), self.repr(val)) {
                        (Ok(k), Ok(val)) => parts.push(format!("{k}: {val}")),
                        (Err(e), _) | (_, Err(e)) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                self.repr_leave();
                result?;
                format!("{{{}}}", parts.join(", "))
            }
            Value::Set(s) => {
                let items: Vec<Value> = s.map.borrow().iter().map(|(_, k)| k.clone()).collect();
                let name = if s.frozen { "frozenset" } else { "set" };
                if items.is_empty() {
                    return Ok(format!("{name}()"));
                }
                let parts = self.repr_items(&items)?.join(", ");
                if s.frozen {
                    format!("frozenset({{{parts}}})")
                } else {
                    format!("{{{parts}}}")
                }
            }
            Value::Range(r) => {
                if r.step == 1 {
                    format!("range({}, {})", r.start, r.stop)
                } else {
                    format!("range({}, {}, {})", r.start, r.stop, r.step)
                }
            }
            Value::Slice(s) => {
                let (a, b, c) = (s.start.clone(), s.stop.clone(), s.step.clone());
                format!(
                    "slice({}, {}, {})",
                    self.repr(&a)?,
                    self.repr(&b)?,
                    self.repr(&c)?
                )
            }
            Value::Function(f) => format!(
                "<function {} at {:#x}>",
                f.qualname.borrow().as_str(),
                v.id()
            ),
            Value::Builtin(b) => match &b.bound {
                Some(r) => format!(
                    "<built-in method {} of {} object at {:#x}>",
                    b.name,
                    self.type_name(r),
                    r.id()
                ),
                None => format!("<built-in function {}>", b.name),
            },
            Value::BoundMethod(m) => {
                let name = match &m.func {
                    Value::Function(f) => f.qualname.borrow().as_str().to_owned(),
                    _ => "?".into(),
                };
                let recv = m.receiver.clone();
                format!("<bound method {name} of {}>", self.repr(&recv)?)
            }
            Value::Type(t) => {
                let n = self.n.repr.clone();
                if let Some(r) = self.call_special(v, &n, &[])? {
                    return match r {
                        Value::Str(s) => Ok(s.as_str().to_owned()),
                        other => Err(self.type_error(format!(
                            "__repr__ returned non-string (type {})",
                            self.type_name(&other)
                        ))),
                    };
                }
                let module = t.module_name();
                if module == "builtins" {
                    format!("<class '{}'>", t.qualname.borrow().as_str())
                } else {
                    format!("<class '{module}.{}'>", t.qualname.borrow().as_str())
                }
            }
            Value::Instance(inst) => {
                let n = self.n.repr.clone();
                if let Some(f) = inst.class.lookup(&n) {
                    let r = self.call_descriptor(&f, v, std::slice::from_ref(v))?;
                    return match r {
                        Value::Str(s) => Ok(s.as_str().to_owned()),
                        other => Err(self.type_error(format!(
                            "__repr__ returned non-string (type {})",
                            self.type_name(&other)
                        ))),
                    };
                }
                if let Value::ByteArray(b) = &inst.payload {
                    // bytearray's repr names the subclass.
                    let r = crate::bytesobj::bytearray_repr(&b.borrow());
                    return Ok(r.replacen("bytearray", inst.class.name.as_str(), 1));
                }
                if !matches!(inst.payload, Value::Null) {
                    let p = inst.payload.clone();
                    return self.repr(&p);
                }
                return self.base_repr(inst, v);
            }
            Value::Cell(_) => format!("<cell at {:#x}>", v.id()),
            Value::Code(c) => format!("<code object {} at {:#x}>", c.name.as_str(), v.id()),
            Value::Generator(g) => format!(
                "<{} object {} at {:#x}>",
                self.type_name(v),
                g.qualname.as_str(),
                v.id()
            ),
            Value::Iter(_) => format!("<{} object at {:#x}>", self.type_name(v), v.id()),
            Value::Module(m) => crate::module_spec::module_repr(self, m)?,
            Value::Wrapper(w) => match &**w {
                Wrapper::Member { name, owner, .. } => format!(
                    "<member '{}' of '{}' objects>",
                    name.as_str(),
                    owner
                        .upgrade()
                        .map_or(String::new(), |o| o.name.as_str().to_owned())
                ),
                Wrapper::DictView { .. } => {
                    let items = self.to_vec(v)?;
                    format!(
                        "{}([{}])",
                        self.type_name(v),
                        self.repr_items(&items)?.join(", ")
                    )
                }
                Wrapper::File(st) => {
                    let st = st.borrow();
                    let name = str_repr(&st.name);
                    if st.mode.contains('b') {
                        format!(
                            "<_io.Buffered{} name={name}>",
                            if st.mode.contains('r') {
                                "Reader"
                            } else {
                                "Writer"
                            }
                        )
                    } else {
                        format!(
                            "<_io.TextIOWrapper name={name} mode={} encoding='UTF-8'>",
                            str_repr(&st.mode)
                        )
                    }
                }
                _ => format!("<{} object at {:#x}>", self.type_name(v), v.id()),
            },
        })
    }

    fn repr_items(&mut self, items: &[Value]) -> PyResult<Vec<String>> {
        items.iter().map(|x| self.repr(x)).collect()
    }

    /// `str(v)`.
    pub fn str_of(&mut self, v: &Value) -> PyResult<String> {
        match v {
            Value::Str(s) => Ok(s.as_str().to_owned()),
            Value::Instance(inst) => {
                let n = self.n.str.clone();
                if let Some(f) = inst.class.lookup(&n) {
                    let r = self.call_descriptor(&f, v, std::slice::from_ref(v))?;
                    return match r {
                        Value::Str(s) => Ok(s.as_str().to_owned()),
                        other => Err(self.type_error(format!(
                            "__str__ returned non-string (type {})",
                            self.type_name(&other)
                        ))),
                    };
                }
                if let Value::ByteArray(_) = inst.payload {
                    return self.repr(v);
                }
                if let Some(p) = self.payload_for(v, &["__repr__"]) {
                    return self.str_of(&p);
                }
                self.base_str(inst, v)
            }
            _ => self.repr(v),
        }
    }

    /// `object.__repr__` / `BaseException.__repr__` of an instance (no user `__repr__`).
    pub fn base_repr(&mut self, inst: &Rc<Instance>, v: &Value) -> PyResult<String> {
        if let Some(exc) = &inst.exc {
            let args = exc.borrow().args.clone();
            let name = inst.class.name.as_str().to_owned();
            return Ok(match &args {
                Value::Tuple(t) if t.len() == 1 => format!("{name}({})", self.repr(&t[0])?),
                _ => format!("{name}{}", self.repr(&args)?),
            });
        }
        Ok(format!(
            "<{}.{} object at {:#x}>",
            inst.class.module_name(),
            inst.class.qualname.borrow().as_str(),
            v.id()
        ))
    }

    /// `object.__str__` / `BaseException.__str__` of an instance (no user `__str__`).
    pub fn base_str(&mut self, inst: &Rc<Instance>, v: &Value) -> PyResult<String> {
        if inst.class.is_subtype(&self.exc_type("SyntaxError")) {
            let get = |k: &str| inst.dict.get_str(&crate::pystr::intern(k));
            if let (Some(Value::Str(msg)), Some(Value::Str(file)), Some(Value::Int(line))) =
                (get("msg"), get("filename"), get("lineno"))
            {
                let base = file.as_str().rsplit('/').next().unwrap_or(file.as_str());
                return Ok(format!("{} ({base}, line {line})", msg.as_str()));
            }
        }
        if let Some(message) = crate::exc_attrs::message(self, inst)? {
            return Ok(message);
        }
        if let Some(exc) = &inst.exc {
            let args = exc.borrow().args.clone();
            let is_key_error = inst.class.is_subtype(&self.exc_type("KeyError"));
            return match &args {
                Value::Tuple(t) if t.is_empty() => Ok(String::new()),
                Value::Tuple(t) if t.len() == 1 => {
                    if is_key_error {
                        self.repr(&t[0])
                    } else {
                        self.str_of(&t[0])
                    }
                }
                _ => self.repr(&args),
            };
        }
        self.repr(v)
    }

    pub(crate) fn repr_enter(&mut self, v: &Value) -> bool {
        let id = v.id();
        if self.repr_stack.contains(&id) {
            return false;
        }
        self.repr_stack.push(id);
        true
    }

    pub(crate) fn repr_leave(&mut self) {
        self.repr_stack.pop();
    }

    /// `len(v)`.
    pub fn len(&mut self, v: &Value) -> PyResult<usize> {
        if let Some(p) = self.payload_for(v, &["__len__"]) {
            return self.len(&p);
        }
        Ok(match v {
            Value::Type(_) if Self::has_user_meta(v) => {
                let n = self.n.len.clone();
                match self.call_special(v, &n, &[])? {
                    Some(r) => self.index_of(&r)?.max(0) as usize,
                    None => return Err(self.no_len(v)),
                }
            }
            Value::Str(s) => s.char_len(),
            Value::Bytes(b) => b.len(),
            Value::ByteArray(b) => b.borrow().len(),
            Value::Tuple(t) => t.len(),
            Value::List(l) => l.items.borrow().len(),
            Value::Dict(d) => d.map.borrow().len(),
            Value::Set(s) => s.map.borrow().len(),
            Value::Range(r) => r.len() as usize,
            Value::Wrapper(w) if matches!(&**w, Wrapper::DictView { .. }) => match &**w {
                Wrapper::DictView { dict, .. } => dict.map.borrow().len(),
                _ => 0,
            },
            Value::Instance(_) => {
                let n = self.n.len.clone();
                match self.call_special(v, &n, &[])? {
                    Some(r) => {
                        if let Value::BigInt(b) = &r {
                            return Err(if b.is_negative() {
                                self.value_error("__len__() should return >= 0")
                            } else {
                                self.err(
                                    "OverflowError",
                                    "cannot fit 'int' into an index-sized integer",
                                )
                            });
                        }
                        let n = self.index_of(&r)?;
                        if n < 0 {
                            return Err(self.value_error("__len__() should return >= 0"));
                        }
                        n as usize
                    }
                    None => return Err(self.no_len(v)),
                }
            }
            _ => return Err(self.no_len(v)),
        })
    }

    fn no_len(&self, v: &Value) -> PyErr {
        self.type_error(format!(
            "object of type '{}' has no len()",
            self.type_name(v)
        ))
    }

    /// `x in container`.
    pub fn contains(&mut self, container: &Value, x: &Value) -> PyResult<bool> {
        if let Some(p) = self.payload_for(container, &["__contains__", "__iter__"]) {
            return self.contains(&p, x);
        }
        match container {
            Value::Str(s) => match x {
                Value::Str(sub) => Ok(s.as_str().contains(sub.as_str())),
                _ => Err(self.type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    self.type_name(x)
                ))),
            },
            Value::Dict(d) => Ok(self.dict_get(d, x)?.is_some()),
            Value::Wrapper(w)
                if matches!(
                    &**w,
                    Wrapper::DictView {
                        part: DictPart::Keys,
                        ..
                    }
                ) =>
            {
                match &**w {
                    Wrapper::DictView { dict, .. } => Ok(self.dict_get(dict, x)?.is_some()),
                    _ => Ok(false),
                }
            }
            Value::Set(s) => self.set_contains(s, x),
            Value::Range(r) => Ok(match as_int(x) {
                Some(IntRef::Small(i)) => {
                    let (lo, hi) = if r.step > 0 {
                        (r.start, r.stop)
                    } else {
                        (r.stop + 1, r.start + 1)
                    };
                    i >= lo.min(hi) && i < hi && (i - r.start) % r.step == 0
                }
                Some(IntRef::Big(_)) => false,
                // Other values are compared with each item, as CPython's sequence search.
                None => {
                    let r = r.clone();
                    for i in 0..r.len() {
                        if self.eq_or_is(&Value::Int(r.start + i * r.step), x)? {
                            return Ok(true);
                        }
                    }
                    false
                }
            }),
            Value::Tuple(t) => {
                let t = t.clone();
                for item in t.iter() {
                    if self.eq_or_is(item, x)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::List(l) => {
                let mut i = 0;
                loop {
                    let item = match l.items.borrow().get(i) {
                        Some(item) => item.clone(),
                        None => return Ok(false),
                    };
                    if self.eq_or_is(&item, x)? {
                        return Ok(true);
                    }
                    i += 1;
                }
            }
            Value::Bytes(_) | Value::ByteArray(_) => {
                let needle = match crate::bytesobj::bytes_of(x) {
                    Some(sub) => sub,
                    None if as_int(x).is_some() => {
                        let c = self.index_of(x)?;
                        match u8::try_from(c) {
                            Ok(c) => vec![c],
                            Err(_) => return Err(self.value_error("byte must be in range(0, 256)")),
                        }
                    }
                    None => {
                        return Err(self.type_error(format!(
                            "a bytes-like object is required, not '{}'",
                            self.type_name(x)
                        )))
                    }
                };
                Ok(with_bytes(container, |b| {
                    needle.is_empty() || b.windows(needle.len()).any(|w| w == &needle[..])
                })
                .unwrap_or(false))
            }
            _ => {
                let n = self.n.contains.clone();
                if let Some(r) = self.call_special(container, &n, std::slice::from_ref(x))? {
                    return self.truthy(&r);
                }
                let it = self.iter(container).map_err(|_| {
                    self.type_error(format!(
                        "argument of type '{}' is not iterable",
                        self.type_name(container)
                    ))
                })?;
                while let Some(item) = self.next(&it)? {
                    if self.eq_or_is(&item, x)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// `iter(v)`.
    pub fn iter(&mut self, v: &Value) -> PyResult<Value> {
        if let Some(p) = self.payload_for(v, &["__iter__"]) {
            return self.iter(&p);
        }
        if Self::has_user_meta(v) {
            let n = self.n.iter.clone();
            if let Some(r) = self.call_special(v, &n, &[])? {
                return Ok(r);
            }
        }
        let state = match v {
            Value::List(_) | Value::Tuple(_) => IterState::Seq {
                seq: v.clone(),
                index: 0,
            },
            Value::Str(s) => IterState::Str {
                s: s.clone(),
                pos: 0,
            },
            Value::Bytes(_) | Value::ByteArray(_) => IterState::Seq {
                seq: v.clone(),
                index: 0,
            },
            Value::Range(r) => IterState::Range {
                next: r.start,
                step: r.step,
                left: r.len(),
            },
            Value::Dict(d) => IterState::Dict {
                dict: d.clone(),
                pos: 0,
                len: d.map.borrow().len(),
                part: DictPart::Keys,
            },
            Value::Set(s) => IterState::Set {
                set: s.clone(),
                pos: 0,
                len: s.map.borrow().len(),
            },
            Value::Generator(g) if g.kind != GenKind::Generator => return Err(self.not_iterable(v)),
            Value::Iter(_) | Value::Generator(_) => return Ok(v.clone()),
            Value::Wrapper(w) if matches!(&**w, Wrapper::File(_)) => return Ok(v.clone()),
            Value::Wrapper(w) if matches!(&**w, Wrapper::DictView { .. }) => match &**w {
                Wrapper::DictView { dict, part } => IterState::Dict {
                    dict: dict.clone(),
                    pos: 0,
                    len: dict.map.borrow().len(),
                    part: *part,
                },
                _ => IterState::Done,
            },
            Value::Instance(_) => {
                let n = self.n.iter.clone();
                if let Some(Value::None) = self.special(v, &n) {
                    return Err(self.not_iterable(v));
                }
                if let Some(r) = self.call_special(v, &n, &[])? {
                    return Ok(r);
                }
                let n = self.n.getitem.clone();
                if self.special(v, &n).is_some() {
                    return Ok(Value::Iter(Rc::new(Iter {
                        state: std::cell::RefCell::new(IterState::Seq {
                            seq: v.clone(),
                            index: 0,
                        }),
                    })));
                }
                return Err(self.not_iterable(v));
            }
            _ => return Err(self.not_iterable(v)),
        };
        Ok(Value::Iter(Rc::new(Iter {
            state: std::cell::RefCell::new(state),
        })))
    }

    fn not_iterable(&self, v: &Value) -> PyErr {
        self.type_error(format!("'{}' object is not iterable", self.type_name(v)))
    }

    /// `next(it)`, with exhaustion as `None`.
    pub fn next(&mut self, it: &Value) -> PyResult<Option<Value>> {
        match it {
            Value::Iter(i) => self.iter_next(i),
            Value::Generator(g) => {
                let g = g.clone();
                match self.gen_resume(&g, Value::None, None)? {
                    crate::generator::GenStep::Yield(v) => Ok(Some(v)),
                    crate::generator::GenStep::Return(_) => Ok(None),
                }
            }
            Value::Wrapper(w) if matches!(&**w, Wrapper::File(_)) => {
                let line = crate::files::readline_value(self, it)?;
                Ok((self.len(&line)? > 0).then_some(line))
            }
            Value::Instance(_) => {
                let n = self.n.next.clone();
                match self.call_special(it, &n, &[]) {
                    Ok(Some(v)) => Ok(Some(v)),
                    Ok(None) => Err(self.type_error(format!(
                        "'{}' object is not an iterator",
                        self.type_name(it)
                    ))),
                    Err(e) if self.err_is(&e, "StopIteration") => Ok(None),
                    Err(e) => Err(e),
                }
            }
            _ => Err(self.type_error(format!(
                "'{}' object is not an iterator",
                self.type_name(it)
            ))),
        }
    }

    fn iter_next(&mut self, it: &Rc<Iter>) -> PyResult<Option<Value>> {
        // States that call back into Python take their inputs out first so no borrow is held.
        let mut state = it.state.borrow_mut();
        match &mut *state {
            IterState::Seq { seq, index } => {
                let r = match seq {
                    Value::List(l) => l.items.borrow().get(*index).cloned(),
                    Value::Tuple(t) => t.get(*index).cloned(),
                    Value::Bytes(b) => b.get(*index).map(|&x| Value::Int(i64::from(x))),
                    Value::ByteArray(b) => {
                        b.borrow().get(*index).map(|&x| Value::Int(i64::from(x)))
                    }
                    Value::Instance(_) => {
                        let (seq, i) = (seq.clone(), *index);
                        *index += 1;
                        drop(state);
                        let n = self.n.getitem.clone();
                        return match self.call_special(&seq, &n, &[Value::Int(i as i64)]) {
                            Ok(v) => Ok(v),
                            Err(e)
                                if self.err_is(&e, "IndexError")
                                    || self.err_is(&e, "StopIteration") =>
                            {
                                *it.state.borrow_mut() = IterState::Done;
                                Ok(None)
                            }
                            Err(e) => Err(e),
                        };
                    }
                    _ => None,
                };
                match r {
                    Some(v) => {
                        *index += 1;
                        Ok(Some(v))
                    }
                    None => {
                        *state = IterState::Done;
                        Ok(None)
                    }
                }
            }
            IterState::Str { s, pos } => {
                let text = s.as_str();
                match text[*pos..].chars().next() {
                    Some(c) => {
                        *pos += c.len_utf8();
                        Ok(Some(char_value(c)))
                    }
                    None => Ok(None),
                }
            }
            IterState::Range { next, step, left } => {
                if *left <= 0 {
                    return Ok(None);
                }
                let v = *next;
                *left -= 1;
                *next = next.wrapping_add(*step);
                Ok(Some(Value::Int(v)))
            }
            IterState::Dict {
                dict,
                pos,
                len,
                part,
            } => {
                let d = dict.map.borrow();
                if d.len() != *len {
                    let msg = "dictionary changed size during iteration";
                    drop(d);
                    *len = usize::MAX;
                    return Err(self.err("RuntimeError", msg));
                }
                match d.entry_from(*pos) {
                    Some((next, k, v)) => {
                        *pos = next;
                        Ok(Some(match part {
                            DictPart::Keys => k.clone(),
                            DictPart::Values => v.clone(),
                            DictPart::Items => Value::tuple(vec![k.clone(), v.clone()]),
                        }))
                    }
                    None => Ok(None),
                }
            }
            IterState::Set { set, pos, len } => {
                let m = set.map.borrow();
                if m.len() != *len {
                    drop(m);
                    return Err(self.err("RuntimeError", "Set changed size during iteration"));
                }
                match m.entry_from(*pos) {
                    Some((next, k)) => {
                        *pos = next;
                        Ok(Some(k.clone()))
                    }
                    None => Ok(None),
                }
            }
            IterState::Reversed { seq, index } => {
                if *index == 0 {
                    return Ok(None);
                }
                *index -= 1;
                let i = *index;
                let seq = seq.clone();
                drop(state);
                Ok(Some(self.get_item(&seq, &Value::Int(i as i64))?))
            }
            IterState::Enumerate { inner, count } => {
                let (inner, c) = (inner.clone(), *count);
                *count += 1;
                drop(state);
                Ok(self
                    .next(&inner)?
                    .map(|v| Value::tuple(vec![Value::Int(c), v])))
            }
            IterState::Zip { inners } => {
                let inners = inners.clone();
                drop(state);
                let mut out = Vec::with_capacity(inners.len());
                for i in &inners {
                    match self.next(i)? {
                        Some(v) => out.push(v),
                        None => return Ok(None),
                    }
                }
                if out.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Value::tuple(out)))
            }
            IterState::Map { func, inners } => {
                let (func, inners) = (func.clone(), inners.clone());
                drop(state);
                let mut args = Vec::with_capacity(inners.len());
                for i in &inners {
                    match self.next(i)? {
                        Some(v) => args.push(v),
                        None => return Ok(None),
                    }
                }
                Ok(Some(self.call(&func, &args, &[])?))
            }
            IterState::Filter { func, inner, keep } => {
                let (func, inner, keep) = (func.clone(), inner.clone(), *keep);
                drop(state);
                while let Some(v) = self.next(&inner)? {
                    let verdict = if matches!(func, Value::None) {
                        self.truthy(&v)?
                    } else {
                        let r = self.call(&func, std::slice::from_ref(&v), &[])?;
                        self.truthy(&r)?
                    };
                    if verdict == keep {
                        return Ok(Some(v));
                    }
                }
                Ok(None)
            }
            IterState::Callable { func, sentinel } => {
                let (func, sentinel) = (func.clone(), sentinel.clone());
                drop(state);
                let v = self.call(&func, &[], &[])?;
                if self.eq(&v, &sentinel)? {
                    *it.state.borrow_mut() = IterState::Done;
                    return Ok(None);
                }
                Ok(Some(v))
            }
            IterState::Count { next, step } => {
                let (v, step) = (next.clone(), step.clone());
                drop(state);
                let following = self.binary_op(&v, &step, 0)?;
                if let IterState::Count { next, .. } = &mut *it.state.borrow_mut() {
                    *next = following;
                }
                Ok(Some(v))
            }
            IterState::Chain { .. } => {
                drop(state);
                self.chain_next(it)
            }
            IterState::Islice {
                inner,
                pos,
                next,
                stop,
                step,
            } => {
                if stop.is_some_and(|s| *next >= s) {
                    return Ok(None);
                }
                let inner = inner.clone();
                let (mut p, target, step) = (*pos, *next, *step);
                drop(state);
                while p < target {
                    if self.next(&inner)?.is_none() {
                        *it.state.borrow_mut() = IterState::Done;
                        return Ok(None);
                    }
                    p += 1;
                }
                let v = self.next(&inner)?;
                if let IterState::Islice { pos, next, .. } = &mut *it.state.borrow_mut() {
                    *pos = p + 1;
                    *next = target + step;
                }
                Ok(v)
            }
            IterState::Repeat { value, left } => match left {
                Some(0) => Ok(None),
                Some(n) => {
                    *n -= 1;
                    Ok(Some(value.clone()))
                }
                None => Ok(Some(value.clone())),
            },
            IterState::Cycle {
                inner,
                saved,
                index,
            } => {
                if !matches!(inner, Value::Null) {
                    let inner = inner.clone();
                    drop(state);
                    let v = self.next(&inner)?;
                    let mut st = it.state.borrow_mut();
                    let IterState::Cycle { inner, saved, .. } = &mut *st else {
                        return Ok(None);
                    };
                    match v {
                        Some(v) => {
                            saved.push(v.clone());
                            return Ok(Some(v));
                        }
                        None => *inner = Value::Null,
                    }
                    drop(st);
                    return self.iter_next(it);
                }
                if saved.is_empty() {
                    return Ok(None);
                }
                let v = saved[*index % saved.len()].clone();
                *index = (*index + 1) % saved.len();
                Ok(Some(v))
            }
            IterState::TakeWhile { func, inner } => {
                if matches!(func, Value::None) {
                    return Ok(None);
                }
                let (func, inner) = (func.clone(), inner.clone());
                drop(state);
                let Some(v) = self.next(&inner)? else {
                    return Ok(None);
                };
                let keep = self.call(&func, std::slice::from_ref(&v), &[])?;
                if self.truthy(&keep)? {
                    return Ok(Some(v));
                }
                if let IterState::TakeWhile { func, .. } = &mut *it.state.borrow_mut() {
                    *func = Value::None;
                }
                Ok(None)
            }
            IterState::DropWhile { func, inner } => {
                let (func, inner) = (func.clone(), inner.clone());
                drop(state);
                loop {
                    let Some(v) = self.next(&inner)? else {
                        return Ok(None);
                    };
                    if matches!(func, Value::None) {
                        return Ok(Some(v));
                    }
                    let drop_it = self.call(&func, std::slice::from_ref(&v), &[])?;
                    if !self.truthy(&drop_it)? {
                        if let IterState::DropWhile { func, .. } = &mut *it.state.borrow_mut() {
                            *func = Value::None;
                        }
                        return Ok(Some(v));
                    }
                }
            }
            IterState::StarMap { func, inner } => {
                let (func, inner) = (func.clone(), inner.clone());
                drop(state);
                let Some(args) = self.next(&inner)? else {
                    return Ok(None);
                };
                let args = self.to_vec(&args)?;
                Ok(Some(self.call(&func, &args, &[])?))
            }
            IterState::Batched { inner, n } => {
                let (inner, n) = (inner.clone(), *n);
                drop(state);
                let mut batch = Vec::with_capacity(n.min(1024));
                while batch.len() < n {
                    match self.next(&inner)? {
                        Some(v) => batch.push(v),
                        None => break,
                    }
                }
                Ok((!batch.is_empty()).then(|| Value::tuple(batch)))
            }
            IterState::Tee { source, link } => {
                let (source, link) = (source.clone(), link.clone());
                drop(state);
                let read = link.item.borrow().clone();
                let item = match read {
                    Some(v) => v,
                    None => match self.next(&source)? {
                        Some(v) => {
                            *link.item.borrow_mut() = Some(v.clone());
                            *link.next.borrow_mut() = Some(Rc::default());
                            v
                        }
                        None => return Ok(None),
                    },
                };
                let next = link.next.borrow().clone().unwrap_or_default();
                if let IterState::Tee { link, .. } = &mut *it.state.borrow_mut() {
                    *link = next;
                }
                Ok(Some(item))
            }
            IterState::Done => Ok(None),
        }
    }

    fn chain_next(&mut self, it: &Rc<Iter>) -> PyResult<Option<Value>> {
        loop {
            let (current, next_src) = {
                let mut st = it.state.borrow_mut();
                let IterState::Chain { rest, current } = &mut *st else {
                    return Ok(None);
                };
                if matches!(current, Value::Null) {
                    (None, rest.pop_front())
                } else {
                    (Some(current.clone()), None)
                }
            };
            match (current, next_src) {
                (Some(cur), _) => {
                    if let Some(v) = self.next(&cur)? {
                        return Ok(Some(v));
                    }
                    if let IterState::Chain { current, .. } = &mut *it.state.borrow_mut() {
                        *current = Value::Null;
                    }
                }
                (None, Some(src)) => {
                    let i = self.iter(&src)?;
                    if let IterState::Chain { current, .. } = &mut *it.state.borrow_mut() {
                        *current = i;
                    }
                }
                (None, None) => return Ok(None),
            }
        }
    }

    /// Collects an iterable.
    pub fn to_vec(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        match v {
            Value::List(l) => return Ok(l.items.borrow().clone()),
            Value::Tuple(t) => return Ok((**t).clone()),
            _ => {}
        }
        let it = self.iter(v)?;
        let mut out = Vec::new();
        while let Some(x) = self.next(&it)? {
            out.push(x);
        }
        Ok(out)
    }

    /// Normalizes an index against a length.
    pub(crate) fn seq_index(&mut self, idx: &Value, len: usize, what: &str) -> PyResult<usize> {
        let i = match idx {
            Value::Int(i) => *i,
            Value::Bool(b) => i64::from(*b),
            Value::BigInt(_) => {
                return Err(self.err(
                    "IndexError",
                    "cannot fit 'int' into an index-sized integer".to_string(),
                ))
            }
            Value::Instance(_) => self.index_of(idx)?,
            _ => {
                return Err(self.type_error(format!(
                    "{what} indices must be integers or slices, not {}",
                    self.type_name(idx)
                )))
            }
        };
        let j = if i < 0 { i + len as i64 } else { i };
        if j < 0 || j >= len as i64 {
            return Err(self.err("IndexError", format!("{what} index out of range")));
        }
        Ok(j as usize)
    }

    /// Resolves a slice against a length: (start, stop, step) as CPython's `PySlice_AdjustIndices`.
    pub fn slice_indices(
        &mut self,
        s: &crate::objects::Slice,
        len: usize,
    ) -> PyResult<(i64, i64, i64)> {
        let step = match &s.step {
            Value::None => 1,
            v => self.index_of(v)?,
        };
        if step == 0 {
            return Err(self.value_error("slice step cannot be zero"));
        }
        let len = len as i64;
        let adjust = |vm: &mut Vm, v: &Value, default: i64| -> PyResult<i64> {
            match v {
                Value::None => Ok(default),
                v => {
                    let mut i = match v {
                        Value::BigInt(b) => {
                            if b.is_negative() {
                                i64::MIN / 2
                            } else {
                                i64::MAX / 2
                            }
                        }
                        _ => vm.index_of(v)?,
                    };
                    if i < 0 {
                        i += len;
                        if i < 0 {
                            i = if step < 0 { -1 } else { 0 };
                        }
                    } else if i >= len {
                        i = if step < 0 { len - 1 } else { len };
                    }
                    Ok(i)
                }
            }
        };
        let start = adjust(self, &s.start, if step < 0 { len - 1 } else { 0 })?;
        let stop = adjust(self, &s.stop, if step < 0 { -1 } else { len })?;
        Ok((start, stop, step))
    }

    pub(crate) fn slice_positions(
        &mut self,
        s: &crate::objects::Slice,
        len: usize,
    ) -> PyResult<Vec<usize>> {
        let (start, stop, step) = self.slice_indices(s, len)?;
        let mut out = Vec::new();
        let mut i = start;
        while (step > 0 && i < stop) || (step < 0 && i > stop) {
            out.push(i as usize);
            i += step;
        }
        Ok(out)
    }

    /// `obj[key]`.
    pub fn get_item(&mut self, obj: &Value, key: &Value) -> PyResult<Value> {
        if let Some(p) = self.payload_for(obj, &["__getitem__"]) {
            if let Value::Dict(d) = &p {
                if let Some(v) = self.dict_get(d, key)? {
                    return Ok(v);
                }
                let missing = crate::pystr::intern("__missing__");
                if let Some(r) = self.call_special(obj, &missing, std::slice::from_ref(key))? {
                    return Ok(r);
                }
            }
            return self.get_item(&p, key);
        }
        match (obj, key) {
            (Value::List(l), Value::Int(i)) => {
                let items = l.items.borrow();
                let j = if *i < 0 { *i + items.len() as i64 } else { *i };
                if j >= 0 && (j as usize) < items.len() {
                    return Ok(items[j as usize].clone());
                }
                drop(items);
                Err(self.err("IndexError", "list index out of range"))
            }
            (Value::List(l), Value::Slice(s)) => {
                let len = l.items.borrow().len();
                let pos = self.slice_positions(s, len)?;
                let items = l.items.borrow();
                Ok(Value::list(pos.iter().map(|&i| items[i].clone()).collect()))
            }
            (Value::List(l), k) => {
                let len = l.items.borrow().len();
                let i = self.seq_index(k, len, "list")?;
                Ok(l.items.borrow()[i].clone())
            }
            (Value::Tuple(t), Value::Slice(s)) => {
                let pos = self.slice_positions(s, t.len())?;
                Ok(Value::tuple(pos.iter().map(|&i| t[i].clone()).collect()))
            }
            (Value::Tuple(t), k) => {
                let i = self.seq_index(k, t.len(), "tuple")?;
                Ok(t[i].clone())
            }
            (Value::Dict(d), k) => {
                if let Some(v) = self.dict_get(d, k)? {
                    return Ok(v);
                }
                Err(PyErr(
                    self.new_exception(self.exc_type("KeyError"), vec![k.clone()]),
                ))
            }
            (Value::Str(s), Value::Slice(sl)) => {
                if s.is_ascii() {
                    let pos = self.slice_positions(sl, s.as_str().len())?;
                    let b = s.as_str().as_bytes();
                    let out: Vec<u8> = pos.iter().map(|&i| b[i]).collect();
                    return Ok(Value::string(String::from_utf8(out).unwrap_or_default()));
                }
                let chars: Vec<char> = s.as_str().chars().collect();
                let pos = self.slice_positions(sl, chars.len())?;
                Ok(Value::string(pos.iter().map(|&i| chars[i]).collect()))
            }
            (Value::Str(s), k) => {
                let len = s.char_len();
                let i = self.seq_index(k, len, "string")?;
                if s.is_ascii() {
                    return Ok(char_value(s.as_str().as_bytes()[i] as char));
                }
                Ok(char_value(s.as_str().chars().nth(i).unwrap_or(' ')))
            }
            (Value::Bytes(b), Value::Slice(sl)) => {
                let pos = self.slice_positions(sl, b.len())?;
                Ok(Value::Bytes(Rc::new(pos.iter().map(|&i| b[i]).collect())))
            }
            (Value::Bytes(b), k) => {
                let i = self.seq_index(k, b.len(), "index")?;
                Ok(Value::Int(i64::from(b[i])))
            }
            (Value::ByteArray(b), Value::Slice(sl)) => {
                let len = b.borrow().len();
                let pos = self.slice_positions(sl, len)?;
                // The slice's __index__ may have resized the array: positions past its end
                // are gone.
                let data = b.borrow();
                Ok(crate::bytesobj::bytearray(
                    pos.iter().filter_map(|&i| data.get(i).copied()).collect(),
                ))
            }
            (Value::ByteArray(b), k) => {
                let len = b.borrow().len();
                let i = self.seq_index(k, len, "bytearray")?;
                let byte = b.borrow().get(i).copied();
                byte.map(|c| Value::Int(i64::from(c)))
                    .ok_or_else(|| self.err("IndexError", "bytearray index out of range"))
            }
            (Value::Range(r), Value::Slice(sl)) => {
                let (start, stop, step) = self.slice_indices(sl, r.len() as usize)?;
                let n = crate::objects::Range { start, stop, step }.len();
                Ok(Value::Range(Rc::new(crate::objects::Range {
                    start: r.start + start * r.step,
                    stop: r.start + (start + n * step) * r.step,
                    step: r.step * step,
                })))
            }
            (Value::Range(r), k) => {
                let i = self.seq_index(k, r.len() as usize, "range object")?;
                Ok(Value::Int(r.start + i as i64 * r.step))
            }
            (Value::Instance(_), _) => {
                let n = self.n.getitem.clone();
                match self.call_special(obj, &n, std::slice::from_ref(key))? {
                    Some(v) => Ok(v),
                    None => Err(self.not_subscriptable(obj)),
                }
            }
            (Value::Type(t), _) => {
                let gi = self.n.getitem.clone();
                if let Some(r) = self.call_special(obj, &gi, std::slice::from_ref(key))? {
                    return Ok(r);
                }
                let n = crate::pystr::intern("__class_getitem__");
                match t.lookup(&n) {
                    Some(f) => {
                        let f = self.bind_descriptor(f, &Value::None, Some(t))?;
                        self.call(&f, std::slice::from_ref(key), &[])
                    }
                    None => {
                        Err(self
                            .type_error(format!("type '{}' is not subscriptable", t.name.as_str())))
                    }
                }
            }
            _ => Err(self.not_subscriptable(obj)),
        }
    }

    /// `mapping[name]` for a namespace mapping (None when the key is missing).
    pub fn mapping_lookup(&mut self, mapping: &Value, name: &Rc<PyStr>) -> PyResult<Option<Value>> {
        if let Value::Dict(d) = mapping {
            return Ok(d.get_str(name));
        }
        match self.get_item(mapping, &Value::Str(name.clone())) {
            Ok(v) => Ok(Some(v)),
            Err(e) if self.err_is(&e, "KeyError") => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn not_subscriptable(&self, v: &Value) -> PyErr {
        self.type_error(format!(
            "'{}' object is not subscriptable",
            self.type_name(v)
        ))
    }

    /// `obj[key] = value`.
    pub fn set_item(&mut self, obj: &Value, key: &Value, value: Value) -> PyResult<()> {
        if let Some(p) = self.payload_for(obj, &["__setitem__"]) {
            return self.set_item(&p, key, value);
        }
        match (obj, key) {
            (Value::List(l), Value::Slice(s)) => {
                let new = self.to_vec(&value)?;
                let len = l.items.borrow().len();
                let (start, stop, step) = self.slice_indices(s, len)?;
                if step == 1 {
                    let stop = stop.max(start);
                    l.items
                        .borrow_mut()
                        .splice(start as usize..stop as usize, new);
                    return Ok(());
                }
                let pos = self.slice_positions(s, len)?;
                if pos.len() != new.len() {
                    return Err(self.value_error(format!(
                        "attempt to assign sequence of size {} to extended slice of size {}",
                        new.len(),
                        pos.len()
                    )));
                }
                let mut items = l.items.borrow_mut();
                for (i, v) in pos.into_iter().zip(new) {
                    items[i] = v;
                }
                Ok(())
            }
            (Value::List(l), k) => {
                let len = l.items.borrow().len();
                let i = self.seq_index(k, len, "list assignment")?;
                l.items.borrow_mut()[i] = value;
                Ok(())
            }
            (Value::Dict(d), k) => self.dict_set(d, k.clone(), value),
            (Value::ByteArray(b), k) => crate::bytesobj::set_item(self, b, k, value),
            (Value::Instance(_), _) => {
                let n = self.n.setitem.clone();
                match self.call_special(obj, &n, &[key.clone(), value])? {
                    Some(_) => Ok(()),
                    None => Err(self.type_error(format!(
                        "'{}' object does not support item assignment",
                        self.type_name(obj)
                    ))),
                }
            }
            _ => Err(self.type_error(format!(
                "'{}' object does not support item assignment",
                self.type_name(obj)
            ))),
        }
    }

    /// `del obj[key]`.
    pub fn del_item(&mut self, obj: &Value, key: &Value) -> PyResult<()> {
        if let Some(p) = self.payload_for(obj, &["__delitem__"]) {
            return self.del_item(&p, key);
        }
        match (obj, key) {
            (Value::List(l), Value::Slice(s)) => {
                let len = l.items.borrow().len();
                let mut pos = self.slice_positions(s, len)?;
                pos.sort_unstable();
                let mut items = l.items.borrow_mut();
                for i in pos.into_iter().rev() {
                    items.remove(i);
                }
                Ok(())
            }
            (Value::List(l), k) => {
                let len = l.items.borrow().len();
                let i = self.seq_index(k, len, "list assignment")?;
                l.items.borrow_mut().remove(i);
                Ok(())
            }
            (Value::ByteArray(b), k) => crate::bytesobj::del_item(self, b, k),
            (Value::Dict(d), k) => {
                let h = self.hash(k)?;
                let removed = d.map.borrow_mut().remove(k, h);
                match removed {
                    Some(_) => Ok(()),
                    None => Err(PyErr(
                        self.new_exception(self.exc_type("KeyError"), vec![k.clone()]),
                    )),
                }
            }
            (Value::Instance(_), _) => {
                let n = self.n.delitem.clone();
                match self.call_special(obj, &n, std::slice::from_ref(key))? {
                    Some(_) => Ok(()),
                    None => Err(self.type_error(format!(
                        "'{}' object does not support item deletion",
                        self.type_name(obj)
                    ))),
                }
            }
            _ => Err(self.type_error(format!(
                "'{}' object does not support item deletion",
                self.type_name(obj)
            ))),
        }
    }

    /// Binds a class attribute found by lookup to `obj` (an instance, or None when looked up
    /// on the class `owner`).
    pub fn bind_descriptor(
        &mut self,
        attr: Value,
        obj: &Value,
        owner: Option<&Rc<Type>>,
    ) -> PyResult<Value> {
        let on_class = matches!(obj, Value::None) && owner.is_some();
        Ok(match &attr {
            Value::Function(_) if !on_class => {
                Value::BoundMethod(Rc::new(crate::objects::BoundMethod {
                    func: attr.clone(),
                    receiver: obj.clone(),
                }))
            }
            Value::Builtin(b) if !on_class && b.bound.is_none() => {
                Value::Builtin(Rc::new(BuiltinFunction {
                    name: b.name,
                    func: b.func,
                    bound: Some(match obj {
                        Value::Instance(i)
                            if !matches!(i.payload, Value::Null) && !b.instance_method =>
                        {
                            i.payload.clone()
                        }
                        _ => obj.clone(),
                    }),
                    needs_frame: false,
                    instance_method: b.instance_method,
                }))
            }
            Value::Wrapper(w) => match &**w {
                Wrapper::StaticMethod(f) => f.clone(),
                Wrapper::ClassMethod(f) => {
                    let cls = match owner {
                        Some(t) => t.clone(),
                        None => self.type_of(obj),
                    };
                    Value::BoundMethod(Rc::new(crate::objects::BoundMethod {
                        func: f.clone(),
                        receiver: Value::Type(cls),
                    }))
                }
                Wrapper::Member { name, index, owner } if !on_class => {
                    return crate::slots::member_get(self, obj, name, *index, owner);
                }
                Wrapper::Property { fget, .. } if !on_class => {
                    if matches!(fget, Value::None) {
                        return Err(self.err("AttributeError", "property has no getter"));
                    }
                    let fget = fget.clone();
                    return self.call(&fget, std::slice::from_ref(obj), &[]);
                }
                _ => attr.clone(),
            },
            Value::Instance(_) if self.as_builtin_descriptor(&attr).is_some() => {
                let wrapped = self.as_builtin_descriptor(&attr).unwrap_or(Value::None);
                return self.bind_descriptor(wrapped, obj, owner);
            }
            Value::Instance(inst) => {
                let n = self.n.get.clone();
                match inst.class.lookup(&n) {
                    Some(get) => {
                        let owner = match owner {
                            Some(t) => Value::Type(t.clone()),
                            None => Value::Type(self.type_of(obj)),
                        };
                        let o = if on_class { Value::None } else { obj.clone() };
                        self.call_descriptor(&get, &attr, &[attr.clone(), o, owner])?
                    }
                    None => attr.clone(),
                }
            }
            _ => attr.clone(),
        })
    }

    /// An instance of a subclass of property, classmethod or staticmethod that does not
    /// override the descriptor methods acts as the built-in descriptor it wraps.
    fn as_builtin_descriptor(&self, v: &Value) -> Option<Value> {
        match v {
            Value::Instance(i) if matches!(i.payload, Value::Wrapper(_)) => {
                let overridden = [&self.n.get, &self.n.set, &self.n.delete]
                    .iter()
                    .any(|n| matches!(i.class.lookup(n), Some(Value::Function(_))));
                (!overridden).then(|| i.payload.clone())
            }
            _ => None,
        }
    }

    fn is_data_descriptor(&self, v: &Value) -> bool {
        if let Some(w) = self.as_builtin_descriptor(v) {
            return self.is_data_descriptor(&w);
        }
        match v {
            Value::Wrapper(w) => matches!(&**w, Wrapper::Property { .. } | Wrapper::Member { .. }),
            Value::Instance(i) => {
                i.class.lookup(&self.n.set.clone()).is_some()
                    || i.class.lookup(&self.n.delete.clone()).is_some()
            }
            _ => false,
        }
    }

    /// `getattr(obj, name)`.
    pub fn get_attr(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<Value> {
        match obj {
            Value::Instance(inst) => {
                let custom = if inst.class.plain_attributes() {
                    None
                } else {
                    match inst.class.lookup(&getattribute_name()) {
                        Some(f @ Value::Function(_)) => Some(f),
                        _ => None,
                    }
                };
                let found = match custom {
                    Some(f) => self
                        .call(&f, &[obj.clone(), Value::Str(name.clone())], &[])
                        .map(Some),
                    None => self.find_instance_attr(inst, obj, name),
                };
                // __getattr__ runs when the normal lookup finds nothing or raises
                // AttributeError (the error is only built when there is no __getattr__).
                let missing = match found {
                    Ok(Some(v)) => return Ok(v),
                    Ok(None) => None,
                    Err(e) if self.err_is(&e, "AttributeError") => Some(e),
                    Err(e) => return Err(e),
                };
                let ga = self.n.getattr.clone();
                match inst.class.lookup(&ga) {
                    Some(f) => {
                        self.call_descriptor(&f, obj, &[obj.clone(), Value::Str(name.clone())])
                    }
                    None => Err(missing.unwrap_or_else(|| self.attr_error(obj, name))),
                }
            }
            Value::Type(t) => {
                // Data descriptors of a metaclass (properties) come first.
                if let Some(meta) = &t.meta {
                    if let Some(d) = meta.lookup(name) {
                        if !meta.builtin && self.is_data_descriptor(&d) {
                            return self.bind_descriptor(d, obj, None);
                        }
                    }
                }
                if name.as_str() == "__type_params__" {
                    // Read from the class's own namespace only, as CPython's getset does.
                    return Ok(t.dict.get_str(name).unwrap_or_else(|| Value::tuple(vec![])));
                }
                if let Some(v) = t.lookup(name) {
                    return self.bind_descriptor(v, &Value::None, Some(t));
                }
                if let Some(v) = crate::builtins::type_attr(self, t, name.as_str()) {
                    return Ok(v);
                }
                if let Some(meta) = &t.meta {
                    if let Some(v) = meta.lookup(name) {
                        return self.bind_descriptor(v, obj, None);
                    }
                    let ga = self.n.getattr.clone();
                    if let Some(f) = self.special(obj, &ga) {
                        return self.call_descriptor(
                            &f,
                            obj,
                            &[obj.clone(), Value::Str(name.clone())],
                        );
                    }
                }
                Err(self.err(
                    "AttributeError",
                    format!(
                        "type object '{}' has no attribute '{}'",
                        t.name.as_str(),
                        name.as_str()
                    ),
                ))
            }
            Value::Module(m) => match m.dict.get_str(name) {
                Some(v) => Ok(v),
                None if name.as_str() == "__dict__" => Ok(Value::Dict(m.dict.clone())),
                None => crate::importer::module_getattr(self, m, name),
            },
            Value::Wrapper(w) if matches!(&**w, Wrapper::Super { .. }) => self.super_attr(w, name),
            _ => {
                let t = self.type_of(obj);
                if let Some(v) = t.lookup(name) {
                    return self.bind_descriptor(v, obj, None);
                }
                if let Some(v) = crate::builtins::value_attr(self, obj, name.as_str())? {
                    return Ok(v);
                }
                Err(self.attr_error(obj, name))
            }
        }
    }

    /// `object.__getattribute__(obj, name)` for an instance: data descriptors, the instance
    /// dict, then other class attributes.
    pub fn instance_attr(
        &mut self,
        inst: &Rc<Instance>,
        obj: &Value,
        name: &Rc<PyStr>,
    ) -> PyResult<Value> {
        match self.find_instance_attr(inst, obj, name)? {
            Some(v) => Ok(v),
            None => Err(self.attr_error(obj, name)),
        }
    }

    /// [`Self::instance_attr`], with None when there is no such attribute.
    fn find_instance_attr(
        &mut self,
        inst: &Rc<Instance>,
        obj: &Value,
        name: &Rc<PyStr>,
    ) -> PyResult<Option<Value>> {
        let descr = inst.class.lookup(name);
        if let Some(d) = &descr {
            if self.is_data_descriptor(d) {
                return self.bind_descriptor(d.clone(), obj, None).map(Some);
            }
        }
        if let Some(v) = inst.dict.get_str(name) {
            return Ok(Some(v));
        }
        if let Some(d) = descr {
            return self.bind_descriptor(d, obj, None).map(Some);
        }
        if let Some(v) = self.instance_special_attr(inst, name) {
            return Ok(Some(v));
        }
        if let Some(m) = crate::builtins::object_method(name.as_str()) {
            return self.bind_descriptor(m, obj, None).map(Some);
        }
        // Attributes of the built-in value a subclass instance wraps (a property's fget,
        // setter, ...).
        if matches!(inst.payload, Value::Wrapper(_)) {
            return Ok(
                match crate::builtins::value_attr(self, &inst.payload, name.as_str())? {
                    // A subclass's getter/setter/deleter make an instance of the subclass.
                    Some(Value::Builtin(b))
                        if matches!(name.as_str(), "getter" | "setter" | "deleter") =>
                    {
                        Some(Value::Builtin(Rc::new(BuiltinFunction {
                            name: b.name,
                            func: b.func,
                            bound: Some(obj.clone()),
                            needs_frame: false,
                            instance_method: false,
                        })))
                    }
                    other => other,
                },
            );
        }
        Ok(None)
    }

    fn instance_special_attr(&mut self, inst: &Rc<Instance>, name: &Rc<PyStr>) -> Option<Value> {
        Some(match name.as_str() {
            "__class__" => Value::Type(inst.class.clone()),
            "__dict__" if !inst.class.dictless => Value::Dict(inst.dict.clone()),
            _ => {
                let exc = inst.exc.as_ref()?.borrow();
                match name.as_str() {
                    "args" => exc.args.clone(),
                    "__cause__" => exc.cause.clone(),
                    "__context__" => exc.context.clone(),
                    "__suppress_context__" => Value::Bool(exc.suppress_context),
                    "__traceback__" => Value::None,
                    "value" if inst.class.is_subtype(&self.exc_type("StopIteration")) => {
                        match &exc.args {
                            Value::Tuple(t) if !t.is_empty() => t[0].clone(),
                            _ => Value::None,
                        }
                    }
                    "name" | "path" | "msg"
                        if inst.class.is_subtype(&self.exc_type("ImportError")) =>
                    {
                        match &exc.args {
                            Value::Tuple(t) if t.len() == 1 && name.as_str() == "msg" => {
                                t[0].clone()
                            }
                            _ => Value::None,
                        }
                    }
                    "code" if inst.class.is_subtype(&self.exc_type("SystemExit")) => {
                        match &exc.args {
                            Value::Tuple(t) if t.len() == 1 => t[0].clone(),
                            Value::Tuple(t) if t.is_empty() => Value::None,
                            other => other.clone(),
                        }
                    }
                    _ => return None,
                }
            }
        })
    }

    /// The AttributeError for a property without a setter or deleter (`what`).
    fn property_error(&self, name: &Rc<PyStr>, class: &Rc<Type>, what: &str) -> PyErr {
        self.err(
            "AttributeError",
            format!(
                "property '{}' of '{}' object has no {what}",
                name.as_str(),
                class.name.as_str()
            ),
        )
    }

    /// The AttributeError for `obj.name`.
    pub fn attr_error(&self, obj: &Value, name: &Rc<PyStr>) -> PyErr {
        self.err(
            "AttributeError",
            format!(
                "'{}' object has no attribute '{}'",
                self.type_name(obj),
                name.as_str()
            ),
        )
    }

    /// LOAD_ATTR with the method flag: `(method, Some(self))` when the attribute is a plain
    /// function found on the type (no bound method is allocated), else `(attr, None)`.
    #[inline]
    pub fn load_method(
        &mut self,
        obj: &Value,
        name: &Rc<PyStr>,
    ) -> PyResult<(Value, Option<Value>)> {
        match obj {
            Value::Instance(inst) => match inst.class.lookup(name) {
                Some(f @ Value::Function(_))
                    if (inst.dict.map.borrow().is_empty() || inst.dict.get_str(name).is_none())
                        && (inst.class.plain_attributes()
                            || inst.class.lookup(&getattribute_name()).is_none()) =>
                {
                    return Ok((f, Some(obj.clone())));
                }
                Some(Value::Builtin(b))
                    if !matches!(inst.payload, Value::Null) && !b.instance_method =>
                {
                    let f = Value::Builtin(b);
                    return Ok((f, Some(inst.payload.clone())));
                }
                _ => {}
            },
            Value::Type(_) | Value::Module(_) | Value::Wrapper(_) => {}
            _ => {
                let t = self.type_of(obj);
                if let Some(f @ Value::Builtin(_)) = t.lookup(name) {
                    return Ok((f, Some(obj.clone())));
                }
            }
        }
        Ok((self.get_attr(obj, name)?, None))
    }

    /// `obj.name = value`.
    pub fn set_attr(&mut self, obj: &Value, name: &Rc<PyStr>, value: Value) -> PyResult<()> {
        match obj {
            Value::Instance(inst) => {
                let sa = self.n.setattr.clone();
                if let Some(f) = inst.class.lookup(&sa) {
                    if matches!(f, Value::Function(_)) {
                        self.call(&f, &[obj.clone(), Value::Str(name.clone()), value], &[])?;
                        return Ok(());
                    }
                }
                self.generic_set_attr(inst, obj, name, value)
            }
            Value::Type(t) if !t.builtin => {
                crate::types::bump_epoch();
                if name.as_str() == "__del__" {
                    crate::finalizers::enable();
                }
                t.dict.set_str(name, value);
                Ok(())
            }
            Value::Function(f) => {
                match name.as_str() {
                    "__name__" => {
                        if let Value::Str(s) = value {
                            *f.name.borrow_mut() = s;
                        }
                    }
                    "__qualname__" => {
                        if let Value::Str(s) = value {
                            *f.qualname.borrow_mut() = s;
                        }
                    }
                    _ => f.dict.set_str(name, value),
                }
                Ok(())
            }
            Value::Module(m) => {
                m.dict.set_str(name, value);
                Ok(())
            }
            Value::Type(t) => Err(self.type_error(format!(
                "cannot set '{}' attribute of immutable type '{}'",
                name.as_str(),
                t.name.as_str()
            ))),
            _ => Err(self.err(
                "AttributeError",
                format!(
                    "'{}' object has no attribute '{}' and no __dict__ for setting new attributes",
                    self.type_name(obj),
                    name.as_str()
                ),
            )),
        }
    }

    /// `object.__setattr__(obj, name, value)`: data descriptors, then the instance dict.
    pub fn generic_set_attr(
        &mut self,
        inst: &Rc<Instance>,
        obj: &Value,
        name: &Rc<PyStr>,
        value: Value,
    ) -> PyResult<()> {
        if let Some(d) = inst.class.lookup(name) {
            let d = self.as_builtin_descriptor(&d).unwrap_or(d);
            match &d {
                Value::Wrapper(w) => {
                    if let Wrapper::Member { name, index, owner } = &**w {
                        return crate::slots::member_set(
                            self,
                            obj,
                            name,
                            *index,
                            owner,
                            Some(value),
                        );
                    }
                    if let Wrapper::Property { fset, .. } = &**w {
                        if matches!(fset, Value::None) {
                            return Err(self.property_error(name, &inst.class, "setter"));
                        }
                        let fset = fset.clone();
                        self.call(&fset, &[obj.clone(), value], &[])?;
                        return Ok(());
                    }
                }
                Value::Instance(di) => {
                    let n = self.n.set.clone();
                    if let Some(set) = di.class.lookup(&n) {
                        self.call_descriptor(&set, &d, &[d.clone(), obj.clone(), value])?;
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        if let Some(exc) = &inst.exc {
            let mut exc = exc.borrow_mut();
            match name.as_str() {
                "__cause__" => {
                    exc.cause = value;
                    exc.suppress_context = true;
                    return Ok(());
                }
                "__context__" => {
                    exc.context = value;
                    return Ok(());
                }
                "__suppress_context__" => {
                    exc.suppress_context = matches!(value, Value::Bool(true));
                    return Ok(());
                }
                "args" => {
                    drop(exc);
                    let args = self.to_vec(&value)?;
                    if let Some(e) = inst.exc.as_ref() {
                        e.borrow_mut().args = Value::tuple(args);
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        if inst.class.dictless {
            return Err(self.attr_error(obj, name));
        }
        inst.dict.set_str(name, value);
        Ok(())
    }

    /// `del obj.name`.
    pub fn del_attr(&mut self, obj: &Value, name: &Rc<PyStr>) -> PyResult<()> {
        let dict = match obj {
            Value::Instance(inst) => {
                let da = crate::pystr::intern("__delattr__");
                if let Some(f @ Value::Function(_)) = inst.class.lookup(&da) {
                    self.call(&f, &[obj.clone(), Value::Str(name.clone())], &[])?;
                    return Ok(());
                }
                return self.generic_del_attr(inst, obj, name);
            }
            Value::Type(t) if !t.builtin => {
                crate::types::bump_epoch();
                t.dict.clone()
            }
            Value::Module(m) => m.dict.clone(),
            Value::Function(f) => f.dict.clone(),
            _ => return Err(self.attr_error(obj, name)),
        };
        let removed = dict
            .map
            .borrow_mut()
            .remove(&Value::Str(name.clone()), name.hash());
        match removed {
            Some(_) => Ok(()),
            None => Err(self.attr_error(obj, name)),
        }
    }

    /// `object.__delattr__(obj, name)`: data descriptors (`__delete__`), then the dict.
    pub fn generic_del_attr(
        &mut self,
        inst: &Rc<Instance>,
        obj: &Value,
        name: &Rc<PyStr>,
    ) -> PyResult<()> {
        let descr = inst
            .class
            .lookup(name)
            .map(|d| self.as_builtin_descriptor(&d).unwrap_or(d));
        match descr {
            Some(Value::Wrapper(w)) => match &*w {
                Wrapper::Property { fdel, .. } => {
                    if matches!(fdel, Value::None) {
                        return Err(self.property_error(name, &inst.class, "deleter"));
                    }
                    let fdel = fdel.clone();
                    self.call(&fdel, std::slice::from_ref(obj), &[])?;
                    return Ok(());
                }
                Wrapper::Member { name, index, owner } => {
                    return crate::slots::member_set(self, obj, name, *index, owner, None);
                }
                _ => {}
            },
            Some(d @ Value::Instance(_)) => {
                if let Value::Instance(di) = &d {
                    if let Some(del) = di.class.lookup(&self.n.delete.clone()) {
                        self.call_descriptor(&del, &d, &[d.clone(), obj.clone()])?;
                        return Ok(());
                    }
                    if di.class.lookup(&self.n.set.clone()).is_some() {
                        return Err(self.err("AttributeError", "__delete__"));
                    }
                }
            }
            _ => {}
        }
        let removed = inst
            .dict
            .map
            .borrow_mut()
            .remove(&Value::Str(name.clone()), name.hash());
        match removed {
            Some(_) => Ok(()),
            None => Err(self.attr_error(obj, name)),
        }
    }

    fn super_attr(&mut self, w: &Rc<Wrapper>, name: &Rc<PyStr>) -> PyResult<Value> {
        let Wrapper::Super {
            this,
            obj,
            obj_type,
        } = &**w
        else {
            return Err(self.type_error("not a super object"));
        };
        let mut mro = vec![obj_type.clone()];
        mro.extend(obj_type.mro.iter().cloned());
        let start = mro
            .iter()
            .position(|t| Rc::ptr_eq(t, this))
            .map_or(mro.len(), |i| i + 1);
        for t in &mro[start..] {
            if let Some(v) = t.dict.get_str(name) {
                // super(C, cls) in a classmethod binds to the class; super() in a metaclass
                // method binds to the class as an instance of the metaclass.
                let class_level = matches!(obj, Value::Type(t) if Rc::ptr_eq(t, obj_type));
                let (o, owner) = if class_level {
                    (Value::None, Some(obj_type))
                } else {
                    (obj.clone(), None)
                };
                if let (true, Value::Wrapper(cm)) = (class_level, &v) {
                    if let Wrapper::ClassMethod(f) = &**cm {
                        return Ok(Value::BoundMethod(Rc::new(crate::objects::BoundMethod {
                            func: f.clone(),
                            receiver: obj.clone(),
                        })));
                    }
                }
                return self.bind_descriptor(v, &o, owner);
            }
        }
        // A built-in base's special methods (`super().__setitem__` in a dict subclass) run
        // the protocol on the built-in value the instance wraps.
        if let Value::Instance(i) = obj {
            let base = self.type_of(&i.payload);
            let payload = i.payload.clone();
            if !matches!(payload, Value::Null)
                && name.as_str().starts_with("__")
                && mro[start..].iter().any(|t| Rc::ptr_eq(t, &base))
            {
                if let Some(v) = crate::builtins::value_attr(self, &payload, name.as_str())? {
                    return Ok(v);
                }
            }
        }
        if let Some(m) = crate::builtins::object_method(name.as_str()) {
            return self.bind_descriptor(m, obj, None);
        }
        Err(self.err(
            "AttributeError",
            format!("'super' object has no attribute '{}'", name.as_str()),
        ))
    }
}

/// A one-character str (ASCII ones are interned).
pub fn char_value(c: char) -> Value {
    if c.is_ascii() {
        let mut buf = [0u8; 4];
        return Value::Str(crate::pystr::intern(c.encode_utf8(&mut buf)));
    }
    Value::string(c.to_string())
}

/// Equality among built-in values, when decidable without Python code.
pub fn builtin_eq(a: &Value, b: &Value) -> Option<bool> {
    use Value::*;
    Some(match (a, b) {
        (Str(x), Str(y)) => Rc::ptr_eq(x, y) || x.as_str() == y.as_str(),
        (Int(_) | Bool(_) | BigInt(_) | Float(_), Int(_) | Bool(_) | BigInt(_) | Float(_)) => {
            return builtin_order(a, b).map(|o| o == Some(Ordering::Equal))
        }
        (None, None) => true,
        (Complex(x), Complex(y)) => x.0 == y.0 && x.1 == y.1,
        (Complex(c), other) | (other, Complex(c)) if float_of(other).is_some() => {
            c.1 == 0.0 && float_of(other) == Some(c.0)
        }
        (Bytes(_) | ByteArray(_), Bytes(_) | ByteArray(_)) => {
            return byte_pair(a, b, |x, y| x == y)
        }
        (Instance(_), _) | (_, Instance(_)) => return Option::None,
        (Type(t), _) | (_, Type(t)) if t.meta.is_some() => return Option::None,
        (Tuple(_), Tuple(_)) | (List(_), List(_)) | (Dict(_), Dict(_)) | (Set(_), Set(_)) => {
            return Option::None
        }
        (BoundMethod(x), BoundMethod(y)) => x.func.is(&y.func) && x.receiver.is(&y.receiver),
        (Range(x), Range(y)) => {
            let (lx, ly) = (x.len(), y.len());
            lx == ly && (lx == 0 || (x.start == y.start && (lx == 1 || x.step == y.step)))
        }
        _ => key_eq(a, b),
    })
}

/// Ordering among numbers and strs (outer None: not such a pair; inner None: unordered NaN).
pub fn builtin_order(a: &Value, b: &Value) -> Option<Option<Ordering>> {
    use Value::*;
    Some(match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Str(x), Str(y)) => Some(x.as_str().cmp(y.as_str())),
        (Float(x), _) if as_int(b).is_some() => float_int_cmp(*x, &as_int(b)?),
        (_, Float(y)) if as_int(a).is_some() => {
            float_int_cmp(*y, &as_int(a)?).map(Ordering::reverse)
        }
        _ => match (as_int(a), as_int(b)) {
            (Some(x), Some(y)) => Some(int::cmp(&x, &y)),
            _ => match (a, b) {
                (Bytes(_) | ByteArray(_), Bytes(_) | ByteArray(_)) => {
                    return byte_pair(a, b, |x, y| Some(x.cmp(y)))
                }
                _ => return Option::None,
            },
        },
    })
}

fn float_int_cmp(f: f64, i: &IntRef) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    match i {
        IntRef::Small(v) if v.unsigned_abs() < (1 << 53) => f.partial_cmp(&(*v as f64)),
        _ => {
            if f.is_infinite() {
                return Some(if f > 0.0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                });
            }
            let fl = f.floor();
            let big = BigInt::from(fl as i128);
            match big.cmp(&i.big()) {
                Ordering::Equal if f > fl => Some(Ordering::Greater),
                o => Some(o),
            }
        }
    }
}

thread_local! {
    static GETATTRIBUTE: Rc<PyStr> = crate::pystr::intern("__getattribute__");
}

/// The interned name `__getattribute__` (without rehashing it on every lookup).
fn getattribute_name() -> Rc<PyStr> {
    GETATTRIBUTE.with(Rc::clone)
}

/// `f` applied to the bytes of two bytes/bytearray values (None for other values).
fn byte_pair<R>(a: &Value, b: &Value, f: impl FnOnce(&[u8], &[u8]) -> R) -> Option<R> {
    with_bytes(a, |x| with_bytes(b, |y| f(x, y))).flatten()
}

/// `f` applied to the bytes of a bytes or bytearray value, borrowed (None for other values).
fn with_bytes<R>(v: &Value, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    match v {
        Value::Bytes(x) => Some(f(&x[..])),
        Value::ByteArray(x) => Some(f(&x.borrow())),
        _ => Option::None,
    }
}

/// CPython's repr of a str.
pub fn str_repr(s: &str) -> String {
    pyc_loader::repr::str_repr(&pyc_loader::Str::new(s, false), pyc_loader::Target::V3_12)
}

/// A new empty dict value.
pub fn new_dict() -> Rc<DictObj> {
    DictObj::new(DictMap::new())
}
