//! The ops' configurations, under Keras 3's layer names and `get_config()` keys.

use serde::{Deserialize, Serialize};

use super::geometry::{
    CenterCrop, RandomCrop, RandomFlip, RandomPerspective, RandomResizedCrop, RandomRotation,
    RandomShear, RandomTranslation, RandomZoom, Resizing,
};
use crate::{Error, Result};

/// A factor as Keras takes it: one number `f` (each layer widens it to a range its own way)
/// or an explicit `[lower, upper]` pair.
///
/// ```
/// use augflow::augment::Factor;
/// let f: Factor = serde_json::from_str("0.2").unwrap();
/// assert_eq!(f, Factor::Scalar(0.2));
/// let r: Factor = serde_json::from_str("[0.1, 0.5]").unwrap();
/// assert_eq!(r, Factor::Range([0.1, 0.5]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Factor {
    /// One number `f`.
    Scalar(f64),
    /// `[lower, upper]`.
    Range([f64; 2]),
}

impl From<f64> for Factor {
    fn from(f: f64) -> Self {
        Factor::Scalar(f)
    }
}

impl From<[f64; 2]> for Factor {
    fn from(r: [f64; 2]) -> Self {
        Factor::Range(r)
    }
}

impl Factor {
    /// `[lower, upper]`, a scalar `f` becoming `[base, f]`, or `[-f, f]` when `base` is `None`.
    pub(crate) fn range(self, base: Option<f64>) -> [f64; 2] {
        match (self, base) {
            (Factor::Range(r), _) => r,
            (Factor::Scalar(f), Some(b)) => [b, f],
            (Factor::Scalar(f), None) => [-f.abs(), f.abs()],
        }
    }

    /// The range, checked to be finite, ordered and inside `[min, max]`.
    pub(crate) fn checked(
        self,
        name: &'static str,
        base: Option<f64>,
        min: f64,
        max: f64,
    ) -> Result<[f64; 2]> {
        let r = self.range(base);
        let ok = r.iter().all(|v| v.is_finite() && *v >= min && *v <= max) && r[0] <= r[1];
        if ok {
            Ok(r)
        } else {
            Err(Error::InvalidParameter {
                name,
                value: format!("{self:?}"),
                expected: format!(
                    "a number or an ordered [lower, upper] pair within [{min}, {max}]"
                ),
            })
        }
    }
}

/// One number, or one number per channel.
///
/// ```
/// use augflow::augment::Scalars;
/// let s: Scalars = serde_json::from_str("[0.5, 1.0, 2.0]").unwrap();
/// assert_eq!(s.per_channel(3).unwrap(), vec![0.5, 1.0, 2.0]);
/// assert_eq!(Scalars::One(2.0).per_channel(2).unwrap(), vec![2.0, 2.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalars {
    /// The same value for every channel.
    One(f64),
    /// One value per channel (the last axis).
    PerChannel(Vec<f64>),
}

impl Scalars {
    /// The values for `channels` channels; `None` when a list has another length.
    pub fn per_channel(&self, channels: usize) -> Option<Vec<f64>> {
        match self {
            Scalars::One(v) => Some(vec![*v; channels]),
            Scalars::PerChannel(v) if v.len() == channels || v.len() == 1 => {
                Some((0..channels).map(|c| v[c.min(v.len() - 1)]).collect())
            }
            Scalars::PerChannel(_) => None,
        }
    }

    fn all_finite(&self) -> bool {
        match self {
            Scalars::One(v) => v.is_finite(),
            Scalars::PerChannel(v) => !v.is_empty() && v.iter().all(|x| x.is_finite()),
        }
    }
}

/// A kernel size: `k` for `(k, k)`, or `(kx, ky)` (width first, as Keras).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Size {
    /// The same size along both axes.
    One(usize),
    /// `[along width, along height]`.
    Pair([usize; 2]),
}

impl Size {
    /// `[kx, ky]`.
    pub(crate) fn pair(self) -> [usize; 2] {
        match self {
            Size::One(k) => [k, k],
            Size::Pair(p) => p,
        }
    }
}

fn vr255() -> [f64; 2] {
    [0.0, 255.0]
}
fn one() -> Factor {
    Factor::Scalar(1.0)
}
fn zero() -> Factor {
    Factor::Scalar(0.0)
}
fn half() -> f64 {
    0.5
}
fn bins256() -> usize {
    256
}
fn kernel3() -> Size {
    Size::One(3)
}
fn erasing_scale() -> Factor {
    Factor::Range([0.02, 0.33])
}
fn minus_one() -> serde_json::Value {
    serde_json::json!(-1)
}

