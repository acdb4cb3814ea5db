//! dict: CPython's compact layout (an insertion-ordered entry vector plus an open-addressing
//! index), so iteration order and deletion behave as in CPython. Keys carry their hash, computed
//! once by the caller ([`crate::ops`]); equality of keys is [`key_eq`].

use std::cell::RefCell;
use std::rc::Rc;

use crate::pystr::{str_eq, PyStr};
use crate::value::Value;

const EMPTY: u32 = u32::MAX;
const DUMMY: u32 = u32::MAX - 1;

/// One key/value pair; a removed pair keeps its place with a `Null` key until the next resize.
#[derive(Clone, Debug)]
struct Entry {
    hash: i64,
    key: Value,
    value: Value,
}

/// The map behind a dict (also used for namespaces: globals, type and instance dicts).
#[derive(Clone, Debug, Default)]
pub struct DictMap {
    entries: Vec<Entry>,
    indices: Vec<u32>,
    used: usize,
}

/// Key equality without calling Python code: value equality for the built-in hashable types,
/// identity for everything else.
pub fn key_eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Str(x), Str(y)) => str_eq(x, y),
        (Int(x), Int(y)) => x == y,
        (Int(x), Bool(y)) | (Bool(y), Int(x)) => *x == i64::from(*y),
        (Bool(x), Bool(y)) => x == y,
        (Float(x), Float(y)) => x == y,
        (Float(x), Int(y)) | (Int(y), Float(x)) => *x == *y as f64 && (*y as f64) as i64 == *y,
        (Float(x), Bool(y)) | (Bool(y), Float(x)) => *x == f64::from(u8::from(*y)),
        (BigInt(x), BigInt(y)) => x == y,
        (Bytes(x), Bytes(y)) => x == y,
        (Tuple(x), Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| key_eq(p, q))
        }
        (Slice(x), Slice(y)) => {
            key_eq(&x.start, &y.start) && key_eq(&x.stop, &y.stop) && key_eq(&x.step, &y.step)
        }
        (Set(x), Set(y)) => {
            let (x, y) = (x.map.borrow(), y.map.borrow());
            x.len() == y.len() && x.iter().all(|(h, k)| y.contains(k, h))
        }
        (Instance(x), _) if !matches!(x.payload, Null) => a.is(b) || key_eq(&x.payload, b),
        (_, Instance(y)) if !matches!(y.payload, Null) => a.is(b) || key_eq(a, &y.payload),
        _ => a.is(b),
    }
}

