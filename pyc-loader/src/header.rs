//! The 16-byte pyc header of PEP 552.

use crate::Target;

/// Length of every pyc header since Python 3.7.
pub const HEADER_LEN: usize = 16;

const FLAG_HASH_BASED: u32 = 0b01;
const FLAG_CHECK_SOURCE: u32 = 0b10;

/// How a pyc says it is to be validated against its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// Flags 0: valid while the source's mtime and size (each truncated to 32 bits) match.
    Timestamp {
        /// Source modification time in seconds.
        mtime: u32,
        /// Source size in bytes.
        size: u32,
    },
    /// Flags 1 or 3: valid while the source hashes to `hash` (checked only when `check_source`,
    /// unless the importer is told otherwise).
    Hash {
        /// Flag bit 1: the importer should check the hash.
        check_source: bool,
        /// SipHash-1-3 of the source, see [`crate::source_hash`].
        hash: [u8; 8],
    },
}

/// The three invalidation modes of `py_compile.PycInvalidationMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvalidationMode {
    /// Header holds the source's mtime and size.
    Timestamp,
    /// Header holds the source hash, and importers check it.
    CheckedHash,
    /// Header holds the source hash, and importers trust it.
    UncheckedHash,
}

impl InvalidationMode {
    /// The mode's command-line spelling (`timestamp`, `checked-hash`, `unchecked-hash`).
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidationMode::Timestamp => "timestamp",
            InvalidationMode::CheckedHash => "checked-hash",
            InvalidationMode::UncheckedHash => "unchecked-hash",
        }
    }
}

impl Invalidation {
    /// The mode this header was written in.
    pub fn mode(&self) -> InvalidationMode {
        match self {
            Invalidation::Timestamp { .. } => InvalidationMode::Timestamp,
            Invalidation::Hash {
                check_source: true, ..
            } => InvalidationMode::CheckedHash,
            Invalidation::Hash {
                check_source: false,
                ..
            } => InvalidationMode::UncheckedHash,
        }
    }
}

/// A decoded pyc header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The four magic bytes, whatever target they name.
    pub magic: [u8; 4],
    /// The validation data.
    pub invalidation: Invalidation,
}

/// Why a header could not be decoded, in importlib's order of checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Fewer than 4 bytes: not even a magic number.
    #[error("bad magic number: file is only {0} bytes")]
    NoMagic(usize),
    /// The magic number is not the expected one.
    #[error("bad magic number {found:02x?}, expected {expected:02x?} ({target})")]
    BadMagic {
        /// The bytes found.
        found: [u8; 4],
        /// The bytes of the expected target.
        expected: [u8; 4],
        /// The expected target.
        target: Target,
    },
    /// The magic matched but the header is cut short.
    #[error("truncated header: {0} of 16 bytes")]
    Truncated(usize),
    /// Flag bits other than 0 and 1 are set.
    #[error("invalid flags {0:#x}")]
    BadFlags(u32),
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

impl Header {
    /// A header of the given target.
    pub fn new(target: Target, invalidation: Invalidation) -> Header {
        Header {
            magic: target.magic_bytes(),
            invalidation,
        }
    }

    /// The target named by the magic number, if it is one we know.
    pub fn target(&self) -> Option<Target> {
        Target::from_magic_bytes(self.magic)
    }

    /// Decodes the header at the start of `data` without checking the magic number.
    pub fn parse(data: &[u8]) -> Result<Header, HeaderError> {
        if data.len() < 4 {
            return Err(HeaderError::NoMagic(data.len()));
        }
        if data.len() < HEADER_LEN {
            return Err(HeaderError::Truncated(data.len()));
        }
        let magic = data[..4].try_into().expect("4 bytes");
        let flags = u32_at(data, 4);
        if flags & !(FLAG_HASH_BASED | FLAG_CHECK_SOURCE) != 0 {
            return Err(HeaderError::BadFlags(flags));
        }
        let invalidation = if flags & FLAG_HASH_BASED != 0 {
            Invalidation::Hash {
                check_source: flags & FLAG_CHECK_SOURCE != 0,
                hash: data[8..16].try_into().expect("8 bytes"),
            }
        } else {
            Invalidation::Timestamp {
                mtime: u32_at(data, 8),
                size: u32_at(data, 12),
            }
        };
        Ok(Header {
            magic,
            invalidation,
        })
    }

    /// Decodes the header at the start of `data`, checking the magic as importlib does first:
    /// a wrong magic is reported before a short file.
    pub fn parse_for(data: &[u8], target: Target) -> Result<Header, HeaderError> {
        let expected = target.magic_bytes();
        if data.len() < 4 {
            return Err(HeaderError::NoMagic(data.len()));
        }
        if data[..4] != expected {
            return Err(HeaderError::BadMagic {
                found: data[..4].try_into().expect("4 bytes"),
                expected,
                target,
            });
        }
        Header::parse(data)
    }

    /// The 16 bytes of this header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..4].copy_from_slice(&self.magic);
        match self.invalidation {
            Invalidation::Timestamp { mtime, size } => {
                out[8..12].copy_from_slice(&mtime.to_le_bytes());
                out[12..16].copy_from_slice(&size.to_le_bytes());
            }
            Invalidation::Hash { check_source, hash } => {
                let flags = FLAG_HASH_BASED | if check_source { FLAG_CHECK_SOURCE } else { 0 };
                out[4..8].copy_from_slice(&flags.to_le_bytes());
                out[8..16].copy_from_slice(&hash);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_modes() {
        for inv in [
            Invalidation::Timestamp {
                mtime: 0xdead_beef,
                size: 7,
            },
            Invalidation::Hash {
                check_source: true,
                hash: *b"12345678",
            },
            Invalidation::Hash {
                check_source: false,
                hash: *b"abcdefgh",
            },
        ] {
            let h = Header::new(Target::V3_12, inv);
            assert_eq!(Header::parse_for(&h.to_bytes(), Target::V3_12), Ok(h));
        }
    }

    #[test]
    fn rejects_like_importlib() {
        let mut b = Header::new(Target::V3_12, Invalidation::Timestamp { mtime: 1, size: 2 })
            .to_bytes()
            .to_vec();
        assert!(matches!(
            Header::parse_for(&b, Target::V3_11),
            Err(HeaderError::BadMagic { .. })
        ));
        assert_eq!(
            Header::parse_for(&b[..9], Target::V3_12),
            Err(HeaderError::Truncated(9))
        );
        assert_eq!(
            Header::parse_for(&b[..2], Target::V3_11),
            Err(HeaderError::NoMagic(2))
        );
        b[4] = 4;
        assert_eq!(
            Header::parse_for(&b, Target::V3_12),
            Err(HeaderError::BadFlags(4))
        );
    }
}
