//! Compiling trees of sources into their caches, as `compileall` walks them.
//!
//! Walking is sequential and sorted (directory order is `compileall`'s: names sorted, the
//! `__pycache__` directories skipped, symlinked directories not followed); compiling runs on
//! all cores of the current rayon pool. The reports come back in walk order whatever the
//! thread count, and every cache's bytes depend only on its source and the options.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use pyc_loader::cache_path::{cache_from_source, OptLevel};
use pyc_loader::code::CodeObject;
use pyc_loader::header::{Header, InvalidationMode};
use pyc_loader::load::{CheckHashBasedPycs, PycFile, SourceStamp, Verdict};
use pyc_loader::marshal::{Object, Str};
use pyc_loader::Target;
use rayon::prelude::*;

use crate::cache_write::{link_atomic, pyc_bytes, write_atomic};
use crate::error::CompileError;
use crate::{compile_source, Mode, Options};

/// A SHA-256 digest (computed by the caller's hasher, see [`TreeOptions::digest`]).
pub type Digest = [u8; 32];

/// What to compile and how.
#[derive(Clone, Debug)]
pub struct TreeOptions {
    pub target: Target,
    /// Optimization levels to write a cache for, sorted and distinct (at least one).
    pub levels: Vec<OptLevel>,
    pub invalidation: InvalidationMode,
    /// Recompile even when the cache is up to date.
    pub force: bool,
    /// Write `name.pyc` beside the source instead of a `__pycache__` cache (`-b`).
    pub legacy: bool,
    /// Hard-link a level's cache to the previous level's when their bytes are equal.
    pub hardlink_dupes: bool,
    /// When set, each report carries the digests of the source and its caches.
    pub digest: Option<fn(&[u8]) -> Digest>,
}

/// How `co_filename` is derived from the path of a source (`-d`, `-s`, `-p`).
#[derive(Clone, Debug, Default)]
pub enum Rename {
    /// The path as walked.
    #[default]
    Keep,
    /// `-d DIR`: the walked path with the argument's directory replaced by `DIR`, or `DIR`
    /// joined to the base name for a file argument.
    DestDir(PathBuf),
    /// `-s` and `-p`: matching leading components stripped, then a prefix prepended.
    StripPrepend {
        strip: Option<PathBuf>,
        prepend: Option<PathBuf>,
    },
}

/// How to walk.
pub struct WalkOptions<'a> {
    /// How many directory levels below each directory argument to descend.
    pub max_depth: usize,
    /// Files for which this returns true are passed over (`-x`).
    pub exclude: &'a dyn Fn(&Path) -> bool,
    /// Symlinked files pointing outside this directory are passed over (`-e`).
    pub limit_symlinks: Option<PathBuf>,
    pub rename: Rename,
}

/// A source to compile: its path, and the name compiled into its code objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    /// `co_filename`, when it is not `path` (raw bytes: file names need not be UTF-8).
    pub dfile: Option<OsString>,
}

impl Source {
    /// A source compiled under its own name.
    pub fn new(path: PathBuf) -> Source {
        Source { path, dfile: None }
    }

    /// The name recorded in the code objects and shown in syntax errors.
    pub fn display_name(&self) -> &OsStr {
        self.dfile.as_deref().unwrap_or(self.path.as_os_str())
    }
}

/// A source found by the walk, or a directory listed.
#[derive(Debug)]
pub enum Found {
    /// A directory the walk entered (compileall prints "Listing ...").
    Dir(PathBuf),
    /// A `.py` file to compile.
    Source(Source),
    /// A directory whose entries could not be listed (compileall: "Can't list").
    Unlistable(PathBuf),
    /// A `.py` name that is not a regular file (broken symlink, symlink loop, special file):
    /// compileall passes over it in silence.
    NotAFile(PathBuf, io::Error),
}

/// What happened to one source.
#[derive(Debug)]
pub enum Outcome {
    /// At least one cache was written.
    Compiled,
    /// Every cache was already what importlib accepts.
    UpToDate,
    /// The source does not compile.
    Rejected(CompileError),
    /// Reading the source or writing a cache failed (the path is the file concerned).
    Io(io::Error, PathBuf),
    /// Not started: the run was interrupted.
    Interrupted,
}

/// The digests of a source and of the caches it has after the run.
#[derive(Debug)]
pub struct Digests {
    pub source: Digest,
    pub caches: Vec<(PathBuf, Digest)>,
}

/// The result for one source.
#[derive(Debug)]
pub struct Report {
    pub outcome: Outcome,
    /// Set when [`TreeOptions::digest`] is and the source was read.
    pub digests: Option<Digests>,
}

