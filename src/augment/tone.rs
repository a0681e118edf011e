//! Per-channel statistics of an image: means (contrast), min/max (auto-contrast) and
//! equalization tables, each turned into an element-wise step.

use super::engine::{PixelOp, from255, to255};

/// The mean of each channel (accumulated in f64, eight pixels side by side).
pub(crate) fn means(pixels: &[f32], c: usize) -> Vec<f32> {
    let mut sums = vec![0f64; c];
    if c == 0 {
        return Vec::new();
    }
    let mut lanes = vec![0f64; 8 * c];
    let mut tiles = pixels.chunks_exact(8 * c);
    super::pixel_run::wide_lanes(
        #[inline(always)]
        || sum_tiles(&mut tiles, &mut lanes),
    );
    for (i, s) in lanes.iter().enumerate() {
        sums[i % c] += s;
    }
    for px in tiles.remainder().chunks_exact(c) {
        for (s, x) in sums.iter_mut().zip(px) {
            *s += f64::from(*x);
        }
    }
    let n = (pixels.len() / c.max(1)).max(1) as f64;
    sums.iter().map(|s| (s / n) as f32).collect()
}

/// Adds the tiles to `lanes` (one lane per element of a tile): `f32` sums over runs of 64
/// tiles, each added to its `f64` lane.
#[inline(always)]
fn sum_tiles(tiles: &mut std::slice::ChunksExact<'_, f32>, lanes: &mut [f64]) {
    let mut partial = vec![0f32; lanes.len()];
    for (n, t) in tiles.enumerate() {
        for (s, x) in partial.iter_mut().zip(t) {
            *s += x;
        }
        if n % 64 == 63 {
            for (l, p) in lanes.iter_mut().zip(&mut partial) {
                *l += f64::from(std::mem::take(p));
            }
        }
    }
    for (l, p) in lanes.iter_mut().zip(&partial) {
        *l += f64::from(*p);
    }
}

/// AutoContrast: per channel `v · 255/(max - min) - min · 255/(max - min)` on the 0..255 scale.
pub(crate) fn stretch(pixels: &[f32], c: usize, vr: [f32; 2]) -> PixelOp {
    let mut low = vec![f32::INFINITY; c];
    let mut high = vec![f32::NEG_INFINITY; c];
    for px in pixels.chunks_exact(c) {
        for ((lo, hi), x) in low.iter_mut().zip(high.iter_mut()).zip(px) {
            let v = to255(*x, vr);
            *lo = lo.min(v);
            *hi = hi.max(v);
        }
    }
    let scale = low
        .iter()
        .zip(&high)
        .map(|(lo, hi)| 255.0 / (hi - lo))
        .collect();
    PixelOp::Stretch { low, scale, vr }
}

/// Equalization lookup tables, one per channel (`None`: the channel stays as it is).
#[derive(Debug, Clone)]
pub(crate) struct Luts {
    tables: Vec<Option<Vec<f32>>>,
    bins: usize,
    scale: f32,
    offset: f32,
    vr: [f32; 2],
}

impl Luts {
    /// Keras' `Equalization`: a histogram of `v · (bins - 1) / 255` per channel over all pixels.
    pub(crate) fn new(pixels: &[f32], c: usize, bins: usize, vr: [f32; 2]) -> Luts {
        let (scale, offset) = if vr == [0.0, 255.0] {
            (1.0, 0.0)
        } else {
            let s = 255.0 / (vr[1] - vr[0]);
            (s, -vr[0] * s)
        };
        let last = (bins - 1) as f32;
        let mut hist = vec![vec![0u64; bins]; c];
        for px in pixels.chunks_exact(c) {
            for (h, x) in hist.iter_mut().zip(px) {
                let v = x * scale + offset;
                h[((v * last / 255.0) as i64).clamp(0, bins as i64 - 1) as usize] += 1;
            }
        }
        let tables = hist.iter().map(|h| table(h)).collect();
        Luts {
            tables,
            bins,
            scale,
            offset,
            vr,
        }
    }

    pub(crate) fn apply(&self, px: &mut [f32]) {
        let last = (self.bins - 1) as f32;
        for (x, t) in px.iter_mut().zip(&self.tables) {
            if let Some(t) = t {
                let v = *x * self.scale + self.offset;
                let i = ((v / 255.0 * last) as i64).clamp(0, self.bins as i64 - 1) as usize;
                *x = from255(t[i], self.vr);
            }
        }
    }
}

fn table(hist: &[u64]) -> Option<Vec<f32>> {
    if hist.iter().filter(|&&n| n > 0).count() < 2 {
        return None;
    }
    let first = hist.iter().position(|&n| n > 0).unwrap_or(0);
    let c0 = hist[first] as f64;
    let mut cdf = 0u64;
    let cdfs: Vec<f64> = hist
        .iter()
        .map(|n| {
            cdf += n;
            cdf as f64
        })
        .collect();
    let total = cdfs[cdfs.len() - 1] - c0;
    let denom = if total == 0.0 { 1.0 } else { total };
    Some(
        cdfs.iter()
            .map(|cb| {
                ((cb - c0) * 255.0 / denom)
                    .round_ties_even()
                    .clamp(0.0, 255.0) as f32
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equalization_spreads_two_levels_to_the_extremes() {
        let pixels = [10.0f32, 10.0, 20.0, 20.0];
        let luts = Luts::new(&pixels, 1, 256, [0.0, 255.0]);
        let mut out = pixels;
        out.iter_mut()
            .for_each(|x| luts.apply(std::slice::from_mut(x)));
        assert_eq!(out, [0.0, 0.0, 255.0, 255.0]);
    }

    #[test]
    fn a_constant_channel_is_left_alone_by_equalization_and_auto_contrast() {
        let pixels = [7.5f32; 6];
        let mut out = pixels;
        let luts = Luts::new(&pixels, 1, 256, [0.0, 255.0]);
        out.iter_mut()
            .for_each(|x| luts.apply(std::slice::from_mut(x)));
        assert_eq!(out, pixels);
        let PixelOp::Stretch { scale, .. } = stretch(&pixels, 1, [0.0, 255.0]) else {
            unreachable!()
        };
        assert!(scale[0].is_infinite());
    }
}
