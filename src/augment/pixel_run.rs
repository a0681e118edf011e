//! Element-wise ops over runs of pixels, in loops the compiler vectorizes: each op runs over
//! a cache-sized block at a time, per-channel constants tiled over eight pixels, and colour
//! steps that mix channels split eight pixels into one plane per channel.
//! The arithmetic is the per-pixel [`PixelOp::apply`]'s, so both give the same bits, except
//! the saturation step, which scales each channel's distance to the maximum instead of a
//! round trip through HSV (the same value in exact arithmetic; see [`saturate_lanes`]).

use super::engine::{PixelOp, clip};
use crate::transform::Isa;

/// Pixels per tile.
const TILE: usize = 8;

/// Elements of the largest tile (four channels).
const MAX_TILE: usize = 4 * TILE;

/// Elements per block: the ops run one after another on a block that stays in the
/// first-level cache, then move to the next.
const BLOCK: usize = 4096;

/// Runs `ops` in order over `pixels` (row-major, `channels` per pixel).
pub(crate) fn run_ops(ops: &[PixelOp], pixels: &mut [f32], channels: usize) {
    if ops.is_empty() || channels == 0 {
        return;
    }
    wide_lanes(
        #[inline(always)]
        || match channels {
            1 => run_blocks::<1>(ops, pixels),
            3 => run_blocks::<3>(ops, pixels),
            4 => run_blocks::<4>(ops, pixels),
            c => pixels
                .chunks_exact_mut(c)
                .for_each(|px| ops.iter().for_each(|op| op.apply(px))),
        },
    )
}

/// The ops over `C`-channel pixels, block by block, each op over the whole block.
#[inline(always)]
fn run_blocks<const C: usize>(ops: &[PixelOp], pixels: &mut [f32]) {
    for block in pixels.chunks_mut(BLOCK / (C * TILE) * (C * TILE)) {
        for op in ops {
            op.apply_run::<C>(block);
        }
    }
}

