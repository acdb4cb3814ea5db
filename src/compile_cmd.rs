//! `pyc compile`: write the caches of source trees, as `python -m compileall` does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use pyc_compiler::tree::{compile_sources, walk, Found, Outcome, TreeOptions};
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
            Found::Unreadable(path, error) => {
                failed = true;
                if args.quiet < 2 {
                    println!("Can't list {}: {error}", py_repr(path));
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

/// Prints one file's result; returns whether it failed.
fn print_outcome(source: &Path, outcome: &Outcome, quiet: u8) -> bool {
    let name = py_repr(source);
    let error = match outcome {
        Outcome::UpToDate => return false,
        Outcome::Compiled => {
            if quiet == 0 {
                println!("Compiling {name}...");
            }
            return false;
        }
        Outcome::Rejected(e) => {
            let line = std::fs::read(source).ok().and_then(|text| {
                String::from_utf8_lossy(&text)
                    .split_inclusive('\n')
                    .nth(e.lineno.saturating_sub(1) as usize)
                    .map(str::to_owned)
            });
            e.render(&source.to_string_lossy(), line.as_deref())
        }
        Outcome::Io(e) => format!("{e}\n"),
    };
    match quiet {
        0 => print!("Compiling {name}...\n*** {error}"),
        1 => print!("*** Error compiling {name}...\n{error}"),
        _ => {}
    }
    true
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
