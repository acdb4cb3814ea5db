//! Line numbers for instructions code generation left without one, so that every exit has
//! the right line (PEP 626; CPython's `resolve_line_numbers`).

use super::cfg::{BlockId, Cfg};
use crate::ir::{Location, Opcode};
use crate::opcode_info::is_jump;

/// Gives every instruction the line it should report.
pub(crate) fn resolve_line_numbers(cfg: &mut Cfg, firstlineno: i32) {
    duplicate_exits_without_lineno(cfg);
    propagate_line_numbers(cfg);
    guarantee_lineno_for_exits(cfg, firstlineno);
}

fn is_exit_without_lineno(cfg: &Cfg, b: BlockId) -> bool {
    cfg.exits_scope(b) && cfg.block_instrs(b).iter().all(|i| i.loc.lineno < 0)
}

/// Copies line-less exit blocks reached by several jumps, one copy per jump, so each can take
/// its line from its only predecessor.
fn duplicate_exits_without_lineno(cfg: &mut Cfg) {
    let mut next_label = cfg.next_free_label();
    let mut b = Some(cfg.entry);
    while let Some(id) = b {
        if let Some(last) = cfg.last(id).copied() {
            if let Some(target) = last.target().filter(|_| is_jump(last.op)) {
                if is_exit_without_lineno(cfg, target) && cfg.blocks[target].predecessors > 1 {
                    let copy = cfg.new_block();
                    cfg.append_copy(copy, target);
                    cfg.block_instrs_mut(copy)[0].loc = last.loc;
                    cfg.blocks[copy].predecessors = 1;
                    cfg.blocks[copy].label = Some(next_label);
                    next_label += 1;
                    cfg.blocks[copy].next = cfg.blocks[target].next;
                    cfg.blocks[target].next = Some(copy);
                    cfg.blocks[target].predecessors -= 1;
                    cfg.last_mut(id).unwrap().set_target(Some(copy));
                }
            }
        }
        b = cfg.blocks[id].next;
    }
    let mut cursor = Some(cfg.entry);
    while let Some(id) = cursor {
        cursor = cfg.blocks[id].next;
        let Some(next) = cfg.blocks[id].next else {
            continue;
        };
        if cfg.has_fallthrough(id)
            && !cfg.blocks[id].is_empty()
            && is_exit_without_lineno(cfg, next)
        {
            let loc = cfg.last(id).unwrap().loc;
            cfg.block_instrs_mut(next)[0].loc = loc;
        }
    }
}

/// Instructions without line take the previous one's location; a block with a single
/// predecessor starts with the location its predecessor ends with.
fn propagate_line_numbers(cfg: &mut Cfg) {
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        let Some(last) = cfg.last(b).copied() else {
            continue;
        };
        let mut prev = Location::NONE;
        for instr in cfg.block_instrs_mut(b) {
            if instr.loc.lineno < 0 {
                instr.loc = prev;
            } else {
                prev = instr.loc;
            }
        }
        if cfg.has_fallthrough(b) {
            if let Some(next) = cfg.blocks[b].next {
                if cfg.blocks[next].predecessors == 1 {
                    if let Some(first) = cfg.block_instrs_mut(next).first_mut() {
                        if first.loc.lineno < 0 {
                            first.loc = prev;
                        }
                    }
                }
            }
        }
        if let Some(target) = last.target().filter(|_| is_jump(last.op)) {
            if cfg.blocks[target].predecessors == 1 {
                if let Some(first) = cfg.block_instrs_mut(target).first_mut() {
                    if first.loc.lineno < 0 {
                        first.loc = prev;
                    }
                }
            }
        }
    }
}

/// A `RETURN_VALUE` still without line gets the line of the last block that had one.
fn guarantee_lineno_for_exits(cfg: &mut Cfg, firstlineno: i32) {
    let mut lineno = firstlineno;
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        let Some(last) = cfg.last(b).copied() else {
            continue;
        };
        if last.loc.lineno < 0 {
            if last.op == Opcode::RETURN_VALUE {
                for instr in cfg.block_instrs_mut(b) {
                    instr.loc.lineno = lineno;
                }
            }
        } else {
            lineno = last.loc.lineno;
        }
    }
}
