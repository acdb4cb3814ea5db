//! Writing a pyc the way importlib does: header and marshalled code into a temporary file in
//! the cache directory, then a rename over the target, so no reader ever sees half a file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use pyc_loader::code::CodeObject;
use pyc_loader::header::{Header, Invalidation, InvalidationMode};
use pyc_loader::load::SourceStamp;
use pyc_loader::marshal::{dumps_compiled, Object};
use pyc_loader::source_hash::source_hash;
use pyc_loader::Target;

/// The complete bytes of a pyc for `code`, compiled from `source` whose stat is `stamp`.
pub fn pyc_bytes(
    code: &CodeObject,
    target: Target,
    mode: InvalidationMode,
    source: &[u8],
    stamp: SourceStamp,
) -> io::Result<Vec<u8>> {
    let invalidation = match mode {
        InvalidationMode::Timestamp => Invalidation::Timestamp {
            mtime: stamp.mtime,
            size: stamp.size,
        },
        InvalidationMode::CheckedHash | InvalidationMode::UncheckedHash => Invalidation::Hash {
            check_source: mode == InvalidationMode::CheckedHash,
            hash: source_hash(target, source),
        },
    };
    let body = dumps_compiled(&Object::Code(code.clone().into()))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut out = Vec::with_capacity(16 + body.len());
    out.extend_from_slice(&Header::new(target, invalidation).to_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Writes `data` to `path` atomically, creating the parent directory if needed. The file gets
/// importlib's permissions: the source's mode, made owner-writable, limited to `0o666`.
pub fn write_atomic(path: &Path, data: &[u8], source_mode: u32) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // As py_compile: an existing non-directory in the way fails at the write below.
        match fs::create_dir_all(dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    let temp = temp_path(path);
    let mode = (source_mode | 0o200) & 0o666;
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temp)
        .and_then(|mut file| file.write_all(data));
    let result = written.and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        // The temporary file may or may not exist; either way it must not stay behind.
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Makes `path` a hard link to `existing` atomically (a link under a temporary name, then a
/// rename over `path`), as `compileall --hardlink-dupes` links equal caches.
pub fn link_atomic(existing: &Path, path: &Path) -> io::Result<()> {
    if same_file(existing, path) {
        return Ok(());
    }
    let temp = temp_path(path);
    let result = fs::hard_link(existing, &temp).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Whether two paths name the same file (hard links of one inode).
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// A name beside `path` that no other writer (thread or process) uses at the same time.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.{n}.tmp", std::process::id()));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_with_importlib_permissions_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("__pycache__/m.cpython-312.pyc");
        write_atomic(&target, b"data", 0o100444).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"data");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o200, 0o200);
        let names: Vec<_> = fs::read_dir(target.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn links_replace_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, b"same").unwrap();
        fs::write(&b, b"old").unwrap();
        link_atomic(&a, &b).unwrap();
        link_atomic(&a, &b).unwrap();
        assert!(same_file(&a, &b));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn failure_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The target is an existing directory: the rename fails.
        let target = dir.path().join("busy");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("x"), b"").unwrap();
        assert!(write_atomic(&target, b"data", 0o644).is_err());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