/// Lists what `compileall` would visit under `paths`, in its order: a regular file argument
/// is compiled as itself, anything else is walked as a directory.
pub fn walk(paths: &[PathBuf], options: &WalkOptions) -> Vec<Found> {
    let mut found = Vec::new();
    for path in paths {
        if fs::metadata(path).is_ok_and(|m| m.is_file()) {
            let dfile = match &options.rename {
                Rename::DestDir(dir) => Some(py_join(
                    dir.as_os_str(),
                    path.file_name().unwrap_or_default(),
                )),
                rename => dfile(path, rename),
            };
            consider_file(path, dfile, options, &mut found);
        } else {
            let rename = match &options.rename {
                Rename::DestDir(dir) => Rename::StripPrepend {
                    strip: Some(path.clone()),
                    prepend: Some(dir.clone()),
                },
                rename => rename.clone(),
            };
            walk_dir(path, options.max_depth, options, &rename, &mut found);
        }
    }
    found
}

fn walk_dir(
    dir: &Path,
    depth: usize,
    options: &WalkOptions,
    rename: &Rename,
    found: &mut Vec<Found>,
) {
    found.push(Found::Dir(dir.to_owned()));
    let mut names: Vec<_> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect(),
        Err(_) => {
            found.push(Found::Unlistable(dir.to_owned()));
            return;
        }
    };
    names.sort();
    for name in names {
        if name == "__pycache__" {
            continue;
        }
        let path = PathBuf::from(py_join(dir.as_os_str(), &name));
        let is_dir = fs::metadata(&path).is_ok_and(|m| m.is_dir());
        if !is_dir {
            let dfile = dfile(&path, rename);
            consider_file(&path, dfile, options, found);
        } else if depth > 0 && !fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) {
            walk_dir(&path, depth - 1, options, rename, found);
        }
    }
}

/// `compile_file`'s filters: `-x`, `-e`, a regular `.py` file.
fn consider_file(
    path: &Path,
    dfile: Option<OsString>,
    options: &WalkOptions,
    found: &mut Vec<Found>,
) {
    if (options.exclude)(path) {
        return;
    }
    if let Some(limit) = &options.limit_symlinks {
        if fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) && !points_inside(path, limit) {
            return;
        }
    }
    if path.extension().is_none_or(|ext| ext != "py") || path.file_stem().is_none() {
        return;
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => found.push(Found::Source(Source {
            path: path.to_owned(),
            dfile,
        })),
        Ok(_) => found.push(Found::NotAFile(
            path.to_owned(),
            io::Error::other("not a regular file"),
        )),
        Err(e) => found.push(Found::NotAFile(path.to_owned(), e)),
    }
}

/// Whether the resolved `path` lies below the resolved `limit` (pathlib's `resolve()` is not
/// strict: an unresolvable path counts as outside).
fn points_inside(path: &Path, limit: &Path) -> bool {
    let limit = fs::canonicalize(limit).unwrap_or_else(|_| limit.to_owned());
    fs::canonicalize(path).is_ok_and(|p| p != limit && p.starts_with(&limit))
}

/// `compile_file`'s `dfile` for `-s`/`-p`: every component of `strip` equal to the path's
/// component at the same position removes that value's first occurrence from the path's
/// components; then `prepend` is joined in front (`os.path.join`).
fn dfile(path: &Path, rename: &Rename) -> Option<OsString> {
    let Rename::StripPrepend { strip, prepend } = rename else {
        return None;
    };
    let full = path.as_os_str().as_bytes();
    let mut out: Option<OsString> = strip.as_ref().map(|strip| {
        let full_parts: Vec<&[u8]> = full.split(|&b| b == b'/').collect();
        let mut parts = full_parts.clone();
        for (s, o) in strip
            .as_os_str()
            .as_bytes()
            .split(|&b| b == b'/')
            .zip(full_parts)
        {
            if s == o {
                if let Some(i) = parts.iter().position(|p| *p == s) {
                    parts.remove(i);
                }
            }
        }
        parts.iter().fold(OsString::new(), |acc, p| {
            py_join(&acc, OsStr::from_bytes(p))
        })
    });
    if let Some(prepend) = prepend {
        let tail = out.as_deref().unwrap_or(path.as_os_str());
        out = Some(py_join(prepend.as_os_str(), tail));
    }
    out
}

/// `posixpath.join(a, b)`: `b` if it is absolute, else `a` and `b` with one `/` between.
fn py_join(a: &OsStr, b: &OsStr) -> OsString {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out = if b.starts_with(b"/") {
        Vec::new()
    } else {
        a.to_vec()
    };
    if !out.is_empty() && !out.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(b);
    OsString::from_vec(out)
}

