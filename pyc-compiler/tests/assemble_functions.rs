//! Function units, which `compiler_codegen` cannot give: cells of parameters and locals, free
//! variables, generators (the `StopIteration` handler, `RETURN_GENERATOR`, yields), and loads
//! of maybe-unbound locals next to `*args` / `**kwargs`. The input of each test is written as
//! CPython 3.12's code generation emits it; the expected code objects come from CPython 3.12.1
//! at test time.

mod assemble_common;

use std::sync::Arc;

use assemble_common::{first_difference, items, python312};
use pyc_compiler::assemble::assemble_unit;
use pyc_compiler::ir::{Arg, CodeUnit, InstrSequence, Label, Location, Opcode};
use pyc_loader::code::CodeObject;
use pyc_loader::marshal::{loads, Object, Str};
use pyc_loader::Target;

const SOURCE: &str = "\
def outer(a, b):
    c = 1
    def inner():
        return a + c
    return inner
def gen(x):
    yield x
    for i in x:
        yield i
def maybe(a, *args, k, **kw):
    if a:
        b = 1
    return b
";

/// CPython's code objects for `outer`, `inner`, `gen` and `maybe`.
fn expected() -> Vec<Arc<CodeObject>> {
    let script = format!(
        "import marshal, sys\nco = compile({SOURCE:?}, 'funcs.py', 'exec')\n\
         fs = [c for c in co.co_consts if hasattr(c, 'co_code')]\n\
         sys.stdout.buffer.write(marshal.dumps((fs[0], fs[0].co_consts[2], fs[1], fs[2])))"
    );
    let out = python312().args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let obj = loads(out.stdout.into()).unwrap();
    items(&obj)
        .iter()
        .map(|o| match o {
            Object::Code(c) => c.clone(),
            other => panic!("not code: {other:?}"),
        })
        .collect()
}

fn loc(lineno: i32, end_lineno: i32, col: i32, end_col: i32) -> Location {
    Location {
        lineno,
        end_lineno,
        col_offset: col,
        end_col_offset: end_col,
    }
}

/// An instruction sequence written as code generation emits it.
struct Seq(InstrSequence);

impl Seq {
    fn op(&mut self, op: Opcode, arg: u32, at: Location) -> &mut Self {
        self.0.emit(op, Arg::Int(arg), at);
        self
    }
    fn jump(&mut self, op: Opcode, to: Label, at: Location) -> &mut Self {
        self.0.emit(op, Arg::Label(to), at);
        self
    }
    fn bind(&mut self, label: Label) -> &mut Self {
        self.0.bind(label);
        self
    }
    /// `add_return_at_end`: the implicit `return None`.
    fn implicit_return(&mut self) -> &mut Self {
        self.op(Opcode::LOAD_CONST, 0, Location::NONE)
            .op(Opcode::RETURN_VALUE, 0, Location::NONE)
    }
}

fn unit(name: &str, firstlineno: i32, flags: u32) -> CodeUnit {
    let mut unit = CodeUnit::default();
    unit.metadata.name = Str::new(name, true);
    unit.metadata.qualname = Str::new(name, false);
    unit.metadata.firstlineno = firstlineno;
    unit.metadata.flags = flags;
    unit.metadata.consts.add(Object::None);
    unit
}

fn names(pool: &mut pyc_compiler::ir::NamePool, names: &[&str]) {
    for n in names {
        pool.add(&Str::new(n, true));
    }
}

fn check(unit: CodeUnit, want: &CodeObject) {
    let got = assemble_unit(unit, &Str::new("funcs.py", false), Target::V3_12).unwrap();
    if let Some((field, detail)) = first_difference(&got, want) {
        panic!(
            "{}: {field} differs\n  {detail}",
            want.name.to_string_lossy()
        );
    }
}

#[test]
fn cells_of_parameters_and_locals() {
    let want = expected();
    let mut u = unit("outer", 1, 0x3);
    u.metadata
        .consts
        .add(Object::Int(pyc_loader::marshal::Int::Small(1)));
    u.metadata.consts.add(Object::Code(want[1].clone()));
    names(&mut u.metadata.varnames, &["a", "b", "inner"]);
    names(&mut u.metadata.cellvars, &["a", "c"]);
    u.metadata.argcount = 2;
    let def = loc(3, 4, 4, 20);
    let mut s = Seq(InstrSequence::default());
    s.op(Opcode::RESUME, 0, loc(1, 1, 0, 0))
        .op(Opcode::LOAD_CONST, 1, loc(2, 2, 8, 9))
        .op(Opcode::STORE_DEREF, 1, loc(2, 2, 4, 5))
        .op(Opcode::LOAD_CLOSURE, 0, def)
        .op(Opcode::LOAD_CLOSURE, 1, def)
        .op(Opcode::BUILD_TUPLE, 2, def)
        .op(Opcode::LOAD_CONST, 2, def)
        .op(Opcode::MAKE_FUNCTION, 8, def)
        .op(Opcode::STORE_FAST, 2, def)
        .op(Opcode::LOAD_FAST, 2, loc(5, 5, 11, 16))
        .op(Opcode::RETURN_VALUE, 0, loc(5, 5, 4, 16))
        .implicit_return();
    u.instrs = s.0;
    check(u, &want[0]);
}

