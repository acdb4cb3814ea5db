//! Python source to code objects identical to CPython 3.12's.
//!
//! The pipeline mirrors CPython's, one module per stage with a plain data type between stages:
//!
//! ```text
//! bytes ─ decode ─ parse (ruff, then CPython's AST shape) ─ ast_opt ─ future ─ symtable
//!       ─ codegen (CodeUnit per scope) ─ flowgraph ─ assemble ─ CodeObject
//! ```

pub mod assemble;
pub mod ast;
pub mod ast_opt;
pub mod cache_write;
pub mod codegen;
pub mod decode;
pub mod error;
pub mod flowgraph;
pub mod future;
pub mod ir;
pub mod opcode_info;
pub mod parse;
pub mod symtable;
pub mod tree;
pub mod unparse;

use pyc_loader::code::CodeObject;
use pyc_loader::target::Target;

pub use ast::Mode;
pub use error::{CompileError, ErrorKind, Warning};

/// How to compile: the options of CPython's `compile()` that change the code.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The Python version whose bytecode is produced (only 3.12 today).
    pub target: Target,
    /// 0, 1 (`-O`: no asserts, `__debug__` false) or 2 (`-OO`: also no docstrings).
    pub optimize: u8,
    pub mode: Mode,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            target: Target::V3_12,
            optimize: 0,
            mode: Mode::Module,
        }
    }
}

/// Compiles source bytes (any PEP 263 encoding) to the code object CPython would make for
/// `compile(source, filename, mode, optimize=...)`.
pub fn compile_source(
    source: &[u8],
    filename: &str,
    options: &Options,
) -> Result<CodeObject, CompileError> {
    if options.target != Target::V3_12 {
        return Err(CompileError::syntax(
            format!("compiling for {} is not supported yet", options.target),
            0,
            0,
        ));
    }
    let text = decode::decode(source)?;
    let mut module = parse::parse(&text, options.mode, filename)?;
    let future = future::parse_future(&module)?;
    ast_opt::optimize(&mut module, options.optimize, &future)?;
    let symbols = symtable::build(&module, filename, &future)?;
    codegen::compile_module(&module, &symbols, &future, filename, options)
}
