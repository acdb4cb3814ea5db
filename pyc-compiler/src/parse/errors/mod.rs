//! Rejections: ruff's parse errors and unsupported-syntax errors, and the checks of CPython's
//! tokenizer (brackets, indentation, tabs), as CPython's `SyntaxError` / `IndentationError` /
//! `TabError` on CPython's line, with CPython's message where it is known.
//!
//! Which error wins follows CPython: after a parser error (found in source order, string
//! literal errors included), CPython tokenizes the rest of the source, and any error its
//! tokenizer raises takes precedence, unless an error token (bad indentation, tabs, a stray
//! line continuation) stops that scan first; such tokens count only where the parser meets
//! them. A bracket left open at the end wins if it opened on an earlier line.
//!
//! `scan` has the tokenizer's checks of every token, `tokenizer` its messages for ruff's lexical
//! errors, `parser` the parser's messages.

use ruff_python_ast as ruff;
use ruff_python_ast::token::TokenKind;
use ruff_python_parser::{LexicalErrorType, ParseErrorType, UnsupportedSyntaxErrorKind};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::lines::LineIndex;
use crate::error::{CompileError, ErrorKind};

mod parser;
mod scan;
mod tokenizer;

pub(super) use tokenizer::number_kind;

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

/// An error found, where CPython meets it, and which stage of CPython reports it.
struct Found {
    at: TextSize,
    error: CompileError,
    stage: Stage,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Raised by CPython's tokenizer: wins over any parser error.
    Tokenizer,
    /// Reported by CPython's tokenizer only when the parser reaches it (an error token:
    /// indentation, tabs, line continuation).
    TokenizerInOrder,
    /// A bracket still open at the end of the source.
    Unclosed,
    /// Raised by CPython's parser (or its actions, as string literal decoding).
    Parser,
    /// Raised by CPython's parser without tokenizing the rest of the source (`unexpected
    /// indent`, `unexpected EOF`): later tokenizer errors do not replace it.
    ParserFinal,
}

struct Errors<'a> {
    src: &'a str,
    lines: &'a LineIndex,
    tokens: &'a ruff::token::Tokens,
    syntax: &'a ruff::Mod,
}

impl Errors<'_> {
    fn error(&self, kind: ErrorKind, msg: impl Into<String>, range: TextRange) -> CompileError {
        let mut e = syntax_error(self.src, self.lines, msg.into(), range);
        e.kind = kind;
        e
    }

    fn line(&self, offset: TextSize) -> u32 {
        self.lines.position(offset).0
    }
}

/// The error CPython reports first for a source ruff parsed; without one, the numbers directly
/// followed by a keyword (`1if x else y`), which CPython's tokenizer warns about.
pub(super) fn check(
    src: &str,
    lines: &LineIndex,
    parsed: &ruff_python_parser::Parsed<ruff::Mod>,
) -> Result<Vec<TextRange>, CompileError> {
    let cx = Errors {
        src,
        lines,
        tokens: parsed.tokens(),
        syntax: parsed.syntax(),
    };
    let mut scanned = cx.scan();
    let glued_numbers = std::mem::take(&mut scanned.glued_numbers);
    match first_error(&cx, parsed, scanned) {
        Some(error) => Err(error),
        None => Ok(glued_numbers),
    }
}

