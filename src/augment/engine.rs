//! `Op::apply`: element-wise ops become [`PixelOp`]s run together in one pass over the pixels;
//! reductions (contrast, auto-contrast, equalization) and filters flush the pending pass first.

use ndarray::ArrayViewMut3;

use super::config::Op;
use super::hsv::{hsv_to_rgb, rgb_to_hsv};
use super::params::Params;
use super::{filter, tone};
use crate::{Error, Result};

/// `(x - lo) / (hi - lo) · 255`, identity for `(0, 255)` (Keras' value_range map, float32).
pub(crate) fn to255(x: f32, [lo, hi]: [f32; 2]) -> f32 {
    if lo == 0.0 && hi == 255.0 {
        x
    } else {
        (x - lo) / (hi - lo) * 255.0
    }
}

/// The inverse map `v / 255 · (hi - lo) + lo`.
pub(crate) fn from255(v: f32, [lo, hi]: [f32; 2]) -> f32 {
    if lo == 0.0 && hi == 255.0 {
        v
    } else {
        v / 255.0 * (hi - lo) + lo
    }
}

pub(crate) fn range32(vr: [f64; 2]) -> [f32; 2] {
    [vr[0] as f32, vr[1] as f32]
}

/// `x` limited to `[lo, hi]`: `f32::clamp`'s value (NaN stays NaN) without its check that
/// `lo <= hi`, which keeps loops over many pixels in vector lanes (the ranges are checked
/// when the op is configured).
#[inline(always)]
pub(crate) fn clip(x: f32, [lo, hi]: [f32; 2]) -> f32 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// Keras' luma weights (they sum to 0.9999).
pub(crate) fn gray(px: &[f32]) -> f32 {
    0.2989 * px[0] + 0.5870 * px[1] + 0.1140 * px[2]
}

/// One element-wise step on one pixel's channels.
#[derive(Debug, Clone)]
pub(crate) enum PixelOp {
    Brightness {
        delta: f32,
        vr: [f32; 2],
    },
    Contrast {
        c: f32,
        means: Vec<f32>,
        vr: [f32; 2],
    },
    Saturation {
        k: f32,
        vr: [f32; 2],
    },
    Hue {
        dh: f32,
        vr: [f32; 2],
    },
    Gray,
    Degenerate {
        f: f32,
        vr: [f32; 2],
    },
    Invert {
        hi: f32,
    },
    Posterize {
        shift: u8,
        vr: [f32; 2],
    },
    Solarize {
        add: f32,
        thr: f32,
        vr: [f32; 2],
    },
    Stretch {
        low: Vec<f32>,
        scale: Vec<f32>,
        vr: [f32; 2],
    },
    Lut(tone::Luts),
    Affine {
        scale: Vec<f32>,
        offset: f32,
    },
    /// `(x - mean) · inv_std` (Keras divides by `std`: within one ulp, and a division costs
    /// as much as the rest of the recipe's colour pass), or `mean + x · std` when inverted.
    Normalize {
        mean: Vec<f32>,
        std: Vec<f32>,
        inv_std: Vec<f32>,
        invert: bool,
    },
}

