//! Iterators: sequences of augmented batches over arrays or files.
//! They pick the samples of batch `b` of epoch `e` and hand each one to the generator.

mod sequence;

pub use sequence::{Sequence, check_index};
