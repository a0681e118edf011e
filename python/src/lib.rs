//! `augflow._augflow`: the native part of the `augflow` Python package. The pure-Python
//! layer in `python/augflow/` gives it Keras' signatures, defaults and docstrings.

mod augment;
mod convert;
mod errors;
mod functions;
mod generator;
mod input_fn;
mod iterator;
mod preprocess;
mod source;
mod targets;
mod transforms;
mod user_fn;

use pyo3::prelude::*;

/// Sizes the thread pool that builds batches (Rayon's global pool) to `n` threads. It must
/// be called before the first batch is built: the pool is made once per process.
#[pyfunction]
fn set_num_threads(n: i64) -> PyResult<()> {
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| errors::invalid("n", n, "an integer >= 1"))?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|_| {
            let now = rayon::current_num_threads();
            pyo3::exceptions::PyRuntimeError::new_err(format!(
                "set_num_threads({n}): the thread pool already runs with {now} threads; call it before the first batch (or set RAYON_NUM_THREADS)"
            ))
        })
}

/// The number of threads that build batches.
#[pyfunction]
fn get_num_threads() -> usize {
    rayon::current_num_threads()
}

/// The native module.
#[pymodule]
fn _augflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<generator::PyGenerator>()?;
    m.add_class::<iterator::PyIter>()?;
    m.add_class::<augment::PyAugment>()?;
    m.add_function(wrap_pyfunction!(augment::check_layer, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(functions::affine_transform, m)?)?;
    m.add_function(wrap_pyfunction!(functions::channel_shift, m)?)?;
    m.add_function(wrap_pyfunction!(functions::brightness, m)?)?;
    m.add_class::<input_fn::PyInputFn>()?;
    m.add_function(wrap_pyfunction!(input_fn::input_fn, m)?)?;
    m.add_function(wrap_pyfunction!(user_fn::numpy_function, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
