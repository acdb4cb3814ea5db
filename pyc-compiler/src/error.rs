//! Errors and warnings of compilation, in the shape of CPython's `SyntaxError`.

use std::fmt;

/// The exception class CPython raises for a rejected source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    SyntaxError,
    IndentationError,
    TabError,
    /// Raised while decoding (bad coding cookie, undecodable bytes).
    UnicodeDecodeError,
    /// `source code string cannot contain null bytes` and similar.
    ValueError,
    /// A nesting or recursion limit CPython reports as `RecursionError` / `MemoryError`.
    RecursionError,
}

impl ErrorKind {
    /// The Python class name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::SyntaxError => "SyntaxError",
            ErrorKind::IndentationError => "IndentationError",
            ErrorKind::TabError => "TabError",
            ErrorKind::UnicodeDecodeError => "UnicodeDecodeError",
            ErrorKind::ValueError => "ValueError",
            ErrorKind::RecursionError => "RecursionError",
        }
    }
}

/// A source rejected by the compiler: the message and position CPython would report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub kind: ErrorKind,
    pub msg: String,
    /// 1-based line, 0 when CPython gives none.
    pub lineno: u32,
    /// 1-based column of the caret as CPython's `SyntaxError.offset` (characters), 0 when none.
    pub offset: u32,
    pub end_lineno: u32,
    pub end_offset: u32,
}

impl CompileError {
    /// A `SyntaxError` at a line and 1-based column.
    pub fn syntax(msg: impl Into<String>, lineno: u32, offset: u32) -> CompileError {
        CompileError {
            kind: ErrorKind::SyntaxError,
            msg: msg.into(),
            lineno,
            offset,
            end_lineno: lineno,
            end_offset: offset,
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.msg)?;
        if self.lineno > 0 {
            write!(f, " (line {})", self.lineno)?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

/// A `SyntaxWarning` (or `DeprecationWarning`) CPython emits while compiling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// `SyntaxWarning` or `DeprecationWarning`.
    pub category: &'static str,
    pub msg: String,
    pub lineno: u32,
}
