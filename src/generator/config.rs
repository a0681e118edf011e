//! `GeneratorConfig`: every `ImageDataGenerator` argument under its Keras name, validated once.

use serde::{Deserialize, Serialize};

use super::{ShiftRange, ZoomRange};
use crate::array::DType;
use crate::error::check_finite;
use crate::transform::{DataFormat, FillMode, Geometry, Interpolation, Kernel};
use crate::{Error, Result};

/// Every constructor argument of Keras' `ImageDataGenerator` (spec §2), under its Keras name,
/// plus augflow's `geometry`, `kernel` and `zca_memory_budget`.
///
/// It (de)serializes with those names, so a JSON or TOML file written for Keras maps onto it;
/// unknown keys are rejected with their name. Defaults are Keras' defaults.
///
/// ```
/// use augflow::GeneratorConfig;
/// let cfg: GeneratorConfig = serde_json::from_str(
///     r#"{"rotation_range": 20, "width_shift_range": 0.1, "zoom_range": [0.9, 1.2], "fill_mode": "reflect"}"#,
/// ).unwrap();
/// assert_eq!(cfg.rotation_range, 20.0);
/// assert!(serde_json::from_str::<GeneratorConfig>(r#"{"rotation": 20}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// Subtract the per-channel dataset mean (needs [`fit`](crate::ImageDataGenerator::fit)).
    pub featurewise_center: bool,
    /// Subtract each image's own mean.
    pub samplewise_center: bool,
    /// Divide by the per-channel dataset std (needs `fit`).
    pub featurewise_std_normalization: bool,
    /// Divide each image by its own std.
    pub samplewise_std_normalization: bool,
    /// ZCA whitening (needs `fit`).
    pub zca_whitening: bool,
    /// Added to the singular values in ZCA (spec §10).
    pub zca_epsilon: f64,
    /// Rotation range in degrees: `theta` uniform in `[-r, r]`.
    pub rotation_range: f64,
    /// Horizontal shift range (see [`ShiftRange`] and [`Geometry`]).
    pub width_shift_range: ShiftRange,
    /// Vertical shift range (see [`ShiftRange`] and [`Geometry`]).
    pub height_shift_range: ShiftRange,
    /// Brightness factor range `[lo, hi]`; `1.0` is unchanged.
    pub brightness_range: Option<[f64; 2]>,
    /// Shear range in degrees.
    pub shear_range: f64,
    /// Zoom range (see [`ZoomRange`]).
    pub zoom_range: ZoomRange,
    /// Channel shift range: an intensity uniform in `[-c, c]`.
    pub channel_shift_range: f64,
    /// How points outside the image are filled.
    pub fill_mode: FillMode,
    /// Fill value for `fill_mode = constant`.
    pub cval: f64,
    /// Flip columns with probability 1/2.
    pub horizontal_flip: bool,
    /// Flip rows with probability 1/2.
    pub vertical_flip: bool,
    /// Multiply every value by this (after the augmentation); `None` or `0` = off.
    pub rescale: Option<f64>,
    /// Layout of images.
    pub data_format: DataFormat,
    /// Fraction of the data reserved for validation (`0` = no split).
    pub validation_split: f64,
    /// Spline order: 0 (nearest) or 1 (bilinear).
    pub interpolation_order: u32,
    /// Element type of generated batches: `float32` (default), `float64`, or `uint8` (pixel
    /// values rounded half up and saturated; no rescale or normalization, see
    /// [`check_integer_output`](Self::check_integer_output)).
    pub dtype: DType,
    /// Corrected (default) or Keras' geometry.
    pub geometry: Geometry,
    /// Fast (default) or bit-exact resampling arithmetic, whatever the geometry.
    pub kernel: Kernel,
    /// Largest ZCA whitening matrix `fit` may build, in bytes (default 2 GiB).
    pub zca_memory_budget: u64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            featurewise_center: false,
            samplewise_center: false,
            featurewise_std_normalization: false,
            samplewise_std_normalization: false,
            zca_whitening: false,
            zca_epsilon: 1e-6,
            rotation_range: 0.0,
            width_shift_range: ShiftRange::default(),
            height_shift_range: ShiftRange::default(),
            brightness_range: None,
            shear_range: 0.0,
            zoom_range: ZoomRange::default(),
            channel_shift_range: 0.0,
            fill_mode: FillMode::Nearest,
            cval: 0.0,
            horizontal_flip: false,
            vertical_flip: false,
            rescale: None,
            data_format: DataFormat::ChannelsLast,
            validation_split: 0.0,
            interpolation_order: 1,
            dtype: DType::F32,
            geometry: Geometry::Corrected,
            kernel: Kernel::Fast,
            zca_memory_budget: 2 << 30,
        }
    }
}

