//! `match` statements: the subject, each case's pattern with its captures and the stack
//! cleanup on failure, guards and bodies.

use pyc_loader::marshal::{Int, Object};

use super::unit::const_object;
use super::{loc, CResult, Compiler, NO_LOC};
use crate::ast::{CmpOp, Constant, Expr, ExprContext, ExprKind, MatchCase, Pattern, PatternKind};
use crate::ir::{Label, Location, Opcode};

/// The state of matching one case (CPython's `pattern_context`).
#[derive(Default)]
struct PatternContext {
    /// Names captured so far, their values kept on the stack in this order.
    stores: Vec<String>,
    /// Whether an irrefutable pattern is allowed here.
    allow_irrefutable: bool,
    /// `fail_pop[n]` pops `n` items and goes on to the next case.
    fail_pop: Vec<Label>,
    /// Items on top of the stack above the captures.
    on_top: usize,
}

fn is_wildcard(p: &Pattern) -> bool {
    matches!(
        p.kind,
        PatternKind::MatchAs {
            pattern: None,
            name: None
        }
    )
}

fn is_star_wildcard(p: &Pattern) -> bool {
    matches!(p.kind, PatternKind::MatchStar { name: None })
}

fn int_const(n: usize) -> Object {
    Object::Int(Int::Small(n as i64))
}

/// A constant map key as a comparable value for the duplicate-key check.
fn key_repr(c: &Constant) -> String {
    format!("{:?}", crate::ir::ConstKey::of(&const_object(c)))
}

impl<'a> Compiler<'a> {
    /// `match` (`compiler_match`).
    pub(crate) fn match_stmt(&mut self, subject: &Expr, cases: &'a [MatchCase]) -> CResult {
        self.visit_expr(subject)?;
        let end = self.new_label();
        let n = cases.len();
        let has_default = usize::from(is_wildcard(&cases[n - 1].pattern) && n > 1);
        for (i, m) in cases[..n - has_default].iter().enumerate() {
            let ploc = loc(m.pattern.loc);
            let last = i == n - has_default - 1;
            if !last {
                self.emit(Opcode::COPY, 1, ploc);
            }
            let mut pc = PatternContext {
                allow_irrefutable: m.guard.is_some() || i == n - 1,
                ..PatternContext::default()
            };
            self.pattern(&m.pattern, &mut pc)?;
            for name in pc.stores.clone() {
                self.nameop(ploc, &name, ExprContext::Store)?;
            }
            if let Some(guard) = &m.guard {
                self.ensure_fail_pop(&mut pc, 0);
                self.jump_if(guard, pc.fail_pop[0], false)?;
            }
            if !last {
                self.emit(Opcode::POP_TOP, 0, ploc);
            }
            self.visit_stmts(&m.body)?;
            self.emit_jump(Opcode::JUMP, end, NO_LOC);
            self.emit_and_reset_fail_pop(ploc, &mut pc);
        }
        if has_default == 1 {
            let m = &cases[n - 1];
            let ploc = loc(m.pattern.loc);
            if n == 1 {
                self.emit(Opcode::POP_TOP, 0, ploc);
            } else {
                self.emit(Opcode::NOP, 0, ploc);
            }
            if let Some(guard) = &m.guard {
                self.jump_if(guard, end, false)?;
            }
            self.visit_stmts(&m.body)?;
        }
        self.bind(end);
        Ok(())
    }

    fn ensure_fail_pop(&mut self, pc: &mut PatternContext, n: usize) {
        while pc.fail_pop.len() < n + 1 {
            let label = self.new_label();
            pc.fail_pop.push(label);
        }
    }

    /// Jumps with `op` to the block that pops what is on the stack and fails.
    fn jump_to_fail_pop(&mut self, at: Location, pc: &mut PatternContext, op: Opcode) {
        let pops = pc.on_top + pc.stores.len();
        self.ensure_fail_pop(pc, pops);
        self.emit_jump(op, pc.fail_pop[pops], at);
    }

