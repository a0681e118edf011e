//! Masks read from files (`flow_from_dataframe(..).mask_col(..)`): decoded as class ids,
//! checked against their image's size, and brought to `target_size` with the image's own
//! resize plan (the same crop) and nearest sampling, so ids are never blended.
//!
//! What a mask file becomes, always one channel `(H, W, 1)`:
//!
//! | file | mask |
//! |---|---|
//! | 8-bit grayscale (with or without alpha) | `u8`, the grey values |
//! | 16-bit grayscale | `u16`, the grey values |
//! | palette PNG (PIL's mode `P`, as Pascal VOC's masks) | `u8`, the palette indices |
//! | RGB(A) whose three channels are equal everywhere | that channel (`u8` or `u16`) |
//!
//! Alpha is ignored. A colour-coded RGB mask (channels that differ) is refused naming the
//! file and the first coloured pixel: map its colours to class ids first.

use std::io::Cursor;
use std::path::Path;

use image::DynamicImage;
use ndarray::{Array3, ArrayView3};

use super::decode::{LoadOptions, check_declared_pixels, decode_checked};
use super::resize_plan::ResizePlan;
use crate::targets::SampleMask;
use crate::{Error, Result};

/// The class ids of one mask file, row-major, one per pixel.
enum Ids {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// The mask file `mask` of the image file `image`, as the batch engine reads it: class ids
/// `(H, W, 1)` (see the table above) of the size `load` brings `image` to, resized with
/// nearest sampling. Errors name the mask file: unreadable ([`Error::Io`]), undecodable
/// ([`Error::Image`], [`Error::Format`]), colour-coded, or of another size than its image
/// ([`Error::Format`], with both sizes).
///
/// ```
/// use augflow::iterators::{LoadOptions, load_mask};
/// use augflow::targets::SampleMask;
///
/// let dir = tempfile::tempdir()?;
/// let (image, mask) = (dir.path().join("a.jpg"), dir.path().join("a.png"));
/// image::RgbImage::new(8, 4).save(&image)?;
/// image::GrayImage::from_fn(8, 4, |x, _| image::Luma([(x / 4) as u8])).save(&mask)?;
/// let SampleMask::U8(ids) = load_mask(&mask, &image, &LoadOptions::new().target_size(2, 4))? else {
///     unreachable!("an 8-bit grey file holds u8 ids")
/// };
/// assert_eq!(ids.shape(), [2, 4, 1]);
/// assert_eq!(ids.iter().copied().collect::<Vec<_>>(), [0, 0, 1, 1, 0, 0, 1, 1]);
/// image::GrayImage::new(3, 3).save(&mask)?;
/// assert!(load_mask(&mask, &image, &LoadOptions::new()).unwrap_err().to_string().contains("3x3"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_mask<'a>(mask: &Path, image: &Path, load: &LoadOptions) -> Result<SampleMask<'a>> {
    let (ih, iw) = image_size(image)?;
    let bytes = std::fs::read(mask).map_err(|e| Error::io(mask, e))?;
    let (ids, h, w) = decode_ids(&bytes, mask, load.max_pixels)?;
    if (h, w) != (ih, iw) {
        return Err(Error::Format {
            path: mask.to_path_buf(),
            message: format!(
                "the mask is {w}x{h} pixels (width x height) but its image {} is {iw}x{ih}; \
                 a mask must have its image's size",
                image.display()
            ),
        });
    }
    let plan = ResizePlan::new(load, h, w);
    Ok(match ids {
        Ids::U8(v) => SampleMask::U8(resized(v, (h, w), plan)?.into()),
        Ids::U16(v) => SampleMask::U16(resized(v, (h, w), plan)?.into()),
    })
}

