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
    #[inline]
    pub fn position(&self, offset: TextSize) -> (u32, u32) {
        let offset = offset.to_u32();
        let recent = self.recent.get();
        let start = self.starts[recent];
        if start <= offset && offset < self.starts[recent + 1] {
            return (recent as u32 + 1, offset - start);
        }
        self.search(offset)
    }

    /// [`LineIndex::position`] away from the line found last: the next line, or a search.
    fn search(&self, offset: u32) -> (u32, u32) {
        let recent = self.recent.get();
        let line = if self.starts[recent + 1] <= offset && offset < self.starts[recent + 2] {
            recent + 1
        } else {
            self.starts.partition_point(|&start| start <= offset) - 1
        };
        self.recent.set(line);
        (line as u32 + 1, offset - self.starts[line])
    }

    /// The offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> TextSize {
        let index = (line as usize).clamp(1, self.starts.len() - 1) - 1;
        TextSize::new(self.starts[index])
    }

    /// The CPython location of a range.
    pub fn loc(&self, range: TextRange) -> Loc {
        let (lineno, col) = self.position(range.start());
        let (end_lineno, end_col) = self.position(range.end());
        Loc {
            lineno,
            col,
            end_lineno,
            end_col,
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
    }
}