    fn emit_and_reset_fail_pop(&mut self, at: Location, pc: &mut PatternContext) {
        if pc.fail_pop.is_empty() {
            return;
        }
        let labels = std::mem::take(&mut pc.fail_pop);
        for label in labels[1..].iter().rev() {
            self.bind(*label);
            self.emit(Opcode::POP_TOP, 0, at);
        }
        self.bind(labels[0]);
    }

    /// Moves TOS `count - 1` places down, as 3.10's `ROT_N` did.
    fn rotate(&mut self, at: Location, mut count: usize) {
        while count > 1 {
            self.emit(Opcode::SWAP, count as u32, at);
            count -= 1;
        }
    }

    fn store_capture(
        &mut self,
        at: Location,
        name: Option<&str>,
        pc: &mut PatternContext,
    ) -> CResult {
        let Some(name) = name else {
            self.emit(Opcode::POP_TOP, 0, at);
            return Ok(());
        };
        if name == "__debug__" {
            return Err(self.error(at, "cannot assign to __debug__"));
        }
        if pc.stores.iter().any(|s| s == name) {
            return Err(self.error(
                at,
                format!("multiple assignments to name '{name}' in pattern"),
            ));
        }
        let rotations = pc.on_top + pc.stores.len() + 1;
        self.rotate(at, rotations);
        pc.stores.push(name.to_string());
        Ok(())
    }

    fn subpattern(&mut self, p: &Pattern, pc: &mut PatternContext) -> CResult {
        let allow = pc.allow_irrefutable;
        pc.allow_irrefutable = true;
        self.pattern(p, pc)?;
        pc.allow_irrefutable = allow;
        Ok(())
    }

    fn pattern(&mut self, p: &Pattern, pc: &mut PatternContext) -> CResult {
        let at = loc(p.loc);
        self.enter_nested(at)?;
        let result = self.guarded(|c| c.pattern_inner(p, pc, at));
        self.depth -= 1;
        result
    }

    fn pattern_inner(&mut self, p: &Pattern, pc: &mut PatternContext, at: Location) -> CResult {
        match &p.kind {
            PatternKind::MatchValue { value } => {
                if !matches!(
                    value.kind,
                    ExprKind::Constant { .. } | ExprKind::Attribute { .. }
                ) {
                    return Err(
                        self.error(at, "patterns may only match literals and attribute lookups")
                    );
                }
                self.visit_expr(value)?;
                self.compare_for_pattern(CmpOp::Eq, at);
                self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
            }
            PatternKind::MatchSingleton { value } => {
                self.load_const(const_object(value), at);
                self.compare_for_pattern(CmpOp::Is, at);
                self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
            }
            PatternKind::MatchSequence { patterns } => self.pattern_sequence(at, patterns, pc)?,
            PatternKind::MatchMapping {
                keys,
                patterns,
                rest,
            } => self.pattern_mapping(at, keys, patterns, rest.as_deref(), pc)?,
            PatternKind::MatchClass {
                cls,
                patterns,
                kwd_attrs,
                kwd_patterns,
            } => self.pattern_class(at, cls, patterns, kwd_attrs, kwd_patterns, pc)?,
            PatternKind::MatchStar { name } => self.store_capture(at, name.as_deref(), pc)?,
            PatternKind::MatchAs { pattern, name } => match pattern {
                None => {
                    if !pc.allow_irrefutable {
                        let msg = match name {
                            Some(n) => {
                                format!("name capture '{n}' makes remaining patterns unreachable")
                            }
                            None => "wildcard makes remaining patterns unreachable".to_string(),
                        };
                        return Err(self.error(at, msg));
                    }
                    self.store_capture(at, name.as_deref(), pc)?;
                }
                Some(inner) => {
                    pc.on_top += 1;
                    self.emit(Opcode::COPY, 1, at);
                    self.pattern(inner, pc)?;
                    pc.on_top -= 1;
                    self.store_capture(at, name.as_deref(), pc)?;
                }
            },
            PatternKind::MatchOr { patterns } => self.pattern_or(at, patterns, pc)?,
        }
        Ok(())
    }

