//! The warp kernel: one pass over the output, every channel at once, flips folded in.

use ndarray::{Array3, ArrayView3, ArrayViewMut3};

use super::fill::axis_taps;
use super::pixel::Layout;
use super::{DataFormat, FillMode, Interpolation, OutPixel, Pixel, SamplingMap};
use crate::{Error, Result};

/// Options of the resampling: a small `Copy` struct with chained setters.
///
/// ```
/// use augflow::{DataFormat, FillMode, transform::WarpOptions};
/// let o = WarpOptions::default().fill_mode(FillMode::Constant).cval(128.0);
/// assert_eq!(o.fill_mode, FillMode::Constant);
/// assert_eq!(o.data_format, DataFormat::ChannelsLast);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WarpOptions {
    /// Boundary handling.
    pub fill_mode: FillMode,
    /// Fill value for [`FillMode::Constant`].
    pub cval: f64,
    /// Spline order 0 or 1.
    pub interpolation: Interpolation,
    /// Layout of the images.
    pub data_format: DataFormat,
}

impl WarpOptions {
    /// Sets the fill mode.
    pub fn fill_mode(mut self, m: FillMode) -> Self {
        self.fill_mode = m;
        self
    }
    /// Sets the constant fill value.
    pub fn cval(mut self, v: f64) -> Self {
        self.cval = v;
        self
    }
    /// Sets the interpolation.
    pub fn interpolation(mut self, i: Interpolation) -> Self {
        self.interpolation = i;
        self
    }
    /// Sets the layout.
    pub fn data_format(mut self, f: DataFormat) -> Self {
        self.data_format = f;
        self
    }
}

/// What to do to one image geometrically: an optional resampling map, then the flips.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Warp {
    /// The output→input map; `None` copies the image (no resampling).
    pub map: Option<SamplingMap>,
    /// Reverse the columns after the resampling.
    pub flip_horizontal: bool,
    /// Reverse the rows after the resampling.
    pub flip_vertical: bool,
}

/// Shape of one image, checked: rank 3, non-empty.
pub(crate) fn image_dims(
    shape: &[usize],
    format: DataFormat,
    name: &'static str,
) -> Result<(usize, usize, usize)> {
    if shape.len() != 3 {
        return Err(Error::Shape {
            name,
            shape: shape.to_vec(),
            expected: format!("a rank-3 image ({})", layout_name(format)),
        });
    }
    let (h, w, c) = format.hwc([shape[0], shape[1], shape[2]]);
    if h == 0 || w == 0 || c == 0 {
        return Err(Error::Shape {
            name,
            shape: shape.to_vec(),
            expected: format!(
                "a non-empty image ({}) with H, W, C >= 1",
                layout_name(format)
            ),
        });
    }
    Ok((h, w, c))
}

pub(crate) fn layout_name(format: DataFormat) -> &'static str {
    match format {
        DataFormat::ChannelsLast => "H, W, C",
        DataFormat::ChannelsFirst => "C, H, W",
    }
}

/// Warps `src` into `dst` (same shape): each output pixel is computed once, from the input
/// coordinate `map` gives (scipy's `affine_transform` semantics, spec §5.3–§5.5), then
/// placed at its flipped position. `u8`/`u16`/`f32`/`f64` in, `f32`/`f64` out.
///
/// ```
/// use augflow::transform::{Warp, WarpOptions, sampling_map, warp_into};
/// use augflow::{Geometry, TransformParams};
/// use ndarray::{Array3, array};
///
/// // 4x4 arange, theta = 90 at order 0: rows [3 7 11 15] [2 6 10 14] ... (spec §5.4)
/// let src = Array3::from_shape_fn((4, 4, 1), |(r, c, _)| (4 * r + c) as u8);
/// let p = TransformParams { theta: 90.0, ..Default::default() };
/// let warp = Warp { map: sampling_map(&p, 4, 4, Geometry::Keras), ..Default::default() };
/// let opts = WarpOptions::default().interpolation(augflow::Interpolation::Nearest);
/// let mut dst = Array3::<f32>::zeros((4, 4, 1));
/// warp_into(src.view(), dst.view_mut(), &warp, &opts).unwrap();
/// assert_eq!(dst.index_axis(ndarray::Axis(2), 0), array![[3., 7., 11., 15.], [2., 6., 10., 14.], [1., 5., 9., 13.], [0., 4., 8., 12.]]);
/// ```
pub fn warp_into<T: Pixel, O: OutPixel>(
    src: ArrayView3<'_, T>,
    mut dst: ArrayViewMut3<'_, O>,
    warp: &Warp,
    opts: &WarpOptions,
) -> Result<()> {
    let (h, w, c) = image_dims(src.shape(), opts.data_format, "image")?;
    if src.shape() != dst.shape() {
        return Err(Error::Shape {
            name: "output",
            shape: dst.shape().to_vec(),
            expected: format!("the input's shape {:?}", src.shape()),
        });
    }
    check_map(warp.map.as_ref())?;
    crate::error::check_finite("cval", opts.cval)?;
    let lay = Layout::new(opts.data_format, h, w, c);
    let src = src.as_standard_layout();
    let src = src.as_slice().expect("standard layout is contiguous");
    match dst.as_slice_mut() {
        Some(out) => warp_slice(src, out, lay, warp, opts),
        None => {
            let mut tmp = vec![O::default(); lay.len()];
            warp_slice(src, &mut tmp, lay, warp, opts);
            let tmp = Array3::from_shape_vec(dst.raw_dim(), tmp).expect("same length");
            dst.assign(&tmp);
        }
    }
    Ok(())
}