/// The largest magnitude accepted for `rotation_range` and `shear_range`, in degrees.
///
/// Angles repeat every 360 degrees, so a larger range adds nothing; the bound only keeps the
/// drawn angle (`uniform(-r, r)`, which needs `2r` finite) precise to well under a degree.
pub const ANGLE_LIMIT: f64 = 1e6;

/// The largest magnitude accepted for `rescale`, `brightness_range`, `cval` and
/// `channel_shift_range`: pixel values are assumed to stay within `±PIXEL_LIMIT` (every
/// `u8` and `u16` image, and float images on any usual scale, do).
///
/// With pixels, `cval`, `rescale` and brightness each at most `1e6` in magnitude, an
/// augmented and rescaled value is at most `1e18`, and its square (the samplewise std) at
/// most `1e36`: both finite in `f32` (max `3.4e38`), so finite input never gives a
/// non-finite output in `f32` or `f64`. (Half-precision outputs hold only up to 65504.)
pub const PIXEL_LIMIT: f64 = 1e6;

fn non_negative(name: &'static str, v: f64, limit: f64, what: &str) -> Result<()> {
    check_finite(name, v)?;
    if !(0.0..=limit).contains(&v) {
        return Err(Error::invalid(
            name,
            v,
            format!("a finite number in [0, {limit:e}] ({what})"),
        ));
    }
    Ok(())
}

fn magnitude(name: &'static str, v: f64, what: &str) -> Result<()> {
    check_finite(name, v)?;
    if v.abs() > PIXEL_LIMIT {
        return Err(Error::invalid(
            name,
            v,
            format!(
                "a finite number with magnitude <= {PIXEL_LIMIT:e} ({what}); larger values overflow the pixels"
            ),
        ));
    }
    Ok(())
}

impl GeneratorConfig {
    /// Validates every field and applies Keras' overrides (spec §2, step 8), reporting each
    /// with `log::warn!`. Returns the effective configuration and the interpolation.
    ///
    /// ```
    /// use augflow::GeneratorConfig;
    /// let cfg = GeneratorConfig { zca_whitening: true, featurewise_std_normalization: true, ..Default::default() };
    /// let eff = cfg.validated().unwrap();
    /// assert!(eff.featurewise_center && !eff.featurewise_std_normalization);
    /// ```
    pub fn validated(&self) -> Result<GeneratorConfig> {
        let mut c = self.clone();
        non_negative("rotation_range", c.rotation_range, ANGLE_LIMIT, "degrees")?;
        non_negative("shear_range", c.shear_range, ANGLE_LIMIT, "degrees")?;
        non_negative(
            "channel_shift_range",
            c.channel_shift_range,
            PIXEL_LIMIT,
            "an intensity",
        )?;
        non_negative(
            "zca_epsilon",
            c.zca_epsilon,
            f64::MAX,
            "added to singular values",
        )?;
        c.width_shift_range.validate("width_shift_range")?;
        c.height_shift_range.validate("height_shift_range")?;
        c.zoom_range.validate()?;
        magnitude("cval", c.cval, "a pixel value")?;
        if let Some([a, b]) = c.brightness_range {
            magnitude("brightness_range", a, "a brightness factor")?;
            magnitude("brightness_range", b, "a brightness factor")?;
        }
        if let Some(r) = c.rescale {
            magnitude("rescale", r, "a factor, e.g. 1/255")?;
        }
        let v = c.validation_split;
        if !v.is_finite() || !(0.0..1.0).contains(&v) {
            return Err(Error::invalid(
                "validation_split",
                v,
                "strictly between 0 and 1 (or 0 for no split)",
            ));
        }
        Interpolation::from_order(c.interpolation_order)?;
        if !matches!(c.dtype, DType::F32 | DType::F64 | DType::U8) {
            return Err(Error::invalid(
                "dtype",
                c.dtype,
                "\"float32\", \"float64\" or \"uint8\"",
            ));
        }
        if c.dtype == DType::U8 {
            c.check_integer_output()?;
        }
        if c.zca_memory_budget == 0 {
            return Err(Error::invalid(
                "zca_memory_budget",
                0,
                "a number of bytes > 0",
            ));
        }
        // spec §2 step 8: the checks read the arguments, the assignments go to the result.
        let (fc, fstd) = (self.featurewise_center, self.featurewise_std_normalization);
        if self.zca_whitening {
            if !fc {
                c.featurewise_center = true;
                log::warn!(
                    "This ImageDataGenerator specifies `zca_whitening`, which overrides setting of `featurewise_center`."
                );
            }
            if fstd {
                c.featurewise_std_normalization = false;
                log::warn!(
                    "This ImageDataGenerator specifies `zca_whitening` which overrides setting of `featurewise_std_normalization`."
                );
            }
        }
        if fstd && !fc {
            c.featurewise_center = true;
            log::warn!(
                "This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides setting of `featurewise_center`."
            );
        }
        if self.samplewise_std_normalization && !self.samplewise_center {
            c.samplewise_center = true;
            log::warn!(
                "This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides setting of `samplewise_center`."
            );
        }
        Ok(c)
    }

