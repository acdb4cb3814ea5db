//! The location table (`co_linetable`, PEP 626 line numbers and PEP 657 column positions) of
//! CPython 3.11+: decoding into per-instruction source positions and line ranges.
//!
//! The table is a sequence of entries. An entry starts with a byte whose top bit is set; bits
//! 3–6 hold the entry's kind and bits 0–2 the number of code units it covers minus one. The kind
//! selects what follows:
//!
//! | kind | meaning | payload |
//! |---|---|---|
//! | 0–9 | same line, short columns | one byte: column low bits, end-column delta |
//! | 10–12 | line delta `kind - 10`, one line | column byte, end-column byte |
//! | 13 | no columns | signed varint line delta |
//! | 14 | long form | signed line delta, end-line delta, column + 1, end column + 1 |
//! | 15 | no location | nothing |
//!
//! Varints hold 6 bits per byte, least significant first, bit 6 meaning "more follows"; a signed
//! varint keeps its sign in the lowest bit. Decoding follows CPython (`Objects/codeobject.c`)
//! including its behaviour on malformed tables, except that reading never goes past the end.

/// Where one code unit (an instruction or one of its caches) came from in the source.
///
/// Each field is `None` where CPython's `co_positions()` yields `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// First line.
    pub line: Option<i32>,
    /// Last line.
    pub end_line: Option<i32>,
    /// Column of the first character (0-based, in UTF-8 bytes).
    pub col: Option<i32>,
    /// Column after the last character.
    pub end_col: Option<i32>,
}

/// A run of bytecode attributed to one line, as `co_lines()` yields it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineRange {
    /// First byte offset.
    pub start: u32,
    /// Byte offset after the range.
    pub end: u32,
    /// The line, or `None` for code with no line (artificial instructions).
    pub line: Option<i32>,
}

const KIND_NONE: u8 = 15;
const KIND_LONG: u8 = 14;
const KIND_NO_COLUMNS: u8 = 13;
const KIND_ONE_LINE0: u8 = 10;

/// CPython converts -1 to `None` when it reports positions.
fn opt(v: i32) -> Option<i32> {
    (v != -1).then_some(v)
}

/// One decoded entry.
struct Entry {
    /// Code units covered.
    units: u32,
    /// The entry's (absolute) line, -1 if none.
    line: i32,
    end_line: i32,
    col: i32,
    end_col: i32,
}

/// Walks the entries of a location table.
struct Reader<'a> {
    table: &'a [u8],
    at: usize,
    /// The running line number (`computed_line` in CPython).
    line: i32,
    /// After an entry, skip to the next byte with its top bit set (what `co_lines()` does);
    /// `co_positions()` instead continues right after the payload.
    resync: bool,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.table.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn varint(&mut self) -> u32 {
        let mut b = self.byte();
        let mut val = u32::from(b & 63);
        let mut shift = 0u32;
        while b & 64 != 0 && self.at < self.table.len() {
            b = self.byte();
            shift += 6;
            val |= u32::from(b & 63).checked_shl(shift).unwrap_or(0);
        }
        val
    }

    fn svarint(&mut self) -> i32 {
        let uval = self.varint();
        if uval & 1 != 0 {
            -((uval >> 1) as i32)
        } else {
            (uval >> 1) as i32
        }
    }

    /// Decodes the next entry with its positions, as `co_positions()` does.
    fn next_entry(&mut self) -> Option<Entry> {
        let first = *self.table.get(self.at)?;
        let start = self.at;
        self.at += 1;
        let kind = (first >> 3) & 15;
        let units = u32::from(first & 7) + 1;
        let entry = match kind {
            KIND_NONE => Entry {
                units,
                line: -1,
                end_line: -1,
                col: -1,
                end_col: -1,
            },
            KIND_LONG => {
                self.line = self.line.wrapping_add(self.svarint());
                let end_line = self.line.wrapping_add(self.varint() as i32);
                let col = (self.varint() as i32).wrapping_sub(1);
                let end_col = (self.varint() as i32).wrapping_sub(1);
                Entry {
                    units,
                    line: self.line,
                    end_line,
                    col,
                    end_col,
                }
            }
            KIND_NO_COLUMNS => {
                self.line = self.line.wrapping_add(self.svarint());
                Entry {
                    units,
                    line: self.line,
                    end_line: self.line,
                    col: -1,
                    end_col: -1,
                }
            }
            10..=12 => {
                self.line = self.line.wrapping_add(i32::from(kind - KIND_ONE_LINE0));
                let col = i32::from(self.byte());
                let end_col = i32::from(self.byte());
                Entry {
                    units,
                    line: self.line,
                    end_line: self.line,
                    col,
                    end_col,
                }
            }
            _ => {
                let second = self.byte();
                let col = i32::from(kind) << 3 | i32::from(second >> 4);
                Entry {
                    units,
                    line: self.line,
                    end_line: self.line,
                    col,
                    end_col: col + i32::from(second & 15),
                }
            }
        };
        if self.resync {
            self.at = start + 1;
            while self.at < self.table.len() && self.table[self.at] & 128 == 0 {
                self.at += 1;
            }
        }
        Some(entry)
    }
}

