//! The optimizations of CPython's `optimize_cfg`: jump threading, peepholes over each block
//! (constant conditions, tuple folding, `RETURN_CONST`, swap elimination), inlining of small
//! exit blocks, unreachable code and NOP removal, redundant jumps; and the renumbering of
//! `co_consts` that drops unused constants.

use pyc_loader::marshal::Object;

use super::cfg::{internal, BlockId, Cfg, Instr};
use crate::error::CompileError;
use crate::ir::{ConstKey, Opcode};
use crate::opcode_info::{has_const, has_peephole, has_target, is_jump, is_unconditional_jump};

/// Exit blocks at most this long are copied into blocks that jump to them.
const MAX_COPY_SIZE: usize = 4;

/// Runs the optimization passes in CPython's order, and returns which constants the
/// remaining instructions use. `load_global_is_even` reports the parity of the target's
/// `LOAD_GLOBAL` number, which CPython's `PUSH_NULL` peephole tests.
pub(crate) fn optimize_cfg(
    cfg: &mut Cfg,
    consts: &mut Vec<Object>,
    load_global_is_even: bool,
) -> Result<Vec<bool>, CompileError> {
    eliminate_empty_basic_blocks(cfg);
    // Only `eliminate_empty_basic_blocks` relinks blocks: the passes in between share one
    // layout order.
    let order = cfg.order();
    for &b in &order {
        inline_small_exit_blocks(cfg, b);
    }
    for &b in &order {
        optimize_basic_block(cfg, b, consts, load_global_is_even)?;
    }
    remove_redundant_nops_and_pairs(cfg);
    for &b in &order {
        inline_small_exit_blocks(cfg, b);
    }
    mark_reachable(cfg);
    for &b in &order {
        if cfg.blocks[b].predecessors == 0 {
            cfg.truncate(b, 0);
        }
    }
    // One scan per block finds its NOPs and the constants it uses (the passes left change
    // no constant's use).
    let mut used = vec![false; consts.len()];
    for &b in &order {
        let mut has_nop = false;
        for instr in cfg.block_instrs(b) {
            has_nop |= instr.op == Opcode::NOP;
            if has_const(instr.op) {
                if let Some(u) = used.get_mut(instr.arg as usize) {
                    *u = true;
                }
            }
        }
        if has_nop {
            remove_redundant_nops(cfg, b);
        }
    }
    eliminate_empty_basic_blocks(cfg);
    remove_redundant_jumps(cfg);
    Ok(used)
}

/// Unlinks empty blocks and retargets jumps to the next non-empty block.
pub(crate) fn eliminate_empty_basic_blocks(cfg: &mut Cfg) {
    // Without an empty block (linked or not) there is nothing to unlink or retarget.
    if cfg.blocks.iter().all(|block| !block.is_empty()) {
        return;
    }
    let mut b = Some(cfg.entry);
    while let Some(id) = b {
        let mut next = cfg.blocks[id].next;
        while let Some(n) = next.filter(|&n| cfg.blocks[n].is_empty()) {
            next = cfg.blocks[n].next;
        }
        cfg.blocks[id].next = next;
        b = next;
    }
    while cfg.blocks[cfg.entry].is_empty() {
        match cfg.blocks[cfg.entry].next {
            Some(next) => cfg.entry = next,
            None => break,
        }
    }
    // Computed when a first jump is retargeted.
    let mut next_label = None;
    let mut cursor = Some(cfg.entry);
    while let Some(id) = cursor {
        cursor = cfg.blocks[id].next;
        for i in cfg.target_range(id) {
            let instr = &cfg.instrs[i];
            if !has_target(instr.op) {
                continue;
            }
            if let Some(old) = instr.target() {
                let mut target = old;
                while cfg.blocks[target].is_empty() {
                    match cfg.blocks[target].next {
                        Some(next) => target = next,
                        None => break,
                    }
                }
                if old != target {
                    let next_label = next_label.get_or_insert_with(|| cfg.next_free_label());
                    let label = cfg.ensure_label(target, next_label);
                    let instr = &mut cfg.instrs[i];
                    instr.set_target(Some(target));
                    instr.arg = label;
                }
            }
        }
    }
}

/// Replaces an unconditional jump to a short block that leaves the scope by a copy of it.
pub(crate) fn inline_small_exit_blocks(cfg: &mut Cfg, b: BlockId) -> bool {
    let Some(last) = cfg.last(b).copied() else {
        return false;
    };
    if !is_unconditional_jump(last.op) {
        return false;
    }
    let Some(target) = last.target() else {
        return false;
    };
    if cfg.exits_scope(target) && cfg.blocks[target].len() <= MAX_COPY_SIZE {
        cfg.last_mut(b).unwrap().set_nop();
        cfg.append_copy(b, target);
        return true;
    }
    false
}

