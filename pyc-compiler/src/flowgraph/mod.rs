//! The control-flow graph passes of CPython 3.12 (`Python/flowgraph.c`): basic blocks, jump
//! threading, dead code and NOP removal, constant folding of tuples and returns,
//! uninitialized-local analysis, line number propagation and stack depth.
//!
//! [`optimize_code_unit`] runs the passes of `_PyCfg_OptimizeCodeUnit`; the assembler then
//! calls [`stack_depth`], [`convert_pseudo_ops`] and [`resolve_jump_offsets`].

mod cfg;
mod cold;
mod except;
mod jumps;
mod lines;
mod locals;
mod optimize;
mod stack_depth;

pub(crate) use cfg::{BlockId, Cfg, Instr};
pub(crate) use jumps::{convert_pseudo_ops, instr_size, resolve_jump_offsets};
pub(crate) use stack_depth::stack_depth;

use pyc_loader::marshal::Object;

use crate::error::CompileError;

/// What the passes need to know about the code unit besides its graph and constants.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UnitShape {
    /// Number of local variables (`co_nlocals`).
    pub nlocals: usize,
    /// Number of parameters, `*args` and `**kwargs` included.
    pub nparams: usize,
    pub firstlineno: i32,
    /// Parity of the target's `LOAD_GLOBAL` opcode (see `optimize_cfg`).
    pub load_global_is_even: bool,
}

/// Runs CPython's `_PyCfg_OptimizeCodeUnit`: resolves handlers, optimizes, drops unused
/// constants (renumbering `consts`), checks loads of maybe-unbound locals, moves cold blocks
/// to the end and resolves line numbers.
pub(crate) fn optimize_code_unit(
    cfg: &mut Cfg,
    consts: &mut Vec<Object>,
    shape: UnitShape,
) -> Result<(), CompileError> {
    except::mark_except_handlers(cfg);
    except::label_exception_targets(cfg);
    optimize::optimize_cfg(cfg, consts, shape.load_global_is_even)?;
    optimize::remove_unused_consts(cfg, consts);
    locals::add_checks_for_loads_of_uninitialized_variables(cfg, shape.nlocals, shape.nparams);
    cold::push_cold_blocks_to_end(cfg);
    lines::resolve_line_numbers(cfg, shape.firstlineno);
    Ok(())
}
