//! PEP 3147 cache paths both ways, with optimization levels and the legacy layout, following
//! `importlib.util.cache_from_source` / `source_from_cache`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::Target;

/// The directory that holds PEP 3147 caches.
pub const PYCACHE: &str = "__pycache__";

/// An optimization level: `-O` flags given to the interpreter (0, 1 or 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OptLevel {
    /// No `-O`: asserts and docstrings kept; file `name.TAG.pyc`.
    #[default]
    O0,
    /// `-O`: asserts and `if __debug__` blocks dropped; file `name.TAG.opt-1.pyc`.
    O1,
    /// `-OO`: also docstrings dropped; file `name.TAG.opt-2.pyc`.
    O2,
}

impl OptLevel {
    /// All levels.
    pub const ALL: [OptLevel; 3] = [OptLevel::O0, OptLevel::O1, OptLevel::O2];

    /// The level from its number.
    pub fn from_level(level: u8) -> Option<OptLevel> {
        OptLevel::ALL.get(usize::from(level)).copied()
    }

    /// The level's number.
    pub fn level(self) -> u8 {
        self as u8
    }

    /// The `opt-N` file name tag, none for level 0.
    fn suffix(self) -> Option<&'static str> {
        match self {
            OptLevel::O0 => None,
            OptLevel::O1 => Some("opt-1"),
            OptLevel::O2 => Some("opt-2"),
        }
    }
}

/// The PEP 3147 cache path of `source` (`cache_from_source`).
pub fn cache_from_source(source: &Path, target: Target, opt: OptLevel) -> PathBuf {
    let head = source.parent().unwrap_or(Path::new(""));
    let tail = source.file_name().unwrap_or_default().as_encoded_bytes();
    // rpartition('.'): the base is what precedes the last dot, or the whole name without one.
    let base = match tail.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => &tail[..dot],
        Some(_) => &tail[1..],
        None => tail,
    };
    let mut name = base.to_vec();
    if tail.contains(&b'.') {
        name.push(b'.');
    }
    name.extend_from_slice(target.cache_tag().as_bytes());
    if let Some(suffix) = opt.suffix() {
        name.push(b'.');
        name.extend_from_slice(suffix.as_bytes());
    }
    name.extend_from_slice(b".pyc");
    head.join(PYCACHE).join(os_from_bytes(name))
}

/// The legacy (sourceless, `compileall -b`) cache path: `name.pyc` beside `name.py`.
pub fn legacy_cache_path(source: &Path) -> PathBuf {
    source.with_extension("pyc")
}

/// The parts of a PEP 3147 cache file name `NAME.TAG[.opt-N].pyc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheName {
    /// The module name part, before the first dot.
    pub module: OsString,
    /// The cache tag, such as `cpython-312`.
    pub tag: String,
    /// The optimization level; `None` when the `opt-` part is not one CPython writes.
    pub opt: Option<OptLevel>,
}

impl CacheName {
    /// Splits a file name found in `__pycache__`; `None` if it is not a cache name
    /// (`source_from_cache` would reject it).
    pub fn parse(file_name: &OsStr) -> Option<CacheName> {
        let bytes = file_name.as_encoded_bytes();
        let stem = bytes.strip_suffix(b".pyc")?;
        let parts: Vec<&[u8]> = stem.split(|&b| b == b'.').collect();
        let (module, tag, opt) = match parts.as_slice() {
            [module, tag] => (*module, *tag, Some(OptLevel::O0)),
            [module, tag, opt] => {
                let level = opt.strip_prefix(b"opt-")?;
                if level.is_empty() || !level.iter().all(u8::is_ascii_alphanumeric) {
                    return None;
                }
                let opt = match level {
                    b"1" => Some(OptLevel::O1),
                    b"2" => Some(OptLevel::O2),
                    _ => None,
                };
                (*module, *tag, opt)
            }
            _ => return None,
        };
        Some(CacheName {
            module: os_from_bytes(module.to_vec()),
            tag: String::from_utf8(tag.to_vec()).ok()?,
            opt,
        })
    }
}

/// The source path a PEP 3147 cache stands for (`source_from_cache`), or `None` if `cache` is
/// not in a `__pycache__` directory or its name is not a cache name. As importlib, the last
/// extension is not checked: `__pycache__/m.cpython-312.py` stands for `m.py` too.
pub fn source_from_cache(cache: &Path) -> Option<PathBuf> {
    let dir = cache.parent()?;
    if dir.file_name()? != PYCACHE {
        return None;
    }
    let file_name = cache.file_name()?.as_encoded_bytes();
    let stem = &file_name[..file_name.iter().rposition(|&b| b == b'.')?];
    let name = CacheName::parse(&os_from_bytes([stem, b".pyc"].concat()))?;
    let mut source = name.module;
    source.push(".py");
    Some(dir.parent().unwrap_or(Path::new("")).join(source))
}

fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    // SAFETY: the bytes are whole pieces of an OsStr's encoded bytes, split at ASCII characters,
    // with ASCII bytes added: what `from_encoded_bytes_unchecked` requires.
    unsafe { OsString::from_encoded_bytes_unchecked(bytes) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfs(p: &str, opt: OptLevel) -> String {
        cache_from_source(Path::new(p), Target::V3_12, opt)
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn cache_paths() {
        assert_eq!(
            cfs("a/b/foo.py", OptLevel::O0),
            "a/b/__pycache__/foo.cpython-312.pyc"
        );
        assert_eq!(
            cfs("foo.py", OptLevel::O1),
            "__pycache__/foo.cpython-312.opt-1.pyc"
        );
        assert_eq!(
            cfs("x/foo.bar.py", OptLevel::O2),
            "x/__pycache__/foo.bar.cpython-312.opt-2.pyc"
        );
        assert_eq!(
            cfs("noext", OptLevel::O0),
            "__pycache__/noextcpython-312.pyc"
        );
        assert_eq!(
            cfs(".hidden", OptLevel::O0),
            "__pycache__/hidden.cpython-312.pyc"
        );
    }

    #[test]
    fn source_paths() {
        let s = |p: &str| source_from_cache(Path::new(p)).map(|p| p.to_string_lossy().into_owned());
        assert_eq!(
            s("a/__pycache__/foo.cpython-312.pyc").as_deref(),
            Some("a/foo.py")
        );
        assert_eq!(
            s("__pycache__/foo.cpython-311.opt-2.pyc").as_deref(),
            Some("foo.py")
        );
        assert_eq!(s("a/foo.cpython-312.pyc"), None);
        assert_eq!(s("a/__pycache__/foo.pyc"), None);
        assert_eq!(s("a/__pycache__/foo.cpython-312.x-1.pyc"), None);
        let n = CacheName::parse(OsStr::new("m.cpython-313.opt-7.pyc")).unwrap();
        assert_eq!((n.tag.as_str(), n.opt), ("cpython-313", None));
    }
}
