//! The geometric ops' configurations, under Keras 3's layer names and `get_config()` keys
//! (plus torchvision's `RandomResizedCrop`), and their argument checks.

use serde::{Deserialize, Serialize};

use super::boxes::BoxFormat;
use super::{Fill, Kernel};
use crate::augment::Factor;
use crate::augment::config::invalid;
use crate::{Error, Result};

fn reflect() -> Fill {
    Fill::Reflect
}
fn constant() -> Fill {
    Fill::Constant
}
fn both() -> FlipMode {
    FlipMode::HorizontalAndVertical
}
fn one() -> Factor {
    Factor::Scalar(1.0)
}
fn zero() -> Factor {
    Factor::Scalar(0.0)
}
fn yes() -> bool {
    true
}
fn rrc_scale() -> [f64; 2] {
    [0.08, 1.0]
}
fn rrc_ratio() -> [f64; 2] {
    [3.0 / 4.0, 4.0 / 3.0]
}

/// Which axes [`RandomFlip`] mirrors.
///
/// ```
/// use augflow::augment::FlipMode;
/// let m: FlipMode = serde_json::from_str("\"horizontal_and_vertical\"").unwrap();
/// assert_eq!(m, FlipMode::HorizontalAndVertical);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlipMode {
    /// Left-right.
    Horizontal,
    /// Top-bottom.
    Vertical,
    /// One flag for both axes: a flagged image turns by 180°.
    HorizontalAndVertical,
}

/// `RandomFlip(mode="horizontal_and_vertical")`: mirrors half the images.
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::array;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomFlip", "config": {"mode": "horizontal"}}]"#)?;
/// let p: Vec<augflow::augment::Params> = serde_json::from_str(r#"[{"class_name": "RandomFlip", "flips": true}]"#).unwrap();
/// let mut image = array![[[1.0f32], [2.0], [3.0]]];
/// aug.apply(&p, image.view_mut())?;
/// assert_eq!(image, array![[[3.0f32], [2.0], [1.0]]]);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFlip {
    /// The axes.
    #[serde(default = "both")]
    pub mode: FlipMode,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// `RandomTranslation(height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", fill_value=0)`:
/// moves the content by `U(width_factor)·W` right and `U(height_factor)·H` down.
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::array;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomTranslation",
///     "config": {"height_factor": 0.0, "width_factor": 0.5, "fill_mode": "constant"}}]"#)?;
/// let p: Vec<augflow::augment::Params> = serde_json::from_str(r#"[{"class_name": "RandomTranslation", "translations": [1.0, 0.0]}]"#).unwrap();
/// let mut image = array![[[1.0f32], [2.0], [3.0]]];
/// aug.apply(&p, image.view_mut())?;
/// assert_eq!(image, array![[[0.0f32], [1.0], [2.0]]]);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomTranslation {
    /// `f` for `[-f, f]` or `[lower, upper]`, fractions of the height, within `[-1, 1]`.
    pub height_factor: Factor,
    /// The same for the width.
    pub width_factor: Factor,
    /// How the image extends beyond its border.
    #[serde(default = "reflect")]
    pub fill_mode: Fill,
    /// `nearest` or `bilinear`.
    #[serde(default)]
    pub interpolation: Kernel,
    /// The value of `constant` filling.
    #[serde(default)]
    pub fill_value: f64,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// `RandomRotation(factor, fill_mode="reflect", interpolation="bilinear", fill_value=0)`:
/// turns the content counter-clockwise by `U(factor)` full turns about the image centre.
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::array;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomRotation", "config": {"factor": 0.5}}]"#)?;
/// let p: Vec<augflow::augment::Params> = serde_json::from_str(r#"[{"class_name": "RandomRotation", "angle": 180.0}]"#).unwrap();
/// let mut image = array![[[1.0f32], [2.0]], [[3.0], [4.0]]];
/// aug.apply(&p, image.view_mut())?;
/// assert!((image[[0, 0, 0]] - 4.0).abs() < 1e-5 && (image[[1, 0, 0]] - 2.0).abs() < 1e-5);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomRotation {
    /// `f` for `[-f, f]` or `[lower, upper]`, in full turns.
    pub factor: Factor,
    /// How the image extends beyond its border.
    #[serde(default = "reflect")]
    pub fill_mode: Fill,
    /// `nearest` or `bilinear`.
    #[serde(default)]
    pub interpolation: Kernel,
    /// The value of `constant` filling.
    #[serde(default)]
    pub fill_value: f64,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// `RandomZoom(height_factor, width_factor=None, ...)`: samples a window `1 + U(factor)`
