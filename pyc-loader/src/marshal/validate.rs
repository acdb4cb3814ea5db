//! Validation without building: walks marshal data and checks everything the reader checks
//! (lengths, references, digits, UTF-8, code-object rules), allocating only one small entry per
//! referenceable object. Audits use it: it is several times faster than [`super::loads`], and
//! accepts exactly the data that `loads` accepts (a test holds the two to that).

use super::object::is_surrogatepass_utf8;
use super::read::parse_python_float;
use super::type_code as tc;
use super::{
    checked_length, on_deep_stack, MarshalError, MarshalErrorKind, DEEP, FLAG_REF, LONG_SHIFT,
    MAX_DEPTH,
};
use crate::code::{CodeError, CodeFacts};

/// What the validator remembers of an object: what code-object fields need to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A reference slot whose object is still being read.
    Pending,
    /// A `str`.
    Str,
    /// A `bytes` at this range of the data. (32-bit fields keep a shape in two registers,
    /// which makes the walk 15% faster; longer data goes to [`super::loads`].)
    Bytes {
        /// Offset of the first byte.
        start: u32,
        /// Length.
        len: u32,
    },
    /// A `tuple`.
    Tuple {
        /// Number of items.
        len: u32,
        /// Whether every item is a `str`.
        all_str: bool,
    },
    /// A code object.
    Code,
    /// Anything else.
    Other,
}

/// Checks one object at the start of `data` as [`super::loads`] would, returning its shape.
pub fn validate(data: &[u8]) -> Result<Shape, MarshalError> {
    if u32::try_from(data.len()).is_err() {
        return validate_by_reading(data);
    }
    // The reference table is reused by the thread's next validation: audits validate thousands
    // of files, and growing a fresh table for each showed in their profiles.
    let mut refs = REFS.take();
    refs.clear();
    let mut v = Validator {
        data,
        pos: 0,
        refs,
        depth: 0,
    };
    let result = match v.object() {
        Ok(Some(shape)) => Ok(shape),
        Ok(None) => Err(MarshalError {
            offset: 0,
            kind: MarshalErrorKind::Null("top-level object"),
        }),
        Err(e) => Err(*e),
    };
    REFS.set(v.refs);
    result
}

/// [`validate`] for data too long for 32-bit offsets: read it with the full reader.
fn validate_by_reading(data: &[u8]) -> Result<Shape, MarshalError> {
    Ok(match super::loads(bytes::Bytes::copy_from_slice(data))? {
        super::Object::Code(_) => Shape::Code,
        super::Object::Str(_) => Shape::Str,
        _ => Shape::Other,
    })
}

thread_local! {
    static REFS: std::cell::Cell<Vec<Shape>> = const { std::cell::Cell::new(Vec::new()) };
}

struct Validator<'a> {
    data: &'a [u8],
    pos: usize,
    refs: Vec<Shape>,
    depth: usize,
}

/// Errors are boxed inside the walk so that the hot path returns small values.
type Result<T, E = Box<MarshalError>> = std::result::Result<T, E>;

