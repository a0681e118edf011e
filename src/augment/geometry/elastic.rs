//! Keras 3's `RandomElasticTransform` (conformance README §8.10): every output pixel samples
//! the input at its own position plus a smooth random displacement.
//!
//! **Why it is not a [`Step`] of the projective chain.** A chain fuses because every op is a
//! 3×3 matrix and matrices multiply into one. A displacement field is a different vector
//! per pixel: no matrix composes with it, and no op after it can be pulled through it
//! without resampling the field itself. So the field **ends** a fused chain: the output
//! pixel `p` samples the chain's source at `H(p + d(p))`, where `H` is the product of the
//! chain's matrices (one pass, the kernel and fill of the elastic layer, which is the
//! chain's last warp), and any geometric op after it starts a new chain. The field is
//! applied in the general per-pixel path of the resampler (it is never axis-aligned).

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::layers::{finite, warp_kernel};
use super::resample::Border;
use super::{Fill, Homography, Kernel, Step};
use crate::augment::Factor;
use crate::augment::config::{check_range, invalid};
use crate::augment::engine::PixelOp;
use crate::augment::filter::{gaussian_blur, normal};
use crate::augment::params::Params;
use crate::rng::{SampleRng, uniform, unit_f64};
use crate::{Error, Result};

fn one() -> Factor {
    Factor::Scalar(1.0)
}
fn reflect() -> Fill {
    Fill::Reflect
}
fn vr255() -> [f64; 2] {
    [0.0, 255.0]
}

/// `RandomElasticTransform(factor=1.0, scale=1.0, interpolation="bilinear",
/// fill_mode="reflect", fill_value=0.0, value_range=(0, 255))`: with probability
/// `U(factor)`, displaces every pixel by a Gaussian-smoothed random field of strength
/// `s = U(scale)` (`alpha = max(H, W)·0.1·s` pixels, smoothing `sigma = min(H, W)·0.05·s`),
/// then clips every image to `value_range`. `fill_mode` also takes `mirror`.
///
/// Its field ends the fused geometric chain it follows (one pass); masks take the same
/// field with nearest sampling; boxes are left as they are, as Keras leaves them.
///
/// ```
/// use augflow::augment::{Augment, Params, Sample, resample_passes};
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[
///     {"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
///     {"class_name": "RandomElasticTransform", "config": {"factor": 1.0, "scale": 0.5, "fill_mode": "mirror"}}]"#)?;
/// let image = Array3::from_shape_fn((24, 32, 3), |(y, x, c)| (y * 7 + x * 3 + c * 20) as f32);
/// let before = resample_passes();
/// let (out, params) = aug.run_sample(Sample::new(image.clone()), 5, 0, 2)?;
/// let Params::RandomElasticTransform { apply_transform, .. } = &params[1] else { unreachable!() };
/// assert_eq!(resample_passes() - before, 1); // flip and field: one pass
/// assert_eq!(out.image.dim(), (24, 32, 3));
/// assert!(out.image.iter().all(|v| (0.0..=255.0).contains(v)));
/// println!("displaced: {apply_transform}");
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomElasticTransform {
    /// Probability range of applying: `f` for `[0, f]`, within `[0, 1]`.
    #[serde(default = "one")]
    pub factor: Factor,
    /// Range of the distortion strength `s`: `f` for `[0, f]`, within `[0, 1]`.
    #[serde(default = "one")]
    pub scale: Factor,
    /// `nearest` or `bilinear`.
    #[serde(default)]
    pub interpolation: Kernel,
    /// How the image extends beyond its border (`mirror` included).
    #[serde(default = "reflect")]
    pub fill_mode: Fill,
    /// The value of `constant` filling.
    #[serde(default)]
    pub fill_value: f64,
    /// The range the output is clipped to.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// The standard normal fields behind one elastic draw: a seed (what augflow draws) or the
/// fields themselves (`noise_dx`, `noise_dy`, row-major `H × W`, as captured from Keras).
///
/// ```
/// use augflow::augment::ElasticNoise;
/// let n: ElasticNoise = serde_json::from_str(r#"{"seed": 7}"#).unwrap();
/// assert_eq!(n, ElasticNoise::Seed(7));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElasticNoise {
    /// `2·H·W` standard normals (all of `dx`, then all of `dy`) from a stream seeded by it.
    Seed(u64),
    /// The fields given explicitly.
    Fields {
        /// Horizontal noise, `H·W` values.
        noise_dx: Vec<f32>,
        /// Vertical noise, `H·W` values.
        noise_dy: Vec<f32>,
    },
}

/// The displacement of every output pixel in pixels (`alpha·blur(noise·sigma)`), row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Displacement {
    dx: Vec<f32>,
    dy: Vec<f32>,
}

