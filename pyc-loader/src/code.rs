//! Code objects as the marshal format of 3.11–3.13 lays them out.

use std::sync::Arc;

use bytes::Bytes;

use crate::marshal::{Object, Str};

/// `co_flags` bits used by the loader.
pub mod flags {
    /// The function has a `*args` parameter.
    pub const VARARGS: u32 = 0x04;
    /// The function has a `**kwargs` parameter.
    pub const VARKEYWORDS: u32 = 0x08;
}

/// `co_localspluskinds` bits.
pub mod kinds {
    /// A hidden local (an inlined comprehension's variable, 3.12+).
    pub const HIDDEN: u8 = 0x10;
    /// A local variable (including arguments).
    pub const LOCAL: u8 = 0x20;
    /// A cell variable.
    pub const CELL: u8 = 0x40;
    /// A free variable.
    pub const FREE: u8 = 0x80;
}

/// A code object: every field marshal stores, in its order.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeObject {
    /// `co_argcount`.
    pub argcount: u32,
    /// `co_posonlyargcount`.
    pub posonlyargcount: u32,
    /// `co_kwonlyargcount`.
    pub kwonlyargcount: u32,
    /// `co_stacksize`.
    pub stacksize: u32,
    /// `co_flags`.
    pub flags: u32,
    /// `co_code`: the instructions with their inline caches.
    pub code: Bytes,
    /// `co_consts`.
    pub consts: Arc<[Object]>,
    /// `co_names`.
    pub names: Arc<[Str]>,
    /// `co_localsplusnames`: locals, then cells, then free variables.
    pub localsplusnames: Arc<[Str]>,
    /// `co_localspluskinds`: one byte of [`kinds`] per name above.
    pub localspluskinds: Bytes,
    /// `co_filename`.
    pub filename: Str,
    /// `co_name`.
    pub name: Str,
    /// `co_qualname`.
    pub qualname: Str,
    /// `co_firstlineno`.
    pub firstlineno: i32,
    /// `co_linetable`: the location table.
    pub linetable: Bytes,
    /// `co_exceptiontable`.
    pub exceptiontable: Bytes,
}

/// Why a code object is not one CPython would accept (`_PyCode_Validate`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// A count or flags field is negative or inconsistent.
    #[error("bad code object counts ({0})")]
    BadCounts(&'static str),
    /// `co_code` has an odd length or is empty.
    #[error("co_code is malformed")]
    MalformedCode,
    /// Names and kinds differ in length.
    #[error("co_localsplusnames and co_localspluskinds differ in length")]
    KindsMismatch,
    /// Fewer locals than the arguments need.
    #[error("co_varnames is too small")]
    TooFewLocals,
}

/// The facts about a code object that CPython checks before accepting it (`_PyCode_Validate`).
pub(crate) struct CodeFacts<'a> {
    pub argcount: u32,
    pub posonlyargcount: u32,
    pub kwonlyargcount: u32,
    pub flags: u32,
    pub code_len: usize,
    pub localsplus_len: usize,
    pub kinds: &'a [u8],
}

impl CodeFacts<'_> {
    /// Checks them as CPython does.
    pub(crate) fn check(&self) -> Result<(), CodeError> {
        if self.argcount < self.posonlyargcount {
            return Err(CodeError::BadCounts("argcount < posonlyargcount"));
        }
        if self.code_len == 0 || self.code_len % 2 != 0 {
            return Err(CodeError::MalformedCode);
        }
        if self.localsplus_len != self.kinds.len() {
            return Err(CodeError::KindsMismatch);
        }
        let needed = u64::from(self.argcount)
            + u64::from(self.kwonlyargcount)
            + u64::from(self.flags & flags::VARARGS != 0)
            + u64::from(self.flags & flags::VARKEYWORDS != 0);
        let locals = self
            .kinds
            .iter()
            .filter(|&&k| k & kinds::LOCAL != 0)
            .count();
        if (locals as u64) < needed {
            return Err(CodeError::TooFewLocals);
        }
        Ok(())
    }
}

impl CodeObject {
    /// Checks what CPython checks before it accepts a marshalled code object.
    pub fn validate(&self) -> Result<(), CodeError> {
        CodeFacts {
            argcount: self.argcount,
            posonlyargcount: self.posonlyargcount,
            kwonlyargcount: self.kwonlyargcount,
            flags: self.flags,
            code_len: self.code.len(),
            localsplus_len: self.localsplusnames.len(),
            kinds: &self.localspluskinds,
        }
        .check()
    }

    fn names_of_kind(&self, kind: u8) -> impl Iterator<Item = &Str> {
        self.localsplusnames
            .iter()
            .zip(self.localspluskinds.iter())
            .filter(move |(_, &k)| k & kind != 0)
            .map(|(name, _)| name)
    }

    /// `co_varnames`.
    pub fn varnames(&self) -> impl Iterator<Item = &Str> {
        self.names_of_kind(kinds::LOCAL)
    }

    /// `co_cellvars`.
    pub fn cellvars(&self) -> impl Iterator<Item = &Str> {
        self.names_of_kind(kinds::CELL)
    }

    /// `co_freevars`.
    pub fn freevars(&self) -> impl Iterator<Item = &Str> {
        self.names_of_kind(kinds::FREE)
    }
}
