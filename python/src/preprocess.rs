//! `preprocessing_function` as a Python callable: Keras calls it on each augmented image
//! (a rank-3 array) and uses what it returns, which must have the same shape.

use augflow::BoxError;
use augflow::generator::Preprocess;
use augflow::transform::ImageMut;
use ndarray::ArrayViewMut3;
use numpy::{Element, PyArray3, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::ErrSlot;

/// A Python callable run on each image; its exception is kept in `errors` so that the
/// caller of `__getitem__` gets it back, traceback included.
pub struct PyPreprocess {
    pub func: Py<PyAny>,
    pub errors: ErrSlot,
}

impl Preprocess for PyPreprocess {
    fn apply(&self, image: ImageMut<'_>) -> Result<(), BoxError> {
        Python::attach(|py| {
            let result = match image {
                ImageMut::F32(x) => self.call(py, x),
                ImageMut::F64(x) => self.call(py, x),
            };
            result.map_err(|err| {
                let msg = err.to_string();
                self.errors.store(err);
                BoxError::from(msg)
            })
        })
    }
}

impl PyPreprocess {
    /// Calls the function on a copy of `x` and writes its result back into `x`.
    fn call<T: Element + Copy>(&self, py: Python<'_>, mut x: ArrayViewMut3<'_, T>) -> PyResult<()> {
        let arg = PyArray3::from_array(py, &x);
        let out = self.func.bind(py).call1((arg.clone(),))?;
        // Whatever the function returns (a list, another dtype) becomes an array of `T`.
        let np = py.import("numpy")?;
        let out = np.call_method1("asarray", (out, arg.dtype()))?;
        let out = out.cast_into::<PyArrayDyn<T>>().map_err(PyErr::from)?;
        if out.shape() != x.shape() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "preprocessing_function returned an array of shape {:?}; it must return the shape of its input, {:?}",
                out.shape(),
                x.shape()
            )));
        }
        let out = out
            .try_readonly()
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        x.assign(
            &out.as_array()
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?,
        );
        Ok(())
    }
}
