//! The marshal reader. Every length is checked against the bytes left and nesting is limited,
//! so hostile input yields an error, never a panic or an unbounded allocation.

use rustc_hash::FxHashMap;
use std::sync::Arc;

use bytes::Bytes;
use num_bigint::{BigInt, Sign};

use super::type_code as tc;
use super::{checked_length, on_deep_stack, Int, Object, Str, DEEP, FLAG_REF, LONG_SHIFT};
use crate::code::{CodeError, CodeObject};

/// Deepest nesting accepted, as CPython's `MAX_MARSHAL_STACK_DEPTH`.
pub const MAX_DEPTH: usize = 2000;

/// What went wrong, and where in the marshal data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad marshal data at offset {offset}: {kind}")]
pub struct MarshalError {
    /// Byte offset (from the start of the marshal data) of the record at fault.
    pub offset: usize,
    /// The fault.
    pub kind: MarshalErrorKind,
}

/// The faults the reader detects.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarshalErrorKind {
    /// The data ends inside a record.
    #[error("unexpected end of data")]
    Eof,
    /// A type code that marshal does not define.
    #[error("unknown type code {0:#04x}")]
    UnknownType(u8),
    /// A negative or impossible length.
    #[error("bad length {0}")]
    BadLength(i64),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A `REF` record to an index not yet defined.
    #[error("invalid reference {0}")]
    BadRef(u32),
    /// A NULL where an object is required.
    #[error("NULL object in {0}")]
    Null(&'static str),
    /// A long whose digits are out of range or not normalized.
    #[error("bad long digits")]
    BadLong,
    /// A float in text form that does not parse.
    #[error("bad float text")]
    BadFloat,
    /// A string that is not valid (surrogatepass) UTF-8.
    #[error("invalid UTF-8 in str")]
    BadUtf8,
    /// A code-object field of the wrong type.
    #[error("code object field {0} has the wrong type")]
    CodeField(&'static str),
    /// A code object CPython would reject.
    #[error("invalid code object: {0}")]
    Code(#[from] CodeError),
}

/// Reads one object from the start of `data`; trailing bytes are ignored, as `marshal.loads`
/// does. Byte strings in the result share `data`'s buffer.
pub fn loads(data: Bytes) -> Result<Object, MarshalError> {
    let mut reader = Reader {
        data,
        pos: 0,
        refs: Vec::new(),
        depth: 0,
        str_tuples: FxHashMap::default(),
    };
    let start = reader.pos;
    match reader.object()? {
        Some(obj) => Ok(obj),
        None => Err(reader.error_at(start, MarshalErrorKind::Null("top-level object"))),
    }
}

/// A tuple read as a code object's name tuple, and its conversion.
type ConvertedNames = (Arc<[Object]>, Arc<[Str]>);

struct Reader {
    data: Bytes,
    pos: usize,
    /// Objects flagged for reference, by index; `None` while still being read.
    refs: Vec<Option<Object>>,
    depth: usize,
    /// Name tuples already converted, by the address of the tuple read, so that a tuple the
    /// data shares (through `REF`) stays one shared `Arc<[Str]>`; the tuple is kept alive so
    /// its address is not reused.
    str_tuples: FxHashMap<usize, ConvertedNames>,
}

type Result<T, E = MarshalError> = std::result::Result<T, E>;

impl Reader {
    fn error_at(&self, offset: usize, kind: MarshalErrorKind) -> MarshalError {
        MarshalError { offset, kind }
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or(self.error_at(self.pos, MarshalErrorKind::Eof))?;
        let slice = &self.data[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn take_bytes(&mut self, n: usize) -> Result<Bytes> {
        let start = self.pos;
        self.take(n)?;
        Ok(self.data.slice(start..start + n))
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A 32-bit length, which must be non-negative and, at `min_size` bytes per item, fit in
    /// the data that is left.
    fn length(&mut self, min_size: usize) -> Result<usize> {
        let at = self.pos;
        let n = self.i32()?;
        checked_length(n, min_size, self.data.len() - self.pos)
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::BadLength(n.into())))
    }

    /// Reserves the next reference slot when `flagged`.
    fn reserve(&mut self, flagged: bool) -> Option<usize> {
        flagged.then(|| {
            self.refs.push(None);
            self.refs.len() - 1
        })
    }

    fn fill(&mut self, slot: Option<usize>, obj: &Object) {
        if let Some(i) = slot {
            self.refs[i] = Some(obj.clone());
        }
    }

    /// One object, or `None` for a NULL record.
    fn object(&mut self) -> Result<Option<Object>> {
        let start = self.pos;
        if self.depth >= MAX_DEPTH {
            return Err(self.error_at(start, MarshalErrorKind::TooDeep));
        }
        self.depth += 1;
        let result = if self.depth == DEEP {
            on_deep_stack(|| self.object_body(start))
        } else {
            self.object_body(start)
        };
        self.depth -= 1;
        result
    }

    fn required(&mut self, what: &'static str) -> Result<Object> {
        let at = self.pos;
        self.object()?
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::Null(what)))
    }

    fn object_body(&mut self, start: usize) -> Result<Option<Object>> {
        let code = self.byte()?;
        // Singletons, NULL and references never take a reference slot, flagged or not.
        let singleton = match code & !FLAG_REF {
            tc::NULL => return Ok(None),
            tc::NONE => Some(Object::None),
            tc::FALSE => Some(Object::False),
            tc::TRUE => Some(Object::True),
            tc::STOPITER => Some(Object::StopIteration),
            tc::ELLIPSIS => Some(Object::Ellipsis),
            tc::REF => {
                let at = self.pos;
                let index = u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
                return match self.refs.get(index as usize) {
                    Some(Some(obj)) => Ok(Some(obj.clone())),
                    _ => Err(self.error_at(at, MarshalErrorKind::BadRef(index))),
                };
            }
            _ => None,
        };
        if singleton.is_some() {
            return Ok(singleton);
        }
        let slot = self.reserve(code & FLAG_REF != 0);
        let obj = match code & !FLAG_REF {
            tc::INT => Object::Int(Int::Small(self.i32()?.into())),
            tc::INT64 => {
                let v = i64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"));
                Object::Int(Int::Small(v))
            }
            tc::LONG => Object::Int(self.long()?),
            tc::FLOAT => Object::Float(self.text_float()?),
            tc::BINARY_FLOAT => Object::Float(self.f64()?),
            tc::COMPLEX => {
                let re = self.text_float()?;
                Object::Complex(re, self.text_float()?)
            }
            tc::BINARY_COMPLEX => {
                let re = self.f64()?;
                Object::Complex(re, self.f64()?)
            }
            tc::STRING => {
                let n = self.length(1)?;
                Object::Bytes(self.take_bytes(n)?)
            }
            tc::UNICODE | tc::INTERNED => {
                let n = self.length(1)?;
                let at = self.pos;
                let data = self.take_bytes(n)?;
                let s = Str::from_surrogatepass(data, code & !FLAG_REF == tc::INTERNED)
                    .ok_or_else(|| self.error_at(at, MarshalErrorKind::BadUtf8))?;
                Object::Str(s)
            }
            tc::ASCII | tc::ASCII_INTERNED => {
                let n = self.length(1)?;
                Object::Str(self.latin1(n, code & !FLAG_REF == tc::ASCII_INTERNED)?)
            }
            tc::SHORT_ASCII | tc::SHORT_ASCII_INTERNED => {
                let n = usize::from(self.byte()?);
                Object::Str(self.latin1(n, code & !FLAG_REF == tc::SHORT_ASCII_INTERNED)?)
            }
            tc::SMALL_TUPLE => {
                let n = usize::from(self.byte()?);
                self.sequence(n, Object::Tuple, "tuple")?
            }
            tc::TUPLE => {
                let n = self.length(1)?;
                self.sequence(n, Object::Tuple, "tuple")?
            }
            tc::LIST => {
                let n = self.length(1)?;
                self.sequence(n, Object::List, "list")?
            }
            tc::SET => {
                let n = self.length(1)?;
                self.sequence(n, Object::Set, "set")?
            }
            tc::FROZENSET => {
                let n = self.length(1)?;
                self.sequence(n, Object::FrozenSet, "frozenset")?
            }
            tc::DICT => self.dict()?,
            tc::CODE => Object::Code(Arc::new(self.code(start)?)),
            other => return Err(self.error_at(start, MarshalErrorKind::UnknownType(other))),
        };
        self.fill(slot, &obj);
        Ok(Some(obj))
    }

    fn latin1(&mut self, n: usize, interned: bool) -> Result<Str> {
        let data = self.take_bytes(n)?;
        Ok(if data.is_ascii() {
            Str::from_surrogatepass(data, interned).expect("ASCII is UTF-8")
        } else {
            Str::from_latin1(&data, interned)
        })
    }

    fn sequence(
        &mut self,
        n: usize,
        make: fn(Arc<[Object]>) -> Object,
        what: &'static str,
    ) -> Result<Object> {
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.required(what)?);
        }
        Ok(make(items.into()))
    }

    fn dict(&mut self) -> Result<Object> {
        let mut items = Vec::new();
        loop {
            let Some(key) = self.object()? else { break };
            let value = self.required("dict value")?;
            items.push((key, value));
        }
        Ok(Object::Dict(items.into()))
    }

    fn long(&mut self) -> Result<Int> {
        let at = self.pos;
        let n = self.i32()?;
        let count = n.unsigned_abs() as usize;
        if count.saturating_mul(2) > self.data.len() - self.pos {
            return Err(self.error_at(at, MarshalErrorKind::BadLength(n.into())));
        }
        let raw = self.take(count * 2)?;
        let digits: Vec<u16> = raw
            .chunks_exact(2)
            .map(|d| u16::from_le_bytes([d[0], d[1]]))
            .collect();
        if digits.iter().any(|&d| d >> LONG_SHIFT != 0) || digits.last() == Some(&0) {
            return Err(self.error_at(at, MarshalErrorKind::BadLong));
        }
        let mut magnitude = num_bigint::BigUint::default();
        for &d in digits.iter().rev() {
            magnitude = (magnitude << LONG_SHIFT) + u32::from(d);
        }
        let sign = if n < 0 { Sign::Minus } else { Sign::Plus };
        Ok(Int::from_big(BigInt::from_biguint(sign, magnitude)))
    }

    /// A float in the old text form: one length byte, then `repr` text.
    fn text_float(&mut self) -> Result<f64> {
        let n = usize::from(self.byte()?);
        let at = self.pos;
        let text = self.take(n)?;
        std::str::from_utf8(text)
            .ok()
            .and_then(parse_python_float)
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::BadFloat))
    }

    fn code(&mut self, start: usize) -> Result<CodeObject> {
        let mut counts = [0u32; 5];
        let names = [
            "co_argcount",
            "co_posonlyargcount",
            "co_kwonlyargcount",
            "co_stacksize",
            "co_flags",
        ];
        for (count, name) in counts.iter_mut().zip(names) {
            let at = self.pos;
            *count = u32::try_from(self.i32()?)
                .map_err(|_| self.error_at(at, MarshalErrorKind::CodeField(name)))?;
        }
        let [argcount, posonlyargcount, kwonlyargcount, stacksize, flags] = counts;
        let code = self.bytes_field("co_code")?;
        let consts = self.tuple_field("co_consts")?;
        let names = self.str_tuple_field("co_names")?;
        let localsplusnames = self.str_tuple_field("co_localsplusnames")?;
        let localspluskinds = self.bytes_field("co_localspluskinds")?;
        let filename = self.str_field("co_filename")?;
        let name = self.str_field("co_name")?;
        let qualname = self.str_field("co_qualname")?;
        let firstlineno = self.i32()?;
        let linetable = self.bytes_field("co_linetable")?;
        let exceptiontable = self.bytes_field("co_exceptiontable")?;
        let code = CodeObject {
            argcount,
            posonlyargcount,
            kwonlyargcount,
            stacksize,
            flags,
            code,
            consts,
            names,
            localsplusnames,
            localspluskinds,
            filename,
            name,
            qualname,
            firstlineno,
            linetable,
            exceptiontable,
        };
        code.validate()
            .map_err(|e| self.error_at(start, e.into()))?;
        Ok(code)
    }

    fn field(&mut self, what: &'static str) -> Result<(usize, Object)> {
        let at = self.pos;
        Ok((at, self.required(what)?))
    }

    fn bytes_field(&mut self, what: &'static str) -> Result<Bytes> {
        match self.field(what)? {
            (_, Object::Bytes(b)) => Ok(b),
            (at, _) => Err(self.error_at(at, MarshalErrorKind::CodeField(what))),
        }
    }

    fn str_field(&mut self, what: &'static str) -> Result<Str> {
        match self.field(what)? {
            (_, Object::Str(s)) => Ok(s),
            (at, _) => Err(self.error_at(at, MarshalErrorKind::CodeField(what))),
        }
    }

    fn tuple_field(&mut self, what: &'static str) -> Result<Arc<[Object]>> {
        match self.field(what)? {
            (_, Object::Tuple(t)) => Ok(t),
            (at, _) => Err(self.error_at(at, MarshalErrorKind::CodeField(what))),
        }
    }

    fn str_tuple_field(&mut self, what: &'static str) -> Result<Arc<[Str]>> {
        let (at, tuple) = self.field(what)?;
        let Object::Tuple(items) = tuple else {
            return Err(self.error_at(at, MarshalErrorKind::CodeField(what)));
        };
        let key = Arc::as_ptr(&items) as *const () as usize;
        if let Some((_, strs)) = self.str_tuples.get(&key) {
            return Ok(strs.clone());
        }
        let strs: Arc<[Str]> = items
            .iter()
            .map(|item| match item {
                Object::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect::<Option<Vec<Str>>>()
            .ok_or_else(|| self.error_at(at, MarshalErrorKind::CodeField(what)))?
            .into();
        self.str_tuples.insert(key, (items, strs.clone()));
        Ok(strs)
    }
}

/// Parses the text of a Python float `repr` (as the old text marshal format stores it).
pub(super) fn parse_python_float(text: &str) -> Option<f64> {
    match text {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ if text
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') =>
        {
            None
        }
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marshal::dumps;

    fn hex(text: &str) -> Bytes {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
            .into()
    }

    fn code_consts(obj: &Object) -> Vec<Arc<CodeObject>> {
        let Object::Code(module) = obj else {
            panic!("not code")
        };
        module
            .consts
            .iter()
            .filter_map(|c| match c {
                Object::Code(code) => Some(code.clone()),
                _ => None,
            })
            .collect()
    }

    /// Regression: a name tuple the data shares through `REF` must stay one shared tuple, or
    /// the writer can no longer share it. Bytes from CPython 3.12.1:
    /// `marshal.dumps(compile('def f(a): pass\ndef g(a): pass\n', 'm', 'exec'))`, where `g`'s
    /// `co_localsplusnames` is a `REF` to `f`'s.
    #[test]
    fn shared_name_tuples_stay_shared() {
        let data = hex(concat!(
            "e30000000000000000000000000100000000000000f3100000009700640084005a006401",
            "84005a0179022903630100000000000000000000000000000003000000f3040000009700",
            "7900a9014ea900a901da0161730100000020da016dda0166720800000001000000f30200",
            "00008100f300000000630100000000000000000000000000000003000000f30400000097",
            "0079007203000000720400000072050000007301000000207207000000da0167720c0000",
            "00020000007209000000720a0000004e29027208000000720c0000007204000000720a00",
            "00007207000000fa083c6d6f64756c653e720d00000001000000730b000000f003010101",
            "da000edb000e720a000000",
        ));
        let obj = loads(data).unwrap();
        let [f, g] = <[_; 2]>::try_from(code_consts(&obj)).unwrap();
        assert!(Arc::ptr_eq(&f.localsplusnames, &g.localsplusnames));
        let again = loads(dumps(&obj).unwrap().into()).unwrap();
        let [f2, g2] = <[_; 2]>::try_from(code_consts(&again)).unwrap();
        assert!(Arc::ptr_eq(&f2.localsplusnames, &g2.localsplusnames));
        assert_eq!(again, obj);
    }
}