/// times the image about its centre (positive factors zoom out); `width_factor` null zooms
/// both axes alike.
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomZoom", "config": {"height_factor": [-0.5, -0.5]}}]"#)?;
/// let mut image = Array3::from_shape_fn((5, 5, 1), |(y, x, _)| (10 * y + x) as f32);
/// aug.run(&mut image, 0, 0, 0)?;
/// assert_eq!(image[[2, 2, 0]], 22.0); // the centre stays
/// assert_eq!(image[[2, 4, 0]], 23.0); // zoom 0.5: two output pixels per input pixel
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomZoom {
    /// `f` for `[-f, f]` or `[lower, upper]`, each above -1.
    pub height_factor: Factor,
    /// The same for the width; `None`: the height's zoom.
    #[serde(default)]
    pub width_factor: Option<Factor>,
    /// How the image extends beyond its border.
    #[serde(default = "reflect")]
    pub fill_mode: Fill,
    /// `nearest` or `bilinear`.
    #[serde(default)]
    pub interpolation: Kernel,
    /// The value of `constant` filling.
    #[serde(default)]
    pub fill_value: f64,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// `RandomShear(x_factor=0, y_factor=0, ...)`: `x_in = x + sx·y`, `y_in = sy·x + y` about the
/// top-left pixel, `sx = ±U(x_factor)`, `sy = ±U(y_factor)` with one sign.
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::array;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomShear", "config": {"x_factor": 1.0}}]"#)?;
/// let p: Vec<augflow::augment::Params> = serde_json::from_str(r#"[{"class_name": "RandomShear", "shear_factor": [1.0, 0.0]}]"#).unwrap();
/// let mut image = array![[[1.0f32], [2.0], [3.0]], [[4.0], [5.0], [6.0]]];
/// aug.apply(&p, image.view_mut())?;
/// assert_eq!(image[[1, 0, 0]], 5.0); // row 1 samples one pixel to the right
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomShear {
    /// `f` for `[-f, f]` or `[lower, upper]`, within `[-1, 1]`.
    #[serde(default = "zero")]
    pub x_factor: Factor,
    /// The same for `sy`.
    #[serde(default = "zero")]
    pub y_factor: Factor,
    /// How the image extends beyond its border.
    #[serde(default = "reflect")]
    pub fill_mode: Fill,
    /// `nearest` or `bilinear`.
    #[serde(default)]
    pub interpolation: Kernel,
    /// The value of `constant` filling.
    #[serde(default)]
    pub fill_value: f64,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// `RandomPerspective(factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0)`: with
/// probability `U(factor)`, moves the corners by up to `scale/2` of their coordinates and
/// warps projectively (fill `constant`).
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomPerspective", "config": {"scale": 0.5}}]"#)?;
/// let mut image = Array3::<f32>::from_elem((16, 16, 3), 50.0);
/// aug.run(&mut image, 3, 0, 0)?;
/// assert_eq!(image[[0, 0, 0]], 50.0); // the top-left corner never moves
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomPerspective {
    /// `f` for `[0, f]` or `[lower, upper]` within `[0, 1]`: the apply probability.
    #[serde(default = "one")]
    pub factor: Factor,
    /// The corner displacement, in `[0, 1]`.
    #[serde(default = "scale_one")]
    pub scale: f64,
    /// `nearest` or `bilinear`.
    #[serde(default)]
    pub interpolation: Kernel,
    /// The value outside the image.
    #[serde(default)]
    pub fill_value: f64,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

fn scale_one() -> f64 {
    1.0
}

/// `RandomCrop(height, width)`: a random `height × width` window when the image is larger
/// on both axes; otherwise Keras' centre slice resized to the target (README §8.6).
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomCrop", "config": {"height": 4, "width": 6}}]"#)?;
/// let mut image = Array3::<f32>::zeros((10, 10, 3));
/// aug.run(&mut image, 0, 0, 0)?;
/// assert_eq!(image.dim(), (4, 6, 3));
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomCrop {
    /// Output rows.
    pub height: usize,
    /// Output columns.
    pub width: usize,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// `CenterCrop(height, width)`: the central window, or (when the image is smaller on an
/// axis) the central crop to the target aspect ratio resized bilinearly.
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "CenterCrop", "config": {"height": 2, "width": 2}}]"#)?;
/// let mut image = Array3::from_shape_fn((4, 4, 1), |(y, x, _)| (10 * y + x) as f32);
/// aug.run(&mut image, 0, 0, 0)?;
/// assert_eq!(image.iter().copied().collect::<Vec<_>>(), vec![11.0, 12.0, 21.0, 22.0]);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenterCrop {
    /// Output rows.
    pub height: usize,
    /// Output columns.
    pub width: usize,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// `Resizing(height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
/// pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0, antialias=False)`.
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "Resizing",
///     "config": {"height": 2, "width": 2, "antialias": true}}]"#)?;
/// let mut image = Array3::from_shape_fn((4, 4, 1), |(y, _, _)| y as f32);
/// aug.run(&mut image, 0, 0, 0)?;
/// // The widened triangle is renormalised over the rows that exist (Keras' border rule).
/// assert!((image[[0, 0, 0]] - 1.25 / 1.75).abs() < 1e-5 && (image[[1, 0, 0]] - 4.0 / 1.75).abs() < 1e-5);
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resizing {
    /// Output rows.
    pub height: usize,
    /// Output columns.
    pub width: usize,
    /// Any of the five kernels.
    #[serde(default)]
    pub interpolation: Kernel,
    /// Centre-crop to the target aspect ratio first.
    #[serde(default)]
    pub crop_to_aspect_ratio: bool,
    /// Pad (with `fill_value`) to the target aspect ratio first.
    #[serde(default)]
    pub pad_to_aspect_ratio: bool,
    /// Only `constant` (Keras' only mode).
    #[serde(default = "constant")]
    pub fill_mode: Fill,
    /// The padding value.
    #[serde(default)]
    pub fill_value: f64,
    /// Widen the kernel when shrinking.
    #[serde(default)]
    pub antialias: bool,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

/// torchvision's `RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3/4, 4/3))`: a window
/// of random area fraction and log-uniform aspect ratio (10 tries, then the centre crop
/// fallback), resized to `size = [height, width]` (antialiased, as torchvision's default).
///
/// ```
/// use augflow::augment::Augment;
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[{"class_name": "RandomResizedCrop", "config": {"size": [8, 6]}}]"#)?;
/// let mut image = Array3::<f32>::from_elem((50, 40, 3), 9.0);
/// aug.run(&mut image, 1, 0, 2)?;
/// assert_eq!(image.dim(), (8, 6, 3));
/// assert!(image.iter().all(|v| (v - 9.0).abs() < 1e-4));
/// # Ok::<(), augflow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomResizedCrop {
    /// `[height, width]` of the output.
    pub size: [usize; 2],
    /// The area fraction range.
    #[serde(default = "rrc_scale")]
    pub scale: [f64; 2],
    /// The width/height ratio range (drawn log-uniformly).
    #[serde(default = "rrc_ratio")]
    pub ratio: [f64; 2],
    /// Any of the five kernels.
    #[serde(default)]
    pub interpolation: Kernel,
    /// Widen the kernel when shrinking.
    #[serde(default = "yes")]
    pub antialias: bool,
    /// The format of the boxes that move with the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box_format: Option<BoxFormat>,
}

pub(crate) fn warp_kernel(kernel: Kernel) -> Result<()> {
    match kernel {
        Kernel::Nearest | Kernel::Bilinear => Ok(()),
        _ => Err(Error::Unsupported {
            name: "interpolation",
            value: format!("{kernel:?}"),
            reason: "Keras' warps take \"nearest\" or \"bilinear\"".into(),
        }),
    }
}

/// Keras' affine warps take every fill mode but `mirror` (only `RandomElasticTransform`'s).
fn warp_fill(mode: Fill) -> Result<()> {
    if mode == Fill::Mirror {
        return Err(Error::Unsupported {
            name: "fill_mode",
            value: "mirror".into(),
            reason: "Keras' affine warps take \"constant\", \"nearest\", \"reflect\" or \"wrap\""
                .into(),
        });
    }
    Ok(())
}

pub(crate) fn finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, v, "a finite number"))
    }
}

