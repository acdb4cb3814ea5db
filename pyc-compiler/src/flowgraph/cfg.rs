//! Basic blocks and their construction from the linear instruction sequence of code generation
//! (CPython's `cfg_builder` and `instr_sequence_to_cfg`).

use crate::error::CompileError;
use crate::ir::{Arg, InstrSequence, Location, Opcode};
use crate::opcode_info::{
    has_const, has_target, is_assembler_jump, is_block_push, is_build_checked, is_lowered,
    is_scope_exit, is_terminator, is_unconditional_jump, unbinds,
};

/// Index of a block in [`Cfg::blocks`].
pub(crate) type BlockId = usize;

/// The stored form of "no block" in an [`Instr`]'s block fields.
const NONE: u32 = u32::MAX;

/// An instruction inside a basic block (32 bytes: block ids are stored as `u32`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Instr {
    pub op: Opcode,
    /// The argument; for a jump, CPython's label id of a block (its target's, or the one it
    /// had before a pass retargeted it) until offsets are resolved: where the resolution of
    /// `EXTENDED_ARG` sizes starts.
    pub arg: u32,
    /// The block a jump or handler push designates ([`NONE`] if none): see [`Instr::target`].
    target: u32,
    /// The exception handler active at this instruction ([`NONE`] if none).
    except: u32,
    pub loc: Location,
}

#[inline]
fn stored(block: Option<BlockId>) -> u32 {
    block.map_or(NONE, |b| b as u32)
}

#[inline]
fn loaded(block: u32) -> Option<BlockId> {
    (block != NONE).then_some(block as BlockId)
}

impl Instr {
    /// An instruction without target or handler.
    pub fn new(op: Opcode, arg: u32, loc: Location) -> Instr {
        Instr {
            op,
            arg,
            target: NONE,
            except: NONE,
            loc,
        }
    }

    /// The block a jump or handler push designates.
    #[inline]
    pub fn target(&self) -> Option<BlockId> {
        loaded(self.target)
    }

    pub fn set_target(&mut self, target: Option<BlockId>) {
        self.target = stored(target);
    }

    /// The exception handler active at this instruction.
    #[inline]
    pub fn except(&self) -> Option<BlockId> {
        loaded(self.except)
    }

    pub fn set_except(&mut self, handler: Option<BlockId>) {
        self.except = stored(handler);
    }

    /// Turns the instruction into a `NOP`, keeping its location.
    pub fn set_nop(&mut self) {
        self.op = Opcode::NOP;
        self.arg = 0;
    }
}

/// A basic block and the per-block state of the passes.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    /// Where the block's instructions start in [`Cfg::instrs`].
    start: u32,
    /// How many instructions the block has.
    len: u32,
    /// The block laid out after this one.
    pub next: Option<BlockId>,
    /// CPython's label id of the block, if any: the last label code generation bound here
    /// (numbered from 1), or a new one a pass gave it (the block may be a jump target).
    pub label: Option<u32>,
    /// Incoming edges counted by the reachability pass.
    pub predecessors: u32,
    /// Stack depth on entry (`i32::MIN` until computed).
    pub startdepth: i32,
    /// Offset in code units, once jumps are resolved.
    pub offset: u32,
    /// A handler that must push the offset of the raising instruction (`lasti`).
    pub preserve_lasti: bool,
    pub visited: bool,
    pub except_handler: bool,
    pub cold: bool,
    pub warm: bool,
    /// Bit i: local i may be unbound on entry (the uninitialized-locals analysis).
    pub unsafe_locals_mask: u64,
    /// The entry mask the uninitialized-locals analysis last scanned the block with.
    pub scanned_locals_mask: Option<u64>,
}

impl Block {
    fn new(label: Option<u32>, start: usize) -> Block {
        Block {
            start: start as u32,
            len: 0,
            next: None,
            label,
            predecessors: 0,
            startdepth: i32::MIN,
            offset: 0,
            preserve_lasti: false,
            visited: false,
            except_handler: false,
            cold: false,
            warm: false,
            unsafe_locals_mask: 0,
            scanned_locals_mask: None,
        }
    }

