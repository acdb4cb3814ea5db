//! The `pyc` command line: parses arguments, calls the crates, prints.

mod check_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pyc",
    version,
    about = "Ahead-of-time toolchain for CPython bytecode caches"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Audit sources and caches: fresh, stale, missing, orphan, corrupt.
    Check(check_cmd::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check_cmd::run(&args),
    }
}
