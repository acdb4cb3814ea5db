//! Code objects, pre-decoded once: CACHE entries dropped, EXTENDED_ARG folded into the argument,
//! jump targets and exception-table ranges resolved to instruction indices, constants turned
//! into values (nested code objects decoded recursively).

use std::cell::OnceCell;
use std::rc::Rc;
use std::sync::Arc;

use pyc_loader::linetable::{self, Position};
use pyc_loader::marshal::Int;
use pyc_loader::opcode::Jump;
use pyc_loader::{CodeObject, Object, Target};

use crate::dict::DictMap;
use crate::objects::SetObj;
use crate::ops::hash_builtin;
use crate::pystr::{intern, PyStr};
use crate::value::Value;

macro_rules! ops {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// The instructions the VM executes (CPython 3.12 names).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Op {
            $(#[doc = $name] $variant,)*
            /// An opcode the VM does not implement; the argument is the CPython opcode number.
            Unsupported,
        }

        impl Op {
            fn from_name(name: &str) -> Op {
                match name {
                    $($name => Op::$variant,)*
                    _ => Op::Unsupported,
                }
            }
        }
    };
}

ops! {
    Nop = "NOP", Resume = "RESUME", PopTop = "POP_TOP", PushNull = "PUSH_NULL",
    EndFor = "END_FOR", EndSend = "END_SEND", UnaryNegative = "UNARY_NEGATIVE",
    UnaryNot = "UNARY_NOT", UnaryInvert = "UNARY_INVERT", BinarySubscr = "BINARY_SUBSCR",
    BinarySlice = "BINARY_SLICE", StoreSlice = "STORE_SLICE", GetIter = "GET_ITER",
    StoreSubscr = "STORE_SUBSCR", DeleteSubscr = "DELETE_SUBSCR",
    GetYieldFromIter = "GET_YIELD_FROM_ITER", LoadBuildClass = "LOAD_BUILD_CLASS",
    LoadAssertionError = "LOAD_ASSERTION_ERROR", ReturnGenerator = "RETURN_GENERATOR",
    ReturnValue = "RETURN_VALUE", SetupAnnotations = "SETUP_ANNOTATIONS",
    LoadLocals = "LOAD_LOCALS", PopExcept = "POP_EXCEPT", StoreName = "STORE_NAME",
    DeleteName = "DELETE_NAME", UnpackSequence = "UNPACK_SEQUENCE", ForIter = "FOR_ITER",
    UnpackEx = "UNPACK_EX", StoreAttr = "STORE_ATTR", DeleteAttr = "DELETE_ATTR",
    StoreGlobal = "STORE_GLOBAL", DeleteGlobal = "DELETE_GLOBAL", Swap = "SWAP",
    LoadConst = "LOAD_CONST", LoadName = "LOAD_NAME", BuildTuple = "BUILD_TUPLE",
    BuildList = "BUILD_LIST", BuildSet = "BUILD_SET", BuildMap = "BUILD_MAP",
    LoadAttr = "LOAD_ATTR", CompareOp = "COMPARE_OP", ImportName = "IMPORT_NAME",
    ImportFrom = "IMPORT_FROM", JumpForward = "JUMP_FORWARD",
    PopJumpIfFalse = "POP_JUMP_IF_FALSE", PopJumpIfTrue = "POP_JUMP_IF_TRUE",
    LoadGlobal = "LOAD_GLOBAL", IsOp = "IS_OP", ContainsOp = "CONTAINS_OP", Reraise = "RERAISE",
    Copy = "COPY", ReturnConst = "RETURN_CONST", BinaryOp = "BINARY_OP", Send = "SEND",
    LoadFast = "LOAD_FAST", StoreFast = "STORE_FAST", DeleteFast = "DELETE_FAST",
    LoadFastCheck = "LOAD_FAST_CHECK", PopJumpIfNotNone = "POP_JUMP_IF_NOT_NONE",
    PopJumpIfNone = "POP_JUMP_IF_NONE", RaiseVarargs = "RAISE_VARARGS",
    MakeFunction = "MAKE_FUNCTION", BuildSlice = "BUILD_SLICE",
    JumpBackwardNoInterrupt = "JUMP_BACKWARD_NO_INTERRUPT", MakeCell = "MAKE_CELL",
    LoadClosure = "LOAD_CLOSURE", LoadDeref = "LOAD_DEREF", StoreDeref = "STORE_DEREF",
    DeleteDeref = "DELETE_DEREF", JumpBackward = "JUMP_BACKWARD",
    LoadSuperAttr = "LOAD_SUPER_ATTR", CallFunctionEx = "CALL_FUNCTION_EX",
    LoadFastAndClear = "LOAD_FAST_AND_CLEAR", ListAppend = "LIST_APPEND", SetAdd = "SET_ADD",
    MapAdd = "MAP_ADD", CopyFreeVars = "COPY_FREE_VARS", YieldValue = "YIELD_VALUE",
    BuildConstKeyMap = "BUILD_CONST_KEY_MAP", BuildString = "BUILD_STRING",
    ListExtend = "LIST_EXTEND", SetUpdate = "SET_UPDATE", DictMerge = "DICT_MERGE",
    DictUpdate = "DICT_UPDATE", Call = "CALL", KwNames = "KW_NAMES",
    CallIntrinsic1 = "CALL_INTRINSIC_1", CallIntrinsic2 = "CALL_INTRINSIC_2",
    LoadFromDictOrGlobals = "LOAD_FROM_DICT_OR_GLOBALS",
    LoadFromDictOrDeref = "LOAD_FROM_DICT_OR_DEREF", PushExcInfo = "PUSH_EXC_INFO",
    CheckExcMatch = "CHECK_EXC_MATCH", WithExceptStart = "WITH_EXCEPT_START",
    BeforeWith = "BEFORE_WITH", CleanupThrow = "CLEANUP_THROW", FormatValue = "FORMAT_VALUE",
    GetAwaitable = "GET_AWAITABLE", GetAiter = "GET_AITER", GetAnext = "GET_ANEXT",
    EndAsyncFor = "END_ASYNC_FOR", BeforeAsyncWith = "BEFORE_ASYNC_WITH",
    CheckEgMatch = "CHECK_EG_MATCH",
    GetLen = "GET_LEN", MatchMapping = "MATCH_MAPPING", MatchSequence = "MATCH_SEQUENCE",
    MatchKeys = "MATCH_KEYS", MatchClass = "MATCH_CLASS",
}

