//! Python source to code objects identical to CPython's (issue 3: parse, symtable, codegen,
//! flowgraph, assemble). Nothing is implemented yet; the crate exists to fix the workspace layout.
