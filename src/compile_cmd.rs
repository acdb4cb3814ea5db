//! `pyc compile`: write the caches of source trees, as `python -m compileall` does, with its
//! options and its output on stdout; a progress bar and a summary go to stderr.
//!
//! Deliberate differences from compileall 3.12:
//! - `-j 0` (all cores) is the default; the lines come in walk order as soon as the files
//!   before them are compiled, whatever the thread count.
//! - Without `-f` each level's cache is kept only if importlib would accept it (magic, flags,
//!   mtime and size, or the source hash), not on compileall's mtime-only header test.
//! - A directory that cannot be listed (or a path that does not exist) makes the status 1;
//!   `.py` names that are not regular files (broken symlinks, loops) are named on stderr.
//! - With `-b` and several `-o` levels only the last level is compiled: every level writes
//!   the same `name.pyc`, and compileall leaves the last one there.
//! - `-x` uses `fancy-regex` (Python's syntax, lookaround and backreferences included) on the
//!   path decoded lossily; `-i` ignores blank lines; paths or `-i` are required
//!   (compileall would compile `sys.path`, which has no meaning without an interpreter).
//! - Write errors name the cache, not the temporary file.
//! - File names that are not UTF-8 are compiled in as Python's `surrogateescape` decodes them.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pyc_compiler::tree::{
    compile_each, walk, Found, Outcome, Rename, Report, Source, TreeOptions, WalkOptions,
};
use pyc_compiler::{CompileError, ErrorKind};
use pyc_loader::{InvalidationMode, OptLevel, Target};

use crate::manifest;

/// Arguments of `pyc compile`: `compileall`'s, with the same meaning.
#[derive(Args)]
pub struct CompileArgs {
    /// Files and directories to compile.
    #[arg(required_unless_present = "file_list")]
    paths: Vec<PathBuf>,
    /// Don't recurse into subdirectories (`-r` takes precedence).
    #[arg(short = 'l')]
    no_recurse: bool,
    /// Maximum recursion level into subdirectories.
    #[arg(short = 'r', value_name = "N")]
    recursion: Option<usize>,
    /// Rewrite caches even when they are up to date.
    #[arg(short = 'f')]
    force: bool,
    /// Output less: once for errors only, twice for nothing.
    #[arg(short = 'q', action = clap::ArgAction::Count)]
    quiet: u8,
    /// Write legacy `name.pyc` files beside the sources instead of `__pycache__` caches.
    #[arg(short = 'b')]
    legacy: bool,
    /// Directory recorded in the caches in place of the argument's (tracebacks show it).
    #[arg(short = 'd', value_name = "DESTDIR", conflicts_with_all = ["stripdir", "prependdir"])]
    ddir: Option<PathBuf>,
    /// Leading part of the source paths left out of the recorded file names.
    #[arg(short = 's', value_name = "STRIPDIR")]
    stripdir: Option<PathBuf>,
    /// Prefix added to the recorded file names (after `-s`).
    #[arg(short = 'p', value_name = "PREPENDDIR")]
    prependdir: Option<PathBuf>,
    /// Skip files whose full path matches this regular expression (Python `re.search`).
    #[arg(short = 'x', value_name = "REGEXP")]
    exclude: Option<String>,
    /// Also compile the files and directories listed in FILE, one per line (`-`: stdin).
    #[arg(short = 'i', value_name = "FILE")]
    file_list: Option<PathBuf>,
    /// Worker threads; 0 uses all cores.
    #[arg(short = 'j', long = "workers", default_value_t = 0)]
    workers: usize,
    /// Optimization level to write caches for (0, 1, 2; -1 is the interpreter's, 0);
    /// repeat for several.
    #[arg(short = 'o', value_name = "LEVEL", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i8).range(-1..=2))]
    levels: Vec<i8>,
    /// Skip symlinked files pointing outside DIR.
    #[arg(short = 'e', value_name = "DIR")]
    limit_symlinks: Option<PathBuf>,
    /// How the caches are invalidated (PEP 552); checked-hash when SOURCE_DATE_EPOCH is set.
    #[arg(long, value_enum)]
    invalidation_mode: Option<Mode>,
    /// Hard-link the caches of different optimization levels when they are identical.
    #[arg(long)]
    hardlink_dupes: bool,
    /// Interpreter the caches are for.
    #[arg(long, default_value_t = Target::DEFAULT)]
    target: Target,
    /// Write a JSON manifest of every source and cache with its SHA-256 digest.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Timestamp,
    CheckedHash,
    UncheckedHash,
}

