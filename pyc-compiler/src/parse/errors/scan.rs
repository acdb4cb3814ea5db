//! The checks of CPython's tokenizer that look at every token (brackets, indentation and tabs,
//! numbers glued to names), made in one pass over ruff's tokens.
//!
//! Each check stops at its own first error; the others go on to the end. The pass also
//! collects the numbers CPython's tokenizer warns about (`1if x else y`).

use ruff_python_ast::token::{Token, TokenKind};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::tokenizer::{bracket_char, indent_columns, is_number_suffix_keyword, number_kind};
use super::{in_order_found, tokenizer_found, Errors, Found, Stage};
use crate::error::ErrorKind;

/// CPython's tokenizer: at most 200 open brackets (`MAXLEVEL`).
const MAX_PAREN_LEVEL: usize = 200;
/// CPython's tokenizer: at most 100 indentation levels (`MAXINDENT`).
const MAX_INDENT: usize = 100;
/// CPython's tokenizer: f-strings nest less than 150 deep (`MAXFSTRINGLEVEL`).
const MAX_FSTRING_LEVEL: usize = 150;

/// What the pass found.
pub(super) struct Scanned {
    /// A bracket error (stage `Tokenizer`), or a bracket left open (stage `Unclosed`).
    pub brackets: Option<Found>,
    /// An indentation or tab error.
    pub indentation: Option<Found>,
    /// A number directly followed by a name (`1a`).
    pub number: Option<Found>,
    /// Numbers directly followed by a keyword CPython accepts there with a warning.
    pub glued_numbers: Vec<TextRange>,
}

impl Errors<'_> {
    /// Runs the token checks in one pass. Most tokens take part in none of them: the loop
    /// looks at those only long enough to skip them.
    pub(super) fn scan(&self) -> Scanned {
        let tokens: &[Token] = self.tokens;
        let mut brackets = Brackets::default();
        let mut indentation = Indentation {
            stack: vec![(0, 0)],
            previous: 0..0,
        };
        let mut scanned = Scanned {
            brackets: None,
            indentation: None,
            number: None,
            glued_numbers: Vec::new(),
        };
        // The first logical line.
        if let Some(first) = first_of_line(tokens) {
            scanned.indentation = indentation.line(self, first.start());
        }
        let mut rest = tokens.iter();
        while let Some(token) = rest.next() {
            let kind = token.kind();
            if !is_scanned(kind) {
                continue;
            }
            match kind {
                TokenKind::Int | TokenKind::Float | TokenKind::Complex => {
                    let next = rest.as_slice().first();
                    if let Some(next) = next.filter(|t| t.start() == token.end()) {
                        self.glued_number(token, next, &mut scanned);
                    }
                }
                // A logical line starts after a `Newline` token (never inside brackets).
                TokenKind::Newline => {
                    if scanned.indentation.is_none() {
                        if let Some(first) = first_of_line(rest.as_slice()) {
                            scanned.indentation = indentation.line(self, first.start());
                        }
                    }
                }
                _ => {
                    if scanned.brackets.is_none() {
                        scanned.brackets = brackets.token(self, kind, token.range());
                    }
                }
            }
        }
        if scanned.brackets.is_none() {
            scanned.brackets = brackets.end(self);
        }
        scanned
    }

    /// A number directly followed by `next`: CPython's tokenizer rejects a name after it, and
    /// warns about the keywords it lets through.
    fn glued_number(&self, number: &Token, next: &Token, scanned: &mut Scanned) {
        let kind = next.kind();
        if is_number_suffix_keyword(kind) {
            scanned.glued_numbers.push(number.range());
            return;
        }
        // CPython checks the next character, not the token: only ASCII ones count.
        let ascii_next = self.src[next.range()].starts_with(|c: char| c.is_ascii());
        if scanned.number.is_some()
            || !ascii_next
            || !(kind == TokenKind::Name || kind.is_keyword())
        {
            return;
        }
        let name = number_kind(&self.src[number.range()]);
        let range = TextRange::empty(next.start());
        let e = self.error(
            ErrorKind::SyntaxError,
            format!("invalid {name} literal"),
            range,
        );
        scanned.number = Some(tokenizer_found(e, number.range()));
    }

    /// [`Errors::line_indent`] for the first token of a logical line, found without a line
    /// lookup when only whitespace precedes the token on its line (the usual case).
    fn indent_before(&self, offset: TextSize) -> (&str, TextSize) {
        let bytes = self.src.as_bytes();
        if matches!(
            bytes.get(offset.to_usize()),
            Some(b' ' | b'\t' | b'\x0c' | b'\\')
        ) {
            // An error token in the indentation, or a line continuation (the indentation is
            // then the next line's).
            return self.line_indent(offset);
        }
        let before = &bytes[..offset.to_usize()];
        let start = memchr::memrchr(b'\n', before).map_or(0, |newline| newline + 1);
        // Without branching per byte (so vectorized): indentation is short, and usually there.
        let whitespace = before[start..]
            .iter()
            .fold(true, |all, b| all & matches!(b, b' ' | b'\t' | b'\x0c'));
        if whitespace {
            return (&self.src[start..offset.to_usize()], offset);
        }
        self.line_indent(offset)
    }
}

