//! The maximum stack depth of a code unit and the depth on entry of each block (CPython's
//! `_PyCfg_Stackdepth`).

use super::cfg::{internal, Block, BlockId, Cfg};
use crate::error::CompileError;
use crate::opcode_info::{has_target, stack_effect};

/// `co_flags` bits of generators and coroutines, whose frames start with the sent value.
const GENERATOR_LIKE: u32 = 0x20 | 0x80 | 0x200;

fn push(blocks: &mut [Block], stack: &mut Vec<BlockId>, b: BlockId, depth: i32) {
    let block = &mut blocks[b];
    if block.startdepth < depth && block.startdepth < 100 {
        block.startdepth = depth;
        stack.push(b);
    }
}

/// Walks every path, assuming loops leave the depth unchanged, and returns the largest depth.
pub(crate) fn stack_depth(cfg: &mut Cfg, code_flags: u32) -> Result<u32, CompileError> {
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        cfg.blocks[b].startdepth = i32::MIN;
    }
    let mut stack = Vec::new();
    let entry = cfg.entry;
    let start = i32::from(code_flags & GENERATOR_LIKE != 0);
    push(&mut cfg.blocks, &mut stack, entry, start);
    let mut maxdepth = 0;
    while let Some(b) = stack.pop() {
        let mut depth = cfg.blocks[b].startdepth;
        // Jumps and exits end their blocks: control falls through unless the last one is
        // an unconditional jump or an exit.
        let next = cfg.blocks[b].next.filter(|_| cfg.has_fallthrough(b));
        let Cfg { instrs, blocks, .. } = &mut *cfg;
        for instr in &instrs[blocks[b].range()] {
            let effect = stack_effect(instr.op, instr.arg, false)
                .ok_or_else(|| internal(format!("no stack effect for {:?}", instr.op)))?;
            let new_depth = depth + effect;
            if new_depth < 0 {
                return Err(internal(format!("stack underflow at {:?}", instr.op)));
            }
            maxdepth = maxdepth.max(new_depth);
            if has_target(instr.op) {
                let effect = stack_effect(instr.op, instr.arg, true)
                    .ok_or_else(|| internal(format!("no stack effect for {:?}", instr.op)))?;
                let target_depth = depth + effect;
                if target_depth < 0 {
                    return Err(internal(format!("stack underflow at {:?}", instr.op)));
                }
                maxdepth = maxdepth.max(target_depth);
                if let Some(target) = instr.target() {
                    push(blocks, &mut stack, target, target_depth);
                }
            }
            depth = new_depth;
        }
        if let Some(next) = next {
            push(&mut cfg.blocks, &mut stack, next, depth);
        }
    }
    Ok(maxdepth as u32)
}