    /// The block's instructions, as a range of [`Cfg::instrs`].
    #[inline]
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }

    /// The number of instructions.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A control-flow graph: blocks in an arena, laid out as a chain from `entry` through `next`.
/// The instructions of all blocks are in one array, each block's a contiguous range of it; a
/// block that grows and is not at the end of the array moves to its end (its old range is
/// left unused).
#[derive(Clone, Debug)]
pub(crate) struct Cfg {
    pub instrs: Vec<Instr>,
    pub blocks: Vec<Block>,
    pub entry: BlockId,
    /// Whether some instruction pushes an exception handler (`SETUP_*`); without one, only
    /// the last instruction of a block designates a block.
    pub has_handlers: bool,
    /// Whether some instruction may leave a local unbound (see `opcode_info::unbinds`).
    pub unbinds: bool,
    /// Whether some instruction is a pseudo-instruction to lower (see
    /// `opcode_info::is_lowered`).
    pub has_lowered: bool,
    /// Whether a `NOP` may be left: cleared when the optimizations leave none, set again by
    /// a pass that makes one.
    pub may_have_nops: bool,
}

impl Cfg {
    /// A new, empty, unlinked block without label.
    pub fn new_block(&mut self) -> BlockId {
        self.blocks.push(Block::new(None, self.instrs.len()));
        self.blocks.len() - 1
    }

    /// The instructions of block `b`.
    #[inline]
    pub fn block_instrs(&self, b: BlockId) -> &[Instr] {
        &self.instrs[self.blocks[b].range()]
    }

    /// The instructions of block `b`, to modify in place.
    #[inline]
    pub fn block_instrs_mut(&mut self, b: BlockId) -> &mut [Instr] {
        let range = self.blocks[b].range();
        &mut self.instrs[range]
    }

    /// Moves block `b` to the end of the instruction array, unless it is there already, so
    /// that it can grow by pushes.
    fn move_to_end(&mut self, b: BlockId) {
        let range = self.blocks[b].range();
        if range.end != self.instrs.len() || range.is_empty() {
            let start = self.instrs.len();
            self.instrs.extend_from_within(range);
            self.blocks[b].start = start as u32;
        }
    }

    /// Appends `instr` to block `b`.
    pub fn push(&mut self, b: BlockId, instr: Instr) {
        self.move_to_end(b);
        self.instrs.push(instr);
        self.blocks[b].len += 1;
    }

    /// Appends a copy of the instructions of block `src` to block `b` (another block).
    pub fn append_copy(&mut self, b: BlockId, src: BlockId) {
        self.move_to_end(b);
        let range = self.blocks[src].range();
        self.instrs.extend_from_within(range.clone());
        self.blocks[b].len += range.len() as u32;
    }

    /// Puts `instrs` before the instructions of block `b`.
    pub fn prepend(&mut self, b: BlockId, instrs: &[Instr]) {
        let range = self.blocks[b].range();
        let start = self.instrs.len();
        self.instrs.extend_from_slice(instrs);
        self.instrs.extend_from_within(range.clone());
        let block = &mut self.blocks[b];
        block.start = start as u32;
        block.len += instrs.len() as u32;
    }

    /// Keeps the first `len` instructions of block `b`.
    pub fn truncate(&mut self, b: BlockId, len: usize) {
        let block = &mut self.blocks[b];
        block.len = block.len.min(len as u32);
    }

    /// The instructions of block `b` that may designate a block, as a range of
    /// [`Cfg::instrs`]: all of them if the unit pushes handlers, else only the last (only
    /// jumps designate blocks then, and a jump ends its block).
    #[inline]
    pub fn target_range(&self, b: BlockId) -> std::ops::Range<usize> {
        let mut range = self.blocks[b].range();
        if !self.has_handlers && !range.is_empty() {
            range.start = range.end - 1;
        }
        range
    }

