//! Augmented image batches for vision training: everything Keras' `ImageDataGenerator` and
//! its iterators do, bit-for-bit reproducible with any number of threads, several times
//! faster per core than the Python peers, with errors that say what is wrong.
//!
//! ```
//! use augflow::prelude::*;
//! use ndarray::{Array1, Array4};
//!
//! let datagen = ImageDataGenerator::builder()
//!     .rotation_range(20.0)
//!     .width_shift_range(0.1)
//!     .zoom_range(0.1)
//!     .horizontal_flip(true)
//!     .rescale(1.0 / 255.0)
//!     .build()?;
//! let x = Array4::<u8>::zeros((100, 32, 32, 3)); // (N, H, W, C), held without a copy
//! let y = Array1::from_iter((0..100).map(|i| i % 10));
//! let mut train = datagen.flow(x).y(y).batch_size(32).seed(42).build()?;
//! let batch = train.get(0)?; // Batch { x: Array4<f32>, y, sample_weight, extras, index, epoch }
//! assert_eq!(batch.x.shape(), &[32, 32, 32, 3]);
//! train.on_epoch_end(); // next epoch: new order, new transforms
//! # Ok::<(), augflow::Error>(())
//! ```
//!
//! Where to go next:
//! - [`ImageDataGenerator`]: every Keras argument, validated in `build()`;
//! - [`iterators`]: `flow`, `flow_from_directory`, `flow_from_dataframe`, and the batch engine
//!   ([`iterators::BatchIterator`]) that runs any [`iterators::BatchSource`];
//! - [`pipeline`]: `numpy_input_fn`, user functions with a contract, ordered prefetch;
//! - [`doc::augflow_for_keras_users`]: a Keras program translated, argument by argument.
//!
//! The README (on the repository) has the command line, the performance tables and the
//! conformance set.
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod array;
pub mod augment;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod doc;
pub mod error;
pub mod generator;
pub mod iterators;
pub mod pipeline;
pub mod prelude;
pub mod rng;
pub mod save;
pub mod targets;
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
pub use transform::{DataFormat, FillMode, Geometry, Interpolation, Kernel, TransformParams};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
