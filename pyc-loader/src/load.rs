//! Loading pycs: memory-map the file, validate its header against the source exactly as
//! importlib does, and unmarshal the code object without copying its byte strings.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::code::CodeObject;
use crate::header::{Header, HeaderError, Invalidation, HEADER_LEN};
use crate::marshal::{self, MarshalError, Object, Shape};
use crate::{source_hash, Target};

/// CPython's `--check-hash-based-pycs` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CheckHashBasedPycs {
    /// Check checked-hash pycs, trust unchecked ones.
    #[default]
    Default,
    /// Check every hash-based pyc.
    Always,
    /// Trust every hash-based pyc.
    Never,
}

/// The source file's facts importlib compares against a timestamp pyc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceStamp {
    /// `int(os.stat(source).st_mtime) & 0xFFFFFFFF`.
    pub mtime: u32,
    /// `os.stat(source).st_size & 0xFFFFFFFF`.
    pub size: u32,
}

impl SourceStamp {
    /// The stamp of a file's metadata, computed as importlib does (a float `st_mtime`
    /// truncated to an integer, then both values reduced to 32 bits).
    pub fn from_metadata(meta: &std::fs::Metadata) -> SourceStamp {
        use std::os::unix::fs::MetadataExt;
        SourceStamp::new(meta.mtime(), meta.mtime_nsec(), meta.size())
    }

    /// The stamp of a modification time (seconds and nanoseconds) and a size.
    pub fn new(mtime_sec: i64, mtime_nsec: i64, size: u64) -> SourceStamp {
        let mtime = (mtime_sec as f64 + mtime_nsec as f64 * 1e-9).trunc() as i64;
        SourceStamp {
            mtime: mtime as u32,
            size: size as u32,
        }
    }
}

/// Why importlib would not use a cache whose header is well formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaleReason {
    /// The recorded mtime is not the source's.
    Mtime {
        /// In the pyc.
        cached: u32,
        /// Of the source.
        source: u32,
    },
    /// The mtime matches but the recorded size is not the source's.
    Size {
        /// In the pyc.
        cached: u32,
        /// Of the source.
        source: u32,
    },
    /// The recorded hash is not the source's.
    Hash,
}

impl std::fmt::Display for StaleReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StaleReason::Mtime { cached, source } => {
                write!(f, "mtime changed (cache {cached}, source {source})")
            }
            StaleReason::Size { cached, source } => {
                write!(f, "size changed (cache {cached}, source {source})")
            }
            StaleReason::Hash => write!(f, "source hash changed"),
        }
    }
}

/// Whether importlib would use a cache for its source, and why not.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The cache is valid for the source and its code object parses.
    Fresh,
    /// The header is well formed but does not match the source.
    Stale(StaleReason),
    /// The header is damaged: short, wrong magic, unknown flags.
    BadHeader(HeaderError),
    /// The marshal data after the header is no code object.
    BadBody(BodyError),
}

/// Why the marshal data after a header is not a usable code object.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BodyError {
    /// It does not parse (the offset counts from the start of the file).
    #[error(transparent)]
    Corrupt(#[from] MarshalError),
    /// It holds another type.
    #[error("holds a {0}, not a code object")]
    NotCode(&'static str),
}

/// Files at least this large are memory-mapped rather than read.
const MMAP_THRESHOLD: u64 = 1 << 20;

/// A pyc in memory: read, or mapped when large.
#[derive(Clone, Debug)]
pub struct PycFile {
    /// The whole file.
    pub data: Bytes,
}

/// Failure to load a pyc, with the file named.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened, mapped or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The pyc.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The header is damaged.
    #[error("{}: {source}", path.display())]
    Header {
        /// The pyc.
        path: PathBuf,
        /// The cause.
        source: HeaderError,
    },
    /// The marshal data is not a code object.
    #[error("{}: {source}", path.display())]
    Body {
        /// The pyc.
        path: PathBuf,
        /// The cause.
        source: BodyError,
    },
}

/// Unmarshals the code object after the header of `data`; error offsets count from the start
/// of the file.
pub fn unmarshal_code(data: &Bytes) -> Result<Arc<CodeObject>, BodyError> {
    let body = data.slice(HEADER_LEN.min(data.len())..);
    match marshal::loads(body) {
        Ok(Object::Code(code)) => Ok(code),
        Ok(other) => Err(BodyError::NotCode(other.type_name())),
        Err(mut e) => {
            e.offset += HEADER_LEN;
            Err(BodyError::Corrupt(e))
        }
    }
}

