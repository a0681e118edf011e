//! The warp kernel: one pass over the output, every channel at once, flips folded in.

use std::mem::MaybeUninit;

use ndarray::{Array3, ArrayView3, ArrayViewMut3};

use super::fill::{axis_taps, floor};
use super::pixel::Layout;
use super::pixel::PixelKind;
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
    /// Allow the fast bilinear path for `f32` output: coordinates and taps exactly as the
    /// reference, weights in `f32` with fused multiply–adds (within about `1e-4` of the
    /// reference on a 0..255 scale). `false` (the default) reproduces scipy bit for bit.
    pub fast: bool,
    /// Every output value (and `cval`) is multiplied by this, in the output type, as it is
    /// written: the same product a separate `x *= scale` pass would give (Keras' `rescale`),
    /// without a second pass over the image. Default 1.
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
    crate::error::check_finite("scale", opts.scale)?;
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

/// The kernel over contiguous buffers of the same layout: dispatches to a build for the CPU's
/// widest instruction set (the arithmetic, and so the result, is the same on every path).
pub(crate) fn warp_slice<T: Pixel, O: OutPixel>(
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
/// A large channels-last image is cut into bands of rows that rayon may run on several
/// threads: a batch smaller than the pool (or one image warped alone) still uses every core,
/// and a batch's last images are shared out. Every pixel is computed the same way in any
/// band, so the result does not depend on the cut.
pub(crate) fn warp_slice_uninit<T: Pixel, O: OutPixel>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) {
    let isa = Isa::detect();
    match band_rows(lay, rayon::current_num_threads()) {
        Some(band) => {
            use rayon::prelude::*;
            dst.par_chunks_mut(band * lay.rs)
                .enumerate()
                .for_each(|(k, part)| {
                    let r0 = k * band;
                    let rows = (r0, (r0 + band).min(lay.h));
                    warp_slice_rows(isa, src, part, lay, warp, opts, rows);
                });
        }
        None => warp_slice_rows(isa, src, dst, lay, warp, opts, (0, lay.h)),
    }
}

/// Images with fewer pixels are not cut into bands (the cut would cost more than it gains).
const BAND_MIN_PIXELS: usize = 128 * 128;
/// The fewest rows in a band.
const BAND_MIN_ROWS: usize = 16;

/// The rows per band for an image of `lay` on a pool of `threads` (two bands per thread, so
/// that stealing can even out the load), or `None` to warp it whole: small images,
/// channels-first layouts (a band of rows is not contiguous there) and one thread.
fn band_rows(lay: Layout, threads: usize) -> Option<usize> {
    if lay.chs != 1 || threads < 2 || lay.h * lay.w < BAND_MIN_PIXELS {
        return None;
    }
    let bands = (2 * threads).min(lay.h / BAND_MIN_ROWS);
    (bands >= 2).then(|| lay.h.div_ceil(bands))
}

/// The instruction sets the kernel has builds for, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Isa {
    /// Plain Rust (and, on x86-64, no fast path: `f32::mul_add` without FMA hardware is a
    /// library call).
    Portable,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX2, FMA and AVX-512 F, BW and VBMI.
    Avx512,
}

impl Isa {
    /// The widest build this CPU runs (detection is cached by the standard library).
    pub(crate) fn supported() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                if has!("avx512f") && has!("avx512bw") && has!("avx512vbmi") {
                    return Isa::Avx512;
                }
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// The build the kernel uses: [`Isa::supported`], or narrower where the environment
    /// variable `AUGFLOW_ISA` (`portable`, `avx2` or `avx512`) asks for it — to measure or
    /// compare the builds on one machine. Read once per process.
    pub(crate) fn detect() -> Isa {
        static CHOSEN: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let best = Isa::supported();
            let Ok(v) = std::env::var("AUGFLOW_ISA") else {
                return best;
            };
            let cap = match v.trim().to_ascii_lowercase().as_str() {
                "portable" => Isa::Portable,
                "avx2" => Isa::Avx2,
                "avx512" => Isa::Avx512,
                _ => {
                    log::warn!(
                        "AUGFLOW_ISA={v:?} ignored: expected portable, avx2 or avx512; using {best:?}"
                    );
                    return best;
                }
            };
            cap.min(best)
        })
    }
}

/// The name of the kernel build this process uses: `"avx512"`, `"avx2"` or `"portable"` —
/// the widest the CPU runs, unless the environment variable `AUGFLOW_ISA` asks for a
/// narrower one. The AVX-512 and AVX2 builds give the same bits; the portable build on
/// x86-64 has no fast path, so the default geometry's values then differ slightly (within
/// about `2e-4` on a 0..255 scale). Benchmarks print it.
///
/// ```
/// let b = augflow::transform::kernel_build();
/// assert!(["avx512", "avx2", "portable"].contains(&b));
/// ```
pub fn kernel_build() -> &'static str {
    match Isa::detect() {
        Isa::Avx512 => "avx512",
        Isa::Avx2 => "avx2",
        Isa::Portable => "portable",
    }
}

/// [`warp_slice_uninit`] with the build chosen by the caller, at most [`Isa::supported`]
/// (narrower ones are for tests that compare the builds), in one piece.
#[cfg(test)]
pub(crate) fn warp_slice_isa<T: Pixel, O: OutPixel>(
    isa: Isa,
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
) {
    warp_slice_rows(isa, src, dst, lay, warp, opts, (0, lay.h));
}

