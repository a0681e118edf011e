//! Nearest resampling of label maps (segmentation masks) of any element type: the exact
//! kernel's sampling points and boundary rules at spline order 0 (spec §5.5), copying values
//! instead of converting them, so class ids come back as they went in.
//!
//! The general kernel computes every pixel in `f64` through the border rules; a mask needs
//! one index per pixel, so its interior span (where every sampling point lies inside the
//! image) is a rounding and a copy.

use super::exact::interior_span;
use std::mem::MaybeUninit;

use super::prefetch::{PREFETCH_ROWS, RowPrefetch};
use super::{Isa, Warp};
use crate::transform::FillMode;
use crate::transform::Interpolation;
use crate::transform::fill::{axis_taps, floor};
use crate::transform::pixel::Layout;
use crate::transform::{DataFormat, SamplingMap};

/// The shape `(h, w, k)` of a channels-last label map and its fill.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabelMap<M> {
    pub h: usize,
    pub w: usize,
    pub k: usize,
    pub fill_mode: FillMode,
    pub cval: M,
}

/// Resamples the contiguous channels-last `src` into `dst` (the same shape) through `warp`,
/// writing every element of `dst`,
/// as the exact kernel does at spline order 0: each output pixel copies the source pixel
/// nearest its sampling point, or `cval` where a `constant` fill shows.
pub(crate) fn warp_nearest<M: Copy>(
    src: &[M],
    dst: &mut [MaybeUninit<M>],
    warp: &Warp,
    lm: &LabelMap<M>,
) {
    warp_nearest_on(Isa::current(), src, dst, warp, lm);
}

/// [`warp_nearest`] by the build `isa` (the same values on every build).
fn warp_nearest_on<M: Copy>(
    isa: Isa,
    src: &[M],
    dst: &mut [MaybeUninit<M>],
    warp: &Warp,
    lm: &LabelMap<M>,
) {
    assert!(
        isa <= Isa::supported(),
        "{isa:?} is not available on this CPU"
    );
    #[cfg(target_arch = "x86_64")]
    match isa {
        // SAFETY: the assert above checked that the CPU has the build's features.
        Isa::Avx512 => return unsafe { super::x86::nearest_avx512(src, dst, warp, lm) },
        Isa::Avx2 => return unsafe { super::x86::nearest_avx2(src, dst, warp, lm) },
        Isa::Portable => {}
    }
    label_rows(src, dst, warp, lm, Isa::Portable);
}

/// [`warp_nearest`]'s body, inlined into each build.
#[inline(always)]
pub(crate) fn label_rows<M: Copy>(
    src: &[M],
    dst: &mut [MaybeUninit<M>],
    warp: &Warp,
    lm: &LabelMap<M>,
    isa: Isa,
) {
    let (h, w, k) = (lm.h, lm.w, lm.k);
    debug_assert!(src.len() == h * w * k && dst.len() == h * w * k);
    let source_row = |r: usize| if warp.flip_vertical { h - 1 - r } else { r };
    // The source rows of output row `r`'s sampling points, for the prefetch.
    let source_rows = |m: &SamplingMap, r: usize| {
        let t = m.offset[0] + source_row(r) as f64 * m.a[0][0];
        let (e0, e1) = (t, t + (w - 1) as f64 * m.a[0][1]);
        (e0.min(e1), e0.max(e1))
    };
    let mut fetch = RowPrefetch::new(src, Layout::new(DataFormat::ChannelsLast, h, w, k));
    if let Some(m) = &warp.map {
        fetch.rows(source_rows(m, 0));
    }
    for (r, out) in dst.chunks_exact_mut(w * k).enumerate() {
        let rr = source_row(r);
        if let Some(m) = &warp.map {
            // Ask for the source rows PREFETCH_ROWS output rows on while this one is copied.
            fetch.rows(source_rows(m, (r + PREFETCH_ROWS).min(h - 1)));
        }
        match warp.map {
            None => copy_row(
                &src[rr * w * k..(rr + 1) * w * k],
                out,
                k,
                warp.flip_horizontal,
            ),
            Some(m) => {
                let rr = rr as i64 as f64;
                // spec §5.5 step 1, as the exact kernel's rows: t = offset + r·A[k][0].
                let base = [m.offset[0] + rr * m.a[0][0], m.offset[1] + rr * m.a[1][0]];
                let a = [m.a[0][1], m.a[1][1]];
                resample_row(src, out, (base, a), warp.flip_horizontal, (lm, isa));
            }
        }
    }
}

