//! The disassembler: decodes a code object's instructions and prints them exactly as CPython's
//! `dis.dis()` does (3.12 layout: line column, jump-target markers, offsets, names, arguments
//! and their descriptions, inline caches hidden, the exception table, then every nested code
//! object).

use std::fmt::Write;
use std::sync::Arc;

use crate::code::CodeObject;
use crate::exception_table::{self, ExceptionEntry, ExceptionTableError};
use crate::linetable;
use crate::opcode::{ArgKind, Jump, OpcodeTable};
use crate::repr::{self, ReprError};
use crate::{Object, Target};

mod deopt_v312;

/// Why a code object cannot be disassembled as CPython would. CPython's `dis` raises on the
/// same inputs (mostly `IndexError`) after printing the instructions before the bad one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DisError {
    /// Only the 3.12 output format is implemented.
    #[error("disassembly of {0} code is not supported (only 3.12)")]
    UnsupportedTarget(Target),
    /// An argument indexes past the end of a table.
    #[error("offset {offset}: {opname} argument {arg} is out of range for {table} ({len} items)")]
    IndexOutOfRange {
        /// Byte offset of the instruction.
        offset: usize,
        /// Its name.
        opname: &'static str,
        /// Its (extended) argument.
        arg: i64,
        /// The table indexed, e.g. `co_consts`.
        table: &'static str,
        /// The table's length.
        len: usize,
    },
    /// A chain of EXTENDED_ARG builds an argument beyond 64 bits.
    #[error("offset {0}: EXTENDED_ARG chain overflows")]
    ExtendedArgOverflow(usize),
    /// A constant has no repr.
    #[error("offset {offset}: {source}")]
    Repr {
        /// Byte offset of the instruction.
        offset: usize,
        /// What `repr` raised.
        source: ReprError,
    },
    /// The exception table cannot be decoded.
    #[error(transparent)]
    ExceptionTable(#[from] ExceptionTableError),
}

/// One decoded instruction, as `dis.get_instructions` reports it (without positions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// Byte offset in `co_code`.
    pub offset: usize,
    /// The opcode number as `co_code` shows it: specialized and instrumented opcodes are
    /// replaced by their base opcode.
    pub opcode: u8,
    /// The argument with any EXTENDED_ARG prefix folded in (`None` below `HAVE_ARGUMENT`).
    pub arg: Option<i64>,
    /// The human-readable description of the argument (may be empty).
    pub argrepr: String,
    /// The source line this instruction starts, if it starts one.
    pub starts_line: Option<i32>,
    /// Whether a jump or an exception handler lands here.
    pub is_jump_target: bool,
}

/// `_unpack_opargs` on `co_code`: (offset, opcode, argument) for each instruction, skipping
/// inline caches.
fn unpack(code: &[u8], table: &OpcodeTable) -> Result<Vec<(usize, u8, Option<i64>)>, DisError> {
    const INT_OVERFLOW: i64 = 1 << 31;
    let mut out = Vec::with_capacity(code.len() / 2);
    let mut extended: i64 = 0;
    let mut caches = 0;
    for offset in (0..code.len().saturating_sub(1)).step_by(2) {
        if caches > 0 {
            caches -= 1;
            continue;
        }
        // What `co_code` shows: specialized and instrumented opcodes become their base opcode.
        let op = deopt_v312::DEOPT[usize::from(code[offset])];
        caches = table.info(op).caches;
        let arg = if has_arg(table, op) {
            let arg = i64::from(code[offset + 1]) | extended;
            extended = if op == table.extended_arg {
                arg.checked_mul(256)
                    .ok_or(DisError::ExtendedArgOverflow(offset))?
            } else {
                0
            };
            if extended >= INT_OVERFLOW {
                extended -= 2 * INT_OVERFLOW;
            }
            Some(arg)
        } else {
            extended = 0;
            None
        };
        out.push((offset, op, arg));
    }
    Ok(out)
}

/// `op in opcode.hasarg`: assigned opcodes from `HAVE_ARGUMENT` up.
fn has_arg(table: &OpcodeTable, op: u8) -> bool {
    op >= table.have_argument && !table.info(op).name.is_empty()
}

