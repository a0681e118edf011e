//! Conversions between one image array and an `image::DynamicImage` (Keras' `array_to_img`,
//! `img_to_array`, spec §15).

use image::DynamicImage;
use ndarray::{Array3, ArrayView3};

use crate::transform::{DataFormat, Pixel};
use crate::{Error, Result};

/// Converts one image array to an 8-bit image, as Keras' `array_to_img` (spec §15).
///
/// `x` is `(H, W, C)` or `(C, H, W)` according to `data_format` (channels-first is honoured,
/// unlike Keras, keras-preprocessing#126). Arithmetic is in `f32`, as Keras' default dtype, so
/// results match Keras bit for bit:
///
/// * `scale = true`: `x = x - min(x)`; `m = max(x)`; `x /= m` when `m != 0`; `x *= 255`
///   (min–max stretch to `0..=255`; a constant image becomes all zeros).
/// * then truncation toward zero to `u8`. Without scaling, values outside `0..=255` saturate
///   (Keras' C cast wraps or is undefined there) and NaN becomes 0.
///
/// Channels: 1 → [`DynamicImage::ImageLuma8`], 3 → `ImageRgb8`, 4 → `ImageRgba8`, anything
/// else is an [`Error::InvalidParameter`] naming `channels` (Keras: "Unsupported channel
/// number"). With 1 channel and `max(x) > 255` (only reachable with `scale = false`) Keras
/// builds a 32-bit `'I'` image; we build an [`DynamicImage::ImageLuma16`] instead (values
/// truncated and saturated to `0..=65535`), which PNG, TIFF and PPM store as 16-bit grey
/// exactly as Pillow writes an `'I'` image to PNG.
///
/// The input is only read.
///
/// ```
/// use augflow::{DataFormat, save::array_to_img};
/// use ndarray::array;
///
/// // (2, 2, 1): min -1, max after shift 4 → (x + 1) / 4 * 255, truncated.
/// let x = array![[[-1.0_f32], [0.0]], [[1.0], [3.0]]];
/// let img = array_to_img(x.view(), DataFormat::ChannelsLast, true)?;
/// assert_eq!(img.as_luma8().unwrap().as_raw(), &vec![0, 63, 127, 255]);
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn array_to_img<P: Pixel>(
    x: ArrayView3<'_, P>,
    data_format: DataFormat,
    scale: bool,
) -> Result<DynamicImage> {
    let shape = x.shape();
    let (h, w, c) = data_format.hwc([shape[0], shape[1], shape[2]]);
    if !matches!(c, 1 | 3 | 4) {
        return Err(Error::invalid(
            "channels",
            format!("{c} (Unsupported channel number: {c}; image shape {shape:?}, {data_format})"),
            "1 (grey), 3 (RGB) or 4 (RGBA) channels on the channel axis",
        ));
    }
    if h == 0 || w == 0 {
        return Err(Error::Shape {
            name: "x",
            shape: shape.to_vec(),
            expected: format!("an image with at least one row and one column ({data_format})"),
        });
    }
    let (Ok(w32), Ok(h32)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err(Error::Shape {
            name: "x",
            shape: shape.to_vec(),
            expected: "at most 4294967295 rows and columns".into(),
        });
    };

    let hwc = match data_format {
        DataFormat::ChannelsLast => x,
        DataFormat::ChannelsFirst => x.permuted_axes([1, 2, 0]),
    };
    // Keras converts to float32 first (`asarray(x, floatx)`) and does every step in float32.
    let mut v: Vec<f32> = hwc.iter().map(|p| p.to_f64() as f32).collect();
    if scale {
        // spec §15 step 4; `f32::min`/`max` skip NaN, so one NaN does not blank the image.
        let min = v.iter().copied().fold(f32::INFINITY, f32::min);
        v.iter_mut().for_each(|p| *p -= min);
        let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        if max != 0.0 {
            v.iter_mut().for_each(|p| *p /= max);
        }
        v.iter_mut().for_each(|p| *p *= 255.0);
    }

    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if c == 1 && max > 255.0 {
        // Keras' mode 'I' (spec §15 step 5); `as u16` truncates toward zero and saturates.
        let data: Vec<u16> = v.iter().map(|&p| p as u16).collect();
        let buf = image::ImageBuffer::from_raw(w32, h32, data).ok_or_else(|| internal(shape))?;
        return Ok(DynamicImage::ImageLuma16(buf));
    }
    // `as u8` truncates toward zero like numpy's astype(uint8) and saturates out of range.
    let data: Vec<u8> = v.iter().map(|&p| p as u8).collect();
    Ok(match c {
        1 => DynamicImage::ImageLuma8(
            image::ImageBuffer::from_raw(w32, h32, data).ok_or_else(|| internal(shape))?,
        ),
        3 => DynamicImage::ImageRgb8(
            image::ImageBuffer::from_raw(w32, h32, data).ok_or_else(|| internal(shape))?,
        ),
        _ => DynamicImage::ImageRgba8(
            image::ImageBuffer::from_raw(w32, h32, data).ok_or_else(|| internal(shape))?,
        ),
    })
}

