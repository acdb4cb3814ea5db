//! Invalid UTF-8 in a source, reported as CPython 3.12's tokenizer and string parser do.
//!
//! CPython decodes source text token by token: bytes in comments are never decoded (any bytes
//! pass), names are decoded whole, string bodies whole (or, when they hold escapes, run by run
//! of non-ASCII bytes), f-string middles raise a bare `UnicodeDecodeError`. The message gives the
//! position of the bad bytes inside that unit.

use std::borrow::Cow;

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::PythonVersion;
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::{Ranged, TextSize};

use crate::error::{CompileError, ErrorKind};

/// Finds the first invalid UTF-8 that CPython would decode, or returns the text with the
/// invalid bytes of comments replaced.
pub(super) fn locate(body: &[u8]) -> Result<Cow<'_, str>, CompileError> {
    // Same offsets, valid UTF-8: each invalid byte becomes `x` (a name character, as CPython's
    // tokenizer takes any non-ASCII byte to be).
    let mut clean = body.to_vec();
    let mut bad = Vec::new();
    let mut at = 0;
    while let Err(e) = std::str::from_utf8(&clean[at..]) {
        let start = at + e.valid_up_to();
        let len = e.error_len().unwrap_or(clean.len() - start);
        clean[start..start + len].fill(b'x');
        bad.extend(start..start + len);
        at = start + len;
    }
    let clean = String::from_utf8(clean).expect("invalid bytes replaced");
    let options = ParseOptions::from(Mode::Module).with_target_version(PythonVersion::PY312);
    let parsed = ruff_python_parser::parse_unchecked(&clean, options);
    let tokens = parsed.tokens();
    for &p in &bad {
        let offset = TextSize::try_from(p).expect("source below 4 GiB");
        let index = tokens.partition_point(|t| t.end() <= offset);
        let Some(token) = tokens.get(index).filter(|t| t.start() <= offset) else {
            continue;
        };
        let (start, end) = (token.start().to_usize(), token.end().to_usize());
        let line = clean[..start].matches('\n').count() as u32 + 1;
        let line_start = clean[..start].rfind('\n').map_or(0, |i| i + 1);
        let column = |at: usize| clean[line_start..at].chars().count() as u32 + 1;
        match token.kind() {
            TokenKind::Comment => continue,
            TokenKind::String => {
                let text = &clean[start..end];
                let prefix = text.bytes().take_while(u8::is_ascii_alphabetic).count();
                let flags = text[..prefix].to_ascii_lowercase();
                let error = if flags.contains('b') {
                    "bytes can only contain ASCII literal characters".to_string()
                } else {
                    let quote = if text[prefix..].starts_with("\"\"\"")
                        || text[prefix..].starts_with("'''")
                    {
                        3
                    } else {
                        1
                    };
                    let body_start = (start + prefix + quote).min(end);
                    let closed = text.len() >= prefix + 2 * quote;
                    let body_end = if closed { end - quote } else { end }.max(body_start);
                    let content = &body[body_start..body_end];
                    let unit = if (flags.contains('r') || !content.contains(&b'\\'))
                        && (body_start..body_end).contains(&p)
                    {
                        body_start..body_end
                    } else {
                        high_run(body, p)
                    };
                    unicode_error(&body[unit.clone()], p - unit.start)
                };
                return Err(CompileError::syntax(error, line, column(start)));
            }
            TokenKind::FStringMiddle => {
                let msg = decode_error(&body[start..end], p - start);
                return Err(CompileError {
                    kind: ErrorKind::UnicodeDecodeError,
                    msg,
                    lineno: 0,
                    offset: 0,
                    end_lineno: 0,
                    end_offset: 0,
                });
            }
            _ => {
                let error = unicode_error(&body[start..end], p - start);
                return Err(CompileError::syntax(error, line, column(p)));
            }
        }
    }
    Ok(Cow::Owned(clean))
}

/// The run of non-ASCII bytes around `at`.
fn high_run(body: &[u8], at: usize) -> std::ops::Range<usize> {
    let start = body[..at]
        .iter()
        .rposition(|&b| b < 0x80)
        .map_or(0, |i| i + 1);
    let end = body[at..]
        .iter()
        .position(|&b| b < 0x80)
        .map_or(body.len(), |i| at + i);
    start..end
}

fn unicode_error(unit: &[u8], at: usize) -> String {
    format!("(unicode error) {}", decode_error(unit, at))
}

/// CPython's UTF-8 decoder message for the first error in `unit`, at or before `at`.
fn decode_error(unit: &[u8], at: usize) -> String {
    let start = std::str::from_utf8(unit)
        .err()
        .map_or(at, |e| e.valid_up_to());
    let (end, reason) = classify(unit, start);
    let place = if end - start == 1 {
        format!("byte 0x{:02x} in position {start}", unit[start])
    } else {
        format!("bytes in position {start}-{}", end - 1)
    };
    format!("'utf-8' codec can't decode {place}: {reason}")
}

/// The end of the invalid sequence starting at `start`, and CPython's reason.
fn classify(unit: &[u8], start: usize) -> (usize, &'static str) {
    let lead = unit[start];
    let (len, second) = match lead {
        0xC2..=0xDF => (2, 0x80..=0xBF),
        0xE0 => (3, 0xA0..=0xBF),
        0xED => (3, 0x80..=0x9F),
        0xE1..=0xEF => (3, 0x80..=0xBF),
        0xF0 => (4, 0x90..=0xBF),
        0xF4 => (4, 0x80..=0x8F),
        0xF1..=0xF3 => (4, 0x80..=0xBF),
        _ => return (start + 1, "invalid start byte"),
    };
    for k in 1..len {
        let Some(&b) = unit.get(start + k) else {
            return (unit.len(), "unexpected end of data");
        };
        let ok = if k == 1 {
            second.contains(&b)
        } else {
            (0x80..=0xBF).contains(&b)
        };
        if !ok {
            return (start + k, "invalid continuation byte");
        }
    }
    (start + len, "invalid continuation byte")
}
