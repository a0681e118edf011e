//! The warp kernel: one pass over the output, every channel at once, flips folded in.
//!
//! # From a batch to the SIMD loop
//!
//! ```text
//! Sequence::get (an iterator's batch)                             iterators/
//! └─ per sample, on rayon: ImageDataGenerator::sample_into_uninit generator/
//!    └─ warp_slice_uninit (or the public warp_into, warp)         warp/mod.rs
//!       ├─ Ctx::new → KernelChoice::new, once per image:          kernel.rs, dispatch.rs
//!       │    the build (Isa::current), the channel specialization,
//!       │    the pixel lanes, the interior path, the border path
//!       └─ bands::for_each_band: rows cut into bands on rayon     bands.rs
//!          └─ kernel::run → the build's #[target_feature] fn      kernel.rs, x86/mod.rs
//!             └─ by_channels → rows::<C>, for each output row:    kernel.rs
//!                ├─ RowPrefetch::rows: source rows ahead          prefetch.rs
//!                ├─ Border::Clamped: fast::interior_row, whole row fast.rs
//!                └─ Border::Scipy: border_and_interior            kernel.rs
//!                   ├─ exact::border_col, left border             exact.rs
//!                   ├─ Interior::Exact: exact::interior_row       exact.rs
//!                   │  └─ x86::avx2::bilinear_span, bilinear_write x86/avx2.rs
//!                   ├─ Interior::Fast: fast::interior_row         fast.rs
//!                   │  ├─ x86::avx512_u8, avx2_u8, avx2 spans     x86/
//!                   │  └─ fast::fast_pixels, the remainder        fast.rs
//!                   └─ exact::border_col, right border            exact.rs
//! ```
//!
//! Every path does the same IEEE operations in the same order as its reference
//! (`exact.rs` for scipy, [`fast::fast_pixel`] for the fast mode), so the bands and the
//! lanes never change a value, nor does the build, except that the portable build on
//! x86-64 has no fast mode; `tests.rs` checks it.

use std::mem::MaybeUninit;

use ndarray::{Array3, ArrayView3, ArrayViewMut3};

use super::pixel::Layout;
use super::{DataFormat, FillMode, Interpolation, Pixel, SamplingMap, WarpOut};
use crate::{Error, Result};

mod bands;
mod dispatch;
mod exact;
mod fast;
mod kernel;
mod nearest;
mod prefetch;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use dispatch::{Isa, kernel_build, set_kernel_build};
pub(crate) use nearest::{LabelMap, warp_nearest};

/// Options of the resampling: a small `Copy` struct with chained setters.
///
/// ```
/// use augflow::{DataFormat, FillMode, transform::WarpOptions};
/// let o = WarpOptions::default().fill_mode(FillMode::Constant).cval(128.0);
/// assert_eq!(o.fill_mode, FillMode::Constant);
/// assert_eq!(o.data_format, DataFormat::ChannelsLast);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarpOptions {
    /// Boundary handling.
    pub fill_mode: FillMode,
    /// Fill value for [`FillMode::Constant`].
    pub cval: f64,
    /// Spline order 0 or 1.
    pub interpolation: Interpolation,
    /// Layout of the images.
    pub data_format: DataFormat,
    /// Allow the fast bilinear path for `f32` and `u8` output (a `u8` value is the fast
    /// `f32` value rounded as [`WarpOut`] says): coordinates and taps exactly as the
    /// reference, weights in `f32` with fused multiply–adds (within about `1e-4` of the
    /// reference on a 0..255 scale). `false` (the default) reproduces scipy bit for bit.
    pub fast: bool,
    /// Every output value (and `cval`) is multiplied by this, in the output type, as it is
    /// written: the same product a separate `x *= scale` pass would give (Keras' `rescale`),
    /// without a second pass over the image. Default 1; `u8` output takes only 1 (pixel
    /// values are not rescaled into an integer type).
    pub scale: f64,
}

impl Default for WarpOptions {
    fn default() -> Self {
        WarpOptions {
            fill_mode: FillMode::default(),
            cval: 0.0,
            interpolation: Interpolation::default(),
            data_format: DataFormat::default(),
            fast: false,
            scale: 1.0,
        }
    }
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
    /// Allows the fast (not bit-exact) bilinear path.
    pub fn fast(mut self, on: bool) -> Self {
        self.fast = on;
        self
    }
    /// Multiplies every output value by `s` as it is written.
    pub fn scale(mut self, s: f64) -> Self {
        self.scale = s;
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
/// placed at its flipped position. `u8`/`u16`/`f32`/`f64` in, `f32`/`f64`/`u8` out (see
/// [`WarpOut`] for how `u8` rounds).
///
/// Errors: [`Error::Shape`] when `dst`'s shape is not `src`'s; [`Error::InvalidParameter`]
/// for a non-finite map, `cval` or `scale`, and for a `scale` other than 1 with `u8` output.
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
pub fn warp_into<T: Pixel, O: WarpOut>(
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
    crate::error::check_finite("scale", opts.scale)?;
    if O::KIND == super::pixel::PixelKind::U8 && opts.scale != 1.0 {
        return Err(Error::invalid(
            "scale",
            opts.scale,
            "1 with u8 output (integer pixels are not rescaled; use f32 output to rescale)",
        ));
    }
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
pub fn warp<T: Pixel, O: WarpOut>(
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

/// The kernel over contiguous buffers of the same layout, with the build of
/// [`kernel_build`] (the arithmetic, and so the result, is the same on every build).
pub(crate) fn warp_slice<T: Pixel, O: WarpOut>(
    src: &[T],
    dst: &mut [O],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) {
    // SAFETY: the kernel only writes initialized values, so `dst` stays initialized.
    let dst = unsafe { &mut *(dst as *mut [O] as *mut [MaybeUninit<O>]) };
    warp_slice_uninit(src, dst, lay, warp, opts);
}

/// [`warp_slice`] into memory that may be uninitialized: every element of `dst` is written
/// (every channel of every pixel, on every path), so afterwards it is initialized.
///
/// The kernel choice is made once, here, so every band of a large image (see
/// `bands.rs`) runs the same build, even if [`set_kernel_build`] is called meanwhile.
pub(crate) fn warp_slice_uninit<T: Pixel, O: WarpOut>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) {
    let ctx = kernel::Ctx::new(src, lay, warp, opts, dispatch::Isa::current());
    bands::for_each_band(lay, dst, |part, rows| kernel::run(&ctx, part, rows));
}

/// [`warp_slice_uninit`] with the build chosen by the caller, at most [`Isa::supported`]
/// (narrower ones are for tests that compare the builds), in one piece.
#[cfg(test)]
pub(crate) fn warp_slice_isa<T: Pixel, O: WarpOut>(
    isa: Isa,
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) {
    let ctx = kernel::Ctx::new(src, lay, warp, opts, isa);
    kernel::run(&ctx, dst, (0, lay.h));
}
