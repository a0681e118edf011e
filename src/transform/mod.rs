//! Pure image transforms, no randomness: the affine matrix, the warp kernel with scipy's
//! fill modes, flips, channel shift and brightness.

mod affine;
mod fill;
mod params;
mod photometric;
mod pixel;
mod warp;

pub use affine::{Affine, Geometry, Kernel, SamplingMap, sampling_map};
pub use fill::{FillMode, Interpolation};
pub use params::TransformParams;
pub use photometric::{apply_brightness, apply_channel_shift};
pub use pixel::{DataFormat, ImageMut, OutPixel, Pixel, WarpOut};
pub use warp::{Isa, Warp, WarpOptions, kernel_build, set_kernel_build, warp, warp_into};
pub(crate) use warp::{LabelMap, warp_nearest};

pub(crate) use photometric::{
    brightness_keras_slice, brightness_plain_slice, channel_fn, channel_shift_slice,
};
pub(crate) use pixel::Layout;
pub(crate) use warp::{image_dims, warp_slice, warp_slice_uninit};
