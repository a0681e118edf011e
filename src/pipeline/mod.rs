//! Pipelines over batches: `numpy_input_fn` over named features, user array functions with an
//! output contract (`tf.numpy_function`), and ordered bounded prefetch for any `Sequence`.

mod input_fn;
mod prefetch;
mod user_fn;

pub use input_fn::{
    Columns, DIRECT_INPUT_KEY, FeatureBatch, InputFn, InputFnBuilder, numpy_input_fn,
};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::{Error, Result};

pub use prefetch::{Prefetch, PrefetchEpoch};
pub use user_fn::{MapFn, MapSequence, OutputSpec, UserFn, UserFnBody};

/// Runs user code `f`, turning a panic in it into [`Error::UserFunction`] for `what()`
/// (`"panicked: {message}"`), so no user panic unwinds through a pipeline.
pub(crate) fn catch_panic<T>(
    what: impl FnOnce() -> String,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(Error::UserFunction {
            what: what(),
            message: format!("panicked: {}", panic_message(&*payload)),
        })
    })
}

/// The text of a panic payload (`&str` or `String`; anything else is described as such).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