/// Reads a file whose size `len` is known from a stat: one `read` call in the usual case,
/// instead of the extra call that finds the end. A file that shrank since is read short.
pub fn read_sized(file: &mut File, len: usize) -> io::Result<Vec<u8>> {
    let mut data = vec![0; len];
    let mut filled = 0;
    while filled < len {
        match file.read(&mut data[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    data.truncate(filled);
    Ok(data)
}

/// Checks, without building it, that the marshal data after the header is a code object
/// [`unmarshal_code`] would accept.
pub fn validate_code(data: &[u8]) -> Result<(), BodyError> {
    match marshal::validate(data.get(HEADER_LEN..).unwrap_or_default()) {
        Ok(Shape::Code) => Ok(()),
        // Not a code object (rare): unmarshal it to name what it is.
        Ok(_) => unmarshal_code(&Bytes::copy_from_slice(data)).map(drop),
        Err(mut e) => {
            e.offset += HEADER_LEN;
            Err(BodyError::Corrupt(e))
        }
    }
}

impl PycFile {
    /// Maps `path` into memory.
    pub fn open(path: &Path) -> io::Result<PycFile> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        // Below a megabyte a read is cheaper than a map and its later unmap (which costs a TLB
        // shootdown on every core when threads run).
        if len < MMAP_THRESHOLD {
            return Ok(PycFile {
                data: Bytes::from(read_sized(&mut file, len as usize)?),
            });
        }
        // SAFETY: the map is read-only. A cache rewritten in place by another process while we
        // read it could change under us; importlib-style writers replace caches by rename, which
        // leaves our mapping of the old inode intact.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        Ok(PycFile {
            data: Bytes::from_owner(map),
        })
    }

    /// Reads `path` as a pyc of any known target and returns its header and code object.
    pub fn load(path: &Path) -> Result<(Header, Arc<CodeObject>), LoadError> {
        let pyc = PycFile::open(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        let header = Header::parse(&pyc.data).map_err(|source| LoadError::Header {
            path: path.to_owned(),
            source,
        })?;
        let code = unmarshal_code(&pyc.data).map_err(|source| LoadError::Body {
            path: path.to_owned(),
            source,
        })?;
        Ok((header, code))
    }

    /// importlib's decision for this cache of `source`, for `target`: header checks, then the
    /// timestamp or hash rule, then the code object must unmarshal. `source_stamp` is the
    /// source's stat; `read_source` is called only when a hash must be checked.
    pub fn verdict<S: AsRef<[u8]>>(
        &self,
        target: Target,
        source_stamp: SourceStamp,
        check_hash: CheckHashBasedPycs,
        read_source: impl FnOnce() -> io::Result<S>,
    ) -> io::Result<Verdict> {
        verdict(&self.data, target, source_stamp, check_hash, read_source)
    }
}

/// [`PycFile::verdict`] for a pyc's bytes held anywhere.
pub fn verdict<S: AsRef<[u8]>>(
    pyc: &[u8],
    target: Target,
    source_stamp: SourceStamp,
    check_hash: CheckHashBasedPycs,
    read_source: impl FnOnce() -> io::Result<S>,
) -> io::Result<Verdict> {
    let header = match Header::parse_for(pyc, target) {
        Ok(header) => header,
        Err(e) => return Ok(Verdict::BadHeader(e)),
    };
    let stamp = || Ok(source_stamp);
    if let Some(reason) = stale_reason(target, &header, stamp, check_hash, read_source)? {
        return Ok(Verdict::Stale(reason));
    }
    Ok(match validate_code(pyc) {
        Ok(()) => Verdict::Fresh,
        Err(e) => Verdict::BadBody(e),
    })
}

/// The timestamp or hash rule of importlib for a well-formed header. As importlib,
/// `source_stamp` (the source's stat) is asked for only by a timestamp cache, and
/// `read_source` only when a hash must be checked.
pub fn stale_reason<S: AsRef<[u8]>>(
    target: Target,
    header: &Header,
    source_stamp: impl FnOnce() -> io::Result<SourceStamp>,
    check_hash: CheckHashBasedPycs,
    read_source: impl FnOnce() -> io::Result<S>,
) -> io::Result<Option<StaleReason>> {
    Ok(match header.invalidation {
        Invalidation::Timestamp { mtime, size } => {
            let source_stamp = source_stamp()?;
            if mtime != source_stamp.mtime {
                Some(StaleReason::Mtime {
                    cached: mtime,
                    source: source_stamp.mtime,
                })
            } else if size != source_stamp.size {
                Some(StaleReason::Size {
                    cached: size,
                    source: source_stamp.size,
                })
            } else {
                None
            }
        }
        Invalidation::Hash { check_source, hash } => {
            let check = match check_hash {
                CheckHashBasedPycs::Default => check_source,
                CheckHashBasedPycs::Always => true,
                CheckHashBasedPycs::Never => false,
            };
            (check && source_hash(target, read_source()?.as_ref()) != hash)
                .then_some(StaleReason::Hash)
        }
    })
}