impl DictMap {
    /// An empty map.
    pub fn new() -> DictMap {
        DictMap::default()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.used
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    fn mask(&self) -> usize {
        self.indices.len().wrapping_sub(1)
    }

    /// The entry index of `key`, or the index slot where it would go.
    fn find(&self, key: &Value, hash: i64) -> Result<usize, usize> {
        if self.indices.is_empty() {
            return Err(usize::MAX);
        }
        let mask = self.mask();
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        let mut free = usize::MAX;
        loop {
            match self.indices[i] {
                EMPTY => return Err(if free == usize::MAX { i } else { free }),
                DUMMY => {
                    if free == usize::MAX {
                        free = i;
                    }
                }
                ix => {
                    let e = &self.entries[ix as usize];
                    if e.hash == hash && key_eq(&e.key, key) {
                        return Ok(ix as usize);
                    }
                }
            }
            perturb >>= 5;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// Looks a str key up (the namespace fast path: pointer comparison first, cached hash).
    #[inline]
    pub fn get_str(&self, key: &Rc<PyStr>) -> Option<&Value> {
        if self.indices.is_empty() {
            return None;
        }
        let hash = key.hash();
        let mask = self.mask();
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        loop {
            match self.indices[i] {
                EMPTY => return None,
                DUMMY => {}
                ix => {
                    let e = &self.entries[ix as usize];
                    if let Value::Str(k) = &e.key {
                        if Rc::ptr_eq(k, key) || (e.hash == hash && k.as_str() == key.as_str()) {
                            return Some(&e.value);
                        }
                    } else if e.hash == hash && key_eq(&e.key, &Value::Str(key.clone())) {
                        return Some(&e.value);
                    }
                }
            }
            perturb >>= 5;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// Entry indices of the live keys with hash `hash`, in probe order (for keys whose equality
    /// needs Python code).
    pub fn hash_matches(&self, hash: i64) -> Vec<usize> {
        let mut out = Vec::new();
        if self.indices.is_empty() {
            return out;
        }
        let mask = self.mask();
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        loop {
            match self.indices[i] {
                EMPTY => return out,
                DUMMY => {}
                ix => {
                    if self.entries[ix as usize].hash == hash {
                        out.push(ix as usize);
                    }
                }
            }
            perturb >>= 5;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// The key and value of entry `ix`.
    pub fn entry_at(&self, ix: usize) -> (&Value, &Value) {
        let e = &self.entries[ix];
        (&e.key, &e.value)
    }

    /// Replaces the value of entry `ix`.
    pub fn set_value_at(&mut self, ix: usize, value: Value) {
        self.entries[ix].value = value;
    }

    /// Looks `key` (whose hash is `hash`) up.
    pub fn get(&self, key: &Value, hash: i64) -> Option<&Value> {
        self.find(key, hash).ok().map(|ix| &self.entries[ix].value)
    }

    /// Sets `key` to `value`, keeping the original position of an existing key.
    pub fn insert(&mut self, key: Value, hash: i64, value: Value) -> Option<Value> {
        match self.find(&key, hash) {
            Ok(ix) => Some(std::mem::replace(&mut self.entries[ix].value, value)),
            Err(slot) => {
                if slot == usize::MAX || (self.entries.len() + 1) * 3 >= self.indices.len() * 2 {
                    self.resize((self.used + 1) * 3);
                    let slot = self.find(&key, hash).err().unwrap_or(0);
                    self.put(slot, key, hash, value);
                } else {
                    self.put(slot, key, hash, value);
                }
                None
            }
        }
    }

    fn put(&mut self, slot: usize, key: Value, hash: i64, value: Value) {
        self.indices[slot] = self.entries.len() as u32;
        self.entries.push(Entry { hash, key, value });
        self.used += 1;
    }

    /// Sets a str key.
    pub fn set_str(&mut self, key: &Rc<PyStr>, value: Value) {
        self.insert(Value::Str(key.clone()), key.hash(), value);
    }

    fn resize(&mut self, min: usize) {
        let mut size = 8;
        while size < min {
            size <<= 1;
        }
        self.entries.retain(|e| !matches!(e.key, Value::Null));
        self.indices = vec![EMPTY; size];
        let mask = size - 1;
        for (ix, e) in self.entries.iter().enumerate() {
            let mut perturb = e.hash as u64;
            let mut i = (e.hash as u64 as usize) & mask;
            while self.indices[i] != EMPTY {
                perturb >>= 5;
                i = (i
                    .wrapping_mul(5)
                    .wrapping_add(1)
                    .wrapping_add(perturb as usize))
                    & mask;
            }
            self.indices[i] = ix as u32;
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &Value, hash: i64) -> Option<Value> {
        let ix = self.find(key, hash).ok()?;
        let mask = self.mask();
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        while self.indices[i] != ix as u32 {
            perturb >>= 5;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
        self.indices[i] = DUMMY;
        self.used -= 1;
        let e = &mut self.entries[ix];
        e.key = Value::Null;
        Some(std::mem::take(&mut e.value))
    }

    /// Removes and returns the last item.
    pub fn pop_last(&mut self) -> Option<(Value, Value)> {
        let e = self
            .entries
            .iter()
            .rev()
            .find(|e| !matches!(e.key, Value::Null))?;
        let (key, hash) = (e.key.clone(), e.hash);
        let value = self.remove(&key, hash)?;
        Some((key, value))
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        *self = DictMap::new();
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.key, Value::Null))
            .map(|e| (&e.key, &e.value))
    }

    /// The items with their hashes, in order.
    pub fn iter_hashed(&self) -> impl Iterator<Item = (i64, &Value, &Value)> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.key, Value::Null))
            .map(|e| (e.hash, &e.key, &e.value))
    }

    /// The item at entry position `pos` or later, and the position after it (for iterators
    /// that survive between calls).
    pub fn entry_from(&self, pos: usize) -> Option<(usize, &Value, &Value)> {
        self.entries[pos.min(self.entries.len())..]
            .iter()
            .enumerate()
            .find(|(_, e)| !matches!(e.key, Value::Null))
            .map(|(i, e)| (pos + i + 1, &e.key, &e.value))
    }
}

/// A dict object: the map behind a `RefCell` (single-threaded VM).
#[derive(Debug, Default)]
pub struct DictObj {
    /// The items.
    pub map: RefCell<DictMap>,
}

impl DictObj {
    /// A new dict holding `map`.
    pub fn new(map: DictMap) -> Rc<DictObj> {
        Rc::new(DictObj {
            map: RefCell::new(map),
        })
    }

    /// Looks a str key up.
    #[inline]
    /// A copy of the items, in order: what a loop that may run Python code (and so change the
    /// dict) iterates over.
    pub fn items(&self) -> Vec<(Value, Value)> {
        self.map
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn get_str(&self, key: &Rc<PyStr>) -> Option<Value> {
        self.map.borrow().get_str(key).cloned()
    }

    /// Sets a str key.
    pub fn set_str(&self, key: &Rc<PyStr>, value: Value) {
        self.map.borrow_mut().set_str(key, value);
    }
}

const SET_MIN: usize = 8;
const LINEAR_PROBES: usize = 9;

#[derive(Clone, Debug)]
enum Slot {
    Empty,
    Dummy,
    Full(i64, Value),
}

/// The hash table behind set and frozenset: CPython's layout and probe sequence, so iteration
/// order matches CPython's for the same insertions.
#[derive(Clone, Debug)]
pub struct SetMap {
    table: Vec<Slot>,
    fill: usize,
    used: usize,
}

impl Default for SetMap {
    fn default() -> SetMap {
        SetMap {
            table: vec![Slot::Empty; SET_MIN],
            fill: 0,
            used: 0,
        }
    }
}

impl SetMap {
    /// The number of items.
    pub fn len(&self) -> usize {
        self.used
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    fn probe(&self, key: &Value, hash: i64) -> (Option<usize>, usize) {
        let mask = self.table.len() - 1;
        let mut perturb = hash as u64 as usize;
        let mut i = perturb & mask;
        let mut free = None;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for j in i..=i + probes {
                match &self.table[j] {
                    Slot::Empty => return (free, j),
                    Slot::Dummy => {
                        free.get_or_insert(j);
                    }
                    Slot::Full(h, k) => {
                        if *h == hash && key_eq(k, key) {
                            return (Some(j), usize::MAX);
                        }
                    }
                }
            }
            perturb >>= 5;
            i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb)) & mask;
        }
    }

    /// The live keys with hash `hash` (for keys whose equality needs Python code).
    pub fn hash_matches(&self, hash: i64) -> Vec<Value> {
        self.iter()
            .filter(|(h, _)| *h == hash)
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &Value, hash: i64) -> bool {
        let (found, empty) = self.probe(key, hash);
        empty == usize::MAX && found.is_some()
    }

    /// Adds `key`; false if it was present.
    pub fn add(&mut self, key: Value, hash: i64) -> bool {
        let (found, empty) = self.probe(&key, hash);
        if empty == usize::MAX {
            return false;
        }
        if let Some(free) = found {
            self.table[free] = Slot::Full(hash, key);
            self.used += 1;
            return true;
        }
        self.table[empty] = Slot::Full(hash, key);
        self.fill += 1;
        self.used += 1;
        let mask = self.table.len() - 1;
        if self.fill * 5 >= mask * 3 {
            let min = if self.used > 50000 {
                self.used * 2
            } else {
                self.used * 4
            };
            self.resize(min);
        }
        true
    }

    fn resize(&mut self, min_used: usize) {
        let mut size = SET_MIN;
        while size <= min_used {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.table, vec![Slot::Empty; size]);
        self.fill = self.used;
        let mask = size - 1;
        for slot in old {
            if let Slot::Full(hash, key) = slot {
                let mut perturb = hash as u64 as usize;
                let mut i = perturb & mask;
                'probe: loop {
                    if matches!(self.table[i], Slot::Empty) {
                        self.table[i] = Slot::Full(hash, key);
                        break;
                    }
                    if i + LINEAR_PROBES <= mask {
                        for j in i + 1..=i + LINEAR_PROBES {
                            if matches!(self.table[j], Slot::Empty) {
                                self.table[j] = Slot::Full(hash, key);
                                break 'probe;
                            }
                        }
                    }
                    perturb >>= 5;
                    i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb)) & mask;
                }
            }
        }
    }

