//! Targets that move with their image: bounding boxes, keypoints and masks, through the same
//! draw as the image (one [`PointMap`] per sample for points, the image's warp for masks).
//!
//! Every coordinate is in **pixel corners**: pixel `(row r, column c)` covers
//! `[c, c + 1) × [r, r + 1)`, an image of width `W` spans `x ∈ [0, W]`, and the centre of
//! pixel `c` is `x = c + 0.5`. Boxes in normalised formats (`yolo`, `albumentations`) are
//! fractions of that span. (albumentations writes keypoints as pixel-centre indices: add 0.5
//! to bring them here.)

mod batch_boxes;
mod boxes;
mod keypoints;
mod mask_array;
mod masks;
mod per_sample;
mod points;

pub use batch_boxes::BatchBoxes;
pub use boxes::{BoxFormat, BoxOptions, check_boxes, transform_boxes};
pub use keypoints::{
    BatchKeypoints, MovedPoints, OutsidePoints, check_keypoints, transform_keypoints,
};
pub(crate) use mask_array::MaskArray;
pub use mask_array::{MaskLayout, SampleMask};
pub(crate) use masks::warp_mask_into;
pub use masks::{MaskValue, warp_mask};
pub(crate) use per_sample::PerSample;
pub use points::PointMap;
