//! Rejections: ruff's parse errors and unsupported-syntax errors, and the checks of CPython's
//! tokenizer (brackets, indentation, tabs), as CPython's `SyntaxError` / `IndentationError` /
//! `TabError` on CPython's line, with CPython's message where it is known.
//!
//! Which error wins follows CPython: after a parser error (found in source order, string
//! literal errors included), CPython tokenizes the rest of the source, and any error its
//! tokenizer raises takes precedence; a bracket left open at the end does only if it opened on
//! an earlier line.

use ruff_python_ast as ruff;
use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::source_order::{
    walk_expr, walk_stmt, SourceOrderVisitor, TraversalSignal,
};
use ruff_python_ast::AnyNodeRef;
use ruff_python_parser::{
    InterpolatedStringErrorType, LexicalErrorType, ParseError, ParseErrorType,
    UnsupportedSyntaxErrorKind,
};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::lines::LineIndex;
use super::strings::{self, StrBuf};
use crate::error::{CompileError, ErrorKind};

/// CPython's tokenizer: at most 200 open brackets (`MAXLEVEL`).
const MAX_PAREN_LEVEL: usize = 200;
/// CPython's tokenizer: at most 100 indentation levels (`MAXINDENT`).
const MAX_INDENT: usize = 100;
/// CPython's tokenizer: f-strings nest less than 150 deep (`MAXFSTRINGLEVEL`).
const MAX_FSTRING_LEVEL: usize = 150;

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