/// Output rows `rows.0..rows.1` of the image into `dst`, which holds just those rows
/// (channels-last), or the whole image when `rows` is `(0, h)`.
fn warp_slice_rows<T: Pixel, O: OutPixel>(
    isa: Isa,
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
    rows: (usize, usize),
) {
    debug_assert_eq!(src.len(), lay.len());
    debug_assert!(rows.0 < rows.1 && rows.1 <= lay.h || lay.len() == 0);
    debug_assert!(rows == (0, lay.h) || lay.chs == 1);
    debug_assert_eq!(dst.len(), lay.len() / lay.h.max(1) * (rows.1 - rows.0));
    assert!(
        isa <= Isa::supported(),
        "{isa:?} is not available on this CPU"
    );
    #[cfg(target_arch = "x86_64")]
    match isa {
        // SAFETY: the assert above checked that the CPU has the build's features.
        Isa::Avx512 => return unsafe { warp_avx512(src, dst, lay, warp, opts, rows) },
        Isa::Avx2 => return unsafe { warp_avx2(src, dst, lay, warp, opts, rows) },
        Isa::Portable => {}
    }
    warp_dispatch::<T, O, 0>(src, dst, lay, warp, opts, rows);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn warp_avx2<T: Pixel, O: OutPixel>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
    rows: (usize, usize),
) {
    // Rust never contracts `a * b + c` into an FMA, so this build rounds like the portable one.
    warp_dispatch::<T, O, 1>(src, dst, lay, warp, opts, rows);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512vbmi")]
fn warp_avx512<T: Pixel, O: OutPixel>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
    rows: (usize, usize),
) {
    warp_dispatch::<T, O, 2>(src, dst, lay, warp, opts, rows);
}

/// `ISA`: 0 portable, 1 AVX2 lanes allowed (only inside [`warp_avx2`]), 2 AVX2 and AVX-512
/// lanes allowed (only inside [`warp_avx512`]).
#[inline(always)]
fn warp_dispatch<T: Pixel, O: OutPixel, const ISA: u8>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
    rows: (usize, usize),
) {
    // Channels-last specializations need the pixel stride to be the channel count: a 1x1
    // channels-first image also has a unit channel stride, but a pixel stride of 1.
    let channels_last = lay.chs == 1 && lay.cs == lay.c;
    match (channels_last, lay.c) {
        (true, 1) => warp_rows::<T, O, 1, ISA>(src, dst, lay, warp, opts, rows),
        (true, 3) => warp_rows::<T, O, 3, ISA>(src, dst, lay, warp, opts, rows),
        (true, 4) => warp_rows::<T, O, 4, ISA>(src, dst, lay, warp, opts, rows),
        _ => warp_rows::<T, O, 0, ISA>(src, dst, lay, warp, opts, rows),
    }
}

/// The output columns `[lo, hi)` of one row (in source-column space `cc`) whose sampling point
/// `base + cc·a` lies in `[0, last)` on both axes, so all four taps are inside the image.
/// Conservative: verified exactly at both ends (the computed coordinate is monotone in `cc`).
#[inline(always)]
fn interior_span(base: [f64; 2], a: [f64; 2], last: [f64; 2], w: usize) -> (usize, usize) {
    let (mut lo, mut hi) = (0.0f64, w as f64);
    for k in 0..2 {
        if a[k] == 0.0 {
            if !(base[k] >= 0.0 && base[k] < last[k]) {
                return (0, 0);
            }
            continue;
        }
        let (p, q) = ((0.0 - base[k]) / a[k], (last[k] - base[k]) / a[k]);
        let (from, to) = if a[k] > 0.0 { (p, q) } else { (q, p) };
        lo = lo.max(from.ceil() + 1.0);
        hi = hi.min(to.floor() - 1.0);
    }
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
        return (0, 0);
    }
    let inside = |cc: usize| {
        (0..2).all(|k| {
            let t = base[k] + cc as f64 * a[k];
            t >= 0.0 && t < last[k]
        })
    };
    let (mut lo, mut hi) = (lo.max(0.0) as usize, (hi.min(w as f64)) as usize);
    while lo < hi && !inside(lo) {
        lo += 1;
    }
    while hi > lo && !inside(hi - 1) {
        hi -= 1;
    }
    (lo, hi)
}

/// How many output rows ahead the kernel asks the cache for the source rows they read.
const PREFETCH_ROWS: usize = 4;

/// Source rows asked of the cache so far, for one image: the hardware prefetchers follow
/// memory in order, not the slanted path a rotation takes through the rows, and a dataset's
/// images are usually not in cache. Each source cache line is asked for at most once per
/// image, and only on x86-64 (elsewhere this does nothing). A hint: it changes no value.
struct RowPrefetch<'a, T> {
    src: &'a [T],
    lay: Layout,
    /// The rows asked for so far, `lo..hi` (empty at first).
    done: (usize, usize),
}

impl<'a, T> RowPrefetch<'a, T> {
    fn new(src: &'a [T], lay: Layout) -> Self {
        RowPrefetch {
            src,
            lay,
            done: (0, 0),
        }
    }

    /// Asks for the rows a sampling coordinate range `lo..=hi` reads (both taps, clamped to
    /// the image), beyond those asked for already.
    #[inline(always)]
    fn rows(&mut self, range: (f64, f64)) {
        for (y0, y1) in self.grow(range) {
            self.fetch(y0, y1);
        }
    }

