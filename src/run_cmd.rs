//! `pyc run FILE [ARGS]`: run a program from cached bytecode. FILE is a .pyc, or a .py whose
//! cache in `__pycache__` is used after importlib's validation against the source.

use std::path::PathBuf;
use std::process::ExitCode;

use pyc_loader::load::PycFile;

/// Arguments of `pyc run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The .pyc to run, or a .py whose valid cache in __pycache__ is run.
    file: PathBuf,
    /// Arguments for the program (its sys.argv[1:]).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Runs the program and exits with its status.
pub fn run(args: &RunArgs) -> ExitCode {
    let pyc = if args.file.extension().is_some_and(|e| e == "py") {
        match vm_core::importer::cached_pyc(&args.file) {
            Ok(p) => p,
            Err(msg) => return fail(&msg),
        }
    } else {
        args.file.clone()
    };
    let code = match PycFile::load(&pyc) {
        Ok((_, code)) => code,
        Err(err) => return fail(&err.to_string()),
    };
    let mut argv = vec![args.file.display().to_string()];
    argv.extend(args.args.iter().cloned());
    let status = vm_core::run::run_pyc(code, argv);
    ExitCode::from(u8::try_from(status & 0xFF).unwrap_or(1))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("pyc run: {message}");
    ExitCode::FAILURE
}
