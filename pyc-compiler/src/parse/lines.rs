//! Byte offsets to CPython's (1-based line, 0-based UTF-8 byte column) positions.

use ruff_text_size::{TextRange, TextSize};

use crate::ast::Loc;

/// The start offset of every line of a text whose line ends are all `\n`.
#[derive(Clone, Debug)]
pub(super) struct LineIndex {
    /// Line starts, then `u32::MAX`: every line `i` ends before `starts[i + 1]`.
    starts: Vec<u32>,
    /// The line found last: nodes are mostly looked up in source order.
    recent: std::cell::Cell<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = Vec::with_capacity(text.len() / 32 + 2);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        starts.push(u32::MAX);
        LineIndex {
            starts,
            recent: std::cell::Cell::new(0),
        }
    }

    /// The 1-based line and 0-based byte column of an offset.
    pub fn position(&self, offset: TextSize) -> (u32, u32) {
        let offset = offset.to_u32();
        let (line, start) = self.line(offset);
        (line as u32 + 1, offset - start)
    }

    /// The 0-based line holding an offset, and where that line starts.
    #[inline]
    fn line(&self, offset: u32) -> (usize, u32) {
        let recent = self.recent.get();
        let start = self.starts[recent];
        if start <= offset && offset < self.starts[recent + 1] {
            return (recent, start);
        }
        let line = self.line_near(recent, offset);
        self.recent.set(line);
        (line, self.starts[line])
    }

    /// The line holding `offset`, searched outward from line `from` with doubling steps, then
    /// by bisection: offsets looked up are mostly a few lines away from the one before.
    fn line_near(&self, from: usize, offset: u32) -> usize {
        let starts = &self.starts;
        // `lo` starts at or before `offset`, `hi` after it.
        let (mut lo, mut hi) = (from, from + 1);
        let mut step = 1;
        if starts[from] <= offset {
            // The sentinel ends this.
            while starts[hi] <= offset {
                lo = hi;
                hi = (hi + step).min(starts.len() - 1);
                step *= 2;
            }
        } else {
            hi = from;
            lo = from - 1;
            // Line 1 starts at 0: this ends.
            while starts[lo] > offset {
                hi = lo;
                lo = lo.saturating_sub(step);
                step *= 2;
            }
        }
        lo + starts[lo + 1..hi].partition_point(|&start| start <= offset)
    }

    /// The offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> TextSize {
        let index = (line as usize).clamp(1, self.starts.len() - 1) - 1;
        TextSize::new(self.starts[index])
    }

    /// The CPython location of a range: inlined for a range on the line found last (most
    /// are), without saving registers for the search.
    #[inline]
    pub fn loc(&self, range: TextRange) -> Loc {
        let (start, end) = (range.start().to_u32(), range.end().to_u32());
        let recent = self.recent.get();
        if let [line_start, next, ..] = self.starts[recent..] {
            if line_start <= start && end < next {
                let lineno = recent as u32 + 1;
                return Loc {
                    lineno,
                    col: start - line_start,
                    end_lineno: lineno,
                    end_col: end - line_start,
                };
            }
        }
        self.loc_away(start, end)
    }

    /// [`LineIndex::loc`] of a range not on the line found last. Its end is looked up from its
    /// start's line and not remembered: the next node looked up usually starts before this
    /// one's end (the conversion places nodes before their children).
    #[inline(never)]
    fn loc_away(&self, start: u32, end: u32) -> Loc {
        let (line, line_start) = self.line(start);
        let (end_line, end_line_start) = if end < self.starts[line + 1] {
            (line, line_start)
        } else {
            let end_line = self.line_near(line, end);
            (end_line, self.starts[end_line])
        };
        Loc {
            lineno: line as u32 + 1,
            col: start - line_start,
            end_lineno: end_line as u32 + 1,
            end_col: end - end_line_start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let index = LineIndex::new("ab\nc\n\nd");
        assert_eq!(index.position(TextSize::new(0)), (1, 0));
        assert_eq!(index.position(TextSize::new(2)), (1, 2));
        assert_eq!(index.position(TextSize::new(3)), (2, 0));
        assert_eq!(index.position(TextSize::new(6)), (4, 0));
        assert_eq!(index.line_start(3), TextSize::new(5));
        let loc = |start, end| index.loc(TextRange::new(TextSize::new(start), TextSize::new(end)));
        let at = |lineno, col, end_lineno, end_col| Loc {
            lineno,
            col,
            end_lineno,
            end_col,
        };
        assert_eq!(loc(0, 2), at(1, 0, 1, 2));
        assert_eq!(loc(1, 3), at(1, 1, 2, 0));
        assert_eq!(loc(3, 7), at(2, 0, 4, 1));
        assert_eq!(loc(6, 6), at(4, 0, 4, 0));
        // Searched backward, and far away.
        assert_eq!(loc(0, 1), at(1, 0, 1, 1));
        let many = LineIndex::new(&"x\n".repeat(1000));
        assert_eq!(many.position(TextSize::new(1998)), (1000, 0));
        assert_eq!(many.position(TextSize::new(3)), (2, 1));
        assert_eq!(many.position(TextSize::new(1001)), (501, 1));
        assert_eq!(many.position(TextSize::new(2000)), (1001, 0));
    }
}
