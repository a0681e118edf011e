//! The one resampling pass of a fused geometric chain: every output pixel is mapped through
//! one [`Homography`] to a source point and filtered there, with Keras 3's interpolation
//! kernels, fill modes and resize border rule (conformance README §7, §8.8).
//!
//! Taps are computed per axis and combined as a tensor product: per pixel in `f64` for a map
//! that turns or tilts the image (here), once per row and column in `f32` for an axis-aligned
//! one ([`separable`](super::separable), within a few `f32` ulps of this path).

use std::cell::Cell;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Homography;
use super::elastic::Displacement;
use crate::augment::engine::PixelOp;
use crate::augment::pixel_run::run_ops;
use crate::transform::Pixel;

/// Keras 3's `fill_mode`: how the image extends beyond its border (README §7).
///
/// For one row `[a b c d]`: `constant` gives `k k | a b c d | k k` (k = `fill_value`,
/// blended with the image by bilinear sampling), `nearest` `a a | a b c d | d d`, `reflect`
/// `b a | a b c d | d c`, `wrap` `c d | a b c d | a b` (period `n`), `mirror` (only
/// `RandomElasticTransform` takes it) `c b | a b c d | c b`.
///
/// ```
/// use augflow::augment::Fill;
/// assert_eq!(serde_json::from_str::<Fill>("\"reflect\"").unwrap(), Fill::Reflect);
/// assert_eq!(Fill::Wrap.extend(-1, 4), Some(3));
/// assert_eq!(Fill::Reflect.extend(-1, 4), Some(0));
/// assert_eq!(Fill::Constant.extend(4, 4), None); // the fill value
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fill {
    /// `fill_value` outside.
    #[default]
    Constant,
    /// The edge pixel repeated.
    Nearest,
    /// Half-sample symmetric: `d c b a | a b c d | d c b a`.
    Reflect,
    /// Periodic with period `n`.
    Wrap,
    /// Whole-sample symmetric, the edge pixel not repeated: `d c b | a b c d | c b a`.
    Mirror,
}

impl Fill {
    /// The pixel index standing for index `i` of an axis of `n` pixels; `None` for the fill
    /// value (`constant` outside, or an empty axis).
    ///
    /// ```
    /// use augflow::augment::Fill;
    /// assert_eq!(Fill::Nearest.extend(-3, 4), Some(0));
    /// assert_eq!(Fill::Reflect.extend(5, 4), Some(2));
    /// assert_eq!(Fill::Wrap.extend(0, 0), None);
    /// assert_eq!(Fill::Mirror.extend(-1, 4), Some(1));
    /// assert_eq!(Fill::Mirror.extend(4, 4), Some(2));
    /// ```
    pub fn extend(self, i: i64, n: usize) -> Option<usize> {
        let n = i64::try_from(n).ok().filter(|n| *n > 0)?;
        if (0..n).contains(&i) {
            return Some(i as usize);
        }
        let j = match self {
            Fill::Constant => return None,
            Fill::Nearest => i.clamp(0, n - 1),
            Fill::Reflect => {
                let p = i.rem_euclid(2 * n);
                if p < n { p } else { 2 * n - 1 - p }
            }
            Fill::Wrap => i.rem_euclid(n),
            Fill::Mirror if n == 1 => 0,
            Fill::Mirror => {
                let p = i.rem_euclid(2 * n - 2);
                if p < n { p } else { 2 * n - 2 - p }
            }
        };
        Some(j as usize)
    }
}

/// Keras 3's `interpolation`: the resampling kernel (warps take `nearest` and `bilinear`;
/// `Resizing` all five).
///
/// ```
/// use augflow::augment::Kernel;
/// assert_eq!(serde_json::from_str::<Kernel>("\"lanczos3\"").unwrap(), Kernel::Lanczos3);
/// assert_eq!(Kernel::Bicubic.radius(), 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// The nearest pixel, ties rounded up (numpy backend).
    Nearest,
    /// The triangle `max(0, 1 - |t|)`.
    #[default]
    Bilinear,
    /// Keys' cubic with `a = -0.5`.
    Bicubic,
    /// Lanczos with 3 lobes.
    Lanczos3,
    /// Lanczos with 5 lobes.
    Lanczos5,
}

impl Kernel {
    /// Half the support, in source pixels at scale 1.
    ///
    /// ```
    /// use augflow::augment::Kernel;
    /// assert_eq!(Kernel::Bilinear.radius(), 1.0);
    /// assert_eq!(Kernel::Lanczos5.radius(), 5.0);
    /// ```
    pub fn radius(self) -> f64 {
        match self {
            Kernel::Nearest => 0.5,
            Kernel::Bilinear => 1.0,
            Kernel::Bicubic => 2.0,
            Kernel::Lanczos3 => 3.0,
            Kernel::Lanczos5 => 5.0,
        }
    }