    /// Widens `done` to the rows `range` reads and returns the rows that are new (at most
    /// two runs, either may be empty). `done` stays one run: successive output rows read
    /// overlapping (or adjacent) source rows, and a gap between two requests is filled in.
    #[inline(always)]
    fn grow(&mut self, (lo, hi): (f64, f64)) -> [(usize, usize); 2] {
        let h = self.lay.h as f64;
        // Coordinates clamped to the image (where nearest fill reads), and the second tap
        // one row below the first; NaN ends up at 0, harmless for a hint.
        let lo = lo.floor().clamp(0.0, h - 1.0) as usize;
        let hi = (hi.floor().clamp(0.0, h - 1.0) as usize + 2).min(self.lay.h);
        let hi = hi.max(lo);
        let (dlo, dhi) = self.done;
        if dlo == dhi {
            self.done = (lo, hi);
            return [(lo, hi), (0, 0)];
        }
        self.done = (dlo.min(lo), dhi.max(hi));
        [(lo.min(dlo), dlo), (dhi, hi.max(dhi))]
    }

    /// Asks for every cache line of source rows `y0..y1` (in every channel plane).
    #[inline(always)]
    fn fetch(&self, y0: usize, y1: usize) {
        if y0 >= y1 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
            let size = size_of::<T>();
            let lay = self.lay;
            // Channels-last: the rows are one run; channels-first: one run per plane.
            let (runs, run_stride) = if lay.chs == 1 {
                (1, 0)
            } else {
                (lay.c, lay.chs)
            };
            let (from, to) = (y0 * lay.rs * size, y1 * lay.rs * size);
            let base = self.src.as_ptr() as *const i8;
            for k in 0..runs {
                let start = k * run_stride * size;
                for off in (from..to).step_by(64) {
                    // SAFETY: SSE is part of x86-64; a prefetch never faults, and the
                    // address lies inside the source anyway.
                    unsafe { _mm_prefetch::<_MM_HINT_T1>(base.wrapping_add(start + off)) };
                }
            }
        }
    }
}

