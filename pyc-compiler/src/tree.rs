//! Compiling trees of sources into their caches, as `compileall` walks them.
//!
//! Walking is sequential and sorted (directory order is `compileall`'s: names sorted, the
//! `__pycache__` directories skipped, symlinked directories not followed); compiling runs on
//! all cores. The reports come back in walk order whatever the thread count.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use pyc_loader::cache_path::{cache_from_source, OptLevel};
use pyc_loader::header::{Header, InvalidationMode};
use pyc_loader::load::{CheckHashBasedPycs, PycFile, SourceStamp, Verdict};
use pyc_loader::Target;
use rayon::prelude::*;

use crate::cache_write::{pyc_bytes, write_atomic};
use crate::error::CompileError;
use crate::{compile_source, Mode, Options};

/// What to compile and how.
#[derive(Clone, Debug)]
pub struct TreeOptions {
    pub target: Target,
    /// Optimization levels to write a cache for (at least one).
    pub levels: Vec<OptLevel>,
    pub invalidation: InvalidationMode,
    /// Recompile even when the cache is up to date.
    pub force: bool,
    /// How many directory levels below each argument to descend.
    pub max_depth: usize,
}

/// A source found by the walk, or a directory listed.
#[derive(Debug)]
pub enum Found {
    /// A directory the walk entered (compileall prints "Listing ...").
    Dir(PathBuf),
    /// A `.py` file to compile.
    Source(PathBuf),
    /// A directory whose entries could not be listed (compileall: "Can't list").
    Unlistable(PathBuf),
    /// A path given to compile that cannot be examined.
    Missing(PathBuf, io::Error),
}

/// What happened to one source at one optimization level.
#[derive(Debug)]
pub enum Outcome {
    Compiled,
    /// The cache was already what importlib accepts.
    UpToDate,
    /// The source does not compile.
    Rejected(CompileError),
    /// Reading the source or writing the cache failed.
    Io(io::Error),
}

/// The result for one source.
#[derive(Debug)]
pub struct Report {
    pub source: PathBuf,
    pub level: OptLevel,
    pub outcome: Outcome,
}

/// Lists what `compileall` would visit under `paths`, in its order.
pub fn walk(paths: &[PathBuf], max_depth: usize) -> Vec<Found> {
    let mut found = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk_dir(path, max_depth, &mut found),
            Ok(_) => {
                if is_source(path) {
                    found.push(Found::Source(path.clone()));
                }
            }
            Err(e) => found.push(Found::Missing(path.clone(), e)),
        }
    }
    found
}

fn walk_dir(dir: &Path, depth: usize, found: &mut Vec<Found>) {
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
        let path = dir.join(&name);
        let is_dir = fs::metadata(&path).is_ok_and(|m| m.is_dir());
        if !is_dir {
            if is_source(&path) {
                found.push(Found::Source(path));
            }
        } else if depth > 0 && !fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) {
            walk_dir(&path, depth - 1, found);
        }
    }
}

fn is_source(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "py")
}

/// Compiles every source at every level of `options`, in parallel; the reports are in the
/// order of `sources`, then of the levels.
pub fn compile_sources(sources: &[PathBuf], options: &TreeOptions) -> Vec<Report> {
    sources
        .par_iter()
        .flat_map_iter(|source| {
            options.levels.iter().map(move |&level| Report {
                source: source.clone(),
                level,
                outcome: compile_one(source, level, options),
            })
        })
        .collect()
}

fn compile_one(source: &Path, level: OptLevel, options: &TreeOptions) -> Outcome {
    let cache = cache_from_source(source, options.target, level);
    let outcome = (|| -> io::Result<Outcome> {
        let meta = fs::metadata(source)?;
        let stamp = SourceStamp::from_metadata(&meta);
        let text = fs::read(source)?;
        if !options.force && cache_is_fresh(&cache, options, stamp, &text) {
            return Ok(Outcome::UpToDate);
        }
        let compile_options = Options {
            target: options.target,
            optimize: level.level(),
            mode: Mode::Module,
        };
        let code = match compile_source(&text, &source.to_string_lossy(), &compile_options) {
            Ok(code) => code,
            Err(e) => return Ok(Outcome::Rejected(e)),
        };
        let data = pyc_bytes(&code, options.target, options.invalidation, &text, stamp)?;
        use std::os::unix::fs::PermissionsExt;
        write_atomic(&cache, &data, meta.permissions().mode())?;
        Ok(Outcome::Compiled)
    })();
    outcome.unwrap_or_else(Outcome::Io)
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
