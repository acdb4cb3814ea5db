//! The compiler's intermediate representation: instructions with symbolic opcodes and jump
//! labels, the constant pool, and the metadata of one code unit (a module, class, function,
//! lambda or comprehension body).
//!
//! Code generation produces a [`CodeUnit`]; the flow-graph passes and the assembler turn it into
//! a `CodeObject`. Opcodes are names here: the assembler maps them to the numbers of the target
//! version through its opcode table, so nothing before assembly depends on numbering.

use std::sync::Arc;

use pyc_loader::code::CodeObject;
use pyc_loader::marshal::{Int, Object, Str};

/// An instruction name: every opcode CPython 3.12's compiler can emit, real ones first, then
/// the pseudo-instructions that the flow-graph passes replace before assembly.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    CACHE,
    POP_TOP,
    PUSH_NULL,
    INTERPRETER_EXIT,
    END_FOR,
    END_SEND,
    NOP,
    UNARY_NEGATIVE,
    UNARY_NOT,
    UNARY_INVERT,
    RESERVED,
    BINARY_SUBSCR,
    BINARY_SLICE,
    STORE_SLICE,
    GET_LEN,
    MATCH_MAPPING,
    MATCH_SEQUENCE,
    MATCH_KEYS,
    PUSH_EXC_INFO,
    CHECK_EXC_MATCH,
    CHECK_EG_MATCH,
    WITH_EXCEPT_START,
    GET_AITER,
    GET_ANEXT,
    BEFORE_ASYNC_WITH,
    BEFORE_WITH,
    END_ASYNC_FOR,
    CLEANUP_THROW,
    STORE_SUBSCR,
    DELETE_SUBSCR,
    GET_ITER,
    GET_YIELD_FROM_ITER,
    LOAD_BUILD_CLASS,
    LOAD_ASSERTION_ERROR,
    RETURN_GENERATOR,
    RETURN_VALUE,
    SETUP_ANNOTATIONS,
    LOAD_LOCALS,
    POP_EXCEPT,
    STORE_NAME,
    DELETE_NAME,
    UNPACK_SEQUENCE,
    FOR_ITER,
    UNPACK_EX,
    STORE_ATTR,
    DELETE_ATTR,
    STORE_GLOBAL,
    DELETE_GLOBAL,
    SWAP,
    LOAD_CONST,
    LOAD_NAME,
    BUILD_TUPLE,
    BUILD_LIST,
    BUILD_SET,
    BUILD_MAP,
    LOAD_ATTR,
    COMPARE_OP,
    IMPORT_NAME,
    IMPORT_FROM,
    JUMP_FORWARD,
    POP_JUMP_IF_FALSE,
    POP_JUMP_IF_TRUE,
    LOAD_GLOBAL,
    IS_OP,
    CONTAINS_OP,
    RERAISE,
    COPY,
    RETURN_CONST,
    BINARY_OP,
    SEND,
    LOAD_FAST,
    STORE_FAST,
    DELETE_FAST,
    LOAD_FAST_CHECK,
    POP_JUMP_IF_NOT_NONE,
    POP_JUMP_IF_NONE,
    RAISE_VARARGS,
    GET_AWAITABLE,
    MAKE_FUNCTION,
    BUILD_SLICE,
    JUMP_BACKWARD_NO_INTERRUPT,
    MAKE_CELL,
    LOAD_CLOSURE,
    LOAD_DEREF,
    STORE_DEREF,
    DELETE_DEREF,
    JUMP_BACKWARD,
    LOAD_SUPER_ATTR,
    CALL_FUNCTION_EX,
    LOAD_FAST_AND_CLEAR,
    EXTENDED_ARG,
    LIST_APPEND,
    SET_ADD,
    MAP_ADD,
    COPY_FREE_VARS,
    YIELD_VALUE,
    RESUME,
    MATCH_CLASS,
    FORMAT_VALUE,
    BUILD_CONST_KEY_MAP,
    BUILD_STRING,
    LIST_EXTEND,
    SET_UPDATE,
    DICT_MERGE,
    DICT_UPDATE,
    CALL,
    KW_NAMES,
    CALL_INTRINSIC_1,
    CALL_INTRINSIC_2,
    LOAD_FROM_DICT_OR_GLOBALS,
    LOAD_FROM_DICT_OR_DEREF,
    SETUP_FINALLY,
    SETUP_CLEANUP,
    SETUP_WITH,
    POP_BLOCK,
    JUMP,
    JUMP_NO_INTERRUPT,
    LOAD_METHOD,
    LOAD_SUPER_METHOD,
    LOAD_ZERO_SUPER_METHOD,
    LOAD_ZERO_SUPER_ATTR,
    STORE_FAST_MAYBE_NULL,
}

