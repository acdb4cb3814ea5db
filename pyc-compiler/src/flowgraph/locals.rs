//! Loads of locals that may be unbound become `LOAD_FAST_CHECK` (CPython's
//! `add_checks_for_loads_of_uninitialized_variables`).

use super::cfg::{Block, BlockId, Cfg};
use crate::ir::Opcode;
use crate::opcode_info::is_jump;

/// Marks every `LOAD_FAST` of a local that may be unbound there. The first 64 locals are
/// tracked across blocks; the others only within a block.
pub(crate) fn add_checks_for_loads_of_uninitialized_variables(
    cfg: &mut Cfg,
    nlocals: usize,
    nparams: usize,
) {
    // Without a local unbound on entry (all are parameters, none beyond the first 64,
    // which are checked apart) or an instruction that unbinds one, every load is safe.
    if nlocals == 0 || (nlocals <= nparams.min(64) && !cfg.unbinds) {
        return;
    }
    let tracked = if nlocals > 64 {
        fast_scan_many_locals(cfg, nlocals);
        64
    } else {
        nlocals
    };
    cfg.reset_visited();
    let mut stack = Vec::new();
    let start_mask = (nparams.min(tracked)..tracked).fold(0u64, |m, i| m | 1 << i);
    let entry = cfg.entry;
    maybe_push(&mut cfg.blocks, entry, start_mask, &mut stack);
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        scan_block_for_locals(cfg, b, &mut stack);
    }
    while let Some(b) = stack.pop() {
        cfg.blocks[b].visited = false;
        scan_block_for_locals(cfg, b, &mut stack);
    }
}

/// Queues `b` if `unsafe_mask` adds locals that may be unbound on its entry.
fn maybe_push(blocks: &mut [Block], b: BlockId, unsafe_mask: u64, stack: &mut Vec<BlockId>) {
    let block = &mut blocks[b];
    let both = block.unsafe_locals_mask | unsafe_mask;
    if block.unsafe_locals_mask != both {
        block.unsafe_locals_mask = both;
        if !block.visited {
            stack.push(b);
            block.visited = true;
        }
    }
}

/// Scans block `b` from its entry mask, marking its loads and passing its exit mask on. A
/// block scanned again with the mask of its last scan is skipped: that scan would find the
/// same loads (already marked) and pass on masks its successors already include.
fn scan_block_for_locals(cfg: &mut Cfg, b: BlockId, stack: &mut Vec<BlockId>) {
    let mut unsafe_mask = cfg.blocks[b].unsafe_locals_mask;
    if cfg.blocks[b].scanned_locals_mask == Some(unsafe_mask) {
        return;
    }
    cfg.blocks[b].scanned_locals_mask = Some(unsafe_mask);
    // The last handler given a mask here, and that mask: the handler's mask includes it
    // since, so giving it again changes nothing (runs of instructions share a handler).
    let mut pushed: Option<(BlockId, u64)> = None;
    let Cfg { instrs, blocks, .. } = &mut *cfg;
    for instr in &mut instrs[blocks[b].range()] {
        if let Some(handler) = instr.except() {
            if pushed != Some((handler, unsafe_mask)) {
                maybe_push(blocks, handler, unsafe_mask, stack);
                pushed = Some((handler, unsafe_mask));
            }
        }
        if instr.arg >= 64 {
            continue;
        }
        let bit = 1u64 << instr.arg;
        match instr.op {
            Opcode::DELETE_FAST | Opcode::LOAD_FAST_AND_CLEAR | Opcode::STORE_FAST_MAYBE_NULL => {
                unsafe_mask |= bit;
            }
            Opcode::STORE_FAST | Opcode::LOAD_FAST_CHECK => unsafe_mask &= !bit,
            Opcode::LOAD_FAST => {
                if unsafe_mask & bit != 0 {
                    instr.op = Opcode::LOAD_FAST_CHECK;
                }
                unsafe_mask &= !bit;
            }
            _ => {}
        }
    }
    if let Some(next) = cfg.blocks[b].next {
        if cfg.has_fallthrough(b) {
            maybe_push(&mut cfg.blocks, next, unsafe_mask, stack);
        }
    }
    if let Some(last) = cfg.last(b).copied() {
        if is_jump(last.op) {
            if let Some(target) = last.target() {
                maybe_push(&mut cfg.blocks, target, unsafe_mask, stack);
            }
        }
    }
}

/// Locals 64 and above: a load is safe only after a store or load earlier in the same block.
fn fast_scan_many_locals(cfg: &mut Cfg, nlocals: usize) {
    let mut states = vec![0usize; nlocals - 64];
    let mut blocknum = 0usize;
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        blocknum += 1;
        for instr in cfg.block_instrs_mut(b) {
            let arg = instr.arg as usize;
            if arg < 64 {
                continue;
            }
            let Some(state) = states.get_mut(arg - 64) else {
                continue;
            };
            match instr.op {
                Opcode::DELETE_FAST
                | Opcode::LOAD_FAST_AND_CLEAR
                | Opcode::STORE_FAST_MAYBE_NULL => *state = blocknum - 1,
                Opcode::STORE_FAST => *state = blocknum,
                Opcode::LOAD_FAST => {
                    if *state != blocknum {
                        instr.op = Opcode::LOAD_FAST_CHECK;
                    }
                    *state = blocknum;
                }
                _ => {}
            }
        }
    }
}
