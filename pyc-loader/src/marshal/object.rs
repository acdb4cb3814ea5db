//! The values that marshal data holds.

use std::sync::Arc;

use bytes::Bytes;
use num_bigint::BigInt;

use crate::code::CodeObject;

/// A Python value as marshal stores it. Containers are shared (`Arc`), so a value read from
/// marshal data that refers to one object many times holds it once, and clones are cheap.
#[derive(Clone, Debug)]
pub enum Object {
    /// `None`.
    None,
    /// `True`.
    True,
    /// `False`.
    False,
    /// `...`.
    Ellipsis,
    /// The `StopIteration` type.
    StopIteration,
    /// An `int`.
    Int(Int),
    /// A `float`.
    Float(f64),
    /// A `complex` (real, imaginary).
    Complex(f64, f64),
    /// A `bytes`.
    Bytes(Bytes),
    /// A `str`.
    Str(Str),
    /// A `tuple`.
    Tuple(Arc<[Object]>),
    /// A `list`.
    List(Arc<[Object]>),
    /// A `dict`, in insertion order.
    Dict(Arc<[(Object, Object)]>),
    /// A `set`, in marshal order.
    Set(Arc<[Object]>),
    /// A `frozenset`, in marshal order.
    FrozenSet(Arc<[Object]>),
    /// A code object.
    Code(Arc<CodeObject>),
}

/// A Python `int`, small ones unboxed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Int {
    /// A value that fits in 64 bits.
    Small(i64),
    /// Anything larger (never a value that fits in `Small`).
    Big(Arc<BigInt>),
}

impl Int {
    /// The normalized `Int` for a big integer.
    pub fn from_big(value: BigInt) -> Int {
        match i64::try_from(&value) {
            Ok(small) => Int::Small(small),
            Err(_) => Int::Big(Arc::new(value)),
        }
    }

    /// The value as a big integer.
    pub fn to_big(&self) -> BigInt {
        match self {
            Int::Small(v) => BigInt::from(*v),
            Int::Big(v) => (**v).clone(),
        }
    }
}

impl std::fmt::Display for Int {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Int::Small(v) => write!(f, "{v}"),
            Int::Big(v) => write!(f, "{v}"),
        }
    }
}

/// A Python `str`. The text is kept as UTF-8 extended to lone surrogates (what CPython's
/// `surrogatepass` error handler produces), so every Python string is representable.
#[derive(Clone, Debug)]
pub struct Str {
    data: Bytes,
    /// No surrogates: `data` is valid UTF-8.
    utf8: bool,
    /// Interned in CPython (identifiers, names): marshal writes it with an interned type code.
    interned: bool,
}

impl Str {
    /// A string of ordinary text.
    pub fn new(text: &str, interned: bool) -> Str {
        Str {
            data: Bytes::copy_from_slice(text.as_bytes()),
            utf8: true,
            interned,
        }
    }

    /// A string from `surrogatepass` UTF-8 bytes; `None` if they are not that encoding.
    pub fn from_surrogatepass(data: Bytes, interned: bool) -> Option<Str> {
        let utf8 = std::str::from_utf8(&data).is_ok();
        if !utf8 && !is_surrogatepass_utf8(&data) {
            return None;
        }
        Some(Str {
            data,
            utf8,
            interned,
        })
    }

    /// A string from Latin-1 bytes (each byte one code point), as marshal's ASCII types hold.
    pub fn from_latin1(data: &[u8], interned: bool) -> Str {
        let text: String = data.iter().map(|&b| char::from(b)).collect();
        Str::new(&text, interned)
    }

    /// The text, unless it holds lone surrogates.
    pub fn as_str(&self) -> Option<&str> {
        if self.utf8 {
            // SAFETY: `utf8` is set only after `from_utf8` accepted these bytes (or they came
            // from a `&str`), and `data` is immutable.
            Some(unsafe { std::str::from_utf8_unchecked(&self.data) })
        } else {
            None
        }
    }

    /// The text with lone surrogates replaced by U+FFFD, for messages.
    pub fn to_string_lossy(&self) -> String {
        if let Some(text) = self.as_str() {
            return text.to_owned();
        }
        self.chars()
            .map(|cp| char::from_u32(cp).unwrap_or('\u{FFFD}'))
            .collect()
    }

    /// The `surrogatepass` UTF-8 encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// Whether CPython would hold this string interned.
    pub fn is_interned(&self) -> bool {
        self.interned
    }

    /// Whether every code point is ASCII.
    pub fn is_ascii(&self) -> bool {
        self.data.is_ascii()
    }