/// Compiles every source at every level of `options`, in parallel on the current rayon pool;
/// the reports are in the order of `sources`.
pub fn compile_sources(sources: &[Source], options: &TreeOptions) -> Vec<Report> {
    sources
        .par_iter()
        .map(|source| compile_file(source, options))
        .collect()
}

/// As [`compile_sources`], handing each report with its index to `on_report` as soon as it
/// is ready. Once `interrupted` returns true, the sources not yet started are reported
/// `Interrupted` (those under way finish: no cache is left half-written).
pub fn compile_each(
    sources: &[Source],
    options: &TreeOptions,
    interrupted: &(dyn Fn() -> bool + Sync),
    on_report: &(dyn Fn(usize, Report) + Sync),
) {
    sources.par_iter().enumerate().for_each(|(i, source)| {
        let report = if interrupted() {
            Report {
                outcome: Outcome::Interrupted,
                digests: None,
            }
        } else {
            compile_file(source, options)
        };
        on_report(i, report);
    });
}

/// The cache `source` gets at `level`.
fn cache_path(source: &Path, level: OptLevel, options: &TreeOptions) -> PathBuf {
    if options.legacy {
        let mut name = source.as_os_str().to_owned();
        name.push("c");
        PathBuf::from(name)
    } else {
        cache_from_source(source, options.target, level)
    }
}

/// Compiles one source at each level, stopping at the first failure as `compileall` does.
fn compile_file(source: &Source, options: &TreeOptions) -> Report {
    let path = &source.path;
    let read = fs::metadata(path).and_then(|meta| Ok((meta.clone(), fs::read(path)?)));
    let (meta, text) = match read {
        Ok(read) => read,
        Err(e) => {
            return Report {
                outcome: Outcome::Io(e, path.clone()),
                digests: None,
            }
        }
    };
    let stamp = SourceStamp::from_metadata(&meta);
    let mut digests = options.digest.map(|digest| Digests {
        source: digest(&text),
        caches: Vec::new(),
    });
    let mut compiled = false;
    let mut previous: Option<(PathBuf, Vec<u8>)> = None;
    // Legacy caches of every level share one path, where the last level's stays (and the
    // header cannot tell levels apart): only that one is compiled.
    let levels = match options.levels.split_last() {
        Some((last, _)) if options.legacy => std::slice::from_ref(last),
        _ => &options.levels,
    };
    for &level in levels {
        let cache = cache_path(path, level, options);
        let data = if !options.force && cache_is_fresh(&cache, options, stamp, &text) {
            // Read only when needed: to compare with the next level or to digest it.
            let needed = options.hardlink_dupes || digests.is_some();
            needed.then(|| fs::read(&cache).unwrap_or_default())
        } else {
            if let Err(e) = check_replaceable(&cache) {
                return Report {
                    outcome: Outcome::Io(e, cache),
                    digests,
                };
            }
            let compile_options = Options {
                target: options.target,
                optimize: level.level(),
                mode: Mode::Module,
            };
            let code = match compile_named(&text, source.display_name(), &compile_options) {
                Ok(code) => code,
                Err(e) => {
                    return Report {
                        outcome: Outcome::Rejected(e),
                        digests,
                    }
                }
            };
            let written = pyc_bytes(&code, options.target, options.invalidation, &text, stamp)
                .and_then(|data| {
                    match &previous {
                        Some((prev, prev_data)) if options.hardlink_dupes && *prev_data == data => {
                            link_atomic(prev, &cache)?
                        }
                        _ => write_atomic(&cache, &data, meta.permissions().mode())?,
                    }
                    Ok(data)
                });
            match written {
                Ok(data) => {
                    compiled = true;
                    Some(data)
                }
                Err(e) => {
                    return Report {
                        outcome: Outcome::Io(e, cache),
                        digests,
                    }
                }
            }
        };
        if let (Some(digests), Some(data)) = (&mut digests, &data) {
            let digest = options.digest.expect("digests are made only with a hasher");
            digests.caches.push((cache.clone(), digest(data)));
        }
        previous = data.map(|data| (cache, data));
    }
    let outcome = if compiled {
        Outcome::Compiled
    } else {
        Outcome::UpToDate
    };
    Report { outcome, digests }
}

