//! Opcode numbers and inline cache counts of a target, by [`Opcode`], built once per target.

use std::sync::{Mutex, OnceLock};

use pyc_loader::target::Target;

use crate::ir::Opcode;

/// The numbering of the real opcodes in one target.
#[derive(Debug)]
pub(crate) struct OpMap {
    /// Indexed by `Opcode as usize`: the number, if the target has that opcode.
    numbers: [Option<u8>; Opcode::ALL.len()],
    /// Indexed likewise: the inline cache entries following the instruction.
    caches: [u8; Opcode::ALL.len()],
}

impl OpMap {
    /// The map of `target`, built on first use.
    pub fn of(target: Target) -> &'static OpMap {
        static MAPS: OnceLock<Mutex<Vec<(Target, &'static OpMap)>>> = OnceLock::new();
        let maps = MAPS.get_or_init(|| Mutex::new(Vec::new()));
        let mut maps = maps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, map)) = maps.iter().find(|(t, _)| *t == target) {
            return map;
        }
        let table = target.opcodes();
        let mut numbers = [None; Opcode::ALL.len()];
        let mut caches = [0; Opcode::ALL.len()];
        for op in Opcode::ALL {
            let number = if op.is_pseudo() {
                None
            } else {
                table.by_name(op.name())
            };
            numbers[op as usize] = number;
            caches[op as usize] = number.map_or(0, |n| table.info(n).caches);
        }
        let map: &'static OpMap = Box::leak(Box::new(OpMap { numbers, caches }));
        maps.push((target, map));
        map
    }

    /// The number of `op`, if it is a real opcode of the target.
    #[inline]
    pub fn number(&self, op: Opcode) -> Option<u8> {
        self.numbers[op as usize]
    }

    /// The inline cache entries after `op`.
    #[inline]
    pub fn caches(&self, op: Opcode) -> u32 {
        u32::from(self.caches[op as usize])
    }
}