/// Makes `inst` jump where the jump at the start of its target goes, if that keeps the line
/// numbers right; returns whether it did.
fn jump_thread(cfg: &mut Cfg, b: BlockId, i: usize, target: &Instr, op: Opcode) -> bool {
    let inst = &mut cfg.block_instrs_mut(b)[i];
    if (inst.loc.lineno == target.loc.lineno || target.loc.lineno == -1)
        && inst.target() != target.target()
    {
        inst.set_target(target.target());
        inst.op = op;
        return true;
    }
    false
}

/// Threads the jump `inst` (at `i` in block `b`) through the unconditional jump that starts
/// its target, if there is one; returns whether it did.
fn thread_to_jump(cfg: &mut Cfg, b: BlockId, i: usize, inst: &Instr) -> bool {
    let Some(t) = inst.target() else {
        return false;
    };
    match cfg.block_instrs(t).first() {
        Some(&target) if target.op == Opcode::JUMP => jump_thread(cfg, b, i, &target, inst.op),
        _ => false,
    }
}

/// Python's truth value of a constant.
fn is_true(value: &Object) -> bool {
    match value {
        Object::None | Object::False => false,
        Object::True | Object::Ellipsis | Object::StopIteration | Object::Code(_) => true,
        Object::Int(i) => *i != pyc_loader::marshal::Int::Small(0),
        Object::Float(f) => *f != 0.0,
        Object::Complex(re, im) => *re != 0.0 || *im != 0.0,
        Object::Bytes(b) => !b.is_empty(),
        Object::Str(s) => !s.as_bytes().is_empty(),
        Object::Tuple(items)
        | Object::List(items)
        | Object::Set(items)
        | Object::FrozenSet(items) => !items.is_empty(),
        Object::Dict(items) => !items.is_empty(),
    }
}

fn const_value(consts: &[Object], instr: &Instr) -> Result<Object, CompileError> {
    if instr.op != Opcode::LOAD_CONST {
        return Err(internal("failed to get value of a constant".to_string()));
    }
    consts
        .get(instr.arg as usize)
        .cloned()
        .ok_or_else(|| internal("constant index out of range".to_string()))
}

/// Replaces `LOAD_CONST c1 … LOAD_CONST cn; BUILD_TUPLE n` (starting at `start`) with
/// `NOP`s and `LOAD_CONST (c1, …, cn)`.
fn fold_tuple_on_constants(
    cfg: &mut Cfg,
    b: BlockId,
    start: usize,
    n: usize,
    consts: &mut Vec<Object>,
) -> Result<(), CompileError> {
    let instrs = cfg.block_instrs_mut(b);
    if instrs[start..start + n].iter().any(|i| !has_const(i.op)) {
        return Ok(());
    }
    let items = instrs[start..start + n]
        .iter()
        .map(|i| const_value(consts, i))
        .collect::<Result<Vec<_>, _>>()?;
    let tuple = Object::tuple(items);
    let key = ConstKey::of(&tuple);
    // Only a tuple of the same length can have the same key: others are not keyed.
    let same_shape = |c: &Object| matches!(c, Object::Tuple(t) if t.len() == n);
    let index = match consts
        .iter()
        .position(|c| same_shape(c) && ConstKey::of(c) == key)
    {
        Some(index) => index,
        None => {
            consts.push(tuple);
            consts.len() - 1
        }
    };
    for instr in &mut instrs[start..start + n] {
        instr.set_nop();
    }
    let build = &mut instrs[start + n];
    build.op = Opcode::LOAD_CONST;
    build.arg = index as u32;
    Ok(())
}

