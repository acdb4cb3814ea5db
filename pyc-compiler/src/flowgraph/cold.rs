//! Moving cold code (exception handlers and what only they reach) after the hot code
//! (CPython's `push_cold_blocks_to_end`).

use super::cfg::Cfg;
use super::optimize::remove_redundant_jumps;
use crate::ir::{Location, Opcode};
use crate::opcode_info::is_jump;

use super::cfg::Instr;

/// Marks the blocks reachable from the entry without exceptions as warm.
fn mark_warm(cfg: &mut Cfg) {
    cfg.reset_visited();
    let entry = cfg.entry;
    let mut stack = vec![entry];
    cfg.blocks[entry].visited = true;
    while let Some(b) = stack.pop() {
        cfg.blocks[b].warm = true;
        if let Some(next) = cfg.blocks[b].next {
            if cfg.has_fallthrough(b) && !cfg.blocks[next].visited {
                stack.push(next);
                cfg.blocks[next].visited = true;
            }
        }
        // A jump ends its block.
        if let Some(target) = cfg
            .last(b)
            .and_then(|i| i.target().filter(|_| is_jump(i.op)))
        {
            if !cfg.blocks[target].visited {
                stack.push(target);
                cfg.blocks[target].visited = true;
            }
        }
    }
}

/// Marks exception handlers, and the blocks only they reach, as cold.
fn mark_cold(cfg: &mut Cfg) {
    mark_warm(cfg);
    cfg.reset_visited();
    let mut stack = Vec::new();
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        if cfg.blocks[b].except_handler {
            stack.push(b);
            cfg.blocks[b].visited = true;
        }
    }
    while let Some(b) = stack.pop() {
        cfg.blocks[b].cold = true;
        if let Some(next) = cfg.blocks[b].next {
            if cfg.has_fallthrough(b) && !cfg.blocks[next].warm && !cfg.blocks[next].visited {
                stack.push(next);
                cfg.blocks[next].visited = true;
            }
        }
        if let Some(target) = cfg
            .last(b)
            .and_then(|i| i.target().filter(|_| is_jump(i.op)))
        {
            if !cfg.blocks[target].warm && !cfg.blocks[target].visited {
                stack.push(target);
                cfg.blocks[target].visited = true;
            }
        }
    }
}

/// Moves each streak of cold blocks to the end, in order, adding explicit jumps where a cold
/// block fell through into a warm one.
pub(crate) fn push_cold_blocks_to_end(cfg: &mut Cfg) {
    let entry = cfg.entry;
    if cfg.blocks[entry].next.is_none() {
        return;
    }
    // Only handlers and what only they reach are cold: without a handler nothing moves.
    let mut cursor = Some(entry);
    let mut has_handler = false;
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        has_handler |= cfg.blocks[b].except_handler;
    }
    if !has_handler {
        return;
    }
    mark_cold(cfg);
    let mut next_label = cfg.next_free_label();
    for b in cfg.order() {
        let Some(next) = cfg.blocks[b].next else {
            continue;
        };
        if cfg.blocks[b].cold && cfg.has_fallthrough(b) && cfg.blocks[next].warm {
            let label = cfg.ensure_label(next, &mut next_label);
            let jump = cfg.new_block();
            let mut instr = Instr::new(Opcode::JUMP, label, Location::NONE);
            instr.set_target(Some(next));
            cfg.push(jump, instr);
            cfg.blocks[jump].cold = true;
            cfg.blocks[jump].next = Some(next);
            cfg.blocks[b].next = Some(jump);
        }
    }
    let mut cold_head = None;
    let mut cold_tail: Option<usize> = None;
    let mut b = entry;
    while cfg.blocks[b].next.is_some() {
        while let Some(next) = cfg.blocks[b].next.filter(|&n| !cfg.blocks[n].cold) {
            b = next;
        }
        let Some(start) = cfg.blocks[b].next else {
            break;
        };
        let mut end = start;
        while let Some(next) = cfg.blocks[end].next.filter(|&n| cfg.blocks[n].cold) {
            end = next;
        }
        match cold_tail {
            None => cold_head = Some(start),
            Some(tail) => cfg.blocks[tail].next = Some(start),
        }
        cold_tail = Some(end);
        cfg.blocks[b].next = cfg.blocks[end].next;
        cfg.blocks[end].next = None;
    }
    cfg.blocks[b].next = cold_head;
    if cold_head.is_some() {
        remove_redundant_jumps(cfg);
    }
}