impl Validator<'_> {
    #[cold]
    #[inline(never)]
    fn error_at(&self, offset: usize, kind: MarshalErrorKind) -> Box<MarshalError> {
        Box::new(MarshalError { offset, kind })
    }

    #[inline]
    fn skip(&mut self, n: usize) -> Result<usize> {
        let start = self.pos;
        match start.checked_add(n).filter(|&end| end <= self.data.len()) {
            Some(end) => {
                self.pos = end;
                Ok(start)
            }
            None => Err(self.error_at(start, MarshalErrorKind::Eof)),
        }
    }

    #[inline]
    fn byte(&mut self) -> Result<u8> {
        let at = self.skip(1)?;
        Ok(self.data[at])
    }

    #[inline]
    fn i32(&mut self) -> Result<i32> {
        let at = self.skip(4)?;
        Ok(i32::from_le_bytes(
            self.data[at..at + 4].try_into().expect("4 bytes"),
        ))
    }

    fn length(&mut self, min_size: usize) -> Result<usize> {
        let at = self.pos;
        let n = self.i32()?;
        checked_length(n, min_size, self.data.len() - self.pos)
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::BadLength(n.into())))
    }

    /// The records that make up most of a pyc and need no recursion, when well-formed: short
    /// ASCII strings (names) and references to objects already read.
    #[inline(always)]
    fn leaf(&mut self) -> Option<Shape> {
        let start = self.pos;
        let code = *self.data.get(start)?;
        // Two tests rather than a jump table: nearly half of all records are references.
        if code == tc::REF {
            let raw = self.data.get(start + 1..start + 5)?;
            let index = u32::from_le_bytes(raw.try_into().expect("4 bytes"));
            return match self.refs.get(index as usize) {
                Some(&shape) if shape != Shape::Pending => {
                    self.pos = start + 5;
                    Some(shape)
                }
                _ => None,
            };
        }
        // SHORT_ASCII and SHORT_ASCII_INTERNED differ only in letter case (bit 0x20).
        if (code & !FLAG_REF) | 0x20 != tc::SHORT_ASCII {
            return None;
        }
        let n = *self.data.get(start + 1)?;
        let end = start + 2 + usize::from(n);
        if end > self.data.len() {
            return None;
        }
        self.pos = end;
        if code & FLAG_REF != 0 {
            self.refs.push(Shape::Str);
        }
        Some(Shape::Str)
    }

    fn object(&mut self) -> Result<Option<Shape>> {
        match self.leaf() {
            Some(shape) => Ok(Some(shape)),
            None => self.composite(),
        }
    }

    /// An object that [`Self::leaf`] did not read (its caller tried it first).
    fn composite(&mut self) -> Result<Option<Shape>> {
        let start = self.pos;
        if self.depth >= MAX_DEPTH {
            return Err(self.error_at(start, MarshalErrorKind::TooDeep));
        }
        self.depth += 1;
        // Past DEEP levels the walk moves to a thread with room for the rest, as the reader
        // does: audits run on worker threads with small stacks.
        let result = if self.depth == DEEP {
            on_deep_stack(|| self.object_body(start))
        } else {
            self.object_body(start)
        };
        self.depth -= 1;
        result
    }

    fn required(&mut self, what: &'static str) -> Result<Shape> {
        let at = self.pos;
        self.object()?
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::Null(what)))
    }

    /// [`Self::required`] where [`Self::leaf`] was tried already.
    fn required_composite(&mut self, what: &'static str) -> Result<Shape> {
        let at = self.pos;
        self.composite()?
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::Null(what)))
    }

    #[inline(always)]
    fn object_body(&mut self, start: usize) -> Result<Option<Shape>> {
        let code = self.byte()?;
        match code & !FLAG_REF {
            tc::NULL => return Ok(None),
            tc::NONE | tc::FALSE | tc::TRUE | tc::STOPITER | tc::ELLIPSIS => {
                return Ok(Some(Shape::Other))
            }
            tc::REF => {
                let at = self.pos;
                let index = u32::from_le_bytes(self.i32()?.to_le_bytes());
                return match self.refs.get(index as usize) {
                    Some(Shape::Pending) | None => {
                        Err(self.error_at(at, MarshalErrorKind::BadRef(index)))
                    }
                    Some(&shape) => Ok(Some(shape)),
                };
            }
            _ => {}
        }
        let slot = (code & FLAG_REF != 0).then(|| {
            self.refs.push(Shape::Pending);
            self.refs.len() - 1
        });
        let shape = match code & !FLAG_REF {
            tc::INT => {
                self.skip(4)?;
                Shape::Other
            }
            tc::INT64 => {
                self.skip(8)?;
                Shape::Other
            }
            tc::LONG => self.long()?,
            tc::FLOAT => {
                self.text_float()?;
                Shape::Other
            }
            tc::BINARY_FLOAT => {
                self.skip(8)?;
                Shape::Other
            }
            tc::COMPLEX => {
                self.text_float()?;
                self.text_float()?;
                Shape::Other
            }
            tc::BINARY_COMPLEX => {
                // Two doubles, as the reader takes them (a truncation is reported where the
                // missing one starts).
                self.skip(8)?;
                self.skip(8)?;
                Shape::Other
            }
            tc::STRING => {
                let len = self.length(1)?;
                let start = self.skip(len)?;
                // Both fit: the data is shorter than 4 GiB (see `validate`).
                Shape::Bytes {
                    start: start as u32,
                    len: len as u32,
                }
            }
            tc::UNICODE | tc::INTERNED => {
                let n = self.length(1)?;
                let at = self.skip(n)?;
                if !is_surrogatepass_utf8(&self.data[at..at + n]) {
                    return Err(self.error_at(at, MarshalErrorKind::BadUtf8));
                }
                Shape::Str
            }
            tc::ASCII | tc::ASCII_INTERNED => {
                let n = self.length(1)?;
                self.skip(n)?;
                Shape::Str
            }
            tc::SHORT_ASCII | tc::SHORT_ASCII_INTERNED => {
                let n = usize::from(self.byte()?);
                self.skip(n)?;
                Shape::Str
            }
            tc::SMALL_TUPLE => {
                let n = usize::from(self.byte()?);
                self.tuple(n)?
            }
            tc::TUPLE => {
                let n = self.length(1)?;
                self.tuple(n)?
            }
            tc::LIST | tc::SET | tc::FROZENSET => {
                let n = self.length(1)?;
                for _ in 0..n {
                    self.required("sequence")?;
                }
                Shape::Other
            }
            tc::DICT => {
                while self.object()?.is_some() {
                    self.required("dict value")?;
                }
                Shape::Other
            }
            tc::CODE => self.code(start)?,
            other => return Err(self.error_at(start, MarshalErrorKind::UnknownType(other))),
        };
        if let Some(i) = slot {
            self.refs[i] = shape;
        }
        Ok(Some(shape))
    }

    fn tuple(&mut self, n: usize) -> Result<Shape> {
        let mut all_str = true;
        for _ in 0..n {
            // Most items are names: read them here rather than through a call.
            let shape = match self.leaf() {
                Some(shape) => shape,
                None => self.required_composite("tuple")?,
            };
            all_str &= shape == Shape::Str;
        }
        // Marshal lengths are 32-bit.
        Ok(Shape::Tuple {
            len: n as u32,
            all_str,
        })
    }

    fn long(&mut self) -> Result<Shape> {
        let at = self.pos;
        let n = self.i32()?;
        let count = n.unsigned_abs() as usize;
        if count.saturating_mul(2) > self.data.len() - self.pos {
            return Err(self.error_at(at, MarshalErrorKind::BadLength(n.into())));
        }
        let start = self.skip(count * 2)?;
        let digits = self.data[start..start + count * 2].chunks_exact(2);
        let top = digits.clone().last();
        if digits
            .clone()
            .any(|d| u16::from_le_bytes([d[0], d[1]]) >> LONG_SHIFT != 0)
            || top == Some(&[0, 0][..])
        {
            return Err(self.error_at(at, MarshalErrorKind::BadLong));
        }
        Ok(Shape::Other)
    }

    fn text_float(&mut self) -> Result<()> {
        let n = usize::from(self.byte()?);
        let at = self.skip(n)?;
        std::str::from_utf8(&self.data[at..at + n])
            .ok()
            .and_then(parse_python_float)
            .map(|_| ())
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::BadFloat))
    }

    /// A code-object field: where it starts and its shape. Names and references are read
    /// inline (most fields are one or the other).
    #[inline(always)]
    fn field(&mut self, what: &'static str) -> Result<(usize, Shape)> {
        let at = self.pos;
        match self.leaf() {
            Some(shape) => Ok((at, shape)),
            None => Ok((at, self.required_composite(what)?)),
        }
    }

    /// A well-formed `bytes` record at the current position (bytecode, tables), read without
    /// a call: its range. `None`, with nothing consumed, for anything else, which the full
    /// walk then reads (and reports).
    #[inline(always)]
    fn bytes_leaf(&mut self) -> Option<std::ops::Range<usize>> {
        let start = self.pos;
        let code = *self.data.get(start)?;
        if code & !FLAG_REF != tc::STRING || self.depth >= MAX_DEPTH {
            return None;
        }
        let raw = self.data.get(start + 1..start + 5)?;
        let n = i32::from_le_bytes(raw.try_into().expect("4 bytes"));
        let at = start + 5;
        let len = checked_length(n, 1, self.data.len() - at)?;
        self.pos = at + len;
        if code & FLAG_REF != 0 {
            // Both fit: the data is shorter than 4 GiB (see `validate`).
            self.refs.push(Shape::Bytes {
                start: at as u32,
                len: len as u32,
            });
        }
        Some(at..at + len)
    }

    fn wrong(&self, at: usize, what: &'static str) -> Box<MarshalError> {
        self.error_at(at, MarshalErrorKind::CodeField(what))
    }

    /// A `bytes` field: its range in the data.
    #[inline(always)]
    fn bytes_field(&mut self, what: &'static str) -> Result<std::ops::Range<usize>> {
        match self.bytes_leaf() {
            Some(range) => Ok(range),
            None => self.other_bytes_field(what),
        }
    }

    /// A `bytes` field that is not a plain `bytes` record (a reference, or bad data).
    #[inline(never)]
    fn other_bytes_field(&mut self, what: &'static str) -> Result<std::ops::Range<usize>> {
        match self.field(what)? {
            (_, Shape::Bytes { start, len }) => Ok(start as usize..(start + len) as usize),
            (at, _) => Err(self.wrong(at, what)),
        }
    }

    /// A tuple-of-`str` field: its length.
    #[inline(always)]
    fn names_field(&mut self, what: &'static str) -> Result<usize> {
        match self.field(what)? {
            (_, Shape::Tuple { len, all_str: true }) => Ok(len as usize),
            (at, _) => Err(self.wrong(at, what)),
        }
    }

    fn shape_field(&mut self, what: &'static str, ok: fn(Shape) -> bool) -> Result<()> {
        match self.field(what)? {
            (_, shape) if ok(shape) => Ok(()),
            (at, _) => Err(self.wrong(at, what)),
        }
    }

    fn code(&mut self, start: usize) -> Result<Shape> {
        let names = [
            "co_argcount",
            "co_posonlyargcount",
            "co_kwonlyargcount",
            "co_stacksize",
            "co_flags",
        ];
        let mut counts = [0u32; 5];
        for (count, name) in counts.iter_mut().zip(names) {
            let at = self.pos;
            *count = u32::try_from(self.i32()?)
                .map_err(|_| self.error_at(at, MarshalErrorKind::CodeField(name)))?;
        }
        let [argcount, posonlyargcount, kwonlyargcount, _stacksize, flags] = counts;
        let code_len = self.bytes_field("co_code")?.len();
        self.shape_field("co_consts", |s| matches!(s, Shape::Tuple { .. }))?;
        self.names_field("co_names")?;
        let localsplus_len = self.names_field("co_localsplusnames")?;
        let kinds = self.bytes_field("co_localspluskinds")?;
        for name in ["co_filename", "co_name", "co_qualname"] {
            self.shape_field(name, |s| s == Shape::Str)?;
        }
        self.i32()?;
        self.bytes_field("co_linetable")?;
        self.bytes_field("co_exceptiontable")?;
        CodeFacts {
            argcount,
            posonlyargcount,
            kwonlyargcount,
            flags,
            code_len,
            localsplus_len,
            kinds: &self.data[kinds],
        }
        .check()
        .map_err(|e: CodeError| self.error_at(start, e.into()))?;
        Ok(Shape::Code)
    }
}
