//! torchvision's `TrivialAugmentWide`: one op drawn uniformly from torchvision's fourteen,
//! at a uniformly drawn magnitude bin, run as the matching Keras 3 op (RandAugment's policy
//! ops, [`super::policy`]).

use serde::{Deserialize, Serialize};

use super::config::{Factor, Op, Rescaling, Scalars, invalid};
use super::geometry::{Fill, Kernel};
use super::params::Params;
use super::policy::policy_op;
use crate::rng::{SampleRng, below};
use crate::{Error, Result};

fn bins31() -> usize {
    31
}
fn nearest() -> Kernel {
    Kernel::Nearest
}

/// `TrivialAugmentWide(num_magnitude_bins=31, interpolation="nearest", fill=None)`
/// (torchvision): one op per image, drawn uniformly from `Identity`, `ShearX`, `ShearY`,
/// `TranslateX`, `TranslateY`, `Rotate`, `Brightness`, `Color`, `Contrast`, `Sharpness`,
/// `Posterize`, `Solarize`, `AutoContrast`, `Equalize`, at a magnitude drawn uniformly from
/// the op's `num_magnitude_bins` bins (negated with probability ½ for the signed ops), on
/// `0..255` images. Its warps fill with `fill` (0 for `None`) and fuse with the pipeline's
/// geometric ops into one pass.
///
/// ```
/// use augflow::augment::{Augment, Params};
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "TrivialAugmentWide",
///     "config": {"num_magnitude_bins": 31, "interpolation": "bilinear", "fill": 0}}]"#)?;
/// let mut image = Array3::from_shape_fn((16, 16, 3), |(y, x, c)| (y * 9 + x * 5 + c * 40) as f32);
/// let params = aug.run(&mut image, 0, 0, 4)?;
/// let Params::TrivialAugmentWide { op_name, magnitude } = &params[0] else { unreachable!() };
/// println!("{op_name} at {magnitude}");
/// let identity = [Params::TrivialAugmentWide { op_name: "Identity".into(), magnitude: 0.0 }];
/// let before = image.clone();
/// aug.apply(&identity, image.view_mut())?;
/// assert_eq!(image, before);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrivialAugmentWide {
    /// Bins of each op's magnitude range, at least 2.
    #[serde(default = "bins31")]
    pub num_magnitude_bins: usize,
    /// `nearest` or `bilinear`, for the warps.
    #[serde(default = "nearest")]
    pub interpolation: Kernel,
    /// The warps' fill value (`None`: 0); one number, or one per channel if all equal.
    #[serde(default)]
    pub fill: Option<Scalars>,
}

/// torchvision's ops, in its order.
pub(crate) const OP_NAMES: [&str; 14] = [
    "Identity",
    "ShearX",
    "ShearY",
    "TranslateX",
    "TranslateY",
    "Rotate",
    "Brightness",
    "Color",
    "Contrast",
    "Sharpness",
    "Posterize",
    "Solarize",
    "AutoContrast",
    "Equalize",
];

/// How an op's magnitude is drawn: `linspace(from, to, bins)`, whether its sign is drawn,
/// or no magnitude at all; `Posterize` uses torchvision's bits formula.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Magnitudes {
    None,
    Linear { from: f32, to: f32, signed: bool },
    PosterizeBits,
}

fn magnitudes(op_name: &str) -> Option<Magnitudes> {
    let linear = |from, to, signed| Magnitudes::Linear { from, to, signed };
    Some(match op_name {
        "Identity" | "AutoContrast" | "Equalize" => Magnitudes::None,
        "ShearX" | "ShearY" => linear(0.0, 0.99, true),
        "TranslateX" | "TranslateY" => linear(0.0, 32.0, true),
        "Rotate" => linear(0.0, 135.0, true),
        "Brightness" | "Color" | "Contrast" | "Sharpness" => linear(0.0, 0.99, true),
        "Posterize" => Magnitudes::PosterizeBits,
        "Solarize" => linear(255.0, 0.0, false),
        _ => return None,
    })
}

