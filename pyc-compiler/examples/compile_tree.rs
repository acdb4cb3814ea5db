//! In-process compilation speed (`make bench`): reads the given `.py` files (directories are
//! searched) into memory, then compiles them all on one thread, and prints one JSON line:
//! `{"files": N, "failed": F, "seconds": S, "cpu_seconds": C}` (compilation only, reading
//! excluded; `cpu_seconds` is the process's user + system time over the same span).
//!
//!     compile_tree PATH...

use std::path::{Path, PathBuf};
use std::time::Instant;

use pyc_compiler::{compile_source, Options};

/// The `pyc` binary's allocator (a copy of its `src/alloc.rs`), so the figure is the one
/// users get.
#[path = "../../src/alloc.rs"]
mod alloc;

#[global_allocator]
static ALLOCATOR: alloc::MiMalloc = alloc::MiMalloc;

fn main() {
    let mut files = Vec::new();
    for root in std::env::args_os().skip(1) {
        collect(Path::new(&root), &mut files);
    }
    let sources: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter_map(|path| {
            Some((
                path.to_string_lossy().into_owned(),
                std::fs::read(path).ok()?,
            ))
        })
        .collect();
    let options = Options::default();
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let failed = sources
        .iter()
        .filter(|(name, text)| compile_source(text, name, &options).is_err())
        .count();
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    println!(
        "{{\"files\": {}, \"failed\": {failed}, \"seconds\": {seconds:.4}, \"cpu_seconds\": {cpu:.4}}}",
        sources.len()
    );
}

/// User + system CPU time of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                collect(&path, out);
            }
        }
    } else if path.extension().is_some_and(|e| e == "py") {
        out.push(path.to_owned());
    }
}
