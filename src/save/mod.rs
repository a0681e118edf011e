//! Saving augmented samples to disk (Keras' `save_to_dir`): array ↔ image conversion,
//! Keras' white list of formats, and atomic writes under deterministic, unique file names.

mod convert;
mod format;
mod saver;
mod write;

pub use convert::{array_to_img, img_to_array};
pub use format::SaveFormat;
pub use saver::{SaveOptions, Saver};
pub use write::{save_image, write_atomic};