/// Decodes a location table into one [`Position`] per code unit of the bytecode, exactly as
/// `co_positions()` reports them: `code_units` entries, the ones the table does not cover
/// being all `None`.
pub fn positions(linetable: &[u8], firstlineno: i32, code_units: usize) -> Vec<Position> {
    let mut reader = Reader {
        table: linetable,
        at: 0,
        line: firstlineno,
        resync: false,
    };
    let mut out = Vec::with_capacity(code_units);
    while out.len() < code_units {
        let Some(entry) = reader.next_entry() else {
            break;
        };
        let pos = Position {
            line: opt(entry.line),
            end_line: opt(entry.end_line),
            col: opt(entry.col),
            end_col: opt(entry.end_col),
        };
        let n = (entry.units as usize).min(code_units - out.len());
        out.extend(std::iter::repeat_n(pos, n));
    }
    out.resize(code_units, Position::default());
    out
}

/// Decodes a location table into line ranges as `co_lines()` reports them: consecutive entries
/// on the same line are merged, and the ranges cover the whole table (which may describe more
/// or less than the bytecode if the code object is malformed).
pub fn lines(linetable: &[u8], firstlineno: i32) -> Vec<LineRange> {
    let mut reader = Reader {
        table: linetable,
        at: 0,
        line: firstlineno,
        resync: true,
    };
    let mut out: Vec<LineRange> = Vec::new();
    let mut end = 0u32;
    while let Some(entry) = reader.next_entry() {
        let start = end;
        end = end.saturating_add(entry.units * 2);
        let line = opt(entry.line);
        match out.last_mut() {
            Some(last) if last.line == line => last.end = end,
            _ => out.push(LineRange { start, end, line }),
        }
    }
    out
}

/// The byte offsets where a new source line starts, with that line, as `dis.findlinestarts`
/// computes them: the start of every range whose line differs from the previous line seen.
pub fn line_starts(linetable: &[u8], firstlineno: i32) -> Vec<(u32, i32)> {
    let mut last = None;
    let mut out = Vec::new();
    for range in lines(linetable, firstlineno) {
        if let Some(line) = range.line {
            if last != Some(line) {
                last = Some(line);
                out.push((range.start, line));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_kind() {
        // Built by CPython 3.12 for "x = 1\ny = x" compiled at firstlineno 0:
        // RESUME (no col, line 0), then line 1 ops, then line 2 ops.
        let table = [
            0x80 | (13 << 3),
            0, // no columns, delta 0, 1 unit
            0x80 | (11 << 3) | 1,
            4,
            5, // one line, +1, 2 units
            0x80 | (14 << 3),
            2,
            0,
            1,
            2,                    // long: +1, same end, col 0..1
            0x80 | (15 << 3) | 2, // no location, 3 units
        ];
        let pos = positions(&table, 0, 8);
        assert_eq!(pos[0].line, Some(0));
        assert_eq!(pos[0].col, None);
        assert_eq!(
            pos[1],
            Position {
                line: Some(1),
                end_line: Some(1),
                col: Some(4),
                end_col: Some(5)
            }
        );
        assert_eq!(pos[3].line, Some(2));
        assert_eq!(pos[3].end_col, Some(1));
        assert_eq!(pos[4], Position::default());
        assert_eq!(pos[7], Position::default());
        assert_eq!(line_starts(&table, 0), vec![(0, 0), (2, 1), (6, 2)]);
        assert_eq!(lines(&table, 0).last().unwrap().line, None);
    }

    #[test]
    fn malformed_tables_do_not_panic() {
        for table in [&[0xF0u8][..], &[0xF0, 0x7F], &[0x01, 0x02], &[0xA8, 0xFF]] {
            positions(table, 1, 4);
            lines(table, 1);
        }
    }
}
