//! A small dynamic array (dtype + shape) for dicts of mixed-dtype features, and `.npy`/`.npz` I/O.
//! Only what batching needs: gather rows, concatenate, convert to and from `ndarray`.

mod dtype;
mod dyn_array;
mod labels;
mod mapped;
mod npy;
mod npy_header;
mod npz;

pub use dtype::{DType, Element};
pub use dyn_array::DynArray;
pub(crate) use dyn_array::into_row_major_vec;
pub use mapped::MappedNpy;
pub use npy::{read_npy, write_npy};
pub use npz::{read_npz, write_npz};