/// The invalidation mode when none is asked for: as py_compile, a reproducible-build epoch
/// asks for hash-based caches.
pub fn default_invalidation() -> InvalidationMode {
    if std::env::var_os("SOURCE_DATE_EPOCH").is_some_and(|v| !v.is_empty()) {
        InvalidationMode::CheckedHash
    } else {
        InvalidationMode::Timestamp
    }
}

/// Compiles and prints as `compileall` does; exit status 1 when any file failed, 2 for
/// bad arguments.
pub fn run(args: &CompileArgs) -> ExitCode {
    match run_checked(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pyc compile: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_checked(args: &CompileArgs) -> Result<ExitCode, String> {
    let started = Instant::now();
    if args.target != Target::V3_12 {
        return Err(format!(
            "compiling for {} is not supported yet (only 3.12)",
            args.target
        ));
    }
    if args.hardlink_dupes && args.levels.len() < 2 {
        return Err(
            "Hardlinking of duplicated bytecode makes sense only for more than one \
                    optimization level."
                .into(),
        );
    }
    let exclude = args
        .exclude
        .as_deref()
        .map(fancy_regex::Regex::new)
        .transpose()
        .map_err(|e| format!("-x: {e}"))?;
    let mut paths = args.paths.clone();
    if let Some(list) = &args.file_list {
        match read_file_list(list) {
            Ok(more) => paths.extend(more),
            Err(_) => {
                if args.quiet < 2 {
                    println!("Error reading file list {}", list.display());
                }
                return Ok(ExitCode::from(1));
            }
        }
    }
    let mut levels: Vec<OptLevel> = args
        .levels
        .iter()
        .filter_map(|&l| OptLevel::from_level(l.max(0) as u8))
        .collect();
    if levels.is_empty() {
        levels.push(OptLevel::O0);
    }
    levels.sort();
    levels.dedup();
    let options = TreeOptions {
        target: args.target,
        levels,
        invalidation: match args.invalidation_mode {
            Some(Mode::Timestamp) => InvalidationMode::Timestamp,
            Some(Mode::CheckedHash) => InvalidationMode::CheckedHash,
            Some(Mode::UncheckedHash) => InvalidationMode::UncheckedHash,
            None => default_invalidation(),
        },
        force: args.force,
        legacy: args.legacy,
        hardlink_dupes: args.hardlink_dupes,
        digest: args
            .manifest
            .is_some()
            .then_some(manifest::sha256 as fn(&[u8]) -> _),
    };
    let excluded = |path: &Path| {
        exclude.as_ref().is_some_and(|rx| {
            rx.is_match(path.to_string_lossy().as_ref())
                .unwrap_or(false)
        })
    };
    let walk_options = WalkOptions {
        // compileall's default depth is the interpreter's recursion limit.
        max_depth: args
            .recursion
            .unwrap_or(if args.no_recurse { 0 } else { 1000 }),
        exclude: &excluded,
        limit_symlinks: args
            .limit_symlinks
            .clone()
            .filter(|d| !d.as_os_str().is_empty()),
        rename: match (&args.ddir, &args.stripdir, &args.prependdir) {
            (Some(dir), _, _) => Rename::DestDir(dir.clone()),
            (None, None, None) => Rename::Keep,
            (None, strip, prepend) => Rename::StripPrepend {
                strip: strip.clone(),
                prepend: prepend.clone(),
            },
        },
    };
    let found = walk(&paths, &walk_options);
    let sources: Vec<Source> = found
        .iter()
        .filter_map(|f| match f {
            Found::Source(source) => Some(source.clone()),
            _ => None,
        })
        .collect();
    let bar = progress_bar(sources.len() as u64, args.quiet);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.workers)
        .build()
        .map_err(|e| e.to_string())?;
    // Ctrl-C: files under way finish (their caches are whole), the rest are not started.
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::Relaxed));

    let mut summary = Summary::default();
    let mut digests = Vec::new();
    let (tx, rx) = mpsc::channel::<(usize, Report)>();
    let finished = std::thread::scope(|scope| -> Result<bool, String> {
        let (sources, options, flag) = (&sources, &options, &flag);
        scope.spawn(move || {
            pool.install(|| {
                compile_each(
                    sources,
                    options,
                    &|| flag.load(Ordering::Relaxed),
                    &|i, report| {
                        let _ = tx.send((i, report));
                    },
                )
            })
        });
        // The lines go out in walk order as soon as the reports before them are in.
        let mut out = io::stdout().lock();
        let mut pending: Vec<Option<Report>> = (0..sources.len()).map(|_| None).collect();
        let mut next = 0;
        for item in &found {
            let mut buf = Vec::new();
            match item {
                Found::Dir(dir) if args.quiet == 0 => {
                    let _ = writeln!(buf, "Listing {}...", py_repr(dir));
                }
                Found::Dir(_) => {}
                // compileall carries on in silence; a deployment step should not pass.
                Found::Unlistable(dir) => {
                    summary.failed += 1;
                    if args.quiet < 2 {
                        let _ = writeln!(buf, "Can't list {}", py_repr(dir));
                    }
                }
                // compileall passes over these in silence; say so on stderr.
                Found::NotAFile(path, e) => {
                    if args.quiet < 2 {
                        bar.suspend(|| eprintln!("pyc compile: skipped {}: {e}", path.display()));
                    }
                }
                Found::Source(source) => {
                    let report = loop {
                        if let Some(report) = pending[next].take() {
                            break report;
                        }
                        let (i, report) = rx.recv().map_err(|_| "a worker stopped".to_owned())?;
                        bar.inc(1);
                        pending[i] = Some(report);
                    };
                    next += 1;
                    if let Outcome::Interrupted = report.outcome {
                        // As compileall: a message, status 1, and no manifest of a partial run.
                        if args.quiet < 2 {
                            bar.finish_and_clear();
                            let _ = writeln!(out, "\n[interrupted]");
                        }
                        return Ok(false);
                    }
                    summary.count(&report.outcome);
                    let _ = print_outcome(&mut buf, source, &report.outcome, args.quiet);
                    if let Some(d) = report.digests {
                        digests.push((source.path.clone(), d));
                    }
                }
            }
            if !buf.is_empty() {
                let written = bar.suspend(|| out.write_all(&buf).and_then(|()| out.flush()));
                if let Err(e) = written {
                    if e.kind() != io::ErrorKind::BrokenPipe {
                        return Err(e.to_string());
                    }
                }
            }
        }
        Ok(true)
    })?;
    bar.finish_and_clear();
    if !finished {
        return Ok(ExitCode::from(1));
    }
    if let Some(path) = &args.manifest {
        let written = manifest::Manifest::from_digests(args.target, &digests).write(path);
        if let Err(e) = written {
            eprintln!("pyc compile: writing manifest {}: {e}", path.display());
            summary.failed += 1;
        }
    }
    if args.quiet < 2 {
        eprintln!(
            "pyc compile: {} compiled, {} up to date, {} failed in {:.2} s",
            summary.compiled,
            summary.up_to_date,
            summary.failed,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Default)]
