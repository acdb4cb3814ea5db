//! Assembly (CPython 3.12's `optimize_and_assemble_code_unit` and `Python/assemble.c`): a code
//! unit to its code object.
//!
//! # What code generation provides
//!
//! [`assemble_unit`] takes a [`CodeUnit`] exactly as CPython's code generator leaves a
//! `compiler_unit`:
//!
//! - `instrs`: the instruction sequence with symbolic jump targets. Jumps use the pseudo
//!   opcodes `JUMP` / `JUMP_NO_INTERRUPT` (never `JUMP_FORWARD` / `JUMP_BACKWARD*`, whose
//!   direction the assembler chooses); handlers are pushed and popped with `SETUP_FINALLY`,
//!   `SETUP_CLEANUP`, `SETUP_WITH` and `POP_BLOCK`; `STORE_FAST_MAYBE_NULL` is accepted.
//!   `LOAD_METHOD` and the `LOAD_*SUPER*` pseudo opcodes must already be lowered to `LOAD_ATTR`
//!   / `LOAD_SUPER_ATTR` with their flag bits, as CPython's codegen does. Every instruction has
//!   CPython's location (`Location::NONE` where CPython has `NO_LOCATION`); the module's
//!   `RESUME` is at line 0.
//! - Arguments: `LOAD_CONST` indexes `metadata.consts`, name opcodes index `metadata.names`
//!   (with CPython's flag bits, e.g. `LOAD_GLOBAL`'s NULL bit, `LOAD_ATTR`'s method bit),
//!   `*_FAST` opcodes index `metadata.varnames`; cell and free variable opcodes (`LOAD_DEREF`,
//!   `STORE_DEREF`, `DELETE_DEREF`, `LOAD_CLOSURE`, `LOAD_FROM_DICT_OR_DEREF`) use CPython's
//!   codegen numbering: index in `cellvars`, or `cellvars.len()` + index in `freevars`. The
//!   assembler moves them to the final locals-plus layout. `YIELD_VALUE`'s argument is set
//!   here (the handler depth). `MAKE_CELL`, `COPY_FREE_VARS` and `RETURN_GENERATOR` + `POP_TOP`
//!   must not be emitted: the assembler inserts them.
//! - `metadata.consts`: `co_consts` in the order codegen added them (a docstring first); unused
//!   constants are dropped and folded tuples appended, as CPython does.
//! - `metadata.varnames`: parameters first in CPython's order (positional-only, positional,
//!   keyword-only, `*args`, `**kwargs`), then other locals in order of first use.
//! - `metadata.cellvars`: CPython's `u_cellvars` order (cells sorted by name, then `__class__`
//!   / `__classdict__` appended for class bodies); `metadata.freevars`: sorted by name.
//! - `metadata.fasthidden`: every name an inlined comprehension made a hidden fast local in
//!   this (module or class) unit, each once (the keys of CPython's `u_fasthidden`, whatever
//!   their final value): these locals get `CO_FAST_HIDDEN`.
//! - `metadata.argcount` is CPython's `u_argcount`: positional parameters **excluding**
//!   positional-only ones; `co_argcount` = `posonlyargcount + argcount`.
//! - `metadata.flags` is the complete `co_flags` (CPython's `compute_code_flags`: `CO_OPTIMIZED`,
//!   `CO_NEWLOCALS`, `CO_VARARGS`, `CO_VARKEYWORDS`, `CO_NESTED`, `CO_GENERATOR`,
//!   `CO_COROUTINE`, `CO_ASYNC_GENERATOR`, the `__future__` bits, `CO_METHOD`-like bits if
//!   any). The assembler adds no bit (3.12 has no `CO_NOFREE`); it reads the generator bits to
//!   insert `RETURN_GENERATOR` and start the stack at depth 1, and `CO_VARARGS` /
//!   `CO_VARKEYWORDS` to count parameters.
//! - `metadata.firstlineno`, `name`, `qualname`: copied to the code object.

mod exception_table;
mod linetable;
mod localsplus;
mod opmap;

use bytes::Bytes;
use pyc_loader::code::CodeObject;
use pyc_loader::marshal::{Object, Str};
use pyc_loader::target::Target;

use crate::error::CompileError;
use crate::flowgraph::{self, BlockId, Cfg, UnitShape};
use crate::ir::{CodeUnit, Location, Opcode};
use exception_table::{ExceptionTable, Handler};
use linetable::LineTable;
use opmap::OpMap;

/// `co_flags` bits for `*args` and `**kwargs`.
const CO_VARARGS: u32 = 0x04;
const CO_VARKEYWORDS: u32 = 0x08;

