//! `from __future__ import ...` at the top of a module (CPython's `Python/future.c`).

use crate::ast::{Constant, ExprKind, Loc, Mod, Stmt, StmtKind};
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

/// The features that exist but change nothing in 3.12 (always on).
const MANDATORY: [&str; 8] = [
    "nested_scopes",
    "generators",
    "division",
    "absolute_import",
    "with_statement",
    "print_function",
    "unicode_literals",
    "generator_stop",
];

/// Reads the future statements of a module, rejecting unknown features and future imports
/// that are not at the beginning of the file, as CPython does.
///
/// CPython raises the last error ("from __future__ imports must occur at the beginning of the
/// file") later, during code generation, so when a source has both a misplaced future import and
/// a symbol-table or code-generation error before it, CPython reports the other error.
pub fn parse_future(module: &Mod) -> Result<FutureFeatures, CompileError> {
    let body = match module {
        Mod::Module { body } | Mod::Interactive { body } => body,
        Mod::Expression { .. } => return Ok(FutureFeatures::default()),
    };
    let mut features = FutureFeatures::default();
    // Where the last future statement of the leading block is (CPython's `ff_location`).
    let mut last: Option<Loc> = None;
    let start = usize::from(body.first().is_some_and(is_docstring));
    for s in &body[start..] {
        let StmtKind::ImportFrom {
            module: Some(m),
            names,
            level: 0,
        } = &s.kind
        else {
            break;
        };
        if &**m != "__future__" {
            break;
        }
        for alias in names {
            let name = &*alias.name;
            features.flags |= match name {
                "barry_as_FLUFL" => FutureFeatures::BARRY_AS_BDFL,
                "annotations" => FutureFeatures::ANNOTATIONS,
                "braces" => return Err(feature_error("not a chance", s)),
                _ if MANDATORY.contains(&name) => 0,
                _ => {
                    let shown: String = name.chars().take(100).collect();
                    let msg = format!("future feature {shown} is not defined");
                    return Err(feature_error(msg, s));
                }
            };
        }
        last = Some(s.loc);
    }
    features.lineno = last.map_or(0, |l| l.lineno);
    if let Some(s) = first_misplaced(body, last) {
        let loc = s.loc;
        return Err(CompileError {
            end_lineno: loc.end_lineno,
            end_offset: loc.end_col + 1,
            ..CompileError::syntax(
                "from __future__ imports must occur at the beginning of the file",
                loc.lineno,
                loc.col + 1,
            )
        });
    }
    Ok(features)
}

/// The error of a bad feature name: CPython gives the statement's start and no end column.
fn feature_error(msg: impl Into<String>, s: &Stmt) -> CompileError {
    CompileError {
        end_offset: 0,
        ..CompileError::syntax(msg, s.loc.lineno, s.loc.col + 1)
    }
}

fn is_docstring(s: &Stmt) -> bool {
    matches!(&s.kind, StmtKind::Expr { value } if matches!(
        value.kind,
        ExprKind::Constant { value: Constant::Str(_), .. }
    ))
}

/// The first `from __future__ import` (anywhere, in source order) after the leading block of
/// future statements ending at `last` (CPython's `location_is_after`).
fn first_misplaced(body: &[Stmt], last: Option<Loc>) -> Option<&Stmt> {
    let is_after = |loc: Loc| match last {
        None => true,
        Some(l) => loc.lineno > l.lineno || (loc.lineno == l.lineno && loc.col > l.end_col),
    };
    let mut work: Vec<&[Stmt]> = vec![body];
    let mut found: Option<&Stmt> = None;
    while let Some(stmts) = work.pop() {
        for s in stmts {
            match &s.kind {
                StmtKind::ImportFrom {
                    module: Some(m),
                    level: 0,
                    ..
                } if &**m == "__future__" && is_after(s.loc) => {
                    let earlier =
                        found.is_none_or(|f| (s.loc.lineno, s.loc.col) < (f.loc.lineno, f.loc.col));
                    if earlier {
                        found = Some(s);
                    }
                }
                StmtKind::FunctionDef(f) => work.push(&f.body),
                StmtKind::ClassDef(c) => work.push(&c.body),
                StmtKind::For(f) => work.extend([&f.body[..], &f.orelse[..]]),
                StmtKind::While { body, orelse, .. } | StmtKind::If { body, orelse, .. } => {
                    work.extend([&body[..], &orelse[..]])
                }
                StmtKind::With(w) => work.push(&w.body),
                StmtKind::Match { cases, .. } => work.extend(cases.iter().map(|c| &c.body[..])),
                StmtKind::Try(t) => {
                    work.extend([&t.body[..], &t.orelse[..], &t.finalbody[..]]);
                    work.extend(t.handlers.iter().map(|h| &h.body[..]));
                }
                _ => {}
            }
        }
    }
    found
}
