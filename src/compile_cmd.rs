//! `pyc compile`: write the caches of source trees, as `python -m compileall` does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use pyc_compiler::tree::{compile_sources, walk, Found, Outcome, TreeOptions};
use pyc_compiler::{CompileError, ErrorKind};
use pyc_loader::{InvalidationMode, OptLevel, Target};

/// Arguments of `pyc compile` (a subset of `compileall`'s, with the same meaning).
#[derive(Args)]
pub struct CompileArgs {
    /// Files and directories to compile.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output less: once for errors only, twice for nothing.
    #[arg(short = 'q', action = clap::ArgAction::Count)]
    quiet: u8,
    /// Rewrite caches even when they are up to date.
    #[arg(short = 'f')]
    force: bool,
    /// How the caches are invalidated (PEP 552).
    #[arg(long, value_enum)]
    invalidation_mode: Option<Mode>,
    /// Interpreter the caches are for.
    #[arg(long, default_value_t = Target::DEFAULT)]
    target: Target,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Timestamp,
    CheckedHash,
    UncheckedHash,
}

/// Compiles and prints as `compileall` does; exit status 1 when any file failed.
pub fn run(args: &CompileArgs) -> ExitCode {
    let invalidation = match args.invalidation_mode {
        Some(Mode::Timestamp) => InvalidationMode::Timestamp,
        Some(Mode::CheckedHash) => InvalidationMode::CheckedHash,
        Some(Mode::UncheckedHash) => InvalidationMode::UncheckedHash,
        // As py_compile: a reproducible-build epoch asks for hash-based caches.
        None if std::env::var_os("SOURCE_DATE_EPOCH").is_some_and(|v| !v.is_empty()) => {
            InvalidationMode::CheckedHash
        }
        None => InvalidationMode::Timestamp,
    };
    let options = TreeOptions {
        target: args.target,
        levels: vec![OptLevel::O0],
        invalidation,
        force: args.force,
        max_depth: 1000,
    };
    let found = walk(&args.paths, options.max_depth);
    let sources: Vec<PathBuf> = found
        .iter()
        .filter_map(|f| match f {
            Found::Source(path) => Some(path.clone()),
            _ => None,
        })
        .collect();
    let reports = compile_sources(&sources, &options);
    let mut failed = false;
    let mut reports = reports.iter().peekable();
    for item in &found {
        match item {
            Found::Dir(dir) if args.quiet == 0 => println!("Listing {}...", py_repr(dir)),
            Found::Dir(_) => {}
            Found::Unlistable(dir) => {
                failed = true;
                if args.quiet < 2 {
                    println!("Can't list {}", py_repr(dir));
                }
            }
            // compileall passes over such an argument in silence; a deployment step should not.
            Found::Missing(path, error) => {
                failed = true;
                if args.quiet < 2 {
                    println!("*** {}", os_error(error, path));
                }
            }
            Found::Source(source) => {
                while let Some(report) = reports.next_if(|r| &r.source == source) {
                    failed |= print_outcome(source, &report.outcome, args.quiet);
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints one file's result as `compileall` does; returns whether it failed.
fn print_outcome(source: &Path, outcome: &Outcome, quiet: u8) -> bool {
    let name = py_repr(source);
    let message = match outcome {
        Outcome::UpToDate => return false,
        Outcome::Compiled => {
            if quiet == 0 {
                println!("Compiling {name}...");
            }
            return false;
        }
        // py_compile's PyCompileError: a traceback-shaped text for SyntaxError itself, a
        // one-line "Sorry" for its subclasses and other errors; print() adds a newline.
        Outcome::Rejected(e) if e.kind == ErrorKind::SyntaxError => {
            let line = std::fs::read(source).ok().and_then(|text| {
                String::from_utf8_lossy(&text)
                    .split_inclusive('\n')
                    .nth(e.lineno.saturating_sub(1) as usize)
                    .map(str::to_owned)
            });
            format!("{}\n", e.render(&source.to_string_lossy(), line.as_deref()))
        }
        Outcome::Rejected(e) => format!("Sorry: {}: {}\n", e.kind.name(), exception_str(e, source)),
        Outcome::Io(e) => format!("{}\n", os_error(e, source)),
    };
    match quiet {
        0 => print!("Compiling {name}...\n*** {message}"),
        1 => print!("*** Error compiling {name}...\n{message}"),
        _ => {}
    }
    true
}

/// `str()` of the exception CPython raises: a SyntaxError subclass appends the file's base
/// name and the line.
fn exception_str(e: &CompileError, source: &Path) -> String {
    let syntax = matches!(e.kind, ErrorKind::IndentationError | ErrorKind::TabError);
    match source.file_name() {
        Some(base) if syntax && e.lineno > 0 => {
            format!("{} ({}, line {})", e.msg, base.to_string_lossy(), e.lineno)
        }
        _ => e.msg.clone(),
    }
}

/// An I/O error as Python prints an `OSError` subclass with its file name.
fn os_error(e: &std::io::Error, path: &Path) -> String {
    let Some(errno) = e.raw_os_error() else {
        return format!("OSError: {e}");
    };
    let class = match e.kind() {
        std::io::ErrorKind::NotFound => "FileNotFoundError",
        std::io::ErrorKind::PermissionDenied => "PermissionError",
        std::io::ErrorKind::IsADirectory => "IsADirectoryError",
        std::io::ErrorKind::NotADirectory => "NotADirectoryError",
        std::io::ErrorKind::AlreadyExists => "FileExistsError",
        _ => "OSError",
    };
    let text = e.to_string();
    let strerror = text.split(" (os error").next().unwrap_or(&text);
    format!("{class}: [Errno {errno}] {strerror}: {}", py_repr(path))
}

/// A path as Python's `repr()` of the string shows it (the quoting `compileall` prints).
fn py_repr(path: &Path) -> String {
    let text = path.to_string_lossy();
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in text.chars() {
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
    out.push(quote);
    out
}
