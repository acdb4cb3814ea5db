//! `\N{...}` names: the Unicode character names, name aliases and algorithmic names CPython's
//! `unicodedata` accepts, case-insensitively.

/// The character named `name`, if any.
pub(super) fn lookup(name: &str) -> Option<char> {
    unicode_names2::character(name)
}
