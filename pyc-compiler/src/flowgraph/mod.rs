//! The control-flow graph passes of CPython 3.12 (`Python/flowgraph.c`): basic blocks, jump
//! threading, dead code and NOP removal, constant folding of tuples and returns,
//! uninitialized-local analysis, line number propagation and stack depth.
//!
//! [`optimize_code_unit`] runs the passes of `_PyCfg_OptimizeCodeUnit`; the assembler then
//! calls [`stack_depth`], [`convert_pseudo_ops`] and [`resolve_jump_offsets`].
//! [`optimized_instructions`] exposes the result of the optimizations alone, for tests.

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
use pyc_loader::target::Target;

use crate::error::CompileError;
use crate::ir::{InstrSequence, Location, Opcode};
use crate::opcode_info::has_target;

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

/// Runs CPython's `_PyCfg_OptimizeCodeUnit` on a graph built by [`Cfg::from_sequence`] with
/// `consts.len()` constants: resolves handlers, optimizes, drops unused constants
/// (renumbering `consts`), checks loads of maybe-unbound locals, moves cold blocks to the end
/// and resolves line numbers.
pub(crate) fn optimize_code_unit(
    cfg: &mut Cfg,
    consts: &mut Vec<Object>,
    shape: UnitShape,
) -> Result<(), CompileError> {
    // The graph's construction marked the handlers (CPython's `mark_except_handlers`).
    // Without handlers every instruction keeps "no handler" and every `YIELD_VALUE` depth
    // is the 0 construction gave it.
    if cfg.has_handlers {
        except::label_exception_targets(cfg);
    }
    let used = optimize::optimize_cfg(cfg, consts, shape.load_global_is_even)?;
    optimize::remove_unused_consts(cfg, consts, used);
    locals::add_checks_for_loads_of_uninitialized_variables(cfg, shape.nlocals, shape.nparams);
    cold::push_cold_blocks_to_end(cfg);
    lines::resolve_line_numbers(cfg, shape.firstlineno);
    Ok(())
}

/// One instruction of [`optimized_instructions`]: opcode, argument (for a jump or handler
/// push, the index of its target instruction) and location.
pub type FlatInstr = (Opcode, u32, Location);

/// The instructions of a code unit after the flow-graph optimizations alone, in final block
/// order, with targets as instruction indices: what CPython 3.12's
/// `_testinternalcapi.optimize_cfg` returns. It lets tests compare these passes with CPython's
/// on any instruction sequence; `consts` is updated as the passes update `co_consts`.
pub fn optimized_instructions(
    seq: &InstrSequence,
    consts: &mut Vec<Object>,
    nlocals: usize,
    nparams: usize,
    firstlineno: i32,
    target: Target,
) -> Result<Vec<FlatInstr>, CompileError> {
    let mut cfg = Cfg::from_sequence(seq, consts.len())?;
    let shape = UnitShape {
        nlocals,
        nparams,
        firstlineno,
        load_global_is_even: target
            .opcodes()
            .by_name(Opcode::LOAD_GLOBAL.name())
            .is_some_and(|n| n % 2 == 0),
    };
    optimize_code_unit(&mut cfg, consts, shape)?;
    let order = cfg.order();
    let mut start = vec![0u32; cfg.blocks.len()];
    let mut next = 0;
    for &b in &order {
        start[b] = next;
        next += cfg.blocks[b].len() as u32;
    }
    Ok(order
        .iter()
        .flat_map(|&b| cfg.block_instrs(b).iter())
        .map(|i| {
            let arg = match i.target().filter(|_| has_target(i.op)) {
                Some(t) => start[t],
                None => i.arg,
            };
            (i.op, arg, i.loc)
        })
        .collect())
}