/// `RandomBrightness(factor, value_range=(0, 255))`: adds `U(factor) · (hi - lo)`, clips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomBrightness {
    /// `f` for `[-f, f]`, or `[lower, upper]`, within `[-1, 1]`.
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomContrast(factor, value_range=(0, 255))`: `(x - mean) · c + mean`, clipped, with
/// `c = U(1 - lower, 1 + upper)` (a scalar `f` is `[0, f]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomContrast {
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]`.
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomSaturation(factor, value_range=(0, 255))`: scales the HSV saturation by
/// `u / (1 - u)`, `u = U(factor)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSaturation {
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]`.
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomHue(factor, value_range=(0, 255))`: shifts the hue by `±U(factor) / 2` turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomHue {
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]`.
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomColorJitter`: brightness, contrast, saturation and hue, in that order, each only
/// when its factor is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomColorJitter {
    /// The range of the pixel values (Keras' default is `(0, 255)`).
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
    /// As [`RandomBrightness::factor`].
    #[serde(default)]
    pub brightness_factor: Option<Factor>,
    /// As [`RandomContrast::factor`].
    #[serde(default)]
    pub contrast_factor: Option<Factor>,
    /// As [`RandomSaturation::factor`].
    #[serde(default)]
    pub saturation_factor: Option<Factor>,
    /// As [`RandomHue::factor`].
    #[serde(default)]
    pub hue_factor: Option<Factor>,
}

/// `RandomGrayscale(factor=0.5)`: with probability `factor`, every channel becomes
/// `0.2989 r + 0.5870 g + 0.1140 b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomGrayscale {
    /// The probability, in `[0, 1]`.
    #[serde(default = "half")]
    pub factor: f64,
}

/// `RandomColorDegeneration(factor, value_range=(0, 255))`: blends towards grayscale by
/// `U(factor)`, clipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomColorDegeneration {
    /// `f` for `[-f, f]`, or `[lower, upper]`, within `[-1, 1]`.
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomSharpness(factor, value_range=(0, 255))`: `x + (1 - 2u) · (blur - x)` with a 3×3
/// smoothing kernel; `u < 0.5` softens, `u > 0.5` sharpens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSharpness {
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]`.
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomInvert(factor=1.0, value_range=(0, 255))`: `hi - x` when `U(0,1) < U(factor)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomInvert {
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]`.
    #[serde(default = "one")]
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomPosterization(factor, value_range=(0, 255))`: keeps `bits` high bits of each 8-bit
/// value, `bits` drawn in `[lower, upper)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomPosterization {
    /// `f` for `[1, f]`, or `[lower, upper]`, within `[1, 8]`.
    pub factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `Solarization(addition_factor=0, threshold_factor=0, value_range=(0, 255))`: adds a drawn
