//! How a file is brought to `target_size` (spec §15): the part of it kept (a centre crop to
//! the target's aspect ratio, or all of it) and the size that part is resized to. Images,
//! their masks and their boxes all follow one plan, so they stay aligned.

use super::decode::LoadOptions;
use crate::{Error, Result};

/// The part of a source image kept by `keep_aspect_ratio` (spec §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// First row kept.
    pub top: usize,
    /// First column kept.
    pub left: usize,
    /// Rows kept.
    pub height: usize,
    /// Columns kept.
    pub width: usize,
}

impl Crop {
    /// The whole `height × width` image.
    pub fn full(height: usize, width: usize) -> Self {
        Crop {
            top: 0,
            left: 0,
            height,
            width,
        }
    }

    /// Keras' centre crop of an `h × w` image to the aspect ratio of `th × tw` (spec §15):
    /// `crop_h = min(h, (w·th)//tw)`, `crop_w = min(w, (h·tw)//th)`, `top = (h − crop_h)//2`,
    /// `left = (w − crop_w)//2`. `th` and `tw` are taken as at least 1.
    ///
    /// Two departures from Keras' formula, both where it breaks: the products are computed
    /// without overflow for any `usize`, and a crop is never empty. Where the formula gives
    /// 0 rows or columns (an image far thinner than the target's ratio, such as 100×1 for a
    /// 224×448 target), the crop keeps 1, centred; PIL would be asked to resize an empty
    /// image there.
    ///
    /// ```
    /// use augflow::iterators::Crop;
    /// // A 20x40 landscape image cropped for a square target keeps its central 20x20.
    /// assert_eq!(Crop::keep_aspect_ratio(20, 40, 8, 8), Crop { top: 0, left: 10, height: 20, width: 20 });
    /// // 10x7 for a 2x3 (h x w) target: crop_h = min(10, 7*2//3) = 4, crop_w = min(7, 10*3//2) = 7.
    /// assert_eq!(Crop::keep_aspect_ratio(10, 7, 2, 3), Crop { top: 3, left: 0, height: 4, width: 7 });
    /// // 100 rows of 1 pixel for a 224x448 target: Keras' crop_h would be 1*224//448 = 0.
    /// assert_eq!(Crop::keep_aspect_ratio(100, 1, 224, 448), Crop { top: 49, left: 0, height: 1, width: 1 });
    /// ```
    pub fn keep_aspect_ratio(h: usize, w: usize, th: usize, tw: usize) -> Self {
        // u128 holds the product of any two usizes, and each quotient is at most a usize.
        let side = |n: usize, other: usize, num: usize, den: usize| {
            let k = (other as u128 * num.max(1) as u128 / den.max(1) as u128)
                .min(n as u128)
                .max(1) as usize;
            k.min(n)
        };
        let height = side(h, w, th, tw);
        let width = side(w, h, tw, th);
        Crop {
            top: (h - height) / 2,
            left: (w - width) / 2,
            height,
            width,
        }
    }
}

/// How an `h × w` file becomes its `target_size`: the part kept and its new size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResizePlan {
    /// The part of the file kept.
    pub crop: Crop,
    /// Rows after the resize.
    pub height: usize,
    /// Columns after the resize.
    pub width: usize,
}

impl ResizePlan {
    /// The plan for an `h × w` file under `opts`; `None` when the file is kept as it is (no
    /// `target_size`, or the file has that size already: PIL resizes only when the size
    /// differs, so the crop is skipped too).
    pub(crate) fn new(opts: &LoadOptions, h: usize, w: usize) -> Option<Self> {
        let (th, tw) = opts.target_size?;
        if (th, tw) == (h, w) {
            return None;
        }
        let crop = if opts.keep_aspect_ratio {
            Crop::keep_aspect_ratio(h, w, th, tw)
        } else {
            Crop::full(h, w)
        };
        Some(ResizePlan {
            crop,
            height: th,
            width: tw,
        })
    }

    /// A zeroed buffer for the resized image of `c` values per pixel, or an error naming
    /// `target_size` when that much memory cannot be reserved.
    pub(crate) fn new_buffer<T: Copy + Default>(&self, c: usize) -> Result<Vec<T>> {
        let too_large = || {
            Error::invalid(
                "target_size",
                format!("({}, {})", self.height, self.width),
                "a size whose pixels can be allocated",
            )
        };
        let len = self
            .height
            .checked_mul(self.width)
            .and_then(|n| n.checked_mul(c))
            .ok_or_else(too_large)?;
        let mut dst = Vec::new();
        dst.try_reserve_exact(len).map_err(|_| too_large())?;
        dst.resize(len, T::default());
        Ok(dst)
    }