/// py_compile's refusal to replace a symlink or a special file with a cache (import would
/// turn it into a regular file): a `FileExistsError` with its message.
fn check_replaceable(cache: &Path) -> io::Result<()> {
    let what = match fs::symlink_metadata(cache) {
        Ok(meta) if meta.is_symlink() => "a symlink and will be changed into a regular file",
        Ok(meta) if !meta.is_file() => "a non-regular file and will be changed into a regular one",
        _ => return Ok(()),
    };
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} is {what} if import writes a byte-compiled file to it",
            cache.display()
        ),
    ))
}

/// Compiles under `filename`. A name that is not UTF-8 is recorded in every code object as
/// Python's `surrogateescape` decoding gives it: each undecodable byte a lone surrogate.
fn compile_named(
    text: &[u8],
    filename: &OsStr,
    options: &Options,
) -> Result<CodeObject, CompileError> {
    match filename.to_str() {
        Some(name) => compile_source(text, name, options),
        None => {
            let mut code = compile_source(text, &filename.to_string_lossy(), options)?;
            let name = Str::from_surrogatepass(surrogateescape(filename.as_bytes()).into(), false)
                .expect("surrogateescape output is surrogatepass UTF-8");
            rename_code(&mut code, &name);
            Ok(code)
        }
    }
}

/// `bytes.decode('utf-8', 'surrogateescape')`, encoded back with `surrogatepass`.
fn surrogateescape(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3);
    for chunk in bytes.utf8_chunks() {
        out.extend_from_slice(chunk.valid().as_bytes());
        for &b in chunk.invalid() {
            let cp = 0xDC00 | u32::from(b);
            out.extend_from_slice(&[
                0xE0 | (cp >> 12) as u8,
                0x80 | ((cp >> 6) & 0x3F) as u8,
                0x80 | (cp & 0x3F) as u8,
            ]);
        }
    }
    out
}

/// Sets `co_filename` of `code` and of every code object nested in its constants.
fn rename_code(code: &mut CodeObject, name: &Str) {
    code.filename = name.clone();
    if code.consts.iter().any(|c| matches!(c, Object::Code(_))) {
        let consts: Vec<Object> = code
            .consts
            .iter()
            .map(|c| match c {
                Object::Code(inner) => {
                    let mut inner = (**inner).clone();
                    rename_code(&mut inner, name);
                    Object::Code(inner.into())
                }
                other => other.clone(),
            })
            .collect();
        code.consts = consts.into();
    }
}

/// Whether the existing cache is in the requested invalidation mode and importlib would use
/// it (hash-based caches are checked against the source even when unchecked), so a rewrite
/// would change nothing.
fn cache_is_fresh(cache: &Path, options: &TreeOptions, stamp: SourceStamp, source: &[u8]) -> bool {
    let Ok(pyc) = PycFile::open(cache) else {
        return false;
    };
    let same_mode =
        Header::parse(&pyc.data).is_ok_and(|h| h.invalidation.mode() == options.invalidation);
    same_mode
        && matches!(
            pyc.verdict(options.target, stamp, CheckHashBasedPycs::Always, || Ok(
                source.to_vec()
            )),
            Ok(Verdict::Fresh)
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_prepend(path: &str, strip: Option<&str>, prepend: Option<&str>) -> Option<String> {
        let rename = Rename::StripPrepend {
            strip: strip.map(PathBuf::from),
            prepend: prepend.map(PathBuf::from),
        };
        dfile(Path::new(path), &rename).map(|d| d.to_string_lossy().into_owned())
    }

    #[test]
    fn dfile_follows_compile_file() {
        // Expected values: compileall.compile_file's arithmetic, run in CPython 3.12.1.
        assert_eq!(
            strip_prepend("/build/root/pkg/m.py", Some("/build/root"), None).as_deref(),
            Some("pkg/m.py")
        );
        assert_eq!(
            strip_prepend("/build/root/pkg/m.py", Some("/build/root"), Some("/")).as_deref(),
            Some("/pkg/m.py")
        );
        assert_eq!(
            strip_prepend("tree/a.py", None, Some("/usr/lib")).as_deref(),
            Some("/usr/lib/tree/a.py")
        );
        assert_eq!(
            strip_prepend("/abs/a.py", None, Some("/usr/lib")).as_deref(),
            Some("/abs/a.py")
        );
        assert_eq!(strip_prepend("tree/a.py", None, None), None);
    }

    #[test]
    fn surrogateescape_matches_python() {
        // b'a\xff\xc3\xa9'.decode('utf-8', 'surrogateescape').encode('utf-8', 'surrogatepass')
        assert_eq!(
            surrogateescape(b"a\xff\xc3\xa9"),
            b"a\xed\xb3\xbf\xc3\xa9".to_vec()
        );
    }
}
