//! What the flow-graph passes and the assembler need to know about each opcode: stack effects,
//! jump kinds, and which opcodes end a basic block (CPython 3.12's `opcode_metadata.h`,
//! `pycore_opcode_utils.h` and `stack_effect` of `Python/compile.c`).
//!
//! These are properties of the instruction set the compiler emits, by name; opcode numbers and
//! inline cache counts come from the target's table at assembly time.

use crate::ir::Opcode;

/// Opcode properties, as bits of [`FLAGS`].
mod flag {
    pub const JUMP: u16 = 1;
    pub const BLOCK_PUSH: u16 = 2;
    pub const SCOPE_EXIT: u16 = 4;
    pub const UNCONDITIONAL_JUMP: u16 = 8;
    pub const ASSEMBLER_JUMP: u16 = 16;
    pub const HAS_CONST: u16 = 32;
    pub const HAS_FREE: u16 = 64;
    pub const BUILD_CHECKED: u16 = 128;
    pub const UNBINDS: u16 = 256;
    pub const LOWERED: u16 = 512;
    pub const PEEPHOLE: u16 = 1024;
}

/// The properties of each opcode, indexed by `Opcode as usize`: the passes test them for
/// every instruction, and one load is cheaper than a chain of comparisons.
static FLAGS: [u16; Opcode::ALL.len()] = {
    let mut flags = [0; Opcode::ALL.len()];
    let mut i = 0;
    while i < flags.len() {
        flags[i] = flags_of(Opcode::ALL[i]);
        i += 1;
    }
    flags
};

const fn flags_of(op: Opcode) -> u16 {
    use Opcode::*;
    let mut flags = 0;
    // CPython's `IS_JUMP_OPCODE`.
    if matches!(
        op,
        FOR_ITER
            | JUMP_FORWARD
            | POP_JUMP_IF_FALSE
            | POP_JUMP_IF_TRUE
            | SEND
            | POP_JUMP_IF_NOT_NONE
            | POP_JUMP_IF_NONE
            | JUMP_BACKWARD_NO_INTERRUPT
            | JUMP_BACKWARD
            | JUMP
            | JUMP_NO_INTERRUPT
    ) {
        flags |= flag::JUMP;
    }
    if matches!(op, SETUP_FINALLY | SETUP_CLEANUP | SETUP_WITH) {
        flags |= flag::BLOCK_PUSH;
    }
    if matches!(op, RETURN_VALUE | RETURN_CONST | RAISE_VARARGS | RERAISE) {
        flags |= flag::SCOPE_EXIT;
    }
    if matches!(
        op,
        JUMP | JUMP_NO_INTERRUPT | JUMP_FORWARD | JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT
    ) {
        flags |= flag::UNCONDITIONAL_JUMP;
    }
    if matches!(
        op,
        JUMP_FORWARD | JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT
    ) {
        flags |= flag::ASSEMBLER_JUMP;
    }
    if matches!(op, LOAD_CONST | RETURN_CONST | KW_NAMES) {
        flags |= flag::HAS_CONST;
    }
    if matches!(
        op,
        MAKE_CELL
            | LOAD_CLOSURE
            | LOAD_DEREF
            | STORE_DEREF
            | DELETE_DEREF
            | LOAD_FROM_DICT_OR_DEREF
    ) {
        flags |= flag::HAS_FREE;
    }
    if matches!(
        op,
        DELETE_FAST | LOAD_FAST_AND_CLEAR | STORE_FAST_MAYBE_NULL
    ) {
        flags |= flag::UNBINDS;
    }
    if matches!(
        op,
        SETUP_FINALLY | SETUP_CLEANUP | SETUP_WITH | POP_BLOCK | STORE_FAST_MAYBE_NULL
    ) {
        flags |= flag::LOWERED;
    }
    if matches!(
        op,
        LOAD_CONST
            | BUILD_TUPLE
            | POP_JUMP_IF_NOT_NONE
            | POP_JUMP_IF_NONE
            | POP_JUMP_IF_FALSE
            | POP_JUMP_IF_TRUE
            | JUMP
            | SWAP
            | PUSH_NULL
    ) {
        flags |= flag::PEEPHOLE;
    }
    if flags & (flag::HAS_CONST | flag::ASSEMBLER_JUMP | flag::UNBINDS | flag::LOWERED) != 0
        || matches!(op, SWAP | COPY | YIELD_VALUE)
    {
        flags |= flag::BUILD_CHECKED;
    }
    flags
}

#[inline]
fn has(op: Opcode, flags: u16) -> bool {
    FLAGS[op as usize] & flags != 0
}