/// The kernel. `C` is the channel count of a channels-last image, or 0 for any other layout.
#[inline(always)]
fn warp_rows<T: Pixel, O: OutPixel, const C: usize, const ISA: u8>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    warp: &Warp,
    opts: &WarpOptions,
    rows: (usize, usize),
) {
    let Layout { h, w, c, chs, .. } = lay;
    let nc = if C > 0 { C } else { c };
    let sc = O::from_f64(opts.scale);
    // Four channels of a pixel fit one f64x4 register; with three, the fourth lane reads and
    // writes the next element, which is rewritten afterwards (guarded at row and buffer ends).
    let lanes = ISA >= 1 && cfg!(target_arch = "x86_64") && (C == 3 || C == 4);
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
        for r in rows.0..rows.1 {
            let rr = src_row(r);
            for col in 0..w {
                let (o, i) = (lay.at(r - rows.0, col), lay.at(rr, src_col(col)));
                for ch in 0..nc {
                    dst[o + ch * chs].write(O::from_f64(src[i + ch * chs].to_f64()) * sc);
                }
            }
        }
        return;
    };

    let last = [(h - 1) as f64, (w - 1) as f64];
    let a = [m.a[0][1], m.a[1][1]];
    let cval = O::from_f64(opts.cval) * sc;
    let bilinear = opts.interpolation == Interpolation::Bilinear;
    // Fast mode (f32 output, bilinear): fast_pixel's arithmetic for every non-border pixel,
    // on x86-64 only where FMA is in hardware (inside warp_avx2).
    let fast_px = bilinear
        && opts.fast
        && O::KIND == PixelKind::F32
        && T::KIND != PixelKind::F64
        && (ISA >= 1 || !cfg!(target_arch = "x86_64"));
    let small = lay.len() < i32::MAX as usize;
    // Gathering lanes for u8 images with 1, 3 or 4 channels, channels-last: eight pixels per
    // step with AVX2, sixteen with AVX-512; then two pixels per register for the rest.
    let gathers = fast_px
        && ISA >= 1
        && cfg!(target_arch = "x86_64")
        && T::KIND == PixelKind::U8
        && (C == 1 || C == 3 || C == 4)
        && small;
    let kinds = FastLanes {
        wide: gathers && ISA >= 2,
        gathers,
        pairs: fast_px && lanes && small,
    };
    // Nearest fill: clamping the coordinate gives scipy's clamped taps, so no border at all.
    let clamp_rows = fast_px && opts.fill_mode == FillMode::Nearest && h >= 2 && w >= 2;
    let mut fetch = RowPrefetch::new(src, lay);
    // The source rows that output row q reads lie between its two ends' coordinates.
    let rows_of = |q: usize| {
        let t = m.offset[0] + src_row(q) as f64 * m.a[0][0];
        let (e0, e1) = (
            t + src_col(0) as f64 * a[0],
            t + src_col(w - 1) as f64 * a[0],
        );
        (e0.min(e1), e0.max(e1))
    };
    fetch.rows(rows_of(rows.0));
    for r in rows.0..rows.1 {
        // Ask for the source rows PREFETCH_ROWS output rows on while this one is computed.
        fetch.rows(rows_of((r + PREFETCH_ROWS).min(h - 1)));
        let rr = src_row(r) as i64 as f64;
        let row_end = (r - rows.0 + 1) * lay.rs;
        // spec §5.5 step 1: t = offset; t += r·A[k][0]; t += c·A[k][1] (no FMA).
        let base = [m.offset[0] + rr * m.a[0][0], m.offset[1] + rr * m.a[1][0]];
        if clamp_rows {
            let dst32 = f32_slots(dst);
            // SAFETY: the flags imply the CPU features (see FastLanes); sides >= 2.
            let done = unsafe {
                fast_span::<T, C, true>(
                    kinds,
                    src,
                    dst32,
                    lay,
                    base,
                    a,
                    r - rows.0,
                    (0, w),
                    warp.flip_horizontal,
                    opts.scale,
                )
            };
            let (flip, scale) = (warp.flip_horizontal, opts.scale as f32);
            fast_pixels(
                src,
                dst32,
                lay,
                nc,
                r - rows.0,
                (done, w),
                base,
                a,
                flip,
                true,
                scale,
            );
            continue;
        }
        let (lo, hi) = interior_span(base, a, last, w);
        // The span in output columns, walked left to right in memory.
        let (out_lo, out_hi) = if warp.flip_horizontal {
            (w - hi, w - lo)
        } else {
            (lo, hi)
        };
        let row = BorderRow {
            fast: fast_px,
            r: r - rows.0,
            base,
            a,
            row_end,
            lanes,
            cval,
        };
        // Left to right in memory, so a 3-channel lane write that spills one element into the
        // next pixel is always followed by that pixel's own write.
        for col in 0..out_lo {
            border_col::<T, O>(src, dst, lay, nc, warp, opts, &row, col);
        }
        #[allow(unused_mut)]
        let mut first = out_lo;
        if fast_px {
            let dst32 = f32_slots(dst);
            let (flip, scale) = (warp.flip_horizontal, opts.scale as f32);
            // SAFETY: as above; out_lo..out_hi is this row's interior span.
            let done = unsafe {
                fast_span::<T, C, false>(
                    kinds,
                    src,
                    dst32,
                    lay,
                    base,
                    a,
                    r - rows.0,
                    (out_lo, out_hi),
                    flip,
                    opts.scale,
                )
            };
            fast_pixels(
                src,
                dst32,
                lay,
                nc,
                r - rows.0,
                (done, out_hi),
                base,
                a,
                flip,
                false,
                scale,
            );
            first = out_hi;
        } else if lanes && bilinear && lay.len() < i32::MAX as usize {
            // SAFETY: AVX2 was detected (lanes); out_lo..out_hi is this row's interior span.
            first = unsafe {
                super::simd::bilinear_span(
                    src,
                    dst,
                    lay,
                    base,
                    a,
                    r - rows.0,
                    (out_lo, out_hi),
                    warp.flip_horizontal,
                    opts.scale,
                )
            };
        }
        for col in first..out_hi {
            let cc = src_col(col) as i64 as f64;
            let t0 = base[0] + cc * a[0];
            let t1 = base[1] + cc * a[1];
            let o = lay.at(r - rows.0, col);
            if bilinear {
                // Inside the span 0 <= t < n - 1, so truncation is floor and fits an i64.
                // SAFETY: t0 and t1 are finite and in range (interior_span checked them).
                let (s0, s1) =
                    unsafe { (t0.to_int_unchecked::<i64>(), t1.to_int_unchecked::<i64>()) };
                let w0r = 1.0 - (t0 - s0 as f64);
                let w0c = 1.0 - (t1 - s1 as f64);
                let (s0, s1) = (s0 as usize, s1 as usize);
                let (w1r, w1c) = (1.0 - w0r, 1.0 - w0c);
                let i00 = lay.at(s0, s1);
                let (i01, i10) = (i00 + lay.cs, i00 + lay.rs);
                let i11 = i10 + lay.cs;
                debug_assert!(i11 + (nc - 1) * chs < src.len() && o + (nc - 1) * chs < dst.len());
                #[cfg(target_arch = "x86_64")]
                if lanes && i11 + 4 <= src.len() && o + 4 <= row_end {
                    // SAFETY: AVX2 was detected (lanes implies ISA >= 1, set only in warp_avx2/512);
                    // the guards above keep the 4-element reads and write in bounds.
                    unsafe {
                        let idx = [i00, i01, i10, i11];
                        super::simd::bilinear_write(
                            src,
                            dst,
                            o,
                            idx,
                            [w0r, w0c, w1r, w1c],
                            opts.scale,
                        );
                    }
                    continue;
                }
                for ch in 0..nc {
                    let k = ch * chs;
                    // SAFETY: the span guarantees s0 + 1 <= h - 1 and s1 + 1 <= w - 1.
                    let (v00, v01, v10, v11) = unsafe {
                        (
                            src.get_unchecked(i00 + k).to_f64(),
                            src.get_unchecked(i01 + k).to_f64(),
                            src.get_unchecked(i10 + k).to_f64(),
                            src.get_unchecked(i11 + k).to_f64(),
                        )
                    };
                    // spec §5.5 step 5: t = 0; t += (v · w_row) · w_col, taps in row-major order.
                    let mut t = v00 * w0r * w0c;
                    t += v01 * w0r * w1c;
                    t += v10 * w1r * w0c;
                    t += v11 * w1r * w1c;
                    dst[o + k].write(O::from_f64(t) * sc);
                }
            } else {
                // spec §5.5 step 3: order 0 rounds half up.
                // SAFETY: 0.5 <= t + 0.5 < n - 0.5 inside the span.
                let (s0, s1) = unsafe {
                    (
                        (t0 + 0.5).to_int_unchecked::<i64>(),
                        (t1 + 0.5).to_int_unchecked::<i64>(),
                    )
                };
                let i = lay.at(s0 as usize, s1 as usize);
                #[cfg(target_arch = "x86_64")]
                if lanes && i + 4 <= src.len() && o + 4 <= row_end {
                    // SAFETY: as above.
                    unsafe {
                        let v = super::simd::load4(src.as_ptr().add(i));
                        super::simd::store4(dst.as_mut_ptr().add(o) as *mut O, v, opts.scale);
                    }
                    continue;
                }
                for ch in 0..nc {
                    dst[o + ch * chs].write(O::from_f64(src[i + ch * chs].to_f64()) * sc);
                }
            }
        }
        // The right border after the span: it rewrites any element a 3-channel lane write
        // of the span's last pixel touched (the left border ran before the span).
        for col in out_hi..w {
            border_col::<T, O>(src, dst, lay, nc, warp, opts, &row, col);
        }
    }
}