    fn weight(self, t: f64) -> f64 {
        let t = t.abs();
        let lanczos = |r: f64| {
            if t <= 1e-3 {
                1.0
            } else if t <= r {
                let pt = std::f64::consts::PI * t;
                r * pt.sin() * (pt / r).sin() / (pt * pt)
            } else {
                0.0
            }
        };
        match self {
            Kernel::Nearest => f64::from(t < 0.5),
            Kernel::Bilinear => (1.0 - t).max(0.0),
            Kernel::Bicubic if t < 1.0 => (1.5 * t - 2.5) * t * t + 1.0,
            Kernel::Bicubic if t < 2.0 => ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0,
            Kernel::Bicubic => 0.0,
            Kernel::Lanczos3 => lanczos(3.0),
            Kernel::Lanczos5 => lanczos(5.0),
        }
    }
}

/// What a tap outside the image reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Border {
    /// Warps: the fill mode extends the image; `value` is the constant fill.
    Fill { mode: Fill, value: f64 },
    /// Resizes: only source pixels in columns `x[0]..=x[1]` and rows `y[0]..=y[1]` count
    /// and the weights are renormalised over them; the part of the window outside the image
    /// (padding) reads `value`.
    Window {
        x: [i64; 2],
        y: [i64; 2],
        value: f64,
    },
}

/// One resampling pass: output size, map, kernel and border.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resample {
    pub map: Homography,
    /// `(height, width)` of the output.
    pub out: [usize; 2],
    pub kernel: Kernel,
    /// Widen the kernel by the local shrink factor (no effect when enlarging or `nearest`).
    pub antialias: bool,
    pub border: Border,
    /// A displacement of the output pixels applied before `map` (an elastic transform
    /// ending the chain); it rules out the separable path.
    pub field: Option<Arc<Displacement>>,
}

/// The taps of one axis: source indices and weights, plus the weight of the fill value.
#[derive(Debug, Clone, Default)]
pub(super) struct Taps {
    pub(super) idx: Vec<usize>,
    pub(super) w: Vec<f64>,
    pub(super) fill: f64,
}

impl Taps {
    pub(super) fn real(&self) -> f64 {
        self.w.iter().sum()
    }
}

/// One axis' border: the fill mode, or the window `[lo, hi]` of counted indices.
#[derive(Debug, Clone, Copy)]
pub(super) enum AxisBorder {
    Fill(Fill),
    Window(i64, i64),
}

/// Fills `t` with the taps of source coordinate `u` on an axis of `n` pixels.
pub(super) fn axis_taps(
    u: f64,
    n: usize,
    kernel: Kernel,
    scale: f64,
    border: AxisBorder,
    t: &mut Taps,
) {
    t.idx.clear();
    t.w.clear();
    t.fill = 0.0;
    if !u.is_finite() {
        t.fill = 1.0;
        return;
    }
    let place = |t: &mut Taps, i: i64, w: f64| {
        let at = match border {
            AxisBorder::Fill(mode) => mode.extend(i, n),
            AxisBorder::Window(..) => Fill::Constant.extend(i, n),
        };
        match at {
            Some(j) => {
                t.idx.push(j);
                t.w.push(w);
            }
            None => t.fill += w,
        }
    };
    if kernel == Kernel::Nearest {
        let mut i = (u + 0.5).floor() as i64;
        if let AxisBorder::Window(lo, hi) = border {
            i = i.clamp(lo, hi);
        }
        place(t, i, 1.0);
        return;
    }
    // A filter wider than the axis adds nothing; the cap also bounds the loop.
    let k = scale.clamp(1.0, (n as f64).max(1.0));
    let reach = kernel.radius() * k;
    let (mut lo, mut hi) = ((u - reach).ceil() as i64, (u + reach).floor() as i64);
    if let AxisBorder::Window(a, b) = border {
        (lo, hi) = (lo.max(a), hi.min(b));
    }
    let mut sum = 0.0;
    for i in lo..=hi {
        let w = kernel.weight((u - i as f64) / k);
        if w != 0.0 {
            sum += w;
            place(t, i, w);
        }
    }
    let usable = match border {
        AxisBorder::Fill(_) => sum != 0.0,
        AxisBorder::Window(..) => sum >= 1000.0 * f64::from(f32::EPSILON),
    };
    let norm = if usable { 1.0 / sum } else { 0.0 };
    t.w.iter_mut().for_each(|w| *w *= norm);
    t.fill *= norm;
}

thread_local! {
    static PASSES: Cell<u64> = const { Cell::new(0) };
}

