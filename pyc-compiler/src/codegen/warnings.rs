//! The `SyntaxWarning`s of code generation: likely missing commas and `is` with literals.

use super::Compiler;
use crate::ast::{CmpOp, Constant, Expr, ExprKind};
use crate::error::Warning;
use crate::ir::Location;

/// The type name of what an expression evaluates to, when the syntax alone tells
/// (`infer_type`).
fn infer_type(e: &Expr) -> Option<&'static str> {
    Some(match &e.kind {
        ExprKind::Tuple { .. } => "tuple",
        ExprKind::List { .. } | ExprKind::ListComp { .. } => "list",
        ExprKind::Dict { .. } | ExprKind::DictComp { .. } => "dict",
        ExprKind::Set { .. } | ExprKind::SetComp { .. } => "set",
        ExprKind::GeneratorExp { .. } => "generator",
        ExprKind::Lambda { .. } => "function",
        ExprKind::JoinedStr { .. } | ExprKind::FormattedValue { .. } => "str",
        ExprKind::Constant { value, .. } => constant_type(value),
        _ => return None,
    })
}

fn constant_type(value: &Constant) -> &'static str {
    match value {
        Constant::None => "NoneType",
        Constant::Bool(_) => "bool",
        Constant::Ellipsis => "ellipsis",
        Constant::Int(_) => "int",
        Constant::Float(_) => "float",
        Constant::Complex(..) => "complex",
        Constant::Str(_) => "str",
        Constant::Bytes(_) => "bytes",
        Constant::Tuple(_) => "tuple",
        Constant::FrozenSet(_) => "frozenset",
    }
}

/// Whether `is` may sensibly compare with this operand (`check_is_arg`).
fn is_arg_ok(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Constant { value, .. } => matches!(
            value,
            Constant::None | Constant::Bool(_) | Constant::Ellipsis
        ),
        _ => true,
    }
}

impl<'a> Compiler<'a> {
    /// Records a `SyntaxWarning` (`compiler_warn`).
    pub(crate) fn warn(&mut self, at: Location, msg: impl Into<String>) {
        self.warnings.push(Warning {
            category: "SyntaxWarning",
            msg: msg.into(),
            lineno: at.lineno.max(0) as u32,
        });
    }

    /// Warns about `x is 1` and similar (`check_compare`).
    pub(crate) fn check_compare(
        &mut self,
        e: &Expr,
        left: &Expr,
        ops: &[CmpOp],
        comparators: &[Expr],
    ) {
        let mut left_ok = is_arg_ok(left);
        let mut left_expr = left;
        for (op, right) in ops.iter().zip(comparators) {
            let right_ok = is_arg_ok(right);
            if matches!(op, CmpOp::Is | CmpOp::IsNot) && (!right_ok || !left_ok) {
                let literal = if !left_ok { left_expr } else { right };
                let ty = infer_type(literal).unwrap_or("object");
                let msg = if *op == CmpOp::Is {
                    format!("\"is\" with '{ty}' literal. Did you mean \"==\"?")
                } else {
                    format!("\"is not\" with '{ty}' literal. Did you mean \"!=\"?")
                };
                self.warn(super::loc(e.loc), msg);
                return;
            }
            left_ok = right_ok;
            left_expr = right;
        }
    }

    /// Warns about calling a literal (`check_caller`).
    pub(crate) fn check_caller(&mut self, func: &Expr) {
        let suspicious = matches!(
            func.kind,
            ExprKind::Constant { .. }
                | ExprKind::Tuple { .. }
                | ExprKind::List { .. }
                | ExprKind::ListComp { .. }
                | ExprKind::Dict { .. }
                | ExprKind::DictComp { .. }
                | ExprKind::Set { .. }
                | ExprKind::SetComp { .. }
                | ExprKind::GeneratorExp { .. }
                | ExprKind::JoinedStr { .. }
                | ExprKind::FormattedValue { .. }
        );
        if suspicious {
            let ty = infer_type(func).unwrap_or("object");
            self.warn(
                super::loc(func.loc),
                format!("'{ty}' object is not callable; perhaps you missed a comma?"),
            );
        }
    }

    /// Warns about subscripting a literal that cannot be subscripted (`check_subscripter`).
    pub(crate) fn check_subscripter(&mut self, e: &Expr) {
        let suspicious = match &e.kind {
            ExprKind::Constant { value, .. } => matches!(
                value,
                Constant::None
                    | Constant::Ellipsis
                    | Constant::Int(_)
                    | Constant::Bool(_)
                    | Constant::Float(_)
                    | Constant::Complex(..)
                    | Constant::FrozenSet(_)
            ),
            ExprKind::Set { .. }
            | ExprKind::SetComp { .. }
            | ExprKind::GeneratorExp { .. }
            | ExprKind::Lambda { .. } => true,
            _ => false,
        };
        if suspicious {
            let ty = infer_type(e).unwrap_or("object");
            self.warn(
                super::loc(e.loc),
                format!("'{ty}' object is not subscriptable; perhaps you missed a comma?"),
            );
        }
    }

    /// Warns about indexing a sequence literal with a non-integer (`check_index`).
    pub(crate) fn check_index(&mut self, e: &Expr, index: &Expr) {
        let Some(index_type) = infer_type(index) else {
            return;
        };
        if matches!(index_type, "int" | "bool") {
            return;
        }
        let suspicious = match &e.kind {
            ExprKind::Constant { value, .. } => matches!(
                value,
                Constant::Str(_) | Constant::Bytes(_) | Constant::Tuple(_)
            ),
            ExprKind::Tuple { .. }
            | ExprKind::List { .. }
            | ExprKind::ListComp { .. }
            | ExprKind::JoinedStr { .. }
            | ExprKind::FormattedValue { .. } => true,
            _ => false,
        };
        if suspicious {
            let ty = infer_type(e).unwrap_or("object");
            self.warn(
                super::loc(e.loc),
                format!(
                    "{ty} indices must be integers or slices, not {index_type}; \
                     perhaps you missed a comma?"
                ),
            );
        }
    }
}