/// The buffer length is `h * w * c` by construction; this only guards against a logic error.
fn internal(shape: &[usize]) -> Error {
    Error::Shape {
        name: "x",
        shape: shape.to_vec(),
        expected: "a buffer of height × width × channels elements (internal error)".into(),
    }
}

/// Converts an image to an `f32` array in `data_format`, as Keras' `img_to_array` (spec §15).
///
/// Values are kept as stored (0..=255 for 8-bit, 0..=65535 for 16-bit, as is for float images);
/// grey gives one channel (`(H, W, 1)` or `(1, H, W)`), grey+alpha two, RGB three, RGBA four.
/// The result is in standard (C-contiguous) layout.
///
/// ```
/// use augflow::{DataFormat, save::img_to_array};
///
/// let img = image::DynamicImage::ImageLuma8(image::GrayImage::from_raw(3, 2, vec![0, 1, 2, 3, 4, 5]).unwrap());
/// let x = img_to_array(&img, DataFormat::ChannelsFirst)?;
/// assert_eq!(x.shape(), &[1, 2, 3]);
/// assert_eq!(x[[0, 1, 2]], 5.0);
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn img_to_array(img: &DynamicImage, data_format: DataFormat) -> Result<Array3<f32>> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (c, data): (usize, Vec<f32>) = match img {
        DynamicImage::ImageLuma8(b) => (1, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageLumaA8(b) => (2, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageRgb8(b) => (3, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageRgba8(b) => (4, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageLuma16(b) => (1, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageLumaA16(b) => (2, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageRgb16(b) => (3, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageRgba16(b) => (4, b.iter().map(|&p| p as f32).collect()),
        DynamicImage::ImageRgb32F(b) => (3, b.as_raw().clone()),
        DynamicImage::ImageRgba32F(b) => (4, b.as_raw().clone()),
        other => {
            return Err(Error::invalid(
                "img",
                format!("an image of color type {:?}", other.color()),
                "grey, grey+alpha, RGB or RGBA with 8-bit, 16-bit or f32 samples",
            ));
        }
    };
    let hwc = Array3::from_shape_vec((h, w, c), data).map_err(|_| Error::Shape {
        name: "img",
        shape: vec![h, w, c],
        expected: "as many samples as height × width × channels".into(),
    })?;
    Ok(match data_format {
        DataFormat::ChannelsLast => hwc,
        DataFormat::ChannelsFirst => hwc
            .permuted_axes([2, 0, 1])
            .as_standard_layout()
            .into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, array};

    #[test]
    fn scale_matches_keras_min_max_stretch_by_hand() {
        // x = [2, 4, 6, 10]: x - 2 = [0, 2, 4, 8], / 8 = [0, .25, .5, 1], * 255 =
        // [0, 63.75, 127.5, 255] → truncated [0, 63, 127, 255].
        let x = array![[[2.0_f64], [4.0]], [[6.0], [10.0]]];
        let img = array_to_img(x.view(), DataFormat::ChannelsLast, true).unwrap();
        assert_eq!(img.as_luma8().unwrap().as_raw(), &vec![0u8, 63, 127, 255]);
    }

    #[test]
    fn scale_of_a_constant_image_is_all_zero() {
        // x - min = 0 everywhere, max 0 → no division, 0 * 255 = 0.
        let x = Array3::<f32>::from_elem((2, 3, 3), 7.5);
        let img = array_to_img(x.view(), DataFormat::ChannelsLast, true).unwrap();
        assert!(img.as_rgb8().unwrap().iter().all(|&p| p == 0));
    }

    #[test]
    fn no_scale_truncates_toward_zero_and_saturates() {
        let x = array![[[0.9_f32, 254.99, -3.0], [300.0, 1.5, f32::NAN]]];
        let img = array_to_img(x.view(), DataFormat::ChannelsLast, false).unwrap();
        assert_eq!(
            img.as_rgb8().unwrap().as_raw(),
            &vec![0u8, 254, 0, 255, 1, 0]
        );
    }

    #[test]
    fn one_channel_above_255_without_scale_becomes_luma16() {
        let x = array![[[1000.7_f32], [70000.0]], [[-5.0], [3.0]]];
        let img = array_to_img(x.view(), DataFormat::ChannelsLast, false).unwrap();
        assert_eq!(
            img.as_luma16().unwrap().as_raw(),
            &vec![1000u16, 65535, 0, 3]
        );
        // With scaling the same data is an 8-bit image.
        let img = array_to_img(x.view(), DataFormat::ChannelsLast, true).unwrap();
        assert!(img.as_luma8().is_some());
    }

    #[test]
    fn channels_first_is_transposed_to_pixels() {
        // (3, 1, 2): channel planes R = [10, 20], G = [30, 40], B = [50, 60].
        let x = array![[[10u8, 20]], [[30, 40]], [[50, 60]]];
        let img = array_to_img(x.view(), DataFormat::ChannelsFirst, false).unwrap();
        let rgb = img.as_rgb8().unwrap();
        assert_eq!((rgb.width(), rgb.height()), (2, 1));
        assert_eq!(rgb.as_raw(), &vec![10u8, 30, 50, 20, 40, 60]);
    }

    #[test]
    fn four_channels_give_rgba() {
        let x = array![[[1u16, 2, 3, 4]]];
        let img = array_to_img(x.view(), DataFormat::ChannelsLast, false).unwrap();
        assert_eq!(img.as_rgba8().unwrap().as_raw(), &vec![1u8, 2, 3, 4]);
    }

    #[test]
    fn two_or_five_channels_are_an_error_naming_channels() {
        for (shape, fmt) in [
            ((4, 4, 2), DataFormat::ChannelsLast),
            ((5, 4, 4), DataFormat::ChannelsFirst),
            ((4, 4, 0), DataFormat::ChannelsLast),
        ] {
            let x = Array3::<f32>::zeros(shape);
            let err = array_to_img(x.view(), fmt, true).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidParameter {
                        name: "channels",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(
                err.to_string().contains("Unsupported channel number"),
                "{err}"
            );
        }
    }

    #[test]
    fn empty_image_is_a_shape_error() {
        let x = Array3::<f32>::zeros((0, 4, 3));
        let err = array_to_img(x.view(), DataFormat::ChannelsLast, true).unwrap_err();
        assert!(matches!(err, Error::Shape { name: "x", .. }), "{err:?}");
    }

    #[test]
    fn non_contiguous_views_are_read_in_logical_order() {
        let x = array![[[1u8], [2]], [[3], [4]]];
        let t = x.view().reversed_axes(); // (1, 2, 2) channels-first, transposed rows/cols
        let img = array_to_img(t, DataFormat::ChannelsFirst, false).unwrap();
        assert_eq!(img.as_luma8().unwrap().as_raw(), &vec![1u8, 3, 2, 4]);
    }

    #[test]
    fn img_to_array_round_trips_both_layouts() {
        let x = Array3::from_shape_fn((3, 4, 3), |(r, c, ch)| (r * 40 + c * 10 + ch) as f32);
        for fmt in [DataFormat::ChannelsLast, DataFormat::ChannelsFirst] {
            let input = match fmt {
                DataFormat::ChannelsLast => x.clone(),
                DataFormat::ChannelsFirst => x.clone().permuted_axes([2, 0, 1]),
            };
            let img = array_to_img(input.view(), fmt, false).unwrap();
            let back = img_to_array(&img, fmt).unwrap();
            assert_eq!(back, input);
            assert!(back.is_standard_layout());
        }
    }

    #[test]
    fn img_to_array_keeps_16_bit_values() {
        let img =
            DynamicImage::ImageLuma16(image::ImageBuffer::from_raw(1, 1, vec![4000u16]).unwrap());
        let x = img_to_array(&img, DataFormat::ChannelsLast).unwrap();
        assert_eq!(x, array![[[4000.0_f32]]]);
    }
}
