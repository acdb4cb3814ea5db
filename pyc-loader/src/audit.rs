//! Tree audits: every source and every cache under some paths, each with the status importlib
//! would give it.

use rustc_hash::FxHashSet;
use std::cell::RefCell;
use std::ffi::{CStr, CString, OsStr};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache_path::{cache_from_source, CacheName, OptLevel, PYCACHE};
use crate::header::Header;
use crate::load::{stale_reason, validate_code, CheckHashBasedPycs};
use crate::open_dir::{Kind, OpenDir};
use crate::Target;

/// What a file's audit found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The cache importlib would use for its source.
    Fresh,
    /// A cache importlib would reject for its source (mtime, size or hash).
    Stale,
    /// A source without a cache for the selected target and level.
    Missing,
    /// A `__pycache__` cache whose source is gone: never loaded.
    Orphan,
    /// A cache that is truncated, has a bad magic or flags, or does not unmarshal.
    Corrupt,
    /// A cache for another target or optimization level, or one importlib does not use
    /// (a legacy `name.pyc` beside its `name.py`).
    Other,
}

impl Status {
    /// The status's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fresh => "fresh",
            Status::Stale => "stale",
            Status::Missing => "missing",
            Status::Orphan => "orphan",
            Status::Corrupt => "corrupt",
            Status::Other => "other",
        }
    }

    /// Whether this status fails an audit.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Status::Stale | Status::Missing | Status::Orphan | Status::Corrupt
        )
    }
}

/// One reported file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The status.
    pub status: Status,
    /// The source, if there is one.
    pub source: Option<PathBuf>,
    /// The cache, if there is one.
    pub cache: Option<PathBuf>,
    /// Why, for anything but `fresh`.
    pub detail: String,
}

/// What an audit checks.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// The interpreter whose caches are checked.
    pub target: Target,
    /// The optimization levels whose caches are checked.
    pub levels: Vec<OptLevel>,
    /// How hash-based caches are checked.
    pub check_hash: CheckHashBasedPycs,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            target: Target::DEFAULT,
            levels: vec![OptLevel::O0],
            check_hash: CheckHashBasedPycs::Default,
        }
    }
}

/// A path given to the audit that cannot be audited.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct AuditError {
    /// The path.
    pub path: PathBuf,
    /// The cause.
    pub source: io::Error,
}

/// Audits every source and cache under `paths` (files or directories). Entries come sorted
/// by path, each file once per selected level.
///
/// Directories are audited in parallel, each through an open descriptor (see
/// [`crate::open_dir`]); files given by name are audited as if their directory held only them.
pub fn audit(paths: &[PathBuf], options: &AuditOptions) -> Result<Vec<Entry>, AuditError> {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|source| AuditError {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            dirs.push(path);
        } else {
            files.push(path);
        }
    }
    let trees: Vec<Vec<Vec<Entry>>> = dirs
        .par_iter()
        .map(|dir| {
            let open = OpenDir::open(dir).map_err(|source| AuditError {
                path: dir.to_path_buf(),
                source,
            })?;
            audit_dir(open, options)
        })
        .collect::<Result<_, _>>()?;
    let chunks: Vec<Vec<Entry>> = trees.into_iter().flatten().collect();
    let mut entries = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    entries.extend(chunks.into_iter().flatten());
    entries.par_extend(
        files
            .par_iter()
            .flat_map_iter(|file| audit_named_file(file, options)),
    );
    // Byte order of the paths: deterministic, and cheaper than component order. A file
    // reached twice (a directory and a file in it both given) is reported once.
    entries.sort_unstable_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    // (Rows equal in their paths but not their detail, such as the missing caches of several
    // levels, are distinct.)
    entries.dedup();
    Ok(entries)
}

fn path_bytes(path: &Option<PathBuf>) -> Option<&[u8]> {
    path.as_deref().map(|p| p.as_os_str().as_encoded_bytes())
}

/// Entries sort by source (or cache when there is none), then cache.
fn sort_key(e: &Entry) -> (Option<&[u8]>, Option<&[u8]>) {
    (
        path_bytes(&e.source).or(path_bytes(&e.cache)),
        path_bytes(&e.cache),
    )
}

fn entry(status: Status, source: &Path, cache: &Path, detail: impl Into<String>) -> Entry {
    Entry {
        status,
        source: Some(source.to_owned()),
        cache: Some(cache.to_owned()),
        detail: detail.into(),
    }
}

