//! Exception handlers: which handler covers each instruction (CPython's
//! `label_exception_targets`; `Cfg::from_sequence` does `mark_except_handlers`).

use super::cfg::{BlockId, Cfg};
use crate::ir::Opcode;
use crate::opcode_info::{is_block_push, is_jump};

/// The handlers active at a point, innermost last (the bottom entry is "no handler").
type ExceptStack = Vec<Option<BlockId>>;

/// Walks the graph with the stack of active handlers, recording each instruction's handler
/// and setting the argument of `YIELD_VALUE` to the handler depth.
pub(crate) fn label_exception_targets(cfg: &mut Cfg) {
    cfg.reset_visited();
    let mut stacks: Vec<Option<ExceptStack>> = vec![None; cfg.blocks.len()];
    let entry = cfg.entry;
    let mut todo = vec![entry];
    cfg.blocks[entry].visited = true;
    stacks[entry] = Some(vec![None]);
    while let Some(b) = todo.pop() {
        let mut stack = stacks[b].take();
        let mut handler = stack.as_ref().and_then(|s| *s.last().unwrap());
        let fallthrough = cfg.has_fallthrough(b);
        let Cfg { instrs, blocks, .. } = &mut *cfg;
        for instr in &mut instrs[blocks[b].range()] {
            if is_block_push(instr.op) {
                let target = instr.target().expect("handler push without target");
                let s = stack.as_mut().expect("except stack");
                if !blocks[target].visited {
                    stacks[target] = Some(s.clone());
                    todo.push(target);
                    blocks[target].visited = true;
                }
                if matches!(instr.op, Opcode::SETUP_WITH | Opcode::SETUP_CLEANUP) {
                    blocks[target].preserve_lasti = true;
                }
                s.push(Some(target));
                handler = Some(target);
            } else if instr.op == Opcode::POP_BLOCK {
                let s = stack.as_mut().expect("except stack");
                if s.len() > 1 {
                    s.pop();
                }
                handler = *s.last().unwrap();
            } else if is_jump(instr.op) {
                instr.set_except(handler);
                let target = instr.target().expect("jump without target");
                if !blocks[target].visited {
                    // A jump ends its block: the stack goes on only if control falls through.
                    stacks[target] = if fallthrough {
                        stack.clone()
                    } else {
                        stack.take()
                    };
                    todo.push(target);
                    blocks[target].visited = true;
                }
            } else {
                if instr.op == Opcode::YIELD_VALUE {
                    let depth = stack.as_ref().map_or(0, |s| s.len() - 1);
                    instr.arg = depth as u32;
                }
                instr.set_except(handler);
            }
        }
        if fallthrough {
            if let Some(next) = cfg.blocks[b].next {
                if !cfg.blocks[next].visited {
                    stacks[next] = stack;
                    todo.push(next);
                    cfg.blocks[next].visited = true;
                }
            }
        }
    }
}