/// The error CPython reports first for a source ruff parsed, if any.
pub(super) fn first_error(
    src: &str,
    lines: &LineIndex,
    parsed: &ruff_python_parser::Parsed<ruff::Mod>,
) -> Option<CompileError> {
    let cx = Errors {
        src,
        lines,
        tokens: parsed.tokens(),
        syntax: parsed.syntax(),
    };
    let mut tokenizer: Vec<Found> = Vec::new();
    let mut in_order: Vec<Found> = Vec::new();
    let mut parser: Vec<Found> = Vec::new();
    let mut unclosed = None;
    match cx.bracket_error() {
        Some(f) if f.stage == Stage::Unclosed => unclosed = Some(f),
        found => tokenizer.extend(found),
    }
    in_order.extend(cx.indentation_error());
    tokenizer.extend(cx.number_error());
    for e in parsed.errors() {
        match &e.error {
            // Found by `indentation_error`.
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
        Some(t)
            if first
                .as_ref()
                .is_none_or(|p| t.error.lineno <= p.error.lineno) =>
        {
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

impl Errors<'_> {
    /// CPython's bracket checks: unmatched and mismatched closers, too deep nesting, and
    /// brackets still open at the end of the source.
    fn bracket_error(&self) -> Option<Found> {
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
    fn indentation_error(&self) -> Option<Found> {
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
            let tab_error = || {
                let e = self.error(
                    ErrorKind::TabError,
                    "inconsistent use of tabs and spaces in indentation",
                    range,
                );
                Some(in_order_found(e, range))
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
                    return Some(in_order_found(e, range));
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
                    return Some(in_order_found(e, range));
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
            let width = text.len() - text.trim_start_matches([' ', '\t', '\x0c']).len();
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
    fn lexical(&self, error: &LexicalErrorType, range: TextRange) -> Found {
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
    fn number_error(&self) -> Option<Found> {
        self.tokens.windows(2).find_map(|pair| {
            let (number, next) = (&pair[0], &pair[1]);
            let is_number = matches!(
                number.kind(),
                TokenKind::Int | TokenKind::Float | TokenKind::Complex
            );
            // CPython checks the next character, not the token: only ASCII ones count.
            let ascii_next = self.src[next.range()].starts_with(|c: char| c.is_ascii());
            let glued = ascii_next
                && (next.kind() == TokenKind::Name
                    || (next.kind().is_keyword() && !is_number_suffix_keyword(next.kind())));
            if !is_number || !glued || number.end() != next.start() {
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

    /// The first string literal before `before` whose escapes CPython's parser rejects.
    fn literal_error(&self, before: TextSize) -> Option<Found> {
        let mut raw_fstrings: Vec<bool> = Vec::new();
        for token in self.tokens.iter().take_while(|t| t.start() < before) {
            let range = token.range();
            let result = match token.kind() {
                TokenKind::FStringStart | TokenKind::TStringStart => {
                    let prefix = self.src[range].trim_end_matches(['"', '\'']);
                    raw_fstrings.push(prefix.contains(['r', 'R']));
                    continue;
                }
                TokenKind::FStringEnd | TokenKind::TStringEnd => {
                    raw_fstrings.pop();
                    continue;
                }
                TokenKind::FStringMiddle | TokenKind::TStringMiddle => {
                    let raw = raw_fstrings.last().copied().unwrap_or(false);
                    strings::decode_str(&self.src[range], raw, true, &mut StrBuf::default())
                }
                TokenKind::String => {
                    let literal = strings::split_token(&self.src[range]);
                    if literal.bytes {
                        strings::decode_bytes(literal.body, literal.raw, &mut Vec::new())
                    } else {
                        strings::decode_str(
                            literal.body,
                            literal.raw,
                            false,
                            &mut StrBuf::default(),
                        )
                    }
                }
                _ => continue,
            };
            if let Err(msg) = result {
                return Some(Found {
                    at: range.start(),
                    error: self.error(ErrorKind::SyntaxError, msg, range),
                    stage: Stage::Parser,
                });
            }
        }
        None
    }

    /// A ruff parse error as CPython's parser reports it.
    fn parse_error(&self, e: &ParseError) -> Found {
        let range = e.location;
        let found = |error: CompileError| Found {
            at: range.start(),
            error,
            stage: Stage::Parser,
        };
        let specific = |msg: &str| found(self.error(ErrorKind::SyntaxError, msg, range));
        let generic = || {
            // At the end of a source ending in a newline, CPython's parser is still on the
            // last line.
            let at = if range.start() == TextSize::of(self.src) && self.src.ends_with('\n') {
                TextRange::empty(range.start() - TextSize::new(1))
            } else {
                range
            };
            found(self.error(ErrorKind::SyntaxError, "invalid syntax", at))
        };
        match &e.error {
            ParseErrorType::OtherError(msg) if msg.starts_with("Expected an indented block") => {
                found(self.expected_indent(msg, range))
            }
            ParseErrorType::OtherError(msg)
                if msg.starts_with("Expected `except` or `finally`") =>
            {
                // CPython reports it at the end of the `try` body.
                let at = self
                    .tokens
                    .iter()
                    .take_while(|t| t.end() <= range.start())
                    .filter(|t| !t.kind().is_trivia() && t.kind() != TokenKind::Dedent)
                    .last()
                    .map_or(range, |t| t.range());
                let e = self.error(
                    ErrorKind::SyntaxError,
                    "expected 'except' or 'finally' block",
                    at,
                );
                found(e)
            }
            ParseErrorType::UnexpectedIndentation => Found {
                at: range.start(),
                error: self.error(ErrorKind::IndentationError, "unexpected indent", range),
                stage: Stage::ParserFinal,
            },
            ParseErrorType::InvalidArgumentUnpackingOrder => {
                specific("iterable argument unpacking follows keyword argument unpacking")
            }
            ParseErrorType::ExpectedKeywordParam => specific("named arguments must follow bare *"),
            ParseErrorType::NonDefaultParamAfterDefaultParam => {
                specific("parameter without a default follows parameter with a default")
            }
            ParseErrorType::ExpectedToken {
                expected: TokenKind::Else,
                ..
            } => specific("expected 'else' after 'if' expression"),
            ParseErrorType::FStringError(InterpolatedStringErrorType::InvalidConversionFlag) => {
                match self.src[range].chars().next() {
                    Some(c) if !c.is_whitespace() && c != '}' && c != ':' => specific(&format!(
                        "f-string: invalid conversion character '{c}': expected 's', 'r', or 'a'"
                    )),
                    _ => specific("f-string: missing conversion character"),
                }
            }
            ParseErrorType::FStringError(e) => specific(&fstring_message(e)),
            ParseErrorType::OtherError(msg) => match msg.as_str() {
                "Bytes literal cannot be mixed with non-bytes literals" => {
                    specific("cannot mix bytes and nonbytes literals")
                }
                "Only one '/' separator allowed" => specific("/ may appear only once"),
                "Only one '*' parameter allowed" | "Only one '*' separator allowed" => {
                    specific("* argument may appear only once")
                }
                "Only one '**' parameter allowed" => {
                    specific("arguments cannot follow var-keyword argument")
                }
                "Expected one or more exception types" => {
                    specific("expected one or more exception types")
                }
                _ => generic(),
            },
            ParseErrorType::SimpleStatementsOnSameLine => match self.legacy_call(range) {
                Some((name, at)) => found(self.error(
                    ErrorKind::SyntaxError,
                    format!("Missing parentheses in call to '{name}'. Did you mean {name}(...)?"),
                    at,
                )),
                None => generic(),
            },
            ParseErrorType::ParamAfterVarKeywordParam => {
                specific("arguments cannot follow var-keyword argument")
            }
            ParseErrorType::UnparenthesizedGeneratorExpression => {
                specific("Generator expression must be parenthesized")
            }
            ParseErrorType::PositionalAfterKeywordUnpacking => {
                specific("positional argument follows keyword argument unpacking")
            }
            ParseErrorType::PositionalAfterKeywordArgument => {
                specific("positional argument follows keyword argument")
            }
            ParseErrorType::IterableUnpackingInComprehension => {
                specific("iterable unpacking cannot be used in comprehension")
            }
            ParseErrorType::ExpectedRealNumber => {
                specific("real number required in complex literal")
            }
            ParseErrorType::ExpectedImaginaryNumber => {
                specific("imaginary number required in complex literal")
            }
            ParseErrorType::ExpectedExpression
                if self.token_before(range.start()) == Some(TokenKind::Lbrace)
                    && self.in_fstring(range.start()) =>
            {
                match self.src[range.start().to_usize()..].chars().next() {
                    Some(c @ ('}' | '!' | '=' | ':')) => {
                        specific(&format!("f-string: valid expression required before '{c}'"))
                    }
                    _ => generic(),
                }
            }
            ParseErrorType::ExpectedToken {
                expected: TokenKind::Colon,
                ..
            } if !self.in_brackets(range.start()) => specific("expected ':'"),
            ParseErrorType::VarParameterWithDefault => {
                let star = self.tokens[..self.tokens.partition_point(|t| t.end() <= range.start())]
                    .iter()
                    .rev()
                    .find(|t| matches!(t.kind(), TokenKind::Star | TokenKind::DoubleStar));
                match star.map(|t| t.kind()) {
                    Some(TokenKind::DoubleStar) => {
                        specific("var-keyword argument cannot have default value")
                    }
                    _ => specific("var-positional argument cannot have default value"),
                }
            }
            ParseErrorType::InvalidDeleteTarget => match self.find_expr(range) {
                Some(e) => specific(&format!("cannot delete {}", expr_name(e))),
                None => generic(),
            },
            ParseErrorType::InvalidAugmentedAssignmentTarget => match self.find_expr(range) {
                Some(e) => specific(&format!(
                    "'{}' is an illegal expression for augmented assignment",
                    expr_name(e)
                )),
                None => generic(),
            },
            ParseErrorType::InvalidAnnotatedAssignmentTarget => match self.find_expr(range) {
                Some(ruff::Expr::Tuple(_)) => {
                    specific("only single target (not tuple) can be annotated")
                }
                Some(ruff::Expr::List(_)) => {
                    specific("only single target (not list) can be annotated")
                }
                _ => specific("illegal target for annotation"),
            },
            ParseErrorType::InvalidNamedAssignmentTarget => match self.find_expr(range) {
                Some(e) => specific(&format!(
                    "cannot use assignment expressions with {}",
                    expr_name(e)
                )),
                None => generic(),
            },
            ParseErrorType::InvalidAssignmentTarget => match self.find_expr(range) {
                Some(e) => specific(&self.assign_message(e, range)),
                None => generic(),
            },
            _ => generic(),
        }
    }

    /// `print x` / `exec x` at the start of a statement (Python 2): the name and its range.
    fn legacy_call(&self, range: TextRange) -> Option<(&str, TextRange)> {
        let before = &self.tokens[..self.tokens.partition_point(|t| t.end() <= range.start())];
        let mut significant = before.iter().rev().filter(|t| !t.kind().is_trivia());
        let name = significant.next().filter(|t| t.kind() == TokenKind::Name)?;
        let text = &self.src[name.range()];
        let at_start = significant.next().is_none_or(|t| {
            matches!(
                t.kind(),
                TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent | TokenKind::Semi
            )
        });
        (at_start && (text == "print" || text == "exec")).then_some((text, name.range()))
    }

    /// Whether `offset` is inside an f-string (between its start and end tokens).
    fn in_fstring(&self, offset: TextSize) -> bool {
        let mut depth = 0i32;
        for t in self.tokens.iter().take_while(|t| t.start() < offset) {
            match t.kind() {
                TokenKind::FStringStart => depth += 1,
                TokenKind::FStringEnd => depth -= 1,
                _ => {}
            }
        }
        depth > 0
    }

    /// Whether `offset` is inside brackets (where a missing `:` is a dict's or a slice's).
    fn in_brackets(&self, offset: TextSize) -> bool {
        let mut depth = 0i32;
        for t in self.tokens.iter().take_while(|t| t.start() < offset) {
            match t.kind() {
                TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => depth += 1,
                TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => depth -= 1,
                _ => {}
            }
        }
        depth > 0
    }

    /// The kind of the last significant token before `offset`.
    fn token_before(&self, offset: TextSize) -> Option<TokenKind> {
        self.tokens[..self.tokens.partition_point(|t| t.end() <= offset)]
            .iter()
            .rev()
            .find(|t| !t.kind().is_trivia())
            .map(|t| t.kind())
    }

    /// The expression ruff's error points at.
    fn find_expr(&self, range: TextRange) -> Option<&ruff::Expr> {
        let mut finder = Finder {
            range,
            depth: 0,
            found: None,
        };
        finder.visit_mod(self.syntax);
        finder.found
    }

    /// CPython's message for an invalid assignment target: a target followed by a single `=`
    /// at the start of a statement reads as a mistyped comparison (`invalid_named_expression`).
    fn assign_message(&self, target: &ruff::Expr, range: TextRange) -> String {
        let name = expr_name(target);
        let parenthesized = self.token_before(range.start()) == Some(TokenKind::Lpar);
        if matches!(target, ruff::Expr::Yield(_) | ruff::Expr::YieldFrom(_)) && !parenthesized {
            return "assignment to yield expression not possible".into();
        }
        let after = self.tokens[self.tokens.partition_point(|t| t.start() < range.end())..]
            .iter()
            .find(|t| !t.kind().is_trivia() && t.kind() != TokenKind::Rpar)
            .map(|t| t.kind());
        let statement_start = parenthesized
            || matches!(
                self.token_before(range.start()),
                None | Some(
                    TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent | TokenKind::Semi
                )
            );
        let comparison_like = !matches!(
            target,
            ruff::Expr::List(_)
                | ruff::Expr::Tuple(_)
                | ruff::Expr::Generator(_)
                | ruff::Expr::BooleanLiteral(_)
                | ruff::Expr::NoneLiteral(_)
        );
        if after == Some(TokenKind::Equal) && statement_start && comparison_like {
            format!("cannot assign to {name} here. Maybe you meant '==' instead of '='?")
        } else {
            format!("cannot assign to {name}")
        }
    }

    /// `expected an indented block after 'if' statement on line N`, on the line of the token
    /// that should have been indented (or of the header, at the end of the source).
    fn expected_indent(&self, ruff_msg: &str, range: TextRange) -> CompileError {
        let mut what = ruff_msg
            .trim_start_matches("Expected an indented block after ")
            .replace('`', "'")
            .replace(" block", " statement")
            .replace(" clause", " statement")
            .replace("'class' definition", "class definition");
        let next = self.tokens[self.tokens.partition_point(|t| t.start() < range.start())..]
            .iter()
            .find(|t| !t.kind().is_trivia() && t.kind() != TokenKind::Newline);
        let at = match next {
            Some(t) if t.kind() != TokenKind::EndOfFile => t.range(),
            _ => range,
        };
        // The header's line: the first token of the logical line whose `:` precedes the error.
        let before: Vec<_> = self
            .tokens
            .iter()
            .take_while(|t| t.end() <= range.start())
            .collect();
        let colon = before.iter().rposition(|t| t.kind() == TokenKind::Colon);
        let header = colon.map_or(range.start(), |colon| {
            before[..colon]
                .iter()
                .rposition(|t| {
                    matches!(
                        t.kind(),
                        TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent
                    )
                })
                .map_or(before[0].start(), |i| before[i + 1].start())
        });
        if what == "'except' statement" && self.src[header.to_usize()..].starts_with("except*") {
            what = "'except*' statement".into();
        }
        let msg = format!(
            "expected an indented block after {what} on line {}",
            self.line(header)
        );
        self.error(ErrorKind::IndentationError, msg, at)
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

fn fstring_message(e: &InterpolatedStringErrorType) -> String {
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
    for c in indent.chars() {
        match c {
            ' ' => {
                col += 1;
                alt += 1;
            }
            '\t' => {
                col = (col / 8 + 1) * 8;
                alt += 1;
            }
            '\x0c' => (col, alt) = (0, 0),
            _ => break,
        }
    }
    (col, alt)
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

/// Finds the expression with exactly a given range, searching at most 200 levels deep (error
/// paths only; deeper trees get generic messages).
struct Finder<'a> {
    range: TextRange,
    depth: usize,
    found: Option<&'a ruff::Expr>,
}

impl<'a> SourceOrderVisitor<'a> for Finder<'a> {
    fn enter_node(&mut self, node: AnyNodeRef<'a>) -> TraversalSignal {
        if self.found.is_none() && self.depth < 200 && node.range().contains_range(self.range) {
            TraversalSignal::Traverse
        } else {
            TraversalSignal::Skip
        }
    }

    fn visit_stmt(&mut self, stmt: &'a ruff::Stmt) {
        self.depth += 1;
        walk_stmt(self, stmt);
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a ruff::Expr) {
        if self.found.is_none() && expr.range() == self.range {
            self.found = Some(expr);
            return;
        }
        self.depth += 1;
        walk_expr(self, expr);
        self.depth -= 1;
    }
}

/// CPython's name for an expression in its error messages (`_PyPegen_get_expr_name`).
fn expr_name(expr: &ruff::Expr) -> &'static str {
    use ruff::Expr as E;
    match expr {
        E::Attribute(_) => "attribute",
        E::Subscript(_) => "subscript",
        E::Starred(_) => "starred",
        E::Name(_) => "name",
        E::List(_) => "list",
        E::Tuple(_) => "tuple",
        E::Lambda(_) => "lambda",
        E::Call(_) => "function call",
        E::BoolOp(_) | E::BinOp(_) | E::UnaryOp(_) => "expression",
        E::Generator(_) => "generator expression",
        E::Yield(_) | E::YieldFrom(_) => "yield expression",
        E::Await(_) => "await expression",
        E::ListComp(_) => "list comprehension",
        E::SetComp(_) => "set comprehension",
        E::DictComp(_) => "dict comprehension",
        E::Dict(_) => "dict literal",
        E::Set(_) => "set display",
        E::FString(_) | E::TString(_) => "f-string expression",
        E::NoneLiteral(_) => "None",
        E::BooleanLiteral(b) if b.value => "True",
        E::BooleanLiteral(_) => "False",
        E::EllipsisLiteral(_) => "ellipsis",
        E::StringLiteral(_) | E::BytesLiteral(_) | E::NumberLiteral(_) => "literal",
        E::Compare(_) => "comparison",
        E::If(_) => "conditional expression",
        E::Named(_) => "named expression",
        E::Slice(_) | E::IpyEscapeCommand(_) => "expression",
    }
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
pub(super) fn number_kind(text: &str) -> &'static str {
    let text = text.to_ascii_lowercase();
    match text.get(..2) {
        Some("0x") => "hexadecimal",
        Some("0o") => "octal",
        Some("0b") => "binary",
        _ if text.ends_with('j') => "imaginary",
        _ => "decimal",
    }
}