/// Replaces a run of `SWAP`s and `NOP`s starting at `*ix` by the shortest run with the same
/// effect, and moves `*ix` to its last instruction.
fn swaptimize(cfg: &mut Cfg, b: BlockId, ix: &mut usize) {
    let instrs = &mut cfg.block_instrs_mut(b)[*ix..];
    let mut depth = instrs[0].arg as usize;
    let mut len = 1;
    let mut more = false;
    while len < instrs.len() {
        match instrs[len].op {
            Opcode::SWAP => {
                depth = depth.max(instrs[len].arg as usize);
                more = true;
            }
            Opcode::NOP => {}
            _ => break,
        }
        len += 1;
    }
    if !more {
        return;
    }
    const VISITED: isize = -1;
    let mut stack: Vec<isize> = (0..depth as isize).collect();
    for instr in &instrs[..len] {
        if instr.op == Opcode::SWAP {
            stack.swap(0, instr.arg as usize - 1);
        }
    }
    let mut current = len as isize - 1;
    for i in 0..depth {
        if stack[i] == VISITED || stack[i] == i as isize {
            continue;
        }
        let mut j = i;
        loop {
            if j != 0 {
                let instr = &mut instrs[current as usize];
                instr.op = Opcode::SWAP;
                instr.arg = j as u32 + 1;
                current -= 1;
            }
            if stack[j] == VISITED {
                break;
            }
            let next_j = stack[j] as usize;
            stack[j] = VISITED;
            j = next_j;
        }
    }
    while current >= 0 {
        instrs[current as usize].set_nop();
        current -= 1;
    }
    *ix += len - 1;
}

/// Instructions a `SWAP` can be applied to statically by reordering them.
fn swappable(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::STORE_FAST | Opcode::STORE_FAST_MAYBE_NULL | Opcode::POP_TOP
    )
}

/// The local an instruction stores to.
fn stores_to(instr: &Instr) -> Option<u32> {
    matches!(instr.op, Opcode::STORE_FAST | Opcode::STORE_FAST_MAYBE_NULL).then_some(instr.arg)
}

fn next_swappable_instruction(
    instrs: &[Instr],
    mut i: usize,
    lineno: Option<i32>,
) -> Option<usize> {
    loop {
        i += 1;
        let instr = instrs.get(i)?;
        if let Some(lineno) = lineno {
            if lineno >= 0 && instr.loc.lineno != lineno {
                return None;
            }
        }
        if instr.op == Opcode::NOP {
            continue;
        }
        return swappable(instr.op).then_some(i);
    }
}

/// Applies the `SWAP`s at and before `i` by exchanging the instructions that consume the
/// swapped values, when that is safe.
fn apply_static_swaps(cfg: &mut Cfg, b: BlockId, i: usize) {
    let instrs = cfg.block_instrs_mut(b);
    for i in (0..=i).rev() {
        let swap = instrs[i];
        if swap.op != Opcode::SWAP {
            if swap.op == Opcode::NOP || swappable(swap.op) {
                continue;
            }
            return;
        }
        let Some(j) = next_swappable_instruction(instrs, i, None) else {
            return;
        };
        let mut k = j;
        let lineno = instrs[j].loc.lineno;
        for _ in 1..swap.arg {
            match next_swappable_instruction(instrs, k, Some(lineno)) {
                Some(next) => k = next,
                None => return,
            }
        }
        let store_j = stores_to(&instrs[j]);
        let store_k = stores_to(&instrs[k]);
        if store_j.is_some() || store_k.is_some() {
            if store_j == store_k {
                return;
            }
            let conflict = instrs[j + 1..k]
                .iter()
                .filter_map(stores_to)
                .any(|s| Some(s) == store_j || Some(s) == store_k);
            if conflict {
                return;
            }
        }
        instrs[i].set_nop();
        instrs.swap(j, k);
    }
}