/// Like [`warp_into`], allocating the output.
///
/// ```
/// use augflow::transform::{Warp, WarpOptions, warp};
/// use ndarray::Array3;
/// let src = Array3::<u8>::from_elem((2, 3, 3), 7);
/// let flipped: Array3<f32> = warp(src.view(), &Warp { flip_horizontal: true, ..Default::default() }, &WarpOptions::default()).unwrap();
/// assert!(flipped.iter().all(|&v| v == 7.0));
/// ```
pub fn warp<T: Pixel, O: OutPixel>(
    src: ArrayView3<'_, T>,
    warp: &Warp,
    opts: &WarpOptions,
) -> Result<Array3<O>> {
    let mut dst = Array3::<O>::default(src.raw_dim());
    warp_into(src, dst.view_mut(), warp, opts)?;
    Ok(dst)
}

fn check_map(map: Option<&SamplingMap>) -> Result<()> {
    if let Some(m) = map {
        let all = [
            m.a[0][0],
            m.a[0][1],
            m.a[1][0],
            m.a[1][1],
            m.offset[0],
            m.offset[1],
        ];
        if all.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "sampling map",
                format!("{m:?}"),
                "finite matrix and offset entries",
            ));
        }
    }
    Ok(())
}

/// The reference kernel over contiguous buffers of the same layout.
pub(crate) fn warp_slice<T: Pixel, O: OutPixel>(
    src: &[T],
    dst: &mut [O],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) {
    debug_assert_eq!(src.len(), lay.len());
    debug_assert_eq!(dst.len(), lay.len());
    let Layout { h, w, c, chs, .. } = lay;
    let src_row = |r: usize| if warp.flip_vertical { h - 1 - r } else { r };
    let src_col = |col: usize| {
        if warp.flip_horizontal {
            w - 1 - col
        } else {
            col
        }
    };

    let Some(m) = warp.map else {
        // No geometric factor: an exact copy, flips as permutations (spec §5.2, §7).
        for r in 0..h {
            let rr = src_row(r);
            for col in 0..w {
                let (o, i) = (lay.at(r, col), lay.at(rr, src_col(col)));
                for ch in 0..c {
                    dst[o + ch * chs] = O::from_f64(src[i + ch * chs].to_f64());
                }
            }
        }
        return;
    };

    let (n0, n1) = (h, w);
    let (last0, last1) = ((h - 1) as f64, (w - 1) as f64);
    let cval = O::from_f64(opts.cval);
    let bilinear = opts.interpolation == Interpolation::Bilinear;
    for r in 0..h {
        let rr = src_row(r) as f64;
        // spec §5.5 step 1: t = offset; t += r·A[k][0]; t += c·A[k][1] (no FMA).
        let base0 = m.offset[0] + rr * m.a[0][0];
        let base1 = m.offset[1] + rr * m.a[1][0];
        for col in 0..w {
            let cc = src_col(col) as f64;
            let t0 = base0 + cc * m.a[0][1];
            let t1 = base1 + cc * m.a[1][1];
            let o = lay.at(r, col);
            if t0 >= 0.0 && t0 < last0 && t1 >= 0.0 && t1 < last1 {
                // Interior: every tap in bounds, no boundary rule can apply.
                if bilinear {
                    let (s0, s1) = (t0.floor(), t1.floor());
                    let (w0r, w0c) = (1.0 - (t0 - s0), 1.0 - (t1 - s1));
                    let (w1r, w1c) = (1.0 - w0r, 1.0 - w0c);
                    let i00 = lay.at(s0 as usize, s1 as usize);
                    let (i01, i10) = (i00 + lay.cs, i00 + lay.rs);
                    let i11 = i10 + lay.cs;
                    for ch in 0..c {
                        let k = ch * chs;
                        let mut t = src[i00 + k].to_f64() * w0r * w0c;
                        t += src[i01 + k].to_f64() * w0r * w1c;
                        t += src[i10 + k].to_f64() * w1r * w0c;
                        t += src[i11 + k].to_f64() * w1r * w1c;
                        dst[o + k] = O::from_f64(t);
                    }
                } else {
                    let i = lay.at((t0 + 0.5).floor() as usize, (t1 + 0.5).floor() as usize);
                    for ch in 0..c {
                        dst[o + ch * chs] = O::from_f64(src[i + ch * chs].to_f64());
                    }
                }
                continue;
            }
            let taps = axis_taps(t0, n0, opts.fill_mode, opts.interpolation).zip(axis_taps(
                t1,
                n1,
                opts.fill_mode,
                opts.interpolation,
            ));
            let Some(((r0, r1, w0r, w1r), (c0, c1, w0c, w1c))) = taps else {
                for ch in 0..c {
                    dst[o + ch * chs] = cval;
                }
                continue;
            };
            let (i00, i01) = (lay.at(r0, c0), lay.at(r0, c1));
            let (i10, i11) = (lay.at(r1, c0), lay.at(r1, c1));
            for ch in 0..c {
                let k = ch * chs;
                let v = if bilinear {
                    let mut t = src[i00 + k].to_f64() * w0r * w0c;
                    t += src[i01 + k].to_f64() * w0r * w1c;
                    t += src[i10 + k].to_f64() * w1r * w0c;
                    t += src[i11 + k].to_f64() * w1r * w1c;
                    t
                } else {
                    src[i00 + k].to_f64()
                };
                dst[o + k] = O::from_f64(v);
            }
        }
    }
}