/// Where a jump instruction at `offset` lands, if it is one (possibly outside the code, or
/// negative, in a malformed code object: `dis` prints it all the same).
fn jump_target(table: &OpcodeTable, offset: usize, op: u8, arg: i64) -> Option<i128> {
    let info = table.info(op);
    let next = offset as i128 + 2 + 2 * i128::from(info.caches);
    let arg = i128::from(arg);
    match info.jump {
        Jump::None => None,
        Jump::Forward => Some(next + 2 * arg),
        Jump::Backward => Some(next - 2 * arg),
        Jump::Absolute => Some(2 * arg),
    }
}

/// Python's `seq[i]`, negative indices counting from the end.
fn py_index<T>(seq: &[T], i: i64) -> Option<&T> {
    let i = if i < 0 { i + seq.len() as i64 } else { i };
    usize::try_from(i).ok().and_then(|i| seq.get(i))
}

/// The name printed for an opcode (`<N>` for unassigned numbers).
fn opname(table: &OpcodeTable, op: u8) -> String {
    match table.info(op).name {
        "" => format!("<{op}>"),
        name => name.to_string(),
    }
}

const MAKE_FUNCTION_FLAGS: [&str; 4] = ["defaults", "kwdefaults", "annotations", "closure"];
const FORMAT_VALUE_CONVERTERS: [&str; 4] = ["", "str", "repr", "ascii"];

/// The argument description `dis` prints in parentheses.
fn argrepr(
    code: &CodeObject,
    target: Target,
    offset: usize,
    op: u8,
    arg: i64,
) -> Result<String, DisError> {
    let table = target.opcodes();
    let info = table.info(op);
    let name = info.name;
    let out_of_range = |table: &'static str, arg: i64, len: usize| DisError::IndexOutOfRange {
        offset,
        opname: name,
        arg,
        table,
        len,
    };
    let co_name = |index: i64| {
        py_index(&code.names, index)
            .map(|s| s.to_string_lossy())
            .ok_or_else(|| out_of_range("co_names", index, code.names.len()))
    };
    let with_prefix = |prefix: &str, text: String| {
        if arg & 1 != 0 && !text.is_empty() {
            format!("{prefix}{text}")
        } else {
            text
        }
    };
    Ok(match info.arg {
        ArgKind::None => String::new(),
        ArgKind::Const => {
            let value = py_index(&code.consts, arg)
                .ok_or_else(|| out_of_range("co_consts", arg, code.consts.len()))?;
            repr::repr(value, target).map_err(|source| DisError::Repr { offset, source })?
        }
        ArgKind::Name => match name {
            "LOAD_GLOBAL" => with_prefix("NULL + ", co_name(arg.div_euclid(2))?),
            "LOAD_ATTR" => with_prefix("NULL|self + ", co_name(arg.div_euclid(2))?),
            "LOAD_SUPER_ATTR" => with_prefix("NULL|self + ", co_name(arg.div_euclid(4))?),
            _ => co_name(arg)?,
        },
        ArgKind::Local | ArgKind::Free => usize::try_from(arg)
            .ok()
            .and_then(|i| code.localsplusnames.get(i))
            .map(|s| s.to_string_lossy())
            .ok_or_else(|| out_of_range("co_localsplusnames", arg, code.localsplusnames.len()))?,
        ArgKind::Compare => py_index(table.cmp_ops, arg >> 4)
            .ok_or_else(|| out_of_range("cmp_op", arg >> 4, table.cmp_ops.len()))?
            .to_string(),
        ArgKind::Other => {
            if let Some(dest) = jump_target(table, offset, op, arg) {
                return Ok(format!("to {dest}"));
            }
            let lookup = |names: &'static [&'static str], what| {
                py_index(names, arg)
                    .map(|s| s.to_string())
                    .ok_or_else(|| out_of_range(what, arg, names.len()))
            };
            match name {
                "FORMAT_VALUE" => {
                    let mut text = FORMAT_VALUE_CONVERTERS[(arg & 3) as usize].to_string();
                    if arg & 4 != 0 {
                        if !text.is_empty() {
                            text.push_str(", ");
                        }
                        text.push_str("with format");
                    }
                    text
                }
                "MAKE_FUNCTION" => MAKE_FUNCTION_FLAGS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| arg & (1 << i) != 0)
                    .map(|(_, s)| *s)
                    .collect::<Vec<_>>()
                    .join(", "),
                "BINARY_OP" => lookup(table.nb_ops, "BINARY_OP operators")?,
                "CALL_INTRINSIC_1" => lookup(table.intrinsic1, "CALL_INTRINSIC_1 functions")?,
                "CALL_INTRINSIC_2" => lookup(table.intrinsic2, "CALL_INTRINSIC_2 functions")?,
                _ => String::new(),
            }
        }
    })
}

