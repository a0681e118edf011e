//! `TransformParams`: one draw of random augmentation parameters, with Keras' dict keys.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Result, check_finite};

/// The parameters of one augmentation, with exactly the keys of the dict Keras'
/// `get_random_transform` returns (spec §3.1), so a JSON dict from Python maps onto it.
///
/// Missing keys take the identity values (`theta = 0`, `zx = zy = 1`, no flip, no shift,
/// no channel shift, no brightness change). Flips accept `true`/`false` or Keras' `0`/`1`.
///
/// ```
/// use augflow::TransformParams;
///
/// let p: TransformParams = serde_json::from_str(r#"{"theta": 10.0, "flip_horizontal": 1}"#).unwrap();
/// assert_eq!(p.theta, 10.0);
/// assert!(p.flip_horizontal);
/// assert_eq!(p.zx, 1.0);
/// assert!(TransformParams::default().is_identity());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TransformParams {
    /// Rotation in degrees; positive turns the content counter-clockwise on screen.
    pub theta: f64,
    /// Shift along the x (column) axis in pixels; positive moves the content left (spec §5.4).
    pub tx: f64,
    /// Shift along the y (row) axis in pixels; positive moves the content up.
    pub ty: f64,
    /// Shear angle in degrees (horizontal shear, spec §5.4).
    pub shear: f64,
    /// Zoom factor of the x axis; `> 1` shows more of the image (zoom out).
    pub zx: f64,
    /// Zoom factor of the y axis; `> 1` shows more of the image (zoom out).
    pub zy: f64,
    /// Reverse the columns after the warp.
    #[serde(deserialize_with = "bool_or_int")]
    pub flip_horizontal: bool,
    /// Reverse the rows after the warp.
    #[serde(deserialize_with = "bool_or_int")]
    pub flip_vertical: bool,
    /// Intensity added to every channel, clipped to the image's range (spec §6).
    pub channel_shift_intensity: Option<f64>,
    /// Multiplicative brightness factor (spec §8); `1.0` leaves the image unchanged.
    pub brightness: Option<f64>,
}

impl Default for TransformParams {
    fn default() -> Self {
        TransformParams {
            theta: 0.0,
            tx: 0.0,
            ty: 0.0,
            shear: 0.0,
            zx: 1.0,
            zy: 1.0,
            flip_horizontal: false,
            flip_vertical: false,
            channel_shift_intensity: None,
            brightness: None,
        }
    }
}

fn bool_or_int<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Int(i64),
        Float(f64),
    }
    Ok(match B::deserialize(d)? {
        B::Bool(b) => b,
        B::Int(i) => i != 0,
        B::Float(f) => f != 0.0,
    })
}

impl TransformParams {
    /// Whether any geometric factor is active (Keras' rule, spec §5.2): a rotation, a shift,
    /// a shear or a zoom other than 1. Flips are not counted: they are exact permutations.
    ///
    /// ```
    /// use augflow::TransformParams;
    /// let p = TransformParams { tx: 2.0, ..Default::default() };
    /// assert!(p.has_geometry());
    /// assert!(!TransformParams { flip_vertical: true, ..Default::default() }.has_geometry());
    /// ```
    pub fn has_geometry(&self) -> bool {
        self.theta != 0.0
            || self.tx != 0.0
            || self.ty != 0.0
            || self.shear != 0.0
            || self.zx != 1.0
            || self.zy != 1.0
    }

    /// Whether these parameters leave every image unchanged.
    pub fn is_identity(&self) -> bool {
        !self.has_geometry()
            && !self.flip_horizontal
            && !self.flip_vertical
            && self.channel_shift_intensity.is_none()
            && self.brightness.is_none()
    }

    /// Checks that every number is finite, naming the first one that is not.
    ///
    /// ```
    /// use augflow::TransformParams;
    /// let p = TransformParams { shear: f64::NAN, ..Default::default() };
    /// assert!(p.validate().unwrap_err().to_string().contains("shear"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_finite("theta", self.theta)?;
        check_finite("tx", self.tx)?;
        check_finite("ty", self.ty)?;
        check_finite("shear", self.shear)?;
        check_finite("zx", self.zx)?;
        check_finite("zy", self.zy)?;
        if let Some(c) = self.channel_shift_intensity {
            check_finite("channel_shift_intensity", c)?;
        }
        if let Some(b) = self.brightness {
            check_finite("brightness", b)?;
        }
        Ok(())
    }
}
