//! Target interpreter versions as values: everything that differs between CPython releases for
//! the pyc format (magic number, cache tag, opcode table, code-object layout, repr tables).

use std::fmt;
use std::str::FromStr;

use crate::opcode::OpcodeTable;
use crate::opcodes;

/// A CPython release whose pycs we read and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// CPython 3.11.
    V3_11,
    /// CPython 3.12 (the default).
    V3_12,
    /// CPython 3.13.
    V3_13,
}

/// The marshalled field order of code objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeLayout {
    /// 3.11 to 3.13: argcount, posonlyargcount, kwonlyargcount, stacksize, flags, code, consts,
    /// names, localsplusnames, localspluskinds, filename, name, qualname, firstlineno, linetable,
    /// exceptiontable.
    LocalsPlus,
}

impl Target {
    /// Every supported target, oldest first.
    pub const ALL: [Target; 3] = [Target::V3_11, Target::V3_12, Target::V3_13];

    /// The target used when none is given.
    pub const DEFAULT: Target = Target::V3_12;

    /// `(major, minor)`.
    pub fn version(self) -> (u8, u8) {
        match self {
            Target::V3_11 => (3, 11),
            Target::V3_12 => (3, 12),
            Target::V3_13 => (3, 13),
        }
    }

    /// The magic number (`importlib.util.MAGIC_NUMBER` as a little-endian u16).
    pub fn magic(self) -> u16 {
        match self {
            Target::V3_11 => 3495,
            Target::V3_12 => 3531,
            Target::V3_13 => 3571,
        }
    }

    /// The four bytes a pyc of this target starts with.
    pub fn magic_bytes(self) -> [u8; 4] {
        let [lo, hi] = self.magic().to_le_bytes();
        [lo, hi, b'\r', b'\n']
    }

    /// The target whose pycs start with these four bytes.
    pub fn from_magic_bytes(bytes: [u8; 4]) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.magic_bytes() == bytes)
    }

    /// `sys.implementation.cache_tag`, e.g. `cpython-312`.
    pub fn cache_tag(self) -> &'static str {
        match self {
            Target::V3_11 => "cpython-311",
            Target::V3_12 => "cpython-312",
            Target::V3_13 => "cpython-313",
        }
    }

    /// The code-object layout of this target's marshal format.
    pub fn code_layout(self) -> CodeLayout {
        CodeLayout::LocalsPlus
    }

    /// The opcode table.
    pub fn opcodes(self) -> &'static OpcodeTable {
        match self {
            Target::V3_11 => &opcodes::v311::OPCODES,
            Target::V3_12 => &opcodes::v312::OPCODES,
            Target::V3_13 => &opcodes::v313::OPCODES,
        }
    }

    /// Inclusive code-point ranges that this version's `repr` escapes (its Unicode database).
    pub fn nonprintable(self) -> &'static [(u32, u32)] {
        match self {
            Target::V3_11 => opcodes::v311::NONPRINTABLE,
            Target::V3_12 => opcodes::v312::NONPRINTABLE,
            Target::V3_13 => opcodes::v313::NONPRINTABLE,
        }
    }

    /// Whether `str.isprintable()` holds for this code point in this version.
    pub fn is_printable(self, cp: u32) -> bool {
        !in_ranges(self.nonprintable(), cp)
    }

    /// Whether `str.isdecimal()` holds for this code point in this version.
    pub fn is_decimal(self, cp: u32) -> bool {
        let table = match self {
            Target::V3_11 => opcodes::v311::DECIMAL,
            Target::V3_12 => opcodes::v312::DECIMAL,
            Target::V3_13 => opcodes::v313::DECIMAL,
        };
        in_ranges(table, cp)
    }

    /// Whether `str.isdigit()` holds for this code point in this version.
    pub fn is_digit(self, cp: u32) -> bool {
        let table = match self {
            Target::V3_11 => opcodes::v311::DIGIT,
            Target::V3_12 => opcodes::v312::DIGIT,
            Target::V3_13 => opcodes::v313::DIGIT,
        };
        in_ranges(table, cp)
    }

    /// Whether `str.isnumeric()` holds for this code point in this version.
    pub fn is_numeric(self, cp: u32) -> bool {
        let table = match self {
            Target::V3_11 => opcodes::v311::NUMERIC,
            Target::V3_12 => opcodes::v312::NUMERIC,
            Target::V3_13 => opcodes::v313::NUMERIC,
        };
        in_ranges(table, cp)
    }
}

/// Whether `cp` is in one of the sorted, disjoint, inclusive `ranges`.
fn in_ranges(ranges: &[(u32, u32)], cp: u32) -> bool {
    let i = ranges.partition_point(|&(_, hi)| hi < cp);
    i < ranges.len() && ranges[i].0 <= cp
}

impl Default for Target {
    fn default() -> Self {
        Target::DEFAULT
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor) = self.version();
        write!(f, "{major}.{minor}")
    }
}

/// Error for a version string that names no supported target.
#[derive(Debug, thiserror::Error)]
#[error("unsupported target '{0}' (supported: 3.11, 3.12, 3.13)")]
pub struct UnknownTarget(pub String);

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.to_string() == s || t.cache_tag() == s)
            .ok_or_else(|| UnknownTarget(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_round_trip() {
        assert_eq!(Target::V3_12.magic_bytes(), [0xcb, 0x0d, 0x0d, 0x0a]);
        for t in Target::ALL {
            assert_eq!(Target::from_magic_bytes(t.magic_bytes()), Some(t));
            assert_eq!(t.to_string().parse::<Target>().unwrap(), t);
        }
        assert!("3.10".parse::<Target>().is_err());
    }

    #[test]
    fn printable() {
        let t = Target::V3_12;
        assert!(t.is_printable('a' as u32));
        assert!(t.is_printable(' ' as u32));
        assert!(!t.is_printable('\n' as u32));
        assert!(!t.is_printable(0xa0));
        assert!(t.is_printable(0xe9));
        assert!(!t.is_printable(0x10FFFF));
    }
}