/// Whether `op` transfers control to its target (CPython's `IS_JUMP_OPCODE`): conditional and
/// unconditional jumps, `FOR_ITER` and `SEND`. Such an instruction ends its basic block.
#[inline]
pub fn is_jump(op: Opcode) -> bool {
    has(op, flag::JUMP)
}

/// Whether `op` pushes an exception handler (`SETUP_FINALLY`, `SETUP_CLEANUP`, `SETUP_WITH`).
#[inline]
pub fn is_block_push(op: Opcode) -> bool {
    has(op, flag::BLOCK_PUSH)
}

/// Whether the argument of `op` designates a block (a jump or a handler push).
#[inline]
pub fn has_target(op: Opcode) -> bool {
    has(op, flag::JUMP | flag::BLOCK_PUSH)
}

/// Whether `op` leaves the code unit (returns or raises).
#[inline]
pub fn is_scope_exit(op: Opcode) -> bool {
    has(op, flag::SCOPE_EXIT)
}

/// Whether `op` must be the last instruction of its basic block.
#[inline]
pub fn is_terminator(op: Opcode) -> bool {
    has(op, flag::JUMP | flag::SCOPE_EXIT)
}

/// Whether `op` always jumps.
#[inline]
pub fn is_unconditional_jump(op: Opcode) -> bool {
    has(op, flag::UNCONDITIONAL_JUMP)
}

/// Whether `op` is one of the jumps only the assembler emits (direction resolved).
#[inline]
pub fn is_assembler_jump(op: Opcode) -> bool {
    has(op, flag::ASSEMBLER_JUMP)
}

/// Whether the argument of `op` indexes `co_consts`.
#[inline]
pub fn has_const(op: Opcode) -> bool {
    has(op, flag::HAS_CONST)
}

/// Whether graph construction looks closer at `op`: it checks its argument (constant
/// indices, `SWAP` and `COPY` depths), sets it (`YIELD_VALUE`), rejects it (jumps only the
/// assembler emits), or notes that the unit has it ([`unbinds`], [`is_lowered`]).
#[inline]
pub fn is_build_checked(op: Opcode) -> bool {
    has(op, flag::BUILD_CHECKED)
}

/// Whether `op` may leave a local unbound (`DELETE_FAST`, `LOAD_FAST_AND_CLEAR`,
/// `STORE_FAST_MAYBE_NULL`).
#[inline]
pub fn unbinds(op: Opcode) -> bool {
    has(op, flag::UNBINDS)
}

/// Whether `op` is a pseudo-instruction that `convert_pseudo_ops` lowers (`SETUP_*`,
/// `POP_BLOCK`, `STORE_FAST_MAYBE_NULL`).
#[inline]
pub fn is_lowered(op: Opcode) -> bool {
    has(op, flag::LOWERED)
}

/// Whether one of the peepholes of `optimize_basic_block` starts at `op`.
#[inline]
pub fn has_peephole(op: Opcode) -> bool {
    has(op, flag::PEEPHOLE)
}

/// Whether the argument of `op` indexes the cell and free variables.
#[inline]
pub fn has_free(op: Opcode) -> bool {
    has(op, flag::HAS_FREE)
}

/// What [`FIXED_EFFECTS`] holds for an opcode whose stack effect depends on its argument or
/// branch, or that the compiler never emits.
const VARIES: i8 = i8::MIN;

/// The stack effect of each opcode whose effect is fixed, indexed by `Opcode as usize`.
static FIXED_EFFECTS: [i8; Opcode::ALL.len()] = {
    let mut effects = [VARIES; Opcode::ALL.len()];
    let mut i = 0;
    while i < effects.len() {
        effects[i] = fixed_effect(Opcode::ALL[i]);
        i += 1;
    }
    effects
};

