//! The `pyc` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod dis_cmd;

/// Ahead-of-time toolchain for CPython bytecode caches.
#[derive(Parser)]
#[command(name = "pyc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Disassemble a .pyc exactly as CPython's `dis.dis()` prints its module code object.
    Dis {
        /// The .pyc file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Dis { file } => dis_cmd::run(&file),
    }
}
