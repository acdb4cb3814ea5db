//! `\N{...}` names: the Unicode character names, name aliases and algorithmic names CPython's
//! `unicodedata` accepts, case-insensitively.
//!
//! The names come from `unicode_names2` (ruff's choice too: complete tables with aliases and
//! the algorithmic CJK and Hangul names, no runtime dependencies); it follows a newer Unicode
//! than CPython 3.12, so characters unnamed in CPython's version are refused.

use super::unicode_named::NAMED;

/// The character named `name`, if CPython 3.12 knows that name.
pub(super) fn lookup(name: &str) -> Option<char> {
    let c = unicode_names2::character(name)?;
    let cp = u32::from(c);
    let at = NAMED.partition_point(|&(_, end)| end < cp);
    NAMED
        .get(at)
        .is_some_and(|&(start, _)| start <= cp)
        .then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(lookup("BULLET"), Some('\u{2022}'));
        assert_eq!(lookup("latin small letter a"), Some('a'));
        assert_eq!(lookup("LATIN CAPITAL LETTER GHA"), Some('\u{1A2}'));
        assert_eq!(lookup("CJK UNIFIED IDEOGRAPH-4E00"), Some('\u{4E00}'));
        assert_eq!(lookup("HANGUL SYLLABLE GA"), Some('\u{AC00}'));
        assert_eq!(lookup("NO SUCH NAME"), None);
        // Unicode 15.1 (CJK Extension I): unknown to CPython 3.12.
        assert_eq!(lookup("CJK UNIFIED IDEOGRAPH-2EBF0"), None);
    }
}