/// The token kinds that take part in a check: numbers, `Newline`s (the indentation of the
/// next line), brackets and the f-string delimiters that reset them.
const SCANNED: u64 = kind_set(&[
    TokenKind::Int,
    TokenKind::Float,
    TokenKind::Complex,
    TokenKind::Newline,
    TokenKind::FStringStart,
    TokenKind::TStringStart,
    TokenKind::FStringEnd,
    TokenKind::TStringEnd,
    TokenKind::Lpar,
    TokenKind::Lsqb,
    TokenKind::Lbrace,
    TokenKind::Rpar,
    TokenKind::Rsqb,
    TokenKind::Rbrace,
]);

/// A set of token kinds as a bit mask (each kind's discriminant must be below 64).
const fn kind_set(kinds: &[TokenKind]) -> u64 {
    let mut set = 0;
    let mut i = 0;
    while i < kinds.len() {
        let bit = kinds[i] as u8;
        assert!(bit < 64, "token kind outside the mask");
        set |= 1 << bit;
        i += 1;
    }
    set
}

/// Whether a token takes part in a check: one bit test, as most tokens do not.
fn is_scanned(kind: TokenKind) -> bool {
    let bit = kind as u8;
    bit < 64 && SCANNED & (1 << bit) != 0
}

/// The first token of a logical line whose tokens start the slice: comments, blank lines and
/// indentation tokens aside.
fn first_of_line(tokens: &[Token]) -> Option<&Token> {
    tokens.iter().find(|t| {
        !matches!(
            t.kind(),
            TokenKind::Newline
                | TokenKind::NonLogicalNewline
                | TokenKind::Comment
                | TokenKind::Indent
                | TokenKind::Dedent
                | TokenKind::EndOfFile
        )
    })
}

/// The bracket check's state: brackets open, and how many were open when each enclosing
/// f-string started (its end closes the rest).
#[derive(Default)]
struct Brackets {
    open: Vec<(TokenKind, TextRange)>,
    fstrings: Vec<usize>,
}

impl Brackets {
    /// CPython's bracket checks on one token: unmatched and mismatched closers, too deep
    /// nesting.
    fn token(&mut self, cx: &Errors<'_>, kind: TokenKind, range: TextRange) -> Option<Found> {
        match kind {
            TokenKind::FStringStart | TokenKind::TStringStart => {
                self.fstrings.push(self.open.len());
                if self.fstrings.len() >= MAX_FSTRING_LEVEL {
                    let e = cx.error(ErrorKind::SyntaxError, "too many nested f-strings", range);
                    return Some(tokenizer_found(e, range));
                }
            }
            TokenKind::FStringEnd | TokenKind::TStringEnd => {
                if let Some(depth) = self.fstrings.pop() {
                    self.open.truncate(depth);
                }
            }
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                if self.open.len() >= MAX_PAREN_LEVEL {
                    let e = cx.error(ErrorKind::SyntaxError, "too many nested parentheses", range);
                    return Some(tokenizer_found(e, range));
                }
                self.open.push((kind, range));
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                return self.close(cx, kind, range);
            }
            _ => {}
        }
        None
    }

    /// A closing bracket.
    fn close(&mut self, cx: &Errors<'_>, kind: TokenKind, range: TextRange) -> Option<Found> {
        let close = bracket_char(kind);
        let Some((opener, opened)) = self.open.pop() else {
            let e = cx.error(
                ErrorKind::SyntaxError,
                format!("unmatched '{close}'"),
                range,
            );
            return Some(tokenizer_found(e, range));
        };
        let field = opener == TokenKind::Lbrace
            && self
                .fstrings
                .last()
                .is_some_and(|&depth| depth == self.open.len());
        if field && kind != TokenKind::Rbrace {
            let e = cx.error(
                ErrorKind::SyntaxError,
                format!("f-string: unmatched '{close}'"),
                range,
            );
            return Some(tokenizer_found(e, range));
        }
        if !matches!(
            (opener, kind),
            (TokenKind::Lpar, TokenKind::Rpar)
                | (TokenKind::Lsqb, TokenKind::Rsqb)
                | (TokenKind::Lbrace, TokenKind::Rbrace)
        ) {
            let open_char = bracket_char(opener);
            let mut msg = format!(
                "closing parenthesis '{close}' does not match opening parenthesis '{open_char}'"
            );
            if cx.line(opened.start()) != cx.line(range.start()) {
                msg += &format!(" on line {}", cx.line(opened.start()));
            }
            let e = cx.error(ErrorKind::SyntaxError, msg, range);
            return Some(tokenizer_found(e, range));
        }
        None
    }

    /// A bracket still open at the end of the source.
    fn end(mut self, cx: &Errors<'_>) -> Option<Found> {
        let (opener, opened) = self.open.pop()?;
        let e = cx.error(
            ErrorKind::SyntaxError,
            format!("'{}' was never closed", bracket_char(opener)),
            opened,
        );
        Some(Found {
            at: TextSize::of(cx.src),
            error: e,
            stage: Stage::Unclosed,
        })
    }
}