/// How many geometric resampling passes this thread has run: a fused chain of geometric
/// ops counts one per image (and one per mask).
///
/// ```
/// use augflow::augment::{resample_passes, Augment};
/// use ndarray::Array3;
/// let aug = Augment::from_json(r#"[
///     {"class_name": "RandomFlip", "config": {"mode": "horizontal"}},
///     {"class_name": "RandomRotation", "config": {"factor": 0.1}},
///     {"class_name": "CenterCrop", "config": {"height": 6, "width": 6}}]"#)?;
/// let before = resample_passes();
/// let mut image = Array3::<f32>::zeros((8, 8, 3));
/// aug.run(&mut image, 0, 0, 0)?;
/// assert_eq!(resample_passes() - before, 1);
/// assert_eq!(image.dim(), (6, 6, 3));
/// # Ok::<(), augflow::Error>(())
/// ```
pub fn resample_passes() -> u64 {
    PASSES.with(Cell::get)
}

impl Resample {
    pub(super) fn axis_borders(&self) -> (AxisBorder, AxisBorder) {
        match self.border {
            Border::Fill { mode, .. } => (AxisBorder::Fill(mode), AxisBorder::Fill(mode)),
            Border::Window { x, y, .. } => (
                AxisBorder::Window(x[0], x[1]),
                AxisBorder::Window(y[0], y[1]),
            ),
        }
    }

    pub(super) fn fill_value(&self) -> f64 {
        match self.border {
            Border::Fill { value, .. } | Border::Window { value, .. } => value,
        }
    }

    pub(super) fn scale(&self, s: f64) -> f64 {
        if self.antialias { s } else { 1.0 }
    }

    /// Resamples `src` (row-major `(H, W, C)`, `shape`) into a new `(out_h, out_w, C)` buffer,
    /// running the element-wise ops `post` on each output row as it is written.
    pub fn run<T: Pixel>(&self, src: &[T], shape: [usize; 3], post: &[PixelOp]) -> Vec<f32> {
        PASSES.with(|p| p.set(p.get() + 1));
        let [oh, ow] = self.out;
        let c = shape[2];
        let mut out = vec![0f32; oh * ow * c];
        if self.map.is_axis_aligned() && self.field.is_none() {
            self.run_separable(src, shape, post, &mut out);
        } else {
            self.run_general(src, shape, post, &mut out);
        }
        out
    }

    fn run_general<T: Pixel>(
        &self,
        src: &[T],
        [h, w, c]: [usize; 3],
        post: &[PixelOp],
        out: &mut [f32],
    ) {
        let (bx, by) = self.axis_borders();
        let [oh, ow] = self.out;
        let (mut row, mut col) = (Taps::default(), Taps::default());
        for y in 0..oh {
            for x in 0..ow {
                let (xf, yf) = match &self.field {
                    Some(d) => d.displaced(x, y, ow),
                    None => (x as f64, y as f64),
                };
                let (u, v) = self.map.apply(xf, yf);
                let (sx, sy) = if self.antialias {
                    self.map.footprint(xf, yf)
                } else {
                    (1.0, 1.0)
                };
                axis_taps(u, w, self.kernel, sx, bx, &mut col);
                axis_taps(v, h, self.kernel, sy, by, &mut row);
                let at = (y * ow + x) * c;
                self.blend(src, [w, c], &row, &col, &mut out[at..at + c]);
            }
            run_ops(post, &mut out[y * ow * c..(y + 1) * ow * c], c);
        }
    }

    /// The fill value times the weight of the taps that fell outside the image.
    fn fill(&self, row: &Taps, col: &Taps) -> f64 {
        let fill_w = (row.real() + row.fill) * (col.real() + col.fill) - row.real() * col.real();
        self.fill_value() * fill_w
    }