impl PixelOp {
    pub(crate) fn apply(&self, px: &mut [f32]) {
        match self {
            PixelOp::Brightness { delta, vr } => {
                px.iter_mut().for_each(|x| *x = clip(*x + delta, *vr))
            }
            PixelOp::Contrast { c, means, vr } => {
                for (x, m) in px.iter_mut().zip(means) {
                    *x = clip((*x - m) * c + m, *vr);
                }
            }
            PixelOp::Saturation { k, vr } => {
                let [h, s, v] = rgb_to_hsv([px[0], px[1], px[2]]);
                px[..3].copy_from_slice(&hsv_to_rgb([h, clip(s * k, *vr), v]));
            }
            PixelOp::Hue { dh, vr } => {
                let u = [px[0], px[1], px[2]].map(|x| {
                    if vr == &[0.0, 1.0] {
                        x
                    } else {
                        (x - vr[0]) / (vr[1] - vr[0])
                    }
                });
                let [h, s, v] = rgb_to_hsv(u);
                let mut h = h + dh;
                if h > 1.0 {
                    h -= 1.0;
                } else if h < 0.0 {
                    h += 1.0;
                }
                let rgb =
                    hsv_to_rgb([h, s, v]).map(|x| x.clamp(0.0, 1.0) * (vr[1] - vr[0]) + vr[0]);
                px[..3].copy_from_slice(&rgb);
            }
            PixelOp::Gray => {
                let g = gray(px);
                px[..3].fill(g);
            }
            PixelOp::Degenerate { f, vr } => {
                let g = gray(px);
                px[..3]
                    .iter_mut()
                    .for_each(|x| *x = clip(*x + f * (g - *x), *vr));
            }
            PixelOp::Invert { hi } => px.iter_mut().for_each(|x| *x = hi - *x),
            PixelOp::Posterize { shift, vr } => px.iter_mut().for_each(|x| {
                let v = to255(*x, *vr) as u8; // truncation, saturating outside 0..255
                let p = v
                    .checked_shr(u32::from(*shift))
                    .unwrap_or(0)
                    .checked_shl(u32::from(*shift))
                    .unwrap_or(0);
                *x = from255(f32::from(p), *vr);
            }),
            PixelOp::Solarize { add, thr, vr } => px.iter_mut().for_each(|x| {
                let r = (to255(*x, *vr) + add).clamp(0.0, 255.0);
                *x = from255(if r < *thr { r } else { 255.0 - r }, *vr);
            }),
            PixelOp::Stretch { low, scale, vr } => {
                for ((x, lo), s) in px.iter_mut().zip(low).zip(scale) {
                    let out = (to255(*x, *vr) * s + (-lo * s)).clamp(0.0, 255.0);
                    *x = if out.is_nan() { *x } else { from255(out, *vr) };
                }
            }
            PixelOp::Lut(luts) => luts.apply(px),
            PixelOp::Affine { scale, offset } => px
                .iter_mut()
                .zip(scale)
                .for_each(|(x, s)| *x = *x * s + offset),
            PixelOp::Normalize {
                mean,
                std,
                inv_std,
                invert,
            } => {
                let scale = if *invert { std } else { inv_std };
                for ((x, m), s) in px.iter_mut().zip(mean).zip(scale) {
                    *x = if *invert { m + *x * s } else { (*x - m) * s };
                }
            }
        }
    }
}

/// Runs the pending element-wise ops in one pass and clears them.
pub(crate) fn flush(pending: &mut Vec<PixelOp>, pixels: &mut [f32], channels: usize) {
    super::pixel_run::run_ops(pending, pixels, channels);
    pending.clear();
}

fn mismatch(op: &Op, params: &Params) -> Error {
    Error::InvalidParameter {
        name: "params",
        value: format!("{params:?}"),
        expected: format!("the parameters of {op:?}"),
    }
}

fn need_rgb(op: &Op, channels: usize) -> Result<()> {
    if channels == 3 {
        Ok(())
    } else {
        Err(Error::Shape {
            name: "image",
            shape: vec![channels],
            expected: format!("3 channels (RGB) for {op:?}"),
        })
    }
}

