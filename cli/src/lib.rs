//! The part of the `augflow` command line that other targets reuse: the standard workload
//! that `augflow bench` and the `iterator` benchmark measure.
//!
//! The commands themselves live in the `augflow` binary of this package.

#![deny(missing_docs)]

pub mod workload;
