//! Source bytes to text: the UTF-8 BOM and PEP 263 coding cookies, with CPython's errors.
//!
//! Supported encodings: UTF-8 (and its aliases), ASCII, Latin-1 and every single-byte
//! (charmap) codec of CPython's `encodings` package (cp1252, koi8-r, iso8859-15, mac-roman,
//! ...; tables generated from CPython by `fixtures/ast/gen_codecs.py`). Multi-byte codecs
//! (euc-jp, shift_jis, gbk, utf-16, ...) are rejected as unsupported.
//!
//! Errors follow `compile(bytes, ...)` in CPython 3.12.1: null bytes first, then the cookie,
//! then decoding. Invalid UTF-8 is reported where CPython's tokenizer meets it: in a string
//! literal or a name (`(unicode error) 'utf-8' codec can't decode ...` on that line), never in a
//! comment (CPython skips comment bytes, so those are replaced by U+FFFD).

mod charmaps;
mod invalid_utf8;
use std::borrow::Cow;

use crate::error::CompileError;

/// Decodes a source file as CPython's `compile()` does with bytes.
pub fn decode(source: &[u8]) -> Result<Cow<'_, str>, CompileError> {
    // `memchr` is vectorized: the scan costs a fraction of the slice search's per-byte loop.
    if memchr::memchr(0, source).is_some() {
        return Err(file_error("source code string cannot contain null bytes"));
    }
    let (bom, body) = match source.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, source),
    };
    let Some(cookie) = coding_cookie(body) else {
        return decode_utf8(body);
    };
    let normal = normal_name(cookie);
    if normal == "utf-8" {
        return decode_utf8(body);
    }
    if bom {
        return Err(file_error(&format!("encoding problem: {normal} with BOM")));
    }
    match lookup(&normal) {
        Codec::Utf8 => decode_utf8(body),
        Codec::Ascii => match body.iter().position(|&b| b >= 0x80) {
            None => Ok(Cow::Owned(String::from_utf8(body.to_vec()).expect("ASCII"))),
            Some(at) => Err(file_error(&format!(
                "'ascii' codec can't decode byte 0x{:02x} in position {at}: ordinal not in range(128)",
                body[at]
            ))),
        },
        Codec::Latin1 => Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect())),
        Codec::Charmap(table) => {
            let mut text = String::with_capacity(body.len());
            for (at, &b) in body.iter().enumerate() {
                match char::from_u32(u32::from(table[usize::from(b)])) {
                    Some(c) if c != '\u{FFFE}' => text.push(c),
                    _ => {
                        return Err(file_error(&format!(
                            "'charmap' codec can't decode byte 0x{b:02x} in position {at}: character maps to <undefined>"
                        )))
                    }
                }
            }
            Ok(Cow::Owned(text))
        }
        Codec::NotText => Err(file_error(&format!(
            "'{cookie}' is not a text encoding; use codecs.decode() to handle arbitrary codecs"
        ))),
        Codec::Unsupported => Err(file_error(&format!(
            "encoding not supported by this compiler: {cookie}"
        ))),
        Codec::Unknown => Err(file_error(&format!("unknown encoding: {cookie}"))),
    }
}

/// A `SyntaxError` about the whole file (CPython reports line 0).
fn file_error(msg: &str) -> CompileError {
    CompileError::syntax(msg, 0, 0)
}

/// The PEP 263 cookie of line 1, or of line 2 when line 1 is blank or a comment.
fn coding_cookie(source: &[u8]) -> Option<&str> {
    let mut lines = source.split(|&b| b == b'\n');
    let first = lines.next()?;
    if let Some(name) = cookie_in_line(first) {
        return Some(name);
    }
    let rest = first.trim_ascii_start();
    if !(rest.is_empty() || rest.starts_with(b"#")) {
        return None;
    }
    cookie_in_line(lines.next()?)
}

/// `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`.
fn cookie_in_line(line: &[u8]) -> Option<&str> {
    let start = line.iter().position(|b| !b" \t\x0c".contains(b))?;
    let comment = line[start..].strip_prefix(b"#")?;
    let mut from = 0;
    while let Some(at) = find(&comment[from..], b"coding") {
        let after = &comment[from + at + 6..];
        from += at + 1;
        let Some(value) = after
            .strip_prefix(b":")
            .or_else(|| after.strip_prefix(b"="))
        else {
            continue;
        };
        let value = &value[value.iter().take_while(|b| b" \t".contains(b)).count()..];
        let len = value
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            .count();
        if len > 0 {
            return std::str::from_utf8(&value[..len]).ok();
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// CPython's tokenizer `get_normal_name`: `utf-8` and `iso-8859-1` spellings are normalized.
fn normal_name(name: &str) -> String {
    let head: String = name
        .chars()
        .take(12)
        .map(|c| {
            if c == '_' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let is = |prefix: &str| {
        head.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    };
    if is("utf-8") {
        "utf-8".into()
    } else if is("latin-1") || is("iso-8859-1") || is("iso-latin-1") {
        "iso-8859-1".into()
    } else {
        name.into()
    }
}

enum Codec {
    Utf8,
    Ascii,
    Latin1,
    Charmap(&'static [u16; 256]),
    /// A bytes-to-bytes codec (`rot13`, `hex`, ...).
    NotText,
    /// A text codec CPython has that this compiler does not.
    Unsupported,
    Unknown,
}

/// `codecs.lookup`: normalize as `encodings.normalize_encoding`, then `encodings.aliases`.
fn lookup(name: &str) -> Codec {
    let mut norm = String::new();
    let mut punct = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            if punct && !norm.is_empty() {
                norm.push('_');
            }
            norm.push(c.to_ascii_lowercase());
            punct = false;
        } else {
            punct = true;
        }
    }
    let alias = |key: &str| {
        charmaps::ALIASES
            .binary_search_by(|(a, _)| (*a).cmp(key))
            .ok()
            .map(|i| charmaps::ALIASES[i].1)
    };
    let module = alias(&norm)
        .or_else(|| alias(&norm.replace('.', "_")))
        .unwrap_or(&norm);
    match module {
        "utf_8" => Codec::Utf8,
        "ascii" => Codec::Ascii,
        "latin_1" => Codec::Latin1,
        "rot_13" | "hex_codec" | "base64_codec" | "bz2_codec" | "zlib_codec" | "uu_codec"
        | "quopri_codec" => Codec::NotText,
        // Windows-only codecs.
        "mbcs" | "oem" => Codec::Unknown,
        _ => match charmaps::CHARMAPS.iter().find(|(m, _)| *m == module) {
            Some((_, table)) => Codec::Charmap(table),
            None if charmaps::MODULES.contains(&module) => Codec::Unsupported,
            None => Codec::Unknown,
        },
    }
}

/// UTF-8 text; invalid sequences are errors where CPython's tokenizer decodes them.
fn decode_utf8(body: &[u8]) -> Result<Cow<'_, str>, CompileError> {
    match std::str::from_utf8(body) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(_) => invalid_utf8::locate(body),
    }
}