impl Opcode {
    /// Every opcode, in declaration order.
    pub const ALL: [Opcode; 122] = [
        Opcode::CACHE,
        Opcode::POP_TOP,
        Opcode::PUSH_NULL,
        Opcode::INTERPRETER_EXIT,
        Opcode::END_FOR,
        Opcode::END_SEND,
        Opcode::NOP,
        Opcode::UNARY_NEGATIVE,
        Opcode::UNARY_NOT,
        Opcode::UNARY_INVERT,
        Opcode::RESERVED,
        Opcode::BINARY_SUBSCR,
        Opcode::BINARY_SLICE,
        Opcode::STORE_SLICE,
        Opcode::GET_LEN,
        Opcode::MATCH_MAPPING,
        Opcode::MATCH_SEQUENCE,
        Opcode::MATCH_KEYS,
        Opcode::PUSH_EXC_INFO,
        Opcode::CHECK_EXC_MATCH,
        Opcode::CHECK_EG_MATCH,
        Opcode::WITH_EXCEPT_START,
        Opcode::GET_AITER,
        Opcode::GET_ANEXT,
        Opcode::BEFORE_ASYNC_WITH,
        Opcode::BEFORE_WITH,
        Opcode::END_ASYNC_FOR,
        Opcode::CLEANUP_THROW,
        Opcode::STORE_SUBSCR,
        Opcode::DELETE_SUBSCR,
        Opcode::GET_ITER,
        Opcode::GET_YIELD_FROM_ITER,
        Opcode::LOAD_BUILD_CLASS,
        Opcode::LOAD_ASSERTION_ERROR,
        Opcode::RETURN_GENERATOR,
        Opcode::RETURN_VALUE,
        Opcode::SETUP_ANNOTATIONS,
        Opcode::LOAD_LOCALS,
        Opcode::POP_EXCEPT,
        Opcode::STORE_NAME,
        Opcode::DELETE_NAME,
        Opcode::UNPACK_SEQUENCE,
        Opcode::FOR_ITER,
        Opcode::UNPACK_EX,
        Opcode::STORE_ATTR,
        Opcode::DELETE_ATTR,
        Opcode::STORE_GLOBAL,
        Opcode::DELETE_GLOBAL,
        Opcode::SWAP,
        Opcode::LOAD_CONST,
        Opcode::LOAD_NAME,
        Opcode::BUILD_TUPLE,
        Opcode::BUILD_LIST,
        Opcode::BUILD_SET,
        Opcode::BUILD_MAP,
        Opcode::LOAD_ATTR,
        Opcode::COMPARE_OP,
        Opcode::IMPORT_NAME,
        Opcode::IMPORT_FROM,
        Opcode::JUMP_FORWARD,
        Opcode::POP_JUMP_IF_FALSE,
        Opcode::POP_JUMP_IF_TRUE,
        Opcode::LOAD_GLOBAL,
        Opcode::IS_OP,
        Opcode::CONTAINS_OP,
        Opcode::RERAISE,
        Opcode::COPY,
        Opcode::RETURN_CONST,
        Opcode::BINARY_OP,
        Opcode::SEND,
        Opcode::LOAD_FAST,
        Opcode::STORE_FAST,
        Opcode::DELETE_FAST,
        Opcode::LOAD_FAST_CHECK,
        Opcode::POP_JUMP_IF_NOT_NONE,
        Opcode::POP_JUMP_IF_NONE,
        Opcode::RAISE_VARARGS,
        Opcode::GET_AWAITABLE,
        Opcode::MAKE_FUNCTION,
        Opcode::BUILD_SLICE,
        Opcode::JUMP_BACKWARD_NO_INTERRUPT,
        Opcode::MAKE_CELL,
        Opcode::LOAD_CLOSURE,
        Opcode::LOAD_DEREF,
        Opcode::STORE_DEREF,
        Opcode::DELETE_DEREF,
        Opcode::JUMP_BACKWARD,
        Opcode::LOAD_SUPER_ATTR,
        Opcode::CALL_FUNCTION_EX,
        Opcode::LOAD_FAST_AND_CLEAR,
        Opcode::EXTENDED_ARG,
        Opcode::LIST_APPEND,
        Opcode::SET_ADD,
        Opcode::MAP_ADD,
        Opcode::COPY_FREE_VARS,
        Opcode::YIELD_VALUE,
        Opcode::RESUME,
        Opcode::MATCH_CLASS,
        Opcode::FORMAT_VALUE,
        Opcode::BUILD_CONST_KEY_MAP,
        Opcode::BUILD_STRING,
        Opcode::LIST_EXTEND,
        Opcode::SET_UPDATE,
        Opcode::DICT_MERGE,
        Opcode::DICT_UPDATE,
        Opcode::CALL,
        Opcode::KW_NAMES,
        Opcode::CALL_INTRINSIC_1,
        Opcode::CALL_INTRINSIC_2,
        Opcode::LOAD_FROM_DICT_OR_GLOBALS,
        Opcode::LOAD_FROM_DICT_OR_DEREF,
        Opcode::SETUP_FINALLY,
        Opcode::SETUP_CLEANUP,
        Opcode::SETUP_WITH,
        Opcode::POP_BLOCK,
        Opcode::JUMP,
        Opcode::JUMP_NO_INTERRUPT,
        Opcode::LOAD_METHOD,
        Opcode::LOAD_SUPER_METHOD,
        Opcode::LOAD_ZERO_SUPER_METHOD,
        Opcode::LOAD_ZERO_SUPER_ATTR,
        Opcode::STORE_FAST_MAYBE_NULL,
    ];