impl Displacement {
    /// The displaced position of output pixel `(x, y)` of a row of `width` pixels; the
    /// displacement is `f32`, the sum `f64` (Keras: integer grid + float32 field).
    pub(crate) fn displaced(&self, x: usize, y: usize, width: usize) -> (f64, f64) {
        let i = y * width + x;
        (
            x as f64 + f64::from(self.dx[i]),
            y as f64 + f64::from(self.dy[i]),
        )
    }

    /// The largest displacement along either axis, in pixels.
    pub(crate) fn largest(&self) -> f64 {
        let max = |f: &[f32]| f.iter().fold(0f32, |a, v| a.max(v.abs()));
        f64::from(max(&self.dx).max(max(&self.dy)))
    }

    /// The displacement `(dx, dy)` at point `q` (pixel centres) of an `h × w` field,
    /// interpolated bilinearly, clamped to the field's edge pixels.
    pub(crate) fn at(&self, q: [f64; 2], [h, w]: [usize; 2]) -> [f64; 2] {
        let axis = |v: f64, n: usize| {
            let v = v.clamp(0.0, (n - 1) as f64);
            let i = (v.floor() as usize).min(n.saturating_sub(2));
            (i, (i + 1).min(n - 1), v - i as f64)
        };
        let ((x0, x1, fx), (y0, y1, fy)) = (axis(q[0], w), axis(q[1], h));
        let lerp = |f: &[f32]| {
            let g = |y: usize, x: usize| f64::from(f[y * w + x]);
            let top = g(y0, x0) + fx * (g(y0, x1) - g(y0, x0));
            let bottom = g(y1, x0) + fx * (g(y1, x1) - g(y1, x0));
            top + fy * (bottom - top)
        };
        [lerp(&self.dx), lerp(&self.dy)]
    }
}

impl RandomElasticTransform {
    pub(crate) fn validate(&self) -> Result<()> {
        self.factor.checked("factor", Some(0.0), 0.0, 1.0)?;
        self.scale.checked("scale", Some(0.0), 0.0, 1.0)?;
        warp_kernel(self.interpolation)?;
        finite("fill_value", self.fill_value)?;
        check_range(self.value_range)
    }

    /// The apply flag (`U(0, 1) < U(factor)`), the strength `U(scale)` (per image; Keras
    /// draws it per batch) and a seed for the noise fields.
    pub(crate) fn draw(&self, rng: &mut SampleRng) -> Params {
        let p = self.factor.range(Some(0.0));
        let threshold = uniform(rng, p[0], p[1]);
        let apply_transform = unit_f64(rng) < threshold;
        let s = self.scale.range(Some(0.0));
        Params::RandomElasticTransform {
            apply_transform,
            distortion_factor: uniform(rng, s[0], s[1]) as f32,
            noise: ElasticNoise::Seed(rng.next_u64()),
        }
    }

    /// Keras' final clip to `value_range`, as an element-wise step (a brightness of 0).
    pub(crate) fn clip(&self) -> PixelOp {
        PixelOp::Brightness {
            delta: 0.0,
            vr: [self.value_range[0] as f32, self.value_range[1] as f32],
        }
    }