/// The `(height, width)` an image file declares in its header (nothing else is decoded).
pub(crate) fn image_size(path: &Path) -> Result<(usize, usize)> {
    let reader = image::ImageReader::open(path)
        .map_err(|e| Error::io(path, e))?
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    let (w, h) = reader.into_dimensions().map_err(|source| Error::Image {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((h as usize, w as usize))
}

/// An `(H, W, K)` mask resized to `height × width` with the nearest sampling that
/// [`load_mask`] uses (PIL's: output column `x` reads column `floor((x + 0.5) · W / width)`),
/// so class ids are never blended. Errors name `height`/`width` when one is 0.
///
/// ```
/// use augflow::iterators::resize_mask;
/// use ndarray::Array3;
///
/// let ids = Array3::from_shape_fn((2, 2, 1), |(r, c, _)| (2 * r + c) as u8);
/// let big = resize_mask(ids.view(), 4, 4)?;
/// assert_eq!(big[[3, 0, 0]], 2);
/// assert_eq!(big[[1, 3, 0]], 1);
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn resize_mask<T: Copy + Default>(
    mask: ArrayView3<'_, T>,
    height: usize,
    width: usize,
) -> Result<Array3<T>> {
    let (h, w, k) = mask.dim();
    for (name, v) in [("height", height), ("width", width)] {
        if v == 0 {
            return Err(Error::invalid(name, v, "at least 1 pixel"));
        }
    }
    if h == 0 || w == 0 || k == 0 {
        return Err(Error::Shape {
            name: "mask",
            shape: mask.shape().to_vec(),
            expected: "a non-empty (H, W, K) mask".into(),
        });
    }
    let load = LoadOptions::new().target_size(height, width);
    let Some(plan) = ResizePlan::new(&load, h, w) else {
        return Ok(mask.to_owned());
    };
    let src = mask.as_standard_layout();
    let mut dst = plan.new_buffer(k)?;
    let src = src.as_slice().expect("standard layout is contiguous");
    plan.resize_nearest(src, w, k, &mut dst);
    Ok(Array3::from_shape_vec((height, width, k), dst).expect("k ids per pixel"))
}

/// `ids` (`h × w`) as an `(H, W, 1)` array, resized by `plan` with nearest sampling.
fn resized<T: Copy + Default>(
    ids: Vec<T>,
    (h, w): (usize, usize),
    plan: Option<ResizePlan>,
) -> Result<Array3<T>> {
    let (data, h, w) = match plan {
        None => (ids, h, w),
        Some(p) => {
            let mut dst = p.new_buffer(1)?;
            p.resize_nearest(&ids, w, 1, &mut dst);
            (dst, p.height, p.width)
        }
    };
    Ok(Array3::from_shape_vec((h, w, 1), data).expect("one id per pixel"))
}

/// The class ids of a mask file's content, with its height and width.
fn decode_ids(bytes: &[u8], path: &Path, max_pixels: u64) -> Result<(Ids, usize, usize)> {
    if is_palette_png(bytes) {
        return palette_indices(bytes, path, max_pixels);
    }
    let img = decode_checked(bytes, path, max_pixels)?;
    let (h, w) = (img.height() as usize, img.width() as usize);
    let ids = match img {
        DynamicImage::ImageLuma8(i) => Ids::U8(i.into_raw()),
        DynamicImage::ImageLumaA8(i) => Ids::U8(i.as_raw().iter().step_by(2).copied().collect()),
        DynamicImage::ImageLuma16(i) => Ids::U16(i.into_raw()),
        DynamicImage::ImageLumaA16(i) => Ids::U16(i.as_raw().iter().step_by(2).copied().collect()),
        DynamicImage::ImageRgb8(i) => Ids::U8(grey_channel(i.as_raw(), 3, w, path)?),
        DynamicImage::ImageRgba8(i) => Ids::U8(grey_channel(i.as_raw(), 4, w, path)?),
        DynamicImage::ImageRgb16(i) => Ids::U16(grey_channel(i.as_raw(), 3, w, path)?),
        DynamicImage::ImageRgba16(i) => Ids::U16(grey_channel(i.as_raw(), 4, w, path)?),
        other => {
            return Err(Error::Format {
                path: path.to_path_buf(),
                message: format!(
                    "a mask of {:?} pixels; masks are class ids: 8- or 16-bit grayscale, or a palette PNG",
                    other.color()
                ),
            });
        }
    };
    Ok((ids, h, w))
}

/// The first channel of pixels of `c` values whose first three are equal (grey saved as
/// colour); a coloured pixel is an error naming it.
fn grey_channel<T: Copy + PartialEq + std::fmt::Debug>(
    pixels: &[T],
    c: usize,
    w: usize,
    path: &Path,
) -> Result<Vec<T>> {
    let mut ids = Vec::with_capacity(pixels.len() / c);
    for (k, p) in pixels.chunks_exact(c).enumerate() {
        if p[0] != p[1] || p[1] != p[2] {
            return Err(Error::Format {
                path: path.to_path_buf(),
                message: format!(
                    "pixel (row {}, column {}) of the mask is the colour {:?}: a colour-coded \
                     mask; masks are read as class ids (grayscale, or a palette PNG's \
                     indices), so map its colours to ids first",
                    k / w,
                    k % w,
                    &p[..3]
                ),
            });
        }
        ids.push(p[0]);
    }
    Ok(ids)
}

/// Whether `b` is a PNG whose header (IHDR, always the first chunk) declares colour type 3,
/// indexed colour.
fn is_palette_png(b: &[u8]) -> bool {
    b.len() > 25 && b.starts_with(b"\x89PNG\r\n\x1a\n") && &b[12..16] == b"IHDR" && b[25] == 3
}

/// The palette indices of an indexed PNG (1, 2, 4 or 8 bits per pixel), as PIL's mode `P`
/// gives them.
fn palette_indices(bytes: &[u8], path: &Path, max_pixels: u64) -> Result<(Ids, usize, usize)> {
    let fail = |e: png::DecodingError| Error::Format {
        path: path.to_path_buf(),
        message: format!("cannot decode the palette PNG: {e}"),
    };
    let limits = png::Limits {
        bytes: usize::try_from(max_pixels.saturating_mul(2)).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(fail)?;
    let (w, h) = reader.info().size();
    check_declared_pixels(path, (w, h), bytes.len(), max_pixels)?;
    let len = reader.output_buffer_size().ok_or_else(|| Error::Format {
        path: path.to_path_buf(),
        message: format!("a {w}x{h} palette PNG too large to decode"),
    })?;
    let mut buf = vec![0; len];
    let frame = reader.next_frame(&mut buf).map_err(fail)?;
    let (w, h) = (w as usize, h as usize);
    let depth = frame.bit_depth as usize;
    if depth > 8 {
        return Err(Error::Format {
            path: path.to_path_buf(),
            message: format!("a palette PNG of {depth} bits per index; PNG allows 1, 2, 4 or 8"),
        });
    }
    let per_byte = 8 / depth;
    let low_bits = ((1u16 << depth) - 1) as u8;
    let ids = buf
        .chunks_exact(frame.line_size)
        .take(h)
        .flat_map(|row| {
            (0..w).map(move |x| {
                let shift = 8 - depth * (x % per_byte + 1);
                (row[x / per_byte] >> shift) & low_bits
            })
        })
        .collect();
    Ok((Ids::U8(ids), h, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w × h` palette PNG of `depth` bits whose pixel `k` has index `k % 2^depth`.
    fn palette_png(w: u32, h: u32, depth: png::BitDepth) -> Vec<u8> {
        let bits = depth as usize;
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(depth);
        enc.set_palette(vec![0u8; 3 << bits]);
        let mut writer = enc.write_header().unwrap();
        let row_bytes = (w as usize * bits).div_ceil(8);
        let mut data = vec![0u8; row_bytes * h as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                let k = y * w as usize + x;
                let v = (k % (1 << bits)) as u8;
                let shift = 8 - bits * (x % (8 / bits) + 1);
                data[y * row_bytes + x * bits / 8] |= v << shift;
            }
        }
        writer.write_image_data(&data).unwrap();
        drop(writer);
        out
    }

    #[test]
    fn palette_pngs_give_their_indices_at_every_bit_depth() {
        for depth in [
            png::BitDepth::One,
            png::BitDepth::Four,
            png::BitDepth::Eight,
        ] {
            let bytes = palette_png(5, 3, depth);
            assert!(is_palette_png(&bytes));
            let (ids, h, w) = decode_ids(&bytes, Path::new("m.png"), u64::MAX).unwrap();
            let Ids::U8(ids) = ids else {
                panic!("palette indices are u8")
            };
            let expected: Vec<u8> = (0..15).map(|k| (k % (1 << depth as usize)) as u8).collect();
            assert_eq!((ids, h, w), (expected, 3, 5), "{depth:?}");
        }
    }

    #[test]
    fn colour_coded_masks_are_refused_naming_the_pixel() {
        let rgb = image::RgbImage::from_fn(3, 2, |x, y| {
            let v = (x + y) as u8;
            if (x, y) == (2, 1) {
                image::Rgb([v, 9, v])
            } else {
                image::Rgb([v, v, v])
            }
        });
        let mut bytes = Vec::new();
        rgb.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        let err = decode_ids(&bytes, Path::new("m.png"), u64::MAX)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("row 1, column 2") && err.contains("colour"),
            "{err}"
        );
    }
}