/// `dst` as `f32` slots, for the fast paths, which only run when the output type is `f32`
/// (the check is a compile-time constant, so it costs nothing).
#[inline(always)]
fn f32_slots<O: OutPixel>(dst: &mut [MaybeUninit<O>]) -> &mut [MaybeUninit<f32>] {
    assert!(
        O::KIND == PixelKind::F32,
        "fast path with {} output",
        O::NAME
    );
    // SAFETY: O is f32 (checked above), so the cast only renames the element type.
    unsafe { &mut *(dst as *mut [MaybeUninit<O>] as *mut [MaybeUninit<f32>]) }
}

/// Which fast lane kernels a row may use, decided once per image: set only inside the
/// builds whose CPU features they need (`wide`: AVX-512, the others AVX2 and FMA).
#[derive(Clone, Copy)]
struct FastLanes {
    /// `simd512::bilinear_span_u8`, sixteen pixels per step.
    wide: bool,
    /// `simd256::bilinear_span_u8`, eight pixels per step.
    gathers: bool,
    /// `simd::bilinear_span_f32`, four pixels per step, two per register.
    pairs: bool,
}

/// The fast bilinear lanes over output columns `lo..hi` of output row `row_out` (counted
/// within `dst`), widest first; returns the first column none of them did, for
/// [`fast_pixels`].
///
/// # Safety
/// The CPU features `kinds` implies; the images as the span functions require (channels-
/// last with `C` channels where a flag is set, fewer than `i32::MAX` elements); without
/// `CLAMP`, `lo..hi` in the row's interior span, with it both image sides at least 2.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut, unused_variables))]
unsafe fn fast_span<T: Pixel, const C: usize, const CLAMP: bool>(
    kinds: FastLanes,
    src: &[T],
    dst: &mut [MaybeUninit<f32>],
    lay: Layout,
    base: [f64; 2],
    a: [f64; 2],
    row_out: usize,
    (lo, hi): (usize, usize),
    flip_h: bool,
    scale: f64,
) -> usize {
    let mut done = lo;
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use super::{simd, simd256, simd512};
        if kinds.wide {
            done = simd512::bilinear_span_u8::<C, CLAMP>(
                u8_slice(src),
                dst,
                lay,
                base,
                a,
                row_out,
                (done, hi),
                flip_h,
                scale,
            );
        }
        if kinds.gathers {
            done = simd256::bilinear_span_u8::<C, CLAMP>(
                u8_slice(src),
                dst,
                lay,
                base,
                a,
                row_out,
                (done, hi),
                flip_h,
                scale,
            );
        }
        if kinds.pairs {
            done = simd::bilinear_span_f32::<T, CLAMP>(
                src,
                dst,
                lay,
                base,
                a,
                row_out,
                (done, hi),
                flip_h,
                scale,
            );
        }
    }
    done
}

/// [`fast_pixel`] for output columns `lo..hi` of output row `row_out` (counted within
/// `dst`), whose sampling points are `base + cc·a` at source column `cc` (mirrored when
/// `flip_h`): the per-pixel remainder and fallback of every fast path.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fast_pixels<T: Pixel>(
    src: &[T],
    dst: &mut [MaybeUninit<f32>],
    lay: Layout,
    nc: usize,
    row_out: usize,
    (lo, hi): (usize, usize),
    base: [f64; 2],
    a: [f64; 2],
    flip_h: bool,
    clamp: bool,
    scale: f32,
) {
    for col in lo..hi {
        let cc = if flip_h { lay.w - 1 - col } else { col } as i64 as f64;
        let t = (base[0] + cc * a[0], base[1] + cc * a[1]);
        fast_pixel(src, dst, lay, nc, lay.at(row_out, col), t, clamp, scale);
    }
}

/// `src` as bytes, for the `u8` fast path (the check is a compile-time constant).
#[inline(always)]
fn u8_slice<T: Pixel>(src: &[T]) -> &[u8] {
    assert!(T::KIND == PixelKind::U8, "u8 path with {:?} input", T::KIND);
    // SAFETY: T is u8 (checked above), so the cast only renames the element type.
    unsafe { &*(src as *const [T] as *const [u8]) }
}

/// The fast bilinear value of one pixel, `f32` output: the arithmetic of the vector kernel
/// (`simd::bilinear_span_f32`) lane for lane — coordinates in `f64`, fractions rounded to
/// `f32`, weights `(1-fr)(1-fc)`, `(1-fr)fc`, `fr(1-fc)`, `fr·fc`, then a multiply and three
/// fused multiply–adds — so a pixel gets the same value whichever path computes it.
/// With `clamp`, coordinates are clamped to `[0, n-1]` (nearest fill; sides >= 2);
/// without, they must be interior.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fast_pixel<T: Pixel>(
    src: &[T],
    dst: &mut [MaybeUninit<f32>],
    lay: Layout,
    nc: usize,
    o: usize,
    (mut t0, mut t1): (f64, f64),
    clamp: bool,
    scale: f32,
) {
    let (mut s0, mut s1) = (t0 as i32, t1 as i32);
    if clamp {
        t0 = t0.max(0.0).min((lay.h - 1) as f64);
        t1 = t1.max(0.0).min((lay.w - 1) as f64);
        s0 = (t0 as i32).min(lay.h as i32 - 2);
        s1 = (t1 as i32).min(lay.w as i32 - 2);
    }
    let fr = (t0 - s0 as f64) as f32;
    let fc = (t1 - s1 as f64) as f32;
    let (gr, gc) = (1.0 - fr, 1.0 - fc);
    let (w00, w01, w10, w11) = (gr * gc, gr * fc, fr * gc, fr * fc);
    let i00 = lay.at(s0 as usize, s1 as usize);
    let (i01, i10) = (i00 + lay.cs, i00 + lay.rs);
    let i11 = i10 + lay.cs;
    for ch in 0..nc {
        let k = ch * lay.chs;
        let v = |i: usize| src[i + k].to_f64() as f32;
        let mut t = v(i00) * w00;
        t = v(i01).mul_add(w01, t);
        t = v(i10).mul_add(w10, t);
        t = v(i11).mul_add(w11, t);
        dst[o + k].write(t * scale);
    }
}

