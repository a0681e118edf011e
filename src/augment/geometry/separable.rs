//! The resampling pass of an axis-aligned map (crops, resizes, flips, zooms and
//! translations: no turn, no tilt) in two separable passes in `f32`, straight from the
//! source's own pixel type.
//!
//! For each output row the source rows its taps name are blended into one row of the
//! columns any output column reads (contiguous, so the blend vectorizes, `u8` widened on the
//! fly); that row is then filtered along x into the output row, tap by tap over every output
//! value, and the element-wise ops of the chain run on the row while it is in cache. The taps
//! are those of the per-pixel path ([`axis_taps`]), rounded to `f32`: the result is the
//! per-pixel path's up to `f32` rounding (a few ulps of the value range).

use super::resample::{AxisBorder, Resample, Taps, axis_taps};
use crate::augment::engine::PixelOp;
use crate::augment::pixel_run::{run_ops, wide_lanes};
use crate::transform::Pixel;

/// The x-filter of every output pixel: `k` taps `(element offset in the blended row,
/// weight)` per pixel, padded with weight 0 for pixels with fewer taps.
struct ColumnTaps {
    k: usize,
    taps: Vec<(u32, f32)>,
    /// The first source column the blended row holds.
    first: usize,
    /// Source columns the blended row holds.
    span: usize,
}

/// Lanes of one pixel in [`ColumnTaps::filter`]: up to this many channels are blended as
/// one short vector (the blended row is padded so a pixel's lanes can be read whole).
const LANES: usize = 4;

impl ColumnTaps {
    fn new(cols: &[Taps], c: usize) -> ColumnTaps {
        let first = cols.iter().flat_map(|t| &t.idx).min().copied();
        let last = cols.iter().flat_map(|t| &t.idx).max().copied();
        // No column reads the image (all fill): the blended row is empty.
        let (first, span) = match (first, last) {
            (Some(a), Some(b)) => (a, b + 1 - a),
            _ => (0, 0),
        };
        let k = cols.iter().map(|t| t.idx.len()).max().unwrap_or(0);
        let mut taps = vec![(0u32, 0f32); cols.len() * k];
        for (t, pixel) in cols.iter().zip(taps.chunks_exact_mut(k.max(1))) {
            for (slot, (&i, &w)) in pixel.iter_mut().zip(t.idx.iter().zip(&t.w)) {
                *slot = (((i - first) * c) as u32, w as f32);
            }
        }
        ColumnTaps {
            k,
            taps,
            first,
            span,
        }
    }

    /// Elements of the blended row: the span, plus padding for whole-lane reads.
    fn row_len(&self, c: usize) -> usize {
        self.span * c + LANES
    }

    /// `out[x·c + ch] = Σ_j w_j · row[offset_j + ch]` over pixel `x`'s taps, in tap order.
    #[inline(always)]
    fn filter(&self, row: &[f32], out: &mut [f32], c: usize) {
        if self.k == 0 {
            out.fill(0.0);
            return;
        }
        let pixels = out.chunks_exact_mut(c).zip(self.taps.chunks_exact(self.k));
        if c <= LANES {
            for (px, taps) in pixels {
                let mut acc = [0f32; LANES];
                for &(i, w) in taps {
                    let i = i as usize;
                    let lanes: &[f32; LANES] =
                        row[i..i + LANES].try_into().unwrap_or(&[0.0; LANES]);
                    for (a, s) in acc.iter_mut().zip(lanes) {
                        *a += w * s;
                    }
                }
                for (o, a) in px.iter_mut().zip(acc) {
                    *o = a;
                }
            }
            return;
        }
        for (px, taps) in pixels {
            px.fill(0.0);
            for &(i, w) in taps {
                for (o, s) in px.iter_mut().zip(&row[i as usize..]) {
                    *o += w * s;
                }
            }
        }
    }
}

/// Blends source rows `taps` (weights rounded to `f32`) over `row.len()` elements starting
/// at element `start` of each row of `width` elements.
#[inline(always)]
fn blend_rows<T: Pixel>(src: &[T], width: usize, start: usize, taps: &Taps, row: &mut [f32]) {
    let n = row.len();
    if taps.idx.is_empty() {
        row.fill(0.0);
    }
    for (j, (&i, &w)) in taps.idx.iter().zip(&taps.w).enumerate() {
        let line = &src[i * width + start..i * width + start + n];
        let w = w as f32;
        for (o, s) in row.iter_mut().zip(line) {
            let v = w * (s.to_f64() as f32);
            *o = if j == 0 { v } else { *o + v };
        }
    }
}

/// The weight of the fill value in output pixel `(y, x)`, as
/// [`Resample::fill`](super::resample) computes it, per row and column.
struct FillWeights {
    value: f32,
    /// Per output column `(real + fill, real)`.
    cols: Vec<(f32, f32)>,
}

impl FillWeights {
    /// `None` when the fill value is 0 (the term vanishes).
    fn new(cols: &[Taps], value: f64) -> Option<FillWeights> {
        (value != 0.0).then(|| FillWeights {
            value: value as f32,
            cols: cols
                .iter()
                .map(|t| ((t.real() + t.fill) as f32, t.real() as f32))
                .collect(),
        })
    }

    fn add(&self, row: &Taps, out: &mut [f32], c: usize) {
        let (a, b) = ((row.real() + row.fill) as f32, row.real() as f32);
        for (px, (p, q)) in out.chunks_exact_mut(c).zip(&self.cols) {
            let f = self.value * (a * p - b * q);
            px.iter_mut().for_each(|o| *o += f);
        }
    }
}

impl Resample {
    /// Resamples `src` (`[h, w, c]`) through this axis-aligned map into `out`, running
    /// `post` on each output row as it is written.
    pub(super) fn run_separable<T: Pixel>(
        &self,
        src: &[T],
        [h, w, c]: [usize; 3],
        post: &[PixelOp],
        out: &mut [f32],
    ) {
        let m = &self.map.0;
        let (bx, by) = self.axis_borders();
        let [oh, ow] = self.out;
        let axis = |n: usize, len: usize, s: f64, b: AxisBorder, a: f64, o: f64| -> Vec<Taps> {
            (0..n)
                .map(|k| {
                    let mut t = Taps::default();
                    axis_taps(a * k as f64 + o, len, self.kernel, s, b, &mut t);
                    t
                })
                .collect()
        };
        let cols = axis(ow, w, self.scale(m[0][0].abs()), bx, m[0][0], m[0][2]);
        let rows = axis(oh, h, self.scale(m[1][1].abs()), by, m[1][1], m[1][2]);
        let columns = ColumnTaps::new(&cols, c);
        let fill = FillWeights::new(&cols, self.fill_value());
        let mut blended = vec![0f32; columns.row_len(c)];
        let span = columns.span * c;
        let line_len = ow * c;
        for (row, line) in rows.iter().zip(out.chunks_exact_mut(line_len.max(1))) {
            wide_lanes(
                #[inline(always)]
                || {
                    blend_rows(src, w * c, columns.first * c, row, &mut blended[..span]);
                    columns.filter(&blended, line, c);
                },
            );
            if let Some(f) = &fill {
                f.add(row, line, c);
            }
            run_ops(post, line, c);
        }
    }
}