struct Summary {
    compiled: usize,
    up_to_date: usize,
    failed: usize,
}

impl Summary {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Compiled => self.compiled += 1,
            Outcome::UpToDate => self.up_to_date += 1,
            Outcome::Rejected(_) | Outcome::Io(..) => self.failed += 1,
            Outcome::Interrupted => {}
        }
    }
}

/// A bar on stderr when it is a terminal and the run is not quiet; hidden otherwise.
fn progress_bar(len: u64, quiet: u8) -> ProgressBar {
    if quiet > 0 || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files ({elapsed})") {
        bar.set_style(style);
    }
    bar
}

/// `-i`: one path per line, surrounding white space stripped, blank lines ignored.
fn read_file_list(list: &Path) -> io::Result<Vec<PathBuf>> {
    let reader: Box<dyn BufRead> = if list == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(io::BufReader::new(std::fs::File::open(list)?))
    };
    let mut paths = Vec::new();
    for line in reader.lines() {
        let line = line?;
        let line = line.trim();
        if !line.is_empty() {
            paths.push(PathBuf::from(line));
        }
    }
    Ok(paths)
}

/// Prints one file's result as `compileall` does.
fn print_outcome(
    out: &mut impl Write,
    source: &Source,
    outcome: &Outcome,
    quiet: u8,
) -> io::Result<()> {
    let name = py_repr(&source.path);
    let message = match outcome {
        Outcome::UpToDate | Outcome::Interrupted => return Ok(()),
        Outcome::Compiled => {
            if quiet == 0 {
                writeln!(out, "Compiling {name}...")?;
            }
            return Ok(());
        }
        // py_compile's PyCompileError: a traceback-shaped text for SyntaxError itself, a
        // one-line "Sorry" for its subclasses and other errors; print() adds a newline.
        Outcome::Rejected(e) if e.kind == ErrorKind::SyntaxError => {
            let line = std::fs::read(&source.path).ok().and_then(|text| {
                String::from_utf8_lossy(&text)
                    .split_inclusive('\n')
                    .nth(e.lineno.saturating_sub(1) as usize)
                    .map(str::to_owned)
            });
            let shown = backslash_escaped(source.display_name());
            format!("{}\n", e.render(&shown, line.as_deref()))
        }
        Outcome::Rejected(e) => format!("Sorry: {}: {}\n", e.kind.name(), exception_str(e, source)),
        Outcome::Io(e, path) => format!("{}\n", os_error(e, path)),
    };
    match quiet {
        0 => write!(out, "Compiling {name}...\n*** {message}"),
        1 => write!(out, "*** Error compiling {name}...\n{message}"),
        _ => Ok(()),
    }
}