/// What the border pixels of one output row share.
struct BorderRow<O> {
    /// Fast mode with `f32` output: interior pixels use [`fast_pixel`].
    fast: bool,
    /// The output row within `dst` (relative to the band being written).
    r: usize,
    base: [f64; 2],
    a: [f64; 2],
    row_end: usize,
    lanes: bool,
    cval: O,
}

/// Output column `col` of a row, outside its interior span.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn border_col<T: Pixel, O: OutPixel>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    nc: usize,
    warp: &Warp,
    opts: &WarpOptions,
    row: &BorderRow<O>,
    col: usize,
) {
    let cc = if warp.flip_horizontal {
        lay.w - 1 - col
    } else {
        col
    } as i64 as f64;
    let (t0, t1) = (row.base[0] + cc * row.a[0], row.base[1] + cc * row.a[1]);
    let o = lay.at(row.r, col);
    if row.fast && t0 >= 0.0 && t0 < (lay.h - 1) as f64 && t1 >= 0.0 && t1 < (lay.w - 1) as f64 {
        // Interior after all (the span is conservative): the fast value, as in the span.
        let dst32 = f32_slots(dst);
        fast_pixel(src, dst32, lay, nc, o, (t0, t1), false, opts.scale as f32);
        return;
    }
    let lanes = row.lanes && o + 4 <= row.row_end;
    border_pixel::<T, O>(src, dst, lay, nc, o, (t0, t1), opts, row.cval, lanes);
}

/// Taps and weights along one axis under [`FillMode::Nearest`]: scipy leaves the coordinate
/// alone and clamps the taps (spec §5.5), so this is [`axis_taps`] without its dispatch.
#[inline(always)]
fn nearest_taps(t: f64, n: usize, interp: Interpolation) -> (usize, usize, f64, f64) {
    let last = n as i64 - 1;
    match interp {
        Interpolation::Bilinear => {
            let s = floor(t);
            let w0 = 1.0 - (t - s);
            let i = s as i64;
            let (i0, i1) = (i.clamp(0, last), i.saturating_add(1).clamp(0, last));
            (i0 as usize, i1 as usize, w0, 1.0 - w0)
        }
        Interpolation::Nearest => {
            let i = (floor(t + 0.5) as i64).clamp(0, last) as usize;
            (i, i, 1.0, 0.0)
        }
    }
}

