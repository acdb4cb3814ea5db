//! Expressions: operators, comparisons and conditional jumps, attributes, subscripts and
//! slices, collection displays, f-strings, `yield` and `await`.

use std::borrow::Borrow;

use pyc_loader::marshal::{Object, Str};

use super::stmt::{binop_arg, intrinsic1};
use super::unit::const_object;
use super::{loc, CResult, Compiler, ScopeType, NO_LOC, STACK_USE_GUIDELINE};
use crate::ast::{BoolOp, CmpOp, Constant, Conversion, Expr, ExprContext, ExprKind, UnaryOp};
use crate::ir::{Label, Location, Opcode};

/// A subscript `a[x:y]` without a step, compiled to `BINARY_SLICE`/`STORE_SLICE`.
pub(crate) fn is_two_element_slice(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Slice { step: None, .. })
}

/// The location of an attribute access: where the attribute name's line starts when the
/// access spans lines (`update_start_location_to_match_attr`).
pub(crate) fn attr_loc(mut l: Location, attr_expr: &Expr, attr: &str) -> Location {
    let end_lineno = attr_expr.loc.end_lineno as i32;
    if l.lineno != end_lineno {
        l.lineno = end_lineno;
        let len = attr.chars().count() as i32;
        let end_col = attr_expr.loc.end_col as i32;
        if len <= end_col {
            l.col_offset = end_col - len;
        } else {
            l.col_offset = -1;
            l.end_col_offset = -1;
        }
        l.end_lineno = l.lineno.max(l.end_lineno);
        if l.lineno == l.end_lineno {
            l.end_col_offset = l.col_offset.max(l.end_col_offset);
        }
    }
    l
}

/// Whether every expression is a constant (`are_all_items_const`).
pub(crate) fn all_const<'e>(mut items: impl Iterator<Item = Option<&'e Expr>>) -> bool {
    items.all(|e| {
        matches!(
            e,
            Some(Expr {
                kind: ExprKind::Constant { .. },
                ..
            })
        )
    })
}

/// A frozenset constant with its items in the order marshal writes them: CPython builds the
/// set from the items in source order, then its constant merging rebuilds it from the first
/// set's iteration order (`merge_consts_recursive`). Hashes of strings are taken as under
/// `PYTHONHASHSEED=0`.
pub(crate) fn frozenset(items: Vec<Object>) -> Object {
    let reorder = |items: Vec<Object>| -> Vec<Object> {
        match pyc_loader::pyhash::set_order(&items, pyc_loader::target::Target::V3_12) {
            Ok(order) => order.into_iter().map(|i| items[i].clone()).collect(),
            Err(_) => items,
        }
    };
    Object::FrozenSet(reorder(reorder(items)).into())
}

fn constant_of(e: &Expr) -> &Constant {
    match &e.kind {
        ExprKind::Constant { value, .. } => value,
        _ => unreachable!("callers check all_const first"),
    }
}

/// The `COMPARE_OP`, `IS_OP` or `CONTAINS_OP` for a comparison operator.
fn compare_op(op: CmpOp) -> (Opcode, u32) {
    // The comparison sits in the high bits; the low four are the mask of outcomes that
    // make it true (less 2, greater 4, equal 8, unordered 1).
    let cmp = |c: u32, mask: u32| (Opcode::COMPARE_OP, (c << 4) | mask);
    match op {
        CmpOp::Lt => cmp(0, 2),
        CmpOp::LtE => cmp(1, 2 | 8),
        CmpOp::Eq => cmp(2, 8),
        CmpOp::NotEq => cmp(3, 1 | 2 | 4),
        CmpOp::Gt => cmp(4, 4),
        CmpOp::GtE => cmp(5, 4 | 8),
        CmpOp::Is => (Opcode::IS_OP, 0),
        CmpOp::IsNot => (Opcode::IS_OP, 1),
        CmpOp::In => (Opcode::CONTAINS_OP, 0),
        CmpOp::NotIn => (Opcode::CONTAINS_OP, 1),
    }
}

/// Operands of `starunpack_helper`: how to build, add to and extend the collection.
#[derive(Clone, Copy)]
pub(crate) struct Collection {
    pub build: Opcode,
    pub add: Opcode,
    pub extend: Opcode,
    pub tuple: bool,
}

