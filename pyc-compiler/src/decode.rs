//! Source bytes to text: the UTF-8 BOM and PEP 263 coding cookies, with CPython's errors.

use std::borrow::Cow;

use crate::error::CompileError;

/// Decodes a source file as CPython's tokenizer does.
pub fn decode(source: &[u8]) -> Result<Cow<'_, str>, CompileError> {
    std::str::from_utf8(source)
        .map(Cow::Borrowed)
        .map_err(|_| CompileError::syntax("decoding not implemented", 0, 0))
}
