//! `RandAugment`: a policy that applies `num_ops` ops chosen among Keras 3's eleven, each as
//! the stand-alone layer with the policy's settings (conformance README §9.21).

use serde::{Deserialize, Serialize};

use super::config::{
    AutoContrast, Equalization, Factor, Op, RandomBrightness, RandomColorDegeneration,
    RandomContrast, RandomPosterization, RandomSharpness, Solarization, invalid,
};
use super::geometry::{Fill, Kernel, RandomRotation, RandomShear, RandomTranslation};
use super::params::Params;
use crate::rng::{SampleRng, below};
use crate::{Error, Result};

fn two() -> usize {
    2
}
fn half() -> Factor {
    Factor::Scalar(0.5)
}
fn vr255() -> [f64; 2] {
    [0.0, 255.0]
}

/// `RandAugment(value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear")`:
/// `num_ops` ops drawn (with replacement) among shear, translation, rotation, brightness,
/// colour degeneration, contrast, sharpness, posterization, solarization, auto-contrast and
/// equalization, in that index order; every factor is `factor` (a scalar `f` is `[0, f]`),
/// the warps fill by `reflect`, posterization keeps `1..max(1, int(8·hi))` bits.
///
/// Its geometric ops fuse with the pipeline's neighbouring geometric ops into one pass.
///
/// ```
/// use augflow::augment::{Augment, Params};
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "RandAugment", "config": {"num_ops": 3, "factor": 0.3}}]"#)?;
/// let mut image = Array3::from_shape_fn((16, 16, 3), |(y, x, c)| (y * 9 + x * 5 + c * 40) as f32);
/// let params = aug.run(&mut image, 0, 0, 4)?;
/// let Params::RandAugment { layer_idxes, transforms } = &params[0] else { unreachable!() };
/// assert_eq!((layer_idxes.len(), transforms.len()), (3, 3));
/// assert!(layer_idxes.iter().all(|i| *i < 11));
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandAugment {
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
    /// Ops applied per image.
    #[serde(default = "two")]
    pub num_ops: usize,
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]`.
    #[serde(default = "half")]
    pub factor: Factor,
    /// `nearest` or `bilinear`, for the warps.
    #[serde(default)]
    pub interpolation: Kernel,
}

/// The number of ops RandAugment chooses from.
pub(crate) const OPS: usize = 11;

impl RandAugment {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(1..=64).contains(&self.num_ops) {
            return Err(invalid("num_ops", self.num_ops, "an integer in 1..=64"));
        }
        self.factor.checked("factor", Some(0.0), 0.0, 1.0)?;
        if !matches!(self.interpolation, Kernel::Nearest | Kernel::Bilinear) {
            return Err(Error::Unsupported {
                name: "interpolation",
                value: format!("{:?}", self.interpolation),
                reason: "RandAugment's warps take \"nearest\" or \"bilinear\"".into(),
            });
        }
        super::config::check_range(self.value_range)
    }

    /// Op `index` (0..11) of the policy, configured as RandAugment configures it.
    ///
    /// ```
    /// use augflow::augment::{Op, RandAugment};
    /// let ra: RandAugment = serde_json::from_str(r#"{"factor": [0.1, 0.4]}"#).unwrap();
    /// assert!(matches!(ra.op(2), Some(Op::RandomRotation(_))));
    /// assert!(ra.op(11).is_none());
    /// ```
    pub fn op(&self, index: usize) -> Option<Op> {
        policy_op(index, self.factor, self.value_range, self.interpolation)
    }

    /// Draws the ops (with replacement) and each chosen op's parameters once (an op chosen
    /// twice reuses its draw, as Keras).
    pub(crate) fn draw(&self, rng: &mut SampleRng, shape: [usize; 3]) -> Result<Params> {
        let layer_idxes: Vec<u8> = (0..self.num_ops)
            .map(|_| below(rng, OPS as u64) as u8)
            .collect();
        let mut drawn: Vec<Option<Params>> = vec![None; OPS];
        for &i in &layer_idxes {
            let i = usize::from(i);
            if drawn[i].is_none() {
                drawn[i] = Some(self.sub_op(i)?.draw(rng, shape)?);
            }
        }
        let transforms = layer_idxes
            .iter()
            .filter_map(|&i| drawn[usize::from(i)].clone())
            .collect();
        Ok(Params::RandAugment {
            layer_idxes,
            transforms,
        })
    }

    fn sub_op(&self, index: usize) -> Result<Op> {
        self.op(index)
            .ok_or_else(|| invalid("layer_idxes", index, "indices in 0..11"))
    }

    /// The chosen ops with their parameters, in order.
    pub(crate) fn expand(&self, params: &Params) -> Result<Vec<(Op, Params)>> {
        let Params::RandAugment {
            layer_idxes,
            transforms,
        } = params
        else {
            return Err(invalid(
                "params",
                format!("{params:?}"),
                "RandAugment's parameters",
            ));
        };
        if layer_idxes.len() != transforms.len() {
            return Err(Error::LengthMismatch {
                name: "transforms".into(),
                got: transforms.len(),
                other: "layer_idxes".into(),
                expected: layer_idxes.len(),
            });
        }
        layer_idxes
            .iter()
            .zip(transforms)
            .map(|(&i, p)| Ok((self.sub_op(usize::from(i))?, p.clone())))
            .collect()
    }
}

