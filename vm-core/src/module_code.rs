//! A module's code object under `pyc run`'s bytecode-only policy, following importlib's
//! `SourceLoader.get_code` and `SourcelessFileLoader.get_code`:
//!
//! - `m.py`: its `__pycache__/m.cpython-312.pyc` when the header validates (timestamp: mtime
//!   and size; checked-hash: the source hash; unchecked: trusted; `--check-hash-based-pycs`
//!   overrides as CPython's option does). The code's `co_filename` is rewritten to the source
//!   path when they differ, as `_imp._fix_co_filename` does.
//! - A missing, stale, unreadable, damaged or other-version cache is an error naming the
//!   module, the source and the reason, unless compiling is allowed (`pyc run --compile`):
//!   then the source is compiled by pyc-compiler and the cache written atomically (temporary
//!   file, rename; a timestamp pyc with the source's mtime and size, mode from the source), as
//!   importlib's `SourceFileLoader.set_data` does, unless writing is off (`--no-write`). As in
//!   importlib, a cache that cannot be written is not an error.
//! - a sourceless `m.pyc` is trusted without a source check, but must be a 3.12 pyc.

use std::path::Path;
use std::sync::Arc;

use pyc_loader::load::{stale_reason, unmarshal_code, CheckHashBasedPycs, PycFile, SourceStamp};
use pyc_loader::{cache_from_source, CodeObject, Header, Object, OptLevel, Str, Target};

/// How imports treat missing or stale caches.
#[derive(Clone, Copy, Debug)]
pub struct CachePolicy {
    /// Compile modules whose cache is missing or stale (`pyc run --compile`).
    pub compile: bool,
    /// Write the caches of modules compiled (off with `--no-write`).
    pub write: bool,
    /// `--check-hash-based-pycs`.
    pub check_hash: CheckHashBasedPycs,
    /// `-O` / `-OO`: which cache (`.opt-1`, `.opt-2`) is used, and how modules are compiled.
    pub optimize: OptLevel,
}

impl Default for CachePolicy {
    fn default() -> CachePolicy {
        CachePolicy {
            compile: false,
            write: true,
            check_hash: CheckHashBasedPycs::Default,
            optimize: OptLevel::O0,
        }
    }
}

/// Why a module's code could not be had; the message names the module and the file.
#[derive(Debug)]
pub enum CodeError {
    /// An ImportError (`path` is the file named in it).
    Import(String),
    /// The source does not compile (only with `--compile`): a SyntaxError in the file
    /// (its name and bytes).
    Syntax(pyc_compiler::CompileError, String, Vec<u8>),
}

/// The code of module `name` from `source` (a `.py`) under `policy`.
pub fn from_source(
    name: &str,
    source: &Path,
    policy: &CachePolicy,
) -> Result<Arc<CodeObject>, CodeError> {
    let meta = std::fs::metadata(source).map_err(|e| {
        CodeError::Import(format!(
            "cannot import module '{name}': {}: {e}",
            source.display()
        ))
    })?;
    let stamp = SourceStamp::from_metadata(&meta);
    let cache = cache_from_source(source, Target::V3_12, policy.optimize);
    let problem = match cached_code(source, &cache, stamp, policy.check_hash) {
        Ok(code) => return Ok(fix_filename(code, source)),
        Err(problem) => problem,
    };
    if !policy.compile {
        return Err(CodeError::Import(format!(
            "module '{name}' has no usable cached bytecode: {problem} (source {}); \
             run `pyc compile {}` to refresh it, or `pyc run --compile`",
            source.display(),
            source.display()
        )));
    }
    compile(source, &cache, stamp, &meta, policy)
}

/// The code of `source`'s cache if importlib would use it (for a script, which CPython
/// compiles in memory otherwise), else why not.
pub fn cached(source: &Path, policy: &CachePolicy) -> Result<Arc<CodeObject>, String> {
    let meta = std::fs::metadata(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let cache = cache_from_source(source, Target::V3_12, policy.optimize);
    let stamp = SourceStamp::from_metadata(&meta);
    let code = cached_code(source, &cache, stamp, policy.check_hash)?;
    Ok(fix_filename(code, source))
}

/// The cache's code if importlib would use it, else the reason, naming the cache.
fn cached_code(
    source: &Path,
    cache: &Path,
    stamp: SourceStamp,
    check_hash: CheckHashBasedPycs,
) -> Result<Arc<CodeObject>, String> {
    let shown = cache.display();
    let pyc = PycFile::open(cache).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("{shown} does not exist"),
        _ => format!("{shown} cannot be read ({e})"),
    })?;
    let header = Header::parse_for(&pyc.data, Target::V3_12)
        .map_err(|e| format!("{shown} is unusable: {}", header_problem(&pyc.data, e)))?;
    match stale_reason(
        Target::V3_12,
        &header,
        || Ok(stamp),
        check_hash,
        || std::fs::read(source),
    ) {
        Ok(None) => {}
        Ok(Some(reason)) => return Err(format!("{shown} is stale ({reason})")),
        Err(e) => return Err(format!("{}: {e}", source.display())),
    }
    unmarshal_code(&pyc.data).map_err(|e| format!("{shown} is corrupt ({e})"))
}

