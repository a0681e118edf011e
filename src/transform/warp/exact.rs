//! The exact kernel: scipy's `affine_transform` arithmetic bit for bit (spec §5.5), for
//! the interior span of a row and for its border pixels (under every fill mode).

use std::mem::MaybeUninit;

use super::fast;
use super::kernel::{Ctx, OutRow};
use crate::transform::fill::{axis_taps, floor};
use crate::transform::{FillMode, Interpolation, Pixel, WarpOut};

/// The output columns `[lo, hi)` of one row (in source-column space `cc`) whose sampling point
/// `base + cc·a` lies in `[0, last)` on both axes, so all four taps are inside the image.
/// Conservative: verified exactly at both ends (the computed coordinate is monotone in `cc`).
#[inline(always)]
pub(crate) fn interior_span(
    base: [f64; 2],
    a: [f64; 2],
    last: [f64; 2],
    w: usize,
) -> (usize, usize) {
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

/// Output columns `lo..hi` of `row`, which lie in its interior span: with `span4`, four
/// bilinear pixels per AVX2 step first, then pixel by pixel.
///
/// With the choice's `pixel_lanes`, each pixel's 3 or 4 channels are computed and written as
/// one `f64x4`: with 3 channels the write spills one element into the next pixel, which the
/// caller's left-to-right order rewrites (see [`super::kernel`]); a pixel whose 4-element
/// reads or write would pass the end of the source or of the row takes the channel loop.
#[inline(always)]
pub(crate) fn interior_row<T: Pixel, O: WarpOut, const C: usize>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    nc: usize,
    (lo, hi): (usize, usize),
    span4: bool,
) {
    let (src, lay, sc) = (ctx.src, ctx.lay, ctx.sc);
    let chs = lay.chs;
    // Only the 3- and 4-channel specializations have lanes: the others fold them away.
    let lanes = (C == 3 || C == 4) && ctx.choice.pixel_lanes;
    let row_end = row.end();
    #[allow(unused_mut)]
    let mut first = lo;
    #[cfg(target_arch = "x86_64")]
    if span4 {
        // SAFETY: span4 implies AVX2 (KernelChoice); lo..hi is this row's interior span.
        first = unsafe { super::x86::avx2::bilinear_span(src, dst, row, (lo, hi)) };
    }
    let _ = span4;
    let bilinear = ctx.opts.interpolation == Interpolation::Bilinear;
    for col in first..hi {
        let (t0, t1) = row.point(col);
        let o = row.out(col);
        if bilinear {
            // Inside the span 0 <= t < n - 1, so truncation is floor and fits an i64.
            // SAFETY: t0 and t1 are finite and in range (interior_span checked them).
            let (s0, s1) = unsafe { (t0.to_int_unchecked::<i64>(), t1.to_int_unchecked::<i64>()) };
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
                // SAFETY: lanes implies AVX2 (KernelChoice); the guards above keep the
                // 4-element reads and write in bounds.
                unsafe {
                    let idx = [i00, i01, i10, i11];
                    let w = [w0r, w0c, w1r, w1c];
                    super::x86::avx2::bilinear_write(src, dst, o, idx, w, row.scale);
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
                    let v = super::x86::avx2::load4(src.as_ptr().add(i));
                    super::x86::avx2::store4(dst.as_mut_ptr().add(o) as *mut O, v, row.scale);
                }
                continue;
            }
            for ch in 0..nc {
                dst[o + ch * chs].write(O::from_f64(src[i + ch * chs].to_f64()) * sc);
            }
        }
    }
    let _ = (lanes, row_end);
}

/// Output column `col` of `row`, outside its interior span.
#[inline(always)]
pub(crate) fn border_col<T: Pixel, O: WarpOut>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    nc: usize,
    col: usize,
) {
    let lay = ctx.lay;
    let (t0, t1) = row.point(col);
    let o = row.out(col);
    let fast = matches!(ctx.choice.interior, super::dispatch::Interior::Fast(_));
    if fast && t0 >= 0.0 && t0 < (lay.h - 1) as f64 && t1 >= 0.0 && t1 < (lay.w - 1) as f64 {
        // Interior after all (the span is conservative): the fast value, as in the span.
        fast::fast_pixel(ctx.src, dst, row, nc, o, (t0, t1), false);
        return;
    }
    let lanes = ctx.choice.pixel_lanes && o + 4 <= row.end();
    border_pixel(ctx, dst, nc, o, (t0, t1), lanes);
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

/// One output pixel at `o` whose taps may fall outside the image: scipy's boundary rules.
/// `lanes`: the choice's `pixel_lanes` (AVX2, channels-last with 3 or 4 channels), and
/// `o..o+4` stays in the row; the 3-channel spill is rewritten as in [`interior_row`].
#[inline(always)]
fn border_pixel<T: Pixel, O: WarpOut>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    nc: usize,
    o: usize,
    (t0, t1): (f64, f64),
    lanes: bool,
) {
    let (src, lay, opts) = (ctx.src, ctx.lay, ctx.opts);
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
            dst[o + ch * chs].write(ctx.cval);
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
            super::x86::avx2::bilinear_write(src, dst, o, idx, [w0r, w0c, w1r, w1c], opts.scale);
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
        dst[o + k].write(O::from_f64(v) * ctx.sc);
    }
}
