//! The checks of CPython's tokenizer: brackets, indentation and tabs, number literals, and
//! ruff's lexical errors in CPython's words.

use ruff_python_ast::token::TokenKind;
use ruff_python_parser::{InterpolatedStringErrorType, LexicalErrorType};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::{in_order_found, tokenizer_found, Errors, Found, Stage};
use crate::error::ErrorKind;

/// CPython's tokenizer: at most 200 open brackets (`MAXLEVEL`).
const MAX_PAREN_LEVEL: usize = 200;
/// CPython's tokenizer: at most 100 indentation levels (`MAXINDENT`).
const MAX_INDENT: usize = 100;
/// CPython's tokenizer: f-strings nest less than 150 deep (`MAXFSTRINGLEVEL`).
const MAX_FSTRING_LEVEL: usize = 150;

impl Errors<'_> {
    /// CPython's bracket checks: unmatched and mismatched closers, too deep nesting, and
    /// brackets still open at the end of the source.
    pub(super) fn bracket_error(&self) -> Option<Found> {
        let mut open: Vec<(TokenKind, TextRange)> = Vec::new();
        // Brackets open when each enclosing f-string started: its end closes the rest.
        let mut fstrings: Vec<usize> = Vec::new();
        for token in self.tokens.iter() {
            let range = token.range();
            match token.kind() {
                TokenKind::FStringStart | TokenKind::TStringStart => {
                    fstrings.push(open.len());
                    if fstrings.len() >= MAX_FSTRING_LEVEL {
                        let e =
                            self.error(ErrorKind::SyntaxError, "too many nested f-strings", range);
                        return Some(tokenizer_found(e, range));
                    }
                }
                TokenKind::FStringEnd | TokenKind::TStringEnd => {
                    if let Some(depth) = fstrings.pop() {
                        open.truncate(depth);
                    }
                }
                kind @ (TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace) => {
                    if open.len() >= MAX_PAREN_LEVEL {
                        let e = self.error(
                            ErrorKind::SyntaxError,
                            "too many nested parentheses",
                            range,
                        );
                        return Some(tokenizer_found(e, range));
                    }
                    open.push((kind, range));
                }
                kind @ (TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace) => {
                    let close = bracket_char(kind);
                    let Some((opener, opened)) = open.pop() else {
                        let e = self.error(
                            ErrorKind::SyntaxError,
                            format!("unmatched '{close}'"),
                            range,
                        );
                        return Some(tokenizer_found(e, range));
                    };
                    let field = opener == TokenKind::Lbrace
                        && fstrings.last().is_some_and(|&depth| depth == open.len());
                    if field && kind != TokenKind::Rbrace {
                        let e = self.error(
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
                        if self.line(opened.start()) != self.line(range.start()) {
                            msg += &format!(" on line {}", self.line(opened.start()));
                        }
                        let e = self.error(ErrorKind::SyntaxError, msg, range);
                        return Some(tokenizer_found(e, range));
                    }
                }
                _ => {}
            }
        }
        let (opener, opened) = open.pop()?;
        let e = self.error(
            ErrorKind::SyntaxError,
            format!("'{}' was never closed", bracket_char(opener)),
            opened,
        );
        Some(Found {
            at: TextSize::of(self.src),
            error: e,
            stage: Stage::Unclosed,
        })
    }

    /// CPython's indentation checks on the first token of each logical line: tabs counted both
    /// to multiples of 8 and as 1 column must agree (`TabError`), a dedent must return to an
    /// enclosing level, and at most 100 levels.
    pub(super) fn indentation_error(&self) -> Option<Found> {
        let mut stack: Vec<(u32, u32)> = vec![(0, 0)];
        let mut line_start = true;
        for token in self.tokens.iter() {
            // A logical line starts after a `Newline` token (which never occurs inside brackets).
            match token.kind() {
                TokenKind::Newline => {
                    line_start = true;
                    continue;
                }
                TokenKind::NonLogicalNewline
                | TokenKind::Comment
                | TokenKind::Indent
                | TokenKind::Dedent
                | TokenKind::EndOfFile => continue,
                _ => {}
            }
            if !std::mem::take(&mut line_start) {
                continue;
            }
            let (indent, at) = self.line_indent(token.start());
            let (col, alt) = indent_columns(indent);
            let range = TextRange::empty(at);
            // Met when the parser reaches the line, before any of its tokens.
            let line_start = TextRange::empty(at - TextSize::of(indent));
            let tab_error = || {
                let e = self.error(
                    ErrorKind::TabError,
                    "inconsistent use of tabs and spaces in indentation",
                    range,
                );
                Some(in_order_found(e, line_start))
            };
            let &(top, alt_top) = stack.last().expect("level 0 stays");
            if col == top {
                if alt != alt_top {
                    return tab_error();
                }
            } else if col > top {
                if alt <= alt_top {
                    return tab_error();
                }
                if stack.len() >= MAX_INDENT {
                    let e = self.error(
                        ErrorKind::IndentationError,
                        "too many levels of indentation",
                        range,
                    );
                    return Some(in_order_found(e, line_start));
                }
                stack.push((col, alt));
            } else {
                while stack.len() > 1 && col < stack.last().expect("nonempty").0 {
                    stack.pop();
                }
                let &(top, alt_top) = stack.last().expect("level 0 stays");
                if col != top {
                    let e = self.error(
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
        }
        None
    }

    /// The leading whitespace of the line where `offset` is, and where it ends; a line holding
    /// only a line continuation gives way to the next.
    fn line_indent(&self, offset: TextSize) -> (&str, TextSize) {
        let (mut line, _) = self.lines.position(offset);
        loop {
            let start = self.lines.line_start(line).to_usize();
            let text = &self.src[start..];
            let width = text
                .bytes()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\x0c'))
                .count();
            if text[width..].starts_with("\\\n") {
                line += 1;
                continue;
            }
            let end = TextSize::try_from(start + width).expect("offsets fit u32");
            return (&text[..width], end);
        }
    }

    /// The end of the source inside a statement: CPython's parser reports it (or the bracket
    /// left open).
    fn unexpected_eof(&self) -> Found {
        let mut end = TextSize::of(self.src);
        if self.src.ends_with('\n') {
            end -= TextSize::new(1);
        }
        let end = TextRange::empty(end);
        Found {
            at: end.start(),
            error: self.error(ErrorKind::SyntaxError, "unexpected EOF while parsing", end),
            stage: Stage::ParserFinal,
        }
    }

    /// A ruff lexical error as CPython's tokenizer reports it.
    pub(super) fn lexical(&self, error: &LexicalErrorType, range: TextRange) -> Found {
        let msg = match error {
            LexicalErrorType::UnclosedStringError => {
                let text = &self.src[range];
                let prefix = text.bytes().take_while(u8::is_ascii_alphabetic).count();
                let triple = text[prefix..].starts_with("\"\"\"") || text[prefix..].starts_with("'''");
                let kind = if text[..prefix].to_ascii_lowercase().contains('f') {
                    "f-string"
                } else {
                    "string"
                };
                let end = if range.end() > range.start() && self.src[..range.end().to_usize()].ends_with('\n') {
                    range.end() - TextSize::new(1)
                } else {
                    range.end()
                };
                let triple = if triple { "triple-quoted " } else { "" };
                let e = self.error(
                    ErrorKind::SyntaxError,
                    format!("unterminated {triple}{kind} literal (detected at line {})", self.line(end)),
                    TextRange::empty(range.start()),
                );
                return tokenizer_found(e, range);
            }
            LexicalErrorType::UnrecognizedToken { tok: '$' | '?' | '`' } => {
                // An error token CPython's parser, not its tokenizer, rejects.
                return Found {
                    at: range.start(),
                    error: self.error(ErrorKind::SyntaxError, "invalid syntax", range),
                    stage: Stage::Parser,
                };
            }
            LexicalErrorType::UnrecognizedToken { tok } => match tok {
                c if c.is_control() || c.is_whitespace() => {
                    format!("invalid non-printable character U+{:04X}", u32::from(*c))
                }
                c => format!("invalid character '{c}' (U+{:04X})", u32::from(*c)),
            },
            LexicalErrorType::LineContinuationError
                if self.src[range.start().to_usize() + 1..].trim().is_empty() =>
            {
                // A backslash at the end of the source: CPython's tokenizer meets the end.
                return self.unexpected_eof();
            }
            LexicalErrorType::LineContinuationError => {
                let e = self.error(
                    ErrorKind::SyntaxError,
                    "unexpected character after line continuation character",
                    range,
                );
                return in_order_found(e, range);
            }
            LexicalErrorType::InvalidByteLiteral => {
                "bytes can only contain ASCII literal characters".into()
            }
            LexicalErrorType::Eof => return self.unexpected_eof(),
            LexicalErrorType::FStringError(
                InterpolatedStringErrorType::UnterminatedString
                | InterpolatedStringErrorType::UnterminatedTripleQuotedString,
            ) => return self.unterminated_fstring(range),
            LexicalErrorType::FStringError(e) => fstring_message(e),
            LexicalErrorType::OtherError(msg) if msg.contains("ParseIntError") => {
                self.bad_radix_literal(range)
            }
            LexicalErrorType::OtherError(msg) if msg.contains("decimal integer") => {
                "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers".into()
            }
            _ => "invalid syntax".into(),
        };
        let e = self.error(ErrorKind::SyntaxError, msg, range);
        tokenizer_found(e, range)
    }

    /// A number directly followed by a name (`1a`, `0x1g`): CPython's tokenizer rejects the
    /// number.
    pub(super) fn number_error(&self) -> Option<Found> {
        self.tokens.windows(2).find_map(|pair| {
            let (number, next) = (&pair[0], &pair[1]);
            if !matches!(
                number.kind(),
                TokenKind::Int | TokenKind::Float | TokenKind::Complex
            ) || number.end() != next.start()
            {
                return None;
            }
            // CPython checks the next character, not the token: only ASCII ones count.
            let ascii_next = self.src[next.range()].starts_with(|c: char| c.is_ascii());
            let glued = ascii_next
                && (next.kind() == TokenKind::Name
                    || (next.kind().is_keyword() && !is_number_suffix_keyword(next.kind())));
            if !glued {
                return None;
            }
            let kind = number_kind(&self.src[number.range()]);
            let range = TextRange::empty(next.start());
            let e = self.error(
                ErrorKind::SyntaxError,
                format!("invalid {kind} literal"),
                range,
            );
            Some(tokenizer_found(e, number.range()))
        })
    }

    /// `0x`, `0b2`, `0o8`: a radix prefix without valid digits.
    fn bad_radix_literal(&self, range: TextRange) -> String {
        let text = self.src[range].to_ascii_lowercase();
        let next = self.src[range.end().to_usize()..].chars().next();
        let (kind, bad_digit) = match text.get(..2) {
            Some("0b") => ("binary", next.filter(char::is_ascii_digit)),
            Some("0o") => ("octal", next.filter(char::is_ascii_digit)),
            _ => ("hexadecimal", None),
        };
        match bad_digit {
            Some(c) => format!("invalid digit '{c}' in {kind} literal"),
            None => format!("invalid {kind} literal"),
        }
    }

    /// An f-string without its end: reported at its start, detected at the end of its last line.
    fn unterminated_fstring(&self, range: TextRange) -> Found {
        let start = self
            .tokens
            .iter()
            .take_while(|t| t.start() <= range.start())
            .filter(|t| t.kind() == TokenKind::FStringStart)
            .last()
            .map_or(range, |t| t.range());
        // A replacement field still open: CPython reports the brace.
        let mut braces: Vec<TextRange> = Vec::new();
        for t in self.tokens[self.tokens.partition_point(|t| t.start() < start.start())..]
            .iter()
            .take_while(|t| t.start() <= range.start())
        {
            match t.kind() {
                TokenKind::Lbrace => braces.push(t.range()),
                TokenKind::Rbrace => {
                    braces.pop();
                }
                _ => {}
            }
        }
        if let Some(brace) = braces.pop() {
            let e = self.error(ErrorKind::SyntaxError, "'{' was never closed", brace);
            return tokenizer_found(e, brace);
        }
        let opener = &self.src[start];
        let triple = opener.ends_with("\"\"\"") || opener.ends_with("'''");
        let end = if self.src[..range.end().to_usize()].ends_with('\n') {
            range.end() - TextSize::new(1)
        } else {
            range.end()
        };
        let triple = if triple { "triple-quoted " } else { "" };
        let msg = format!(
            "unterminated {triple}f-string literal (detected at line {})",
            self.line(end)
        );
        let e = self.error(ErrorKind::SyntaxError, msg, TextRange::empty(start.start()));
        tokenizer_found(e, start)
    }
}

fn bracket_char(kind: TokenKind) -> char {
    match kind {
        TokenKind::Lpar => '(',
        TokenKind::Rpar => ')',
        TokenKind::Lsqb => '[',
        TokenKind::Rsqb => ']',
        TokenKind::Lbrace => '{',
        _ => '}',
    }
}

pub(super) fn fstring_message(e: &InterpolatedStringErrorType) -> String {
    match e {
        InterpolatedStringErrorType::SingleRbrace => "f-string: single '}' is not allowed".into(),
        InterpolatedStringErrorType::UnclosedLbrace => "f-string: expecting '}'".into(),
        InterpolatedStringErrorType::LambdaWithoutParentheses => {
            "f-string: lambda expressions are not allowed without parentheses".into()
        }
        _ => "invalid syntax".into(),
    }
}

/// Indentation width with tabs to the next multiple of 8, and with tabs as 1 column; a form
/// feed resets both (as CPython's tokenizer does).
fn indent_columns(indent: &str) -> (u32, u32) {
    let (mut col, mut alt) = (0, 0);
    // Indentation is ASCII: bytes are characters.
    for c in indent.bytes() {
        match c {
            b' ' => {
                col += 1;
                alt += 1;
            }
            b'\t' => {
                col = (col / 8 + 1) * 8;
                alt += 1;
            }
            b'\x0c' => (col, alt) = (0, 0),
            _ => break,
        }
    }
    (col, alt)
}

/// The keywords CPython 3.12's tokenizer lets follow a number directly, with a warning
/// (`1if x else y`).
pub(in crate::parse) fn is_number_suffix_keyword(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::And
            | TokenKind::Else
            | TokenKind::For
            | TokenKind::If
            | TokenKind::In
            | TokenKind::Is
            | TokenKind::Not
            | TokenKind::Or
    )
}

/// How CPython's tokenizer names a number literal in its messages.
pub(in crate::parse) fn number_kind(text: &str) -> &'static str {
    let text = text.to_ascii_lowercase();
    match text.get(..2) {
        Some("0x") => "hexadecimal",
        Some("0o") => "octal",
        Some("0b") => "binary",
        _ if text.ends_with('j') => "imaginary",
        _ => "decimal",
    }
}