/// A header error, saying which Python wrote the cache when the magic is another version's.
fn header_problem(data: &[u8], e: pyc_loader::HeaderError) -> String {
    let other = data
        .get(..4)
        .and_then(|m| Target::from_magic_bytes(m.try_into().ok()?));
    match other {
        Some(t) if t != Target::V3_12 => format!("it was written for Python {t}, not 3.12 ({e})"),
        _ => e.to_string(),
    }
}

/// Compiles `source` and writes its cache unless writing is off; a cache that cannot be
/// written is skipped silently, as importlib skips it.
fn compile(
    source: &Path,
    cache: &Path,
    stamp: SourceStamp,
    meta: &std::fs::Metadata,
    policy: &CachePolicy,
) -> Result<Arc<CodeObject>, CodeError> {
    use std::os::unix::fs::MetadataExt;
    let bytes = std::fs::read(source)
        .map_err(|e| CodeError::Import(format!("{}: {e}", source.display())))?;
    let filename = source.display().to_string();
    let options = pyc_compiler::Options {
        optimize: policy.optimize.level(),
        ..Default::default()
    };
    let code = pyc_compiler::compile_source(&bytes, &filename, &options)
        .map_err(|e| CodeError::Syntax(e, filename.clone(), bytes.clone()))?;
    if policy.write {
        let data = pyc_compiler::cache_write::pyc_bytes(
            &code,
            Target::V3_12,
            pyc_loader::InvalidationMode::Timestamp,
            &bytes,
            stamp,
        );
        if let Ok(data) = data {
            let _ = pyc_compiler::cache_write::write_atomic(cache, &data, meta.mode());
        }
    }
    Ok(Arc::new(code))
}

/// The code of a sourceless `.pyc` module `name`.
pub fn sourceless(name: &str, pyc: &Path) -> Result<Arc<CodeObject>, CodeError> {
    read_pyc(pyc).map_err(|why| {
        CodeError::Import(format!(
            "cannot import module '{name}' from sourceless {}: {why}",
            pyc.display()
        ))
    })
}

/// The code of a 3.12 pyc read without a source check, or why it cannot be had.
pub fn read_pyc(pyc: &Path) -> Result<Arc<CodeObject>, String> {
    let file = PycFile::open(pyc).map_err(|e| format!("cannot be read ({e})"))?;
    Header::parse_for(&file.data, Target::V3_12).map_err(|e| header_problem(&file.data, e))?;
    unmarshal_code(&file.data).map_err(|e| format!("corrupt ({e})"))
}

/// The code with `co_filename` set to `source` in it and its nested code objects, where they
/// hold the filename the top-level code was compiled with (`_imp._fix_co_filename`).
fn fix_filename(code: Arc<CodeObject>, source: &Path) -> Arc<CodeObject> {
    let new = source.display().to_string();
    if code.filename.as_str() == Some(new.as_str()) {
        return code;
    }
    let old = code.filename.clone();
    rename(&code, &old, &Str::new(&new, false))
}

fn rename(code: &Arc<CodeObject>, old: &Str, new: &Str) -> Arc<CodeObject> {
    if code.filename != *old {
        return code.clone();
    }
    let mut fixed = (**code).clone();
    fixed.filename = new.clone();
    fixed.consts = code
        .consts
        .iter()
        .map(|c| match c {
            Object::Code(inner) => Object::Code(rename(inner, old, new)),
            other => other.clone(),
        })
        .collect();
    Arc::new(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filenames(code: &CodeObject, out: &mut Vec<String>) {
        out.push(code.filename.to_string_lossy());
        for c in code.consts.iter() {
            if let Object::Code(inner) = c {
                filenames(inner, out);
            }
        }
    }

    #[test]
    fn fix_filename_renames_nested_code() {
        let source = b"def f():\n    return lambda: 1\nclass C:\n    pass\n";
        let code = pyc_compiler::compile_source(source, "old.py", &Default::default()).unwrap();
        let fixed = fix_filename(Arc::new(code), Path::new("/new/m.py"));
        let mut names = Vec::new();
        filenames(&fixed, &mut names);
        assert_eq!(names.len(), 4);
        assert!(names.iter().all(|n| n == "/new/m.py"), "{names:?}");
    }

    #[test]
    fn missing_stale_and_compiled_caches() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("m.py");
        std::fs::write(&source, "x = 1\n").unwrap();
        let refuse = CachePolicy::default();
        let Err(CodeError::Import(msg)) = from_source("m", &source, &refuse) else {
            panic!("a missing cache must be refused");
        };
        assert!(msg.contains("m.cpython-312.pyc does not exist"), "{msg}");
        let compile = CachePolicy {
            compile: true,
            ..refuse
        };
        assert!(from_source("m", &source, &compile).is_ok());
        assert!(
            from_source("m", &source, &refuse).is_ok(),
            "the cache was written"
        );
        std::fs::write(&source, "x = 22\n").unwrap();
        let Err(CodeError::Import(msg)) = from_source("m", &source, &refuse) else {
            panic!("a stale cache must be refused");
        };
        assert!(msg.contains("is stale ("), "{msg}");
    }
}