    /// CPython's name for the opcode.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::CACHE => "CACHE",
            Opcode::POP_TOP => "POP_TOP",
            Opcode::PUSH_NULL => "PUSH_NULL",
            Opcode::INTERPRETER_EXIT => "INTERPRETER_EXIT",
            Opcode::END_FOR => "END_FOR",
            Opcode::END_SEND => "END_SEND",
            Opcode::NOP => "NOP",
            Opcode::UNARY_NEGATIVE => "UNARY_NEGATIVE",
            Opcode::UNARY_NOT => "UNARY_NOT",
            Opcode::UNARY_INVERT => "UNARY_INVERT",
            Opcode::RESERVED => "RESERVED",
            Opcode::BINARY_SUBSCR => "BINARY_SUBSCR",
            Opcode::BINARY_SLICE => "BINARY_SLICE",
            Opcode::STORE_SLICE => "STORE_SLICE",
            Opcode::GET_LEN => "GET_LEN",
            Opcode::MATCH_MAPPING => "MATCH_MAPPING",
            Opcode::MATCH_SEQUENCE => "MATCH_SEQUENCE",
            Opcode::MATCH_KEYS => "MATCH_KEYS",
            Opcode::PUSH_EXC_INFO => "PUSH_EXC_INFO",
            Opcode::CHECK_EXC_MATCH => "CHECK_EXC_MATCH",
            Opcode::CHECK_EG_MATCH => "CHECK_EG_MATCH",
            Opcode::WITH_EXCEPT_START => "WITH_EXCEPT_START",
            Opcode::GET_AITER => "GET_AITER",
            Opcode::GET_ANEXT => "GET_ANEXT",
            Opcode::BEFORE_ASYNC_WITH => "BEFORE_ASYNC_WITH",
            Opcode::BEFORE_WITH => "BEFORE_WITH",
            Opcode::END_ASYNC_FOR => "END_ASYNC_FOR",
            Opcode::CLEANUP_THROW => "CLEANUP_THROW",
            Opcode::STORE_SUBSCR => "STORE_SUBSCR",
            Opcode::DELETE_SUBSCR => "DELETE_SUBSCR",
            Opcode::GET_ITER => "GET_ITER",
            Opcode::GET_YIELD_FROM_ITER => "GET_YIELD_FROM_ITER",
            Opcode::LOAD_BUILD_CLASS => "LOAD_BUILD_CLASS",
            Opcode::LOAD_ASSERTION_ERROR => "LOAD_ASSERTION_ERROR",
            Opcode::RETURN_GENERATOR => "RETURN_GENERATOR",
            Opcode::RETURN_VALUE => "RETURN_VALUE",
            Opcode::SETUP_ANNOTATIONS => "SETUP_ANNOTATIONS",
            Opcode::LOAD_LOCALS => "LOAD_LOCALS",
            Opcode::POP_EXCEPT => "POP_EXCEPT",
            Opcode::STORE_NAME => "STORE_NAME",
            Opcode::DELETE_NAME => "DELETE_NAME",
            Opcode::UNPACK_SEQUENCE => "UNPACK_SEQUENCE",
            Opcode::FOR_ITER => "FOR_ITER",
            Opcode::UNPACK_EX => "UNPACK_EX",
            Opcode::STORE_ATTR => "STORE_ATTR",
            Opcode::DELETE_ATTR => "DELETE_ATTR",
            Opcode::STORE_GLOBAL => "STORE_GLOBAL",
            Opcode::DELETE_GLOBAL => "DELETE_GLOBAL",
            Opcode::SWAP => "SWAP",
            Opcode::LOAD_CONST => "LOAD_CONST",
            Opcode::LOAD_NAME => "LOAD_NAME",
            Opcode::BUILD_TUPLE => "BUILD_TUPLE",
            Opcode::BUILD_LIST => "BUILD_LIST",
            Opcode::BUILD_SET => "BUILD_SET",
            Opcode::BUILD_MAP => "BUILD_MAP",
            Opcode::LOAD_ATTR => "LOAD_ATTR",
            Opcode::COMPARE_OP => "COMPARE_OP",
            Opcode::IMPORT_NAME => "IMPORT_NAME",
            Opcode::IMPORT_FROM => "IMPORT_FROM",
            Opcode::JUMP_FORWARD => "JUMP_FORWARD",
            Opcode::POP_JUMP_IF_FALSE => "POP_JUMP_IF_FALSE",
            Opcode::POP_JUMP_IF_TRUE => "POP_JUMP_IF_TRUE",
            Opcode::LOAD_GLOBAL => "LOAD_GLOBAL",
            Opcode::IS_OP => "IS_OP",
            Opcode::CONTAINS_OP => "CONTAINS_OP",
            Opcode::RERAISE => "RERAISE",
            Opcode::COPY => "COPY",
            Opcode::RETURN_CONST => "RETURN_CONST",
            Opcode::BINARY_OP => "BINARY_OP",
            Opcode::SEND => "SEND",
            Opcode::LOAD_FAST => "LOAD_FAST",
            Opcode::STORE_FAST => "STORE_FAST",
            Opcode::DELETE_FAST => "DELETE_FAST",
            Opcode::LOAD_FAST_CHECK => "LOAD_FAST_CHECK",
            Opcode::POP_JUMP_IF_NOT_NONE => "POP_JUMP_IF_NOT_NONE",
            Opcode::POP_JUMP_IF_NONE => "POP_JUMP_IF_NONE",
            Opcode::RAISE_VARARGS => "RAISE_VARARGS",
            Opcode::GET_AWAITABLE => "GET_AWAITABLE",
            Opcode::MAKE_FUNCTION => "MAKE_FUNCTION",
            Opcode::BUILD_SLICE => "BUILD_SLICE",
            Opcode::JUMP_BACKWARD_NO_INTERRUPT => "JUMP_BACKWARD_NO_INTERRUPT",
            Opcode::MAKE_CELL => "MAKE_CELL",
            Opcode::LOAD_CLOSURE => "LOAD_CLOSURE",
            Opcode::LOAD_DEREF => "LOAD_DEREF",
            Opcode::STORE_DEREF => "STORE_DEREF",
            Opcode::DELETE_DEREF => "DELETE_DEREF",
            Opcode::JUMP_BACKWARD => "JUMP_BACKWARD",
            Opcode::LOAD_SUPER_ATTR => "LOAD_SUPER_ATTR",
            Opcode::CALL_FUNCTION_EX => "CALL_FUNCTION_EX",
            Opcode::LOAD_FAST_AND_CLEAR => "LOAD_FAST_AND_CLEAR",
            Opcode::EXTENDED_ARG => "EXTENDED_ARG",
            Opcode::LIST_APPEND => "LIST_APPEND",
            Opcode::SET_ADD => "SET_ADD",
            Opcode::MAP_ADD => "MAP_ADD",
            Opcode::COPY_FREE_VARS => "COPY_FREE_VARS",
            Opcode::YIELD_VALUE => "YIELD_VALUE",
            Opcode::RESUME => "RESUME",
            Opcode::MATCH_CLASS => "MATCH_CLASS",
            Opcode::FORMAT_VALUE => "FORMAT_VALUE",
            Opcode::BUILD_CONST_KEY_MAP => "BUILD_CONST_KEY_MAP",
            Opcode::BUILD_STRING => "BUILD_STRING",
            Opcode::LIST_EXTEND => "LIST_EXTEND",
            Opcode::SET_UPDATE => "SET_UPDATE",
            Opcode::DICT_MERGE => "DICT_MERGE",
            Opcode::DICT_UPDATE => "DICT_UPDATE",
            Opcode::CALL => "CALL",
            Opcode::KW_NAMES => "KW_NAMES",
            Opcode::CALL_INTRINSIC_1 => "CALL_INTRINSIC_1",
            Opcode::CALL_INTRINSIC_2 => "CALL_INTRINSIC_2",
            Opcode::LOAD_FROM_DICT_OR_GLOBALS => "LOAD_FROM_DICT_OR_GLOBALS",
            Opcode::LOAD_FROM_DICT_OR_DEREF => "LOAD_FROM_DICT_OR_DEREF",
            Opcode::SETUP_FINALLY => "SETUP_FINALLY",
            Opcode::SETUP_CLEANUP => "SETUP_CLEANUP",
            Opcode::SETUP_WITH => "SETUP_WITH",
            Opcode::POP_BLOCK => "POP_BLOCK",
            Opcode::JUMP => "JUMP",
            Opcode::JUMP_NO_INTERRUPT => "JUMP_NO_INTERRUPT",
            Opcode::LOAD_METHOD => "LOAD_METHOD",
            Opcode::LOAD_SUPER_METHOD => "LOAD_SUPER_METHOD",
            Opcode::LOAD_ZERO_SUPER_METHOD => "LOAD_ZERO_SUPER_METHOD",
            Opcode::LOAD_ZERO_SUPER_ATTR => "LOAD_ZERO_SUPER_ATTR",
            Opcode::STORE_FAST_MAYBE_NULL => "STORE_FAST_MAYBE_NULL",
        }
    }

    /// Whether this is a pseudo-instruction (no number; rewritten before assembly).
    pub fn is_pseudo(self) -> bool {
        self as u8 >= Opcode::SETUP_FINALLY as u8
    }
}

