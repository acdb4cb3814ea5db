//! The CPython `.pyc` format as a library: targets, the PEP 552 header, source hashes, PEP 3147
//! cache paths, marshal, code objects, validated loading, tree audits and the disassembler.

pub mod audit;
pub mod cache_path;
pub mod code;
pub mod code_diff;
pub mod dis;
pub mod exception_table;
pub mod header;
pub mod linetable;
pub mod load;
pub mod marshal;
pub mod opcode;
mod opcodes;
pub mod open_dir;
pub mod pyhash;
pub mod repr;
pub mod source_hash;
pub mod target;

pub use cache_path::{cache_from_source, source_from_cache, OptLevel};
pub use code::CodeObject;
pub use header::{Header, HeaderError, Invalidation, InvalidationMode, HEADER_LEN};
pub use marshal::{Object, Str};
pub use source_hash::source_hash;
pub use target::Target;
