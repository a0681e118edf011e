//! Fill modes and interpolation orders, with scipy's exact boundary rules (spec §5.5).

use serde::{Deserialize, Serialize};

use crate::Error;

/// How points outside the input are filled: Keras' `fill_mode`, with scipy ≥ 1.6 semantics.
///
/// For `n = 4` samples `[10 20 30 40]` (order 1):
///
/// | coordinate | -1.5 | -0.5 | 3.5 | 4.5 |
/// |---|---|---|---|---|
/// | `Nearest` | 10 | 10 | 40 | 40 |
/// | `Constant` (cval -1) | -1 | -1 | -1 | -1 |
/// | `Reflect` | 15 | 10 | 40 | 35 |
/// | `Wrap` (period n-1) | 25 | 35 | 15 | 25 |
///
/// ```
/// use augflow::FillMode;
/// assert_eq!("reflect".parse::<FillMode>().unwrap(), FillMode::Reflect);
/// assert!("mirror".parse::<FillMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillMode {
    /// Repeat the edge pixel: `aaaa|abcd|dddd` (Keras' default).
    #[default]
    Nearest,
    /// `cval` wherever the sampling point falls outside `[0, n-1]` on either axis; no blending
    /// towards `cval` at the border.
    Constant,
    /// Half-sample symmetric: `dcba|abcd|dcba` (OpenCV's `BORDER_REFLECT`).
    Reflect,
    /// scipy's legacy wrap, period `n-1`: the first and last samples are the same point
    /// (`bcdb|abcd|bcab`), not the `abcd|abcd` Keras' docstring promises (spec §5.5).
    Wrap,
}

impl std::str::FromStr for FillMode {
    type Err = Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "nearest" => Ok(FillMode::Nearest),
            "constant" => Ok(FillMode::Constant),
            "reflect" => Ok(FillMode::Reflect),
            "wrap" => Ok(FillMode::Wrap),
            "mirror" | "grid-wrap" | "grid-constant" | "grid-mirror" => Err(Error::Unsupported {
                name: "fill_mode",
                value: format!("{s:?}"),
                reason: "scipy accepts it but Keras does not document it; use one of \"nearest\", \"constant\", \"reflect\", \"wrap\"".into(),
            }),
            _ => Err(Error::invalid(
                "fill_mode",
                format!("{s:?}"),
                "one of \"nearest\", \"constant\", \"reflect\", \"wrap\"",
            )),
        }
    }
}

impl std::fmt::Display for FillMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FillMode::Nearest => "nearest",
            FillMode::Constant => "constant",
            FillMode::Reflect => "reflect",
            FillMode::Wrap => "wrap",
        })
    }
}

/// Spline order of the resampling: Keras' `interpolation_order` 0 or 1.
///
/// ```
/// use augflow::Interpolation;
/// assert_eq!(Interpolation::from_order(0).unwrap(), Interpolation::Nearest);
/// assert!(Interpolation::from_order(3).is_err()); // orders 2-5 need scipy's spline prefilter
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Order 0: the nearest input pixel (ties round up).
    Nearest,
    /// Order 1: bilinear (Keras' default).
    #[default]
    Bilinear,
}

impl Interpolation {
    /// Maps Keras' `interpolation_order`; orders 2–5 are `Unsupported`, others invalid.
    pub fn from_order(order: u32) -> crate::Result<Self> {
        match order {
            0 => Ok(Interpolation::Nearest),
            1 => Ok(Interpolation::Bilinear),
            2..=5 => Err(Error::Unsupported {
                name: "interpolation_order",
                value: order.to_string(),
                reason: "spline orders 2-5 need scipy's B-spline prefilter, which augflow does not implement; use 0 (nearest) or 1 (bilinear)".into(),
            }),
            _ => Err(Error::invalid(
                "interpolation_order",
                order,
                "0 (nearest) or 1 (bilinear); scipy accepts 0..=5",
            )),
        }
    }

    /// The spline order (0 or 1).
    pub fn order(self) -> u32 {
        match self {
            Interpolation::Nearest => 0,
            Interpolation::Bilinear => 1,
        }
    }
}

/// `f64::floor` without a libm call on targets lacking SSE4.1: identical for every `|t| < 2^63`
/// (larger values saturate, and only reach clamped taps).
#[inline(always)]
pub(crate) fn floor(t: f64) -> f64 {
    let i = t as i64;
    let f = i as f64;
    if f > t { f - 1.0 } else { f }
}

/// scipy's `map_coordinate` for `reflect` (spec §5.5, step 2).
#[inline(always)]
pub(crate) fn map_reflect(mut t: f64, n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let nf = n as i64 as f64;
    let s2 = 2.0 * nf;
    if t < 0.0 {
        if t < -s2 {
            t += s2 * (-t / s2).trunc();
        }
        if t < -nf {
            t += s2;
        } else {
            t = (if t <= -1e-15 { -t } else { 1e-15 }) - 1.0;
        }
    } else if t > nf - 1.0 {
        t -= s2 * (t / s2).trunc();
        if t >= nf {
            t = s2 - t - 1.0;
        }
    }
    t
}

/// scipy's `map_coordinate` for the legacy `wrap`, period `n-1` (spec §5.5, step 2).
#[inline(always)]
pub(crate) fn map_wrap(mut t: f64, n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let sz = (n - 1) as i64 as f64;
    if t < 0.0 {
        t += sz * ((-t / sz).trunc() + 1.0);
    } else if t > sz {
        t -= sz * (t / sz).trunc();
    }
    t
}

