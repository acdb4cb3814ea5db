//! Tree audits: every source and every cache under some paths, each with the status importlib
//! would give it.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache_path::{cache_from_source, CacheName, OptLevel, PYCACHE};
use crate::header::Header;
use crate::load::{read_sized, validate_code, CheckHashBasedPycs, PycFile, SourceStamp, Verdict};
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

/// The files found under the audited paths.
#[derive(Default)]
struct Found {
    sources: HashSet<PathBuf>,
    /// Caches inside `__pycache__` directories.
    pep3147: HashSet<PathBuf>,
    /// `name.pyc` files outside `__pycache__`.
    legacy: HashSet<PathBuf>,
}

impl Found {
    fn add_file(&mut self, path: PathBuf) {
        let in_pycache = path.parent().and_then(Path::file_name) == Some(PYCACHE.as_ref());
        match path.extension().and_then(|e| e.to_str()) {
            Some("py") if !in_pycache => {
                self.sources.insert(path);
            }
            Some("pyc") if in_pycache => {
                self.pep3147.insert(path);
            }
            Some("pyc") => {
                self.legacy.insert(path);
            }
            _ => {}
        }
    }

    /// Walks `dir` without following symbolic links to directories (no loops).
    fn walk(&mut self, dir: &Path) -> io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                self.walk(&path)?;
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                self.add_file(path);
            }
        }
        Ok(())
    }
}

/// Audits every source and cache under `paths` (files or directories). Entries come sorted
/// by path, each file once per selected level.
pub fn audit(paths: &[PathBuf], options: &AuditOptions) -> Result<Vec<Entry>, AuditError> {
    let mut found = Found::default();
    for path in paths {
        let meta = fs::metadata(path).map_err(|source| AuditError {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            found.walk(path).map_err(|source| AuditError {
                path: path.clone(),
                source,
            })?;
        } else {
            found.add_file(path.clone());
        }
    }

    let sources: Vec<(&PathBuf, OptLevel)> = found
        .sources
        .iter()
        .flat_map(|s| options.levels.iter().map(move |&level| (s, level)))
        .collect();
    let mut entries: Vec<Entry> = sources
        .par_iter()
        .map(|&(source, level)| audit_source(source, level, options))
        .collect();
    entries.par_extend(
        found
            .pep3147
            .par_iter()
            .filter_map(|cache| audit_pep3147_cache(cache, &found.sources, options)),
    );
    entries.par_extend(found.legacy.par_iter().map(|cache| {
        let source = cache.with_extension("py");
        if found.sources.contains(&source) || source.exists() {
            Entry {
                status: Status::Other,
                source: Some(source),
                cache: Some(cache.clone()),
                detail: "legacy cache beside its source: importlib uses the source".into(),
            }
        } else {
            audit_sourceless(cache, options.target)
        }
    }));
    // Byte order of the paths: deterministic, and cheaper than component order.
    entries.sort_unstable_by(|a, b| sort_key(a).cmp(&sort_key(b)));
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

/// The status of `source`'s cache at `level`.
fn audit_source(source: &Path, level: OptLevel, options: &AuditOptions) -> Entry {
    let cache = cache_from_source(source, options.target, level);
    let pyc = match PycFile::open(&cache) {
        Ok(pyc) => pyc,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Entry {
                status: Status::Missing,
                source: Some(source.to_owned()),
                cache: None,
                detail: format!("no {}", cache.display()),
            }
        }
        Err(e) => return entry(Status::Corrupt, source, &cache, format!("unreadable: {e}")),
    };
    let (stamp, size) = match fs::metadata(source) {
        Ok(meta) => (SourceStamp::from_metadata(&meta), meta.len() as usize),
        Err(e) => {
            return entry(
                Status::Stale,
                source,
                &cache,
                format!("source unreadable: {e}"),
            )
        }
    };
    let verdict = pyc.verdict(options.target, stamp, options.check_hash, || {
        read_sized(&mut fs::File::open(source)?, size)
    });
    match verdict {
        Ok(verdict) => verdict_entry(verdict, source, &cache),
        Err(e) => entry(
            Status::Stale,
            source,
            &cache,
            format!("source unreadable: {e}"),
        ),
    }
}

fn verdict_entry(verdict: Verdict, source: &Path, cache: &Path) -> Entry {
    match verdict {
        Verdict::Fresh => entry(Status::Fresh, source, cache, ""),
        Verdict::Stale(reason) => entry(Status::Stale, source, cache, reason.to_string()),
        Verdict::BadHeader(e) => entry(Status::Corrupt, source, cache, e.to_string()),
        Verdict::BadBody(e) => entry(Status::Corrupt, source, cache, e.to_string()),
    }
}

/// A `__pycache__` cache: `None` if an audited source claims it (it was reported with its
/// source); otherwise another target or level, an orphan, or a cache whose source was not
/// among the audited paths.
fn audit_pep3147_cache(
    cache: &Path,
    sources: &HashSet<PathBuf>,
    options: &AuditOptions,
) -> Option<Entry> {
    let other = |detail: String| {
        Some(Entry {
            status: Status::Other,
            source: None,
            cache: Some(cache.to_owned()),
            detail,
        })
    };
    let Some(name) = cache.file_name().and_then(CacheName::parse) else {
        return other("not a cache file name".into());
    };
    let level = match name.opt {
        Some(level)
            if name.tag == options.target.cache_tag() && options.levels.contains(&level) =>
        {
            level
        }
        _ => return other(format!("cache for {}", describe(&name))),
    };
    let mut file_name = name.module;
    file_name.push(".py");
    let pycache = cache.parent().unwrap_or(Path::new(""));
    let source = pycache.parent().unwrap_or(Path::new("")).join(file_name);
    if sources.contains(&source) {
        return None;
    }
    if source.exists() {
        // The source exists but was not audited (a cache path given alone): audit the pair.
        return Some(audit_source(&source, level, options));
    }
    Some(Entry {
        status: Status::Orphan,
        source: None,
        cache: Some(cache.to_owned()),
        detail: format!("source {} is gone", source.display()),
    })
}

fn describe(name: &CacheName) -> String {
    match name.opt {
        Some(OptLevel::O0) => name.tag.clone(),
        Some(opt) => format!("{} opt-{}", name.tag, opt.level()),
        None => format!("{} with an unknown optimization tag", name.tag),
    }
}

/// A legacy `name.pyc` with no `name.py`: importlib loads it as a sourceless module after
/// checking only its magic and flags.
fn audit_sourceless(cache: &Path, target: Target) -> Entry {
    let status = |status, detail: String| Entry {
        status,
        source: None,
        cache: Some(cache.to_owned()),
        detail,
    };
    let pyc = match PycFile::open(cache) {
        Ok(pyc) => pyc,
        Err(e) => return status(Status::Corrupt, format!("unreadable: {e}")),
    };
    match Header::parse(&pyc.data) {
        Ok(header) if header.target() != Some(target) => {
            let which = header
                .target()
                .map_or("an unknown version".into(), |t| t.to_string());
            return status(Status::Other, format!("sourceless cache for {which}"));
        }
        Err(e) => return status(Status::Corrupt, e.to_string()),
        Ok(_) => {}
    }
    match validate_code(&pyc.data) {
        Ok(_) => status(Status::Fresh, "sourceless".into()),
        Err(e) => status(Status::Corrupt, e.to_string()),
    }
}