/// Decodes every instruction of `code` as `dis` describes it for `target`.
pub fn instructions(code: &CodeObject, target: Target) -> Result<Vec<Instruction>, DisError> {
    let entries = exception_table::parse(&code.exceptiontable)?;
    let mut out = Vec::new();
    decode(code, target, &entries, &mut out)?;
    Ok(out)
}

/// Decodes into `out` until the first instruction `dis` would fail on.
fn decode(
    code: &CodeObject,
    target: Target,
    entries: &[ExceptionEntry],
    out: &mut Vec<Instruction>,
) -> Result<(), DisError> {
    if target != Target::V3_12 {
        return Err(DisError::UnsupportedTarget(target));
    }
    let table = target.opcodes();
    let ops = unpack(&code.code, table)?;
    let mut labels = std::collections::HashSet::new();
    for &(offset, op, arg) in &ops {
        if let Some(dest) = arg.and_then(|arg| jump_target(table, offset, op, arg)) {
            labels.insert(dest);
        }
    }
    for entry in entries {
        if entry.start < entry.end {
            labels.insert(i128::from(entry.target));
        }
    }
    let starts: std::collections::HashMap<u32, i32> =
        linetable::line_starts(&code.linetable, code.firstlineno)
            .into_iter()
            .collect();
    for (offset, op, arg) in ops {
        let argrepr = match arg {
            Some(arg) => argrepr(code, target, offset, op, arg)?,
            None => String::new(),
        };
        out.push(Instruction {
            offset,
            opcode: op,
            arg,
            argrepr,
            starts_line: u32::try_from(offset)
                .ok()
                .and_then(|o| starts.get(&o).copied()),
            is_jump_target: labels.contains(&(offset as i128)),
        });
    }
    Ok(())
}

/// Appends `dis.dis(code)` for `target` to `out`: this code object, then every code object in
/// its constants, recursively. On error, `out` holds what CPython prints before it raises.
pub fn disassemble(
    code: &Arc<CodeObject>,
    target: Target,
    out: &mut String,
) -> Result<(), DisError> {
    disassemble_one(code, target, out)?;
    for constant in code.consts.iter() {
        if let Object::Code(inner) = constant {
            let _ = write!(out, "\nDisassembly of {}:\n", repr::code_repr(inner));
            disassemble(inner, target, out)?;
        }
    }
    Ok(())
}