/// Index of a spline tap that fell outside `[0, n-1]` (spec §5.5, step 4).
#[inline(always)]
pub(crate) fn remap_tap(i: isize, n: usize, mode: FillMode) -> usize {
    let last = n as isize - 1;
    let j = if (0..=last).contains(&i) {
        i
    } else {
        match mode {
            FillMode::Nearest => i,
            FillMode::Constant | FillMode::Wrap => {
                if i < 0 {
                    // Saturating: a coordinate far outside (a huge finite zoom or shift) can
                    // reach isize::MIN, whose negation overflows; the clamp below bounds it.
                    i.saturating_neg()
                } else {
                    2 * last - i
                }
            }
            FillMode::Reflect => {
                if i < 0 {
                    -1 - i
                } else {
                    2 * last + 1 - i
                }
            }
        }
    };
    j.clamp(0, last.max(0)) as usize
}

/// Taps and weights along one axis for coordinate `t`, or `None` when the pixel is `cval`.
#[inline(always)]
pub(crate) fn axis_taps(
    t: f64,
    n: usize,
    mode: FillMode,
    interp: Interpolation,
) -> Option<(usize, usize, f64, f64)> {
    let t = match mode {
        FillMode::Constant => {
            if t < 0.0 || t > (n as i64 as f64 - 1.0) {
                return None;
            }
            t
        }
        FillMode::Reflect => map_reflect(t, n),
        FillMode::Wrap => map_wrap(t, n),
        FillMode::Nearest => t,
    };
    match interp {
        Interpolation::Bilinear => {
            let s = floor(t);
            let w0 = 1.0 - (t - s);
            let i = s as i64 as isize;
            Some((
                remap_tap(i, n, mode),
                remap_tap(i.saturating_add(1), n, mode),
                w0,
                1.0 - w0,
            ))
        }
        Interpolation::Nearest => {
            let i = remap_tap(floor(t + 0.5) as isize, n, mode);
            Some((i, i, 1.0, 0.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, mode: FillMode) -> f64 {
        let v = [10.0, 20.0, 30.0, 40.0];
        match axis_taps(t, 4, mode, Interpolation::Bilinear) {
            None => -1.0,
            Some((i0, i1, w0, w1)) => v[i0] * w0 + v[i1] * w1,
        }
    }

    /// The table of the conformance README (scipy >= 1.6, n = 4, order 1).
    #[test]
    fn boundary_table_matches_scipy() {
        let coords = [
            -2.0,
            -1.5,
            -1.0,
            -0.5,
            -1e-9,
            0.0,
            3.0,
            3.0 + 1e-9,
            3.5,
            4.0,
            4.5,
        ];
        let table = [
            (
                FillMode::Nearest,
                [10., 10., 10., 10., 10., 10., 40., 40., 40., 40., 40.],
            ),
            (
                FillMode::Constant,
                [-1., -1., -1., -1., -1., 10., 40., -1., -1., -1., -1.],
            ),
            (
                FillMode::Reflect,
                [20., 15., 10., 10., 10., 10., 40., 40., 40., 40., 35.],
            ),
            (
                FillMode::Wrap,
                [20., 25., 30., 35., 40., 10., 40., 10., 15., 20., 25.],
            ),
        ];
        for (mode, want) in table {
            for (t, w) in coords.iter().zip(want) {
                let got = sample(*t, mode);
                assert!((got - w).abs() < 1e-6, "{mode} at {t}: got {got}, want {w}");
            }
        }
    }

    #[test]
    fn axis_of_length_one_samples_element_zero() {
        for mode in [FillMode::Nearest, FillMode::Reflect, FillMode::Wrap] {
            let (i0, i1, _, _) = axis_taps(-3.7, 1, mode, Interpolation::Bilinear).unwrap();
            assert_eq!((i0, i1), (0, 0));
        }
        assert!(axis_taps(0.5, 1, FillMode::Constant, Interpolation::Bilinear).is_none());
    }

    #[test]
    fn fast_floor_equals_floor() {
        for t in [
            -3.5,
            -3.0,
            -0.5,
            -1e-300,
            -0.0,
            0.0,
            0.25,
            1.0,
            7.999999999999999,
            1e15 + 0.5,
            -1e15 - 0.5,
            4.5e15,
        ] {
            assert_eq!(floor(t), t.floor(), "{t}");
        }
    }

    #[test]
    fn taps_far_outside_the_image_stay_in_range() {
        for mode in [
            FillMode::Nearest,
            FillMode::Constant,
            FillMode::Reflect,
            FillMode::Wrap,
        ] {
            for i in [
                isize::MIN,
                isize::MIN + 1,
                -1_000_000,
                1_000_000,
                isize::MAX,
            ] {
                assert!(remap_tap(i, 19, mode) < 19, "{mode} {i}");
            }
        }
        // -1e300 survives scipy's wrap remapping as a huge negative number (precision loss).
        for interp in [Interpolation::Nearest, Interpolation::Bilinear] {
            let (i0, i1, _, _) = axis_taps(-1e300, 19, FillMode::Wrap, interp).unwrap();
            assert!(i0 < 19 && i1 < 19);
        }
    }

    #[test]
    fn order_zero_rounds_half_up() {
        assert_eq!(
            axis_taps(1.5, 4, FillMode::Nearest, Interpolation::Nearest)
                .unwrap()
                .0,
            2
        );
        assert_eq!(
            axis_taps(
                0.49999999999999994,
                4,
                FillMode::Nearest,
                Interpolation::Nearest
            )
            .unwrap()
            .0,
            1
        );
    }
}