fn cache_entry(status: Status, cache: PathBuf, detail: String) -> Entry {
    Entry {
        status,
        source: None,
        cache: Some(cache),
        detail,
    }
}

/// A directory's files as the audit sorts them.
#[derive(Default)]
struct Listing {
    /// `*.py` files.
    sources: Vec<CString>,
    /// `*.pyc` files (legacy caches, or PEP 3147 caches inside `__pycache__`).
    caches: Vec<CString>,
    /// Subdirectories, `__pycache__` excepted.
    subdirs: Vec<CString>,
    /// What `__pycache__` is, if there is one.
    pycache: Option<Kind>,
}

impl Listing {
    fn read(dir: &mut OpenDir) -> io::Result<Listing> {
        let mut listing = Listing::default();
        for (name, kind) in dir.list()? {
            let bytes = name.to_bytes();
            match kind {
                _ if bytes == PYCACHE.as_bytes() => listing.pycache = Some(kind),
                Kind::Dir => listing.subdirs.push(name),
                Kind::File if bytes.ends_with(b".py") => listing.sources.push(name),
                Kind::File if bytes.ends_with(b".pyc") => listing.caches.push(name),
                Kind::File | Kind::Other => {}
            }
        }
        Ok(listing)
    }
}

/// The names of a directory's sources, for lookups by name.
type SourceNames<'a> = FxHashSet<&'a [u8]>;

/// Audits the tree under `dir`: its sources with their caches, its `__pycache__`, its legacy
/// caches, and its subdirectories, all in parallel.
/// Returns the entries as one chunk per directory: joining them once at the end copies each
/// entry once, where merging them up the tree would copy it once per level.
fn audit_dir(mut dir: OpenDir, options: &AuditOptions) -> Result<Vec<Vec<Entry>>, AuditError> {
    let listing = Listing::read(&mut dir).map_err(|source| AuditError {
        path: dir.path.clone(),
        source,
    })?;
    let pycache_name = c"__pycache__";
    let (pycache, pycache_listing) = match listing.pycache {
        Some(Kind::Dir) => {
            let mut pycache = dir.subdir(pycache_name).map_err(|source| AuditError {
                path: dir.join(pycache_name),
                source,
            })?;
            let listing = Listing::read(&mut pycache).map_err(|source| AuditError {
                path: pycache.path.clone(),
                source,
            })?;
            (Some(pycache), listing)
        }
        // A link to a directory elsewhere: importlib follows it to the caches, but a walk
        // does not list it.
        Some(_) => (
            OpenDir::open_for_lookup(&dir.join(pycache_name)).ok(),
            Listing::default(),
        ),
        None => (None, Listing::default()),
    };
    let names: SourceNames = listing.sources.iter().map(|s| s.to_bytes()).collect();
    let (dir, pycache) = (&dir, pycache.as_ref());

    let (entries, below) =
        rayon::join(
            || {
                let mut entries: Vec<Entry> = listing
                    .sources
                    .par_iter()
                    .flat_map_iter(|source| {
                        options
                            .levels
                            .iter()
                            .map(move |&level| audit_source(dir, pycache, source, level, options))
                    })
                    .collect();
                if let Some(pycache) = pycache {
                    entries.par_extend(pycache_listing.caches.par_iter().filter_map(|cache| {
                        audit_pep3147_cache(dir, pycache, cache, &names, options)
                    }));
                }
                entries.par_extend(
                    listing
                        .caches
                        .par_iter()
                        .map(|cache| audit_legacy_cache(dir, cache, &names, options.target)),
                );
                entries
            },
            || {
                // The subdirectories of `__pycache__` (unusual) are walked as any other.
                let nested = pycache.into_iter().flat_map(|p| {
                    pycache_listing
                        .subdirs
                        .iter()
                        .map(move |name| (p, name.as_c_str()))
                });
                let all: Vec<(&OpenDir, &CStr)> = listing
                    .subdirs
                    .iter()
                    .map(|name| (dir, name.as_c_str()))
                    .chain(nested)
                    .collect();
                all.par_iter()
                    .map(|&(parent, name)| {
                        let sub = parent.subdir(name).map_err(|source| AuditError {
                            path: parent.join(name),
                            source,
                        })?;
                        audit_dir(sub, options)
                    })
                    .collect::<Result<Vec<_>, _>>()
            },
        );
    let mut chunks: Vec<Vec<Entry>> = below?.into_iter().flatten().collect();
    chunks.push(entries);
    Ok(chunks)
}