pub(crate) const LIST: Collection = Collection {
    build: Opcode::BUILD_LIST,
    add: Opcode::LIST_APPEND,
    extend: Opcode::LIST_EXTEND,
    tuple: false,
};
pub(crate) const TUPLE: Collection = Collection {
    build: Opcode::BUILD_LIST,
    add: Opcode::LIST_APPEND,
    extend: Opcode::LIST_EXTEND,
    tuple: true,
};
const SET: Collection = Collection {
    build: Opcode::BUILD_SET,
    add: Opcode::SET_ADD,
    extend: Opcode::SET_UPDATE,
    tuple: false,
};

impl<'a> Compiler<'a> {
    /// One expression (`compiler_visit_expr`).
    pub(crate) fn visit_expr(&mut self, e: &Expr) -> CResult {
        let at = loc(e.loc);
        self.enter_nested(at)?;
        // Names, the most common leaves, need no stack check.
        let result = match &e.kind {
            ExprKind::Name { id, ctx } => self.nameop(at, id, *ctx),
            _ => self.guarded(|c| c.visit_expr_inner(e, at)),
        };
        self.depth -= 1;
        result
    }

    fn visit_expr_inner(&mut self, e: &Expr, at: Location) -> CResult {
        match &e.kind {
            ExprKind::NamedExpr { target, value } => {
                self.visit_expr(value)?;
                self.emit(Opcode::COPY, 1, at);
                self.visit_expr(target)?;
            }
            ExprKind::BoolOp { op, values } => {
                let jump = match op {
                    BoolOp::And => Opcode::POP_JUMP_IF_FALSE,
                    BoolOp::Or => Opcode::POP_JUMP_IF_TRUE,
                };
                let end = self.new_label();
                let (last, init) = values.split_last().expect("a BoolOp has values");
                for v in init {
                    self.visit_expr(v)?;
                    self.emit(Opcode::COPY, 1, at);
                    self.emit_jump(jump, end, at);
                    self.emit(Opcode::POP_TOP, 0, at);
                }
                self.visit_expr(last)?;
                self.bind(end);
            }
            ExprKind::BinOp { left, op, right } => {
                self.visit_expr(left)?;
                self.visit_expr(right)?;
                self.emit(Opcode::BINARY_OP, binop_arg(*op, false), at);
            }
            ExprKind::UnaryOp { op, operand } => {
                self.visit_expr(operand)?;
                match op {
                    UnaryOp::UAdd => {
                        self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::UNARY_POSITIVE, at)
                    }
                    UnaryOp::Invert => self.emit(Opcode::UNARY_INVERT, 0, at),
                    UnaryOp::Not => self.emit(Opcode::UNARY_NOT, 0, at),
                    UnaryOp::USub => self.emit(Opcode::UNARY_NEGATIVE, 0, at),
                }
            }
            ExprKind::Lambda { args, body } => self.lambda(e, args, body)?,
            ExprKind::IfExp { test, body, orelse } => {
                let end = self.new_label();
                let next = self.new_label();
                self.jump_if(test, next, false)?;
                self.visit_expr(body)?;
                self.emit_jump(Opcode::JUMP, end, NO_LOC);
                self.bind(next);
                self.visit_expr(orelse)?;
                self.bind(end);
            }
            ExprKind::Dict { keys, values } => self.dict(at, keys, values)?,
            ExprKind::Set { elts } => self.starunpack(at, elts, 0, SET)?,
            ExprKind::ListComp { .. }
            | ExprKind::SetComp { .. }
            | ExprKind::DictComp { .. }
            | ExprKind::GeneratorExp { .. } => self.comprehension(e)?,
            ExprKind::Yield { value } => {
                if !self.u().is_function_like() {
                    return Err(self.error(at, "'yield' outside function"));
                }
                match value {
                    Some(v) => self.visit_expr(v)?,
                    None => self.load_const(Object::None, at),
                }
                self.yield_value(at);
            }
            ExprKind::YieldFrom { value } => {
                if !self.u().is_function_like() {
                    return Err(self.error(at, "'yield' outside function"));
                }
                if self.u().scope_type == ScopeType::AsyncFunction {
                    return Err(self.error(at, "'yield from' inside async function"));
                }
                self.visit_expr(value)?;
                self.emit(Opcode::GET_YIELD_FROM_ITER, 0, at);
                self.load_const(Object::None, at);
                self.yield_from(at, false);
            }
            ExprKind::Await { value } => {
                if !self.u().is_function_like() {
                    return Err(self.error(at, "'await' outside function"));
                }
                let st = self.u().scope_type;
                if st != ScopeType::AsyncFunction && st != ScopeType::Comprehension {
                    return Err(self.error(at, "'await' outside async function"));
                }
                self.visit_expr(value)?;
                self.emit(Opcode::GET_AWAITABLE, 0, at);
                self.load_const(Object::None, at);
                self.yield_from(at, true);
            }
            ExprKind::Compare {
                left,
                ops,
                comparators,
            } => self.compare(at, e, left, ops, comparators)?,
            ExprKind::Call {
                func,
                args,
                keywords,
            } => self.call(e, func, args, keywords)?,
            ExprKind::FormattedValue {
                value,
                conversion,
                format_spec,
            } => {
                self.visit_expr(value)?;
                let mut oparg = match conversion {
                    Conversion::None => 0,
                    Conversion::Str => 1,
                    Conversion::Repr => 2,
                    Conversion::Ascii => 3,
                };
                if let Some(spec) = format_spec {
                    self.visit_expr(spec)?;
                    oparg |= 4;
                }
                self.emit(Opcode::FORMAT_VALUE, oparg, at);
            }
            ExprKind::JoinedStr { values } => {
                if values.len() > STACK_USE_GUIDELINE {
                    self.load_const(Object::Str(Str::new("", false)), at);
                    self.emit_name(Opcode::LOAD_METHOD, "join", at);
                    self.emit(Opcode::BUILD_LIST, 0, at);
                    for v in values {
                        self.visit_expr(v)?;
                        self.emit(Opcode::LIST_APPEND, 1, at);
                    }
                    self.emit(Opcode::CALL, 1, at);
                } else {
                    for v in values {
                        self.visit_expr(v)?;
                    }
                    if values.len() != 1 {
                        self.emit(Opcode::BUILD_STRING, values.len() as u32, at);
                    }
                }
            }
            ExprKind::Constant { value, .. } => self.load_const(const_object(value), at),
            ExprKind::Attribute { value, attr, ctx } => {
                if *ctx == ExprContext::Load && self.can_optimize_super_call(e) {
                    let ExprKind::Call { args, .. } = &value.kind else {
                        unreachable!("checked by can_optimize_super_call")
                    };
                    self.load_args_for_super(value)?;
                    let op = if args.is_empty() {
                        Opcode::LOAD_ZERO_SUPER_ATTR
                    } else {
                        Opcode::LOAD_SUPER_ATTR
                    };
                    self.emit_name(op, attr, at);
                    self.emit(Opcode::NOP, 0, attr_loc(at, e, attr));
                    return Ok(());
                }
                self.visit_expr(value)?;
                let l = attr_loc(at, e, attr);
                match ctx {
                    ExprContext::Load => self.emit_name(Opcode::LOAD_ATTR, attr, l),
                    ExprContext::Store => {
                        if &**attr == "__debug__" {
                            return Err(self.error(l, "cannot assign to __debug__"));
                        }
                        self.emit_name(Opcode::STORE_ATTR, attr, l)
                    }
                    ExprContext::Del => self.emit_name(Opcode::DELETE_ATTR, attr, l),
                }
            }
            ExprKind::Subscript { value, slice, ctx } => {
                if *ctx == ExprContext::Load {
                    self.check_subscripter(value);
                    self.check_index(value, slice);
                }
                self.visit_expr(value)?;
                if is_two_element_slice(slice) && *ctx != ExprContext::Del {
                    self.slice_parts(slice)?;
                    let op = if *ctx == ExprContext::Load {
                        Opcode::BINARY_SLICE
                    } else {
                        Opcode::STORE_SLICE
                    };
                    self.emit(op, 0, at);
                } else {
                    self.visit_expr(slice)?;
                    let op = match ctx {
                        ExprContext::Load => Opcode::BINARY_SUBSCR,
                        ExprContext::Store => Opcode::STORE_SUBSCR,
                        ExprContext::Del => Opcode::DELETE_SUBSCR,
                    };
                    self.emit(op, 0, at);
                }
            }
            ExprKind::Starred { ctx, .. } => {
                let msg = if *ctx == ExprContext::Store {
                    "starred assignment target must be in a list or tuple"
                } else {
                    "can't use starred expression here"
                };
                return Err(self.error(at, msg));
            }
            ExprKind::Name { id, ctx } => self.nameop(at, id, *ctx)?,
            ExprKind::List { elts, ctx } | ExprKind::Tuple { elts, ctx } => {
                let kind = if matches!(e.kind, ExprKind::Tuple { .. }) {
                    TUPLE
                } else {
                    LIST
                };
                match ctx {
                    ExprContext::Store => self.assignment_helper(at, elts)?,
                    ExprContext::Load => self.starunpack(at, elts, 0, kind)?,
                    ExprContext::Del => {
                        for elt in elts {
                            self.visit_expr(elt)?;
                        }
                    }
                }
            }
            ExprKind::Slice { .. } => {
                let n = self.slice_parts(e)?;
                self.emit(Opcode::BUILD_SLICE, n, at);
            }
        }
        Ok(())
    }

    /// `YIELD_VALUE` with the async-generator wrapping and the `RESUME` after it.
    pub(crate) fn yield_value(&mut self, at: Location) {
        let block = self.u().block;
        if block.generator && block.coroutine {
            self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::ASYNC_GEN_WRAP, at);
        }
        self.emit(Opcode::YIELD_VALUE, 0, at);
        self.emit(Opcode::RESUME, 1, at);
    }

    /// Pushes a slice's bounds (and step); returns how many (`compiler_slice`).
    pub(crate) fn slice_parts(&mut self, s: &Expr) -> CResult<u32> {
        let ExprKind::Slice { lower, upper, step } = &s.kind else {
            unreachable!("callers pass slices")
        };
        let at = loc(s.loc);
        for bound in [lower, upper] {
            match bound {
                Some(b) => self.visit_expr(b)?,
                None => self.load_const(Object::None, at),
            }
        }
        if let Some(step) = step {
            self.visit_expr(step)?;
            return Ok(3);
        }
        Ok(2)
    }

    /// Jumps to `next` when `e` is true (`cond`) or false (`compiler_jump_if`).
    pub(crate) fn jump_if(&mut self, e: &Expr, next: Label, cond: bool) -> CResult {
        match &e.kind {
            ExprKind::UnaryOp {
                op: UnaryOp::Not,
                operand,
            } => return self.jump_if(operand, next, !cond),
            ExprKind::BoolOp { op, values } => {
                let cond2 = *op == BoolOp::Or;
                let next2 = if cond2 != cond {
                    self.new_label()
                } else {
                    next
                };
                let (last, init) = values.split_last().expect("a BoolOp has values");
                for v in init {
                    self.jump_if(v, next2, cond2)?;
                }
                self.jump_if(last, next, cond)?;
                if next2 != next {
                    self.bind(next2);
                }
                return Ok(());
            }
            ExprKind::IfExp { test, body, orelse } => {
                let end = self.new_label();
                let next2 = self.new_label();
                self.jump_if(test, next2, false)?;
                self.jump_if(body, next, cond)?;
                self.emit_jump(Opcode::JUMP, end, NO_LOC);
                self.bind(next2);
                self.jump_if(orelse, next, cond)?;
                self.bind(end);
                return Ok(());
            }
            ExprKind::Compare {
                left,
                ops,
                comparators,
            } if ops.len() > 1 => {
                self.check_compare(e, left, ops, comparators);
                let el = loc(e.loc);
                let cleanup = self.new_label();
                self.visit_expr(left)?;
                let n = ops.len() - 1;
                for i in 0..n {
                    self.visit_expr(&comparators[i])?;
                    self.emit(Opcode::SWAP, 2, el);
                    self.emit(Opcode::COPY, 2, el);
                    let (op, arg) = compare_op(ops[i]);
                    self.emit(op, arg, el);
                    self.emit_jump(Opcode::POP_JUMP_IF_FALSE, cleanup, el);
                }
                self.visit_expr(&comparators[n])?;
                let (op, arg) = compare_op(ops[n]);
                self.emit(op, arg, el);
                let jump = if cond {
                    Opcode::POP_JUMP_IF_TRUE
                } else {
                    Opcode::POP_JUMP_IF_FALSE
                };
                self.emit_jump(jump, next, el);
                let end = self.new_label();
                self.emit_jump(Opcode::JUMP, end, NO_LOC);
                self.bind(cleanup);
                self.emit(Opcode::POP_TOP, 0, el);
                if !cond {
                    self.emit_jump(Opcode::JUMP, next, NO_LOC);
                }
                self.bind(end);
                return Ok(());
            }
            _ => {}
        }
        self.visit_expr(e)?;
        let jump = if cond {
            Opcode::POP_JUMP_IF_TRUE
        } else {
            Opcode::POP_JUMP_IF_FALSE
        };
        self.emit_jump(jump, next, loc(e.loc));
        Ok(())
    }

    fn compare(
        &mut self,
        at: Location,
        e: &Expr,
        left: &Expr,
        ops: &[CmpOp],
        comparators: &[Expr],
    ) -> CResult {
        self.check_compare(e, left, ops, comparators);
        self.visit_expr(left)?;
        let n = ops.len() - 1;
        if n == 0 {
            self.visit_expr(&comparators[0])?;
            let (op, arg) = compare_op(ops[0]);
            self.emit(op, arg, at);
            return Ok(());
        }
        let cleanup = self.new_label();
        for i in 0..n {
            self.visit_expr(&comparators[i])?;
            self.emit(Opcode::SWAP, 2, at);
            self.emit(Opcode::COPY, 2, at);
            let (op, arg) = compare_op(ops[i]);
            self.emit(op, arg, at);
            self.emit(Opcode::COPY, 1, at);
            self.emit_jump(Opcode::POP_JUMP_IF_FALSE, cleanup, at);
            self.emit(Opcode::POP_TOP, 0, at);
        }
        self.visit_expr(&comparators[n])?;
        let (op, arg) = compare_op(ops[n]);
        self.emit(op, arg, at);
        let end = self.new_label();
        self.emit_jump(Opcode::JUMP, end, NO_LOC);
        self.bind(cleanup);
        self.emit(Opcode::SWAP, 2, at);
        self.emit(Opcode::POP_TOP, 0, at);
        self.bind(end);
        Ok(())
    }

    /// Builds a list, tuple or set from elements that may be starred
    /// (`starunpack_helper`); `pushed` items are already on the stack.
    pub(crate) fn starunpack<E: Borrow<Expr>>(
        &mut self,
        at: Location,
        elts: &[E],
        pushed: u32,
        kind: Collection,
    ) -> CResult {
        let n = elts.len();
        if n > 2 && all_const(elts.iter().map(|e| Some(e.borrow()))) {
            let items: Vec<Object> = elts
                .iter()
                .map(|e| const_object(constant_of(e.borrow())))
                .collect();
            if kind.tuple && pushed == 0 {
                self.load_const(Object::Tuple(items.into()), at);
            } else {
                let folded = if kind.add == Opcode::SET_ADD {
                    frozenset(items)
                } else {
                    Object::Tuple(items.into())
                };
                self.emit(kind.build, pushed, at);
                self.load_const(folded, at);
                self.emit(kind.extend, 1, at);
                if kind.tuple {
                    self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::LIST_TO_TUPLE, at);
                }
            }
            return Ok(());
        }
        let big = n + pushed as usize > STACK_USE_GUIDELINE;
        let seen_star = elts
            .iter()
            .any(|e| matches!(e.borrow().kind, ExprKind::Starred { .. }));
        if !seen_star && !big {
            for elt in elts {
                self.visit_expr(elt.borrow())?;
            }
            let op = if kind.tuple {
                Opcode::BUILD_TUPLE
            } else {
                kind.build
            };
            self.emit(op, n as u32 + pushed, at);
            return Ok(());
        }
        let mut built = false;
        if big {
            self.emit(kind.build, pushed, at);
            built = true;
        }
        for (i, elt) in elts.iter().enumerate() {
            let elt = elt.borrow();
            if let ExprKind::Starred { value, .. } = &elt.kind {
                if !built {
                    self.emit(kind.build, i as u32 + pushed, at);
                    built = true;
                }
                self.visit_expr(value)?;
                self.emit(kind.extend, 1, at);
            } else {
                self.visit_expr(elt)?;
                if built {
                    self.emit(kind.add, 1, at);
                }
            }
        }
        if kind.tuple {
            self.emit(Opcode::CALL_INTRINSIC_1, intrinsic1::LIST_TO_TUPLE, at);
        }
        Ok(())
    }

    /// Unpacks into the targets of a list or tuple assignment (`assignment_helper`).
    fn assignment_helper(&mut self, at: Location, elts: &[Expr]) -> CResult {
        let n = elts.len();
        let mut seen_star = false;
        for (i, elt) in elts.iter().enumerate() {
            if matches!(elt.kind, ExprKind::Starred { .. }) {
                if seen_star {
                    return Err(self.error(at, "multiple starred expressions in assignment"));
                }
                if i >= 1 << 8 || n - i > (i32::MAX >> 8) as usize {
                    return Err(self.error(at, "too many expressions in star-unpacking assignment"));
                }
                self.emit(Opcode::UNPACK_EX, (i + ((n - i - 1) << 8)) as u32, at);
                seen_star = true;
            }
        }
        if !seen_star {
            self.emit(Opcode::UNPACK_SEQUENCE, n as u32, at);
        }
        for elt in elts {
            match &elt.kind {
                ExprKind::Starred { value, .. } => self.visit_expr(value)?,
                _ => self.visit_expr(elt)?,
            }
        }
        Ok(())
    }

    fn dict(&mut self, at: Location, keys: &[Option<Expr>], values: &[Expr]) -> CResult {
        let n = values.len();
        let mut have_dict = false;
        let mut elements = 0;
        for i in 0..n {
            if keys[i].is_none() {
                if elements > 0 {
                    self.subdict(at, keys, values, i - elements, i)?;
                    if have_dict {
                        self.emit(Opcode::DICT_UPDATE, 1, at);
                    }
                    have_dict = true;
                    elements = 0;
                }
                if !have_dict {
                    self.emit(Opcode::BUILD_MAP, 0, at);
                    have_dict = true;
                }
                self.visit_expr(&values[i])?;
                self.emit(Opcode::DICT_UPDATE, 1, at);
            } else if elements * 2 > STACK_USE_GUIDELINE {
                self.subdict(at, keys, values, i - elements, i + 1)?;
                if have_dict {
                    self.emit(Opcode::DICT_UPDATE, 1, at);
                }
                have_dict = true;
                elements = 0;
            } else {
                elements += 1;
            }
        }
        if elements > 0 {
            self.subdict(at, keys, values, n - elements, n)?;
            if have_dict {
                self.emit(Opcode::DICT_UPDATE, 1, at);
            }
            have_dict = true;
        }
        if !have_dict {
            self.emit(Opcode::BUILD_MAP, 0, at);
        }
        Ok(())
    }

    fn subdict(
        &mut self,
        at: Location,
        keys: &[Option<Expr>],
        values: &[Expr],
        begin: usize,
        end: usize,
    ) -> CResult {
        let n = end - begin;
        let big = n * 2 > STACK_USE_GUIDELINE;
        if n > 1 && !big && all_const(keys[begin..end].iter().map(Option::as_ref)) {
            for v in &values[begin..end] {
                self.visit_expr(v)?;
            }
            let items: Vec<Object> = keys[begin..end]
                .iter()
                .map(|k| const_object(constant_of(k.as_ref().expect("checked constant"))))
                .collect();
            self.load_const(Object::Tuple(items.into()), at);
            self.emit(Opcode::BUILD_CONST_KEY_MAP, n as u32, at);
            return Ok(());
        }
        if big {
            self.emit(Opcode::BUILD_MAP, 0, at);
        }
        for i in begin..end {
            self.visit_expr(keys[i].as_ref().expect("no unpacking inside a subdict"))?;
            self.visit_expr(&values[i])?;
            if big {
                self.emit(Opcode::MAP_ADD, 1, at);
            }
        }
        if !big {
            self.emit(Opcode::BUILD_MAP, n as u32, at);
        }
        Ok(())
    }
}