    /// The code points.
    pub fn chars(&self) -> impl Iterator<Item = u32> + '_ {
        SurrogatepassChars {
            bytes: &self.data,
            at: 0,
        }
    }

    /// The number of code points (`len()` in Python).
    pub fn char_len(&self) -> usize {
        self.data.iter().filter(|&&b| b & 0xC0 != 0x80).count()
    }
}

impl Default for Str {
    /// The empty string.
    fn default() -> Str {
        Str::new("", false)
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.data == other.data
    }
}

impl Eq for Str {}

impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.data.hash(state);
    }
}

/// Decodes UTF-8 where lone surrogates (U+D800..U+DFFF) are also encoded as 3 bytes.
struct SurrogatepassChars<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Iterator for SurrogatepassChars<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let b = self.bytes;
        let lead = *b.get(self.at)?;
        let (len, init) = match lead {
            0x00..=0x7F => (1, u32::from(lead)),
            0xC0..=0xDF => (2, u32::from(lead & 0x1F)),
            0xE0..=0xEF => (3, u32::from(lead & 0x0F)),
            _ => (4, u32::from(lead & 0x07)),
        };
        let cp = b[self.at + 1..self.at + len]
            .iter()
            .fold(init, |acc, &c| (acc << 6) | u32::from(c & 0x3F));
        self.at += len;
        Some(cp)
    }
}

/// Whether `data` is UTF-8 in which lone surrogates may also appear.
pub(super) fn is_surrogatepass_utf8(data: &[u8]) -> bool {
    // Strict UTF-8 is a subset, checked by std many bytes at a time; surrogates are rare.
    std::str::from_utf8(data).is_ok() || is_utf8_with_surrogates(data)
}

/// [`is_surrogatepass_utf8`], a character at a time.
fn is_utf8_with_surrogates(data: &[u8]) -> bool {
    let mut i = 0;
    while i < data.len() {
        let lead = data[i];
        let (len, min, max) = match lead {
            0x00..=0x7F => (1, 0, 0x7F),
            0xC2..=0xDF => (2, 0x80, 0x7FF),
            0xE0..=0xEF => (3, 0x800, 0xFFFF),
            0xF0..=0xF4 => (4, 0x10000, 0x10FFFF),
            _ => return false,
        };
        let Some(tail) = data.get(i + 1..i + len) else {
            return false;
        };
        if tail.iter().any(|&c| c & 0xC0 != 0x80) {
            return false;
        }
        let cp = tail
            .iter()
            .fold(u32::from(lead) & (0xFF >> (len + 1)), |acc, &c| {
                (acc << 6) | u32::from(c & 0x3F)
            });
        if !(min..=max).contains(&cp) {
            return false;
        }
        i += len;
    }
    true
}

impl Object {
    /// Python's type name of the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::None => "NoneType",
            Object::True | Object::False => "bool",
            Object::Ellipsis => "ellipsis",
            Object::StopIteration => "type",
            Object::Int(_) => "int",
            Object::Float(_) => "float",
            Object::Complex(..) => "complex",
            Object::Bytes(_) => "bytes",
            Object::Str(_) => "str",
            Object::Tuple(_) => "tuple",
            Object::List(_) => "list",
            Object::Dict(_) => "dict",
            Object::Set(_) => "set",
            Object::FrozenSet(_) => "frozenset",
            Object::Code(_) => "code",
        }
    }

    /// A tuple of the given items.
    pub fn tuple(items: Vec<Object>) -> Object {
        Object::Tuple(items.into())
    }
}

/// Structural equality that tells `-0.0` from `0.0` and NaNs apart by bits, as marshal
/// round trips must preserve them.
impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        use Object::*;
        match (self, other) {
            (None, None) | (True, True) | (False, False) => true,
            (Ellipsis, Ellipsis) | (StopIteration, StopIteration) => true,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Complex(a, b), Complex(c, d)) => {
                a.to_bits() == c.to_bits() && b.to_bits() == d.to_bits()
            }
            (Bytes(a), Bytes(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (Tuple(a), Tuple(b)) | (List(a), List(b)) => a == b,
            (Set(a), Set(b)) | (FrozenSet(a), FrozenSet(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            (Code(a), Code(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrogates() {
        let lone = Bytes::from_static(b"a\xed\xb2\x80b");
        let s = Str::from_surrogatepass(lone, false).unwrap();
        assert_eq!(s.chars().collect::<Vec<_>>(), vec![0x61, 0xDC80, 0x62]);
        assert_eq!(s.as_str(), Option::None);
        assert_eq!(s.char_len(), 3);
        assert!(Str::from_surrogatepass(Bytes::from_static(b"\xc0\x80"), false).is_none());
        assert!(Str::from_surrogatepass(Bytes::from_static(b"\xe2\x82"), false).is_none());
        let s = Str::from_latin1(b"caf\xe9", true);
        assert_eq!(s.as_str(), Some("café"));
    }
}
