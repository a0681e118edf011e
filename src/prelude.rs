//! The types most programs need, in one import.
//!
//! ```
//! use augflow::prelude::*;
//! let datagen = ImageDataGenerator::builder().horizontal_flip(true).build()?;
//! let it = datagen.flow(ndarray::Array4::<u8>::zeros((4, 8, 8, 3))).batch_size(2).build()?;
//! let batch: Batch = it.get(0)?;
//! assert_eq!(batch.len(), 2);
//! # Ok::<(), augflow::Error>(())
//! ```

pub use crate::iterators::{Batch, BatchElement, ClassMode, ColorMode, Endless, Sequence, Subset};
pub use crate::{
    DataFormat, DynArray, Error, FillMode, Geometry, ImageDataGenerator, Kernel, Prefetch, Result,
    SaveFormat,
};
