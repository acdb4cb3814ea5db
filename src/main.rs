//! The `pyc` command line: parses arguments, calls the crates, prints.

mod alloc;
mod check_cmd;
mod compile_cmd;
mod dis_cmd;
mod manifest;
mod run_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: alloc::MiMalloc = alloc::MiMalloc;

/// Ahead-of-time toolchain for CPython bytecode caches.
#[derive(Parser)]
#[command(name = "pyc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Audit sources and caches: fresh, stale, missing, orphan, corrupt.
    Check(check_cmd::CheckArgs),
    /// Compile sources to caches, as `python -m compileall` does.
    Compile(compile_cmd::CompileArgs),
    /// Disassemble a .pyc (or a .py, compiled by pyc) exactly as CPython's `dis.dis()` prints
    /// its module code object.
    Dis {
        /// The .pyc or .py file.
        file: PathBuf,
    },
    /// Run a program from its cached bytecode (FILE.pyc, or FILE.py's valid cache).
    Run(run_cmd::RunArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => check_cmd::run(&args),
        Command::Compile(args) => compile_cmd::run(&args),
        Command::Dis { file } => dis_cmd::run(&file),
        Command::Run(args) => run_cmd::run(&args),
    }
}
