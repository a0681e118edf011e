#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod array;
pub mod error;
pub mod iterators;
pub mod pipeline;

pub use error::{BoxError, Error, Result};
pub use iterators::Sequence;