    fn compare_for_pattern(&mut self, op: CmpOp, at: Location) {
        match op {
            CmpOp::Is => self.emit(Opcode::IS_OP, 0, at),
            CmpOp::GtE => self.emit(Opcode::COMPARE_OP, (5 << 4) | 4 | 8, at),
            _ => self.emit(Opcode::COMPARE_OP, (2 << 4) | 8, at),
        }
    }

    fn pattern_sequence(
        &mut self,
        at: Location,
        patterns: &[Pattern],
        pc: &mut PatternContext,
    ) -> CResult {
        let size = patterns.len();
        let mut star: Option<usize> = None;
        let mut only_wildcard = true;
        let mut star_wildcard = false;
        for (i, p) in patterns.iter().enumerate() {
            if matches!(p.kind, PatternKind::MatchStar { .. }) {
                if star.is_some() {
                    return Err(self.error(at, "multiple starred names in sequence pattern"));
                }
                star_wildcard = is_star_wildcard(p);
                only_wildcard &= star_wildcard;
                star = Some(i);
                continue;
            }
            only_wildcard &= is_wildcard(p);
        }
        pc.on_top += 1;
        self.emit(Opcode::MATCH_SEQUENCE, 0, at);
        self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
        match star {
            None => {
                self.emit(Opcode::GET_LEN, 0, at);
                self.load_const(int_const(size), at);
                self.compare_for_pattern(CmpOp::Eq, at);
                self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
            }
            Some(_) if size > 1 => {
                self.emit(Opcode::GET_LEN, 0, at);
                self.load_const(int_const(size - 1), at);
                self.compare_for_pattern(CmpOp::GtE, at);
                self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
            }
            // A lone starred pattern needs no length check.
            Some(_) => {}
        }
        pc.on_top -= 1;
        if only_wildcard {
            self.emit(Opcode::POP_TOP, 0, at);
        } else if star_wildcard {
            let star = star.expect("star_wildcard implies a star");
            pc.on_top += 1;
            for (i, p) in patterns.iter().enumerate() {
                if is_wildcard(p) || i == star {
                    continue;
                }
                self.emit(Opcode::COPY, 1, at);
                if i < star {
                    self.load_const(int_const(i), at);
                } else {
                    self.emit(Opcode::GET_LEN, 0, at);
                    self.load_const(int_const(size - i), at);
                    self.emit(Opcode::BINARY_OP, 10, at);
                }
                self.emit(Opcode::BINARY_SUBSCR, 0, at);
                self.subpattern(p, pc)?;
            }
            pc.on_top -= 1;
            self.emit(Opcode::POP_TOP, 0, at);
        } else {
            self.pattern_unpack(at, patterns)?;
            pc.on_top += size;
            for p in patterns {
                pc.on_top -= 1;
                self.subpattern(p, pc)?;
            }
        }
        Ok(())
    }

    fn pattern_unpack(&mut self, at: Location, patterns: &[Pattern]) -> CResult {
        let n = patterns.len();
        let mut seen_star = false;
        for (i, p) in patterns.iter().enumerate() {
            if matches!(p.kind, PatternKind::MatchStar { .. }) {
                if seen_star {
                    return Err(self.error(at, "multiple starred expressions in sequence pattern"));
                }
                if i >= 1 << 8 || n - i > (i32::MAX >> 8) as usize {
                    return Err(self.error(
                        at,
                        "too many expressions in star-unpacking sequence pattern",
                    ));
                }
                self.emit(Opcode::UNPACK_EX, (i + ((n - i - 1) << 8)) as u32, at);
                seen_star = true;
            }
        }
        if !seen_star {
            self.emit(Opcode::UNPACK_SEQUENCE, n as u32, at);
        }
        Ok(())
    }