    /// The step (identity map, this op's kernel and fill) and the field for an input of
    /// `[h, w]`; `None` when the draw says not to apply.
    pub(crate) fn warp(
        &self,
        params: &Params,
        [h, w]: [usize; 2],
    ) -> Result<Option<(Step, Arc<Displacement>)>> {
        let Params::RandomElasticTransform {
            apply_transform,
            distortion_factor: s,
            noise,
        } = params
        else {
            return Err(invalid(
                "params",
                format!("{params:?}"),
                "RandomElasticTransform's parameters",
            ));
        };
        if !(s.is_finite() && (0.0..=1.0).contains(s)) {
            return Err(invalid("distortion_factor", s, "a number in [0, 1]"));
        }
        if !apply_transform {
            return Ok(None);
        }
        let (noise_dx, noise_dy) = noise_fields(noise, h * w)?;
        let alpha = (h.max(w) as f64 * 0.1) as f32 * s;
        let sigma = (h.min(w) as f64 * 0.05) as f32 * s;
        let field = Displacement {
            dx: smooth(noise_dx, [h, w], sigma, alpha),
            dy: smooth(noise_dy, [h, w], sigma, alpha),
        };
        let step = Step {
            map: Homography::IDENTITY,
            out: [h, w],
            kernel: Some(self.interpolation),
            antialias: false,
            border: Some(Border::Fill {
                mode: self.fill_mode,
                value: self.fill_value,
            }),
        };
        Ok(Some((step, Arc::new(field))))
    }
}

/// The two noise fields of `n` values each, drawn from the seed or checked.
fn noise_fields(noise: &ElasticNoise, n: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    match noise {
        ElasticNoise::Seed(seed) => {
            let mut rng = ChaCha8Rng::seed_from_u64(*seed);
            let dx = (0..n).map(|_| normal(&mut rng)).collect();
            let dy = (0..n).map(|_| normal(&mut rng)).collect();
            Ok((dx, dy))
        }
        ElasticNoise::Fields { noise_dx, noise_dy } => {
            for (name, f) in [("noise_dx", noise_dx), ("noise_dy", noise_dy)] {
                if f.len() != n {
                    return Err(Error::LengthMismatch {
                        name: name.into(),
                        got: f.len(),
                        other: "image pixels (H·W)".into(),
                        expected: n,
                    });
                }
            }
            Ok((noise_dx.clone(), noise_dy.clone()))
        }
    }
}

/// `alpha · blur(noise · sigma)` with Keras' kernel of `int(6·sigma) | 1` taps (float32);
/// a zero field when `sigma` is 0 (Keras' kernel would be NaN there, and `alpha` is 0).
fn smooth(mut noise: Vec<f32>, [h, w]: [usize; 2], sigma: f32, alpha: f32) -> Vec<f32> {
    if sigma <= 0.0 {
        return vec![0.0; noise.len()];
    }
    noise.iter_mut().for_each(|v| *v *= sigma);
    let k = ((6.0 * sigma) as usize) | 1;
    gaussian_blur(&mut noise, [h, w, 1], [k, k], [sigma, sigma]);
    noise.iter_mut().for_each(|v| *v *= alpha);
    noise
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elastic() -> RandomElasticTransform {
        serde_json::from_str(r#"{"factor": 1.0, "scale": 1.0}"#).unwrap()
    }

    #[test]
    fn a_zero_strength_or_an_unapplied_draw_moves_nothing() {
        let p = Params::RandomElasticTransform {
            apply_transform: true,
            distortion_factor: 0.0,
            noise: ElasticNoise::Seed(3),
        };
        let (_, field) = elastic().warp(&p, [5, 6]).unwrap().unwrap();
        assert_eq!(field.displaced(2, 3, 6), (2.0, 3.0));
        let off = Params::RandomElasticTransform {
            apply_transform: false,
            distortion_factor: 0.5,
            noise: ElasticNoise::Seed(3),
        };
        assert!(elastic().warp(&off, [5, 6]).unwrap().is_none());
    }

    #[test]
    fn fields_of_the_wrong_length_or_strength_are_errors_naming_them() {
        let short = Params::RandomElasticTransform {
            apply_transform: true,
            distortion_factor: 0.5,
            noise: ElasticNoise::Fields {
                noise_dx: vec![0.0; 29],
                noise_dy: vec![0.0; 30],
            },
        };
        let err = elastic().warp(&short, [5, 6]).unwrap_err();
        assert!(err.to_string().contains("noise_dx"), "{err}");
        let strong = Params::RandomElasticTransform {
            apply_transform: true,
            distortion_factor: f32::NAN,
            noise: ElasticNoise::Seed(0),
        };
        let err = elastic().warp(&strong, [5, 6]).unwrap_err();
        assert!(err.to_string().contains("distortion_factor"), "{err}");
    }
}