/// Optimizes and assembles one code unit (CPython's `optimize_and_assemble_code_unit`):
/// builds the flow graph, runs its passes, inserts the prefix instructions (cells, free
/// variables, generator start), lowers pseudo-instructions, and encodes the bytecode,
/// location table and exception table. See the module documentation for what `unit` must
/// hold.
pub fn assemble_unit(
    unit: CodeUnit,
    filename: &Str,
    target: Target,
) -> Result<CodeObject, CompileError> {
    let ops = OpMap::of(target);
    let CodeUnit {
        metadata: mut md,
        instrs,
    } = unit;
    let mut consts: Vec<Object> = std::mem::take(&mut md.consts).into_values();
    let mut cfg = Cfg::from_sequence(&instrs, consts.len())?;
    drop(instrs);

    let nparams = (md.posonlyargcount + md.argcount + md.kwonlyargcount) as usize
        + usize::from(md.flags & CO_VARARGS != 0)
        + usize::from(md.flags & CO_VARKEYWORDS != 0);
    let shape = UnitShape {
        nlocals: md.varnames.len(),
        nparams,
        firstlineno: md.firstlineno,
        load_global_is_even: ops.number(Opcode::LOAD_GLOBAL).is_some_and(|n| n % 2 == 0),
    };
    flowgraph::optimize_code_unit(&mut cfg, &mut consts, shape)?;
    let nlocalsplus = localsplus::prepare_localsplus(&md, &mut cfg);
    let stacksize = flowgraph::stack_depth(&mut cfg, md.flags)?;
    flowgraph::convert_pseudo_ops(&mut cfg);
    let units = flowgraph::resolve_jump_offsets(&mut cfg, |op| ops.caches(op));

    let (code, linetable, exceptiontable) = encode(&cfg, ops, md.firstlineno, units)?;
    let (localsplusnames, localspluskinds) = localsplus::localsplus_info(&md, nlocalsplus);
    Ok(CodeObject {
        argcount: md.posonlyargcount + md.argcount,
        posonlyargcount: md.posonlyargcount,
        kwonlyargcount: md.kwonlyargcount,
        stacksize,
        flags: md.flags,
        code: Bytes::from(code),
        consts: consts.into_iter().map(intern_constant).collect(),
        names: std::mem::take(&mut md.names)
            .into_values()
            .into_iter()
            .map(|name| match name.is_interned() {
                true => name,
                false => localsplus::interned(&name),
            })
            .collect(),
        localsplusnames,
        localspluskinds,
        filename: filename.clone(),
        name: md.name.clone(),
        qualname: md.qualname.clone(),
        firstlineno: md.firstlineno,
        linetable: Bytes::from(linetable),
        exceptiontable: Bytes::from(exceptiontable),
    })
}

/// The bytecode, location table and exception table of a code unit.
type Encoded = (Vec<u8>, Vec<u8>, Vec<u8>);

/// Encodes the laid-out graph, `units` code units long: the bytecode with `EXTENDED_ARG`
/// prefixes and zeroed inline caches, the location table and the exception table.
fn encode(cfg: &Cfg, ops: &OpMap, firstlineno: i32, units: u32) -> Result<Encoded, CompileError> {
    let extended_arg = ops
        .number(Opcode::EXTENDED_ARG)
        .ok_or_else(|| missing(Opcode::EXTENDED_ARG))?;
    let cache = ops
        .number(Opcode::CACHE)
        .ok_or_else(|| missing(Opcode::CACHE))?;
    // Every code unit starts as a cache entry; instructions are written over theirs.
    let mut code = [cache, 0].repeat(units as usize);
    let mut lines = LineTable::new(firstlineno, cfg.instrs.len());
    let mut exceptions = ExceptionTable::default();
    // The offset of the next instruction, in code units.
    let mut offset = 0u32;
    // The location of the current run of code units, and its length.
    let mut run = (Location::NONE, 0u32);
    // The handler block of the current range.
    let mut handler_block = None;
    let mut cursor = Some(cfg.entry);
    while let Some(b) = cursor {
        cursor = cfg.blocks[b].next;
        for instr in cfg.block_instrs(b) {
            let number = ops.number(instr.op).ok_or_else(|| missing(instr.op))?;
            if instr.loc != run.0 {
                if run.1 > 0 {
                    lines.emit(run.0, run.1);
                }
                run = (instr.loc, 0);
            }
            if instr.except() != handler_block {
                handler_block = instr.except();
                exceptions.set(offset, handler_block.map(|h| handler_of(cfg, h)));
            }
            let arg = instr.arg;
            let start = 2 * offset as usize;
            let mut at = start;
            if arg > 0xFF {
                for shift in [24, 16, 8] {
                    if arg >> shift != 0 {
                        code[at..at + 2].copy_from_slice(&[extended_arg, (arg >> shift) as u8]);
                        at += 2;
                    }
                }
            }
            code[at..at + 2].copy_from_slice(&[number, arg as u8]);
            // The prefixes, the instruction and its caches (`flowgraph::instr_size`).
            let size = (at - start) as u32 / 2 + 1 + ops.caches(instr.op);
            debug_assert_eq!(size, flowgraph::instr_size(instr, |op| ops.caches(op)));
            offset += size;
            run.1 += size;
        }
    }
    debug_assert_eq!(offset, units);
    if run.1 > 0 {
        lines.emit(run.0, run.1);
    }
    Ok((code, lines.finish(), exceptions.finish(offset)))
}

fn handler_of(cfg: &Cfg, block: BlockId) -> Handler {
    let b = &cfg.blocks[block];
    Handler {
        offset: b.offset,
        startdepth: b.startdepth,
        preserve_lasti: b.preserve_lasti,
    }
}

fn missing(op: Opcode) -> CompileError {
    CompileError::syntax(
        format!("internal compiler error: {} cannot be assembled", op.name()),
        0,
        0,
    )
}

/// CPython interns the string constants made only of name characters (`[A-Za-z0-9_]`),
/// also inside tuples and frozensets. A one-character string is a process-wide singleton, so
/// it is also interned when the interpreter interned that character anywhere: `'*'` always is
/// (every process imports `os`, whose `from posix import *` interns it).
fn intern_constant(value: Object) -> Object {
    match value {
        Object::Str(s) if !s.is_interned() && (all_name_chars(&s) || s.as_str() == Some("*")) => {
            Object::Str(localsplus::interned(&s))
        }
        Object::Tuple(items) => Object::Tuple(items.iter().cloned().map(intern_constant).collect()),
        Object::FrozenSet(items) => {
            Object::FrozenSet(items.iter().cloned().map(intern_constant).collect())
        }
        other => other,
    }
}

fn all_name_chars(s: &Str) -> bool {
    s.as_bytes()
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}