    /// The last instruction of block `b`.
    #[inline]
    pub fn last(&self, b: BlockId) -> Option<&Instr> {
        self.block_instrs(b).last()
    }

    /// The last instruction of block `b`, to modify.
    #[inline]
    pub fn last_mut(&mut self, b: BlockId) -> Option<&mut Instr> {
        self.block_instrs_mut(b).last_mut()
    }

    /// Whether control can fall from `b` into the next block (`BB_HAS_FALLTHROUGH`).
    #[inline]
    pub fn has_fallthrough(&self, b: BlockId) -> bool {
        match self.last(b) {
            Some(last) => !(is_scope_exit(last.op) || is_unconditional_jump(last.op)),
            None => true,
        }
    }

    /// The first label id not used by a block of the chain (CPython's `get_max_label + 1`).
    pub fn next_free_label(&self) -> u32 {
        let mut next = 0;
        let mut cursor = Some(self.entry);
        while let Some(id) = cursor {
            cursor = self.blocks[id].next;
            if let Some(label) = self.blocks[id].label {
                next = next.max(label + 1);
            }
        }
        next
    }

    /// The label of block `b`, giving it the next free one (`next`, then incremented) if it
    /// has none.
    pub fn ensure_label(&mut self, b: BlockId, next: &mut u32) -> u32 {
        *self.blocks[b].label.get_or_insert_with(|| {
            *next += 1;
            *next - 1
        })
    }

    /// Whether `b` ends by leaving the code unit.
    #[inline]
    pub fn exits_scope(&self, b: BlockId) -> bool {
        self.last(b).is_some_and(|last| is_scope_exit(last.op))
    }

    /// The blocks in layout order, as a snapshot for passes that relink blocks; a pass that
    /// does not follows the `next` chain directly (reading each block's `next` before
    /// working on it), which costs no allocation.
    pub fn order(&self) -> Vec<BlockId> {
        let mut order = Vec::with_capacity(self.blocks.len());
        let mut b = Some(self.entry);
        while let Some(id) = b {
            order.push(id);
            b = self.blocks[id].next;
        }
        order
    }

    /// Clears the `visited` mark of every block in the chain (`make_cfg_traversal_stack`).
    pub fn reset_visited(&mut self) {
        let mut cursor = Some(self.entry);
        while let Some(id) = cursor {
            cursor = self.blocks[id].next;
            self.blocks[id].visited = false;
        }
    }

