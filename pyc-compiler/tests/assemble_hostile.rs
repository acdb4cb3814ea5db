//! Malformed code units are rejected or assembled, never a panic: random instruction
//! sequences (any opcode, small arguments, labels anywhere) and a few targeted cases.

use pyc_compiler::assemble::assemble_unit;
use pyc_compiler::ir::{Arg, CodeUnit, Location, Opcode};
use pyc_compiler::opcode_info::has_target;
use pyc_loader::marshal::{Int, Object, Str};
use pyc_loader::Target;

/// xorshift64*: deterministic pseudo-random numbers without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_unit(rng: &mut Rng) -> CodeUnit {
    let mut unit = CodeUnit::default();
    let md = &mut unit.metadata;
    for i in 0..rng.below(4) {
        md.consts.add(Object::Int(Int::Small(i as i64)));
    }
    for name in ["a", "b", "c"].iter().take(rng.below(4) as usize) {
        md.varnames.add(&Str::new(name, true));
    }
    if rng.below(2) == 0 {
        md.cellvars.add(&Str::new("a", true));
    }
    if rng.below(2) == 0 {
        md.freevars.add(&Str::new("f", true));
    }
    md.flags = [0, 0x3, 0x23, 0xa3][rng.below(4) as usize];
    md.firstlineno = 1;
    let labels: Vec<_> = (0..4).map(|_| unit.instrs.new_label()).collect();
    let n = rng.below(24);
    for _ in 0..n {
        if rng.below(5) == 0 {
            let label = labels[rng.below(4) as usize];
            unit.instrs.bind(label);
        }
        let op = Opcode::ALL[rng.below(Opcode::ALL.len() as u64) as usize];
        let arg = if has_target(op) && rng.below(8) != 0 {
            Arg::Label(labels[rng.below(4) as usize])
        } else {
            Arg::Int(rng.below(6) as u32)
        };
        let line = rng.below(4) as i32 - 1;
        let loc = Location {
            lineno: line,
            end_lineno: line,
            col_offset: line,
            end_col_offset: line + 2,
        };
        unit.instrs.emit(op, arg, loc);
    }
    unit
}

#[test]
fn random_units_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let filename = Str::new("hostile.py", false);
    let mut assembled = 0;
    for _ in 0..20_000 {
        let unit = random_unit(&mut rng);
        if assemble_unit(unit, &filename, Target::V3_12).is_ok() {
            assembled += 1;
        }
    }
    // Both outcomes must occur, or the generator tests nothing.
    assert!(
        assembled > 100 && assembled < 20_000,
        "{assembled} assembled"
    );
}

#[test]
fn targeted_malformed_units_are_errors() {
    let filename = Str::new("hostile.py", false);
    let at = Location::NONE;
    // A jump to a label never bound.
    let mut unit = CodeUnit::default();
    let label = unit.instrs.new_label();
    unit.instrs.emit(Opcode::JUMP, Arg::Label(label), at);
    assert!(assemble_unit(unit, &filename, Target::V3_12).is_err());
    // A constant index beyond co_consts.
    let mut unit = CodeUnit::default();
    unit.instrs.emit(Opcode::RETURN_CONST, Arg::Int(3), at);
    assert!(assemble_unit(unit, &filename, Target::V3_12).is_err());
    // SWAP 0.
    let mut unit = CodeUnit::default();
    unit.metadata.consts.add(Object::None);
    unit.instrs.emit(Opcode::SWAP, Arg::Int(0), at);
    unit.instrs.emit(Opcode::RETURN_CONST, Arg::Int(0), at);
    assert!(assemble_unit(unit, &filename, Target::V3_12).is_err());
    // A stack underflow.
    let mut unit = CodeUnit::default();
    unit.instrs.emit(Opcode::POP_TOP, Arg::Int(0), at);
    assert!(assemble_unit(unit, &filename, Target::V3_12).is_err());
}
