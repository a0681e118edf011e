//! `AugMix`: chains of policy ops (RandAugment's, [`super::policy`]) applied to copies of the
//! image, mixed with Dirichlet weights and blended with the original (conformance README
//! §9.22).

use ndarray::Array3;
use serde::{Deserialize, Serialize};

use super::config::{Factor, Op, check_range, invalid};
use super::engine::range32;
use super::geometry::Kernel;
use super::mix::{beta, ln_gamma_draw};
use super::params::Params;
use super::pipeline::Augment;
use super::policy::{OP_NAMES, policy_op};
use super::sample::Sample;
use crate::rng::{SampleRng, below};
use crate::{Error, Result};

fn three() -> usize {
    3
}
fn factor03() -> Factor {
    Factor::Scalar(0.3)
}
fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn vr255() -> [f64; 2] {
    [0.0, 255.0]
}

/// `AugMix(value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0,
/// all_ops=True, interpolation="bilinear")`: `num_chains` copies of the image each go
/// through up to `chain_depth` ops (each step one of the ops or none, uniformly), the
/// chains are mixed with `Dirichlet(alpha)` weights and the mix is blended with the image by
/// `Beta(alpha, alpha)`: `clip(ws·x + (1 - ws)·Σ w_c·chain_c)`.
///
/// The ops are RandAugment's, configured the same way (`factor` for every factor, `reflect`
/// fill for the warps): shear, translation, rotation, posterization, solarization,
/// auto-contrast and equalization, plus brightness, colour degeneration, contrast and
/// sharpness with `all_ops`. The warps of one chain fuse into one pass. Drawn per image
/// (Keras: the chains per batch). Masks and boxes are left as they are, as Keras leaves them.
///
/// ```
/// use augflow::augment::{Augment, Params};
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "AugMix", "config": {"num_chains": 2, "chain_depth": 2}}]"#)?;
/// let mut image = Array3::from_shape_fn((16, 16, 3), |(y, x, c)| (y * 9 + x * 5 + c * 40) as f32);
/// let params = aug.run(&mut image, 0, 0, 4)?;
/// let Params::AugMix { chain_mixing_weights, chain_transforms, .. } = &params[0] else { unreachable!() };
/// assert_eq!((chain_mixing_weights.len(), chain_transforms.len()), (2, 2));
/// assert!((chain_mixing_weights.iter().sum::<f32>() - 1.0).abs() < 1e-5);
/// assert!(chain_transforms.iter().all(|c| c.len() <= 2));
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugMix {
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
    /// Chains mixed.
    #[serde(default = "three")]
    pub num_chains: usize,
    /// Steps per chain, at most (each step may be "none").
    #[serde(default = "three")]
    pub chain_depth: usize,
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]`: every op's factor.
    #[serde(default = "factor03")]
    pub factor: Factor,
    /// The Dirichlet and Beta parameter, > 0.
    #[serde(default = "one")]
    pub alpha: f64,
    /// Whether the four colour ops join the seven basic ones.
    #[serde(default = "yes")]
    pub all_ops: bool,
    /// `nearest` or `bilinear`, for the warps.
    #[serde(default)]
    pub interpolation: Kernel,
}

/// One step of an AugMix chain, under Keras' keys: the sub-layer and its transformation.
///
/// ```
/// use augflow::augment::{ChainStep, Params};
/// let s: ChainStep = serde_json::from_str(
///     r#"{"layer_name": "auto_contrast", "transformation": {"class_name": "AutoContrast"}}"#).unwrap();
/// assert_eq!(s.transformation, Params::AutoContrast);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainStep {
    /// Keras' attribute name of the op, e.g. `random_shear`.
    pub layer_name: String,
    /// The op's drawn parameters.
    pub transformation: Params,
}

/// The seven ops of `all_ops=False`, by their index in [`OP_NAMES`].
const BASIC_OPS: [usize; 7] = [0, 1, 2, 7, 8, 9, 10];
/// All eleven, in Keras' AugMix order.
const ALL_OPS: [usize; 11] = [0, 1, 2, 7, 8, 9, 10, 3, 4, 5, 6];

