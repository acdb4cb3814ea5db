//! String and bytes literal bodies decoded as CPython does: escape sequences (with `\N{...}`
//! names and lone surrogates), the `SyntaxWarning` for the first invalid escape, and CPython's
//! `(unicode error)` / `(value error)` messages.

use pyc_loader::marshal::Str;

/// A string token split into its prefix flags and its body (the text between the quotes).
#[derive(Clone, Copy, Debug)]
pub(super) struct Literal<'a> {
    pub raw: bool,
    /// A `b` prefix.
    pub bytes: bool,
    /// A lowercase `u` prefix: CPython's `Constant.kind == 'u'` (`U` does not count).
    pub unicode: bool,
    pub body: &'a str,
}

/// Splits the source text of a complete string token (`rb'''...'''`).
pub(super) fn split_token(token: &str) -> Literal<'_> {
    let prefix_len = token
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let prefix = &token.as_bytes()[..prefix_len];
    let has = |c: u8| prefix.iter().any(|p| p.eq_ignore_ascii_case(&c));
    let rest = &token[prefix_len..];
    // The quotes are ASCII; an unterminated token (error paths) may lack the closing ones.
    let quote = if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        &rest[..3]
    } else {
        rest.get(..1).unwrap_or("")
    };
    let body = &rest[quote.len()..];
    let body = match body.strip_suffix(quote) {
        Some(inner) if !quote.is_empty() => inner,
        _ => body,
    };
    Literal {
        raw: has(b'r'),
        bytes: has(b'b'),
        unicode: prefix == b"u",
        body,
    }
}

/// A `str` value being built, which may hold lone surrogates.
#[derive(Clone, Debug, Default)]
pub(super) struct StrBuf {
    /// UTF-8, with surrogates encoded as 3-byte sequences (`surrogatepass`).
    bytes: Vec<u8>,
    surrogates: bool,
}

impl StrBuf {
    pub fn push_str(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
    }

