//! Code generation: the AST to one [`CodeUnit`](crate::ir::CodeUnit) per scope
//! (CPython's `Python/compile.c`).

use pyc_loader::code::CodeObject;

use crate::ast::Mod;
use crate::error::CompileError;
use crate::future::FutureFeatures;
use crate::symtable::SymbolTable;
use crate::Options;

/// Compiles a module (or expression / interactive input) to its code object.
pub fn compile_module(
    module: &Mod,
    symbols: &SymbolTable,
    future: &FutureFeatures,
    filename: &str,
    options: &Options,
) -> Result<CodeObject, CompileError> {
    let _ = (module, symbols, future, filename, options);
    Err(CompileError::syntax(
        "code generation not implemented",
        0,
        0,
    ))
}