/// A source span of an instruction, as CPython's `location`: 1-based lines, 0-based UTF-8 byte
/// columns, `-1` where unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub lineno: i32,
    pub end_lineno: i32,
    pub col_offset: i32,
    pub end_col_offset: i32,
}

impl Location {
    /// No location (CPython's `NO_LOCATION`): the instruction takes its line from neighbours.
    pub const NONE: Location = Location {
        lineno: -1,
        end_lineno: -1,
        col_offset: -1,
        end_col_offset: -1,
    };
}

impl From<crate::ast::Loc> for Location {
    fn from(loc: crate::ast::Loc) -> Location {
        Location {
            lineno: loc.lineno as i32,
            end_lineno: loc.end_lineno as i32,
            col_offset: loc.col as i32,
            end_col_offset: loc.end_col as i32,
        }
    }
}

/// A jump target in an [`InstrSequence`], bound to a position with [`InstrSequence::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(pub u32);

/// An instruction's argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arg {
    /// An integer argument (0 for opcodes without one).
    Int(u32),
    /// The target of a jump or of a `SETUP_*` pseudo-instruction.
    Label(Label),
}

/// One instruction of code generation's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instr {
    pub op: Opcode,
    pub arg: Arg,
    pub loc: Location,
}

/// The linear instruction stream of one code unit, with labels bound to positions (CPython's
/// `instr_sequence`).
#[derive(Clone, Debug, Default)]
pub struct InstrSequence {
    pub instrs: Vec<Instr>,
    /// For each label, the index of the instruction it is bound to (`None` while unbound).
    pub label_targets: Vec<Option<usize>>,
}