/// A file given by name: a source, a PEP 3147 cache or a legacy cache (anything else is not
/// reported).
fn audit_named_file(path: &Path, options: &AuditOptions) -> Vec<Entry> {
    let parent = path.parent().unwrap_or(Path::new(""));
    let (Some(name), Some(ext)) = (path.file_name(), path.extension()) else {
        return Vec::new();
    };
    let Ok(name) = CString::new(name.as_bytes()) else {
        return Vec::new();
    };
    let in_pycache = parent.file_name() == Some(PYCACHE.as_ref());
    // A directory that cannot be opened for lookups makes every file in it unreadable.
    let unreadable = |e: io::Error| {
        vec![cache_entry(
            Status::Corrupt,
            path.to_owned(),
            format!("unreadable: {e}"),
        )]
    };
    match ext.as_bytes() {
        b"py" if !in_pycache => {
            let dir = match OpenDir::open_for_lookup(parent) {
                Ok(dir) => dir,
                Err(e) => return unreadable(e),
            };
            let pycache = OpenDir::open_for_lookup(&parent.join(PYCACHE)).ok();
            options
                .levels
                .iter()
                .map(|&level| audit_source(&dir, pycache.as_ref(), &name, level, options))
                .collect()
        }
        b"pyc" if in_pycache => {
            let root = parent.parent().unwrap_or(Path::new(""));
            let (dir, pycache) = match (
                OpenDir::open_for_lookup(root),
                OpenDir::open_for_lookup(parent),
            ) {
                (Ok(dir), Ok(pycache)) => (dir, pycache),
                (Err(e), _) | (_, Err(e)) => return unreadable(e),
            };
            audit_pep3147_cache(&dir, &pycache, &name, &SourceNames::default(), options)
                .into_iter()
                .collect()
        }
        b"pyc" => match OpenDir::open_for_lookup(parent) {
            Ok(dir) => vec![audit_legacy_cache(
                &dir,
                &name,
                &SourceNames::default(),
                options.target,
            )],
            Err(e) => unreadable(e),
        },
        _ => Vec::new(),
    }
}

/// Buffers reused by every file a thread audits.
struct Scratch {
    cache: Vec<u8>,
    source: Vec<u8>,
}

/// The initial size of each buffer: most files fit, so a buffer is rarely moved (each move
/// touches fresh memory the kernel must zero) and most reads need no `fstat` to size them.
const SCRATCH_CAPACITY: usize = 1 << 20;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        cache: vec![0; SCRATCH_CAPACITY],
        source: vec![0; SCRATCH_CAPACITY],
    });
}

/// The PEP 3147 cache file name of source `name` (`cache_from_source` without the directory).
fn cache_name(name: &CStr, target: Target, level: OptLevel) -> CString {
    let cache = cache_from_source(Path::new(OsStr::from_bytes(name.to_bytes())), target, level);
    let file_name = cache.file_name().unwrap_or_default().as_bytes();
    CString::new(file_name).expect("a cache name made of a C string's bytes has no NUL")
}

/// The status of source `name` in `dir`, for its cache at `level` in `pycache` (absent when
/// there is no `__pycache__`).
fn audit_source(
    dir: &OpenDir,
    pycache: Option<&OpenDir>,
    name: &CStr,
    level: OptLevel,
    options: &AuditOptions,
) -> Entry {
    let source = dir.join(name);
    let cache_name = cache_name(name, options.target, level);
    let cache = dir
        .path
        .join(PYCACHE)
        .join(OsStr::from_bytes(cache_name.to_bytes()));
    SCRATCH.with_borrow_mut(|scratch| {
        let Scratch {
            cache: cache_buf,
            source: source_buf,
        } = scratch;
        let read = match pycache {
            Some(pycache) => pycache.read(&cache_name, cache_buf),
            None => Err(io::ErrorKind::NotFound.into()),
        };
        let data = match read {
            Ok(data) => data,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Entry {
                    status: Status::Missing,
                    source: Some(source),
                    cache: None,
                    detail: format!("no {}", cache.display()),
                }
            }
            Err(e) => return entry(Status::Corrupt, &source, &cache, format!("unreadable: {e}")),
        };
        let unreadable = |e: io::Error| {
            entry(
                Status::Stale,
                &source,
                &cache,
                format!("source unreadable: {e}"),
            )
        };
        let header = match Header::parse_for(data, options.target) {
            Ok(header) => header,
            Err(e) => return entry(Status::Corrupt, &source, &cache, e.to_string()),
        };
        let stale = stale_reason(
            options.target,
            &header,
            || dir.stamp(name),
            options.check_hash,
            || dir.read(name, source_buf),
        );
        match stale {
            Ok(Some(reason)) => entry(Status::Stale, &source, &cache, reason.to_string()),
            Ok(None) => match validate_code(data) {
                Ok(()) => entry(Status::Fresh, &source, &cache, ""),
                Err(e) => entry(Status::Corrupt, &source, &cache, e.to_string()),
            },
            Err(e) => unreadable(e),
        }
    })
}

