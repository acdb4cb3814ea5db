//! `pyc run FILE [ARGS]`: run a program from cached bytecode. FILE is a .pyc, or a .py whose
//! cache in `__pycache__` is used after importlib's validation against the source; without a
//! valid cache the source is compiled in memory by pyc-compiler, as CPython compiles a script.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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
    let is_source = args.file.extension().is_some_and(|e| e == "py");
    let pyc = if is_source {
        vm_core::importer::cached_pyc(&args.file).ok()
    } else {
        Some(args.file.clone())
    };
    let code = match pyc {
        Some(pyc) => match PycFile::load(&pyc) {
            Ok((_, code)) => code,
            Err(err) => return fail(&err.to_string()),
        },
        None => match compile_script(&args.file) {
            Ok(code) => code,
            Err(status) => return status,
        },
    };
    let mut argv = vec![args.file.display().to_string()];
    argv.extend(args.args.iter().cloned());
    let status = vm_core::run::run_pyc(code, argv);
    ExitCode::from(u8::try_from(status & 0xFF).unwrap_or(1))
}

/// Compiles a script without a valid cache, as CPython does when it runs one; a SyntaxError is
/// printed as CPython prints it (status 1).
fn compile_script(path: &std::path::Path) -> Result<Arc<pyc_loader::CodeObject>, ExitCode> {
    let source = std::fs::read(path).map_err(|e| fail(&format!("{}: {e}", path.display())))?;
    let filename = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let filename = filename.display().to_string();
    match pyc_compiler::compile_source(&source, &filename, &pyc_compiler::Options::default()) {
        Ok(code) => Ok(Arc::new(code)),
        Err(err) => {
            let text = String::from_utf8_lossy(&source);
            let line = usize::try_from(err.lineno)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| text.lines().nth(i));
            eprint!("{}", err.render(&filename, line));
            Err(ExitCode::FAILURE)
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("pyc run: {message}");
    ExitCode::FAILURE
}