/// One decoded instruction: 8 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Instr {
    /// The operation.
    pub op: Op,
    /// The argument (EXTENDED_ARG folded in; for jumps, the target instruction index).
    pub arg: u32,
}

/// An exception-table entry in instruction indices.
#[derive(Clone, Copy, Debug)]
pub struct Handler {
    /// First covered instruction.
    pub start: u32,
    /// One past the last covered instruction.
    pub end: u32,
    /// The handler's first instruction.
    pub target: u32,
    /// The value-stack depth to unwind to.
    pub depth: u32,
    /// Whether to push the faulting instruction's index before the exception.
    pub lasti: bool,
}

/// A decoded code object.
#[derive(Debug)]
pub struct Code {
    /// co_name.
    pub name: Rc<PyStr>,
    /// co_qualname.
    pub qualname: Rc<PyStr>,
    /// co_filename.
    pub filename: Rc<PyStr>,
    /// co_flags.
    pub flags: u32,
    /// co_argcount.
    pub argcount: usize,
    /// co_posonlyargcount.
    pub posonlyargcount: usize,
    /// co_kwonlyargcount.
    pub kwonlyargcount: usize,
    /// co_stacksize.
    pub stacksize: usize,
    /// Names of the fast slots (locals, cells, free variables).
    pub localsplusnames: Vec<Rc<PyStr>>,
    /// Kinds of the fast slots (CO_FAST_* bits).
    pub localspluskinds: Vec<u8>,
    /// co_consts.
    pub consts: Vec<Value>,
    /// co_names.
    pub names: Vec<Rc<PyStr>>,
    /// The instructions.
    pub instrs: Vec<Instr>,
    /// The code-unit offset of each instruction (for locations and error messages).
    pub offsets: Vec<u32>,
    /// The exception table.
    pub handlers: Vec<Handler>,
    /// The source: for line numbers in tracebacks.
    source: Arc<CodeObject>,
    positions: OnceCell<Vec<Position>>,
}

/// co_flags bits.
pub mod flags {
    /// Uses a fresh locals dict? (no: fast locals).
    pub const OPTIMIZED: u32 = 0x1;
    /// *args.
    pub const VARARGS: u32 = 0x4;
    /// **kwargs.
    pub const VARKEYWORDS: u32 = 0x8;
    /// A generator function.
    pub const GENERATOR: u32 = 0x20;
    /// A coroutine.
    pub const COROUTINE: u32 = 0x80;
    /// An async generator.
    pub const ASYNC_GENERATOR: u32 = 0x200;
}

/// Why a code object could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

