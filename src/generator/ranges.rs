//! Keras' range arguments: shift ranges (fraction, pixels, integer or list) and zoom ranges.

use serde::{Deserialize, Serialize};

use crate::error::check_finite;
use crate::rng::{SampleRng, below, uniform};
use crate::{Error, Result};

/// The largest magnitude of a shift-range value: `1e6` pixels, or `1e6` image sizes for a
/// (negative) fraction.
///
/// Far beyond any image side that fits in memory (a shift past the image only repeats the
/// fill), it keeps every sampling coordinate `zoom · (index + shift)` below `2^52` for
/// images up to `2^30` pixels a side with zoom up to [`ZOOM_LIMIT`], so coordinates keep
/// their integer part exact in `f64` and the fill modes' arithmetic stays finite.
pub const SHIFT_LIMIT: f64 = 1e6;

/// The largest zoom factor accepted, and the inverse of the smallest: zoom factors lie in
/// `[1e-6, 1e6]`.
///
/// A factor of `0` (or one through which a range passes, such as Keras' `zoom_range = 1.0`,
/// `[0, 2]`) gives a singular matrix that collapses the image to a line; a negative one
/// mirrors through such a collapse. Factors beyond `1e6` (or under `1e-6`) show less than a
/// millionth of the image per pixel (or a million images per pixel), nothing a training set
/// needs, and would push coordinates past the range where `f64` keeps them exact.
pub const ZOOM_LIMIT: f64 = 1e6;

/// `width_shift_range` / `height_shift_range` (spec §3.2).
///
/// | value | drawn shift |
/// |---|---|
/// | `Float(r)`, `0 < |r| < 1` | `uniform(-r, r) · dimension` (a fraction of the image) |
/// | `Float(r)`, `r >= 1` | `uniform(-r, r)` pixels |
/// | `Int(n)`, `n >= 1` | `k · ±1` pixels, `k` uniform in `0..n` (so `-(n-1)..=(n-1)`) |
/// | `List(l)` | `l[k] · ±1`; a fraction of the image when every entry is `< 1` |
/// | `0`, `Int(0)`, empty list | no shift |
///
/// ```
/// use augflow::ShiftRange;
/// assert_eq!(ShiftRange::from(0.1), ShiftRange::Float(0.1));
/// assert_eq!(ShiftRange::from(3), ShiftRange::Int(3));
/// assert_eq!(ShiftRange::from(vec![2.0, 4.0]), ShiftRange::List(vec![2.0, 4.0]));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ShiftRange {
    /// A Python int: a uniform integer number of pixels with a random sign.
    Int(i64),
    /// A Python float: a continuous range, a fraction when `< 1`.
    Float(f64),
    /// A list of allowed values, each with a random sign.
    List(Vec<f64>),
}

impl Default for ShiftRange {
    fn default() -> Self {
        ShiftRange::Float(0.0)
    }
}

impl From<f64> for ShiftRange {
    fn from(v: f64) -> Self {
        ShiftRange::Float(v)
    }
}
impl From<f32> for ShiftRange {
    fn from(v: f32) -> Self {
        ShiftRange::Float(v as f64)
    }
}
impl From<i32> for ShiftRange {
    fn from(v: i32) -> Self {
        ShiftRange::Int(v as i64)
    }
}
impl From<i64> for ShiftRange {
    fn from(v: i64) -> Self {
        ShiftRange::Int(v)
    }
}
impl From<u32> for ShiftRange {
    fn from(v: u32) -> Self {
        ShiftRange::Int(v as i64)
    }
}
impl From<usize> for ShiftRange {
    /// A pixel count. One above `i64::MAX` (far over [`SHIFT_LIMIT`], so `build()` refuses
    /// it) is kept as the nearest float, so the error reports the value given, not a wrapped one.
    fn from(v: usize) -> Self {
        i64::try_from(v).map_or(ShiftRange::Float(v as f64), ShiftRange::Int)
    }
}
impl From<u64> for ShiftRange {
    /// As `From<usize>`.
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or(ShiftRange::Float(v as f64), ShiftRange::Int)
    }
}
impl From<Vec<f64>> for ShiftRange {
    fn from(v: Vec<f64>) -> Self {
        ShiftRange::List(v)
    }
}
impl From<&[f64]> for ShiftRange {
    fn from(v: &[f64]) -> Self {
        ShiftRange::List(v.to_vec())
    }
}
impl<const N: usize> From<[f64; N]> for ShiftRange {
    fn from(v: [f64; N]) -> Self {
        ShiftRange::List(v.to_vec())
    }
}

impl ShiftRange {
    /// Whether this range never shifts (Keras' falsy values).
    pub fn is_off(&self) -> bool {
        match self {
            ShiftRange::Int(n) => *n == 0,
            ShiftRange::Float(r) => *r == 0.0,
            ShiftRange::List(l) => l.is_empty(),
        }
    }