    /// Grows the table ahead of merging `incoming` items, as CPython's set update does.
    pub fn reserve_for_merge(&mut self, incoming: usize) {
        let mask = self.table.len() - 1;
        if (self.fill + incoming) * 5 >= mask * 3 {
            self.resize((self.used + incoming) * 2);
        }
    }

    /// Removes `key`; false if absent.
    pub fn remove(&mut self, key: &Value, hash: i64) -> bool {
        let (found, empty) = self.probe(key, hash);
        match (found, empty) {
            (Some(ix), usize::MAX) => {
                self.table[ix] = Slot::Dummy;
                self.used -= 1;
                true
            }
            _ => false,
        }
    }

    /// Removes and returns an item (the first in table order, as CPython's `set.pop`).
    pub fn pop(&mut self) -> Option<Value> {
        let ix = self
            .table
            .iter()
            .position(|s| matches!(s, Slot::Full(..)))?;
        let Slot::Full(_, key) = std::mem::replace(&mut self.table[ix], Slot::Dummy) else {
            return None;
        };
        self.used -= 1;
        Some(key)
    }

    /// The items with their hashes, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &Value)> {
        self.table.iter().filter_map(|s| match s {
            Slot::Full(h, k) => Some((*h, k)),
            _ => None,
        })
    }

    /// The item at table position `pos` or later, and the position after it.
    pub fn entry_from(&self, pos: usize) -> Option<(usize, &Value)> {
        (pos..self.table.len()).find_map(|i| match &self.table[i] {
            Slot::Full(_, k) => Some((i + 1, k)),
            _ => None,
        })
    }
}
