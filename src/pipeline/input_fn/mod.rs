//! `numpy_input_fn` (spec §16): batches of named feature arrays and targets, over a fixed
//! number of epochs or forever, in row order or shuffled by a seed.

mod builder;

pub use builder::{
    Columns, DIRECT_INPUT_KEY, FeatureBatch, InputFn, InputFnBuilder, numpy_input_fn,
};