/// Output sizes up to 2^16 on each axis.
fn size(name: &'static str, v: usize) -> Result<()> {
    if (1..=65_536).contains(&v) {
        Ok(())
    } else {
        Err(invalid(name, v, "an integer in 1..=65536"))
    }
}

/// An output of `h × w` pixels, at most what augflow decodes from a file.
fn area(name: &'static str, h: usize, w: usize) -> Result<()> {
    size(name, h)?;
    size(name, w)?;
    let max = crate::iterators::LoadOptions::DEFAULT_MAX_PIXELS;
    if (h as u64) * (w as u64) <= max {
        Ok(())
    } else {
        Err(invalid(
            name,
            format!("{h}x{w}"),
            &format!("at most {max} pixels"),
        ))
    }
}

fn ordered(name: &'static str, r: [f64; 2], min: f64) -> Result<()> {
    if r.iter().all(|v| v.is_finite() && *v > min) && r[0] <= r[1] {
        Ok(())
    } else {
        Err(invalid(
            name,
            format!("{r:?}"),
            &format!("an ordered finite pair above {min}"),
        ))
    }
}

impl RandomTranslation {
    pub(crate) fn validate(&self) -> Result<()> {
        self.height_factor
            .checked("height_factor", None, -1.0, 1.0)?;
        self.width_factor.checked("width_factor", None, -1.0, 1.0)?;
        warp_fill(self.fill_mode)?;
        warp_kernel(self.interpolation)?;
        finite("fill_value", self.fill_value)
    }
}