#[test]
fn free_variables() {
    let want = expected();
    let mut u = unit("inner", 3, 0x13);
    u.metadata.qualname = Str::new("outer.<locals>.inner", false);
    names(&mut u.metadata.freevars, &["a", "c"]);
    let mut s = Seq(InstrSequence::default());
    s.op(Opcode::RESUME, 0, loc(3, 3, 0, 0))
        .op(Opcode::LOAD_DEREF, 0, loc(4, 4, 15, 16))
        .op(Opcode::LOAD_DEREF, 1, loc(4, 4, 19, 20))
        .op(Opcode::BINARY_OP, 0, loc(4, 4, 15, 20))
        .op(Opcode::RETURN_VALUE, 0, loc(4, 4, 8, 20))
        .implicit_return();
    u.instrs = s.0;
    check(u, &want[1]);
}

#[test]
fn generators() {
    let want = expected();
    let mut u = unit("gen", 6, 0x23);
    names(&mut u.metadata.varnames, &["x", "i"]);
    u.metadata.argcount = 1;
    let mut s = Seq(InstrSequence::default());
    let handler = s.0.new_label();
    let start = s.0.new_label();
    let cleanup = s.0.new_label();
    let for_loc = loc(8, 9, 4, 15);
    s.jump(Opcode::SETUP_CLEANUP, handler, Location::NONE)
        .op(Opcode::RESUME, 0, loc(6, 6, 0, 0))
        .op(Opcode::LOAD_FAST, 0, loc(7, 7, 10, 11))
        .op(Opcode::YIELD_VALUE, 0, loc(7, 7, 4, 11))
        .op(Opcode::RESUME, 1, loc(7, 7, 4, 11))
        .op(Opcode::POP_TOP, 0, loc(7, 7, 4, 11))
        .op(Opcode::LOAD_FAST, 0, loc(8, 8, 13, 14))
        .op(Opcode::GET_ITER, 0, for_loc)
        .bind(start)
        .jump(Opcode::FOR_ITER, cleanup, for_loc)
        .op(Opcode::STORE_FAST, 1, loc(8, 8, 8, 9))
        .op(Opcode::LOAD_FAST, 1, loc(9, 9, 14, 15))
        .op(Opcode::YIELD_VALUE, 0, loc(9, 9, 8, 15))
        .op(Opcode::RESUME, 1, loc(9, 9, 8, 15))
        .op(Opcode::POP_TOP, 0, loc(9, 9, 8, 15))
        .jump(Opcode::JUMP, start, Location::NONE)
        .bind(cleanup)
        .op(Opcode::END_FOR, 0, Location::NONE)
        .implicit_return()
        .bind(handler)
        .op(Opcode::CALL_INTRINSIC_1, 3, Location::NONE)
        .op(Opcode::RERAISE, 1, Location::NONE)
        .implicit_return();
    u.instrs = s.0;
    check(u, &want[2]);
}

#[test]
fn loads_of_maybe_unbound_locals() {
    let want = expected();
    let mut u = unit("maybe", 10, 0xf);
    u.metadata
        .consts
        .add(Object::Int(pyc_loader::marshal::Int::Small(1)));
    names(&mut u.metadata.varnames, &["a", "k", "args", "kw", "b"]);
    u.metadata.argcount = 1;
    u.metadata.kwonlyargcount = 1;
    let mut s = Seq(InstrSequence::default());
    let next = s.0.new_label();
    s.op(Opcode::RESUME, 0, loc(10, 10, 0, 0))
        .op(Opcode::LOAD_FAST, 0, loc(11, 11, 7, 8))
        .jump(Opcode::POP_JUMP_IF_FALSE, next, loc(11, 11, 7, 8))
        .op(Opcode::LOAD_CONST, 1, loc(12, 12, 12, 13))
        .op(Opcode::STORE_FAST, 4, loc(12, 12, 8, 9))
        .bind(next)
        .op(Opcode::LOAD_FAST, 4, loc(13, 13, 11, 12))
        .op(Opcode::RETURN_VALUE, 0, loc(13, 13, 4, 12))
        .implicit_return();
    u.instrs = s.0;
    check(u, &want[3]);
}
