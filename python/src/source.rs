//! The images of `flow(x)` borrowed from the caller's numpy array, without a copy: an
//! [`ImageStorage`] that shows the array's own buffer, whatever its strides, and keeps the
//! array alive. The library's array source batches them like any other images.

use augflow::iterators::{ImageStorage, Images};
use augflow::transform::Pixel;
use ndarray::{ArrayView4, Ix4, RawArrayView};
use numpy::{Element, PyArray4, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::invalid;

/// A view of an aligned `(N, d1, d2, d3)` numpy array, any strides (a slice, a transpose,
/// a memory map), and the array that owns its buffer.
pub struct NumpyImages<T> {
    /// Keeps the numpy array (and so the memory `raw` points into) alive.
    owner: Py<PyAny>,
    raw: RawArrayView<T, Ix4>,
}

// SAFETY: the buffer is only read, and it lives as long as `owner` (a `Py` may be sent
// between threads and dropped without the GIL).
unsafe impl<T: Sync> Send for NumpyImages<T> {}
// SAFETY: as above: shared reads only.
unsafe impl<T: Sync> Sync for NumpyImages<T> {}

impl<T: Pixel + Element> NumpyImages<T> {
    /// Borrows `x`, which must be a 4-D aligned array of `T`, of any strides (the Python
    /// layer copies an unaligned or byte-swapped array once, with a warning).
    pub fn borrow(x: &Bound<'_, PyAny>) -> PyResult<Images<T>> {
        let a = x
            .cast::<PyArray4<T>>()
            .map_err(|_| invalid("x", crate::convert::shape_of(x), "a 4-D numpy array"))?;
        let size = size_of::<T>() as isize;
        let aligned = (a.data() as *const T).align_offset(align_of::<T>()) == 0
            && a.strides().iter().all(|s| s % size == 0);
        // An empty array's view would start outside its buffer: it must be contiguous.
        if !aligned || (a.is_empty() && !a.is_c_contiguous()) {
            return Err(invalid(
                "x",
                "an unaligned (or empty and non-contiguous) array",
                "an aligned array (np.require(x, requirements=\"CA\"))",
            ));
        }
        Ok(Images::from_storage(NumpyImages {
            owner: x.clone().unbind(),
            raw: a.as_raw_array(),
        }))
    }
}

impl<T: Pixel> ImageStorage<T> for NumpyImages<T> {
    fn view(&self) -> ArrayView4<'_, T> {
        // SAFETY: `raw` describes the elements of the array `owner` keeps alive; they are
        // aligned (checked in `borrow`) and only read.
        unsafe { self.raw.deref_into_view() }
    }
}

impl<T> std::fmt::Debug for NumpyImages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "numpy array {:?} at {:p}",
            self.raw.shape(),
            self.owner.as_ptr()
        )
    }
}
