//! Iterators: sequences of augmented batches over arrays or files.
//! They pick the samples of batch `b` of epoch `e` and hand each one to the generator.

mod batch;
mod dataframe;
mod decode;
mod directory;
mod element;
mod files;
mod numpy;
mod sequence;

pub use batch::Batch;
pub use dataframe::{DataFrameBuilder, DataFrameIterator};
pub use decode::{
    ColorMode, Crop, LoadOptions, ResizeFilter, WHITE_LIST_FORMATS, is_whitelisted, load_img,
};
pub use directory::{DirectoryBuilder, DirectoryIterator, class_folders};
pub use element::BatchElement;
pub use files::ClassMode;
pub use numpy::{FlowBuilder, NumpyArrayIterator, Subset, class_names};
pub use sequence::{Endless, Sequence, check_index};

// Used by `conformance` only (a feature, off by default).
#[cfg_attr(not(feature = "conformance"), allow(unused_imports))]
pub(crate) use numpy::values_f64;