/// One output row: the border columns by scipy's rules, the interior span by rounding.
#[inline(always)]
fn resample_row<M: Copy>(
    src: &[M],
    out: &mut [MaybeUninit<M>],
    (base, a): ([f64; 2], [f64; 2]),
    flip_h: bool,
    (lm, isa): (&LabelMap<M>, Isa),
) {
    let (h, w, k) = (lm.h, lm.w, lm.k);
    let last = [(h - 1) as f64, (w - 1) as f64];
    // The lanes count pixels in i32: larger maps take the border path. Under `nearest`
    // the whole row is clamped rounding (scipy clamps the tap), elsewhere the interior.
    let (lo, hi) = match (h.saturating_mul(w) < i32::MAX as usize, lm.fill_mode) {
        (false, _) => (0, 0),
        (true, FillMode::Nearest) => (0, w),
        (true, _) => interior_span(base, a, last, w),
    };
    let (out_lo, out_hi) = if flip_h { (w - hi, w - lo) } else { (lo, hi) };
    let point = |col: usize| {
        let cc = if flip_h { w - 1 - col } else { col } as i64 as f64;
        (base[0] + cc * a[0], base[1] + cc * a[1])
    };
    for col in (0..out_lo).chain(out_hi..w) {
        let (t0, t1) = point(col);
        let px = &mut out[col * k..(col + 1) * k];
        match border_source(t0, t1, lm) {
            Some(i) => write_all(px, &src[i * k..(i + 1) * k]),
            None => px.iter_mut().for_each(|v| _ = v.write(lm.cval)),
        }
    }
    // Sign-extended, the i32 source column converts to the same f64 as the kernel's.
    let points = |col: usize| RowPoints {
        first: if flip_h { w - 1 - col } else { col } as i32,
        step: if flip_h { -1 } else { 1 },
        base,
        a,
        last,
        w: w as i32,
    };
    let mut col = out_lo;
    if k == 1 && out_lo < out_hi {
        col += nearest_bytes(src, &mut out[out_lo..out_hi], &points(out_lo), isa);
    }
    let mut pixels = [0i32; CHUNK];
    while col < out_hi {
        let n = (out_hi - col).min(CHUNK);
        nearest_pixels(&mut pixels[..n], &points(col));
        copy_pixels(src, &pixels[..n], &mut out[col * k..(col + n) * k], k);
        col += n;
    }
}

/// `dst`'s pixels copied from `src`'s pixels `pixels` (`k` values each).
#[inline(always)]
fn copy_pixels<M: Copy>(src: &[M], pixels: &[i32], dst: &mut [MaybeUninit<M>], k: usize) {
    for (o, &i) in dst.chunks_exact_mut(k).zip(pixels) {
        let i = i as usize * k;
        write_all(o, &src[i..i + k]);
    }
}

/// The leading output pixels of a one-channel byte mask's interior span, by the build's
/// lanes (indices and gathers in registers); returns how many (the rest is the caller's).
#[inline(always)]
fn nearest_bytes<M: Copy>(
    src: &[M],
    dst: &mut [MaybeUninit<M>],
    points: &RowPoints,
    isa: Isa,
) -> usize {
    if size_of::<M>() != 1 {
        return 0;
    }
    // SAFETY: a one-byte `Copy` type has no padding: its values are copied as bytes.
    let (src, dst) = unsafe {
        (
            std::slice::from_raw_parts(src.as_ptr().cast::<u8>(), src.len()),
            std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<MaybeUninit<u8>>(), dst.len()),
        )
    };
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `isa` is the build this code was compiled into, which the CPU runs; the
    // points clamp into the source, whose length h · w fits an i32 (checked by the caller).
    unsafe {
        match isa {
            Isa::Avx512 => return super::x86::labels_u8::nearest_16(src, dst, points),
            Isa::Avx2 => return super::x86::labels_u8::nearest_8(src, dst, points),
            Isa::Portable => {}
        }
    }
    let _ = (src, dst, points, isa);
    0
}

/// The sampling points of one output row, as the label kernel's lanes take them: output
/// column `j` of the span samples at `base + cc·a` with source column `cc = first + j·step`,
/// rounded half up and clamped to `[0, last]` (what [`nearest_pixels`] computes; the x86
/// lanes repeat its operations in the same order).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowPoints {
    pub first: i32,
    pub step: i32,
    pub base: [f64; 2],
    pub a: [f64; 2],
    pub last: [f64; 2],
    pub w: i32,
}

/// Pixels per step of the interior: their indices are computed first (in vector lanes,
/// where the build has them), then copied.
const CHUNK: usize = 64;

/// The nearest source pixels (`row · w + col`) of `pixels.len()` columns from `p.first`:
/// the sampling point `base + cc·a` rounded half up (spec §5.5, order 0), clamped to
/// `[0, last]` as scipy clamps a tap under `nearest` (inside the interior span the clamp
/// changes nothing).
#[inline(always)]
fn nearest_pixels(pixels: &mut [i32], p: &RowPoints) {
    for (j, px) in pixels.iter_mut().enumerate() {
        let cc = f64::from(p.first + j as i32 * p.step);
        let (t0, t1) = (p.base[0] + cc * p.a[0], p.base[1] + cc * p.a[1]);
        let (t0, t1) = (t0 + 0.5, t1 + 0.5);
        // Clamped to the integers [0, last] first, the truncation below is the floor, and
        // equals clamping the floor (floor is monotone, the bounds are integers).
        // SAFETY: clamped to [0, last] with h · w < 2^31 (NaN is not a coordinate: the
        // parameters are checked finite), so both fit an i32, and so does the pixel.
        let (r, c) = unsafe {
            (
                t0.max(0.0).min(p.last[0]).to_int_unchecked::<i32>(),
                t1.max(0.0).min(p.last[1]).to_int_unchecked::<i32>(),
            )
        };
        *px = r * p.w + c;
    }
}