impl InstrSequence {
    /// A fresh, unbound label.
    pub fn new_label(&mut self) -> Label {
        self.label_targets.push(None);
        Label(self.label_targets.len() as u32 - 1)
    }

    /// Binds `label` to the position of the next instruction emitted.
    pub fn bind(&mut self, label: Label) {
        self.label_targets[label.0 as usize] = Some(self.instrs.len());
    }

    /// Appends an instruction.
    pub fn emit(&mut self, op: Opcode, arg: Arg, loc: Location) {
        self.instrs.push(Instr { op, arg, loc });
    }
}

/// What makes two constants the same entry of `co_consts` (CPython's `_PyCode_ConstantKey`):
/// equal values of the same type, with `0.0` and `-0.0` kept apart, and code objects by the
/// fields CPython's code equality compares (so a body compiled twice, as a `finally` block is,
/// gives one constant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstKey {
    None,
    True,
    False,
    Ellipsis,
    Int(Int),
    /// The bit pattern of the float.
    Float(u64),
    Complex(u64, u64),
    Bytes(Vec<u8>),
    Str(Str),
    Tuple(Vec<ConstKey>),
    /// Keys of the members, sorted so that equal sets have equal keys.
    FrozenSet(Vec<ConstKey>),
    /// A code object, by value.
    Code(Box<CodeKey>),
    /// An object that is never equal to another constant (mutable containers), by address.
    Identity(usize),
}

/// A code object compared by the fields CPython's code equality compares (not the file name,
/// qualified name, stack size or local kinds). Building the key shares the object; nested
/// constants are keyed only when two code objects are compared, and hashing reads only the
/// code object's own fields, so keying a class body does not walk its methods again.
#[derive(Clone, Debug)]
pub struct CodeKey(Arc<CodeObject>);

impl PartialEq for CodeKey {
    fn eq(&self, other: &CodeKey) -> bool {
        let (a, b) = (&*self.0, &*other.0);
        Arc::ptr_eq(&self.0, &other.0)
            || (a.name == b.name
                && a.argcount == b.argcount
                && a.posonlyargcount == b.posonlyargcount
                && a.kwonlyargcount == b.kwonlyargcount
                && a.flags == b.flags
                && a.firstlineno == b.firstlineno
                && a.code == b.code
                && a.names == b.names
                && a.localsplusnames == b.localsplusnames
                && a.linetable == b.linetable
                && a.exceptiontable == b.exceptiontable
                && a.consts.len() == b.consts.len()
                && a.consts
                    .iter()
                    .map(ConstKey::of)
                    .eq(b.consts.iter().map(ConstKey::of)))
    }
}

impl Eq for CodeKey {}

impl std::hash::Hash for CodeKey {
    /// A subset of the compared fields (equal keys hash equally).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let code = &*self.0;
        code.name.hash(state);
        code.firstlineno.hash(state);
        code.flags.hash(state);
        code.code.hash(state);
        code.consts.len().hash(state);
    }
}

/// The tags [`ConstKey`]'s hash starts with, one per variant.
mod tag {
    pub const NONE: u8 = 0;
    pub const TRUE: u8 = 1;
    pub const FALSE: u8 = 2;
    pub const ELLIPSIS: u8 = 3;
    pub const INT: u8 = 4;
    pub const FLOAT: u8 = 5;
    pub const COMPLEX: u8 = 6;
    pub const BYTES: u8 = 7;
    pub const STR: u8 = 8;
    pub const TUPLE: u8 = 9;
    pub const FROZENSET: u8 = 10;
    pub const CODE: u8 = 11;
    pub const IDENTITY: u8 = 12;
}

