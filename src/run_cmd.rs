//! `pyc run [OPTIONS] FILE [ARGS]` or `pyc run [OPTIONS] -m MODULE [ARGS]`: run a program in
//! pyc's VM from cached bytecode.
//!
//! Imports are bytecode-only by default: a module whose cache is missing, stale or damaged is
//! an ImportError naming the module, its source and the reason (see `vm_core::module_code`);
//! `--compile` compiles such modules and writes their caches (unless `--no-write`).
//! The main script itself follows CPython: `FILE.py` runs from its cache in `__pycache__`
//! when importlib would accept it, and is otherwise compiled in memory (never written, as
//! CPython never caches `__main__`); `FILE.pyc` must be a 3.12 pyc. `sys.path` is the
//! script's directory (the current directory for `-m`), the `--path` entries, then
//! `PYTHONPATH`'s entries.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use pyc_loader::load::CheckHashBasedPycs;
use pyc_loader::OptLevel;
use vm_core::module_code::CachePolicy;
use vm_core::run::{Main, RunOptions};

/// Arguments of `pyc run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Run library module MODULE as `__main__` (a package runs its `__main__` submodule), as
    /// `python -m`.
    #[arg(short = 'm', value_name = "MODULE")]
    module: Option<String>,
    /// Add DIR to sys.path after the script's directory (repeatable; before PYTHONPATH).
    #[arg(long = "path", value_name = "DIR")]
    path: Vec<PathBuf>,
    /// Compile imported modules whose cache is missing or stale, and write their caches.
    #[arg(long)]
    compile: bool,
    /// Use the `-O` caches (`.opt-1.pyc`; `-OO`: `.opt-2.pyc`) and compile as `python -O`.
    #[arg(short = 'O', action = clap::ArgAction::Count)]
    optimize: u8,
    /// With --compile: do not write the caches.
    #[arg(long, requires = "compile")]
    no_write: bool,
    /// How hash-based caches are checked against their sources, as CPython's option.
    #[arg(long, value_name = "MODE", default_value = "default", value_parser = ["default", "always", "never"])]
    check_hash_based_pycs: String,
    /// FILE (a .pyc, or a .py whose valid cache is run) and its arguments (sys.argv[1:]);
    /// with -m, the module's arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required_unless_present = "module",
        value_name = "FILE [ARGS]"
    )]
    args: Vec<String>,
}

/// Runs the program and exits with its status.
pub fn run(args: &RunArgs) -> ExitCode {
    let check_hash = match args.check_hash_based_pycs.as_str() {
        "always" => CheckHashBasedPycs::Always,
        "never" => CheckHashBasedPycs::Never,
        _ => CheckHashBasedPycs::Default,
    };
    let policy = CachePolicy {
        compile: args.compile,
        write: !args.no_write,
        check_hash,
        optimize: OptLevel::from_level(args.optimize.min(2)).unwrap_or_default(),
    };
    let (main, argv) = match &args.module {
        Some(module) => {
            let mut argv = vec![String::from("-m")];
            argv.extend(args.args.iter().cloned());
            (Main::Module(module.clone()), argv)
        }
        None => {
            let file = PathBuf::from(&args.args[0]);
            let code = match script_code(&file, &policy) {
                Ok(code) => code,
                Err(status) => return status,
            };
            (Main::Script(code), args.args.clone())
        }
    };
    let mut path = args.path.clone();
    if let Some(extra) = std::env::var_os("PYTHONPATH") {
        path.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
    }
    let status = vm_core::run::run(RunOptions {
        main,
        argv,
        path,
        policy,
    });
    ExitCode::from(u8::try_from(status & 0xFF).unwrap_or(1))
}

/// The main script's code: a 3.12 .pyc, or a .py's valid cache, or the .py compiled in memory.
fn script_code(file: &Path, policy: &CachePolicy) -> Result<Arc<pyc_loader::CodeObject>, ExitCode> {
    if file.extension().is_some_and(|e| e == "pyc") {
        return vm_core::module_code::read_pyc(file)
            .map_err(|why| fail(&format!("{}: {why}", file.display())));
    }
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    match vm_core::module_code::cached(&file, policy) {
        Ok(code) => Ok(code),
        Err(_) => compile_script(&file, policy.optimize),
    }
}

/// Compiles a script without a valid cache, as CPython does when it runs one; a SyntaxError is
/// printed as CPython prints it (status 1).
fn compile_script(
    path: &Path,
    optimize: OptLevel,
) -> Result<Arc<pyc_loader::CodeObject>, ExitCode> {
    let source = std::fs::read(path).map_err(|e| fail(&format!("{}: {e}", path.display())))?;
    let filename = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let filename = filename.display().to_string();
    let options = pyc_compiler::Options {
        optimize: optimize.level(),
        ..Default::default()
    };
    match pyc_compiler::compile_source(&source, &filename, &options) {
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