impl RandomRotation {
    pub(crate) fn validate(&self) -> Result<()> {
        self.factor.checked("factor", None, -1e6, 1e6)?;
        warp_fill(self.fill_mode)?;
        warp_kernel(self.interpolation)?;
        finite("fill_value", self.fill_value)
    }
}

impl RandomZoom {
    pub(crate) fn validate(&self) -> Result<()> {
        let max = 1e6;
        self.height_factor
            .checked("height_factor", None, -1.0 + 1e-6, max)?;
        if let Some(w) = self.width_factor {
            w.checked("width_factor", None, -1.0 + 1e-6, max)?;
        }
        warp_fill(self.fill_mode)?;
        warp_kernel(self.interpolation)?;
        finite("fill_value", self.fill_value)
    }
}

impl RandomShear {
    pub(crate) fn validate(&self) -> Result<()> {
        self.x_factor.checked("x_factor", None, -1.0, 1.0)?;
        self.y_factor.checked("y_factor", None, -1.0, 1.0)?;
        warp_fill(self.fill_mode)?;
        warp_kernel(self.interpolation)?;
        finite("fill_value", self.fill_value)
    }
}

impl RandomPerspective {
    pub(crate) fn validate(&self) -> Result<()> {
        self.factor.checked("factor", Some(0.0), 0.0, 1.0)?;
        if !(0.0..=1.0).contains(&self.scale) {
            return Err(invalid("scale", self.scale, "a number in [0, 1]"));
        }
        warp_kernel(self.interpolation)?;
        finite("fill_value", self.fill_value)
    }
}

impl RandomCrop {
    pub(crate) fn validate(&self) -> Result<()> {
        area("height", self.height, self.width)
    }
}

impl CenterCrop {
    pub(crate) fn validate(&self) -> Result<()> {
        area("height", self.height, self.width)
    }
}

impl Resizing {
    pub(crate) fn validate(&self) -> Result<()> {
        area("height", self.height, self.width)?;
        if self.crop_to_aspect_ratio && self.pad_to_aspect_ratio {
            return Err(invalid(
                "pad_to_aspect_ratio",
                true,
                "false when crop_to_aspect_ratio is true (Keras refuses both)",
            ));
        }
        if self.fill_mode != Fill::Constant {
            return Err(Error::Unsupported {
                name: "fill_mode",
                value: format!("{:?}", self.fill_mode),
                reason: "Keras' Resizing pads with \"constant\" only".into(),
            });
        }
        finite("fill_value", self.fill_value)
    }
}

impl RandomResizedCrop {
    pub(crate) fn validate(&self) -> Result<()> {
        area("size", self.size[0], self.size[1])?;
        ordered("scale", self.scale, 0.0)?;
        ordered("ratio", self.ratio, 0.0)
    }
}
