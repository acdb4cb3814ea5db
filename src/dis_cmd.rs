//! `pyc dis FILE`: print the disassembly of a pyc's module code object, or of the code our
//! compiler makes for a `.py` file.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use pyc_loader::load::PycFile;
use pyc_loader::Object;

/// Loads `file` (or compiles it, for a `.py`), prints `dis.dis()` of its code object to
/// stdout, and reports errors (naming the file) on stderr with exit status 1. Output printed
/// before an error is kept, as CPython's.
pub fn run(file: &Path) -> ExitCode {
    let (target, code) = if file.extension().is_some_and(|e| e == "py") {
        let source = match std::fs::read(file) {
            Ok(source) => source,
            Err(err) => return fail(&format!("{}: {err}", file.display())),
        };
        let options = pyc_compiler::Options::default();
        let code = match pyc_compiler::compile_source(&source, &file.to_string_lossy(), &options) {
            Ok(code) => code,
            Err(err) => return fail(&format!("{}: {err}", file.display())),
        };
        // Through marshal, as a pyc would hold it: set constants come back in the order
        // their items are written, which decides the order `dis` shows them in.
        let written = pyc_loader::marshal::dumps_compiled(&Object::Code(Arc::new(code)))
            .map_err(|e| e.to_string())
            .and_then(|data| pyc_loader::marshal::loads(data.into()).map_err(|e| e.to_string()));
        match written {
            Ok(Object::Code(code)) => (options.target, code),
            Ok(other) => {
                let found = other.type_name();
                return fail(&format!("{}: marshal gave back a {found}", file.display()));
            }
            Err(err) => return fail(&format!("{}: {err}", file.display())),
        }
    } else {
        let (header, code) = match PycFile::load(file) {
            Ok(loaded) => loaded,
            Err(err) => return fail(&err.to_string()),
        };
        let Some(target) = header.target() else {
            return fail(&format!(
                "{}: unknown magic number {:02x?}",
                file.display(),
                header.magic
            ));
        };
        (target, code)
    };
    let mut out = String::new();
    let result = pyc_loader::dis::disassemble(&code, target, &mut out);
    let written = std::io::stdout().lock().write_all(out.as_bytes());
    if let Err(err) = result {
        return fail(&format!("{}: {err}", file.display()));
    }
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&format!(
            "{}: writing the disassembly: {err}",
            file.display()
        )),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("pyc dis: {message}");
    ExitCode::FAILURE
}
