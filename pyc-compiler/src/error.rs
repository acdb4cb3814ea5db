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

impl CompileError {
    /// The `RecursionError` CPython raises when a tree nests deeper than its compiler allows.
    pub fn too_deep() -> CompileError {
        CompileError {
            kind: ErrorKind::RecursionError,
            msg: "maximum recursion depth exceeded during compilation".into(),
            lineno: 0,
            offset: 0,
            end_lineno: 0,
            end_offset: 0,
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

impl CompileError {
    /// The error as `traceback.format_exception_only` prints it (what `compileall` and
    /// `py_compile` show): the file and line, the offending line with carets, then the message.
    /// `source_line` is the text of line `lineno`, when known.
    pub fn render(&self, filename: &str, source_line: Option<&str>) -> String {
        let mut out = String::new();
        if self.lineno > 0 {
            out.push_str(&format!("  File \"{filename}\", line {}\n", self.lineno));
        }
        if let Some(text) = source_line.filter(|_| self.lineno > 0) {
            let rtext = text.trim_end_matches('\n');
            let ltext = rtext.trim_start_matches([' ', '\n', '\x0c']);
            let spaces = rtext.chars().count() - ltext.chars().count();
            out.push_str(&format!("    {ltext}\n"));
            if self.offset > 0 {
                let len = text.chars().count() as i64;
                let mut offset = i64::from(self.offset).min(len + 1);
                let mut end = if self.end_offset == 0 {
                    offset
                } else {
                    i64::from(self.end_offset).min(len + 1)
                };
                if offset >= end {
                    end = offset + 1;
                }
                offset -= 1 + spaces as i64;
                end -= 1 + spaces as i64;
                if offset >= 0 {
                    let pad: String = ltext
                        .chars()
                        .take(offset as usize)
                        .map(|c| if c.is_whitespace() { c } else { ' ' })
                        .collect();
                    let carets = "^".repeat((end - offset).max(0) as usize);
                    out.push_str(&format!("    {pad}{carets}\n"));
                }
            }
        }
        out.push_str(&format!("{}: {}\n", self.kind.name(), self.msg));
        out
    }
}