    pub(crate) fn validate(&self, name: &'static str) -> Result<()> {
        const ACCEPTED: &str = "an integer in 0..=1000000 (pixels), a float (fraction of the image if < 1, else pixels) or a list of floats, each finite with magnitude <= 1e6";
        let check = |v: f64| {
            if v.is_finite() && v.abs() <= SHIFT_LIMIT {
                Ok(())
            } else {
                Err(crate::Error::invalid(name, v, ACCEPTED))
            }
        };
        match self {
            ShiftRange::Int(n) if !(0..=SHIFT_LIMIT as i64).contains(n) => {
                Err(crate::Error::invalid(name, n, ACCEPTED))
            }
            ShiftRange::Int(_) => Ok(()),
            ShiftRange::Float(r) => check(*r),
            ShiftRange::List(l) => l.iter().try_for_each(|v| check(*v)),
        }
    }

    /// Draws one shift in pixels for an axis of length `dim` (spec §3.2).
    pub(crate) fn draw(&self, rng: &mut SampleRng, dim: usize) -> f64 {
        let dim = dim as f64;
        match self {
            ShiftRange::Int(0) | ShiftRange::Float(0.0) => 0.0,
            ShiftRange::List(l) if l.is_empty() => 0.0,
            ShiftRange::Int(n) => {
                let k = below(rng, *n as u64) as f64;
                k * sign(rng)
            }
            ShiftRange::Float(r) => {
                let v = uniform(rng, -r, *r);
                if *r < 1.0 { v * dim } else { v }
            }
            ShiftRange::List(l) => {
                let v = l[below(rng, l.len() as u64) as usize] * sign(rng);
                let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if max < 1.0 { v * dim } else { v }
            }
        }
    }
}

fn sign(rng: &mut SampleRng) -> f64 {
    if below(rng, 2) == 0 { -1.0 } else { 1.0 }
}

/// `zoom_range`: a scalar `z` means `[1 - z, 1 + z]`; a pair is taken as is (spec §2.7).
/// `zx` and `zy` are drawn independently from it; values `> 1` zoom out.
///
/// ```
/// use augflow::ZoomRange;
/// assert_eq!(ZoomRange::from(0.2).bounds(), (0.8, 1.2));
/// assert_eq!(ZoomRange::from((0.5, 1.0)).bounds(), (0.5, 1.0));
/// assert!(ZoomRange::from(0.0).is_off());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ZoomRange {
    /// `z` → `[1 - z, 1 + z]`.
    Scalar(f64),
    /// `[lo, hi]`.
    Pair(f64, f64),
}

impl Default for ZoomRange {
    fn default() -> Self {
        ZoomRange::Scalar(0.0)
    }
}

impl From<f64> for ZoomRange {
    fn from(z: f64) -> Self {
        ZoomRange::Scalar(z)
    }
}
impl From<f32> for ZoomRange {
    fn from(z: f32) -> Self {
        ZoomRange::Scalar(z as f64)
    }
}
impl From<(f64, f64)> for ZoomRange {
    fn from((a, b): (f64, f64)) -> Self {
        ZoomRange::Pair(a, b)
    }
}
impl From<[f64; 2]> for ZoomRange {
    fn from([a, b]: [f64; 2]) -> Self {
        ZoomRange::Pair(a, b)
    }
}

impl ZoomRange {
    /// `(lo, hi)` of the range.
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            ZoomRange::Scalar(z) => (1.0 - z, 1.0 + z),
            ZoomRange::Pair(a, b) => (a, b),
        }
    }

    /// Whether the range is `[1, 1]` (no zoom, nothing drawn).
    pub fn is_off(&self) -> bool {
        self.bounds() == (1.0, 1.0)
    }

    /// Both bounds must lie in `[1/ZOOM_LIMIT, ZOOM_LIMIT]` (see [`ZOOM_LIMIT`]): every drawn
    /// factor, between the bounds, is then positive and finite, so the matrix is invertible.
    pub(crate) fn validate(&self) -> Result<()> {
        let (a, b) = self.bounds();
        for v in [a, b] {
            check_finite("zoom_range", v)?;
            if !(1.0 / ZOOM_LIMIT..=ZOOM_LIMIT).contains(&v) {
                let value = match *self {
                    ZoomRange::Scalar(z) => format!("{z} (the range [{a}, {b}])"),
                    ZoomRange::Pair(..) => format!("[{a}, {b}]"),
                };
                return Err(Error::invalid(
                    "zoom_range",
                    value,
                    "zoom factors in [1e-6, 1e6]: a scalar z in [-0.999999, 0.999999] (for [1 - z, 1 + z]) or a pair of factors in [1e-6, 1e6]; a factor of 0 or below collapses or mirrors the image",
                ));
            }
        }
        Ok(())
    }
}