    /// One output pixel: the tensor product of the row and column taps, plus the fill value
    /// weighted by whatever weight fell outside the image.
    fn blend<T: Pixel>(
        &self,
        src: &[T],
        [w, c]: [usize; 2],
        row: &Taps,
        col: &Taps,
        px: &mut [f32],
    ) {
        let fill = self.fill(row, col);
        for (ch, o) in px.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (&i, &wy) in row.idx.iter().zip(&row.w) {
                let line = &src[i * w * c..];
                let mut s = 0.0;
                for (&j, &wx) in col.idx.iter().zip(&col.w) {
                    s += wx * line[j * c + ch].to_f64();
                }
                acc += wy * s;
            }
            *o = (acc + fill) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(map: Homography, out: [usize; 2], kernel: Kernel, border: Border) -> Resample {
        Resample {
            map,
            out,
            kernel,
            antialias: false,
            border,
            field: None,
        }
    }

    #[test]
    fn the_two_pass_separable_path_gives_the_per_pixel_blends_up_to_f32_rounding() {
        let (h, w, c) = (37, 53, 3);
        let src: Vec<f32> = (0..h * w * c).map(|i| ((i * 7919) % 256) as f32).collect();
        let maps = [
            Homography::affine([1.7, 0.0, 3.2], [0.0, 1.3, -2.5]),
            Homography::affine([-0.6, 0.0, 40.0], [0.0, 0.45, 5.0]),
            Homography::affine([2.9, 0.0, 0.0], [0.0, 3.1, 0.0]),
        ];
        let borders = [
            Border::Fill {
                mode: Fill::Reflect,
                value: 0.0,
            },
            Border::Window {
                x: [2, 40],
                y: [-3, 30],
                value: 9.0,
            },
        ];
        for (map, border, antialias) in maps.iter().flat_map(|m| {
            borders
                .iter()
                .flat_map(move |b| [(m, b, false), (m, b, true)])
        }) {
            for kernel in [Kernel::Bilinear, Kernel::Nearest] {
                let mut p = plan(*map, [21, 29], kernel, *border);
                p.antialias = antialias;
                let mut two_pass = vec![0f32; 21 * 29 * c];
                let mut per_pixel = two_pass.clone();
                p.run_separable(&src, [h, w, c], &[], &mut two_pass);
                p.run_general(&src, [h, w, c], &[], &mut per_pixel);
                // f32 taps and sums against f64: a few ulps of 255.
                let worst = two_pass
                    .iter()
                    .zip(&per_pixel)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(
                    worst <= 1e-3,
                    "{map:?} {border:?} {kernel:?} {antialias}: {worst}"
                );
            }
        }
    }

    #[test]
    fn half_a_pixel_outside_blends_half_fill_in_constant_mode() {
        let src = [10.0f32, 20.0, 30.0];
        let border = Border::Fill {
            mode: Fill::Constant,
            value: 100.0,
        };
        let p = plan(
            Homography::translation(-0.5, 0.0),
            [1, 3],
            Kernel::Bilinear,
            border,
        );
        assert_eq!(p.run(&src, [1, 3, 1], &[]), vec![55.0, 15.0, 25.0]);
    }

    #[test]
    fn the_general_path_equals_the_separable_one_on_an_axis_aligned_map() {
        let src: Vec<f32> = (0..35).map(|v| (v * 7 % 11) as f32).collect();
        let border = Border::Fill {
            mode: Fill::Reflect,
            value: 0.0,
        };
        let map = Homography::affine([0.7, 0.0, -1.3], [0.0, 1.6, 0.4]);
        let mut tilted = map;
        tilted.0[0][1] = 1e-300; // forces the per-pixel path, same coordinates
        for kernel in [Kernel::Nearest, Kernel::Bilinear, Kernel::Bicubic] {
            let a = plan(map, [6, 8], kernel, border).run(&src, [5, 7, 1], &[]);
            let b = plan(tilted, [6, 8], kernel, border).run(&src, [5, 7, 1], &[]);
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-5, "{kernel:?}: {a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn a_resize_window_renormalises_at_the_border_and_reads_padding_inside_it() {
        let src = [10.0f32, 20.0];
        let window = Border::Window {
            x: [-1, 2],
            y: [0, 0],
            value: 7.0,
        };
        // 2 -> 4 columns of the padded row [7 10 20 7]: the identity at scale 1.
        let p = plan(
            Homography::translation(-1.0, 0.0),
            [1, 4],
            Kernel::Bilinear,
            window,
        );
        assert_eq!(p.run(&src, [1, 2, 1], &[]), vec![7.0, 10.0, 20.0, 7.0]);
        // Half a pixel left of the window only the window's first (padding) pixel counts.
        let p = plan(
            Homography::translation(-1.5, 0.0),
            [1, 1],
            Kernel::Bilinear,
            window,
        );
        assert_eq!(p.run(&src, [1, 2, 1], &[]), vec![7.0]);
        // Bicubic's negative lobe is renormalised too: (0.5625·7 - 0.0625·10) / 0.5.
        let p = plan(
            Homography::translation(-1.5, 0.0),
            [1, 1],
            Kernel::Bicubic,
            window,
        );
        assert!((p.run(&src, [1, 2, 1], &[])[0] - 6.625).abs() < 1e-5);
    }

    #[test]
    fn huge_or_non_finite_coordinates_neither_panic_nor_hang() {
        let src = [1.0f32; 4];
        for mode in [Fill::Constant, Fill::Nearest, Fill::Reflect, Fill::Wrap] {
            let border = Border::Fill { mode, value: 0.0 };
            for map in [
                Homography::affine([1e300, 0.0, 0.0], [0.0, 1.0, 0.0]),
                Homography::affine([f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0]),
            ] {
                let mut p = plan(map, [2, 2], Kernel::Lanczos3, border);
                p.antialias = true;
                assert_eq!(p.run(&src, [2, 2, 1], &[]).len(), 4);
            }
        }
    }
}
