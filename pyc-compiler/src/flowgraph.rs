//! The control-flow graph passes of CPython 3.12 (`Python/flowgraph.c`): basic blocks, jump
//! threading, dead code and NOP removal, constant folding of tuples and returns,
//! uninitialized-local analysis, line number propagation and stack depth.
