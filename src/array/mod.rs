//! A small dynamic array (dtype + shape) for dicts of mixed-dtype features, and `.npy`/`.npz` I/O.
//! Only what batching needs: gather rows, concatenate, convert to and from `ndarray`.

mod dtype;
mod dyn_array;
mod labels;
mod npy;

pub use dtype::{DType, Element};
pub use dyn_array::DynArray;
pub(crate) use dyn_array::into_row_major_vec;
pub use npy::{read_npy, read_npz, write_npy, write_npz};
