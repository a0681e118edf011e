//! Neighbourhood and region ops: the sharpness kernel, the Gaussian blur, the erased rectangle.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::params::ErasingFill;
use crate::{Error, Result};

/// `x + (1 - 2u) · (blur - x)`, clipped, with `[[1,1,1],[1,5,1],[1,1,1]] / 13` and zero padding.
pub(crate) fn sharpen(pixels: &mut [f32], [h, w, c]: [usize; 3], u: f32, vr: [f32; 2]) {
    let src = pixels.to_vec();
    let (edge, centre) = (1.0f32 / 13.0, 5.0f32 / 13.0);
    let blend = 1.0 - 2.0 * u;
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let mut acc = 0.0f32;
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        let (sy, sx) = (y as i64 + dy, x as i64 + dx);
                        if sy < 0 || sx < 0 || sy >= h as i64 || sx >= w as i64 {
                            continue;
                        }
                        let weight = if dy == 0 && dx == 0 { centre } else { edge };
                        acc += weight * src[(sy as usize * w + sx as usize) * c + ch];
                    }
                }
                let i = (y * w + x) * c + ch;
                pixels[i] = (src[i] + blend * (acc - src[i])).clamp(vr[0], vr[1]);
            }
        }
    }
}

/// The normalized 1-D Gaussian of `n` taps and deviation `sigma` (Keras' formula).
pub(crate) fn gaussian_kernel(n: usize, sigma: f32) -> Vec<f32> {
    let mid = (n as f32 - 1.0) / 2.0;
    let g: Vec<f32> = (0..n)
        .map(|i| (-0.5 * ((i as f32 - mid) / sigma).powi(2)).exp())
        .collect();
    let sum: f32 = g.iter().sum();
    g.iter().map(|v| v / sum).collect()
}

/// Separable Gaussian blur with zero padding (`(n-1)/2` before); `[kx, ky]`, `[sx, sy]`.
pub(crate) fn gaussian_blur(
    pixels: &mut [f32],
    [h, w, c]: [usize; 3],
    [kx, ky]: [usize; 2],
    [sx, sy]: [f32; 2],
) {
    let gx = gaussian_kernel(kx, sx);
    let gy = gaussian_kernel(ky, sy);
    let mut tmp = vec![0f32; pixels.len()];
    let (px, py) = ((kx - 1) / 2, (ky - 1) / 2);
    for y in 0..h {
        for x in 0..w {
            for (i, g) in gx.iter().enumerate() {
                let Some(sx) = (x + i).checked_sub(px).filter(|&s| s < w) else {
                    continue;
                };
                for ch in 0..c {
                    tmp[(y * w + x) * c + ch] += g * pixels[(y * w + sx) * c + ch];
                }
            }
        }
    }
    pixels.fill(0.0);
    for y in 0..h {
        for (i, g) in gy.iter().enumerate() {
            let Some(sy) = (y + i).checked_sub(py).filter(|&s| s < h) else {
                continue;
            };
            for x in 0..w * c {
                pixels[y * w * c + x] += g * tmp[sy * w * c + x];
            }
        }
    }
}

/// A standard normal from two uniforms (Box–Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// Writes the fill into `rows × cols`.
pub(crate) fn erase(
    pixels: &mut [f32],
    [h, w, c]: [usize; 3],
    rows: [usize; 2],
    cols: [usize; 2],
    fill: &ErasingFill,
    vr: [f32; 2],
) -> Result<()> {
    if rows[0] > rows[1] || rows[1] > h || cols[0] > cols[1] || cols[1] > w {
        return Err(Error::InvalidParameter {
            name: "rows/cols",
            value: format!("{rows:?} x {cols:?}"),
            expected: format!("ordered bounds within the {h}x{w} image"),
        });
    }
    let mut noise = match fill {
        ErasingFill::Noise(seed) => Some(ChaCha8Rng::seed_from_u64(*seed)),
        ErasingFill::Constant(v) if v.len() == c => None,
        ErasingFill::Constant(v) => {
            return Err(Error::InvalidParameter {
                name: "fill_value",
                value: format!("{v:?}"),
                expected: format!("{c} values, one per channel"),
            });
        }
    };
    for y in rows[0]..rows[1] {
        for x in cols[0]..cols[1] {
            for ch in 0..c {
                pixels[(y * w + x) * c + ch] = match (&mut noise, fill) {
                    (Some(rng), _) => (normal(rng) * vr[1]).clamp(vr[0], vr[1]),
                    (None, ErasingFill::Constant(v)) => v[ch],
                    (None, ErasingFill::Noise(_)) => 0.0,
                };
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_kernel_is_normalized_and_symmetric() {
        let g = gaussian_kernel(5, 1.0);
        assert!((g.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(g[0], g[4]);
        assert!(g[2] > g[1]);
    }

    #[test]
    fn blur_of_a_constant_darkens_only_the_border() {
        let mut px = vec![10.0f32; 5 * 5];
        gaussian_blur(&mut px, [5, 5, 1], [3, 3], [1.0, 1.0]);
        assert!((px[12] - 10.0).abs() < 1e-5);
        assert!(px[0] < 10.0);
    }

    #[test]
    fn sharpness_half_is_identity() {
        let mut px: Vec<f32> = (0..16).map(|v| v as f32 * 10.0).collect();
        let before = px.clone();
        sharpen(&mut px, [4, 4, 1], 0.5, [0.0, 255.0]);
        assert_eq!(px, before);
    }
}