/// One output pixel whose taps may fall outside the image: scipy's boundary rules.
/// `lanes`: AVX2 is available, the image is channels-last with 3 or 4 channels, and
/// `o..o+4` stays in the row.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn border_pixel<T: Pixel, O: OutPixel>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    lay: Layout,
    nc: usize,
    o: usize,
    (t0, t1): (f64, f64),
    opts: &WarpOptions,
    cval: O,
    lanes: bool,
) {
    let chs = lay.chs;
    let taps = if opts.fill_mode == FillMode::Nearest {
        Some((
            nearest_taps(t0, lay.h, opts.interpolation),
            nearest_taps(t1, lay.w, opts.interpolation),
        ))
    } else {
        axis_taps(t0, lay.h, opts.fill_mode, opts.interpolation).zip(axis_taps(
            t1,
            lay.w,
            opts.fill_mode,
            opts.interpolation,
        ))
    };
    let Some(((r0, r1, w0r, w1r), (c0, c1, w0c, w1c))) = taps else {
        for ch in 0..nc {
            dst[o + ch * chs].write(cval);
        }
        return;
    };
    let bilinear = opts.interpolation == Interpolation::Bilinear;
    let (i00, i01) = (lay.at(r0, c0), lay.at(r0, c1));
    let (i10, i11) = (lay.at(r1, c0), lay.at(r1, c1));
    #[cfg(target_arch = "x86_64")]
    if lanes && bilinear && i00.max(i01).max(i10).max(i11) + 4 <= src.len() {
        // SAFETY: lanes implies AVX2; the guards keep the 4-element reads and write in bounds.
        unsafe {
            let idx = [i00, i01, i10, i11];
            super::simd::bilinear_write(src, dst, o, idx, [w0r, w0c, w1r, w1c], opts.scale);
        }
        return;
    }
    let _ = lanes;
    for ch in 0..nc {
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
        dst[o + k].write(O::from_f64(v) * O::from_f64(opts.scale));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{Geometry, TransformParams, sampling_map};
    use proptest::prelude::*;

    /// The plain per-pixel kernel (scipy's algorithm read literally): what every fast path
    /// must equal bit for bit.
    fn reference(src: &[f32], lay: Layout, warp: &Warp, opts: &WarpOptions) -> Vec<f32> {
        let mut dst = vec![0f32; lay.len()];
        let Layout { h, w, c, chs, .. } = lay;
        for r in 0..h {
            for col in 0..w {
                let rr = if warp.flip_vertical { h - 1 - r } else { r } as f64;
                let cc = if warp.flip_horizontal {
                    w - 1 - col
                } else {
                    col
                } as f64;
                let o = lay.at(r, col);
                let Some(m) = warp.map else {
                    let i = lay.at(rr as usize, cc as usize);
                    for ch in 0..c {
                        dst[o + ch * chs] = src[i + ch * chs];
                    }
                    continue;
                };
                let mut t0 = m.offset[0];
                t0 += rr * m.a[0][0];
                t0 += cc * m.a[0][1];
                let mut t1 = m.offset[1];
                t1 += rr * m.a[1][0];
                t1 += cc * m.a[1][1];
                let taps = axis_taps(t0, h, opts.fill_mode, opts.interpolation).zip(axis_taps(
                    t1,
                    w,
                    opts.fill_mode,
                    opts.interpolation,
                ));
                for ch in 0..c {
                    let k = ch * chs;
                    dst[o + k] = match taps {
                        None => opts.cval as f32,
                        Some(((r0, r1, w0r, w1r), (c0, c1, w0c, w1c))) => {
                            let v = |rr, cc| src[lay.at(rr, cc) + k] as f64;
                            if opts.interpolation == Interpolation::Bilinear {
                                let mut t = 0.0;
                                t += v(r0, c0) * w0r * w0c;
                                t += v(r0, c1) * w0r * w1c;
                                t += v(r1, c0) * w1r * w0c;
                                t += v(r1, c1) * w1r * w1c;
                                t as f32
                            } else {
                                v(r0, c0) as f32
                            }
                        }
                    };
                }
            }
        }
        dst
    }

    fn fill_mode() -> impl Strategy<Value = FillMode> {
        prop_oneof![
            Just(FillMode::Nearest),
            Just(FillMode::Constant),
            Just(FillMode::Reflect),
            Just(FillMode::Wrap)
        ]
    }

    proptest! {
        /// The prefetcher asks for each source row at most once, and for every row a
        /// request reads (clamped to the image) by the time the request returns.
        #[test]
        fn row_prefetch_asks_each_needed_row_once(
            h in 1usize..40,
            requests in proptest::collection::vec((-10.0f64..50.0, 0.0f64..20.0), 1..30),
        ) {
            let lay = Layout::new(DataFormat::ChannelsLast, h, 3, 1);
            let src = vec![0u8; lay.len()];
            let mut f = RowPrefetch::new(&src, lay);
            let mut asked = vec![0u32; h];
            for (lo, len) in requests {
                for (y0, y1) in f.grow((lo, lo + len)) {
                    for n in &mut asked[y0..y1] {
                        *n += 1;
                    }
                }
                let clamp = |t: f64| (t.floor().max(0.0) as usize).min(h - 1);
                let (first, end) = (clamp(lo), (clamp(lo + len) + 2).min(h));
                for (y, &n) in asked.iter().enumerate().take(end).skip(first) {
                    prop_assert!(n == 1, "row {} asked {} times", y, n);
                }
            }
            prop_assert!(asked.iter().all(|&n| n <= 1));
        }
    }

    #[test]
    fn band_rows_cut_only_large_channels_last_images_on_several_threads() {
        let last = |h, w| Layout::new(DataFormat::ChannelsLast, h, w, 3);
        assert_eq!(band_rows(last(224, 224), 1), None);
        assert_eq!(band_rows(last(64, 64), 8), None);
        assert_eq!(
            band_rows(Layout::new(DataFormat::ChannelsFirst, 224, 224, 3), 4),
            None
        );
        // Two bands per thread, of at least BAND_MIN_ROWS rows, covering every row.
        assert_eq!(band_rows(last(224, 224), 2), Some(56));
        assert_eq!(band_rows(last(20, 1000), 8), None);
        assert_eq!(band_rows(last(40, 1000), 8), Some(20));
        assert_eq!(band_rows(last(225, 224), 2), Some(57));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Cut into bands on a pool of several threads, an image gets the same bits as
        /// warped in one piece: every path (exact, fast, borders, flips) is band-independent.
        #[test]
        fn bands_give_the_same_bits_as_one_piece(
            h in 130usize..200, w in 128usize..180, c in prop_oneof![Just(1usize), Just(3), Just(4)],
            theta in -40.0f64..40.0, shear in -20.0f64..20.0, zx in 0.7f64..1.4,
            fh in any::<bool>(), fv in any::<bool>(), mode in fill_mode(), order0 in any::<bool>(),
            seed in any::<u64>(), fast in any::<bool>(), float_src in any::<bool>(),
        ) {
            let lay = Layout::new(DataFormat::ChannelsLast, h, w, c);
            let mut s = seed | 1;
            let src: Vec<u8> = (0..lay.len()).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s as u8 }).collect();
            let p = TransformParams { theta, tx: 7.0, ty: -5.5, shear, zx, zy: 1.1, ..Default::default() };
            let warp = Warp { map: sampling_map(&p, h, w, Geometry::Corrected), flip_horizontal: fh, flip_vertical: fv };
            let opts = WarpOptions {
                fill_mode: mode,
                cval: 3.0,
                interpolation: if order0 { Interpolation::Nearest } else { Interpolation::Bilinear },
                fast,
                scale: 1.0 / 255.0,
                ..Default::default()
            };
            prop_assert!(band_rows(lay, 4).is_some());
            let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
            let run = |f: &dyn Fn(&mut [MaybeUninit<f32>])| {
                let mut out = vec![MaybeUninit::<f32>::uninit(); lay.len()];
                f(&mut out);
                // SAFETY: the kernel writes every element.
                out.into_iter().map(|v| unsafe { v.assume_init() }.to_bits()).collect::<Vec<u32>>()
            };
            let (banded, whole) = if float_src {
                let src: Vec<f32> = src.iter().map(|&v| v as f32).collect();
                (
                    run(&|o| pool.install(|| warp_slice_uninit(&src, o, lay, &warp, &opts))),
                    run(&|o| warp_slice_isa(Isa::detect(), &src, o, lay, &warp, &opts)),
                )
            } else {
                (
                    run(&|o| pool.install(|| warp_slice_uninit(&src, o, lay, &warp, &opts))),
                    run(&|o| warp_slice_isa(Isa::detect(), &src, o, lay, &warp, &opts)),
                )
            };
            prop_assert!(banded == whole, "banded and whole differ");
        }
    }

    /// Every build this CPU runs, narrowest first.
    fn builds() -> Vec<Isa> {
        [Isa::Portable, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|&i| i <= Isa::supported())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// `u8` images take the widest lanes (sixteen pixels per AVX-512 step, with a
        /// fallback at the image's last bytes): every build gives the same bits, and the fast
        /// path stays within tolerance of the reference. Sides up to 70 so rows hold several
        /// sixteen-pixel steps and a remainder.
        #[test]
        fn u8_builds_agree_bit_for_bit(
            h in 1usize..70, w in 1usize..70, c in prop_oneof![Just(1usize), Just(3), Just(4)],
            theta in -40.0f64..40.0, tx in -12.0f64..12.0, ty in -12.0f64..12.0,
            shear in -20.0f64..20.0, zx in 0.5f64..1.6, zy in 0.5f64..1.6,
            fh in any::<bool>(), fv in any::<bool>(), mode in fill_mode(),
            seed in any::<u64>(), fast in any::<bool>(), scale in prop_oneof![Just(1.0f64), Just(1.0 / 255.0)],
        ) {
            let lay = Layout::new(DataFormat::ChannelsLast, h, w, c);
            let mut s = seed | 1;
            let src: Vec<u8> = (0..lay.len()).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s as u8 }).collect();
            let p = TransformParams { theta, tx, ty, shear, zx, zy, ..Default::default() };
            let warp = Warp { map: sampling_map(&p, h, w, Geometry::Corrected), flip_horizontal: fh, flip_vertical: fv };
            let opts = WarpOptions { fill_mode: mode, cval: 7.5, fast, scale, ..Default::default() };
            let run = |isa: Isa| {
                let mut out = vec![MaybeUninit::<f32>::uninit(); lay.len()];
                warp_slice_isa(isa, &src, &mut out, lay, &warp, &opts);
                // SAFETY: the kernel writes every element.
                out.into_iter().map(|v| unsafe { v.assume_init() }).collect::<Vec<f32>>()
            };
            let widest = run(Isa::supported());
            let as_f32: Vec<f32> = src.iter().map(|&v| v as f32).collect();
            let plain = WarpOptions { scale: 1.0, ..opts };
            let want = reference(&as_f32, lay, &warp, &plain);
            for (k, (a, b)) in widest.iter().zip(&want).enumerate() {
                let b = b * scale as f32;
                prop_assert!((a - b).abs() <= 2e-4 * (1.0 + b.abs()), "element {}: {} vs {}", k, a, b);
            }
            for isa in builds() {
                // Without FMA hardware there is no fast path, so only the exact result compares.
                if fast && isa == Isa::Portable && cfg!(target_arch = "x86_64") {
                    continue;
                }
                let got = run(isa);
                for (k, (a, b)) in got.iter().zip(&widest).enumerate() {
                    prop_assert_eq!(a.to_bits(), b.to_bits(), "{:?}, element {}", isa, k);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn kernel_matches_the_reference(
            h in 1usize..24, w in 1usize..24, c in prop_oneof![Just(1usize), Just(2), Just(3), Just(4)],
            first in any::<bool>(),
            theta in -180.0f64..180.0, tx in -8.0f64..8.0, ty in -8.0f64..8.0,
            shear in -30.0f64..30.0, zx in 0.3f64..2.0, zy in 0.3f64..2.0,
            quarter in 0u8..4,
            fh in any::<bool>(), fv in any::<bool>(), mode in fill_mode(), order0 in any::<bool>(),
            keras in any::<bool>(), seed in any::<u64>(), fast in any::<bool>(),
        ) {
            let format = if first { DataFormat::ChannelsFirst } else { DataFormat::ChannelsLast };
            let lay = Layout::new(format, h, w, c);
            let mut s = seed | 1;
            let src: Vec<f32> = (0..lay.len()).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s % 256) as f32 }).collect();
            // Exact quarter turns and integer shifts land on pixel centres: the fragile cases.
            let theta = if quarter > 0 { 90.0 * quarter as f64 } else { theta };
            let p = TransformParams { theta, tx: tx.round(), ty, shear, zx, zy, ..Default::default() };
            let geometry = if keras { Geometry::Keras } else { Geometry::Corrected };
            let warp = Warp { map: sampling_map(&p, h, w, geometry), flip_horizontal: fh, flip_vertical: fv };
            let opts = WarpOptions {
                fill_mode: mode,
                cval: 7.5,
                interpolation: if order0 { Interpolation::Nearest } else { Interpolation::Bilinear },
                data_format: format,
                fast,
                scale: 1.0,
            };
            let mut got = vec![0f32; lay.len()];
            warp_slice(&src, &mut got, lay, &warp, &opts);
            let want = reference(&src, lay, &warp, &opts);
            for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                if fast {
                    // Within the conformance tolerance (1e-3 on 0..255), with margin.
                    prop_assert!((a - b).abs() <= 2e-4, "element {}: {} vs {}", k, a, b);
                } else {
                    prop_assert_eq!(a.to_bits(), b.to_bits(), "element {}", k);
                }
            }
        }
    }
}
