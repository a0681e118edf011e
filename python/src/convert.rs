//! Arrays across the boundary: numpy arrays in as `DynArray` (labels, weights, extras: a copy,
//! they are small), and augflow's buffers out as numpy arrays that own them (no copy).

use augflow::array::{DType, DynArray};
use ndarray::{Array, Dimension};
use numpy::{Element, PyArray, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::invalid;

/// A numpy array as a `DynArray` of the same dtype (a copy), or a `ValueError` naming `name`.
pub fn dyn_from_numpy(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<DynArray> {
    let a = try_typed::<bool>(obj)
        .or_else(|| try_typed::<u8>(obj))
        .or_else(|| try_typed::<u16>(obj))
        .or_else(|| try_typed::<u32>(obj))
        .or_else(|| try_typed::<u64>(obj))
        .or_else(|| try_typed::<i8>(obj))
        .or_else(|| try_typed::<i16>(obj))
        .or_else(|| try_typed::<i32>(obj))
        .or_else(|| try_typed::<i64>(obj))
        .or_else(|| try_typed::<f32>(obj))
        .or_else(|| try_typed::<f64>(obj));
    a.ok_or_else(|| {
        let dtype = obj
            .getattr("dtype")
            .map(|d| d.to_string())
            .unwrap_or_else(|_| obj.get_type().to_string());
        invalid(
            name,
            format!("an array of dtype {dtype}"),
            "a numpy array of bool, integers or floats",
        )
    })
}

fn try_typed<T: Element + augflow::array::Element>(obj: &Bound<'_, PyAny>) -> Option<DynArray> {
    let a = obj.cast::<PyArrayDyn<T>>().ok()?;
    let ro = a.try_readonly().ok()?;
    Some(DynArray::from(ro.as_array().to_owned()))
}

/// A numpy array owning `a`'s buffer (no copy).
pub fn owned_to_numpy<T: Element, D: Dimension>(py: Python<'_>, a: Array<T, D>) -> Py<PyAny> {
    PyArray::from_owned_array(py, a).into_any().unbind()
}

/// A `DynArray` as a numpy array of the same dtype, owning its buffer (no copy).
pub fn dyn_to_numpy(py: Python<'_>, a: DynArray) -> PyResult<Py<PyAny>> {
    fn go<T: Element + augflow::array::Element>(
        py: Python<'_>,
        a: DynArray,
    ) -> PyResult<Py<PyAny>> {
        let typed = a
            .into_array::<T>()
            .map_err(|e| invalid("array", e, "a known dtype"))?;
        Ok(owned_to_numpy(py, typed))
    }
    match a.dtype() {
        DType::Bool => go::<bool>(py, a),
        DType::U8 => go::<u8>(py, a),
        DType::U16 => go::<u16>(py, a),
        DType::U32 => go::<u32>(py, a),
        DType::U64 => go::<u64>(py, a),
        DType::I8 => go::<i8>(py, a),
        DType::I16 => go::<i16>(py, a),
        DType::I32 => go::<i32>(py, a),
        DType::I64 => go::<i64>(py, a),
        DType::F32 => go::<f32>(py, a),
        DType::F64 => go::<f64>(py, a),
        other => Err(invalid("array", other, "a dtype numpy knows")),
    }
}

/// The shape of a numpy array, for messages.
pub fn shape_of(obj: &Bound<'_, PyAny>) -> String {
    obj.cast::<numpy::PyUntypedArray>()
        .map(|a| format!("{:?}", a.shape()))
        .unwrap_or_else(|_| "?".into())
}