impl std::hash::Hash for ConstKey {
    /// The variant's tag, then its payload; [`scalar_key_hash`] hashes a scalar constant
    /// the same way without making its key.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            ConstKey::None => state.write_u8(tag::NONE),
            ConstKey::True => state.write_u8(tag::TRUE),
            ConstKey::False => state.write_u8(tag::FALSE),
            ConstKey::Ellipsis => state.write_u8(tag::ELLIPSIS),
            ConstKey::Int(i) => {
                state.write_u8(tag::INT);
                i.hash(state);
            }
            ConstKey::Float(bits) => {
                state.write_u8(tag::FLOAT);
                bits.hash(state);
            }
            ConstKey::Complex(re, im) => {
                state.write_u8(tag::COMPLEX);
                re.hash(state);
                im.hash(state);
            }
            ConstKey::Bytes(b) => {
                state.write_u8(tag::BYTES);
                b.as_slice().hash(state);
            }
            ConstKey::Str(s) => {
                state.write_u8(tag::STR);
                s.hash(state);
            }
            ConstKey::Tuple(items) => {
                state.write_u8(tag::TUPLE);
                items.hash(state);
            }
            ConstKey::FrozenSet(items) => {
                state.write_u8(tag::FROZENSET);
                items.hash(state);
            }
            ConstKey::Code(code) => {
                state.write_u8(tag::CODE);
                code.hash(state);
            }
            ConstKey::Identity(address) => {
                state.write_u8(tag::IDENTITY);
                address.hash(state);
            }
        }
    }
}

/// The hash of a scalar constant's key (`None`, booleans, `...`, numbers, bytes, strings),
/// computed without making the key; `None` for other constants.
fn scalar_key_hash(value: &Object) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut state = rustc_hash::FxHasher::default();
    match value {
        Object::None => state.write_u8(tag::NONE),
        Object::True => state.write_u8(tag::TRUE),
        Object::False => state.write_u8(tag::FALSE),
        Object::Ellipsis => state.write_u8(tag::ELLIPSIS),
        Object::Int(i) => {
            state.write_u8(tag::INT);
            i.hash(&mut state);
        }
        Object::Float(f) => {
            state.write_u8(tag::FLOAT);
            f.to_bits().hash(&mut state);
        }
        Object::Complex(re, im) => {
            state.write_u8(tag::COMPLEX);
            re.to_bits().hash(&mut state);
            im.to_bits().hash(&mut state);
        }
        Object::Bytes(b) => {
            state.write_u8(tag::BYTES);
            b.as_ref().hash(&mut state);
        }
        Object::Str(s) => {
            state.write_u8(tag::STR);
            s.hash(&mut state);
        }
        _ => return None,
    }
    Some(state.finish())
}

/// Whether two scalar constants are the same entry of `co_consts` (`ConstKey::of(a) ==
/// ConstKey::of(b)` for the constants [`scalar_key_hash`] hashes).
fn same_scalar(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::None, Object::None)
        | (Object::True, Object::True)
        | (Object::False, Object::False)
        | (Object::Ellipsis, Object::Ellipsis) => true,
        (Object::Int(a), Object::Int(b)) => a == b,
        (Object::Float(a), Object::Float(b)) => a.to_bits() == b.to_bits(),
        (Object::Complex(a, b), Object::Complex(re, im)) => {
            a.to_bits() == re.to_bits() && b.to_bits() == im.to_bits()
        }
        (Object::Bytes(a), Object::Bytes(b)) => a == b,
        (Object::Str(a), Object::Str(b)) => a == b,
        _ => false,
    }
}

impl ConstKey {
    /// The key of a constant; lists, dicts and sets (never constants) key by address.
    pub fn of(value: &Object) -> ConstKey {
        match value {
            Object::None => ConstKey::None,
            Object::True => ConstKey::True,
            Object::False => ConstKey::False,
            Object::Ellipsis => ConstKey::Ellipsis,
            Object::Int(i) => ConstKey::Int(i.clone()),
            Object::Float(f) => ConstKey::Float(f.to_bits()),
            Object::Complex(re, im) => ConstKey::Complex(re.to_bits(), im.to_bits()),
            Object::Bytes(b) => ConstKey::Bytes(b.to_vec()),
            Object::Str(s) => ConstKey::Str(s.clone()),
            Object::Tuple(items) => ConstKey::Tuple(items.iter().map(ConstKey::of).collect()),
            Object::FrozenSet(items) => {
                let mut keys: Vec<ConstKey> = items.iter().map(ConstKey::of).collect();
                keys.sort_by_cached_key(|k| format!("{k:?}"));
                ConstKey::FrozenSet(keys)
            }
            Object::Code(code) => ConstKey::Code(Box::new(CodeKey(code.clone()))),
            Object::StopIteration => ConstKey::Identity(0),
            Object::List(items) | Object::Set(items) => {
                ConstKey::Identity(items.as_ptr() as *const () as usize)
            }
            Object::Dict(items) => ConstKey::Identity(items.as_ptr() as *const () as usize),
        }
    }
}