/// `dis.disassemble(code)`: one code object's listing and exception table.
fn disassemble_one(code: &CodeObject, target: Target, out: &mut String) -> Result<(), DisError> {
    let entries = exception_table::parse(&code.exceptiontable)?;
    let starts = linetable::line_starts(&code.linetable, code.firstlineno);
    let lineno_width = match starts.iter().map(|&(_, line)| line).max() {
        None => 0,
        Some(max) if max >= 1000 => max.to_string().len(),
        Some(_) => 3,
    };
    let max_offset = code.code.len() as i64 - 2;
    let offset_width = if max_offset >= 10000 {
        max_offset.to_string().len()
    } else {
        4
    };
    let mut instrs = Vec::new();
    let result = decode(code, target, &entries, &mut instrs);
    let table = target.opcodes();
    for instr in &instrs {
        if lineno_width > 0 && instr.starts_line.is_some() && instr.offset > 0 {
            out.push('\n');
        }
        let mut line = String::new();
        if lineno_width > 0 {
            match instr.starts_line {
                Some(n) => {
                    let _ = write!(line, "{n:>lineno_width$} ");
                }
                None => line.push_str(&" ".repeat(lineno_width + 1)),
            }
        }
        line.push_str("    ");
        line.push_str(if instr.is_jump_target { ">>" } else { "  " });
        let _ = write!(
            line,
            " {:>offset_width$} {:<20}",
            instr.offset,
            opname(table, instr.opcode)
        );
        if let Some(arg) = instr.arg {
            let _ = write!(line, " {arg:>5}");
            if !instr.argrepr.is_empty() {
                let _ = write!(line, " ({})", instr.argrepr);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    result?;
    if !entries.is_empty() {
        out.push_str("ExceptionTable:\n");
        for e in &entries {
            let _ = writeln!(
                out,
                "  {} to {} -> {} [{}]{}",
                e.start,
                i128::from(e.end) - 2,
                e.target,
                e.depth,
                if e.lasti { " lasti" } else { "" }
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marshal::{Int, Str};
    use bytes::Bytes;

    fn code(bytecode: &[u8], linetable: &[u8], exceptiontable: &[u8]) -> Arc<CodeObject> {
        let name = |s: &str| Str::new(s, true);
        Arc::new(CodeObject {
            argcount: 0,
            posonlyargcount: 0,
            kwonlyargcount: 0,
            stacksize: 1,
            flags: 0,
            code: Bytes::copy_from_slice(bytecode),
            consts: vec![Object::None, Object::Int(Int::Small(7))].into(),
            names: vec![name("x")].into(),
            localsplusnames: vec![name("a")].into(),
            localspluskinds: Bytes::from_static(&[crate::code::kinds::LOCAL]),
            filename: name("f.py"),
            name: name("<module>"),
            qualname: name("<module>"),
            firstlineno: 1,
            linetable: Bytes::copy_from_slice(linetable),
            exceptiontable: Bytes::copy_from_slice(exceptiontable),
        })
    }

    fn op(name: &str) -> u8 {
        Target::V3_12.opcodes().by_name(name).expect("known opcode")
    }

    #[test]
    fn bad_indices_are_errors_after_the_good_prefix() {
        let bytecode = [
            op("LOAD_CONST"),
            1,
            op("LOAD_CONST"),
            9,
            op("RETURN_VALUE"),
            0,
        ];
        let mut out = String::new();
        let err = disassemble(&code(&bytecode, &[], &[]), Target::V3_12, &mut out).unwrap_err();
        assert_eq!(out, "          0 LOAD_CONST               1 (7)\n");
        assert!(
            matches!(err, DisError::IndexOutOfRange { offset: 2, .. }),
            "{err}"
        );
        let bytecode = [op("LOAD_FAST"), 3];
        assert!(instructions(&code(&bytecode, &[], &[]), Target::V3_12).is_err());
    }

    #[test]
    fn jumps_out_of_range_are_printed() {
        let bytecode = [op("JUMP_BACKWARD"), 200, op("JUMP_FORWARD"), 255];
        let instrs = instructions(&code(&bytecode, &[], &[]), Target::V3_12).unwrap();
        assert_eq!(instrs[0].argrepr, "to -398");
        assert_eq!(instrs[1].argrepr, "to 514");
    }

    #[test]
    fn garbage_never_panics() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let cut = |n: u64| &bytes[..(n as usize % (len + 1))];
            let c = code(cut(next()), cut(next()), cut(next()));
            let mut out = String::new();
            let _ = disassemble(&c, Target::V3_12, &mut out);
        }
        // Like dis, wrap at 32 bits: 0xFFFFFFFF becomes -1, and stays -1.
        let bytecode = [op("EXTENDED_ARG"), 255].repeat(12);
        let instrs = instructions(&code(&bytecode, &[], &[]), Target::V3_12).unwrap();
        assert_eq!(instrs[11].arg, Some(-1));
        // Once at -2**31, each EXTENDED_ARG shifts further: past 64 bits it is an error.
        let mut bytecode = vec![op("EXTENDED_ARG"), 0x80];
        bytecode.extend([op("EXTENDED_ARG"), 0].repeat(10));
        assert!(instructions(&code(&bytecode, &[], &[]), Target::V3_12).is_err());
    }
}
