//! Segmentation masks that move with their image: the image's geometric draw, resampled with
//! nearest sampling so class ids are never blended, with the image's fill mode and the mask's
//! own fill value. None of the photometric steps (brightness, channel shift, rescale,
//! standardization) touch a mask.

use std::mem::MaybeUninit;

use ndarray::{Array3, ArrayView3};

use crate::generator::ImageDataGenerator;
use crate::transform::{LabelMap, Pixel, TransformParams, Warp, sampling_map, warp_nearest};
use crate::{Error, Result};

/// The element types a mask can have: class ids as `u8` or `u16`, or `f32` values (soft
/// masks, distance maps). Nearest sampling copies values, so they come back unchanged.
pub trait MaskValue: Pixel + sealed::Sealed {
    /// The value `v` stands for (exact: `v` is the fill value, checked to be a value of this
    /// type).
    #[doc(hidden)]
    fn from_sample(v: f32) -> Self;
    /// Whether `v` is a value of this type (for the fill value).
    #[doc(hidden)]
    fn holds(v: f64) -> bool;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for f32 {}
}

impl MaskValue for u8 {
    fn from_sample(v: f32) -> Self {
        v as u8
    }
    fn holds(v: f64) -> bool {
        v.fract() == 0.0 && (0.0..=255.0).contains(&v)
    }
}

impl MaskValue for u16 {
    fn from_sample(v: f32) -> Self {
        v as u16
    }
    fn holds(v: f64) -> bool {
        v.fract() == 0.0 && (0.0..=65535.0).contains(&v)
    }
}

impl MaskValue for f32 {
    fn from_sample(v: f32) -> Self {
        v
    }
    fn holds(v: f64) -> bool {
        v.is_finite() && (v as f32) as f64 == v
    }
}

/// Moves an `(H, W, K)` mask (channels last, whatever the generator's data format) through
/// the geometric part of `params`, as `datagen` moves the image: the same affine map and
/// flips, the generator's geometry and fill mode, nearest sampling, and `mask_cval` where a
/// `constant` fill shows outside the mask (for example 255 as an "ignore" id).
///
/// This is what a mask needs in Keras' two-generator pattern, in one call: draw the sample's
/// parameters once, then apply them to the image and to its mask.
///
/// Errors with [`Error::InvalidParameter`] naming `mask_cval` when it is not a value of the
/// mask's type, and as [`ImageDataGenerator::apply_transform`] does for bad parameters.
///
/// ```
/// use augflow::targets::warp_mask;
/// use augflow::{FillMode, ImageDataGenerator, TransformParams};
/// use ndarray::Array3;
///
/// let datagen = ImageDataGenerator::builder().fill_mode(FillMode::Constant).build()?;
/// let mask = Array3::from_shape_fn((4, 6, 1), |(r, c, _)| (r * 6 + c) as u8 % 3);
/// let p = TransformParams { tx: 1.0, ..Default::default() }; // content moves 1 pixel left
/// let moved = warp_mask(&datagen, mask.view(), &p, 255.0)?;
/// assert_eq!(moved[[0, 0, 0]], mask[[0, 1, 0]]);
/// assert_eq!(moved[[0, 5, 0]], 255); // the fill shows on the right
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn warp_mask<M: MaskValue>(
    datagen: &ImageDataGenerator,
    mask: ArrayView3<'_, M>,
    params: &TransformParams,
    mask_cval: f64,
) -> Result<Array3<M>> {
    let mut out = Array3::uninit(mask.raw_dim());
    let dst = out.as_slice_mut().expect("a new array is contiguous");
    warp_mask_into(datagen, mask, params, mask_cval, dst)?;
    // SAFETY: on success every element was written.
    Ok(unsafe { out.assume_init() })
}

/// [`warp_mask`] into `dst`, the `(H, W, K)` output as one contiguous slice (a batch's slot),
/// every element of which it writes on success.
pub(crate) fn warp_mask_into<M: MaskValue>(
    datagen: &ImageDataGenerator,
    mask: ArrayView3<'_, M>,
    params: &TransformParams,
    mask_cval: f64,
    dst: &mut [MaybeUninit<M>],
) -> Result<()> {
    if !M::holds(mask_cval) {
        return Err(Error::invalid(
            "mask_cval",
            mask_cval,
            format!("a value of the mask's type {}", std::any::type_name::<M>()),
        ));
    }
    params.validate()?;
    let (h, w, k) = mask.dim();
    if h == 0 || w == 0 || k == 0 || dst.len() != h * w * k {
        return Err(Error::Shape {
            name: "mask",
            shape: mask.shape().to_vec(),
            expected: format!("a non-empty (H, W, K) mask of {} values", dst.len()),
        });
    }
    let geometry = Warp {
        map: sampling_map(params, h, w, datagen.geometry()),
        flip_horizontal: params.flip_horizontal,
        flip_vertical: params.flip_vertical,
    };
    let labels = LabelMap {
        h,
        w,
        k,
        fill_mode: datagen.warp_options().fill_mode,
        cval: M::from_sample(mask_cval as f32),
    };
    let src = mask.as_standard_layout();
    let src = src.as_slice().expect("standard layout is contiguous");
    warp_nearest(src, dst, &geometry, &labels);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FillMode;

    #[test]
    fn class_ids_are_never_blended() {
        let datagen = ImageDataGenerator::builder()
            .fill_mode(FillMode::Reflect)
            .build()
            .unwrap();
        let mask = Array3::from_shape_fn((9, 11, 2), |(r, c, k)| {
            ((r * 7 + c * 3 + k) % 5) as u16 * 1000
        });
        let p = TransformParams {
            theta: 33.0,
            shear: 7.0,
            zx: 0.9,
            zy: 1.1,
            tx: 1.5,
            ..Default::default()
        };
        let moved = warp_mask(&datagen, mask.view(), &p, 0.0).unwrap();
        assert!(moved.iter().all(|v| v % 1000 == 0 && *v <= 4000));
        assert_ne!(moved, mask);
    }

    #[test]
    fn flips_mirror_a_mask_exactly() {
        let datagen = ImageDataGenerator::builder().build().unwrap();
        let mask = Array3::from_shape_fn((3, 4, 1), |(r, c, _)| (r * 4 + c) as u8);
        let p = TransformParams {
            flip_horizontal: true,
            ..Default::default()
        };
        let moved = warp_mask(&datagen, mask.view(), &p, 0.0).unwrap();
        let mut expected = mask.clone();
        expected.invert_axis(ndarray::Axis(1));
        assert_eq!(moved, expected);
    }

    #[test]
    fn a_fill_value_the_mask_type_cannot_hold_is_refused() {
        let datagen = ImageDataGenerator::builder().build().unwrap();
        let mask = Array3::<u8>::zeros((2, 2, 1));
        for bad in [256.0, -1.0, 0.5, f64::NAN] {
            let err =
                warp_mask(&datagen, mask.view(), &TransformParams::default(), bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidParameter {
                        name: "mask_cval",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
        let soft = Array3::<f32>::zeros((2, 2, 1));
        assert!(warp_mask(&datagen, soft.view(), &TransformParams::default(), 0.5).is_ok());
    }
}
