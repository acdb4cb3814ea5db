//! Parsing with `ruff_python_parser`, then conversion to CPython's AST shape and positions.
//!
//! Ruff parses (target version 3.12); [`convert`] rebuilds the tree as `crate::ast` with
//! CPython's node positions and values (strings, numbers and f-strings are decoded here from
//! their source text); [`errors`] turns ruff's diagnostics into CPython's `SyntaxError`s.

mod convert;
mod convert_expr;
mod convert_stmt;
mod errors;
mod fstring;
mod lines;
mod numbers;
mod strings;
mod unicode_named;
mod unicode_names;

use std::borrow::Cow;

use ruff_python_ast::PythonVersion;
use ruff_python_parser::ParseOptions;

use crate::ast::{Mod, Mode};
use crate::error::{CompileError, Warning};

pub use convert::MAX_AST_DEPTH;

/// A parsed source: CPython's AST and the warnings CPython's parser emits on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub module: Mod,
    /// `SyntaxWarning`s (invalid escape sequences), in source order.
    pub warnings: Vec<Warning>,
}

/// Parses decoded source into CPython's AST (`ast.parse(text, mode=...)` in CPython 3.12.1:
/// the same nodes, fields and positions), or the error CPython's parser reports, on its line.
/// A tree deeper than [`MAX_AST_DEPTH`] is a `RecursionError`, as CPython's compiler gives.
/// `filename` does not change the result (CPython only puts it in messages).
pub fn parse(text: &str, mode: Mode, _filename: &str) -> Result<Mod, CompileError> {
    parse_with_warnings(text, mode).map(|parsed| parsed.module)
}

/// [`parse`], with the `SyntaxWarning`s CPython's parser emits (invalid escape sequences).
pub fn parse_with_warnings(text: &str, mode: Mode) -> Result<Parsed, CompileError> {
    let text = universal_newlines(text);
    let ruff_mode = match mode {
        Mode::Expression => ruff_python_parser::Mode::Expression,
        Mode::Module | Mode::Interactive => ruff_python_parser::Mode::Module,
    };
    let options = ParseOptions::from(ruff_mode).with_target_version(PythonVersion::PY312);
    let parsed = ruff_python_parser::parse_unchecked(&text, options);
    let lines = lines::LineIndex::new(&text);
    let checked = errors::check(&text, &lines, &parsed).and_then(|glued_numbers| match mode {
        Mode::Interactive => {
            errors::interactive_error(&text, &lines, &parsed).map_or(Ok(glued_numbers), Err)
        }
        _ => Ok(glued_numbers),
    });
    let (result, depth) = match checked {
        Err(error) => (Err(error), None),
        Ok(glued_numbers) => {
            let (result, depth) = convert::convert(&text, &lines, &parsed, mode, &glued_numbers);
            (result, Some(depth).filter(|&d| d < convert::MAX_AST_DEPTH))
        }
    };
    convert::drop_deep(parsed, depth, text.len());
    let mut parsed = result?;
    // Source order, as CPython's parser emits them.
    parsed.warnings.sort_by_key(|w| w.lineno);
    Ok(parsed)
}

/// CPython's tokenizer reads `\r\n` and a lone `\r` as `\n`; positions and string values are
/// those of the translated text (columns do not change: only line ends do).
fn universal_newlines(text: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}
