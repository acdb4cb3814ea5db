//! Rejections: ruff's parse errors and unsupported-syntax errors, and the limits of CPython's
//! tokenizer, as CPython's `SyntaxError` / `IndentationError` on CPython's line.

use ruff_python_ast as ruff;
use ruff_python_ast::token::TokenKind;
use ruff_python_parser::{LexicalErrorType, ParseErrorType};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::lines::LineIndex;
use crate::error::{CompileError, ErrorKind};

/// CPython's tokenizer: at most 200 open brackets (`MAXLEVEL`).
const MAX_PAREN_LEVEL: usize = 200;
/// CPython's tokenizer: at most 100 indentation levels (`MAXINDENT`).
const MAX_INDENT: usize = 100;

/// A `SyntaxError` at a range of the source, with CPython's 1-based character offsets.
pub(super) fn syntax_error(
    src: &str,
    lines: &LineIndex,
    msg: String,
    range: TextRange,
) -> CompileError {
    let (lineno, offset) = char_position(src, lines, range.start());
    let (end_lineno, end_offset) = char_position(src, lines, range.end());
    CompileError {
        kind: ErrorKind::SyntaxError,
        msg,
        lineno,
        offset,
        end_lineno,
        end_offset,
    }
}

/// The 1-based line and 1-based character column of an offset.
fn char_position(src: &str, lines: &LineIndex, offset: TextSize) -> (u32, u32) {
    let (line, _) = lines.position(offset);
    let start = lines.line_start(line).to_usize();
    let end = offset.to_usize().min(src.len());
    let chars = src.get(start..end).map_or(0, |s| s.chars().count());
    (line, chars as u32 + 1)
}

/// The error CPython reports first for a source ruff parsed, if any.
pub(super) fn first_error(
    src: &str,
    lines: &LineIndex,
    parsed: &ruff_python_parser::Parsed<ruff::Mod>,
) -> Option<CompileError> {
    let mut candidates: Vec<(TextSize, CompileError)> = Vec::new();
    if let Some(e) = tokenizer_limits(src, lines, parsed) {
        candidates.push(e);
    }
    for e in parsed.errors() {
        candidates.push((e.location.start(), parse_error(src, lines, e)));
    }
    for e in parsed.unsupported_syntax_errors() {
        let range = e.range;
        candidates.push((
            range.start(),
            syntax_error(src, lines, "invalid syntax".into(), range),
        ));
    }
    candidates
        .into_iter()
        .min_by_key(|(at, _)| *at)
        .map(|(_, e)| e)
}

fn parse_error(src: &str, lines: &LineIndex, e: &ruff_python_parser::ParseError) -> CompileError {
    let mut error = syntax_error(src, lines, "invalid syntax".into(), e.location);
    match &e.error {
        ParseErrorType::Lexical(LexicalErrorType::IndentationError) => {
            error.kind = ErrorKind::IndentationError;
            error.msg = "unindent does not match any outer indentation level".into();
        }
        ParseErrorType::UnexpectedIndentation => {
            error.kind = ErrorKind::IndentationError;
            error.msg = "unexpected indent".into();
        }
        _ => {}
    }
    error
}

/// CPython's tokenizer limits: bracket nesting and indentation depth.
fn tokenizer_limits(
    src: &str,
    lines: &LineIndex,
    parsed: &ruff_python_parser::Parsed<ruff::Mod>,
) -> Option<(TextSize, CompileError)> {
    let mut parens = 0usize;
    let mut indents = 0usize;
    for token in parsed.tokens().iter() {
        match token.kind() {
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                parens += 1;
                if parens > MAX_PAREN_LEVEL {
                    let e = syntax_error(
                        src,
                        lines,
                        "too many nested parentheses".into(),
                        token.range(),
                    );
                    return Some((token.start(), e));
                }
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                parens = parens.saturating_sub(1);
            }
            TokenKind::Indent => {
                indents += 1;
                if indents >= MAX_INDENT {
                    let mut e = syntax_error(
                        src,
                        lines,
                        "too many levels of indentation".into(),
                        token.range(),
                    );
                    e.kind = ErrorKind::IndentationError;
                    return Some((token.start(), e));
                }
            }
            TokenKind::Dedent => indents = indents.saturating_sub(1),
            _ => {}
        }
    }
    None
}