/// Keras' attribute names of the policy ops, in RandAugment's index order.
pub(crate) const OP_NAMES: [&str; OPS] = [
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
];

/// Policy op `index` (see [`OP_NAMES`]) configured as Keras' policies (RandAugment, AugMix)
/// configure their sub-layers: `factor` for every factor, `reflect` fill for the warps,
/// posterization keeping `1..max(1, int(8·hi))` bits, 256 equalization bins.
pub(crate) fn policy_op(
    index: usize,
    factor: Factor,
    vr: [f64; 2],
    interpolation: Kernel,
) -> Option<Op> {
    let r = factor.range(Some(0.0));
    let f = Factor::Range(r);
    Some(match index {
        0 => Op::RandomShear(RandomShear {
            x_factor: f,
            y_factor: f,
            fill_mode: Fill::Reflect,
            interpolation,
            fill_value: 0.0,
            bounding_box_format: None,
        }),
        1 => Op::RandomTranslation(RandomTranslation {
            height_factor: f,
            width_factor: f,
            fill_mode: Fill::Reflect,
            interpolation,
            fill_value: 0.0,
            bounding_box_format: None,
        }),
        2 => Op::RandomRotation(RandomRotation {
            factor: f,
            fill_mode: Fill::Reflect,
            interpolation,
            fill_value: 0.0,
            bounding_box_format: None,
        }),
        3 => Op::RandomBrightness(RandomBrightness {
            factor: f,
            value_range: vr,
        }),
        4 => Op::RandomColorDegeneration(RandomColorDegeneration {
            factor: f,
            value_range: vr,
        }),
        5 => Op::RandomContrast(RandomContrast {
            factor: f,
            value_range: vr,
        }),
        6 => Op::RandomSharpness(RandomSharpness {
            factor: f,
            value_range: vr,
        }),
        7 => Op::RandomPosterization(RandomPosterization {
            factor: Factor::Range([1.0, ((8.0 * r[1]) as i64).max(1) as f64]),
            value_range: vr,
        }),
        8 => Op::Solarization(Solarization {
            addition_factor: f,
            threshold_factor: f,
            value_range: vr,
        }),
        9 => Op::AutoContrast(AutoContrast { value_range: vr }),
        10 => Op::Equalization(Equalization {
            value_range: vr,
            bins: 256,
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::{Augment, Sample, resample_passes};
    use crate::rng::sample_rng;

    fn policy(num_ops: usize) -> RandAugment {
        RandAugment {
            value_range: [0.0, 255.0],
            num_ops,
            factor: Factor::Scalar(0.5),
            interpolation: Kernel::Bilinear,
        }
    }

    #[test]
    fn an_op_chosen_twice_reuses_its_draw() {
        for seed in 0..200 {
            let p = policy(6)
                .draw(&mut sample_rng(seed, 0, 0), [8, 8, 3])
                .unwrap();
            let Params::RandAugment {
                layer_idxes,
                transforms,
            } = p
            else {
                unreachable!()
            };
            for a in 0..6 {
                for b in 0..6 {
                    if layer_idxes[a] == layer_idxes[b] {
                        assert_eq!(transforms[a], transforms[b]);
                    }
                }
            }
        }
    }

    #[test]
    fn chosen_warps_fuse_with_the_pipelines_geometric_ops() {
        let aug = Augment::new()
            .with(Op::RandAugment(policy(2)))
            .unwrap()
            .with(Op::RandomFlip(crate::augment::RandomFlip {
                mode: crate::augment::FlipMode::Horizontal,
                bounding_box_format: None,
            }))
            .unwrap();
        let shear = Params::RandomShear {
            shear_factor: [0.1, 0.0],
        };
        let rotation = Params::RandomRotation { angle: 10.0 };
        let p = [
            Params::RandAugment {
                layer_idxes: vec![0, 2],
                transforms: vec![shear, rotation],
            },
            Params::RandomFlip { flips: true },
        ];
        let before = resample_passes();
        let out = aug
            .transform(&p, Sample::new(ndarray::Array3::zeros((8, 8, 3))))
            .unwrap();
        assert_eq!(resample_passes() - before, 1);
        assert_eq!(out.image.dim(), (8, 8, 3));
    }

    #[test]
    fn bad_indices_and_lengths_are_errors() {
        let bad = Params::RandAugment {
            layer_idxes: vec![11],
            transforms: vec![Params::AutoContrast],
        };
        assert!(policy(1).expand(&bad).is_err());
        let short = Params::RandAugment {
            layer_idxes: vec![9, 9],
            transforms: vec![Params::AutoContrast],
        };
        assert!(matches!(
            policy(2).expand(&short),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(policy(0).validate().is_err());
    }
}