/// value, then inverts what is at or above a drawn threshold (both on the 0..255 scale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Solarization {
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]` (upper scaled by 255).
    #[serde(default = "zero")]
    pub addition_factor: Factor,
    /// `f` for `[0, f]`, or `[lower, upper]`, within `[0, 1]` (upper scaled by 255).
    #[serde(default = "zero")]
    pub threshold_factor: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `AutoContrast(value_range=(0, 255))`: stretches each channel to the full range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoContrast {
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `Equalization(value_range=(0, 255), bins=256)`: histogram equalization per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equalization {
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
    /// Histogram bins, in `2..=256`.
    #[serde(default = "bins256")]
    pub bins: usize,
}

/// `RandomGaussianBlur(factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomGaussianBlur {
    /// Probability range: blur when `U(0,1) < U(factor)`; within `[0, 1]`.
    #[serde(default = "one")]
    pub factor: Factor,
    /// `k`, or `[kx, ky]` (width first); positive.
    #[serde(default = "kernel3")]
    pub kernel_size: Size,
    /// `s` for `[0, s]`, or `[lower, upper]`, non-negative.
    #[serde(default = "one")]
    pub sigma: Factor,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `RandomErasing(factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomErasing {
    /// Probability range: erase when `U(0,1) < U(factor)`; within `[0, 1]`.
    #[serde(default = "one")]
    pub factor: Factor,
    /// Range of the erased side fraction squared (`r = sqrt(U(scale))` per axis), within `[0, 1]`.
    #[serde(default = "erasing_scale")]
    pub scale: Factor,
    /// `None`: Gaussian noise `N(0,1) · hi`, clipped; else a constant or one per channel.
    #[serde(default)]
    pub fill_value: Option<Scalars>,
    /// The range of the pixel values.
    #[serde(default = "vr255")]
    pub value_range: [f64; 2],
}

/// `Rescaling(scale, offset=0.0)`: `x · scale + offset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rescaling {
    /// One factor, or one per channel.
    pub scale: Scalars,
    /// Added after scaling.
    #[serde(default)]
    pub offset: f64,
}

/// `Normalization(axis=-1, mean, variance, invert=False)` with constant statistics:
/// `(x - mean) / max(sqrt(variance), 1e-7)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    /// `-1`/`[-1]` (per channel) or `null`/`[]` (one value for all).
    #[serde(default = "minus_one")]
    pub axis: serde_json::Value,
    /// The mean, one value or one per channel.
    pub mean: Scalars,
    /// The variance, one value or one per channel, non-negative.
    pub variance: Scalars,
    /// `true` maps normalized values back: `mean + x · std`.
    #[serde(default)]
    pub invert: bool,
}

/// One op of an [`super::Augment`] pipeline, serialized as Keras does:
/// `{"class_name": "RandomContrast", "config": {...}}`.
///
/// ```
/// use augflow::augment::{Op, RandomContrast};
/// let op: Op = serde_json::from_str(
///     r#"{"class_name": "RandomContrast", "config": {"factor": 0.2}}"#).unwrap();
/// assert_eq!(op, Op::RandomContrast(RandomContrast { factor: 0.2.into(), value_range: [0.0, 255.0] }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", content = "config")]
#[allow(missing_docs)]
pub enum Op {
    RandomBrightness(RandomBrightness),
    RandomContrast(RandomContrast),
    RandomSaturation(RandomSaturation),
    RandomHue(RandomHue),
    RandomColorJitter(RandomColorJitter),
    RandomGrayscale(RandomGrayscale),
    RandomColorDegeneration(RandomColorDegeneration),
    RandomSharpness(RandomSharpness),
    RandomInvert(RandomInvert),
    RandomPosterization(RandomPosterization),
    Solarization(Solarization),
    AutoContrast(AutoContrast),
    Equalization(Equalization),
    RandomGaussianBlur(RandomGaussianBlur),
    RandomErasing(RandomErasing),
    Rescaling(Rescaling),
    Normalization(Normalization),
    RandomFlip(RandomFlip),
    RandomTranslation(RandomTranslation),
    RandomRotation(RandomRotation),
    RandomZoom(RandomZoom),
    RandomShear(RandomShear),
    RandomPerspective(RandomPerspective),
    RandomCrop(RandomCrop),
    CenterCrop(CenterCrop),
    Resizing(Resizing),
    RandomResizedCrop(RandomResizedCrop),
    RandAugment(super::policy::RandAugment),
    RandomElasticTransform(super::geometry::RandomElasticTransform),
    AugMix(super::augmix::AugMix),
    TrivialAugmentWide(super::trivial::TrivialAugmentWide),
}

/// Keras bookkeeping keys of `get_config()` that do not change what an op computes.
const BOOKKEEPING: [&str; 4] = ["name", "trainable", "dtype", "seed"];

impl Op {
    /// Reads one layer as Keras serializes it (`{"class_name", "config"}`), accepting the
    /// bookkeeping keys of `get_config()` (`name`, `trainable`, `dtype`, `seed`) and
    /// `data_format: "channels_last"`, and validates it.
    ///
    /// ```
    /// use augflow::augment::Op;
    /// let op = Op::from_keras(serde_json::json!({"class_name": "RandomInvert",
    ///     "config": {"name": "random_invert", "seed": 3, "factor": [0, 0.5]}}))?;
    /// assert!(matches!(op, Op::RandomInvert(_)));
    /// let bad = Op::from_keras(serde_json::json!({"class_name": "RandomInvert",
    ///     "config": {"factor": 2.0}}));
    /// assert!(bad.is_err());
    /// # Ok::<(), augflow::Error>(())
    /// ```
    pub fn from_keras(mut layer: serde_json::Value) -> Result<Op> {
        if let Some(config) = layer.get_mut("config").and_then(|c| c.as_object_mut()) {
            for key in BOOKKEEPING {
                config.remove(key);
            }
            if let Some(format) = config.remove("data_format")
                && format != "channels_last"
            {
                return Err(Error::Unsupported {
                    name: "data_format",
                    value: format.to_string(),
                    reason: "augment ops take channels-last (H, W, C) images".into(),
                });
            }
        }
        let op: Op =
            serde_json::from_value(layer.clone()).map_err(|e| Error::InvalidParameter {
                name: "layer",
                value: layer.to_string(),
                expected: format!("a Keras 3 layer this module implements, with its config ({e})"),
            })?;
        op.validate()?;
        Ok(op)
    }

    /// Checks every argument; the error names the argument, its value and what is accepted.
    ///
    /// ```
    /// use augflow::augment::{Equalization, Op};
    /// let op = Op::Equalization(Equalization { value_range: [0.0, 255.0], bins: 1 });
    /// assert!(op.validate().unwrap_err().to_string().contains("bins"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        match self {
            Op::RandomBrightness(o) => {
                o.factor.checked("factor", None, -1.0, 1.0)?;
                check_range(o.value_range)
            }
            Op::RandomContrast(o) => unit_factor(o.factor, o.value_range),
            Op::RandomSaturation(o) => {
                // Keras accepts negative lower bounds here (k = u / (1 - u) < 0 flips hues).
                o.factor.checked("factor", Some(0.0), -1.0, 1.0)?;
                check_range(o.value_range)
            }
            Op::RandomHue(o) => unit_factor(o.factor, o.value_range),
            Op::RandomColorJitter(o) => {
                for op in o.parts() {
                    op.validate()?;
                }
                check_range(o.value_range)
            }
            Op::RandomGrayscale(o) => Factor::Range([o.factor, o.factor])
                .checked("factor", None, 0.0, 1.0)
                .map(|_| ()),
            Op::RandomColorDegeneration(o) => {
                o.factor.checked("factor", None, -1.0, 1.0)?;
                check_range(o.value_range)
            }
            Op::RandomSharpness(o) => unit_factor(o.factor, o.value_range),
            Op::RandomInvert(o) => unit_factor(o.factor, o.value_range),
            Op::RandomPosterization(o) => {
                o.factor.checked("factor", Some(1.0), 1.0, 8.0)?;
                check_range(o.value_range)
            }
            Op::Solarization(o) => {
                o.addition_factor
                    .checked("addition_factor", Some(0.0), 0.0, 1.0)?;
                o.threshold_factor
                    .checked("threshold_factor", Some(0.0), 0.0, 1.0)?;
                check_range(o.value_range)
            }
            Op::AutoContrast(o) => check_range(o.value_range),
            Op::Equalization(o) => {
                if !(2..=256).contains(&o.bins) {
                    return Err(invalid("bins", o.bins, "an integer in 2..=256"));
                }
                check_range(o.value_range)
            }
            Op::RandomGaussianBlur(o) => o.validate(),
            Op::RandomErasing(o) => o.validate(),
            Op::Rescaling(o) => {
                if !o.scale.all_finite() || !o.offset.is_finite() {
                    return Err(invalid("scale", format!("{:?}", o.scale), "finite numbers"));
                }
                Ok(())
            }
            Op::Normalization(o) => o.validate(),
            Op::RandomFlip(_) => Ok(()),
            Op::RandomTranslation(o) => o.validate(),
            Op::RandomRotation(o) => o.validate(),
            Op::RandomZoom(o) => o.validate(),
            Op::RandomShear(o) => o.validate(),
            Op::RandomPerspective(o) => o.validate(),
            Op::RandomCrop(o) => o.validate(),
            Op::CenterCrop(o) => o.validate(),
            Op::Resizing(o) => o.validate(),
            Op::RandomResizedCrop(o) => o.validate(),
            Op::RandAugment(o) => o.validate(),
            Op::RandomElasticTransform(o) => o.validate(),
            Op::AugMix(o) => o.validate(),
            Op::TrivialAugmentWide(o) => o.validate(),
        }
    }
}

