//! Keras 3's augmentation layers as pure ops: each draws its parameters from the sample's stream
//! (`draw`) and applies them (`apply`); an [`Augment`] pipeline fuses element-wise ops into one pass.
//!
//! ```
//! use augflow::augment::Augment;
//! use ndarray::Array3;
//!
//! let aug = Augment::from_json(r#"[
//!     {"class_name": "RandomBrightness", "config": {"factor": 0.2}},
//!     {"class_name": "RandomContrast", "config": {"factor": 0.3}},
//!     {"class_name": "Rescaling", "config": {"scale": 0.00392156862745098}}
//! ]"#)?;
//! let mut image = Array3::<f32>::from_elem((8, 8, 3), 100.0);
//! let params = aug.run(&mut image, 42, 0, 7)?; // seed, epoch, sample index
//! assert!(image.iter().all(|v| (0.0..=1.0).contains(v)));
//! println!("{}", serde_json::to_string(&params).unwrap()); // the draw, printable and replayable
//! # Ok::<(), augflow::Error>(())
//! ```

mod augmix;
mod config;
mod draw;
mod engine;
mod filter;
mod geometry;
mod hsv;
mod mix;
mod params;
mod pipeline;
mod pixel_run;
mod policy;
mod sample;
mod tone;
mod trivial;

pub use augmix::{AugMix, ChainStep};
pub use config::{
    AutoContrast, Equalization, Factor, Normalization, Op, RandomBrightness,
    RandomColorDegeneration, RandomColorJitter, RandomContrast, RandomErasing, RandomGaussianBlur,
    RandomGrayscale, RandomHue, RandomInvert, RandomPosterization, RandomSaturation,
    RandomSharpness, Rescaling, Scalars, Size, Solarization,
};
pub use geometry::{
    BoxFormat, Boxes, CenterCrop, ElasticNoise, Fill, FlipMode, Homography, Kernel, Keypoints,
    RandomCrop, RandomElasticTransform, RandomFlip, RandomPerspective, RandomResizedCrop,
    RandomRotation, RandomShear, RandomTranslation, RandomZoom, Resizing, resample_passes,
};
pub use hsv::{hsv_to_rgb, rgb_to_hsv};
pub use mix::{CutMix, CutMixParams, MixUp, MixUpParams};
pub use params::{ErasingFill, Params};
pub use pipeline::Augment;
pub use policy::RandAugment;
pub use sample::Sample;
pub(crate) use sample::Transformed;
pub use trivial::TrivialAugmentWide;
