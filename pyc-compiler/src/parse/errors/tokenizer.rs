//! Ruff's lexical errors in CPython's tokenizer's words, and the helpers of the token scan
//! (`scan`).

use ruff_python_ast::token::TokenKind;
use ruff_python_parser::{InterpolatedStringErrorType, LexicalErrorType};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::{in_order_found, tokenizer_found, Errors, Found, Stage};
use crate::error::ErrorKind;

impl Errors<'_> {
    /// The leading whitespace of the line where `offset` is, and where it ends; a line holding
    /// only a line continuation gives way to the next.
    pub(super) fn line_indent(&self, offset: TextSize) -> (&str, TextSize) {
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

pub(super) fn bracket_char(kind: TokenKind) -> char {
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
pub(super) fn indent_columns(indent: &str) -> (u32, u32) {
    // Spaces only (the usual case, tested without branching per byte): both counts are the
    // length.
    if indent.bytes().fold(true, |all, b| all & (b == b' ')) {
        let len = u32::try_from(indent.len()).expect("offsets fit u32");
        return (len, len);
    }
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
pub(super) fn is_number_suffix_keyword(kind: TokenKind) -> bool {
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