/// Adds one op's work for an image of `shape`: element-wise ops join `pending`; the others
/// flush `pending` and run on `pixels` (row-major `(H, W, C)`).
pub(crate) fn stage(
    op: &Op,
    params: &Params,
    pixels: &mut [f32],
    shape: [usize; 3],
    pending: &mut Vec<PixelOp>,
) -> Result<()> {
    let c = shape[2];
    match (op, params) {
        (Op::RandomContrast(o), Params::RandomContrast { contrast_factor }) => {
            flush(pending, pixels, c);
            pending.push(PixelOp::Contrast {
                c: *contrast_factor,
                means: tone::means(pixels, c),
                vr: range32(o.value_range),
            });
        }
        (
            Op::RandomColorJitter(o),
            Params::RandomColorJitter {
                random_brightness,
                random_contrast,
                random_saturation,
                random_hue,
            },
        ) => {
            for part in o.parts() {
                let p = match &part {
                    Op::RandomBrightness(_) => {
                        random_brightness.map(|rgb_delta| Params::RandomBrightness { rgb_delta })
                    }
                    Op::RandomContrast(_) => random_contrast
                        .map(|contrast_factor| Params::RandomContrast { contrast_factor }),
                    Op::RandomSaturation(_) => {
                        random_saturation.map(|factor| Params::RandomSaturation { factor })
                    }
                    _ => random_hue.map(|factor| Params::RandomHue { factor }),
                };
                stage(
                    &part,
                    &p.ok_or_else(|| mismatch(op, params))?,
                    pixels,
                    shape,
                    pending,
                )?;
            }
        }
        (Op::AutoContrast(o), Params::AutoContrast) => {
            flush(pending, pixels, c);
            pending.push(tone::stretch(pixels, c, range32(o.value_range)));
        }
        (Op::Equalization(o), Params::Equalization) => {
            flush(pending, pixels, c);
            pending.push(PixelOp::Lut(tone::Luts::new(
                pixels,
                c,
                o.bins,
                range32(o.value_range),
            )));
        }
        (Op::RandomSharpness(o), Params::RandomSharpness { factor }) => {
            flush(pending, pixels, c);
            filter::sharpen(pixels, shape, *factor, range32(o.value_range));
        }
        (
            Op::RandomGaussianBlur(o),
            Params::RandomGaussianBlur {
                should_apply_blur,
                blur_factor,
            },
        ) => {
            flush(pending, pixels, c);
            if blur_factor.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                return Err(Error::InvalidParameter {
                    name: "blur_factor",
                    value: format!("{blur_factor:?}"),
                    expected: "two finite sigmas > 0".into(),
                });
            }
            if *should_apply_blur {
                filter::gaussian_blur(pixels, shape, o.kernel_size.pair(), *blur_factor);
            }
            let vr = range32(o.value_range);
            pixels.iter_mut().for_each(|x| *x = clip(*x, vr));
        }
        (
            Op::RandomErasing(o),
            Params::RandomErasing {
                apply_erasing,
                rows,
                cols,
                fill_value,
            },
        ) => {
            flush(pending, pixels, c);
            if *apply_erasing {
                filter::erase(
                    pixels,
                    shape,
                    *rows,
                    *cols,
                    fill_value,
                    range32(o.value_range),
                )?;
            }
        }
        _ => pending.extend(pointwise(op, params, c)?),
    }
    Ok(())
}

/// Whether `pointwise` takes the op: its result at a pixel depends on that pixel only.
pub(crate) fn is_pointwise(op: &Op) -> bool {
    matches!(
        op,
        Op::RandomBrightness(_)
            | Op::RandomSaturation(_)
            | Op::RandomHue(_)
            | Op::RandomGrayscale(_)
            | Op::RandomColorDegeneration(_)
            | Op::RandomInvert(_)
            | Op::RandomPosterization(_)
            | Op::Solarization(_)
            | Op::Rescaling(_)
            | Op::Normalization(_)
    )
}

