//! Expressions back to source text, as CPython's `ast_unparse.c` writes annotations under
//! `from __future__ import annotations`.

use crate::ast::Expr;

/// The string CPython stores for an annotation expression.
pub fn unparse_annotation(expr: &Expr) -> String {
    let _ = expr;
    String::new()
}