/// An insertion-ordered set of values with their indices (CPython keeps `co_consts`,
/// `co_names` and the variable names in dicts mapping value to index).
#[derive(Clone)]
pub struct IndexSet<K, V> {
    keys: Vec<K>,
    values: Vec<V>,
    /// The hash of each key, so that growing the table hashes no key again.
    hashes: Vec<u64>,
    /// Indices into `keys`, hashed by their key; empty while the set is searched linearly
    /// (at most [`LINEAR_ENTRIES`] entries).
    table: hashbrown::HashTable<u32>,
}

impl<K, V> Default for IndexSet<K, V> {
    fn default() -> Self {
        IndexSet {
            keys: Vec::new(),
            values: Vec::new(),
            hashes: Vec::new(),
            table: hashbrown::HashTable::new(),
        }
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for IndexSet<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.keys.iter().zip(&self.values))
            .finish()
    }
}

/// The entries an [`IndexSet`] has room for when its first entry arrives.
const INITIAL_ENTRIES: usize = 14;

/// Sets of up to this many entries are searched linearly, without a hash table (most sets of
/// names and constants are this small).
const LINEAR_ENTRIES: usize = 8;

fn hash_of<Q: std::hash::Hash + ?Sized>(value: &Q) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(value)
}

impl<K: std::hash::Hash + Eq, V> IndexSet<K, V> {
    /// The index of the entry whose key hashes to `hash` and for whose index `is_entry`
    /// holds, if any.
    fn find(&self, hash: u64, is_entry: impl Fn(usize) -> bool) -> Option<u32> {
        if self.keys.len() <= LINEAR_ENTRIES {
            return self
                .hashes
                .iter()
                .enumerate()
                .position(|(i, &h)| h == hash && is_entry(i))
                .map(|i| i as u32);
        }
        self.table.find(hash, |&i| is_entry(i as usize)).copied()
    }

    /// Appends a new entry whose key hashes to `hash`.
    fn push(&mut self, hash: u64, key: K, value: V) -> u32 {
        let next = self.values.len() as u32;
        if self.keys.capacity() == 0 {
            self.keys.reserve(INITIAL_ENTRIES);
            self.values.reserve(INITIAL_ENTRIES);
            self.hashes.reserve(INITIAL_ENTRIES);
        }
        self.keys.push(key);
        self.values.push(value);
        self.hashes.push(hash);
        if self.keys.len() <= LINEAR_ENTRIES {
            return next;
        }
        let hashes = &self.hashes;
        let rehash = |&i: &u32| hashes[i as usize];
        if self.table.capacity() == 0 {
            // The set outgrows linear search: room for the entries so far and as many more.
            self.table.reserve(2 * self.hashes.len(), rehash);
            for (i, &h) in self.hashes[..next as usize].iter().enumerate() {
                self.table.insert_unique(h, i as u32, rehash);
            }
        }
        self.table.insert_unique(hash, next, rehash);
        next
    }

    /// The index of the value with `key`, adding `value()` at the end if it is new.
    pub fn insert_with(&mut self, key: K, value: impl FnOnce() -> V) -> u32 {
        let hash = hash_of(&key);
        match self.find(hash, |i| self.keys[i] == key) {
            Some(i) => i,
            None => self.push(hash, key, value()),
        }
    }

    /// The index of `key`, if present.
    pub fn get(&self, key: &K) -> Option<u32> {
        self.find(hash_of(key), |i| self.keys[i] == *key)
    }

    /// The values in index order.
    pub fn values(&self) -> &[V] {
        &self.values
    }

