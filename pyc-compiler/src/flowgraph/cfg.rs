//! Basic blocks and their construction from the linear instruction sequence of code generation
//! (CPython's `cfg_builder` and `instr_sequence_to_cfg`).

use crate::error::CompileError;
use crate::ir::{Arg, InstrSequence, Location, Opcode};
use crate::opcode_info::{has_target, is_scope_exit, is_terminator, is_unconditional_jump};

/// Index of a block in [`Cfg::blocks`].
pub(crate) type BlockId = usize;

/// An instruction inside a basic block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Instr {
    pub op: Opcode,
    /// The argument; for a jump, CPython's label id of a block (its target's, or the one it
    /// had before a pass retargeted it) until offsets are resolved: where the resolution of
    /// `EXTENDED_ARG` sizes starts.
    pub arg: u32,
    /// The block a jump or handler push designates.
    pub target: Option<BlockId>,
    pub loc: Location,
    /// The exception handler active at this instruction.
    pub except: Option<BlockId>,
}

impl Instr {
    /// An instruction without target or handler.
    pub fn new(op: Opcode, arg: u32, loc: Location) -> Instr {
        Instr {
            op,
            arg,
            target: None,
            loc,
            except: None,
        }
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
    pub instrs: Vec<Instr>,
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
}

impl Block {
    fn new(label: Option<u32>) -> Block {
        Block {
            instrs: Vec::new(),
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
        }
    }
}

/// A control-flow graph: blocks in an arena, laid out as a chain from `entry` through `next`.
#[derive(Clone, Debug)]
pub(crate) struct Cfg {
    pub blocks: Vec<Block>,
    pub entry: BlockId,
}

impl Cfg {
    /// A new, empty, unlinked block without label.
    pub fn new_block(&mut self) -> BlockId {
        self.blocks.push(Block::new(None));
        self.blocks.len() - 1
    }

    /// The last instruction of block `b`.
    pub fn last(&self, b: BlockId) -> Option<&Instr> {
        self.blocks[b].instrs.last()
    }

    /// Whether control can fall from `b` into the next block (`BB_HAS_FALLTHROUGH`).
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
    /// label and after each instruction that ends a block.
    pub fn from_sequence(seq: &InstrSequence) -> Result<Cfg, CompileError> {
        let n = seq.instrs.len();
        // One label per offset is used, the last bound there, numbered as CPython's code
        // generation does (from 1; 0: none); an offset's block is found through it.
        let mut label_at_offset = vec![0u32; n];
        for (label, target) in seq.label_targets.iter().enumerate() {
            if let Some(&target) = target.as_ref().filter(|&&t| t < n) {
                label_at_offset[target] = label as u32 + 1;
            }
        }
        let mut builder = Builder {
            cfg: Cfg {
                blocks: {
                    // A block at each label at least.
                    let mut blocks = Vec::with_capacity(seq.label_targets.len() + 1);
                    blocks.push(Block::new(None));
                    blocks
                },
                entry: 0,
            },
            current: 0,
            pending_label: None,
            block_at_offset: vec![NO_BLOCK; n],
        };
        // (block, index in it, offset of the target) of each jump.
        let mut targets: Vec<(u32, u32, u32)> = Vec::new();
        // Whether the instruction just placed ends its block: only then, or at a label, can a
        // new block start.
        let mut after_terminator = false;
        for (i, instr) in seq.instrs.iter().enumerate() {
            if label_at_offset[i] != 0 {
                builder.use_label(i, label_at_offset[i]);
            }
            // A jump's argument is the label id its target's block carries.
            let (target, arg) = match (has_target(instr.op), instr.arg) {
                (true, Arg::Label(label)) => {
                    let offset = seq
                        .label_targets
                        .get(label.0 as usize)
                        .copied()
                        .flatten()
                        .filter(|&offset| offset < n)
                        .ok_or_else(|| internal(format!("{:?} to an unbound label", instr.op)))?;
                    (Some(offset), label_at_offset[offset])
                }
                (false, Arg::Int(arg)) => (None, arg),
                _ => return Err(internal(format!("bad argument for {:?}", instr.op))),
            };
            if arg >= 1 << 30 {
                return Err(internal(format!("argument of {:?} too large", instr.op)));
            }
            if matches!(instr.op, Opcode::SWAP | Opcode::COPY) && arg == 0 {
                return Err(internal(format!("{:?} 0", instr.op)));
            }
            if after_terminator {
                builder.maybe_start_new_block();
            }
            after_terminator = is_terminator(instr.op);
            let block = builder.current;
            let instrs = &mut builder.cfg.blocks[block].instrs;
            instrs.push(Instr::new(instr.op, arg, instr.loc));
            if let Some(offset) = target {
                targets.push((block as u32, instrs.len() as u32 - 1, offset as u32));
            }
        }
        let mut cfg = builder.cfg;
        for (block, index, offset) in targets {
            let target = builder.block_at_offset[offset as usize];
            if target == NO_BLOCK {
                return Err(internal("jump target without block".to_string()));
            }
            cfg.blocks[block as usize].instrs[index as usize].target = Some(target as BlockId);
        }
        Ok(cfg)
    }
}

/// No block starts at this offset (in [`Builder::block_at_offset`]).
const NO_BLOCK: u32 = u32::MAX;

/// The state of graph construction (CPython's `cfg_builder`).
struct Builder {
    cfg: Cfg,
    current: BlockId,
    /// The offset and id of a label waiting for the next instruction.
    pending_label: Option<(usize, u32)>,
    /// The block starting at each offset of the sequence, or [`NO_BLOCK`].
    block_at_offset: Vec<u32>,
}

impl Builder {
    fn use_label(&mut self, offset: usize, label: u32) {
        self.pending_label = Some((offset, label));
        self.maybe_start_new_block();
    }

    fn current_is_terminated(&mut self) -> bool {
        let block = &mut self.cfg.blocks[self.current];
        if block.instrs.last().is_some_and(|i| is_terminator(i.op)) {
            return true;
        }
        if let Some((offset, label)) = self.pending_label {
            if !block.instrs.is_empty() || block.label.is_some() {
                return true;
            }
            block.label = Some(label);
            self.block_at_offset[offset] = self.current as u32;
            self.pending_label = None;
        }
        false
    }

    fn maybe_start_new_block(&mut self) {
        if self.current_is_terminated() {
            let label = self.pending_label.take();
            let mut block = Block::new(label.map(|(_, id)| id));
            // A typical block's length: fewer regrowths while it fills.
            block.instrs.reserve(8);
            self.cfg.blocks.push(block);
            let b = self.cfg.blocks.len() - 1;
            if let Some((offset, _)) = label {
                self.block_at_offset[offset] = b as u32;
            }
            self.cfg.blocks[self.current].next = Some(b);
            self.current = b;
        }
    }
}

/// An error CPython reports as `SystemError`: code generation produced something malformed.
pub(crate) fn internal(msg: String) -> CompileError {
    CompileError::syntax(format!("internal compiler error: {msg}"), 0, 0)
}