/// The element-wise step of an element-wise op (`None`: a flag says do nothing); an error
/// for other ops or parameters of another op.
pub(crate) fn pointwise(op: &Op, params: &Params, c: usize) -> Result<Option<PixelOp>> {
    let px = match (op, params) {
        (Op::RandomBrightness(o), Params::RandomBrightness { rgb_delta }) => PixelOp::Brightness {
            delta: *rgb_delta,
            vr: range32(o.value_range),
        },
        (Op::RandomSaturation(o), Params::RandomSaturation { factor }) => {
            need_rgb(op, c)?;
            PixelOp::Saturation {
                k: *factor,
                vr: range32(o.value_range),
            }
        }
        (Op::RandomHue(o), Params::RandomHue { factor }) => {
            need_rgb(op, c)?;
            PixelOp::Hue {
                dh: *factor,
                vr: range32(o.value_range),
            }
        }
        (Op::RandomGrayscale(_), Params::RandomGrayscale { should_apply }) => {
            need_rgb(op, c)?;
            if !should_apply {
                return Ok(None);
            }
            PixelOp::Gray
        }
        (Op::RandomColorDegeneration(o), Params::RandomColorDegeneration { factor }) => {
            need_rgb(op, c)?;
            PixelOp::Degenerate {
                f: *factor,
                vr: range32(o.value_range),
            }
        }
        (Op::RandomInvert(o), Params::RandomInvert { apply_inversion }) => {
            if !apply_inversion {
                return Ok(None);
            }
            PixelOp::Invert {
                hi: o.value_range[1] as f32,
            }
        }
        (Op::RandomPosterization(o), Params::RandomPosterization { shift_factor }) => {
            PixelOp::Posterize {
                shift: *shift_factor,
                vr: range32(o.value_range),
            }
        }
        (
            Op::Solarization(o),
            Params::Solarization {
                additions,
                thresholds,
            },
        ) => PixelOp::Solarize {
            add: *additions,
            thr: *thresholds,
            vr: range32(o.value_range),
        },
        (Op::Rescaling(o), Params::Rescaling) => {
            let scale = o
                .scale
                .per_channel(c)
                .ok_or_else(|| channels_error("scale", c))?;
            PixelOp::Affine {
                scale: scale.iter().map(|s| *s as f32).collect(),
                offset: o.offset as f32,
            }
        }
        (Op::Normalization(o), Params::Normalization) => {
            let mean = o
                .mean
                .per_channel(c)
                .ok_or_else(|| channels_error("mean", c))?;
            let var = o
                .variance
                .per_channel(c)
                .ok_or_else(|| channels_error("variance", c))?;
            let std: Vec<f32> = var.iter().map(|v| (*v as f32).sqrt().max(1e-7)).collect();
            PixelOp::Normalize {
                mean: mean.iter().map(|m| *m as f32).collect(),
                inv_std: std.iter().map(|s| 1.0 / s).collect(),
                std,
                invert: o.invert,
            }
        }
        _ => return Err(mismatch(op, params)),
    };
    Ok(Some(px))
}

fn channels_error(name: &'static str, channels: usize) -> Error {
    Error::InvalidParameter {
        name,
        value: "a list of another length".into(),
        expected: format!("one value or {channels} values (one per channel of the image)"),
    }
}

/// Runs `f` on the image's pixels as one row-major slice (copying when the view is not in
/// standard layout).
pub(crate) fn with_pixels(
    mut image: ArrayViewMut3<'_, f32>,
    f: impl FnOnce(&mut [f32], [usize; 3]) -> Result<()>,
) -> Result<()> {
    let (h, w, c) = image.dim();
    if let Some(slice) = image.as_slice_mut() {
        return f(slice, [h, w, c]);
    }
    let mut owned = image.to_owned();
    let slice = owned.as_slice_mut().ok_or_else(|| Error::Shape {
        name: "image",
        shape: vec![h, w, c],
        expected: "an array ndarray can lay out in standard order".into(),
    })?;
    f(slice, [h, w, c])?;
    image.assign(&owned);
    Ok(())
}