    /// PIL's nearest resize of `src` (rows of `w` pixels of `c` values) into `dst`
    /// (`height × width × c`): output column `x` reads source column
    /// `left + floor((x + 0.5) · crop_w / width)`, rows likewise.
    pub(crate) fn resize_nearest<T: Copy>(&self, src: &[T], w: usize, c: usize, dst: &mut [T]) {
        let crop = self.crop;
        let (th, tw) = (self.height, self.width);
        let pick = |i: usize, n: usize, start: usize, len: usize| {
            let s = ((i as f64 + 0.5) * len as f64 / n as f64) as usize;
            start + s.min(len - 1)
        };
        let cols: Vec<usize> = (0..tw)
            .map(|x| pick(x, tw, crop.left, crop.width))
            .collect();
        for (y, row) in dst.chunks_exact_mut(tw * c).enumerate() {
            let sy = pick(y, th, crop.top, crop.height);
            let src_row = &src[sy * w * c..(sy + 1) * w * c];
            for (px, &sx) in row.chunks_exact_mut(c).zip(&cols) {
                px.copy_from_slice(&src_row[sx * c..(sx + 1) * c]);
            }
        }
    }

    /// A box `[x0, y0, x1, y1]` in the file's pixel corners, in the resized image: clipped to
    /// the crop, then scaled as the crop is. `None` when nothing of it lies in the crop.
    pub(crate) fn map_box(&self, b: [f64; 4]) -> Option<[f64; 4]> {
        let c = self.crop;
        let (left, top) = (c.left as f64, c.top as f64);
        let (sx, sy) = (
            self.width as f64 / c.width as f64,
            self.height as f64 / c.height as f64,
        );
        let x0 = (b[0].max(left) - left) * sx;
        let y0 = (b[1].max(top) - top) * sy;
        let x1 = (b[2].min(left + c.width as f64) - left) * sx;
        let y1 = (b[3].min(top + c.height as f64) - top) * sy;
        (x1 > x0 && y1 > y0).then_some([x0, y0, x1, y1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(crop: Crop, height: usize, width: usize) -> ResizePlan {
        ResizePlan {
            crop,
            height,
            width,
        }
    }

    #[test]
    fn nearest_downscale_by_two_takes_the_odd_pixels() {
        // (x + 0.5) * 2 -> 1, 3: PIL's nearest picks the second of each pair.
        let src: Vec<u8> = (0..16).collect();
        let mut dst = vec![0u8; 4];
        plan(Crop::full(4, 4), 2, 2).resize_nearest(&src, 4, 1, &mut dst);
        assert_eq!(dst, vec![5, 7, 13, 15]);
    }

    #[test]
    fn nearest_upscale_repeats_pixels() {
        let src = vec![1u8, 2];
        let mut dst = vec![0u8; 4];
        plan(Crop::full(1, 2), 1, 4).resize_nearest(&src, 2, 1, &mut dst);
        assert_eq!(dst, vec![1, 1, 2, 2]);
    }

    #[test]
    fn crop_of_a_portrait_image_for_a_landscape_target() {
        // h=30, w=10, target 10x20: crop_h = min(30, 10*10//20) = 5, crop_w = min(10, 30*20//10) = 10.
        assert_eq!(
            Crop::keep_aspect_ratio(30, 10, 10, 20),
            Crop {
                top: 12,
                left: 0,
                height: 5,
                width: 10
            }
        );
    }

    #[test]
    fn no_plan_without_a_target_or_at_the_target_size() {
        assert_eq!(ResizePlan::new(&LoadOptions::new(), 4, 6), None);
        assert_eq!(
            ResizePlan::new(&LoadOptions::new().target_size(4, 6), 4, 6),
            None
        );
        let p = ResizePlan::new(
            &LoadOptions::new().target_size(8, 8).keep_aspect_ratio(true),
            20,
            40,
        );
        assert_eq!(p, Some(plan(Crop::keep_aspect_ratio(20, 40, 8, 8), 8, 8)));
    }

    #[test]
    fn boxes_are_clipped_to_the_crop_and_scaled_with_it() {
        // 20x40 cropped to its central 20x20 (columns 10..30), resized to 10x10.
        let p = plan(Crop::keep_aspect_ratio(20, 40, 10, 10), 10, 10);
        assert_eq!(
            p.map_box([12.0, 4.0, 16.0, 8.0]),
            Some([1.0, 2.0, 3.0, 4.0])
        );
        assert_eq!(
            p.map_box([0.0, 0.0, 14.0, 20.0]),
            Some([0.0, 0.0, 2.0, 10.0])
        );
        assert_eq!(p.map_box([0.0, 0.0, 10.0, 20.0]), None);
    }
}
