//! The second pass: decide each name's scope (local, global, free, cell) from the facts the
//! first pass collected, passing the names visible to nested scopes down and the free names of
//! nested scopes up, and inline comprehensions into their parent (PEP 709).

use std::sync::Arc;

use rustc_hash::FxHashSet as HashSet;

use super::visit::{error_at, Collected};
use super::{def, name_hash, on_deep_stack, BlockId, BlockKind, Scope, Symbol, DEEP};
use crate::error::CompileError;

/// A name, numbered by the [`Interner`].
type NameId = u32;

/// The id of a name not numbered yet.
const UNNUMBERED: NameId = NameId::MAX;

/// Sets of names, copied for each nested scope as CPython copies its sets: numbered names make
/// a copy one table copy, and a lookup hash a number instead of a string.
type Names = HashSet<NameId>;

/// The module's distinct names, numbered in first-seen order.
#[derive(Default)]
struct Interner {
    names: Vec<Arc<str>>,
    /// Ids, hashed by their name.
    index: hashbrown::HashTable<NameId>,
}

impl Interner {
    /// The id of `name`, numbering it if new.
    fn id(&mut self, name: &Arc<str>) -> NameId {
        let hash = name_hash(name);
        let names = &self.names;
        if let Some(&id) = self.index.find(hash, |&id| *names[id as usize] == **name) {
            return id;
        }
        let id = self.names.len() as NameId;
        self.names.push(name.clone());
        let names = &self.names;
        self.index
            .insert_unique(hash, id, |&id| name_hash(&names[id as usize]));
        id
    }

    fn reserve(&mut self, additional: usize) {
        self.names.reserve(additional);
        let names = &self.names;
        self.index
            .reserve(additional, |&id| name_hash(&names[id as usize]));
    }

    fn name(&self, id: NameId) -> &Arc<str> {
        &self.names[id as usize]
    }
}

/// Resolves every symbol of every block reachable from the module.
pub(super) fn analyze(collected: &mut Collected) -> Result<(), CompileError> {
    let mut free = Names::default();
    let mut global = Names::default();
    let mut type_params = Names::default();
    let mut names = Interner::default();
    // At most as many names as symbols: the interner never grows.
    let symbols: usize = collected.table.blocks.iter().map(|b| b.symbols.len()).sum();
    names.reserve(symbols + 2);
    let class_cell = names.id(&"__class__".into());
    let classdict_cell = names.id(&"__classdict__".into());
    let mut analyzer = Analyzer {
        c: collected,
        depth: 0,
        names,
        class_cell,
        classdict_cell,
    };
    analyzer.block(
        BlockId(0),
        None,
        &mut free,
        &mut global,
        &mut type_params,
        None,
    )
}

struct Analyzer<'a> {
    c: &'a mut Collected,
    /// Nesting of the block being analyzed.
    depth: u32,
    names: Interner,
    /// The ids of the implicit class cells `__class__` and `__classdict__`.
    class_cell: NameId,
    classdict_cell: NameId,
}

/// The name sets a block's analysis reads and updates (all but `free` are the caller's copies).
struct Context<'s> {
    /// Names bound in enclosing function scopes; `None` at module level.
    bound: Option<&'s mut Names>,
    /// Names bound in this block, collected only for a function-like block with children
    /// (they are what the children see of it).
    local: Option<&'s mut Names>,
    /// Free names found so far (output).
    free: &'s mut Names,
    /// Names declared global in enclosing scopes.
    global: &'s mut Names,
    /// Type parameters visible here.
    type_params: &'s mut Names,
    /// The class whose names this annotation scope can see.
    class_entry: Option<BlockId>,
}

