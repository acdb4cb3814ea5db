//! The "locals plus" layout: local variables, then cells that are not also locals, then free
//! variables; the prefix instructions that set cells and free variables up; and the renumbering
//! of cell and free variable arguments into that layout (CPython's `prepare_localsplus`,
//! `insert_prefix_instructions`, `fix_cell_offsets`, `compute_localsplus_info`).

use std::sync::Arc;

use bytes::Bytes;
use pyc_loader::code::kinds;
use pyc_loader::marshal::Str;

use crate::flowgraph::{Cfg, Instr};
use crate::ir::{Location, Opcode, UnitMetadata};
use crate::opcode_info::has_free;

/// `co_flags` bits of generators and coroutines.
const GENERATOR_LIKE: u32 = 0x20 | 0x80 | 0x200;

/// For each cell (then free) variable index, its slot in the locals-plus array before
/// duplicates are dropped: a cell that is also a parameter or local shares that local's slot.
fn cell_fixed_offsets(md: &UnitMetadata) -> Vec<usize> {
    let nlocals = md.varnames.len();
    let mut fixed: Vec<usize> = (0..md.cellvars.len() + md.freevars.len())
        .map(|i| nlocals + i)
        .collect();
    for (cell, name) in md.cellvars.values().iter().enumerate() {
        if let Some(local) = md.varnames.get(name) {
            fixed[cell] = local as usize;
        }
    }
    fixed
}

/// Inserts the prefix instructions, renumbers cell and free variable arguments, and returns
/// the size of the locals-plus array.
pub(crate) fn prepare_localsplus(md: &UnitMetadata, cfg: &mut Cfg) -> usize {
    let nlocals = md.varnames.len();
    let ncells = md.cellvars.len();
    let nfree = md.freevars.len();
    let mut fixed = cell_fixed_offsets(md);
    insert_prefix_instructions(md, cfg, &fixed);
    // Cells that share a local's slot take no slot of their own.
    let mut dropped = 0;
    for (i, slot) in fixed.iter_mut().enumerate() {
        if *slot == nlocals + i {
            *slot -= dropped;
        } else {
            dropped += 1;
        }
    }
    // Without cells and free variables no argument indexes them.
    let mut cursor = Some(cfg.entry).filter(|_| !fixed.is_empty());
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        for instr in cfg.block_instrs_mut(b) {
            if has_free(instr.op) {
                if let Some(&slot) = fixed.get(instr.arg as usize) {
                    instr.arg = slot as u32;
                }
            }
        }
    }
    nlocals + ncells + nfree - dropped
}

fn insert_prefix_instructions(md: &UnitMetadata, cfg: &mut Cfg, fixed: &[usize]) {
    // In order: COPY_FREE_VARS, MAKE_CELL in slot order (cells of parameters first),
    // RETURN_GENERATOR and POP_TOP.
    let mut prefix = Vec::new();
    let nfree = md.freevars.len();
    if nfree > 0 {
        prefix.push(Instr::new(
            Opcode::COPY_FREE_VARS,
            nfree as u32,
            Location::NONE,
        ));
    }
    let ncells = md.cellvars.len();
    if ncells > 0 {
        let mut by_slot: Vec<(usize, usize)> =
            (0..ncells).map(|cell| (fixed[cell], cell)).collect();
        by_slot.sort_unstable();
        for (_, cell) in by_slot {
            prefix.push(Instr::new(Opcode::MAKE_CELL, cell as u32, Location::NONE));
        }
    }
    if md.flags & GENERATOR_LIKE != 0 {
        let first = Location {
            lineno: md.firstlineno,
            end_lineno: md.firstlineno,
            col_offset: -1,
            end_col_offset: -1,
        };
        prefix.push(Instr::new(Opcode::RETURN_GENERATOR, 0, first));
        prefix.push(Instr::new(Opcode::POP_TOP, 0, Location::NONE));
    }
    if !prefix.is_empty() {
        let entry = cfg.entry;
        cfg.prepend(entry, &prefix);
    }
}

/// `co_localsplusnames` and `co_localspluskinds`.
pub(crate) fn localsplus_info(md: &UnitMetadata, nlocalsplus: usize) -> (Arc<[Str]>, Bytes) {
    let mut names = vec![Str::default(); nlocalsplus];
    let mut kinds = vec![0u8; nlocalsplus];
    for (i, name) in md.varnames.values().iter().enumerate() {
        let mut kind = kinds::LOCAL;
        if md.fasthidden.contains(name) {
            kind |= kinds::HIDDEN;
        }
        if md.cellvars.get(name).is_some() {
            kind |= kinds::CELL;
        }
        names[i] = interned(name);
        kinds[i] = kind;
    }
    let nlocals = md.varnames.len();
    let mut dropped = 0;
    for (i, name) in md.cellvars.values().iter().enumerate() {
        if md.varnames.get(name).is_some() {
            dropped += 1;
            continue;
        }
        let slot = nlocals + i - dropped;
        names[slot] = interned(name);
        kinds[slot] = kinds::CELL;
    }
    let ncells = md.cellvars.len();
    for (i, name) in md.freevars.values().iter().enumerate() {
        let slot = nlocals + ncells + i - dropped;
        names[slot] = interned(name);
        kinds[slot] = kinds::FREE;
    }
    (names.into(), Bytes::from(kinds))
}

/// The name as CPython stores it in a code object: interned.
pub(crate) fn interned(name: &Str) -> Str {
    if name.is_interned() {
        return name.clone();
    }
    Str::from_surrogatepass(Bytes::copy_from_slice(name.as_bytes()), true)
        .unwrap_or_else(|| name.clone())
}