impl RandomColorJitter {
    /// The configured sub-layers, in the order they apply.
    pub(crate) fn parts(&self) -> Vec<Op> {
        let vr = self.value_range;
        let mut ops = Vec::new();
        if let Some(factor) = self.brightness_factor {
            ops.push(Op::RandomBrightness(RandomBrightness {
                factor,
                value_range: vr,
            }));
        }
        if let Some(factor) = self.contrast_factor {
            ops.push(Op::RandomContrast(RandomContrast {
                factor,
                value_range: vr,
            }));
        }
        if let Some(factor) = self.saturation_factor {
            ops.push(Op::RandomSaturation(RandomSaturation {
                factor,
                value_range: vr,
            }));
        }
        if let Some(factor) = self.hue_factor {
            ops.push(Op::RandomHue(RandomHue {
                factor,
                value_range: vr,
            }));
        }
        ops
    }
}

impl RandomGaussianBlur {
    fn validate(&self) -> Result<()> {
        self.factor.checked("factor", Some(0.0), 0.0, 1.0)?;
        self.sigma.checked("sigma", Some(0.0), 0.0, 1e6)?;
        if self.kernel_size.pair().iter().any(|&k| k == 0 || k > 1025) {
            return Err(invalid(
                "kernel_size",
                format!("{:?}", self.kernel_size),
                "sizes in 1..=1025",
            ));
        }
        check_range(self.value_range)
    }
}

