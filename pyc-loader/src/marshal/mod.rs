//! Marshal format version 4 (CPython 3.4+): reader and deterministic writer.

mod object;
mod read;
mod validate;
mod write;

pub use object::{Int, Object, Str};
pub use read::{loads, MarshalError, MarshalErrorKind, MAX_DEPTH};
pub use validate::{validate, Shape};
pub use write::{dumps, dumps_compiled, TooDeep};

/// Type codes; a code or'ed with [`FLAG_REF`] asks the reader to remember the object.
pub(crate) mod type_code {
    pub const NULL: u8 = b'0';
    pub const NONE: u8 = b'N';
    pub const FALSE: u8 = b'F';
    pub const TRUE: u8 = b'T';
    pub const STOPITER: u8 = b'S';
    pub const ELLIPSIS: u8 = b'.';
    pub const INT: u8 = b'i';
    pub const INT64: u8 = b'I';
    pub const FLOAT: u8 = b'f';
    pub const BINARY_FLOAT: u8 = b'g';
    pub const COMPLEX: u8 = b'x';
    pub const BINARY_COMPLEX: u8 = b'y';
    pub const LONG: u8 = b'l';
    pub const STRING: u8 = b's';
    pub const INTERNED: u8 = b't';
    pub const REF: u8 = b'r';
    pub const TUPLE: u8 = b'(';
    pub const LIST: u8 = b'[';
    pub const DICT: u8 = b'{';
    pub const CODE: u8 = b'c';
    pub const UNICODE: u8 = b'u';
    pub const SET: u8 = b'<';
    pub const FROZENSET: u8 = b'>';
    pub const ASCII: u8 = b'a';
    pub const ASCII_INTERNED: u8 = b'A';
    pub const SMALL_TUPLE: u8 = b')';
    pub const SHORT_ASCII: u8 = b'z';
    pub const SHORT_ASCII_INTERNED: u8 = b'Z';
}

/// Marks an object that later `REF` records may point to.
pub(crate) const FLAG_REF: u8 = 0x80;

/// Digits of marshalled longs are base 2**15.
pub(crate) const LONG_SHIFT: u32 = 15;

/// Nesting at which the reader and writer continue on a thread of their own with a stack
/// big enough for the remaining levels up to [`MAX_DEPTH`]. Real pycs nest a few dozen levels
/// and never get there; hostile data may nest up to the limit, which at a few kilobytes of
/// stack per level (debug builds) would overflow a caller's 2 MiB thread.
const DEEP: usize = 64;

/// Stack of the thread that runs the levels past [`DEEP`]: room for every remaining level at
/// 16 KiB each (only the pages used are committed).
const DEEP_STACK: usize = (MAX_DEPTH - DEEP) * 16 * 1024;

/// Runs `f` on a scoped thread with a [`DEEP_STACK`] stack, passing its panics on.
fn on_deep_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("marshal-deep".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, f)
            .expect("cannot start a thread for deeply nested marshal data")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A marshalled 32-bit length, if it is non-negative and `n` items of at least `min_size`
/// bytes fit in the `left` bytes that remain (so no allocation exceeds the input).
fn checked_length(n: i32, min_size: usize, left: usize) -> Option<usize> {
    usize::try_from(n)
        .ok()
        .filter(|n| n.saturating_mul(min_size) <= left)
}
