//! The exception table (`co_exceptiontable`) of CPython 3.11+: which handler catches an
//! exception raised at a given instruction.
//!
//! The table is a sequence of entries of four varints each: start, length and target (all in
//! code units), then `depth << 1 | lasti`. A varint holds 6 bits per byte, most significant
//! first, bit 6 meaning "more follows"; bit 7 marks the first byte of an entry. Entries are
//! sorted by start and do not overlap.

/// One handler range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExceptionEntry {
    /// First byte offset covered.
    pub start: u64,
    /// Byte offset after the covered range.
    pub end: u64,
    /// Byte offset of the handler.
    pub target: u64,
    /// Stack depth to unwind to before pushing the exception.
    pub depth: u64,
    /// Whether the offset of the raising instruction is pushed too.
    pub lasti: bool,
}

/// Why an exception table cannot be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExceptionTableError {
    /// A varint does not fit in 64 bits.
    #[error("exception table varint overflows at byte {0}")]
    Overflow(usize),
}

/// Reads a varint; `Ok(None)` at the end of the table.
fn varint(table: &[u8], at: &mut usize) -> Result<Option<u64>, ExceptionTableError> {
    let Some(&first) = table.get(*at) else {
        return Ok(None);
    };
    *at += 1;
    let mut b = first;
    let mut val = u64::from(b & 63);
    while b & 64 != 0 {
        let Some(&next) = table.get(*at) else {
            return Ok(None);
        };
        if val >> 58 != 0 {
            return Err(ExceptionTableError::Overflow(*at));
        }
        *at += 1;
        b = next;
        val = (val << 6) | u64::from(b & 63);
    }
    Ok(Some(val))
}

/// Decodes every complete entry, as `dis` does (a truncated last entry is dropped).
pub fn parse(table: &[u8]) -> Result<Vec<ExceptionEntry>, ExceptionTableError> {
    let mut at = 0;
    let mut out = Vec::new();
    let overflow = |at| ExceptionTableError::Overflow(at);
    loop {
        let mut fields = [0u64; 4];
        for field in &mut fields {
            match varint(table, &mut at)? {
                Some(v) => *field = v,
                None => return Ok(out),
            }
        }
        let [start, length, target, depth_lasti] = fields;
        let start = start.checked_mul(2).ok_or(overflow(at))?;
        let length = length.checked_mul(2).ok_or(overflow(at))?;
        out.push(ExceptionEntry {
            start,
            end: start.checked_add(length).ok_or(overflow(at))?,
            target: target.checked_mul(2).ok_or(overflow(at))?,
            depth: depth_lasti >> 1,
            lasti: depth_lasti & 1 != 0,
        });
    }
}

/// The entry that handles an exception raised at byte `offset`, if any.
pub fn handler_for(entries: &[ExceptionEntry], offset: u64) -> Option<&ExceptionEntry> {
    let i = entries.partition_point(|e| e.end <= offset);
    entries.get(i).filter(|e| e.start <= offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        // start 2, length 3, target 10, depth 1 lasti; then start 70 (two-byte varint).
        let table = [0x82, 3, 10, 3, 0x80 | 0x40 | 1, 6, 2, 20, 0];
        let entries = parse(&table).unwrap();
        assert_eq!(
            entries[0],
            ExceptionEntry {
                start: 4,
                end: 10,
                target: 20,
                depth: 1,
                lasti: true
            }
        );
        assert_eq!(entries[1].start, 140);
        assert_eq!(entries[1].end, 144);
        assert_eq!(handler_for(&entries, 8).map(|e| e.target), Some(20));
        assert_eq!(handler_for(&entries, 10), None);
        assert_eq!(handler_for(&entries, 142).map(|e| e.target), Some(40));
    }

    #[test]
    fn truncated_and_overflowing() {
        assert_eq!(parse(&[0x82, 3, 10]).unwrap(), vec![]);
        assert!(parse(&[0x7F; 20]).is_err());
    }
}
