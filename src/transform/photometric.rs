//! Photometric steps on a warped image: channel shift (spec §6) and brightness (spec §8).

use ndarray::ArrayViewMut3;

use super::{DataFormat, OutPixel};
use crate::{Error, Result};

fn min_max<O: OutPixel>(x: &[O]) -> (O, O) {
    let mut lo = x[0];
    let mut hi = x[0];
    for &v in &x[1..] {
        if v < lo {
            lo = v;
        }
        if v > hi {
            hi = v;
        }
    }
    (lo, hi)
}

/// Adds `intensity` to every channel and clips to the image's own range (spec §6): the min
/// and max are taken over the whole image, so a shift never widens the range.
pub(crate) fn channel_shift_slice<O: OutPixel>(x: &mut [O], intensity: f64) {
    if x.is_empty() {
        return;
    }
    let (lo, hi) = min_max(x);
    let s = O::from_f64(intensity);
    for v in x.iter_mut() {
        // np.clip(x + s, lo, hi) in the image's precision.
        let y = *v + s;
        *v = if y < lo {
            lo
        } else if y > hi {
            hi
        } else {
            y
        };
    }
}

/// Keras' channel shift on one image (spec §6): `clip(x + intensity, min(x), max(x))`.
///
/// ```
/// use augflow::transform::apply_channel_shift;
/// use ndarray::array;
/// let mut x = array![[[0.0_f32, 100.0], [50.0, 200.0]]];
/// apply_channel_shift(x.view_mut(), 30.0);
/// assert_eq!(x, array![[[30.0, 130.0], [80.0, 200.0]]]);
/// ```
pub fn apply_channel_shift<O: OutPixel>(mut x: ArrayViewMut3<'_, O>, intensity: f64) {
    match x.as_slice_memory_order_mut() {
        Some(s) => channel_shift_slice(s, intensity),
        None => {
            let mut v: Vec<O> = x.iter().copied().collect();
            channel_shift_slice(&mut v, intensity);
            x.iter_mut().zip(v).for_each(|(d, s)| *d = s);
        }
    }
}

/// Plain brightness: every value multiplied by `factor` (the default geometry's rule).
pub(crate) fn brightness_plain_slice<O: OutPixel>(x: &mut [O], factor: f64) {
    let f = O::from_f64(factor);
    for v in x.iter_mut() {
        *v *= f;
    }
}

/// Keras 2.9's brightness (spec §8): the image goes through PIL as 8-bit, so values are
/// truncated to integers, blended with black in float32 and mapped back to the original
/// range when it was outside `0..=255`. `channel_of(i)` gives the channel of element `i`.
pub(crate) fn brightness_keras_slice<O: OutPixel>(
    x: &mut [O],
    channels: usize,
    channel_of: impl Fn(usize) -> usize,
    factor: f64,
) -> Result<()> {
    if !matches!(channels, 1 | 3 | 4) {
        return Err(Error::Unsupported {
            name: "brightness_range",
            value: format!("an image with {channels} channels"),
            reason: "Keras' brightness goes through PIL, which takes 1, 3 or 4 channels ('Unsupported channel number'); use Geometry::Corrected for a plain factor".into(),
        });
    }
    if x.is_empty() {
        return Ok(());
    }
    let (lo, hi) = min_max(x);
    let zero = O::default();
    let c255 = O::from_f64(255.0);
    let local_scale = lo < zero || hi > c255;
    let f = factor as f32;
    for (i, v) in x.iter_mut().enumerate() {
        // array_to_img (spec §15): x - min, / max (when non-zero), * 255, then uint8 truncation.
        let mut y = *v;
        if local_scale {
            y -= lo;
            let m = hi - lo;
            if m != zero {
                y /= m;
            }
            y *= c255;
        }
        let u = trunc_u8(y.to_f64());
        // PIL Image.blend(black, img, f): alpha of RGBA is kept.
        let b = if channels == 4 && channel_of(i) == 3 {
            u
        } else {
            blend_with_black(u, f)
        };
        let mut back = O::from_f64(b as f64);
        if local_scale {
            back = back / c255 * (hi - lo) + lo;
        }
        *v = back;
    }
    Ok(())
}

