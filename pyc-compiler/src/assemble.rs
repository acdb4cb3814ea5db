//! Assembly (CPython's `Python/assemble.c`): a code unit to its code object.

use pyc_loader::code::CodeObject;
use pyc_loader::marshal::Str;
use pyc_loader::target::Target;

use crate::error::CompileError;
use crate::ir::CodeUnit;

/// Optimizes and assembles one code unit (CPython's `optimize_and_assemble_code_unit`):
/// builds the flow graph, runs its passes, inserts the prefix instructions (cells, free
/// variables, generator start), lowers pseudo-instructions, and encodes the bytecode,
/// location table and exception table.
pub fn assemble_unit(
    unit: CodeUnit,
    filename: &Str,
    target: Target,
) -> Result<CodeObject, CompileError> {
    let _ = (unit, filename, target);
    Err(CompileError::syntax("assembler not implemented", 0, 0))
}