/// The peepholes of one block (CPython's `optimize_basic_block`).
fn optimize_basic_block(
    cfg: &mut Cfg,
    b: BlockId,
    consts: &mut Vec<Object>,
    load_global_is_even: bool,
) -> Result<(), CompileError> {
    let mut opcode = Opcode::NOP;
    let mut oparg = 0u32;
    let mut i = 0usize;
    // The block keeps its place and length: instructions only change in place.
    let range = cfg.blocks[b].range();
    let (start, len) = (range.start, range.len());
    while i < len {
        let inst = cfg.instrs[start + i];
        let is_copy_of_load_const =
            opcode == Opcode::LOAD_CONST && inst.op == Opcode::COPY && inst.arg == 1;
        if !is_copy_of_load_const {
            opcode = inst.op;
            oparg = inst.arg;
        }
        // Most instructions have no peephole: the next one that has is looked for at once
        // (those in between are not `LOAD_CONST`, so the next sets `opcode`).
        if !has_peephole(opcode) {
            i += 1;
            i += cfg.instrs[start + i..start + len]
                .iter()
                .position(|instr| has_peephole(instr.op))
                .unwrap_or(len - i);
            continue;
        }
        let nextop = if i + 1 < len {
            Some(cfg.instrs[start + i + 1].op)
        } else {
            None
        };
        match opcode {
            Opcode::LOAD_CONST => match nextop {
                Some(next @ (Opcode::POP_JUMP_IF_FALSE | Opcode::POP_JUMP_IF_TRUE)) => {
                    let value = const_value(consts, &Instr::new(opcode, oparg, inst.loc))?;
                    let instrs = cfg.block_instrs_mut(b);
                    instrs[i].set_nop();
                    if is_true(&value) == (next == Opcode::POP_JUMP_IF_TRUE) {
                        instrs[i + 1].op = Opcode::JUMP;
                    } else {
                        instrs[i + 1].set_nop();
                    }
                }
                Some(Opcode::IS_OP) => {
                    let value = const_value(consts, &Instr::new(opcode, oparg, inst.loc))?;
                    let instrs = cfg.block_instrs_mut(b);
                    let jump_op = instrs.get(i + 2).map(|i| i.op);
                    if value == Object::None
                        && matches!(
                            jump_op,
                            Some(Opcode::POP_JUMP_IF_FALSE | Opcode::POP_JUMP_IF_TRUE)
                        )
                    {
                        let nextarg = instrs[i + 1].arg as u8;
                        instrs[i].set_nop();
                        instrs[i + 1].set_nop();
                        let negate = (jump_op == Some(Opcode::POP_JUMP_IF_FALSE)) as u8;
                        instrs[i + 2].op = if nextarg ^ negate != 0 {
                            Opcode::POP_JUMP_IF_NOT_NONE
                        } else {
                            Opcode::POP_JUMP_IF_NONE
                        };
                    }
                }
                Some(Opcode::RETURN_VALUE) => {
                    let instrs = cfg.block_instrs_mut(b);
                    instrs[i].set_nop();
                    i += 1;
                    instrs[i].op = Opcode::RETURN_CONST;
                    instrs[i].arg = oparg;
                }
                _ => {}
            },
            Opcode::BUILD_TUPLE => {
                let instrs = cfg.block_instrs_mut(b);
                if nextop == Some(Opcode::UNPACK_SEQUENCE) && oparg == instrs[i + 1].arg {
                    match oparg {
                        1 => {
                            instrs[i].set_nop();
                            instrs[i + 1].set_nop();
                            i += 1;
                            continue;
                        }
                        2 | 3 => {
                            instrs[i].set_nop();
                            instrs[i + 1].op = Opcode::SWAP;
                            i += 1;
                            continue;
                        }
                        _ => {}
                    }
                }
                if i >= oparg as usize {
                    fold_tuple_on_constants(cfg, b, i - oparg as usize, oparg as usize, consts)?;
                }
            }
            Opcode::POP_JUMP_IF_NOT_NONE
            | Opcode::POP_JUMP_IF_NONE
            | Opcode::POP_JUMP_IF_FALSE
            | Opcode::POP_JUMP_IF_TRUE
            | Opcode::JUMP
                if thread_to_jump(cfg, b, i, &inst) =>
            {
                continue;
            }
            Opcode::SWAP => {
                if oparg == 1 {
                    cfg.block_instrs_mut(b)[i].set_nop();
                } else {
                    swaptimize(cfg, b, &mut i);
                    apply_static_swaps(cfg, b, i);
                }
            }
            Opcode::PUSH_NULL => {
                let instrs = cfg.block_instrs_mut(b);
                if nextop == Some(Opcode::LOAD_GLOBAL) && load_global_is_even {
                    instrs[i].set_nop();
                    instrs[i + 1].arg |= 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Removes the `NOP`s of a block that carry no line of their own.
pub(crate) fn remove_redundant_nops(cfg: &mut Cfg, b: BlockId) -> usize {
    // Without a NOP the block stays as it is.
    let range = cfg.blocks[b].range();
    let Some(first_nop) = cfg.instrs[range.clone()]
        .iter()
        .position(|i| i.op == Opcode::NOP)
    else {
        return 0;
    };
    // The first instruction of the next non-empty block, for a NOP ending this one.
    let mut next = cfg.blocks[b].next;
    while let Some(n) = next.filter(|&n| cfg.blocks[n].is_empty()) {
        next = cfg.blocks[n].next;
    }
    let next_lineno = next.map(|n| cfg.block_instrs(n)[0].loc.lineno);
    let instrs = &mut cfg.instrs[range];
    // The instructions before the first NOP stay in place.
    let mut dest = first_nop;
    let mut prev_lineno = match first_nop {
        0 => -1,
        i => instrs[i - 1].loc.lineno,
    };
    for src in first_nop..instrs.len() {
        let lineno = instrs[src].loc.lineno;
        if instrs[src].op == Opcode::NOP {
            if lineno < 0 || prev_lineno == lineno {
                continue;
            }
            if src + 1 < instrs.len() {
                let following = instrs[src + 1].loc.lineno;
                if following == lineno {
                    continue;
                }
                if following < 0 {
                    instrs[src + 1].loc = instrs[src].loc;
                    continue;
                }
            } else if next_lineno == Some(lineno) {
                continue;
            }
        }
        instrs[dest] = instrs[src];
        dest += 1;
        prev_lineno = lineno;
    }
    let removed = instrs.len() - dest;
    cfg.truncate(b, dest);
    removed
}

/// Removes NOPs, and `LOAD_CONST`/`COPY 1` immediately popped, until nothing changes.
fn remove_redundant_nops_and_pairs(cfg: &mut Cfg) {
    let mut done = false;
    while !done {
        done = true;
        // The previous instruction: its index in `cfg.instrs`, opcode and argument.
        let mut instr: Option<(usize, Opcode, u32)> = None;
        let mut b = Some(cfg.entry);
        while let Some(id) = b {
            remove_redundant_nops(cfg, id);
            if cfg.blocks[id].label.is_some() {
                instr = None;
            }
            for i in cfg.blocks[id].range() {
                let (op, arg) = (cfg.instrs[i].op, cfg.instrs[i].arg);
                match instr {
                    Some((p, Opcode::LOAD_CONST, _) | (p, Opcode::COPY, 1))
                        if op == Opcode::POP_TOP =>
                    {
                        cfg.instrs[p].set_nop();
                        cfg.instrs[i].set_nop();
                        done = false;
                        instr = Some((i, Opcode::NOP, 0));
                    }
                    _ => instr = Some((i, op, arg)),
                }
            }
            let ends_with_jump = instr.is_some_and(|(_, op, _)| is_jump(op));
            if ends_with_jump || !cfg.has_fallthrough(id) {
                instr = None;
            }
            b = cfg.blocks[id].next;
        }
    }
}

/// Turns an unconditional jump to the next block into a `NOP`.
pub(crate) fn remove_redundant_jumps(cfg: &mut Cfg) {
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        let next = cfg.blocks[b].next;
        if let Some(last) = cfg.last_mut(b) {
            if is_unconditional_jump(last.op) && last.target() == next {
                last.set_nop();
            }
        }
    }
}

/// Counts each block's predecessors over the edges from reachable blocks (a block reached
/// twice before it is visited is walked twice, as CPython does).
fn mark_reachable(cfg: &mut Cfg) {
    cfg.reset_visited();
    let entry = cfg.entry;
    cfg.blocks[entry].predecessors = 1;
    let mut stack = vec![entry];
    while let Some(b) = stack.pop() {
        cfg.blocks[b].visited = true;
        if let Some(next) = cfg.blocks[b].next {
            if cfg.has_fallthrough(b) {
                if !cfg.blocks[next].visited {
                    stack.push(next);
                }
                cfg.blocks[next].predecessors += 1;
            }
        }
        let range = cfg.target_range(b);
        let Cfg { instrs, blocks, .. } = &mut *cfg;
        for instr in &instrs[range] {
            if has_target(instr.op) {
                if let Some(target) = instr.target() {
                    if !blocks[target].visited {
                        stack.push(target);
                    }
                    blocks[target].predecessors += 1;
                }
            }
        }
    }
}

/// Drops the constants no instruction uses (`used`, as [`optimize_cfg`] found; the first is
/// kept: it may be a docstring) and renumbers the arguments that index them.
pub(crate) fn remove_unused_consts(cfg: &mut Cfg, consts: &mut Vec<Object>, mut used: Vec<bool>) {
    if consts.is_empty() {
        return;
    }
    used[0] = true;
    if used.iter().all(|&u| u) {
        return;
    }
    let mut new_index = vec![0u32; consts.len()];
    let mut kept = 0;
    let mut old = std::mem::take(consts).into_iter();
    for (i, &u) in used.iter().enumerate() {
        let value = old.next().unwrap();
        if u {
            new_index[i] = kept;
            kept += 1;
            consts.push(value);
        }
    }
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        for instr in cfg.block_instrs_mut(b) {
            if has_const(instr.op) {
                instr.arg = new_index[instr.arg as usize];
            }
        }
    }
}
