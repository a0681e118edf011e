//! Keras 3's geometric layers (and torchvision's `RandomResizedCrop`) as ops of an
//! [`Augment`](super::Augment) pipeline.
//!
//! Each op contributes a [`Homography`] from its output pixel to the point of its input it
//! samples; consecutive geometric ops multiply their matrices and the image is resampled
//! **once**, at the chain's output size, with the kernel and border the chain asks for
//! (see [`Augment::transform`](super::Augment::transform)). Masks take the same map with
//! nearest sampling; boxes follow each op's own Keras rule, op by op.
//!
//! ```
//! use augflow::augment::{Augment, Sample, resample_passes};
//! use ndarray::Array3;
//! let aug = Augment::from_json(r#"[
//!     {"class_name": "RandomResizedCrop", "config": {"size": [16, 16]}},
//!     {"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
//!     {"class_name": "RandomRotation", "config": {"factor": 0.05, "fill_mode": "constant"}}]"#)?;
//! let image = Array3::from_shape_fn((40, 30, 3), |(y, x, c)| (y + x + c) as f32);
//! let passes = resample_passes();
//! let (out, params) = aug.run_sample(Sample::new(image), 7, 0, 1)?;
//! assert_eq!(resample_passes() - passes, 1); // three geometric ops, one pass
//! assert_eq!(out.image.dim(), (16, 16, 3));
//! assert_eq!(params.len(), 3);
//! # Ok::<(), augflow::Error>(())
//! ```

mod boxes;
mod chain;
mod draw;
mod elastic;
mod homography;
mod layers;
mod points;
mod resample;
mod separable;
mod steps;

pub use boxes::{BoxFormat, Boxes};
pub(crate) use chain::fuse;
pub(crate) use elastic::Displacement;
pub use elastic::{ElasticNoise, RandomElasticTransform};
pub use homography::Homography;
pub use layers::{
    CenterCrop, FlipMode, RandomCrop, RandomFlip, RandomPerspective, RandomResizedCrop,
    RandomRotation, RandomShear, RandomTranslation, RandomZoom, Resizing,
};
pub use points::Keypoints;
pub(crate) use resample::{Border, Resample};
pub use resample::{Fill, Kernel, resample_passes};
pub(crate) use steps::Step;