    /// Builds the graph of a code unit's instruction sequence: a block starts at each bound
    /// label and after each instruction that ends a block (the sequence's instructions keep
    /// their order in [`Cfg::instrs`]). It checks the instructions (constant indices below
    /// `nconsts`, no jump only the assembler emits), marks the targets of `SETUP_*` as
    /// handlers (CPython's `mark_except_handlers`), and gives each `YIELD_VALUE` handler
    /// depth 0 (`label_exception_targets` sets the depth of those it reaches; the others are
    /// in blocks the optimizations find unreachable).
    pub fn from_sequence(seq: &InstrSequence, nconsts: usize) -> Result<Cfg, CompileError> {
        let n = seq.instrs.len();
        // One label per offset is used, the last bound there, numbered as CPython's code
        // generation does (from 1; 0: none); an offset's block is found through it.
        let mut label_at_offset = vec![0u32; n];
        for (label, target) in seq.label_targets.iter().enumerate() {
            if let Some(&target) = target.as_ref().filter(|&&t| t < n) {
                label_at_offset[target] = label as u32 + 1;
            }
        }
        let mut blocks = Vec::with_capacity(seq.label_targets.len() + 1);
        blocks.push(Block::new(None, 0));
        // Room for the blocks the passes grow (copied exits, prefixes, new jumps), which
        // move to the end of the array.
        let mut instrs = Vec::with_capacity(n + n / 4 + 16);
        // The block starting at each offset of the sequence, or `NONE`.
        let mut block_at_offset = vec![NONE; n];
        // Whether the last instruction placed ends its block.
        let mut after_terminator = false;
        // The instructions that designate a block, by index.
        let mut with_target = Vec::new();
        let (mut any_unbinds, mut any_lowered) = (false, false);
        for (i, (instr, &label)) in seq.instrs.iter().zip(&label_at_offset).enumerate() {
            // CPython's `cfg_builder_maybe_start_new_block`, at a label or after a
            // terminator: the current block takes the label if it is still empty and
            // unlabelled, otherwise a new block starts (block lengths are set below).
            if label != 0 || after_terminator {
                let current = blocks.len() - 1;
                let block: &mut Block = &mut blocks[current];
                let label = (label != 0).then_some(label);
                if !after_terminator && block.start as usize == i && block.label.is_none() {
                    block.label = label;
                    block_at_offset[i] = current as u32;
                } else {
                    block.next = Some(current + 1);
                    blocks.push(Block::new(label, i));
                    if label.is_some() {
                        block_at_offset[i] = current as u32 + 1;
                    }
                }
            }
            // A jump's argument is the label id its target's block carries; its target is
            // first the offset, then (below) the block.
            let (target, arg) = match (has_target(instr.op), instr.arg) {
                (true, Arg::Label(label)) => {
                    let offset = seq
                        .label_targets
                        .get(label.0 as usize)
                        .copied()
                        .flatten()
                        .filter(|&offset| offset < n)
                        .ok_or_else(|| internal(format!("{:?} to an unbound label", instr.op)))?;
                    with_target.push(i as u32);
                    (offset as u32, label_at_offset[offset])
                }
                (false, Arg::Int(arg)) => (NONE, arg),
                _ => return Err(internal(format!("bad argument for {:?}", instr.op))),
            };
            let arg = if arg >= 1 << 30 || is_build_checked(instr.op) {
                any_unbinds |= unbinds(instr.op);
                any_lowered |= is_lowered(instr.op);
                checked_arg(instr.op, arg, nconsts)?
            } else {
                arg
            };
            after_terminator = is_terminator(instr.op);
            instrs.push(Instr {
                op: instr.op,
                arg,
                target,
                except: NONE,
                loc: instr.loc,
            });
        }
        // Each block ends where the next starts.
        let mut end = n as u32;
        for block in blocks.iter_mut().rev() {
            block.len = end - block.start;
            end = block.start;
        }
        let mut has_handlers = false;
        for i in with_target {
            let instr = &mut instrs[i as usize];
            instr.target = block_at_offset[instr.target as usize];
            if instr.target == NONE {
                return Err(internal("jump target without block".to_string()));
            }
            if is_block_push(instr.op) {
                blocks[instr.target as usize].except_handler = true;
                has_handlers = true;
            }
        }
        Ok(Cfg {
            instrs,
            blocks,
            entry: 0,
            has_handlers,
            unbinds: any_unbinds,
            has_lowered: any_lowered,
            may_have_nops: true,
        })
    }
}

/// The argument of an instruction that graph construction checks (see `is_build_checked`)
/// or with an argument too large: the argument to keep, or why the instruction is malformed.
fn checked_arg(op: Opcode, arg: u32, nconsts: usize) -> Result<u32, CompileError> {
    if arg >= 1 << 30 {
        return Err(internal(format!("argument of {op:?} too large")));
    }
    if matches!(op, Opcode::SWAP | Opcode::COPY) && arg == 0 {
        return Err(internal(format!("{op:?} 0")));
    }
    if has_const(op) && arg as usize >= nconsts {
        return Err(internal(format!(
            "{op:?} {arg} beyond the {nconsts} constants"
        )));
    }
    if is_assembler_jump(op) {
        return Err(internal(format!("{op:?} emitted by code generation")));
    }
    Ok(if op == Opcode::YIELD_VALUE { 0 } else { arg })
}

/// An error CPython reports as `SystemError`: code generation produced something malformed.
pub(crate) fn internal(msg: String) -> CompileError {
    CompileError::syntax(format!("internal compiler error: {msg}"), 0, 0)
}