impl Code {
    /// Decodes `co` and every code object among its constants.
    pub fn decode(co: &Arc<CodeObject>) -> Result<Rc<Code>, DecodeError> {
        let table = Target::V3_12.opcodes();
        let raw: &[u8] = &co.code;
        let units = raw.len() / 2;
        let mut instrs = Vec::new();
        let mut offsets = Vec::new();
        // Instruction index of each code unit that starts an instruction (including its
        // EXTENDED_ARG prefixes); u32::MAX elsewhere.
        let mut index_at = vec![u32::MAX; units + 1];
        let mut raw_targets = Vec::new();
        let mut u = 0;
        let mut ext: u32 = 0;
        let mut prefix_start = None;
        while u < units {
            let (opcode, oparg) = (raw[2 * u], u32::from(raw[2 * u + 1]));
            let info = table.info(opcode);
            if opcode == table.extended_arg {
                ext = (ext | oparg) << 8;
                prefix_start.get_or_insert(u);
                u += 1;
                continue;
            }
            let arg = ext | oparg;
            ext = 0;
            let start = prefix_start.take().unwrap_or(u);
            index_at[start] = instrs.len() as u32;
            index_at[u] = instrs.len() as u32;
            let next = u + 1 + info.caches as usize;
            let target = match info.jump {
                Jump::Forward => Some(next + arg as usize),
                Jump::Backward => Some(next.checked_sub(arg as usize).ok_or_else(|| {
                    DecodeError(format!("jump before the start at offset {}", 2 * u))
                })?),
                Jump::Absolute => Some(arg as usize),
                Jump::None => None,
            };
            let op = if opcode == 0 {
                Op::Unsupported
            } else {
                Op::from_name(info.name)
            };
            raw_targets.push(target);
            instrs.push(Instr {
                op,
                arg: if op == Op::Unsupported {
                    u32::from(opcode)
                } else {
                    arg
                },
            });
            offsets.push(2 * u as u32);
            u = next;
        }
        index_at[units.min(u)] = instrs.len() as u32;
        let resolve = |unit: usize| -> Result<u32, DecodeError> {
            match index_at.get(unit) {
                Some(&ix) if ix != u32::MAX => Ok(ix),
                _ => Err(DecodeError(format!(
                    "jump into the middle of an instruction at unit {unit}"
                ))),
            }
        };
        for (instr, target) in instrs.iter_mut().zip(&raw_targets) {
            if let Some(t) = target {
                instr.arg = resolve(*t)?;
            }
        }
        let handlers = pyc_loader::exception_table::parse(&co.exceptiontable)
            .map_err(|e| DecodeError(e.to_string()))?
            .into_iter()
            .map(|e| {
                Ok(Handler {
                    start: resolve(e.start as usize / 2)?,
                    end: resolve(e.end as usize / 2)?,
                    target: resolve(e.target as usize / 2)?,
                    depth: e.depth as u32,
                    lasti: e.lasti,
                })
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        validate_args(&instrs, &offsets, co)?;
        let consts = co
            .consts
            .iter()
            .map(const_value)
            .collect::<Result<Vec<_>, _>>()?;
        let name = |s: &pyc_loader::Str| intern(&s.to_string_lossy());
        Ok(Rc::new(Code {
            name: name(&co.name),
            qualname: name(&co.qualname),
            filename: name(&co.filename),
            flags: co.flags,
            argcount: co.argcount as usize,
            posonlyargcount: co.posonlyargcount as usize,
            kwonlyargcount: co.kwonlyargcount as usize,
            stacksize: co.stacksize as usize,
            localsplusnames: co.localsplusnames.iter().map(name).collect(),
            localspluskinds: co.localspluskinds.to_vec(),
            consts,
            names: co.names.iter().map(name).collect(),
            instrs,
            offsets,
            handlers,
            source: co.clone(),
            positions: OnceCell::new(),
        }))
    }

    /// The source position of instruction `index`.
    pub fn position(&self, index: usize) -> Position {
        let positions = self.positions.get_or_init(|| {
            linetable::positions(
                &self.source.linetable,
                self.source.firstlineno,
                self.source.code.len() / 2,
            )
        });
        self.offsets
            .get(index)
            .and_then(|&off| positions.get(off as usize / 2))
            .copied()
            .unwrap_or_default()
    }

    /// co_firstlineno.
    pub fn firstlineno(&self) -> i32 {
        self.source.firstlineno
    }

    /// The number of fast slots.
    pub fn nlocalsplus(&self) -> usize {
        self.localsplusnames.len()
    }

    /// Whether a call with `nargs` positional arguments (and no keywords) fills exactly the
    /// positional parameters of a plain function (no *args, **kwargs, keyword-only
    /// parameters; not a generator), so no binding step is needed.
    #[inline]
    pub fn simple_args(&self, nargs: usize) -> bool {
        nargs == self.argcount
            && self.kwonlyargcount == 0
            && self.flags
                & (flags::VARARGS
                    | flags::VARKEYWORDS
                    | flags::GENERATOR
                    | flags::COROUTINE
                    | flags::ASYNC_GENERATOR)
                == 0
    }

    /// Whether calling the code creates a generator (or coroutine).
    pub fn is_generator(&self) -> bool {
        self.flags & (flags::GENERATOR | flags::COROUTINE | flags::ASYNC_GENERATOR) != 0
    }

    /// The handler covering instruction `index`.
    pub fn handler_for(&self, index: usize) -> Option<&Handler> {
        let i = index as u32;
        self.handlers.iter().find(|h| h.start <= i && i < h.end)
    }
}

/// Checks that every constant, name and fast-slot index an instruction uses exists, so the eval
/// loop can index without failing.
fn validate_args(instrs: &[Instr], offsets: &[u32], co: &CodeObject) -> Result<(), DecodeError> {
    let (nconsts, nnames, nlocals) = (co.consts.len(), co.names.len(), co.localsplusnames.len());
    for (instr, &off) in instrs.iter().zip(offsets) {
        let a = instr.arg as usize;
        let (index, bound, what) = match instr.op {
            Op::LoadConst | Op::ReturnConst | Op::KwNames => (a, nconsts, "constant"),
            Op::LoadName
            | Op::StoreName
            | Op::DeleteName
            | Op::StoreAttr
            | Op::DeleteAttr
            | Op::StoreGlobal
            | Op::DeleteGlobal
            | Op::ImportName
            | Op::ImportFrom
            | Op::LoadFromDictOrGlobals => (a, nnames, "name"),
            Op::LoadGlobal | Op::LoadAttr => (a >> 1, nnames, "name"),
            Op::LoadSuperAttr => (a >> 2, nnames, "name"),
            Op::LoadFast
            | Op::LoadFastCheck
            | Op::LoadFastAndClear
            | Op::StoreFast
            | Op::DeleteFast
            | Op::MakeCell
            | Op::LoadClosure
            | Op::LoadDeref
            | Op::StoreDeref
            | Op::DeleteDeref
            | Op::LoadFromDictOrDeref => (a, nlocals, "local"),
            Op::CopyFreeVars => (a, nlocals + 1, "free variable count"),
            Op::ForIter => (a + 1, instrs.len() + 1, "jump target"),
            _ => continue,
        };
        if index >= bound {
            return Err(DecodeError(format!(
                "{what} index {index} out of range at offset {off} in {}",
                co.qualname.to_string_lossy()
            )));
        }
    }
    Ok(())
}

fn const_value(obj: &Object) -> Result<Value, DecodeError> {
    Ok(match obj {
        Object::None => Value::None,
        Object::True => Value::Bool(true),
        Object::False => Value::Bool(false),
        Object::Ellipsis => Value::Ellipsis,
        Object::StopIteration => {
            return Err(DecodeError("StopIteration constant is unsupported".into()))
        }
        Object::Int(Int::Small(v)) => Value::Int(*v),
        Object::Int(Int::Big(b)) => Value::from_bigint((**b).clone()),
        Object::Float(f) => Value::Float(*f),
        Object::Complex(re, im) => Value::Complex(Rc::new((*re, *im))),
        Object::Bytes(b) => Value::Bytes(Rc::new(b.to_vec())),
        Object::Str(s) => Value::Str(intern(&s.to_string_lossy())),
        Object::Tuple(items) | Object::List(items) => {
            Value::tuple(items.iter().map(const_value).collect::<Result<_, _>>()?)
        }
        Object::Set(items) | Object::FrozenSet(items) => {
            let set = SetObj {
                frozen: true,
                ..Default::default()
            };
            for item in items.iter() {
                let v = const_value(item)?;
                let h =
                    hash_builtin(&v).ok_or_else(|| DecodeError("unhashable constant".into()))?;
                set.map.borrow_mut().add(v, h);
            }
            Value::Set(Rc::new(set))
        }
        Object::Dict(items) => {
            let mut map = DictMap::new();
            for (k, v) in items.iter() {
                let k = const_value(k)?;
                let h =
                    hash_builtin(&k).ok_or_else(|| DecodeError("unhashable constant".into()))?;
                map.insert(k, h, const_value(v)?);
            }
            Value::Dict(crate::dict::DictObj::new(map))
        }
        Object::Code(c) => Value::Code(Code::decode(c)?),
    })
}
