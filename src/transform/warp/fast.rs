//! The fast bilinear kernel for `f32` and `u8` output
//! ([`WarpOptions::fast`](super::WarpOptions)): coordinates and taps exactly as the
//! reference, weights in `f32` with fused multiply–adds. [`fast_pixel`] is its arithmetic;
//! the x86 lanes repeat it operation for operation, so a pixel gets the same bits whichever
//! path computes it. A `u8` output value is the `f32` value rounded by
//! [`WarpOut::from_f32`] (the lanes' stores in `x86::store` round the same way).

use std::mem::MaybeUninit;

use super::dispatch::FastLanes;
use super::kernel::OutRow;
use crate::transform::pixel::PixelKind;
use crate::transform::{Pixel, WarpOut};

/// Output columns `lo..hi` of `row`: the fast lanes of `lanes`, widest first, then
/// [`fast_pixels`] for the rest.
///
/// The 3-channel `pairs` lanes write one element past the last pixel they do (see
/// `x86::avx2::bilinear_span_f32`); [`fast_pixels`] then writes that pixel, or, at `hi`,
/// the caller's right border does (never past the row's end).
///
/// # Safety
/// The CPU features `lanes` implies (see [`KernelChoice`](super::dispatch::KernelChoice));
/// where a flag is set, the image as the span functions require (channels-last with `C`
/// channels, fewer than `i32::MAX` elements; `u8` for `wide` and `gathers`); without
/// `CLAMP`, `lo..hi` in the row's interior span, with it both image sides at least 2.
#[inline(always)]
pub(crate) unsafe fn interior_row<T: Pixel, O: WarpOut, const C: usize, const CLAMP: bool>(
    lanes: FastLanes,
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    nc: usize,
    (lo, hi): (usize, usize),
) {
    // SAFETY: as this function's.
    let done = unsafe { fast_span::<T, O, C, CLAMP>(lanes, src, dst, row, (lo, hi)) };
    fast_pixels(src, dst, row, nc, (done, hi), CLAMP);
}

/// The fast lanes over output columns `lo..hi` of `row`, widest first; returns the first
/// column none of them did. The compile-time guards (`C`, the input type) fold away the
/// lanes a specialization cannot use.
///
/// # Safety
/// As [`interior_row`].
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut, unused_variables))]
unsafe fn fast_span<T: Pixel, O: WarpOut, const C: usize, const CLAMP: bool>(
    lanes: FastLanes,
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    (lo, hi): (usize, usize),
) -> usize {
    let mut done = lo;
    #[cfg(target_arch = "x86_64")]
    unsafe {
        use super::x86::{avx2, avx2_u8, avx512_u8};
        let u8_lanes = T::KIND == PixelKind::U8 && C > 0;
        if u8_lanes && lanes.wide {
            done = avx512_u8::bilinear_span_u8::<O, C, CLAMP>(u8_slice(src), dst, row, (done, hi));
        }
        if u8_lanes && lanes.gathers {
            done = avx2_u8::bilinear_span_u8::<O, C, CLAMP>(u8_slice(src), dst, row, (done, hi));
        }
        if (C == 3 || C == 4) && lanes.pairs {
            done = avx2::bilinear_span_f32::<T, O, CLAMP>(src, dst, row, (done, hi));
        }
    }
    done
}

/// [`fast_pixel`] for output columns `lo..hi` of `row`: the per-pixel remainder and
/// fallback of every fast path.
#[inline(always)]
pub(crate) fn fast_pixels<T: Pixel, O: WarpOut>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    nc: usize,
    (lo, hi): (usize, usize),
    clamp: bool,
) {
    for col in lo..hi {
        fast_pixel(src, dst, row, nc, row.out(col), row.point(col), clamp);
    }
}

/// `src` as bytes, for the `u8` fast path (the check is a compile-time constant).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn u8_slice<T: Pixel>(src: &[T]) -> &[u8] {
    assert!(T::KIND == PixelKind::U8, "u8 path with {:?} input", T::KIND);
    // SAFETY: T is u8 (checked above), so the cast only renames the element type.
    unsafe { &*(src as *const [T] as *const [u8]) }
}

/// The fast bilinear value of one pixel at sampling point `t`, written at `o`: the
/// arithmetic of the vector kernels lane for lane — coordinates in `f64`, fractions rounded
/// to `f32`, weights `(1-fr)(1-fc)`, `(1-fr)fc`, `fr(1-fc)`, `fr·fc`, then a multiply and
/// three fused multiply–adds — so a pixel gets the same value whichever path computes it.
/// With `clamp`, coordinates are clamped to `[0, n-1]` (nearest fill; sides >= 2);
/// without, they must be interior.
#[inline(always)]
pub(crate) fn fast_pixel<T: Pixel, O: WarpOut>(
    src: &[T],
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    nc: usize,
    o: usize,
    (mut t0, mut t1): (f64, f64),
    clamp: bool,
) {
    let lay = row.lay;
    let scale = row.scale as f32;
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
        dst[o + k].write(O::from_f32(t * scale));
    }
}