/// The indentation check's state: the enclosing levels (columns with tabs to multiples of 8,
/// and with tabs as 1), and where the last line's indentation is.
struct Indentation {
    stack: Vec<(u32, u32)>,
    /// The indentation of the last logical line checked: it is the innermost level.
    previous: std::ops::Range<usize>,
}

impl Indentation {
    /// CPython's indentation checks on the first significant token of a logical line: tabs
    /// counted both to multiples of 8 and as 1 column must agree (`TabError`), a dedent must
    /// return to an enclosing level, and at most 100 levels.
    fn line(&mut self, cx: &Errors<'_>, start: TextSize) -> Option<Found> {
        if self.same_as_previous(cx.src, start.to_usize()) {
            // The level of the line before: nothing to check.
            return None;
        }
        let (indent, at) = cx.indent_before(start);
        if cx.src[self.previous.clone()] == *indent {
            return None;
        }
        self.previous = (at.to_usize() - indent.len())..at.to_usize();
        let (col, alt) = indent_columns(indent);
        let range = TextRange::empty(at);
        // Met when the parser reaches the line, before any of its tokens.
        let line_start = TextRange::empty(at - TextSize::of(indent));
        let tab_error = || {
            let e = cx.error(
                ErrorKind::TabError,
                "inconsistent use of tabs and spaces in indentation",
                range,
            );
            Some(in_order_found(e, line_start))
        };
        let &(top, alt_top) = self.stack.last().expect("level 0 stays");
        if col == top {
            if alt != alt_top {
                return tab_error();
            }
        } else if col > top {
            if alt <= alt_top {
                return tab_error();
            }
            if self.stack.len() >= MAX_INDENT {
                let e = cx.error(
                    ErrorKind::IndentationError,
                    "too many levels of indentation",
                    range,
                );
                return Some(in_order_found(e, line_start));
            }
            self.stack.push((col, alt));
        } else {
            while self.stack.len() > 1 && col < self.stack.last().expect("nonempty").0 {
                self.stack.pop();
            }
            let &(top, alt_top) = self.stack.last().expect("level 0 stays");
            if col != top {
                let e = cx.error(
                    ErrorKind::IndentationError,
                    "unindent does not match any outer indentation level",
                    range,
                );
                return Some(in_order_found(e, line_start));
            }
            if alt != alt_top {
                return tab_error();
            }
        }
        None
    }

    /// Whether the first token of a line, at `offset`, follows exactly the indentation of the
    /// last line checked (most lines): found without looking for where its line starts.
    fn same_as_previous(&self, src: &str, offset: usize) -> bool {
        let bytes = src.as_bytes();
        let previous = &bytes[self.previous.clone()];
        let Some(start) = offset.checked_sub(previous.len()) else {
            return false;
        };
        // A token starting with whitespace or a backslash is an error token or a line
        // continuation: left to `indent_before`.
        !matches!(bytes.get(offset), Some(b' ' | b'\t' | b'\x0c' | b'\\'))
            && (start == 0 || bytes[start - 1] == b'\n')
            && &bytes[start..offset] == previous
    }
}
