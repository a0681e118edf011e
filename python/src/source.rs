//! The images of `flow(x)` borrowed from the caller's numpy array, without a copy: a
//! [`BatchSource`] that shows row `i` of the array's own buffer and keeps the array alive.

use std::sync::Arc;

use augflow::array::DynArray;
use augflow::iterators::{BatchSource, Labels};
use augflow::transform::Pixel;
use augflow::{DataFormat, Result};
use ndarray::{ArrayView3, ArrayView4, Axis, Ix4, RawArrayView};
use numpy::{Element, PyArray4, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::invalid;

/// A view of an aligned `(N, d1, d2, d3)` numpy array, any strides (a slice, a transpose,
/// a memory map), and the array that owns its buffer.
struct Borrowed<T> {
    /// Keeps the numpy array (and so the memory `raw` points into) alive.
    _owner: Py<PyAny>,
    raw: RawArrayView<T, Ix4>,
}

// SAFETY: the buffer is only read, and it lives as long as `_owner` (a `Py` may be sent
// between threads and dropped without the GIL).
unsafe impl<T: Sync> Send for Borrowed<T> {}
// SAFETY: as above: shared reads only.
unsafe impl<T: Sync> Sync for Borrowed<T> {}

impl<T> Borrowed<T> {
    /// The images, in place.
    fn view(&self) -> ArrayView4<'_, T> {
        // SAFETY: `raw` describes the elements of the array `_owner` keeps alive; they are
        // aligned (checked in `borrow`) and only read.
        unsafe { self.raw.deref_into_view() }
    }

    fn shape(&self) -> [usize; 4] {
        let d = self.raw.dim();
        [d.0, d.1, d.2, d.3]
    }
}

/// `flow`'s samples: the images of the caller's array (borrowed), and the labels, weights and
/// extra arrays that travel with them (copied: they are small).
#[derive(Clone)]
pub struct NumpySource<T> {
    x: Arc<Borrowed<T>>,
    pub y: Option<DynArray>,
    pub sample_weight: Option<DynArray>,
    pub extras: Vec<DynArray>,
}

impl<T: Pixel + Element> NumpySource<T> {
    /// Borrows `x`, which must be a 4-D aligned array of `T`, of any strides (the Python
    /// layer copies an unaligned or byte-swapped array once, with a warning).
    pub fn borrow(x: &Bound<'_, PyAny>) -> PyResult<Self> {
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
        Ok(NumpySource {
            x: Arc::new(Borrowed {
                _owner: x.clone().unbind(),
                raw: a.as_raw_array(),
            }),
            y: None,
            sample_weight: None,
            extras: Vec::new(),
        })
    }
}

impl<T: Pixel> std::fmt::Debug for NumpySource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NumpySource{:?}", self.x.shape())
    }
}

impl<T: Pixel> BatchSource for NumpySource<T> {
    type Pixel = T;
    type Scratch = ();

    fn num_samples(&self) -> usize {
        self.x.shape()[0]
    }

    fn image_shape(&self, _: DataFormat) -> [usize; 3] {
        let [_, a, b, c] = self.x.shape();
        [a, b, c]
    }

    fn new_scratch(&self) {}

    fn with_image<R>(
        &self,
        i: usize,
        _: DataFormat,
        _: &mut (),
        f: impl FnOnce(ArrayView3<'_, T>) -> Result<R>,
    ) -> Result<R> {
        f(self.x.view().index_axis_move(Axis(0), i))
    }

    /// The shapes and types of the arrays, as the library's array source (a state saved over
    /// `flow` of an array is not restored over an array of another shape or type).
    fn fingerprint(&self) -> String {
        let describe = |a: &DynArray| (a.dtype(), a.shape().to_vec());
        let extras: Vec<_> = self.extras.iter().map(describe).collect();
        format!(
            "x {:?} of {}, y {:?}, sample_weight {:?}, extras {extras:?}",
            self.x.shape(),
            std::any::type_name::<T>(),
            self.y.as_ref().map(describe),
            self.sample_weight.as_ref().map(describe),
        )
    }

    fn labels(&self, index: &[usize]) -> Result<Labels> {
        let pick = |a: &DynArray| a.select(index);
        Ok(Labels {
            y: self.y.as_ref().map(pick).transpose()?,
            y_is_x: false,
            sample_weight: self.sample_weight.as_ref().map(pick).transpose()?,
            extras: self.extras.iter().map(pick).collect::<Result<_>>()?,
        })
    }
}
