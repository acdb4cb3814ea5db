//! `pyc check`: audit trees of sources and caches.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use pyc_compiler::tree::{compile_sources, Outcome, Source, TreeOptions};
use pyc_loader::audit::{audit, AuditOptions, Entry, Status};
use pyc_loader::load::CheckHashBasedPycs;
use pyc_loader::{OptLevel, Target};

use crate::manifest::Manifest;

/// Arguments of `pyc check`.
#[derive(Args)]
pub struct CheckArgs {
    /// Files and directories to audit.
    #[arg(required_unless_present = "manifest")]
    paths: Vec<PathBuf>,
    /// Verify the files of a `pyc compile --manifest` manifest instead: report those
    /// missing, altered or swapped.
    #[arg(long, value_name = "FILE", conflicts_with = "fix")]
    manifest: Option<PathBuf>,
    /// Recompile the sources whose caches are stale, missing or corrupt, then audit again.
    #[arg(long)]
    fix: bool,
    /// Interpreter whose caches are checked (3.11, 3.12, 3.13).
    #[arg(long, default_value_t = Target::DEFAULT)]
    target: Target,
    /// Optimization level whose caches are checked (0, 1, 2); repeat for several.
    #[arg(short = 'o', long = "optimize", value_parser = clap::value_parser!(u8).range(0..=2))]
    levels: Vec<u8>,
    /// How hash-based caches are validated, as CPython's option of the same name.
    #[arg(long, value_enum, default_value_t = HashCheck::Default)]
    check_hash_based_pycs: HashCheck,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum HashCheck {
    Default,
    Always,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A summary, then one line per problem.
    Human,
    /// JSON Lines: one object per file.
    Json,
}

/// Runs the audit and prints it; exit status 1 when anything is stale, missing, orphaned or
/// corrupt.
pub fn run(args: &CheckArgs) -> ExitCode {
    if let Some(manifest) = &args.manifest {
        return verify_manifest(manifest);
    }
    let mut levels: Vec<OptLevel> = args
        .levels
        .iter()
        .filter_map(|&l| OptLevel::from_level(l))
        .collect();
    if levels.is_empty() {
        levels.push(OptLevel::O0);
    }
    levels.sort();
    levels.dedup();
    let options = AuditOptions {
        target: args.target,
        levels,
        check_hash: match args.check_hash_based_pycs {
            HashCheck::Default => CheckHashBasedPycs::Default,
            HashCheck::Always => CheckHashBasedPycs::Always,
            HashCheck::Never => CheckHashBasedPycs::Never,
        },
    };
    let mut entries = match audit(&args.paths, &options) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("pyc check: {e}");
            return ExitCode::from(2);
        }
    };
    if args.fix {
        fix(&entries, &options);
        entries = match audit(&args.paths, &options) {
            Ok(entries) => entries,
            Err(e) => {
                eprintln!("pyc check: {e}");
                return ExitCode::from(2);
            }
        };
    }
    let printed = match args.format {
        Format::Human => print_human(&entries, &options),
        Format::Json => print_json(&entries),
    };
    if let Err(e) = printed {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("pyc check: {e}");
            return ExitCode::from(2);
        }
    }
    if entries.iter().any(|e| e.status.is_problem()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--manifest`: one line per file that does not match; exit status 1 if any.
fn verify_manifest(path: &Path) -> ExitCode {
    let manifest = match Manifest::read(path) {
        Ok(manifest) => manifest,
        Err(e) => {
            eprintln!("pyc check: {e}");
            return ExitCode::from(2);
        }
    };
    let problems = manifest.verify();
    println!(
        "{} files in manifest: {} match, {} do not",
        manifest.entries.len(),
        manifest.entries.len() - problems.len(),
        problems.len()
    );
    for problem in &problems {
        println!("{problem}");
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--fix`: recompiles (forced, all checked levels) every source with a stale, missing or
/// corrupt cache, printing `compileall`-style lines for each.
fn fix(entries: &[Entry], options: &AuditOptions) {
    let mut sources: Vec<Source> = entries
        .iter()
        .filter(|e| matches!(e.status, Status::Stale | Status::Missing | Status::Corrupt))
        .filter_map(|e| e.source.clone())
        .map(Source::new)
        .collect();
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    sources.dedup();
    let tree = TreeOptions {
        target: options.target,
        levels: options.levels.clone(),
        invalidation: crate::compile_cmd::default_invalidation(),
        force: true,
        legacy: false,
        hardlink_dupes: false,
        digest: None,
    };
    for (source, report) in sources.iter().zip(compile_sources(&sources, &tree)) {
        match report.outcome {
            Outcome::Compiled | Outcome::UpToDate => {
                println!("fixed    {}", source.path.display())
            }
            Outcome::Rejected(e) => println!(
                "unfixed  {}: {}: {} (line {})",
                source.path.display(),
                e.kind.name(),
                e.msg,
                e.lineno
            ),
            Outcome::Io(e, path) => {
                println!(
                    "unfixed  {}: {}: {e}",
                    source.path.display(),
                    path.display()
                )
            }
            Outcome::Interrupted => println!("unfixed  {}: interrupted", source.path.display()),
        }
    }
}

fn show(path: &Option<PathBuf>) -> String {
    path.as_deref()
        .map(Path::display)
        .map(|d| d.to_string())
        .unwrap_or_default()
}

fn print_human(entries: &[Entry], options: &AuditOptions) -> io::Result<()> {
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for e in entries {
        *counts.entry(e.status).or_default() += 1;
    }
    let count = |s| counts.get(&s).copied().unwrap_or(0);
    let levels: Vec<String> = options
        .levels
        .iter()
        .map(|l| l.level().to_string())
        .collect();
    let mut out = io::BufWriter::new(io::stdout().lock());
    writeln!(
        out,
        "{} (optimization {}): {} fresh, {} stale, {} missing, {} orphan, {} corrupt; \
         {} other caches not checked",
        options.target.cache_tag(),
        levels.join(", "),
        count(Status::Fresh),
        count(Status::Stale),
        count(Status::Missing),
        count(Status::Orphan),
        count(Status::Corrupt),
        count(Status::Other),
    )?;
    for e in entries.iter().filter(|e| e.status.is_problem()) {
        let path = match e.status {
            Status::Orphan | Status::Corrupt => show(&e.cache),
            _ => show(&e.source),
        };
        writeln!(out, "{:<8} {path}: {}", e.status.as_str(), e.detail)?;
    }
    out.flush()
}

fn print_json(entries: &[Entry]) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let path = |p: &Option<PathBuf>| match p {
        Some(p) => serde_json::Value::String(p.to_string_lossy().into_owned()),
        None => serde_json::Value::Null,
    };
    for e in entries {
        let line = serde_json::json!({
            "status": e.status.as_str(),
            "source": path(&e.source),
            "cache": path(&e.cache),
            "detail": e.detail,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()
}
