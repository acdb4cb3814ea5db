//! The virtual machine that runs CPython bytecode (issue 5). Nothing is implemented yet; the crate
//! exists to fix the workspace layout.
