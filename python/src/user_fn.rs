//! `augflow.pipeline.numpy_function`'s native half: a Python callable run under the output
//! contract of augflow's `UserFn` (spec §17), so that Python and Rust users get the same
//! checks and the same messages.

use augflow::BoxError;
use augflow::array::{DType, DynArray};
use augflow::pipeline::UserFn;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::{dyn_from_numpy, dyn_to_numpy};
use crate::errors::{ErrSlot, to_pyerr};

/// Calls `outputs()` once, under `UserFn`'s contract named `name`, and returns its arrays.
///
/// `outputs` takes no argument and returns a list of numpy arrays: the Python layer binds the
/// user's function to its inputs and turns what it returns into that list, as TensorFlow
/// does. Each array is copied once into augflow's memory (as TensorFlow copies it into a
/// tensor) and handed back as a numpy array that owns that copy. `tout` holds one NumPy
/// dtype name per declared output.
///
/// Errors: the user's own exception, traceback included; `ValueError` with the contract's
/// message when the count or a dtype differs from `tout`.
#[pyfunction]
pub fn numpy_function(
    py: Python<'_>,
    outputs: Py<PyAny>,
    tout: Vec<String>,
    stateful: bool,
    name: String,
) -> PyResult<Vec<Py<PyAny>>> {
    let declared = tout
        .iter()
        .map(|t| t.parse::<DType>())
        .collect::<augflow::Result<Vec<_>>>()
        .map_err(|e| to_pyerr(py, e, None))?;
    let errors = ErrSlot::default();
    let body = {
        let (errors, name, declared) = (errors.clone(), name.clone(), declared.clone());
        move |_: &[DynArray]| -> Result<Vec<DynArray>, BoxError> {
            Python::attach(|py| {
                arrays_returned(py, &outputs, &name, &declared).map_err(|err| {
                    let msg = err.to_string();
                    errors.store(err);
                    BoxError::from(msg)
                })
            })
        }
    };
    let contract = UserFn::new(name, declared, body).stateful(stateful);
    let arrays = contract
        .call(&[])
        .map_err(|e| to_pyerr(py, e, Some(&errors)))?;
    arrays.into_iter().map(|a| dyn_to_numpy(py, a)).collect()
}

/// Calls `outputs()` and copies each array it returns into a `DynArray`. A dtype augflow's
/// arrays cannot hold (complex, strings, float16, ...) is a `ValueError` in the contract's
/// wording when a dtype was declared at that position.
fn arrays_returned(
    py: Python<'_>,
    outputs: &Py<PyAny>,
    name: &str,
    declared: &[DType],
) -> PyResult<Vec<DynArray>> {
    let returned = outputs.bind(py).call0()?;
    let list = returned.cast::<PyList>().map_err(PyErr::from)?;
    let mut arrays = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        match (dyn_from_numpy(name, &value), declared.get(i)) {
            (Ok(a), _) => arrays.push(a),
            (Err(_), Some(expected)) => {
                let dtype = value.getattr("dtype")?.getattr("name")?.to_string();
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "{i}-th value returned by {name} is {dtype}, but expects {expected} \
                     (augflow's arrays hold bool, integers, float32 and float64)"
                )));
            }
            // More values than declared: the contract rejects their count before it looks
            // at any dtype, so this stand-in is never inspected.
            (Err(_), None) => arrays.push(DynArray::from(Vec::<bool>::new())),
        }
    }
    Ok(arrays)
}