    pub fn append(&mut self, other: &StrBuf) {
        self.bytes.extend_from_slice(&other.bytes);
        self.surrogates |= other.surrogates;
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends one code point (any value up to U+10FFFF, surrogates included).
    fn push_code_point(&mut self, cp: u32) {
        match char::from_u32(cp) {
            Some(c) => {
                let mut utf8 = [0; 4];
                self.bytes
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            None => {
                // A surrogate: the generalized 3-byte UTF-8 form.
                self.surrogates = true;
                self.bytes.extend_from_slice(&[
                    0xE0 | (cp >> 12) as u8,
                    0x80 | ((cp >> 6) & 0x3F) as u8,
                    0x80 | (cp & 0x3F) as u8,
                ]);
            }
        }
    }

    /// The string built; its bytes are moved, not copied.
    pub fn finish(self) -> Str {
        Str::from_surrogatepass(self.bytes.into(), false).expect("StrBuf holds surrogatepass UTF-8")
    }
}

/// Why a literal body was rejected: the `SyntaxError` message CPython gives.
pub(super) type LiteralError = String;

/// Decodes a `str` body (without quotes) into `out`. Returns the `SyntaxWarning` message of the
/// first invalid escape, if any. `braces` undoubles `{{` and `}}` (f-string literal text).
pub(super) fn decode_str(
    body: &str,
    raw: bool,
    braces: bool,
    out: &mut StrBuf,
) -> Result<Option<String>, LiteralError> {
    if raw || !has_backslash(body) {
        push_undoubled(body, braces, out);
        return Ok(None);
    }
    let mut warning = None;
    let mut rest = body;
    while let Some(at) = memchr::memchr3(b'\\', b'{', b'}', rest.as_bytes()) {
        push_undoubled(&rest[..at], false, out);
        let (c, after) = (rest.as_bytes()[at], &rest[at + 1..]);
        if c != b'\\' {
            out.push_code_point(u32::from(c));
            rest = if braces && after.as_bytes().first() == Some(&c) {
                &after[1..]
            } else {
                after
            };
            continue;
        }
        // Position of the backslash in CPython's intermediate buffer, where every non-ASCII
        // character was widened to a 10-byte `\UXXXXXXXX` escape (error messages count there):
        // measured only for an error.
        let offset = body.len() - rest.len() + at;
        rest = decode_escape(after, out, &mut warning).map_err(|e| {
            let position = escaped_len(&body[..offset]);
            unicode_error(position, position + e.len, e.reason)
        })?;
    }
    push_undoubled(rest, braces, out);
    Ok(warning)
}

/// Whether a literal body holds a backslash (an escape to decode).
pub(super) fn has_backslash(body: &str) -> bool {
    memchr::memchr(b'\\', body.as_bytes()).is_some()
}

fn push_undoubled(text: &str, braces: bool, out: &mut StrBuf) {
    if !braces || memchr::memchr2(b'{', b'}', text.as_bytes()).is_none() {
        out.push_str(text);
        return;
    }
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        if rest.as_bytes().first() == Some(&text.as_bytes()[text.len() - rest.len() - 1]) {
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
}

/// The length of `text` in CPython's widened escape buffer.
fn escaped_len(text: &str) -> usize {
    let mut len = 0;
    let mut prev_backslash = false;
    for c in text.chars() {
        len += if c.is_ascii() {
            1
        } else if prev_backslash {
            15 // `\u005c` then `\UXXXXXXXX`
        } else {
            10
        };
        prev_backslash = c == '\\' && !prev_backslash;
    }
    len
}

/// An escape CPython's `unicodeescape` codec rejects.
struct EscapeError {
    /// Its length in CPython's widened buffer, from the backslash.
    len: usize,
    reason: &'static str,
}

/// Decodes the escape after a backslash; returns the text after it.
fn decode_escape<'a>(
    after: &'a str,
    out: &mut StrBuf,
    warning: &mut Option<String>,
) -> Result<&'a str, EscapeError> {
    let Some(c) = after.chars().next() else {
        out.push_code_point(u32::from('\\'));
        return Ok(after);
    };
    let tail = &after[c.len_utf8()..];
    let simple = match c {
        '\n' => return Ok(tail),
        '\\' => Some('\\'),
        '\'' => Some('\''),
        '"' => Some('"'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        _ => None,
    };
    if let Some(s) = simple {
        out.push_code_point(u32::from(s));
        return Ok(tail);
    }
    match c {
        '0'..='7' => {
            let digits = after
                .bytes()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .count();
            let value = u32::from_str_radix(&after[..digits], 8).expect("octal digits");
            if value > 0o377 && warning.is_none() {
                *warning = Some(format!(
                    "invalid octal escape sequence '\\{}'",
                    &after[..digits]
                ));
            }
            out.push_code_point(value);
            Ok(&after[digits..])
        }
        'x' | 'u' | 'U' => {
            let (width, what) = match c {
                'x' => (2, "truncated \\xXX escape"),
                'u' => (4, "truncated \\uXXXX escape"),
                _ => (8, "truncated \\UXXXXXXXX escape"),
            };
            let digits = tail
                .bytes()
                .take(width)
                .take_while(u8::is_ascii_hexdigit)
                .count();
            if digits < width {
                return Err(EscapeError {
                    len: 2 + digits,
                    reason: what,
                });
            }
            let value = u32::from_str_radix(&tail[..width], 16).expect("hex digits");
            if value > 0x10FFFF {
                return Err(EscapeError {
                    len: 2 + width,
                    reason: "illegal Unicode character",
                });
            }
            out.push_code_point(value);
            Ok(&tail[width..])
        }
        'N' => {
            let malformed = |len| EscapeError {
                len,
                reason: "malformed \\N character escape",
            };
            let Some(name_and_rest) = tail.strip_prefix('{') else {
                return Err(malformed(2));
            };
            let Some(close) = name_and_rest.find('}') else {
                return Err(malformed(2 + escaped_len(tail)));
            };
            let name = &name_and_rest[..close];
            if name.is_empty() {
                // CPython's codec stops at the `}`.
                return Err(malformed(3));
            }
            let len = 4 + escaped_len(name);
            match super::unicode_names::lookup(name) {
                Some(ch) => {
                    out.push_code_point(u32::from(ch));
                    Ok(&name_and_rest[close + 1..])
                }
                None => Err(EscapeError {
                    len,
                    reason: "unknown Unicode character name",
                }),
            }
        }
        _ => {
            // An invalid escape keeps its backslash; a backslash before a non-ASCII character
            // is not reported (CPython turned it into `\u005c` first).
            if c.is_ascii() && warning.is_none() {
                *warning = Some(format!("invalid escape sequence '\\{c}'"));
            }
            out.push_code_point(u32::from('\\'));
            Ok(after)
        }
    }
}

fn unicode_error(start: usize, end: usize, reason: &str) -> LiteralError {
    let place = if end - start == 1 {
        format!("byte 0x5c in position {start}")
    } else {
        format!("bytes in position {start}-{}", end - 1)
    };
    format!("(unicode error) 'unicodeescape' codec can't decode {place}: {reason}")
}

/// Decodes a `bytes` body into `out`; returns the warning of the first invalid escape.
pub(super) fn decode_bytes(
    body: &str,
    raw: bool,
    out: &mut Vec<u8>,
) -> Result<Option<String>, LiteralError> {
    if !body.is_ascii() {
        return Err("bytes can only contain ASCII literal characters".into());
    }
    let bytes = body.as_bytes();
    if raw || !bytes.contains(&b'\\') {
        out.extend_from_slice(bytes);
        return Ok(None);
    }
    let mut warning = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&c) = bytes.get(i) else {
            return Err("(value error) Trailing \\ in string".into());
        };
        i += 1;
        match c {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(c),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let start = i - 1;
                let digits = bytes[start..]
                    .iter()
                    .take(3)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .count();
                let value = u32::from_str_radix(&body[start..start + digits], 8).expect("octal");
                if value > 0o377 && warning.is_none() {
                    warning = Some(format!(
                        "invalid octal escape sequence '\\{}'",
                        &body[start..start + digits]
                    ));
                }
                out.push((value & 0xFF) as u8);
                i = start + digits;
            }
            b'x' => {
                let hex = bytes
                    .get(i..i + 2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let Some(hex) = hex else {
                    return Err(format!(
                        "(value error) invalid \\x escape at position {}",
                        i - 2
                    ));
                };
                let text = std::str::from_utf8(hex).expect("ASCII");
                out.push(u8::from_str_radix(text, 16).expect("hex"));
                i += 2;
            }
            _ => {
                if warning.is_none() {
                    warning = Some(format!("invalid escape sequence '\\{}'", char::from(c)));
                }
                out.push(b'\\');
                i -= 1;
            }
        }
    }
    Ok(warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(body: &str) -> (String, Option<String>) {
        let mut out = StrBuf::default();
        let w = decode_str(body, false, false, &mut out).unwrap();
        (out.finish().to_string_lossy(), w)
    }

    #[test]
    fn escapes() {
        assert_eq!(s(r"a\n\x41\u00e9\101"), ("a\nAé A".replace(' ', ""), None));
        assert_eq!(s(r"\d").1.as_deref(), Some("invalid escape sequence '\\d'"));
        assert_eq!(s("\\\nx").0, "x");
        assert_eq!(s(r"\777").0, "\u{1ff}");
    }

    #[test]
    fn escape_error_positions() {
        // CPython 3.12.1's messages: positions count non-ASCII characters as 10 bytes.
        let error =
            |body: &str| decode_str(body, false, false, &mut StrBuf::default()).unwrap_err();
        let message = |place: &str, reason: &str| {
            format!("(unicode error) 'unicodeescape' codec can't decode bytes in position {place}: {reason}")
        };
        assert_eq!(error(r"ab\x4"), message("2-4", r"truncated \xXX escape"));
        assert_eq!(
            error(r"é\u12"),
            message("10-13", r"truncated \uXXXX escape")
        );
        assert_eq!(
            error(r"éé\N{foo}"),
            message("20-26", "unknown Unicode character name")
        );
        assert_eq!(
            error(r"a\N{"),
            message("1-3", r"malformed \N character escape")
        );
        assert_eq!(
            error(r"x\\é\U00110000"),
            message("13-22", "illegal Unicode character")
        );
        assert_eq!(
            error(r"\N"),
            message("0-1", r"malformed \N character escape")
        );
        assert_eq!(
            error(r"\N{}"),
            message("0-2", r"malformed \N character escape")
        );
        assert_eq!(error(r"é\\\xg"), message("12-13", r"truncated \xXX escape"));
    }

    #[test]
    fn surrogates_survive() {
        let mut out = StrBuf::default();
        decode_str(r"\ud800", false, false, &mut out).unwrap();
        assert_eq!(out.finish().chars().collect::<Vec<_>>(), vec![0xD800]);
    }

    #[test]
    fn split() {
        let l = split_token("rb'''x'''");
        assert!(l.raw && !l.unicode);
        assert_eq!(l.body, "x");
        assert_eq!(split_token("''").body, "");
        assert_eq!(split_token("''''''").body, "");
    }
}
