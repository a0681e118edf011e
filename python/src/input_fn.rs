//! `augflow.pipeline.numpy_input_fn`: TensorFlow's `numpy_input_fn` (spec §16) over the
//! library's [`augflow::pipeline::numpy_input_fn`], batches as numpy arrays.

use std::collections::BTreeMap;

use augflow::array::DynArray;
use augflow::pipeline::{Columns, DIRECT_INPUT_KEY, FeatureBatch, InputFn};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{dyn_from_numpy, dyn_to_numpy};
use crate::errors::to_pyerr;

/// One pass of a `numpy_input_fn`: an iterator of batches.
#[pyclass(name = "_InputFn", module = "augflow._augflow")]
pub struct PyInputFn {
    inner: InputFn,
    x_single: bool,
}

/// `x` or `y`: a numpy array, or a dict of names to numpy arrays (copied).
fn columns(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Columns> {
    match obj.cast::<PyDict>() {
        Ok(d) => {
            let mut out = BTreeMap::new();
            for (k, v) in d.iter() {
                let key: String = k.extract()?;
                let a = dyn_from_numpy(&format!("{name}['{key}']"), &v)?;
                out.insert(key, a);
            }
            Ok(Columns::Dict(out))
        }
        Err(_) => Ok(Columns::Array(dyn_from_numpy(name, obj)?)),
    }
}

/// `(batch_size, num_epochs, shuffle, queue_capacity, num_threads, seed)`.
type Settings = (usize, Option<u64>, bool, usize, usize, Option<u64>);

/// Builds one pass over `x` (and `y`): TensorFlow's checks of the data, in its order.
#[pyfunction]
#[pyo3(signature = (x, y, settings))]
pub fn input_fn(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: Option<&Bound<'_, PyAny>>,
    settings: Settings,
) -> PyResult<PyInputFn> {
    let (batch_size, num_epochs, shuffle, queue_capacity, num_threads, seed) = settings;
    let x = columns("x", x)?;
    let x_single = matches!(x, Columns::Array(_));
    let mut builder = augflow::pipeline::numpy_input_fn(x)
        .batch_size(batch_size)
        .num_epochs(num_epochs)
        .shuffle(shuffle)
        .queue_capacity(queue_capacity)
        .num_threads(num_threads);
    if let Some(y) = y {
        builder = builder.y(columns("y", y)?);
    }
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    let inner = py
        .detach(|| builder.build())
        .map_err(|e| to_pyerr(py, e, None))?;
    Ok(PyInputFn { inner, x_single })
}

fn dict<'py>(py: Python<'py>, d: BTreeMap<String, DynArray>) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (k, a) in d {
        out.set_item(k, dyn_to_numpy(py, a)?)?;
    }
    Ok(out)
}

#[pymethods]
impl PyInputFn {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next batch: `features` or `(features, target)`, as TensorFlow's `input_fn`
    /// returns them (an array for an array `x`, else a dict); `StopIteration` at the end.
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let inner = &mut self.inner;
        let batch: FeatureBatch = match py.detach(|| inner.next_batch()) {
            Ok(b) => b,
            Err(augflow::Error::EndOfInput(_)) => return Ok(None),
            Err(e) => return Err(to_pyerr(py, e, None)),
        };
        let mut features = batch.features;
        let single = self.x_single.then(|| features.remove(DIRECT_INPUT_KEY));
        let features: Py<PyAny> = match single.flatten() {
            Some(a) => dyn_to_numpy(py, a)?,
            None => dict(py, features)?.into_any().unbind(),
        };
        let Some(targets) = batch.targets else {
            return Ok(Some(features));
        };
        let targets = match targets {
            Columns::Array(a) => dyn_to_numpy(py, a)?,
            Columns::Dict(d) => dict(py, d)?.into_any().unbind(),
        };
        Ok(Some(
            PyTuple::new(py, [features, targets])?.into_any().unbind(),
        ))
    }

    /// Total number of batches of this pass (`None` when `num_epochs` is None).
    #[getter]
    fn num_batches(&self) -> Option<u64> {
        self.inner.num_batches()
    }

    /// The shuffling seed (drawn from the OS when none was given).
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed()
    }
}
