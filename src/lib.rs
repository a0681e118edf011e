#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod array;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod generator;
pub mod iterators;
pub mod pipeline;
pub mod rng;
pub mod save;
pub mod transform;

pub use array::{DType, DynArray};
pub use error::{BoxError, Error, Result};
pub use generator::{
    FitOptions, FitStats, GeneratorConfig, ImageDataGenerator, ImageDataGeneratorBuilder,
    Preprocess, ShiftRange, ZoomRange,
};
pub use iterators::{Batch, NumpyArrayIterator, Sequence, Subset};
pub use pipeline::{Prefetch, UserFn, numpy_input_fn};
pub use save::{SaveFormat, SaveOptions, Saver, array_to_img, img_to_array, save_image};
pub use transform::{DataFormat, FillMode, Geometry, Interpolation, TransformParams};
