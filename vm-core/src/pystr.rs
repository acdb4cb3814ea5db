//! Python str: immutable UTF-8 text with a cached hash, and the interner that makes every name
//! in a code object a shared `Rc<PyStr>` so attribute and global lookups compare pointers first
//! and never rehash.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use pyc_loader::{Object, Target};

/// A Python str.
#[derive(Debug)]
pub struct PyStr {
    text: Box<str>,
    /// The hash, or -1 before it is first needed (a str's hash is never -1).
    hash: Cell<i64>,
    ascii: bool,
}

impl PyStr {
    /// A str holding `text`.
    pub fn new(text: String) -> PyStr {
        let ascii = text.is_ascii();
        PyStr {
            text: text.into_boxed_str(),
            hash: Cell::new(-1),
            ascii,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether every character is ASCII (then char indices are byte indices).
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// `len(s)`: the number of code points.
    pub fn char_len(&self) -> usize {
        if self.ascii {
            self.text.len()
        } else {
            self.text.chars().count()
        }
    }

    /// CPython's str hash with PYTHONHASHSEED=0 (SipHash-1-3), computed once.
    #[inline]
    pub fn hash(&self) -> i64 {
        let h = self.hash.get();
        if h != -1 {
            return h;
        }
        self.compute_hash()
    }

    #[cold]
    fn compute_hash(&self) -> i64 {
        let obj = Object::Str(pyc_loader::Str::new(&self.text, false));
        let h = pyc_loader::pyhash::hash(&obj, Target::V3_12).unwrap_or(0) as i64;
        self.hash.set(h);
        h
    }
}

impl PartialEq for PyStr {
    fn eq(&self, other: &PyStr) -> bool {
        self.text == other.text
    }
}

thread_local! {
    static INTERNED: RefCell<HashMap<Box<str>, Rc<PyStr>>> = RefCell::new(HashMap::new());
}

/// The one shared str for `text`.
pub fn intern(text: &str) -> Rc<PyStr> {
    INTERNED.with(|table| {
        let mut table = table.borrow_mut();
        if let Some(s) = table.get(text) {
            return s.clone();
        }
        let s = Rc::new(PyStr::new(text.to_owned()));
        s.hash();
        table.insert(text.into(), s.clone());
        s
    })
}

/// Equality of two strs, by pointer first.
#[inline]
pub fn str_eq(a: &Rc<PyStr>, b: &Rc<PyStr>) -> bool {
    Rc::ptr_eq(a, b) || (a.hash() == b.hash() && a.text == b.text)
}