/// The source pixel of a sampling point near or past the border, or `None` for the fill.
#[inline]
fn border_source<M>(t0: f64, t1: f64, lm: &LabelMap<M>) -> Option<usize> {
    let tap = |t: f64, n: usize| {
        if lm.fill_mode == FillMode::Nearest {
            // scipy leaves the coordinate alone and clamps the tap.
            Some((floor(t + 0.5) as i64).clamp(0, n as i64 - 1) as usize)
        } else {
            axis_taps(t, n, lm.fill_mode, Interpolation::Nearest).map(|(i, ..)| i)
        }
    };
    Some(tap(t0, lm.h)? * lm.w + tap(t1, lm.w)?)
}

/// A row copied, or mirrored, pixel by pixel.
fn copy_row<M: Copy>(src: &[M], out: &mut [MaybeUninit<M>], k: usize, flip_h: bool) {
    if !flip_h {
        write_all(out, src);
        return;
    }
    for (o, s) in out.chunks_exact_mut(k).zip(src.chunks_exact(k).rev()) {
        write_all(o, s);
    }
}

/// `src` written into `out` (the same length).
#[inline(always)]
fn write_all<M: Copy>(out: &mut [MaybeUninit<M>], src: &[M]) {
    for (o, &v) in out.iter_mut().zip(src) {
        o.write(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{
        DataFormat, Geometry, TransformParams, WarpOptions, sampling_map, warp,
    };
    use ndarray::Array3;
    use proptest::prelude::*;

    fn fill_mode() -> impl Strategy<Value = FillMode> {
        prop_oneof![
            Just(FillMode::Nearest),
            Just(FillMode::Constant),
            Just(FillMode::Reflect),
            Just(FillMode::Wrap),
        ]
    }

    /// The exact kernel's output at order 0, and the label kernel's on every build.
    fn both<M: crate::transform::Pixel + Into<f64>>(
        src: &Array3<M>,
        wp: &Warp,
        fill: FillMode,
        cval: M,
    ) -> (Vec<f64>, Vec<(Isa, Vec<f64>)>) {
        let (h, w, k) = src.dim();
        let opts = WarpOptions {
            fill_mode: fill,
            cval: cval.into(),
            interpolation: Interpolation::Nearest,
            data_format: DataFormat::ChannelsLast,
            ..Default::default()
        };
        let expected: Array3<f64> = warp(src.view(), wp, &opts).unwrap();
        let lm = LabelMap {
            h,
            w,
            k,
            fill_mode: fill,
            cval,
        };
        let got = [Isa::Portable, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|&isa| isa <= Isa::supported())
            .map(|isa| {
                let mut out = vec![MaybeUninit::uninit(); h * w * k];
                warp_nearest_on(isa, src.as_slice().unwrap(), &mut out, wp, &lm);
                // SAFETY: the kernel writes every element.
                (
                    isa,
                    out.into_iter()
                        .map(|v| unsafe { v.assume_init() }.into())
                        .collect(),
                )
            })
            .collect();
        (expected.into_iter().collect(), got)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The label kernel picks the very pixel the exact kernel picks at order 0, for every
        /// fill mode, flip, size, channel count, geometry, element size and build (byte
        /// masks of one channel take the gathers).
        #[test]
        fn picks_the_pixel_the_exact_kernel_picks(
            (h, w, k) in (1usize..40, 1usize..48, prop_oneof![Just(1usize), 2usize..4]),
            theta in -180.0f64..180.0, shear in -40.0f64..40.0,
            (tx, ty) in (-6.0f64..6.0, -6.0f64..6.0),
            (zx, zy) in (0.3f64..2.5, 0.3f64..2.5),
            (flip_h, flip_v, keras) in (any::<bool>(), any::<bool>(), any::<bool>()),
            fill in fill_mode(),
            identity in prop::bool::weighted(0.1),
        ) {
            let p = if identity {
                TransformParams::default()
            } else {
                TransformParams { theta, shear, tx, ty, zx, zy, ..Default::default() }
            };
            let geometry = if keras { Geometry::Keras } else { Geometry::Corrected };
            let wp = Warp {
                map: sampling_map(&p, h, w, geometry),
                flip_horizontal: flip_h,
                flip_vertical: flip_v,
            };
            let ids = Array3::from_shape_fn((h, w, k), |(r, c, ch)| (r * 97 + c * 13 + ch * 5) as u16);
            let (expected, got) = both(&ids, &wp, fill, 9999);
            for (isa, g) in got {
                prop_assert_eq!(&g, &expected, "u16 on {:?}", isa);
            }
            let bytes = ids.mapv(|v| (v % 251) as u8);
            let (expected, got) = both(&bytes, &wp, fill, 255);
            for (isa, g) in got {
                prop_assert_eq!(&g, &expected, "u8 on {:?}", isa);
            }
        }
    }
}
