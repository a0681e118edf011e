//! Pipelines over batches: `numpy_input_fn` over named features, user array functions with an
//! output contract (`tf.numpy_function`), and ordered bounded prefetch for any `Sequence`.

mod input_fn;
mod prefetch;
mod user_fn;

pub use input_fn::{
    Columns, DIRECT_INPUT_KEY, FeatureBatch, InputFn, InputFnBuilder, numpy_input_fn,
};
pub use prefetch::{Prefetch, PrefetchEpoch};
pub use user_fn::{MapFn, MapSequence, OutputSpec, UserFn, UserFnBody};

pub(crate) use crate::error::catch_panic;
