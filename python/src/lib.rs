//! `augflow._augflow`: the native part of the `augflow` Python package. The pure-Python
//! layer in `python/augflow/` gives it Keras' signatures, defaults and docstrings.

mod convert;
mod errors;
mod generator;
mod iterator;
mod preprocess;
mod source;
mod transforms;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _augflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<generator::PyGenerator>()?;
    m.add_class::<iterator::PyIter>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