    /// The interpolation of `interpolation_order` (after validation).
    pub fn interpolation(&self) -> Result<Interpolation> {
        Interpolation::from_order(self.interpolation_order)
    }

    /// The rescale factor when it is active (Keras treats `None` and `0` as off).
    pub fn active_rescale(&self) -> Option<f64> {
        self.rescale.filter(|&r| r != 0.0)
    }

    /// The steps that make pixel values into something else than pixels (`rescale`, the
    /// samplewise and featurewise normalizations, ZCA), by their parameter names.
    ///
    /// ```
    /// use augflow::GeneratorConfig;
    /// let cfg = GeneratorConfig { rescale: Some(1.0 / 255.0), samplewise_center: true, ..Default::default() };
    /// assert_eq!(cfg.pixel_value_steps(), ["rescale", "samplewise_center"]);
    /// ```
    pub fn pixel_value_steps(&self) -> Vec<&'static str> {
        [
            ("rescale", self.active_rescale().is_some()),
            ("samplewise_center", self.samplewise_center),
            (
                "samplewise_std_normalization",
                self.samplewise_std_normalization,
            ),
            ("featurewise_center", self.featurewise_center),
            (
                "featurewise_std_normalization",
                self.featurewise_std_normalization,
            ),
            ("zca_whitening", self.zca_whitening),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect()
    }

    /// Refuses `uint8` batches with a step that leaves the pixel range
    /// ([`pixel_value_steps`](Self::pixel_value_steps)), naming `dtype`: Keras' own
    /// `x *= rescale` on a `uint8` array raises, and a rescaled `uint8` image would hold
    /// only 0 and 1. Normalize in the model, or ask for `float32`.
    ///
    /// ```
    /// use augflow::{DType, Error, GeneratorConfig};
    /// let cfg = GeneratorConfig { dtype: DType::U8, rescale: Some(1.0 / 255.0), ..Default::default() };
    /// let err = cfg.check_integer_output().unwrap_err();
    /// assert!(matches!(err, Error::InvalidParameter { name: "dtype", .. }), "{err}");
    /// assert!(GeneratorConfig { rescale: None, ..cfg }.check_integer_output().is_ok());
    /// ```
    pub fn check_integer_output(&self) -> Result<()> {
        let steps = self.pixel_value_steps();
        if steps.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(
            "dtype",
            format!("uint8 with {}", steps.join(", ")),
            "float32 or float64 for rescaled or normalized images; uint8 batches hold pixel \
             values (leave rescale and normalization to the model)",
        ))
    }
}
