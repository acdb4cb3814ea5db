//! The exception table (`co_exceptiontable`): for each range of code units covered by one
//! handler, its start, length, handler offset and stack depth (with the `lasti` bit), as
//! big-endian 6-bit varints whose first byte of an entry carries bit 7.

/// The handler of a range of instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Handler {
    /// Offset of the handler in code units.
    pub offset: u32,
    /// Stack depth on entry to the handler (the exception included).
    pub startdepth: i32,
    /// Whether the handler also receives the offset of the raising instruction.
    pub preserve_lasti: bool,
}

/// Builds the exception table from the handler of each run of code units, in layout order.
#[derive(Default)]
pub(crate) struct ExceptionTable {
    out: Vec<u8>,
    /// Where the current range starts, and its handler.
    start: u32,
    current: Option<Handler>,
}

impl ExceptionTable {
    /// The code units from `offset` on are covered by `handler` (until the next call).
    pub fn set(&mut self, offset: u32, handler: Option<Handler>) {
        if handler.map(|h| h.offset) != self.current.map(|h| h.offset) {
            if let Some(h) = self.current {
                entry(&mut self.out, self.start, offset, h);
            }
            self.start = offset;
            self.current = handler;
        }
    }

    /// The table, for code `end` code units long.
    pub fn finish(mut self, end: u32) -> Vec<u8> {
        if let Some(h) = self.current {
            entry(&mut self.out, self.start, end, h);
        }
        self.out
    }
}

fn entry(out: &mut Vec<u8>, start: u32, end: u32, handler: Handler) {
    // The depth below the exception (and below `lasti` when the handler gets it).
    let depth = handler
        .startdepth
        .saturating_sub(1 + i32::from(handler.preserve_lasti))
        .max(0) as u32;
    let depth_lasti = (depth << 1) | u32::from(handler.preserve_lasti);
    varint(out, start, 0x80);
    varint(out, end - start, 0);
    varint(out, handler.offset, 0);
    varint(out, depth_lasti, 0);
}

fn varint(out: &mut Vec<u8>, value: u32, mut msb: u8) {
    const CONTINUATION: u8 = 0x40;
    for shift in [24, 18, 12, 6] {
        if value >= 1 << shift {
            out.push(((value >> shift) & 0x3F) as u8 | CONTINUATION | msb);
            msb = 0;
        }
    }
    out.push((value & 0x3F) as u8 | msb);
}