    fn pattern_mapping(
        &mut self,
        at: Location,
        keys: &[Expr],
        patterns: &[Pattern],
        rest: Option<&str>,
        pc: &mut PatternContext,
    ) -> CResult {
        let size = keys.len();
        if size != patterns.len() {
            return Err(self.error(
                at,
                format!(
                    "keys ({size}) / patterns ({}) length mismatch in mapping pattern",
                    patterns.len()
                ),
            ));
        }
        pc.on_top += 1;
        self.emit(Opcode::MATCH_MAPPING, 0, at);
        self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
        if size == 0 && rest.is_none() {
            pc.on_top -= 1;
            self.emit(Opcode::POP_TOP, 0, at);
            return Ok(());
        }
        if size > 0 {
            self.emit(Opcode::GET_LEN, 0, at);
            self.load_const(int_const(size), at);
            self.compare_for_pattern(CmpOp::GtE, at);
            self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
        }
        let mut seen: Vec<String> = Vec::new();
        for key in keys {
            match &key.kind {
                ExprKind::Constant { value, .. } => {
                    let repr = key_repr(value);
                    if seen.contains(&repr) {
                        let shown = pyc_loader::repr::repr(
                            &const_object(value),
                            pyc_loader::target::Target::V3_12,
                        )
                        .unwrap_or_default();
                        return Err(self.error(
                            at,
                            format!("mapping pattern checks duplicate key ({shown})"),
                        ));
                    }
                    seen.push(repr);
                }
                ExprKind::Attribute { .. } => {}
                _ => {
                    return Err(self.error(
                        at,
                        "mapping pattern keys may only match literals and attribute lookups",
                    ))
                }
            }
            self.visit_expr(key)?;
        }
        self.emit(Opcode::BUILD_TUPLE, size as u32, at);
        self.emit(Opcode::MATCH_KEYS, 0, at);
        pc.on_top += 2;
        self.emit(Opcode::COPY, 1, at);
        self.load_const(Object::None, at);
        self.emit(Opcode::IS_OP, 1, at);
        self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
        self.emit(Opcode::UNPACK_SEQUENCE, size as u32, at);
        pc.on_top += size;
        pc.on_top -= 1;
        for p in patterns {
            pc.on_top -= 1;
            self.subpattern(p, pc)?;
        }
        pc.on_top -= 2;
        if let Some(rest) = rest {
            self.emit(Opcode::BUILD_MAP, 0, at);
            self.emit(Opcode::SWAP, 3, at);
            self.emit(Opcode::DICT_UPDATE, 2, at);
            self.emit(Opcode::UNPACK_SEQUENCE, size as u32, at);
            let mut remaining = size;
            while remaining > 0 {
                self.emit(Opcode::COPY, 1 + remaining as u32, at);
                remaining -= 1;
                self.emit(Opcode::SWAP, 2, at);
                self.emit(Opcode::DELETE_SUBSCR, 0, at);
            }
            self.store_capture(at, Some(rest), pc)?;
        } else {
            self.emit(Opcode::POP_TOP, 0, at);
            self.emit(Opcode::POP_TOP, 0, at);
        }
        Ok(())
    }