impl Analyzer<'_> {
    fn blk(&self, id: BlockId) -> &super::Block {
        &self.c.table.blocks[id.0 as usize]
    }

    fn blk_mut(&mut self, id: BlockId) -> &mut super::Block {
        &mut self.c.table.blocks[id.0 as usize]
    }

    /// A SyntaxError at the `global`/`nonlocal` declaration of `name` in `id`.
    fn at_directive(&self, id: BlockId, name: &str, msg: String) -> CompileError {
        match self.c.directives[id.0 as usize]
            .iter()
            .find(|(n, _)| &**n == name)
        {
            Some((_, loc)) => error_at(msg, *loc),
            None => CompileError::syntax(msg, 0, 0),
        }
    }

    /// The id of the name of symbol `i` of block `id`, kept in `slot`: names are numbered
    /// only when a set needs them.
    fn id(&mut self, id: BlockId, i: usize, slot: &mut NameId) -> NameId {
        if *slot == UNNUMBERED {
            *slot = self
                .names
                .id(&self.c.table.blocks[id.0 as usize].symbols[i].0);
        }
        *slot
    }

    /// Decides the scope of symbol `i` of block `id` (`analyze_name`); `slot` keeps its id.
    fn name(
        &mut self,
        id: BlockId,
        i: usize,
        slot: &mut NameId,
        cx: &mut Context<'_>,
    ) -> Result<Scope, CompileError> {
        let flags = self.blk(id).symbols[i].1.flags;
        // The name's text, for the errors.
        let text = |a: &Self| a.blk(id).symbols[i].0.clone();
        if flags & def::GLOBAL != 0 {
            if flags & def::NONLOCAL != 0 {
                let text = text(self);
                let msg = format!("name '{text}' is nonlocal and global");
                return Err(self.at_directive(id, &text, msg));
            }
            let name = self.id(id, i, slot);
            cx.global.insert(name);
            if let Some(bound) = cx.bound.as_deref_mut() {
                bound.remove(&name);
            }
            return Ok(Scope::GlobalExplicit);
        }
        if flags & def::NONLOCAL != 0 {
            let name = self.id(id, i, slot);
            let Some(bound) = cx.bound.as_deref() else {
                let msg = "nonlocal declaration not allowed at module level".to_string();
                return Err(self.at_directive(id, &text(self), msg));
            };
            if !bound.contains(&name) {
                let text = text(self);
                let msg = format!("no binding for nonlocal '{text}' found");
                return Err(self.at_directive(id, &text, msg));
            }
            if cx.type_params.contains(&name) {
                let text = text(self);
                let msg = format!("nonlocal binding not allowed for type parameter '{text}'");
                return Err(self.at_directive(id, &text, msg));
            }
            self.blk_mut(id).free = true;
            cx.free.insert(name);
            return Ok(Scope::Free);
        }
        if flags & def::BOUND != 0 {
            if let Some(local) = cx.local.as_deref_mut() {
                local.insert(self.id(id, i, slot));
            }
            if !cx.global.is_empty() {
                cx.global.remove(&self.id(id, i, slot));
            }
            if flags & def::TYPE_PARAM != 0 {
                cx.type_params.insert(self.id(id, i, slot));
            } else if !cx.type_params.is_empty() {
                cx.type_params.remove(&self.id(id, i, slot));
            }
            return Ok(Scope::Local);
        }
        if let Some(class) = cx.class_entry {
            let class_flags = self.blk(class).flags(&self.blk(id).symbols[i].0);
            if class_flags & def::GLOBAL != 0 {
                return Ok(Scope::GlobalExplicit);
            }
            if class_flags & def::BOUND != 0 && class_flags & def::NONLOCAL == 0 {
                return Ok(Scope::GlobalImplicit);
            }
        }
        if cx.bound.as_deref().is_some_and(|b| !b.is_empty()) {
            let name = self.id(id, i, slot);
            if cx.bound.as_deref().is_some_and(|b| b.contains(&name)) {
                self.blk_mut(id).free = true;
                cx.free.insert(name);
                return Ok(Scope::Free);
            }
        }
        if !cx.global.is_empty() && cx.global.contains(&self.id(id, i, slot)) {
            return Ok(Scope::GlobalImplicit);
        }
        if self.blk(id).nested {
            self.blk_mut(id).free = true;
        }
        Ok(Scope::GlobalImplicit)
    }

    /// Analyzes a block and, recursively, its children (`analyze_block`).
    fn block(
        &mut self,
        id: BlockId,
        mut bound: Option<&mut Names>,
        free: &mut Names,
        global: &mut Names,
        type_params: &mut Names,
        class_entry: Option<BlockId>,
    ) -> Result<(), CompileError> {
        let kind = self.blk(id).kind;
        let is_class = kind == BlockKind::Class;
        let has_children = !self.blk(id).children.is_empty();
        let symbols = &self.c.table.blocks[id.0 as usize].symbols;
        let mut local = Names::default();
        let collect_local = has_children && kind.is_function_like();
        if collect_local {
            local.reserve(symbols.len());
        }
        // What the children see (`newbound`, `newglobal`): none to make without children.
        let mut new_global = Names::default();
        let mut new_free = Names::default();
        let mut new_bound = Names::default();
        let mut inlined_cells = Names::default();

        // Each symbol's name id (numbered when needed) and decided scope, in the order of the
        // block's symbols.
        let mut resolved = vec![(UNNUMBERED, Scope::Local); symbols.len()];

        // A class's own names are not visible in its methods.
        if is_class && has_children {
            new_global.clone_from(global);
            if let Some(b) = bound.as_deref() {
                new_bound.clone_from(b);
            }
        }

        {
            let mut cx = Context {
                bound: bound.as_deref_mut(),
                local: collect_local.then_some(&mut local),
                free,
                global,
                type_params,
                class_entry,
            };
            for (i, (name, scope)) in resolved.iter_mut().enumerate() {
                *scope = self.name(id, i, name, &mut cx)?;
            }
        }

        if is_class && has_children {
            new_bound.insert(self.class_cell);
            new_bound.insert(self.classdict_cell);
        } else if has_children {
            if kind.is_function_like() {
                new_bound.extend(local.iter().copied());
            }
            if let Some(b) = bound.as_deref() {
                new_bound.extend(b.iter().copied());
            }
            new_global.extend(global.iter().copied());
        }

        let children = self.blk(id).children.clone();
        for &child in &children {
            let c = self.blk(child);
            let child_class_entry = if c.can_see_class_scope {
                if is_class {
                    Some(id)
                } else {
                    class_entry
                }
            } else {
                None
            };
            let inline = c.comprehension.is_some() && !c.generator;
            let mut child_bound = new_bound.clone();
            // CPython starts the child's free set as a copy of `new_free`, but the child only
            // adds to it and the copy is merged back into `new_free`: starting empty gives the
            // same union (names the parent then removes from it were added by the child).
            let mut child_free = Names::default();
            let mut child_global = new_global.clone();
            let mut child_type_params = type_params.clone();
            self.depth += 1;
            let deep = self.depth % DEEP == 0;
            let mut analyze_child = || {
                self.block(
                    child,
                    Some(&mut child_bound),
                    &mut child_free,
                    &mut child_global,
                    &mut child_type_params,
                    child_class_entry,
                )
            };
            if deep {
                on_deep_stack(analyze_child)?;
            } else {
                analyze_child()?;
            }
            self.depth -= 1;
            if inline {
                self.inline_comprehension(
                    id,
                    child,
                    &mut resolved,
                    &mut child_free,
                    &mut inlined_cells,
                );
                self.blk_mut(child).comp_inlined = true;
            }
            new_free.extend(child_free);
            let c = self.blk(child);
            if c.free || c.child_free {
                self.blk_mut(id).child_free = true;
            }
        }

        // An inlined comprehension's children take its place among ours.
        let mut spliced = Vec::with_capacity(children.len());
        for &child in &children {
            let c = self.blk(child);
            if c.comp_inlined {
                spliced.extend(c.children.iter().copied());
            } else {
                spliced.push(child);
            }
        }
        self.blk_mut(id).children = spliced;

        if kind.is_function_like() {
            self.analyze_cells(id, &mut resolved, &mut new_free, &inlined_cells);
        } else if is_class {
            if new_free.remove(&self.class_cell) {
                self.blk_mut(id).needs_class_closure = true;
            }
            if new_free.remove(&self.classdict_cell) {
                self.blk_mut(id).needs_classdict = true;
            }
        }
        let class_flag = is_class || self.blk(id).can_see_class_scope;
        self.update_symbols(
            id,
            &mut resolved,
            bound.as_deref(),
            &new_free,
            &inlined_cells,
            class_flag,
        );
        free.extend(new_free);
        Ok(())
    }

    /// Merges an inlined comprehension's symbols into its parent (`inline_comprehension`),
    /// adding the new ones to the parent's `resolved`.
    fn inline_comprehension(
        &mut self,
        id: BlockId,
        comp: BlockId,
        resolved: &mut Vec<(NameId, Scope)>,
        comp_free: &mut Names,
        inlined_cells: &mut Names,
    ) {
        let parent_is_class = self.blk(id).kind == BlockKind::Class;
        let symbols = self.blk(comp).symbols.clone();
        for (name, sym) in symbols {
            if sym.flags & def::PARAM != 0 {
                continue; // the `.0` parameter
            }
            let name_id = self.names.id(&name);
            let scope = sym.scope.unwrap_or(Scope::Local);
            if scope == Scope::Cell || sym.flags & def::COMP_CELL != 0 {
                inlined_cells.insert(name_id);
            }
            match self.blk(id).symbol(&name).copied() {
                None => {
                    self.blk_mut(id).symbol_mut_named(&name).flags = sym.flags;
                    resolved.push((name_id, scope));
                }
                Some(existing) => {
                    // A name the comprehension shares with its parent's locals is simply a
                    // local of the parent, unless a nested scope of the comprehension needs it
                    // or the parent is a class.
                    if existing.flags & def::BOUND != 0
                        && !self.is_free_in_any_child(comp, &name)
                        && !parent_is_class
                    {
                        comp_free.remove(&name_id);
                    }
                }
            }
        }
    }

    /// Locals that nested scopes use become cells (`analyze_cells`).
    fn analyze_cells(
        &mut self,
        id: BlockId,
        resolved: &mut [(NameId, Scope)],
        free: &mut Names,
        inlined_cells: &Names,
    ) {
        if free.is_empty() && inlined_cells.is_empty() {
            return;
        }
        for (i, (name, scope)) in resolved.iter_mut().enumerate() {
            if *scope != Scope::Local {
                continue;
            }
            let name = self.id(id, i, name);
            if free.contains(&name) || inlined_cells.contains(&name) {
                *scope = Scope::Cell;
                free.remove(&name);
            }
        }
    }

    fn is_free_in_any_child(&self, id: BlockId, name: &str) -> bool {
        self.blk(id)
            .children
            .iter()
            .any(|&c| self.blk(c).scope(name) == Some(Scope::Free))
    }

    /// Stores the decided scopes and records free names of children passing through
    /// (`update_symbols`).
    fn update_symbols(
        &mut self,
        id: BlockId,
        resolved: &mut [(NameId, Scope)],
        bound: Option<&Names>,
        free: &Names,
        inlined_cells: &Names,
        class_flag: bool,
    ) {
        if !inlined_cells.is_empty() {
            for (i, (name, _)) in resolved.iter_mut().enumerate() {
                if inlined_cells.contains(&self.id(id, i, name)) {
                    self.blk_mut(id).symbols[i].1.flags |= def::COMP_CELL;
                }
            }
        }
        let block = &mut self.c.table.blocks[id.0 as usize];
        for ((_, sym), &(_, scope)) in block.symbols.iter_mut().zip(resolved.iter()) {
            sym.scope = Some(scope);
        }
        // CPython iterates a set here; sorting keeps our order deterministic.
        let mut passing: Vec<(&Arc<str>, NameId)> =
            free.iter().map(|&n| (self.names.name(n), n)).collect();
        passing.sort_unstable();
        for (name, name_id) in passing {
            if block.symbol(name).is_some() {
                if class_flag {
                    block.symbol_mut(name).flags |= def::FREE_CLASS;
                }
                continue;
            }
            if bound.is_some_and(|b| !b.contains(&name_id)) {
                continue; // a global
            }
            *block.symbol_mut_named(name) = Symbol {
                flags: 0,
                scope: Some(Scope::Free),
            };
        }
    }
}