    /// The values in index order, taken out of the set.
    pub fn into_values(self) -> Vec<V> {
        self.values
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// `co_consts` under construction. A scalar constant (`None`, booleans, `...`, numbers, bytes,
/// strings) is its own key and stores none; other constants store their [`ConstKey`].
#[derive(Clone, Debug, Default)]
pub struct ConstPool(IndexSet<Option<ConstKey>, Object>);

impl ConstPool {
    /// The index of `value` in the pool, adding it if new.
    pub fn add(&mut self, value: Object) -> u32 {
        let set = &mut self.0;
        let Some(hash) = scalar_key_hash(&value) else {
            let key = Some(ConstKey::of(&value));
            return set.insert_with(key, || value);
        };
        let found = set.find(hash, |i| {
            set.keys[i].is_none() && same_scalar(&set.values[i], &value)
        });
        match found {
            Some(i) => i,
            None => set.push(hash, None, value),
        }
    }

    /// Adds `value` as a new entry, equal to no other (a NaN: CPython never merges those).
    pub fn add_distinct(&mut self, value: Object) -> u32 {
        // No address is this high.
        let key = ConstKey::Identity(usize::MAX - self.0.len());
        self.0.push(hash_of(&key), Some(key), value)
    }

    /// The constants in index order.
    pub fn values(&self) -> &[Object] {
        self.0.values()
    }

    /// The constants in index order, taken out of the pool.
    pub fn into_values(self) -> Vec<Object> {
        self.0.into_values()
    }

    /// The number of constants.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The hash [`NamePool`] and the symbol table key a name by (a [`Str`] hashes as its bytes),
/// so that one hash serves both lookups.
pub fn name_hash(name: &str) -> u64 {
    hash_of(name.as_bytes())
}

/// A set of names (`co_names`, variable names) under construction. Each name is its own key,
/// stored once.
#[derive(Clone, Debug, Default)]
pub struct NamePool(IndexSet<Str, ()>);

impl NamePool {
    /// The index of `name`, adding it if new.
    pub fn add(&mut self, name: &Str) -> u32 {
        self.0.insert_with(name.clone(), || ())
    }

    /// The index of the interned name `name`, adding it if new; no string is made for a name
    /// already present (a [`Str`] hashes and compares as its bytes).
    pub fn add_interned(&mut self, name: &str) -> u32 {
        self.add_interned_hashed(name, name_hash(name))
    }

    /// [`NamePool::add_interned`] with the name's [`name_hash`] already computed.
    pub fn add_interned_hashed(&mut self, name: &str, hash: u64) -> u32 {
        match self
            .0
            .find(hash, |i| self.0.keys[i].as_bytes() == name.as_bytes())
        {
            Some(i) => i,
            None => self.0.push(hash, Str::new(name, true), ()),
        }
    }

    /// The index of `name`, if present.
    pub fn get(&self, name: &Str) -> Option<u32> {
        self.0.get(name)
    }

    /// The names in index order.
    pub fn values(&self) -> &[Str] {
        &self.0.keys
    }

    /// The names in index order, taken out of the set.
    pub fn into_values(self) -> Vec<Str> {
        self.0.keys
    }

    /// The number of names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Everything about a code unit besides its instructions (CPython's
/// `_PyCompile_CodeUnitMetadata`, plus the code flags).
#[derive(Clone, Debug, Default)]
pub struct UnitMetadata {
    pub name: Str,
    pub qualname: Str,
    pub consts: ConstPool,
    pub names: NamePool,
    /// Parameters first, then the other locals, in symbol-table order.
    pub varnames: NamePool,
    /// Cell variables, sorted as CPython sorts them.
    pub cellvars: NamePool,
    /// Free variables, sorted as CPython sorts them.
    pub freevars: NamePool,
    /// Locals of inlined comprehensions that must be hidden (`CO_FAST_HIDDEN`).
    pub fasthidden: Vec<Str>,
    pub argcount: u32,
    pub posonlyargcount: u32,
    pub kwonlyargcount: u32,
    pub firstlineno: i32,
    /// `co_flags` as code generation computed them (the assembler may add `CO_NOFREE`-style
    /// bits only where CPython's assembler does).
    pub flags: u32,
}

/// One code unit, ready for the flow-graph passes and assembly.
#[derive(Clone, Debug, Default)]
pub struct CodeUnit {
    pub metadata: UnitMetadata,
    pub instrs: InstrSequence,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scalar constant's key hashes and compares as the pool's shortcut for scalars
    /// assumes.
    #[test]
    fn scalar_keys_found_without_keys() {
        let values = [
            Object::None,
            Object::True,
            Object::False,
            Object::Ellipsis,
            Object::Int(Int::Small(0)),
            Object::Int(Int::Small(-7)),
            Object::Float(0.0),
            Object::Float(-0.0),
            Object::Complex(1.0, -0.0),
            Object::Bytes(bytes::Bytes::from_static(b"ab")),
            Object::Str(Str::new("ab", false)),
            Object::Str(Str::new("ab", true)),
        ];
        for value in &values {
            let key = ConstKey::of(value);
            assert_eq!(scalar_key_hash(value), Some(hash_of(&key)), "{value:?}");
            for other in &values {
                assert_eq!(
                    same_scalar(value, other),
                    key == ConstKey::of(other),
                    "{value:?} {other:?}"
                );
            }
        }
        let tuple = Object::tuple(vec![Object::None]);
        assert_eq!(scalar_key_hash(&tuple), None);
        let mut pool = ConstPool::default();
        let indices: Vec<u32> = values.iter().map(|v| pool.add(v.clone())).collect();
        let again: Vec<u32> = values.iter().map(|v| pool.add(v.clone())).collect();
        assert_eq!(indices, again);
        assert_eq!(pool.add(tuple.clone()), pool.add(tuple));
    }

    /// `add_interned` hashes a name's text as `add` hashes its `Str`: each finds the other's
    /// entries, whatever the table's size.
    #[test]
    fn names_found_by_text_and_by_str() {
        let mut pool = NamePool::default();
        let names: Vec<String> = (0..200).map(|i| format!("name{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            let index = if i % 2 == 0 {
                pool.add(&Str::new(name, false))
            } else {
                pool.add_interned(name)
            };
            assert_eq!(index, i as u32);
        }
        for (i, name) in names.iter().enumerate() {
            assert_eq!(pool.add_interned(name), i as u32);
            assert_eq!(pool.add(&Str::new(name, true)), i as u32);
            assert_eq!(pool.get(&Str::new(name, true)), Some(i as u32));
        }
        assert_eq!(pool.len(), names.len());
        assert_eq!(pool.get(&Str::new("missing", true)), None);
    }
}