/// `str()` of the exception CPython raises: a SyntaxError subclass appends the base name of
/// the recorded file name and the line.
fn exception_str(e: &CompileError, source: &Source) -> String {
    let syntax = matches!(e.kind, ErrorKind::IndentationError | ErrorKind::TabError);
    match Path::new(source.display_name()).file_name() {
        Some(base) if syntax && e.lineno > 0 => {
            format!("{} ({}, line {})", e.msg, backslash_escaped(base), e.lineno)
        }
        _ => e.msg.clone(),
    }
}

/// An I/O error as Python prints an `OSError` subclass with its file name.
fn os_error(e: &io::Error, path: &Path) -> String {
    let Some(errno) = e.raw_os_error() else {
        return match e.kind() {
            // py_compile's refusal to replace a symlink or special file names it itself.
            io::ErrorKind::AlreadyExists => format!("FileExistsError: {e}"),
            _ => format!("OSError: {e}: {}", py_repr(path)),
        };
    };
    let class = match e.kind() {
        io::ErrorKind::NotFound => "FileNotFoundError",
        io::ErrorKind::PermissionDenied => "PermissionError",
        io::ErrorKind::IsADirectory => "IsADirectoryError",
        io::ErrorKind::NotADirectory => "NotADirectoryError",
        io::ErrorKind::AlreadyExists => "FileExistsError",
        _ => "OSError",
    };
    let text = e.to_string();
    let strerror = text.split(" (os error").next().unwrap_or(&text);
    format!("{class}: [Errno {errno}] {strerror}: {}", py_repr(path))
}

/// A file name as `compileall` prints it in a message: the `surrogateescape` decoding
/// written with `backslashreplace`, each undecodable byte as `\udcXX`.
fn backslash_escaped(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\udc{b:02x}"));
        }
    }
    out
}

/// A path as Python's `repr()` of its `surrogateescape`-decoded name shows it (the quoting
/// `compileall` prints): undecodable bytes appear as `\udcXX`.
fn py_repr(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let text = String::from_utf8_lossy(bytes);
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c == quote => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\udc{b:02x}"));
        }
    }
    out.push(quote);
    out
}