    fn pattern_class(
        &mut self,
        at: Location,
        cls: &Expr,
        patterns: &[Pattern],
        kwd_attrs: &[crate::ast::Identifier],
        kwd_patterns: &[Pattern],
        pc: &mut PatternContext,
    ) -> CResult {
        let nargs = patterns.len();
        let nattrs = kwd_attrs.len();
        if nattrs != kwd_patterns.len() {
            return Err(self.error(
                at,
                format!(
                    "kwd_attrs ({nattrs}) / kwd_patterns ({}) length mismatch in class pattern",
                    kwd_patterns.len()
                ),
            ));
        }
        for (i, attr) in kwd_attrs.iter().enumerate() {
            let ploc = loc(kwd_patterns[i].loc);
            if &**attr == "__debug__" {
                return Err(self.error(ploc, "cannot assign to __debug__"));
            }
            if let Some(j) = kwd_attrs[i + 1..].iter().position(|o| o == attr) {
                let dup_loc = loc(kwd_patterns[i + 1 + j].loc);
                return Err(self.error(
                    dup_loc,
                    format!("attribute name repeated in class pattern: {attr}"),
                ));
            }
        }
        self.visit_expr(cls)?;
        let names: Vec<Object> = kwd_attrs
            .iter()
            .map(|a| Object::Str(pyc_loader::marshal::Str::new(a, true)))
            .collect();
        self.load_const(Object::Tuple(names.into()), at);
        self.emit(Opcode::MATCH_CLASS, nargs as u32, at);
        self.emit(Opcode::COPY, 1, at);
        self.load_const(Object::None, at);
        self.emit(Opcode::IS_OP, 1, at);
        pc.on_top += 1;
        self.jump_to_fail_pop(at, pc, Opcode::POP_JUMP_IF_FALSE);
        self.emit(Opcode::UNPACK_SEQUENCE, (nargs + nattrs) as u32, at);
        pc.on_top += nargs + nattrs;
        pc.on_top -= 1;
        for p in patterns.iter().chain(kwd_patterns) {
            pc.on_top -= 1;
            if is_wildcard(p) {
                self.emit(Opcode::POP_TOP, 0, at);
                continue;
            }
            self.subpattern(p, pc)?;
        }
        Ok(())
    }

    fn pattern_or(&mut self, at: Location, alts: &[Pattern], pc: &mut PatternContext) -> CResult {
        let end = self.new_label();
        let size = alts.len();
        let old_stores = std::mem::take(&mut pc.stores);
        let old_fail_pop = std::mem::take(&mut pc.fail_pop);
        let old_on_top = pc.on_top;
        let old_allow = pc.allow_irrefutable;
        let mut control: Option<Vec<String>> = None;
        for (i, alt) in alts.iter().enumerate() {
            let aloc = loc(alt.loc);
            pc.stores = Vec::new();
            pc.allow_irrefutable = i == size - 1 && old_allow;
            pc.fail_pop = Vec::new();
            pc.on_top = 0;
            self.emit(Opcode::COPY, 1, aloc);
            self.pattern(alt, pc)?;
            let nstores = pc.stores.len();
            match &control {
                None => control = Some(pc.stores.clone()),
                Some(ctrl) if ctrl.len() != nstores => {
                    return Err(self.error(at, "alternative patterns bind different names"));
                }
                Some(ctrl) => {
                    let ctrl = ctrl.clone();
                    for icontrol in (0..nstores).rev() {
                        let name = &ctrl[icontrol];
                        let Some(istores) = pc.stores.iter().position(|s| s == name) else {
                            return Err(self.error(at, "alternative patterns bind different names"));
                        };
                        if icontrol != istores {
                            let rotations = istores + 1;
                            let rotated: Vec<String> = pc.stores.drain(..rotations).collect();
                            let at_index = icontrol - istores;
                            for (k, r) in rotated.into_iter().enumerate() {
                                pc.stores.insert(at_index + k, r);
                            }
                            for _ in 0..rotations {
                                self.rotate(aloc, icontrol + 1);
                            }
                        }
                    }
                }
            }
            self.emit_jump(Opcode::JUMP, end, aloc);
            self.emit_and_reset_fail_pop(aloc, pc);
        }
        pc.stores = old_stores;
        pc.fail_pop = old_fail_pop;
        pc.on_top = old_on_top;
        pc.allow_irrefutable = old_allow;
        self.emit(Opcode::POP_TOP, 0, at);
        self.jump_to_fail_pop(at, pc, Opcode::JUMP);
        self.bind(end);
        let control = control.unwrap_or_default();
        let nstores = control.len();
        let nrots = nstores + 1 + pc.on_top + pc.stores.len();
        for name in control {
            self.rotate(at, nrots);
            if pc.stores.contains(&name) {
                return Err(self.error(
                    at,
                    format!("multiple assignments to name '{name}' in pattern"),
                ));
            }
            pc.stores.push(name);
        }
        self.emit(Opcode::POP_TOP, 0, at);
        Ok(())
    }
}