/// Cache `name` in `pycache` (the `__pycache__` of `dir`): `None` if one of `sources` (the
/// audited sources of `dir`) claims it (it was reported with its source); otherwise another
/// target or level, an orphan, or a cache whose source was not among the audited paths.
fn audit_pep3147_cache(
    dir: &OpenDir,
    pycache: &OpenDir,
    name: &CStr,
    sources: &SourceNames,
    options: &AuditOptions,
) -> Option<Entry> {
    let cache = pycache.join(name);
    let Some(parsed) = CacheName::parse(OsStr::from_bytes(name.to_bytes())) else {
        return Some(cache_entry(
            Status::Other,
            cache,
            "not a cache file name".into(),
        ));
    };
    let level = match parsed.opt {
        Some(level)
            if parsed.tag == options.target.cache_tag() && options.levels.contains(&level) =>
        {
            level
        }
        _ => {
            return Some(cache_entry(
                Status::Other,
                cache,
                format!("cache for {}", describe(&parsed)),
            ))
        }
    };
    let mut source = parsed.module.as_bytes().to_vec();
    source.extend_from_slice(b".py");
    if sources.contains(&source[..]) {
        return None;
    }
    let source = CString::new(source).expect("a module name from a C string has no NUL");
    if dir.exists(&source) {
        // The source exists but was not audited (a cache path given alone): audit the pair.
        return Some(audit_source(dir, Some(pycache), &source, level, options));
    }
    let detail = format!("source {} is gone", dir.join(&source).display());
    Some(cache_entry(Status::Orphan, cache, detail))
}

fn describe(name: &CacheName) -> String {
    match name.opt {
        Some(OptLevel::O0) => name.tag.clone(),
        Some(opt) => format!("{} opt-{}", name.tag, opt.level()),
        None => format!("{} with an unknown optimization tag", name.tag),
    }
}

/// A `name.pyc` outside `__pycache__`: if `name.py` exists importlib ignores it; otherwise
/// importlib loads it as a sourceless module after checking only its magic and flags.
fn audit_legacy_cache(dir: &OpenDir, name: &CStr, sources: &SourceNames, target: Target) -> Entry {
    let cache = dir.join(name);
    let stem = &name.to_bytes()[..name.to_bytes().len() - b".pyc".len()];
    let source = [stem, b".py"].concat();
    let source_c = CString::new(&source[..]).expect("bytes of a C string have no NUL");
    if sources.contains(&source[..]) || dir.exists(&source_c) {
        return Entry {
            status: Status::Other,
            source: Some(dir.join(&source_c)),
            cache: Some(cache),
            detail: "legacy cache beside its source: importlib uses the source".into(),
        };
    }
    SCRATCH.with_borrow_mut(|scratch| {
        let data = match dir.read(name, &mut scratch.cache) {
            Ok(data) => data,
            Err(e) => return cache_entry(Status::Corrupt, cache, format!("unreadable: {e}")),
        };
        match Header::parse(data) {
            Ok(header) if header.target() != Some(target) => {
                let which = header
                    .target()
                    .map_or("an unknown version".into(), |t| t.to_string());
                return cache_entry(
                    Status::Other,
                    cache,
                    format!("sourceless cache for {which}"),
                );
            }
            Err(e) => return cache_entry(Status::Corrupt, cache, e.to_string()),
            Ok(_) => {}
        }
        match validate_code(data) {
            Ok(_) => cache_entry(Status::Fresh, cache, "sourceless".into()),
            Err(e) => cache_entry(Status::Corrupt, cache, e.to_string()),
        }
    })
}