impl RandomErasing {
    fn validate(&self) -> Result<()> {
        self.factor.checked("factor", Some(0.0), 0.0, 1.0)?;
        self.scale.checked("scale", Some(0.0), 0.0, 1.0)?;
        if let Some(fill) = &self.fill_value
            && !fill.all_finite()
        {
            return Err(invalid(
                "fill_value",
                format!("{fill:?}"),
                "finite numbers or null",
            ));
        }
        check_range(self.value_range)
    }
}

impl Normalization {
    fn validate(&self) -> Result<()> {
        let axis_ok = [
            serde_json::json!(-1),
            serde_json::json!([-1]),
            serde_json::json!(null),
            serde_json::json!([]),
        ]
        .contains(&self.axis);
        if !axis_ok {
            return Err(Error::Unsupported {
                name: "axis",
                value: self.axis.to_string(),
                reason: "only -1 (per channel) or null (one value) are implemented".into(),
            });
        }
        let negative = match &self.variance {
            Scalars::One(v) => *v < 0.0,
            Scalars::PerChannel(v) => v.iter().any(|x| *x < 0.0),
        };
        if !self.mean.all_finite() || !self.variance.all_finite() || negative {
            return Err(invalid(
                "variance",
                format!("mean {:?}, variance {:?}", self.mean, self.variance),
                "finite means and non-negative finite variances",
            ));
        }
        Ok(())
    }
}

fn unit_factor(factor: Factor, value_range: [f64; 2]) -> Result<()> {
    factor.checked("factor", Some(0.0), 0.0, 1.0)?;
    check_range(value_range)
}

pub(crate) fn check_range(vr: [f64; 2]) -> Result<()> {
    if vr.iter().all(|v| v.is_finite()) && vr[0] < vr[1] {
        Ok(())
    } else {
        Err(invalid(
            "value_range",
            format!("{vr:?}"),
            "finite [lo, hi] with lo < hi",
        ))
    }
}

pub(crate) fn invalid(name: &'static str, value: impl std::fmt::Display, expected: &str) -> Error {
    Error::InvalidParameter {
        name,
        value: value.to_string(),
        expected: expected.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scalar_factor_widens_as_keras_does() {
        assert_eq!(Factor::Scalar(0.3).range(None), [-0.3, 0.3]);
        assert_eq!(Factor::Scalar(0.3).range(Some(0.0)), [0.0, 0.3]);
        assert_eq!(Factor::Scalar(4.0).range(Some(1.0)), [1.0, 4.0]);
    }

    #[test]
    fn invalid_arguments_name_the_argument() {
        let reversed = Op::AutoContrast(AutoContrast {
            value_range: [1.0, 0.0],
        });
        assert!(matches!(
            reversed.validate(),
            Err(Error::InvalidParameter {
                name: "value_range",
                ..
            })
        ));
        let axis = Op::Normalization(Normalization {
            axis: serde_json::json!(0),
            mean: Scalars::One(0.0),
            variance: Scalars::One(1.0),
            invert: false,
        });
        assert!(matches!(
            axis.validate(),
            Err(Error::Unsupported { name: "axis", .. })
        ));
        let nan = Op::RandomBrightness(RandomBrightness {
            factor: f64::NAN.into(),
            value_range: [0.0, 1.0],
        });
        assert!(matches!(
            nan.validate(),
            Err(Error::InvalidParameter { name: "factor", .. })
        ));
        let bits = Op::RandomPosterization(RandomPosterization {
            factor: 9.0.into(),
            value_range: [0.0, 255.0],
        });
        assert!(bits.validate().is_err());
    }
}
