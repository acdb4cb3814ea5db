//! The location table (`co_linetable`) in the format of CPython 3.11+: entries covering up to
//! 8 code units, each with the shortest form that encodes the location.

use crate::ir::Location;

/// Entry kinds (the 4-bit code of the first byte).
const CODE_SHORT_MAX: u8 = 9;
const CODE_ONE_LINE: u8 = 10;
const CODE_NO_COLUMN: u8 = 13;
const CODE_LONG: u8 = 14;
const CODE_NONE: u8 = 15;

/// Builds a location table, starting from the code unit's first line.
pub(crate) struct LineTable {
    bytes: Vec<u8>,
    lineno: i32,
}

impl LineTable {
    /// A table for about `ninstrs` instructions (room reserved for as many short entries).
    pub fn new(firstlineno: i32, ninstrs: usize) -> LineTable {
        LineTable {
            bytes: Vec::with_capacity(2 * ninstrs),
            lineno: firstlineno,
        }
    }

    /// Records that the next `size` code units (at least one) have location `loc`.
    #[inline]
    pub fn emit(&mut self, loc: Location, mut size: u32) {
        match self.short_form(loc) {
            // Short entries leave the line as it is: every chunk is short.
            Some(form) => {
                while size > 8 {
                    self.short_entry(form, 8);
                    size -= 8;
                }
                self.short_entry(form, size);
            }
            None => self.emit_other(loc, size),
        }
    }

    /// [`LineTable::emit`] for a location the short form cannot encode on the current line.
    fn emit_other(&mut self, loc: Location, mut size: u32) {
        while size > 8 {
            self.entry(loc, 8);
            size -= 8;
        }
        self.entry(loc, size);
    }

    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }

    fn varint(&mut self, mut value: u32) {
        while value >= 64 {
            self.bytes.push(0x40 | (value & 0x3F) as u8);
            value >>= 6;
        }
        self.bytes.push(value as u8);
    }

    fn signed_varint(&mut self, value: i32) {
        let zigzag = if value < 0 {
            (value.unsigned_abs() << 1) | 1
        } else {
            (value as u32) << 1
        };
        self.varint(zigzag);
    }

    /// The short form of `loc` (same line as the previous entry, column below 80, at most
    /// 15 columns wide) without its size, if it has one: see [`LineTable::short_entry`].
    #[inline]
    fn short_form(&self, loc: Location) -> Option<[u8; 2]> {
        let column = loc.col_offset as u32;
        let width = loc.end_col_offset.wrapping_sub(loc.col_offset) as u32;
        (loc.lineno == self.lineno
            && loc.end_lineno == loc.lineno
            && loc.lineno >= 0
            && column < 80
            && width < 16)
            .then(|| {
                let code = (column / 8) as u8;
                debug_assert!(code <= CODE_SHORT_MAX);
                [
                    0x80 | (code << 3),
                    (((column % 8) as u8) << 4) | width as u8,
                ]
            })
    }

    /// Appends a short entry of `size` code units (1 to 8) from the form
    /// [`LineTable::short_form`] gave.
    #[inline]
    fn short_entry(&mut self, [first, columns]: [u8; 2], size: u32) {
        self.bytes
            .extend_from_slice(&[first | (size as u8 - 1), columns]);
    }

    /// Appends one entry in the shortest form that encodes `loc`.
    fn entry(&mut self, loc: Location, size: u32) {
        match self.short_form(loc) {
            Some(form) => self.short_entry(form, size),
            None => self.long_entry(loc, size),
        }
    }

    /// Appends an entry in any form but the short one (which [`LineTable::entry`] chose
    /// not to use).
    fn long_entry(&mut self, loc: Location, size: u32) {
        let first_byte = |code: u8| 0x80 | (code << 3) | (size as u8 - 1);
        if loc.lineno < 0 {
            self.bytes.push(first_byte(CODE_NONE));
            return;
        }
        let line_delta = loc.lineno - self.lineno;
        let column = loc.col_offset;
        let end_column = loc.end_col_offset;
        if column < 0 || end_column < 0 {
            if loc.end_lineno == loc.lineno || loc.end_lineno == -1 {
                self.bytes.push(first_byte(CODE_NO_COLUMN));
                self.signed_varint(line_delta);
                self.lineno = loc.lineno;
                return;
            }
        } else if loc.end_lineno == loc.lineno
            && (0..3).contains(&line_delta)
            && column < 128
            && end_column < 128
        {
            self.bytes.extend_from_slice(&[
                first_byte(CODE_ONE_LINE + line_delta as u8),
                column as u8,
                end_column as u8,
            ]);
            self.lineno = loc.lineno;
            return;
        }
        self.bytes.push(first_byte(CODE_LONG));
        self.signed_varint(line_delta);
        self.varint((loc.end_lineno - loc.lineno) as u32);
        self.varint((column + 1) as u32);
        self.varint((end_column + 1) as u32);
        self.lineno = loc.lineno;
    }
}