/// `astype(uint8)` of a value assumed in [0, 255]: truncation toward zero (saturated).
fn trunc_u8(v: f64) -> u8 {
    v.trunc().clamp(0.0, 255.0) as u8
}

/// PIL's `Image.blend(black, img, f)` for one byte (spec §8, Pillow `Blend.c`).
fn blend_with_black(u: u8, f: f32) -> u8 {
    if f == 0.0 {
        0
    } else if f == 1.0 {
        u
    } else {
        let p = f * u as f32;
        if (0.0..=1.0).contains(&f) {
            p as u8
        } else {
            (p.trunc() as i64).clamp(0, 255) as u8
        }
    }
}

/// Brightness on one image: Keras' 8-bit round trip when `keras_exact`, else a plain factor.
///
/// ```
/// use augflow::{DataFormat, transform::apply_brightness};
/// use ndarray::array;
/// // spec §20 G4 style: values inside 0..255 are truncated to bytes, then scaled.
/// let mut x = array![[[10.7_f32, 20.2, 30.0]]];
/// apply_brightness(x.view_mut(), 0.5, true, DataFormat::ChannelsLast).unwrap();
/// assert_eq!(x, array![[[5.0, 10.0, 15.0]]]);
/// let mut y = array![[[10.7_f32, 20.2, 30.0]]];
/// apply_brightness(y.view_mut(), 0.5, false, DataFormat::ChannelsLast).unwrap();
/// assert_eq!(y, array![[[5.35, 10.1, 15.0]]]);
/// ```
pub fn apply_brightness<O: OutPixel>(
    mut x: ArrayViewMut3<'_, O>,
    factor: f64,
    keras_exact: bool,
    format: DataFormat,
) -> Result<()> {
    crate::error::check_finite("brightness", factor)?;
    let shape = [x.shape()[0], x.shape()[1], x.shape()[2]];
    let (h, w, c) = format.hwc(shape);
    let run = |s: &mut [O]| -> Result<()> {
        if keras_exact {
            brightness_keras_slice(s, c, channel_fn(format, h, w, c), factor)
        } else {
            brightness_plain_slice(s, factor);
            Ok(())
        }
    };
    if let Some(s) = x.as_slice_mut() {
        return run(s);
    }
    let mut tmp = x.as_standard_layout().into_owned();
    run(tmp.as_slice_mut().expect("standard layout"))?;
    x.assign(&tmp);
    Ok(())
}

/// Channel index of flat element `i` of a contiguous image.
pub(crate) fn channel_fn(
    format: DataFormat,
    h: usize,
    w: usize,
    c: usize,
) -> impl Fn(usize) -> usize {
    move |i| match format {
        DataFormat::ChannelsLast => i % c,
        DataFormat::ChannelsFirst => i / (h * w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_shift_is_clipped_to_the_image_range() {
        let mut x = vec![0.0_f32, 10.0, 255.0];
        channel_shift_slice(&mut x, 100.0);
        assert_eq!(x, vec![100.0, 110.0, 255.0]);
        channel_shift_slice(&mut x, -200.0);
        assert_eq!(x, vec![100.0, 100.0, 100.0]);
    }

    #[test]
    fn keras_brightness_keeps_alpha_and_clips_above_255() {
        let mut x = vec![200.0_f32, 100.0, 50.0, 77.0];
        brightness_keras_slice(&mut x, 4, |i| i % 4, 1.5).unwrap();
        assert_eq!(x, vec![255.0, 150.0, 75.0, 77.0]);
    }

    #[test]
    fn keras_brightness_maps_out_of_range_images_back() {
        // Conformance README: [-10, 0, 300] with factor 1 gives [-10, -0.2745..., 300].
        let mut x = vec![-10.0_f32, 0.0, 300.0];
        brightness_keras_slice(&mut x, 1, |_| 0, 1.0).unwrap();
        assert_eq!(x[0], -10.0);
        assert!((x[1] - (-0.2745)).abs() < 1e-3, "{}", x[1]);
        assert_eq!(x[2], 300.0);
    }

    #[test]
    fn keras_brightness_rejects_two_channels() {
        let mut x = vec![1.0_f32; 4];
        assert!(brightness_keras_slice(&mut x, 2, |i| i % 2, 1.2).is_err());
    }
}