impl Op {
    /// Applies drawn parameters to one `(H, W, C)` float32 image in place. Pure: the output
    /// depends only on `params` and the image.
    ///
    /// ```
    /// use augflow::augment::{Op, Params, RandomBrightness};
    /// use ndarray::array;
    /// let op = Op::RandomBrightness(RandomBrightness { factor: 0.5.into(), value_range: [0.0, 255.0] });
    /// let mut image = array![[[10.0f32, 250.0]]];
    /// op.apply(&Params::RandomBrightness { rgb_delta: 20.0 }, image.view_mut())?;
    /// assert_eq!(image, array![[[30.0f32, 255.0]]]); // clipped to value_range
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn apply(&self, params: &Params, image: ArrayViewMut3<'_, f32>) -> Result<()> {
        self.validate()?;
        if self.needs_transform() {
            let aug = super::Augment::new().with(self.clone())?;
            return aug.apply(std::slice::from_ref(params), image);
        }
        with_pixels(image, |pixels, shape| {
            let mut pending = Vec::new();
            stage(self, params, pixels, shape, &mut pending)?;
            flush(&mut pending, pixels, shape[2]);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::{
        ErasingFill, Normalization, RandomErasing, RandomGaussianBlur, RandomGrayscale,
        RandomPosterization, Rescaling, Scalars, Size, Solarization,
    };
    use ndarray::{Array3, array};

    #[test]
    fn rescaling_takes_one_scale_per_channel() {
        let op = Op::Rescaling(Rescaling {
            scale: Scalars::PerChannel(vec![0.5, 1.0, 2.0]),
            offset: 0.25,
        });
        let mut img = array![[[10.0f32, 10.0, 10.0]]];
        op.apply(&Params::Rescaling, img.view_mut()).unwrap();
        assert_eq!(img, array![[[5.25f32, 10.25, 20.25]]]);
        let mut two = Array3::<f32>::zeros((1, 1, 2));
        let err = op.apply(&Params::Rescaling, two.view_mut()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "scale", .. }),
            "{err}"
        );
    }

    #[test]
    fn normalization_then_its_inverse_is_the_identity() {
        let norm = |invert| {
            Op::Normalization(Normalization {
                axis: serde_json::json!(-1),
                mean: Scalars::PerChannel(vec![120.0, 110.0, 100.0]),
                variance: Scalars::PerChannel(vec![3600.0, 2500.0, 1600.0]),
                invert,
            })
        };
        let mut img = array![[[180.0f32, 110.0, 60.0]]];
        norm(false)
            .apply(&Params::Normalization, img.view_mut())
            .unwrap();
        assert_eq!(img, array![[[1.0f32, 0.0, -1.0]]]);
        norm(true)
            .apply(&Params::Normalization, img.view_mut())
            .unwrap();
        assert_eq!(img, array![[[180.0f32, 110.0, 60.0]]]);
    }

    #[test]
    fn solarization_inverts_from_the_threshold_up() {
        let op = Op::Solarization(Solarization {
            addition_factor: 0.0.into(),
            threshold_factor: 0.5.into(),
            value_range: [0.0, 255.0],
        });
        let mut img = array![[[100.0f32, 200.0]]];
        op.apply(
            &Params::Solarization {
                additions: 0.0,
                thresholds: 128.0,
            },
            img.view_mut(),
        )
        .unwrap();
        assert_eq!(img, array![[[100.0f32, 55.0]]]);
    }

    #[test]
    fn posterization_drops_low_bits_and_a_shift_of_8_gives_zero() {
        let op = Op::RandomPosterization(RandomPosterization {
            factor: 4.0.into(),
            value_range: [0.0, 255.0],
        });
        let mut img = array![[[255.0f32, 100.7]]];
        op.apply(
            &Params::RandomPosterization { shift_factor: 4 },
            img.view_mut(),
        )
        .unwrap();
        assert_eq!(img, array![[[240.0f32, 96.0]]]);
        op.apply(
            &Params::RandomPosterization { shift_factor: 8 },
            img.view_mut(),
        )
        .unwrap();
        assert_eq!(img, array![[[0.0f32, 0.0]]]);
    }

    #[test]
    fn params_of_another_op_are_an_error_naming_params() {
        let op = Op::RandomGrayscale(RandomGrayscale { factor: 1.0 });
        let mut img = Array3::<f32>::zeros((2, 2, 3));
        let err = op
            .apply(
                &Params::RandomInvert {
                    apply_inversion: true,
                },
                img.view_mut(),
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "params", .. }),
            "{err}"
        );
    }

    #[test]
    fn colour_ops_need_three_channels() {
        let op = Op::RandomGrayscale(RandomGrayscale { factor: 1.0 });
        let mut img = Array3::<f32>::zeros((2, 2, 1));
        let err = op
            .apply(
                &Params::RandomGrayscale { should_apply: true },
                img.view_mut(),
            )
            .unwrap_err();
        assert!(matches!(err, Error::Shape { name: "image", .. }), "{err}");
    }

    #[test]
    fn an_invalid_config_is_an_error_not_a_panic() {
        let op = Op::Equalization(crate::augment::Equalization {
            value_range: [0.0, 255.0],
            bins: 0,
        });
        let mut img = Array3::<f32>::zeros((2, 2, 3));
        let err = op.apply(&Params::Equalization, img.view_mut()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "bins", .. }),
            "{err}"
        );
    }

    #[test]
    fn blur_sigma_must_be_positive() {
        let op = Op::RandomGaussianBlur(RandomGaussianBlur {
            factor: 1.0.into(),
            kernel_size: Size::One(3),
            sigma: 1.0.into(),
            value_range: [0.0, 255.0],
        });
        let mut img = Array3::<f32>::ones((4, 4, 3));
        let p = Params::RandomGaussianBlur {
            should_apply_blur: true,
            blur_factor: [0.0, 1.0],
        };
        let err = op.apply(&p, img.view_mut()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidParameter {
                    name: "blur_factor",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn erasing_outside_the_image_or_with_the_wrong_fill_is_an_error() {
        let op = Op::RandomErasing(RandomErasing {
            factor: 1.0.into(),
            scale: [0.1, 0.2].into(),
            fill_value: None,
            value_range: [0.0, 255.0],
        });
        let mut img = Array3::<f32>::ones((4, 4, 3));
        let outside = Params::RandomErasing {
            apply_erasing: true,
            rows: [2, 9],
            cols: [0, 1],
            fill_value: ErasingFill::Constant(vec![0.0; 3]),
        };
        assert!(op.apply(&outside, img.view_mut()).is_err());
        let short = Params::RandomErasing {
            apply_erasing: true,
            rows: [0, 1],
            cols: [0, 1],
            fill_value: ErasingFill::Constant(vec![0.0]),
        };
        assert!(op.apply(&short, img.view_mut()).is_err());
        let ok = Params::RandomErasing {
            apply_erasing: true,
            rows: [1, 3],
            cols: [0, 2],
            fill_value: ErasingFill::Constant(vec![7.0; 3]),
        };
        op.apply(&ok, img.view_mut()).unwrap();
        assert_eq!(img.iter().filter(|v| **v == 7.0).count(), 2 * 2 * 3);
    }

    #[test]
    fn a_view_in_another_layout_gives_the_same_result() {
        let op = Op::RandomContrast(crate::augment::RandomContrast {
            factor: 0.5.into(),
            value_range: [0.0, 255.0],
        });
        let p = Params::RandomContrast {
            contrast_factor: 1.4,
        };
        let img = Array3::from_shape_fn((3, 4, 3), |(y, x, c)| (y * 40 + x * 13 + c * 7) as f32);
        let mut standard = img.clone();
        op.apply(&p, standard.view_mut()).unwrap();
        let mut transposed = img.permuted_axes([1, 0, 2]);
        let mut view = transposed.view_mut().permuted_axes([1, 0, 2]);
        op.apply(&p, view.view_mut()).unwrap();
        assert_eq!(transposed.permuted_axes([1, 0, 2]), standard);
    }
}
