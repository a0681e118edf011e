#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod array;
pub mod error;
pub mod iterators;
pub mod pipeline;

pub use array::{DType, DynArray};
pub use error::{BoxError, Error, Result};
pub use iterators::Sequence;
pub use pipeline::{Prefetch, UserFn, numpy_input_fn};