/// Runs `f` compiled for the widest vector lanes the kernel build allows (AVX2 on x86-64
/// when [`Isa::current`] has it). No FMA is formed (Rust never contracts `a * b + c`), so
/// every build gives the portable build's bits. `f` should only call `#[inline(always)]`
/// functions: a closure with big loops of its own may be compiled apart, without the lanes.
#[inline(always)]
pub(crate) fn wide_lanes<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if Isa::current() >= Isa::Avx2 {
        // SAFETY: the CPU has AVX2 and FMA (Isa::current checks before it reports them).
        return unsafe { avx2(f) };
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[inline(always)]
fn split<const C: usize, const N: usize>(t: &[f32], planes: &mut [[f32; N]; C]) {
    for (p, px) in t.chunks_exact(C).enumerate() {
        for ch in 0..C {
            planes[ch][p] = px[ch];
        }
    }
}

#[inline(always)]
fn join<const C: usize, const N: usize>(planes: &[[f32; N]; C], t: &mut [f32]) {
    for (p, px) in t.chunks_exact_mut(C).enumerate() {
        for ch in 0..C {
            px[ch] = planes[ch][p];
        }
    }
}

impl PixelOp {
    /// This op on every `C`-channel pixel of `pixels`.
    #[inline(always)]
    fn apply_run<const C: usize>(&self, pixels: &mut [f32]) {
        match self {
            &PixelOp::Brightness { delta, vr } => {
                for x in pixels.iter_mut() {
                    *x = clip(*x + delta, vr);
                }
            }
            &PixelOp::Contrast { c, ref means, vr } if means.len() == C => {
                per_channel::<C>(pixels, [means, means], |x, m, _| clip((x - m) * c + m, vr))
            }
            PixelOp::Saturation { k, vr } if C == 3 => on_planes::<3>(
                pixels,
                #[inline(always)]
                |rgb| saturate_lanes(rgb, *k, *vr),
            ),
            PixelOp::Affine { scale, offset } if scale.len() == C => {
                per_channel::<C>(pixels, [scale, scale], |x, s, _| x * s + offset)
            }
            PixelOp::Normalize {
                mean,
                std,
                inv_std,
                invert,
            } if mean.len() == C => {
                if *invert {
                    per_channel::<C>(pixels, [mean, std], |x, m, s| m + x * s)
                } else {
                    per_channel::<C>(pixels, [mean, inv_std], |x, m, s| (x - m) * s)
                }
            }
            PixelOp::Invert { hi } => {
                for x in pixels.iter_mut() {
                    *x = hi - *x;
                }
            }
            _ => pixels.chunks_exact_mut(C).for_each(|px| self.apply(px)),
        }
    }
}

/// `f(x, a, b)` on every element, `a` and `b` being its channel's constants (`C` each).
#[inline(always)]
fn per_channel<const C: usize>(
    pixels: &mut [f32],
    [a, b]: [&[f32]; 2],
    f: impl Fn(f32, f32, f32) -> f32,
) {
    // The constants of a whole tile, element for element (`C · TILE <= MAX_TILE`), so the
    // loop over a tile is one straight vector loop of known length.
    let (mut ta, mut tb) = ([0f32; MAX_TILE], [0f32; MAX_TILE]);
    for i in 0..C * TILE {
        (ta[i], tb[i]) = (a[i % C], b[i % C]);
    }
    let mut tiles = pixels.chunks_exact_mut(C * TILE);
    for t in &mut tiles {
        for ((x, ka), kb) in t.iter_mut().zip(&ta[..C * TILE]).zip(&tb[..C * TILE]) {
            *x = f(*x, *ka, *kb);
        }
    }
    for px in tiles.into_remainder().chunks_exact_mut(C) {
        for ((x, ka), kb) in px.iter_mut().zip(a).zip(b) {
            *x = f(*x, *ka, *kb);
        }
    }
}

/// `f` on [`TILE`] pixels at a time split into `C` channel planes (the remainder one pixel
/// at a time).
#[inline(always)]
fn on_planes<const C: usize>(
    pixels: &mut [f32],
    f: impl Fn([[f32; TILE]; C]) -> [[f32; TILE]; C] + Copy,
) {
    let mut tiles = pixels.chunks_exact_mut(C * TILE);
    for t in &mut tiles {
        let mut planes = [[0f32; TILE]; C];
        split(t, &mut planes);
        join(&f(planes), t);
    }
    for px in tiles.into_remainder().chunks_exact_mut(C) {
        // One pixel in lane 0 of a tile whose other lanes repeat it.
        let mut planes = [[0f32; TILE]; C];
        for ch in 0..C {
            planes[ch] = [px[ch]; TILE];
        }
        let out = f(planes);
        for ch in 0..C {
            px[ch] = out[ch][0];
        }
    }
}

/// Keras 3's `RandomSaturation` (conformance README §9.4) on RGB pixels: `S' = clip(S·k)`
/// to `vr`, back through `hsv_to_rgb` with the same hue and value.
///
/// `hsv_to_rgb` gives each channel `V · (1 - S' + S'·d)`, `d` fixed by the hue, so when
/// `S > 0` the new channel is `V - (V - x) · S'/S`: no hue is computed. A pixel with
/// `S = 0` (grey, or `V <= 0`) has hue 0 and becomes `[V, V(1 - S'), V(1 - S')]`, as
/// Keras' round trip gives. Takes `N` pixels as three channel planes and computes one
/// quantity at a time over all lanes (straight-line selects, which vectorize).
#[inline(always)]
fn saturate_lanes<const N: usize>(mut rgb: [[f32; N]; 3], k: f32, vr: [f32; 2]) -> [[f32; N]; 3] {
    // Keras zeroes values below epsilon before taking the maximum and minimum.
    for plane in rgb.iter_mut() {
        for x in plane.iter_mut() {
            *x = if x.abs() < f32::EPSILON { 0.0 } else { *x };
        }
    }
    for p in 0..N {
        let [r, g, b] = [rgb[0][p], rgb[1][p], rgb[2][p]];
        let v = r.max(g).max(b);
        let range = v - r.min(g).min(b);
        let s = if v > 0.0 { range / v } else { 0.0 };
        let s2 = clip(s * k, vr);
        let ratio = if s > 0.0 { s2 / s } else { 0.0 };
        let grey = v * (1.0 - s2);
        for (ch, plane) in rgb.iter_mut().enumerate() {
            let scaled = v - (v - plane[p]) * ratio;
            let flat = if ch == 0 { v } else { grey };
            plane[p] = if s > 0.0 { scaled } else { flat };
        }
    }
    rgb
}

/// The exact per-pixel saturation step (a round trip through HSV), for the tests.
#[cfg(test)]
fn saturate_hsv(px: [f32; 3], k: f32, vr: [f32; 2]) -> [f32; 3] {
    let [h, s, v] = super::hsv::rgb_to_hsv(px);
    super::hsv::hsv_to_rgb([h, (s * k).clamp(vr[0], vr[1]), v])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(n: usize, c: usize) -> Vec<f32> {
        (0..n * c)
            .map(|i| ((i * 7919 + 13) % 300) as f32 - 20.0)
            .collect()
    }

    #[test]
    fn every_op_over_a_run_gives_the_per_pixel_bits() {
        let ops = [
            PixelOp::Brightness {
                delta: 17.5,
                vr: [0.0, 255.0],
            },
            PixelOp::Contrast {
                c: 1.3,
                means: vec![100.0, 80.5, 60.25],
                vr: [0.0, 255.0],
            },
            PixelOp::Affine {
                scale: vec![0.5, 2.0, 1.0 / 255.0],
                offset: 0.25,
            },
            PixelOp::Normalize {
                mean: vec![123.675, 116.28, 103.53],
                std: vec![58.4, 57.1, 57.4],
                inv_std: vec![1.0 / 58.4, 1.0 / 57.1, 1.0 / 57.4],
                invert: false,
            },
            PixelOp::Invert { hi: 255.0 },
            PixelOp::Gray,
        ];
        // 37 pixels: tiles of 8 and a remainder.
        let src = pixels(37, 3);
        for op in &ops {
            let mut run = src.clone();
            run_ops(std::slice::from_ref(op), &mut run, 3);
            let mut one = src.clone();
            one.chunks_exact_mut(3).for_each(|px| op.apply(px));
            assert_eq!(run, one, "{op:?}");
        }
    }

    #[test]
    fn saturation_without_hsv_matches_the_round_trip() {
        let mut px = pixels(64, 3);
        px.extend([
            0.0, 0.0, 0.0, 50.0, 50.0, 50.0, -5.0, -10.0, -1.0, 1e-9, 3.0, 2.0,
        ]);
        for (k, vr) in [(1.4, [0.0, 255.0]), (0.6, [0.0, 255.0]), (3.0, [0.0, 1.0])] {
            let mut run = px.clone();
            run_ops(&[PixelOp::Saturation { k, vr }], &mut run, 3);
            for (a, b) in run.chunks_exact(3).zip(px.chunks_exact(3)) {
                let want = saturate_hsv([b[0], b[1], b[2]], k, vr);
                for (x, y) in a.iter().zip(want) {
                    assert!(
                        (x - y).abs() <= 1e-4 * y.abs().max(1.0),
                        "{b:?} {k}: {a:?} vs {want:?}"
                    );
                }
            }
        }
    }
}
