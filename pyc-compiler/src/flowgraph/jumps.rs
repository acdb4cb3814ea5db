//! The last passes before encoding: pseudo-instructions lowered, jump directions chosen, and
//! jump arguments computed as offsets (with the `EXTENDED_ARG` prefixes they need).

use super::cfg::{Cfg, Instr};
use super::optimize::remove_redundant_nops;
use crate::ir::Opcode;
use crate::opcode_info::{is_block_push, is_jump};

/// Replaces `SETUP_*` and `POP_BLOCK` by `NOP`s (then removed) and `STORE_FAST_MAYBE_NULL` by
/// `STORE_FAST`.
pub(crate) fn convert_pseudo_ops(cfg: &mut Cfg) {
    if !cfg.has_lowered {
        // Only NOPs may change: each block's are removed (none to look for if the
        // optimizations left none and no pass made one).
        if cfg.may_have_nops {
            let mut cursor = Some(cfg.entry);
            while let Some(b) = cursor {
                cursor = cfg.blocks[b].next;
                remove_redundant_nops(cfg, b);
            }
        }
        return;
    }
    // The blocks holding a NOP afterwards (the others have none to remove).
    let mut with_nops = Vec::new();
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        let mut has_nop = false;
        for instr in cfg.block_instrs_mut(b) {
            if is_block_push(instr.op) || instr.op == Opcode::POP_BLOCK {
                instr.set_nop();
            } else if instr.op == Opcode::STORE_FAST_MAYBE_NULL {
                instr.op = Opcode::STORE_FAST;
            }
            has_nop |= instr.op == Opcode::NOP;
        }
        if has_nop {
            with_nops.push(b);
        }
    }
    // Only once all are lowered: a NOP ending a block is judged by the next block's first
    // line.
    for b in with_nops {
        remove_redundant_nops(cfg, b);
    }
}

/// Gives each jump its real opcode for its direction. A conditional jump backwards becomes the
/// opposite conditional jump over a new block holding an unconditional backward jump.
pub(crate) fn normalize_jumps(cfg: &mut Cfg) {
    cfg.reset_visited();
    let mut b = Some(cfg.entry);
    while let Some(id) = b {
        cfg.blocks[id].visited = true;
        normalize_jumps_in_block(cfg, id);
        b = cfg.blocks[id].next;
    }
}

fn normalize_jumps_in_block(cfg: &mut Cfg, b: usize) {
    let Some(last) = cfg.last(b).copied() else {
        return;
    };
    if !is_jump(last.op) {
        return;
    }
    let Some(target) = last.target() else {
        return;
    };
    let is_forward = !cfg.blocks[target].visited;
    let last_mut = cfg.last_mut(b).unwrap();
    let reversed = match last.op {
        Opcode::JUMP => {
            last_mut.op = if is_forward {
                Opcode::JUMP_FORWARD
            } else {
                Opcode::JUMP_BACKWARD
            };
            return;
        }
        Opcode::JUMP_NO_INTERRUPT => {
            last_mut.op = if is_forward {
                Opcode::JUMP_FORWARD
            } else {
                Opcode::JUMP_BACKWARD_NO_INTERRUPT
            };
            return;
        }
        Opcode::POP_JUMP_IF_NOT_NONE => Opcode::POP_JUMP_IF_NONE,
        Opcode::POP_JUMP_IF_NONE => Opcode::POP_JUMP_IF_NOT_NONE,
        Opcode::POP_JUMP_IF_FALSE => Opcode::POP_JUMP_IF_TRUE,
        Opcode::POP_JUMP_IF_TRUE => Opcode::POP_JUMP_IF_FALSE,
        // FOR_ITER and SEND only jump forwards.
        _ => return,
    };
    if is_forward {
        return;
    }
    let next = cfg.blocks[b].next;
    let last_mut = cfg.last_mut(b).unwrap();
    last_mut.op = reversed;
    last_mut.set_target(next);
    let backwards = cfg.new_block();
    // The jump's argument is its target's label (none counts as 0 for sizes).
    let label = cfg.blocks[target].label.unwrap_or(0);
    let mut jump = Instr::new(Opcode::JUMP, label, last.loc);
    jump.set_target(Some(target));
    cfg.push(backwards, jump);
    cfg.blocks[backwards].cold = cfg.blocks[b].cold;
    cfg.blocks[backwards].next = next;
    cfg.blocks[b].next = Some(backwards);
}

/// The size in code units of an instruction: its `EXTENDED_ARG` prefixes, itself, and its
/// inline caches.
pub(crate) fn instr_size(instr: &Instr, caches: impl Fn(Opcode) -> u32) -> u32 {
    let extended = u32::from(instr.arg > 0xFF_FFFF)
        + u32::from(instr.arg > 0xFFFF)
        + u32::from(instr.arg > 0xFF);
    extended + 1 + caches(instr.op)
}

/// Sets block offsets and jump arguments (relative, in code units), repeating until the
/// `EXTENDED_ARG` prefixes of jumps stop changing sizes. As in CPython, the first sizes come
/// from the jumps' arguments as they stand (label ids), so a jump can keep a prefix it would
/// not need when sized from nothing (both are fixpoints).
///
/// A jump ends its block, so each block's size is summed once and only its last instruction
/// is revisited: a jump's end is its block's offset plus its block's size. Returns the size
/// of the code in code units.
pub(crate) fn resolve_jump_offsets(cfg: &mut Cfg, caches: impl Fn(Opcode) -> u32 + Copy) -> u32 {
    normalize_jumps(cfg);
    let order = cfg.order();
    let mut sizes: Vec<u32> = order
        .iter()
        .map(|&b| {
            let instrs = cfg.block_instrs(b);
            debug_assert!(instrs.iter().rev().skip(1).all(|i| !is_jump(i.op)));
            instrs.iter().map(|i| instr_size(i, caches)).sum()
        })
        .collect();
    loop {
        let mut total = 0;
        for (&b, &size) in order.iter().zip(&sizes) {
            cfg.blocks[b].offset = total;
            total += size;
        }
        let mut recompile = false;
        for (&b, size) in order.iter().zip(&mut sizes) {
            let end = cfg.blocks[b].offset + *size;
            let Some(&jump) = cfg.last(b) else {
                continue;
            };
            let Some(target) = jump.target().filter(|_| is_jump(jump.op)) else {
                continue;
            };
            let target_offset = cfg.blocks[target].offset;
            let last = cfg.last_mut(b).unwrap();
            last.arg = target_offset.abs_diff(end);
            let (old, new) = (instr_size(&jump, caches), instr_size(last, caches));
            if new != old {
                *size = *size + new - old;
                recompile = true;
            }
        }
        if !recompile {
            return total;
        }
    }
}