impl AugMix {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(1..=64).contains(&self.num_chains) {
            return Err(invalid(
                "num_chains",
                self.num_chains,
                "an integer in 1..=64",
            ));
        }
        if self.chain_depth > 64 {
            return Err(invalid(
                "chain_depth",
                self.chain_depth,
                "an integer in 0..=64",
            ));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(invalid("alpha", self.alpha, "a finite number > 0"));
        }
        self.factor.checked("factor", Some(0.0), 0.0, 1.0)?;
        if !matches!(self.interpolation, Kernel::Nearest | Kernel::Bilinear) {
            return Err(Error::Unsupported {
                name: "interpolation",
                value: format!("{:?}", self.interpolation),
                reason: "AugMix's warps take \"nearest\" or \"bilinear\"".into(),
            });
        }
        check_range(self.value_range)
    }

    fn choices(&self) -> &'static [usize] {
        if self.all_ops { &ALL_OPS } else { &BASIC_OPS }
    }

    /// The op named `layer_name` (Keras' attribute name), configured as AugMix configures
    /// it; `None` for a name outside its op list.
    ///
    /// ```
    /// use augflow::augment::{AugMix, Op};
    /// let m: AugMix = serde_json::from_str(r#"{"all_ops": false}"#).unwrap();
    /// assert!(matches!(m.op("random_shear"), Some(Op::RandomShear(_))));
    /// assert!(m.op("random_contrast").is_none()); // a colour op: all_ops only
    /// ```
    pub fn op(&self, layer_name: &str) -> Option<Op> {
        let index = self
            .choices()
            .iter()
            .copied()
            .find(|&i| OP_NAMES[i] == layer_name)?;
        policy_op(index, self.factor, self.value_range, self.interpolation)
    }

    fn sub_op(&self, layer_name: &str) -> Result<Op> {
        self.op(layer_name).ok_or_else(|| {
            let names: Vec<&str> = self.choices().iter().map(|&i| OP_NAMES[i]).collect();
            invalid("layer_name", layer_name, &format!("one of {names:?}"))
        })
    }

    /// Dirichlet chain weights, the Beta blend weight and the chains' steps for one image.
    pub(crate) fn draw(&self, rng: &mut SampleRng, shape: [usize; 3]) -> Result<Params> {
        let logs: Vec<f64> = (0..self.num_chains)
            .map(|_| ln_gamma_draw(rng, self.alpha))
            .collect();
        let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = logs.iter().map(|l| (l - top).exp()).sum();
        let chain_mixing_weights = logs
            .iter()
            .map(|l| ((l - top).exp() / total) as f32)
            .collect();
        let weight_sample = beta(rng, self.alpha) as f32;
        let choices = self.choices();
        let mut chain_transforms = Vec::with_capacity(self.num_chains);
        for _ in 0..self.num_chains {
            let mut steps = Vec::new();
            for _ in 0..self.chain_depth {
                // One of the ops, or none.
                let k = below(rng, choices.len() as u64 + 1) as usize;
                let Some(&index) = choices.get(k) else {
                    continue;
                };
                let layer_name = OP_NAMES[index].to_string();
                let transformation = self.sub_op(&layer_name)?.draw(rng, shape)?;
                steps.push(ChainStep {
                    layer_name,
                    transformation,
                });
            }
            chain_transforms.push(steps);
        }
        Ok(Params::AugMix {
            chain_mixing_weights,
            weight_sample,
            chain_transforms,
        })
    }

    /// The mixed image of row-major `pixels` of `shape` (README §9.22, float32).
    pub(crate) fn mix(
        &self,
        params: &Params,
        pixels: &[f32],
        shape: [usize; 3],
    ) -> Result<Vec<f32>> {
        let Params::AugMix {
            chain_mixing_weights: weights,
            weight_sample: ws,
            chain_transforms: chains,
        } = params
        else {
            return Err(invalid(
                "params",
                format!("{params:?}"),
                "AugMix's parameters",
            ));
        };
        if weights.len() != chains.len() {
            return Err(Error::LengthMismatch {
                name: "chain_mixing_weights".into(),
                got: weights.len(),
                other: "chain_transforms".into(),
                expected: chains.len(),
            });
        }
        if !(ws.is_finite() && (0.0..=1.0).contains(ws)) {
            return Err(invalid("weight_sample", ws, "a number in [0, 1]"));
        }
        if let Some(w) = weights.iter().find(|w| !w.is_finite()) {
            return Err(invalid("chain_mixing_weights", w, "finite weights"));
        }
        let image = Array3::from_shape_vec(shape, pixels.to_vec()).map_err(|e| Error::Shape {
            name: "image",
            shape: shape.to_vec(),
            expected: format!("a consistent buffer ({e})"),
        })?;
        let mut mixed = vec![0f32; pixels.len()];
        for (chain, w) in chains.iter().zip(weights) {
            let out = self.run_chain(chain, image.clone())?;
            for (m, v) in mixed.iter_mut().zip(out.iter()) {
                *m += v * w;
            }
        }
        let [lo, hi] = range32(self.value_range);
        Ok(pixels
            .iter()
            .zip(&mixed)
            .map(|(x, m)| (ws * x + (1.0 - ws) * m).clamp(lo, hi))
            .collect())
    }

    /// One chain's ops on a copy of the image, as one pipeline (its warps fuse).
    fn run_chain(&self, chain: &[ChainStep], image: Array3<f32>) -> Result<Array3<f32>> {
        let mut aug = Augment::new();
        for step in chain {
            aug = aug.with(self.sub_op(&step.layer_name)?)?;
        }
        let params: Vec<Params> = chain.iter().map(|s| s.transformation.clone()).collect();
        Ok(aug.transform(&params, Sample::new(image))?.image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::sample_rng;

    fn augmix(all_ops: bool) -> AugMix {
        AugMix {
            value_range: [0.0, 255.0],
            num_chains: 3,
            chain_depth: 3,
            factor: Factor::Scalar(0.3),
            alpha: 1.0,
            all_ops,
            interpolation: Kernel::Bilinear,
        }
    }

    #[test]
    fn draws_use_only_the_configured_ops_and_weights_sum_to_one() {
        for seed in 0..100 {
            let p = augmix(false)
                .draw(&mut sample_rng(seed, 0, 0), [8, 8, 3])
                .unwrap();
            let Params::AugMix {
                chain_mixing_weights,
                weight_sample,
                chain_transforms,
            } = p
            else {
                unreachable!()
            };
            assert!((chain_mixing_weights.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!((0.0..=1.0).contains(&weight_sample));
            for step in chain_transforms.iter().flatten() {
                let i = OP_NAMES.iter().position(|n| *n == step.layer_name).unwrap();
                assert!(BASIC_OPS.contains(&i), "{}", step.layer_name);
            }
        }
    }

    #[test]
    fn a_blend_weight_of_one_returns_the_clipped_image() {
        let pixels: Vec<f32> = (0..48).map(|v| v as f32 * 6.0).collect();
        let p = Params::AugMix {
            chain_mixing_weights: vec![1.0],
            weight_sample: 1.0,
            chain_transforms: vec![vec![ChainStep {
                layer_name: "auto_contrast".into(),
                transformation: Params::AutoContrast,
            }]],
        };
        let out = augmix(true).mix(&p, &pixels, [4, 4, 3]).unwrap();
        let clipped: Vec<f32> = pixels.iter().map(|v| v.min(255.0)).collect();
        assert_eq!(out, clipped);
    }

    #[test]
    fn unknown_ops_and_mismatched_weights_are_errors_naming_them() {
        let step = |name: &str| ChainStep {
            layer_name: name.into(),
            transformation: Params::AutoContrast,
        };
        let p = Params::AugMix {
            chain_mixing_weights: vec![1.0],
            weight_sample: 0.5,
            chain_transforms: vec![vec![step("random_twist")]],
        };
        let err = augmix(true).mix(&p, &[0.0; 3], [1, 1, 3]).unwrap_err();
        assert!(err.to_string().contains("layer_name"), "{err}");
        let p = Params::AugMix {
            chain_mixing_weights: vec![0.5, 0.5],
            weight_sample: 0.5,
            chain_transforms: vec![vec![step("auto_contrast")]],
        };
        let err = augmix(true).mix(&p, &[0.0; 3], [1, 1, 3]).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
        let mut bad = augmix(true);
        bad.alpha = 0.0;
        assert!(bad.validate().unwrap_err().to_string().contains("alpha"));
    }
}