/// The error CPython reports first, given the token checks' findings.
fn first_error(
    cx: &Errors<'_>,
    parsed: &ruff_python_parser::Parsed<ruff::Mod>,
    scanned: scan::Scanned,
) -> Option<CompileError> {
    let src = cx.src;
    let mut tokenizer: Vec<Found> = Vec::new();
    let mut in_order: Vec<Found> = Vec::new();
    let mut parser: Vec<Found> = Vec::new();
    let mut unclosed = None;
    match scanned.brackets {
        Some(f) if f.stage == Stage::Unclosed => unclosed = Some(f),
        found => tokenizer.extend(found),
    }
    in_order.extend(scanned.indentation);
    tokenizer.extend(scanned.number);
    for e in parsed.errors() {
        match &e.error {
            // Found by the scan's indentation check.
            ParseErrorType::Lexical(LexicalErrorType::IndentationError) => {}
            // Escapes in string literals: found by `literal_error`, as CPython's parser does.
            ParseErrorType::Lexical(
                LexicalErrorType::UnicodeError
                | LexicalErrorType::MissingUnicodeLbrace
                | LexicalErrorType::MissingUnicodeRbrace
                | LexicalErrorType::StringError,
            ) => {}
            ParseErrorType::Lexical(lexical) => {
                let found = cx.lexical(lexical, e.location);
                match found.stage {
                    Stage::Tokenizer => tokenizer.push(found),
                    Stage::TokenizerInOrder => in_order.push(found),
                    _ => parser.push(found),
                }
            }
            _ => parser.push(cx.parse_error(e)),
        }
    }
    for e in parsed.unsupported_syntax_errors() {
        let specific = match &e.kind {
            UnsupportedSyntaxErrorKind::UnparenthesizedExceptionTypes => {
                Some("multiple exception types must be parenthesized")
            }
            UnsupportedSyntaxErrorKind::UnpackingInComprehension(kind) => {
                Some(if format!("{kind:?}").starts_with("Dict") {
                    "dict unpacking cannot be used in dict comprehension"
                } else {
                    "iterable unpacking cannot be used in comprehension"
                })
            }
            _ => None,
        };
        parser.push(Found {
            at: e.range.start(),
            error: cx.error(
                ErrorKind::SyntaxError,
                specific.unwrap_or("invalid syntax"),
                e.range,
            ),
            stage: Stage::Parser,
        });
    }
    if parser.is_empty() && tokenizer.is_empty() && in_order.is_empty() && unclosed.is_none() {
        return None;
    }
    // Nothing but whitespace and comments: CPython reports no line.
    if cx.tokens.iter().all(|t| {
        t.kind().is_trivia() || matches!(t.kind(), TokenKind::Newline | TokenKind::EndOfFile)
    }) {
        return Some(CompileError::syntax("invalid syntax", 0, 0));
    }
    let before = parser
        .iter()
        .map(|f| f.at)
        .min()
        .unwrap_or(TextSize::of(src));
    parser.extend(cx.literal_error(before));
    let first = parser.into_iter().min_by_key(|f| f.at);
    let raised = tokenizer.into_iter().min_by_key(|f| f.at);
    // An error token stops the parser where it is met, and the scan of the rest of the source.
    let error_token = in_order
        .into_iter()
        .min_by_key(|f| f.at)
        .filter(|t| raised.as_ref().is_none_or(|r| t.at < r.at));
    match error_token {
        Some(t) if first.as_ref().is_none_or(|p| t.at <= p.at) => {
            return Some(t.error);
        }
        // Met by the scan after the parser's error: the raising errors after it are not.
        Some(_) => {}
        None => {
            if let Some(r) = raised {
                match &first {
                    Some(p) if p.stage == Stage::ParserFinal && p.at < r.at => {}
                    _ => return Some(r.error),
                }
            }
        }
    }
    let eof = first
        .as_ref()
        .is_some_and(|p| p.error.msg == "unexpected EOF while parsing");
    match (unclosed, first) {
        (Some(u), Some(p)) if eof || u.error.lineno < p.error.lineno => Some(u.error),
        (_, Some(p)) => Some(p.error),
        (u, None) => u.map(|u| u.error),
    }
}

fn in_order_found(error: CompileError, range: TextRange) -> Found {
    Found {
        at: range.start(),
        error,
        stage: Stage::TokenizerInOrder,
    }
}

fn tokenizer_found(error: CompileError, range: TextRange) -> Found {
    Found {
        at: range.start(),
        error,
        stage: Stage::Tokenizer,
    }
}

/// `single` mode takes one statement: one compound statement, or one line of simple ones.
pub(super) fn interactive_error(
    src: &str,
    lines: &LineIndex,
    parsed: &ruff_python_parser::Parsed<ruff::Mod>,
) -> Option<CompileError> {
    let ruff::Mod::Module(module) = parsed.syntax() else {
        return None;
    };
    let Some(first) = module.body.first() else {
        return Some(CompileError::syntax("invalid syntax", 0, 0));
    };
    let second = module.body.get(1)?;
    let compound = matches!(
        first,
        ruff::Stmt::FunctionDef(_)
            | ruff::Stmt::ClassDef(_)
            | ruff::Stmt::If(_)
            | ruff::Stmt::For(_)
            | ruff::Stmt::While(_)
            | ruff::Stmt::With(_)
            | ruff::Stmt::Try(_)
            | ruff::Stmt::Match(_)
    );
    if compound {
        let at = TextRange::empty(second.range().start());
        return Some(syntax_error(src, lines, "invalid syntax".into(), at));
    }
    // The end of the first logical line: the first `Newline` token after the first statement.
    let tokens = parsed.tokens();
    let newline = tokens[tokens.partition_point(|t| t.start() < first.range().end())..]
        .iter()
        .find(|t| t.kind() == TokenKind::Newline)?;
    let last = module.body.last().expect("two statements");
    (last.range().start() > newline.start()).then(|| {
        syntax_error(
            src,
            lines,
            "multiple statements found while compiling a single statement".into(),
            TextRange::empty(newline.start()),
        )
    })
}