const fn fixed_effect(op: Opcode) -> i8 {
    use Opcode::*;
    match op {
        NOP
        | UNARY_NEGATIVE
        | UNARY_NOT
        | UNARY_INVERT
        | CHECK_EXC_MATCH
        | CHECK_EG_MATCH
        | GET_AITER
        | GET_ITER
        | GET_YIELD_FROM_ITER
        | RETURN_GENERATOR
        | SETUP_ANNOTATIONS
        | DELETE_NAME
        | JUMP_FORWARD
        | DELETE_GLOBAL
        | SWAP
        | RETURN_CONST
        | SEND
        | DELETE_FAST
        | GET_AWAITABLE
        | JUMP_BACKWARD_NO_INTERRUPT
        | MAKE_CELL
        | DELETE_DEREF
        | JUMP_BACKWARD
        | EXTENDED_ARG
        | COPY_FREE_VARS
        | YIELD_VALUE
        | RESUME
        | KW_NAMES
        | CALL_INTRINSIC_1
        | LOAD_FROM_DICT_OR_GLOBALS
        | LOAD_FROM_DICT_OR_DEREF
        | POP_BLOCK
        | JUMP
        | JUMP_NO_INTERRUPT => 0,
        POP_TOP
        | INTERPRETER_EXIT
        | END_SEND
        | BINARY_SUBSCR
        | CLEANUP_THROW
        | RETURN_VALUE
        | POP_EXCEPT
        | STORE_NAME
        | DELETE_ATTR
        | STORE_GLOBAL
        | COMPARE_OP
        | IMPORT_NAME
        | POP_JUMP_IF_FALSE
        | POP_JUMP_IF_TRUE
        | IS_OP
        | CONTAINS_OP
        | RERAISE
        | BINARY_OP
        | STORE_FAST
        | POP_JUMP_IF_NOT_NONE
        | POP_JUMP_IF_NONE
        | STORE_DEREF
        | LIST_APPEND
        | SET_ADD
        | LIST_EXTEND
        | SET_UPDATE
        | DICT_MERGE
        | DICT_UPDATE
        | CALL_INTRINSIC_2
        | STORE_FAST_MAYBE_NULL
        | LOAD_SUPER_METHOD
        | LOAD_ZERO_SUPER_METHOD
        | LOAD_ZERO_SUPER_ATTR => -1,
        PUSH_NULL | GET_LEN | MATCH_MAPPING | MATCH_SEQUENCE | MATCH_KEYS | PUSH_EXC_INFO
        | WITH_EXCEPT_START | GET_ANEXT | BEFORE_ASYNC_WITH | BEFORE_WITH | LOAD_BUILD_CLASS
        | LOAD_ASSERTION_ERROR | LOAD_LOCALS | FOR_ITER | LOAD_CONST | LOAD_NAME | IMPORT_FROM
        | COPY | LOAD_FAST | LOAD_FAST_CHECK | LOAD_CLOSURE | LOAD_DEREF | LOAD_FAST_AND_CLEAR
        | LOAD_METHOD => 1,
        END_FOR | BINARY_SLICE | DELETE_SUBSCR | END_ASYNC_FOR | STORE_ATTR | MAP_ADD
        | MATCH_CLASS => -2,
        STORE_SUBSCR => -3,
        STORE_SLICE => -4,
        _ => VARIES,
    }
}

/// The net change of the stack depth when `op` runs with argument `arg`, along its jump
/// (`jump`) or its fall-through (CPython's `PyCompile_OpcodeStackEffectWithJump`). `None` for
/// opcodes the compiler never emits (`CACHE`, `EXTENDED_ARG` has effect 0 and is accepted).
#[inline]
pub fn stack_effect(op: Opcode, arg: u32, jump: bool) -> Option<i32> {
    match FIXED_EFFECTS[op as usize] {
        VARIES => varying_stack_effect(op, arg, jump),
        effect => Some(i32::from(effect)),
    }
}

/// [`stack_effect`] of the opcodes without a fixed effect.
#[inline]
fn varying_stack_effect(op: Opcode, arg: u32, jump: bool) -> Option<i32> {
    use Opcode::*;
    let arg = arg as i64;
    let effect: i64 = match op {
        CACHE | RESERVED => return None,
        UNPACK_SEQUENCE => arg - 1,
        UNPACK_EX => (arg & 0xFF) + (arg >> 8),
        BUILD_TUPLE | BUILD_LIST | BUILD_SET | BUILD_STRING => 1 - arg,
        BUILD_MAP => 1 - 2 * arg,
        LOAD_ATTR => arg & 1,
        LOAD_GLOBAL => 1 + (arg & 1),
        RAISE_VARARGS | BUILD_CONST_KEY_MAP => -arg,
        MAKE_FUNCTION => -i64::from((arg & 0xF).count_ones()),
        BUILD_SLICE => {
            if arg == 3 {
                -2
            } else {
                -1
            }
        }
        LOAD_SUPER_ATTR => -2 + (arg & 1),
        CALL_FUNCTION_EX => -2 - (arg & 1),
        FORMAT_VALUE => {
            if arg & 4 != 0 {
                -1
            } else {
                0
            }
        }
        CALL => -1 - arg,
        SETUP_FINALLY | SETUP_WITH => i64::from(jump),
        SETUP_CLEANUP => 2 * i64::from(jump),
        _ => unreachable!("{op:?} has a fixed stack effect"),
    };
    i32::try_from(effect).ok()
}