impl TrivialAugmentWide {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(2..=1024).contains(&self.num_magnitude_bins) {
            return Err(invalid(
                "num_magnitude_bins",
                self.num_magnitude_bins,
                "an integer in 2..=1024",
            ));
        }
        if !matches!(self.interpolation, Kernel::Nearest | Kernel::Bilinear) {
            return Err(Error::Unsupported {
                name: "interpolation",
                value: format!("{:?}", self.interpolation),
                reason: "TrivialAugmentWide's warps take \"nearest\" or \"bilinear\"".into(),
            });
        }
        self.fill_value().map(|_| ())
    }

    /// The warps' one fill value.
    fn fill_value(&self) -> Result<f64> {
        let values = match &self.fill {
            None => return Ok(0.0),
            Some(Scalars::One(v)) => vec![*v],
            Some(Scalars::PerChannel(v)) => v.clone(),
        };
        match values.first() {
            Some(&v) if v.is_finite() && values.iter().all(|x| *x == v) => Ok(v),
            _ => Err(invalid(
                "fill",
                format!("{values:?}"),
                "a finite number, or per-channel values that are all equal (augflow's warps fill one value)",
            )),
        }
    }

    /// Bin `i` of `linspace(from, to, bins)`, as torch computes it: the first half steps
    /// forward from `from`, the second half back from `to`, so both ends are exact (a
    /// forward step alone can end just below 0, a negative solarize threshold).
    fn bin(&self, from: f32, to: f32, i: usize) -> f32 {
        let last = self.num_magnitude_bins - 1;
        let step = (to - from) / last as f32;
        if i < self.num_magnitude_bins / 2 {
            from + step * i as f32
        } else {
            to - step * (last - i) as f32
        }
    }

    /// torchvision's posterize bits of bin `i`: `8 - round(i / ((bins - 1) / 6))`.
    fn bits(&self, i: usize) -> f32 {
        let per = (self.num_magnitude_bins - 1) as f32 / 6.0;
        8.0 - (i as f32 / per).round_ties_even()
    }

    /// The op, then its magnitude bin, then its sign (torchvision's order of draws).
    pub(crate) fn draw(&self, rng: &mut SampleRng) -> Params {
        let op_name = OP_NAMES[below(rng, OP_NAMES.len() as u64) as usize];
        let bins = self.num_magnitude_bins as u64;
        let magnitude = match magnitudes(op_name).unwrap_or(Magnitudes::None) {
            Magnitudes::None => 0.0,
            Magnitudes::PosterizeBits => self.bits(below(rng, bins) as usize),
            Magnitudes::Linear { from, to, signed } => {
                let m = self.bin(from, to, below(rng, bins) as usize);
                if signed && below(rng, 2) == 1 { -m } else { m }
            }
        };
        Params::TrivialAugmentWide {
            op_name: op_name.to_string(),
            magnitude,
        }
    }

    /// Checks the magnitude against the op's range: an error naming `op_name` or
    /// `magnitude`.
    fn check(&self, op_name: &str, m: f32) -> Result<()> {
        let Some(kind) = magnitudes(op_name) else {
            return Err(invalid("op_name", op_name, &format!("one of {OP_NAMES:?}")));
        };
        let ok = match kind {
            Magnitudes::None => m == 0.0,
            Magnitudes::PosterizeBits => m.fract() == 0.0 && (2.0..=8.0).contains(&m),
            Magnitudes::Linear { from, to, signed } => {
                let top = from.max(to);
                let low = if signed { -top } else { from.min(to) };
                m.is_finite() && (low..=top).contains(&m)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(invalid(
                "magnitude",
                m,
                &format!("a magnitude of {op_name} in torchvision's range ({kind:?})"),
            ))
        }
    }

    /// The Keras op (and parameters) that runs the drawn torchvision op; none for
    /// `Identity`, two for `Brightness` (a scale, then the clip).
    pub(crate) fn expand(&self, params: &Params) -> Result<Vec<(Op, Params)>> {
        let Params::TrivialAugmentWide { op_name, magnitude } = params else {
            return Err(invalid(
                "params",
                format!("{params:?}"),
                "TrivialAugmentWide's parameters",
            ));
        };
        let m = *magnitude;
        self.check(op_name, m)?;
        let op = |index: usize| self.op(index);
        Ok(match op_name.as_str() {
            "ShearX" => vec![(
                op(0)?,
                Params::RandomShear {
                    shear_factor: [m, 0.0],
                },
            )],
            "ShearY" => vec![(
                op(0)?,
                Params::RandomShear {
                    shear_factor: [0.0, m],
                },
            )],
            "TranslateX" => vec![(op(1)?, translation([m.trunc(), 0.0]))],
            "TranslateY" => vec![(op(1)?, translation([0.0, m.trunc()]))],
            "Rotate" => vec![(op(2)?, Params::RandomRotation { angle: m })],
            "Brightness" => vec![
                (
                    Op::Rescaling(Rescaling {
                        scale: Scalars::One(f64::from(1.0 + m)),
                        offset: 0.0,
                    }),
                    Params::Rescaling,
                ),
                (op(3)?, Params::RandomBrightness { rgb_delta: 0.0 }),
            ],
            "Color" => vec![(op(4)?, Params::RandomColorDegeneration { factor: -m })],
            "Contrast" => vec![(
                op(5)?,
                Params::RandomContrast {
                    contrast_factor: 1.0 + m,
                },
            )],
            "Sharpness" => vec![(
                op(6)?,
                Params::RandomSharpness {
                    factor: (1.0 + m) / 2.0,
                },
            )],
            "Posterize" => vec![(
                op(7)?,
                Params::RandomPosterization {
                    shift_factor: 8 - m as u8,
                },
            )],
            "Solarize" => vec![(
                op(8)?,
                Params::Solarization {
                    additions: 0.0,
                    thresholds: m,
                },
            )],
            "AutoContrast" => vec![(op(9)?, Params::AutoContrast)],
            "Equalize" => vec![(op(10)?, Params::Equalization)],
            _ => Vec::new(), // Identity
        })
    }

    /// Policy op `index` on `0..255` values, its warps filling with `fill` by `constant`.
    fn op(&self, index: usize) -> Result<Op> {
        let fill = self.fill_value()?;
        let mut op = policy_op(index, Factor::Scalar(0.0), [0.0, 255.0], self.interpolation)
            .ok_or_else(|| invalid("op", index, "a policy op index in 0..11"))?;
        match &mut op {
            Op::RandomShear(o) => (o.fill_mode, o.fill_value) = (Fill::Constant, fill),
            Op::RandomTranslation(o) => (o.fill_mode, o.fill_value) = (Fill::Constant, fill),
            Op::RandomRotation(o) => (o.fill_mode, o.fill_value) = (Fill::Constant, fill),
            _ => {}
        }
        Ok(op)
    }
}

fn translation(translations: [f32; 2]) -> Params {
    Params::RandomTranslation { translations }
}
