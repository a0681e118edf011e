//! The part of the `augflow` command line that other targets reuse: the standard workload
//! that `augflow bench` and the `iterator` benchmark measure, the file workload of
//! `augflow bench --files`, and the memory figures the
//! memory tests read.
//!
//! The commands themselves live in the `augflow` binary of this package.

#![deny(missing_docs)]

pub mod files_workload;
pub mod memory;
pub mod recipe;
pub mod workload;
