//! The row loop: one image (or one band of its rows), every channel at once, flips folded
//! in; each row split into the left border, the interior span and the right border.

use std::mem::MaybeUninit;

use super::dispatch::{Border, Interior, Isa, KernelChoice};
use super::prefetch::{PREFETCH_ROWS, RowPrefetch};
use super::{Warp, WarpOptions, exact, fast};
use crate::transform::pixel::Layout;
use crate::transform::{Pixel, SamplingMap, WarpOut};

/// One image's warp as the row loop and the pixel functions see it: the source, the
/// request, and the [`KernelChoice`] made for it.
pub(crate) struct Ctx<'a, T, O> {
    pub src: &'a [T],
    pub lay: Layout,
    pub warp: &'a Warp,
    pub opts: &'a WarpOptions,
    pub choice: KernelChoice,
    /// `opts.scale` in the output type.
    pub sc: O,
    /// The constant fill value as written: `cval · scale` in the output type.
    pub cval: O,
}

impl<'a, T: Pixel, O: WarpOut> Ctx<'a, T, O> {
    pub(crate) fn new(
        src: &'a [T],
        lay: Layout,
        warp: &'a Warp,
        opts: &'a WarpOptions,
        isa: Isa,
    ) -> Self {
        let sc = O::from_f64(opts.scale);
        Ctx {
            src,
            lay,
            warp,
            opts,
            choice: KernelChoice::new(isa, lay, warp, opts, (T::KIND, O::KIND)),
            sc,
            cval: O::from_f64(opts.cval) * sc,
        }
    }

    /// The source row output row `r` comes from (before the resampling).
    #[inline(always)]
    fn src_row(&self, r: usize) -> usize {
        if self.warp.flip_vertical {
            self.lay.h - 1 - r
        } else {
            r
        }
    }

    /// The source column output column `col` comes from (before the resampling).
    #[inline(always)]
    fn src_col(&self, col: usize) -> usize {
        if self.warp.flip_horizontal {
            self.lay.w - 1 - col
        } else {
            col
        }
    }
}

/// One output row being resampled: where its sampling points are and where it is written.
/// What every span and pixel function of the row shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutRow {
    pub lay: Layout,
    /// The sampling point of source column `cc` is `base + cc·a` (spec §5.5 step 1).
    pub base: [f64; 2],
    pub a: [f64; 2],
    /// The row within the output slice (relative to the band being written).
    pub row_out: usize,
    /// Output column `col` comes from source column `w - 1 - col`.
    pub flip_h: bool,
    /// Every value is multiplied by this as it is written.
    pub scale: f64,
}

impl OutRow {
    /// The source column of output column `col`, as `f64` (exact).
    #[inline(always)]
    pub(crate) fn source_col(&self, col: usize) -> f64 {
        let cc = if self.flip_h {
            self.lay.w - 1 - col
        } else {
            col
        };
        cc as i64 as f64
    }

    /// The sampling point of output column `col`: `t = base; t += cc·a` (no FMA).
    #[inline(always)]
    pub(crate) fn point(&self, col: usize) -> (f64, f64) {
        let cc = self.source_col(col);
        (self.base[0] + cc * self.a[0], self.base[1] + cc * self.a[1])
    }

    /// The index of output column `col`'s first channel in the output slice.
    #[inline(always)]
    pub(crate) fn out(&self, col: usize) -> usize {
        self.lay.at(self.row_out, col)
    }

    /// One past the row's last element in the output slice (channels-last).
    #[inline(always)]
    pub(crate) fn end(&self) -> usize {
        (self.row_out + 1) * self.lay.rs
    }
}

/// Output rows `rows.0..rows.1` of the image into `dst`, which holds just those rows
/// (channels-last), or the whole image when `rows` is `(0, h)`: enters the
/// `#[target_feature]` function of the choice's build.
pub(crate) fn run<T: Pixel, O: WarpOut>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    rows: (usize, usize),
) {
    let lay = ctx.lay;
    debug_assert_eq!(ctx.src.len(), lay.len());
    debug_assert!(rows.0 < rows.1 && rows.1 <= lay.h || lay.len() == 0);
    debug_assert!(rows == (0, lay.h) || lay.chs == 1);
    debug_assert_eq!(dst.len(), lay.len() / lay.h.max(1) * (rows.1 - rows.0));
    let isa = ctx.choice.isa;
    assert!(
        isa <= Isa::supported(),
        "{isa:?} is not available on this CPU"
    );
    #[cfg(target_arch = "x86_64")]
    match isa {
        // SAFETY: the assert above checked that the CPU has the build's features.
        Isa::Avx512 => return unsafe { super::x86::warp_avx512(ctx, dst, rows) },
        Isa::Avx2 => return unsafe { super::x86::warp_avx2(ctx, dst, rows) },
        Isa::Portable => {}
    }
    by_channels(ctx, dst, rows);
}

/// [`rows`] specialized for the choice's channel count; inlined into each build.
#[inline(always)]
pub(crate) fn by_channels<T: Pixel, O: WarpOut>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    rows: (usize, usize),
) {
    match ctx.choice.channels {
        1 => self::rows::<T, O, 1>(ctx, dst, rows),
        3 => self::rows::<T, O, 3>(ctx, dst, rows),
        4 => self::rows::<T, O, 4>(ctx, dst, rows),
        _ => self::rows::<T, O, 0>(ctx, dst, rows),
    }
}

/// The kernel. `C` is the channel count of a channels-last image, or 0 for any other layout.
#[inline(always)]
fn rows<T: Pixel, O: WarpOut, const C: usize>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    rows: (usize, usize),
) {
    let lay = ctx.lay;
    let nc = if C > 0 { C } else { lay.c };
    let Some(m) = ctx.warp.map else {
        copy_rows(ctx, dst, nc, rows);
        return;
    };
    let a = [m.a[0][1], m.a[1][1]];
    let mut fetch = RowPrefetch::new(ctx.src, lay);
    fetch.rows(source_rows(ctx, &m, rows.0));
    for r in rows.0..rows.1 {
        // Ask for the source rows PREFETCH_ROWS output rows on while this one is computed.
        fetch.rows(source_rows(ctx, &m, (r + PREFETCH_ROWS).min(lay.h - 1)));
        let rr = ctx.src_row(r) as i64 as f64;
        let row = OutRow {
            lay,
            // spec §5.5 step 1: t = offset; t += r·A[k][0]; t += c·A[k][1] (no FMA).
            base: [m.offset[0] + rr * m.a[0][0], m.offset[1] + rr * m.a[1][0]],
            a,
            row_out: r - rows.0,
            flip_h: ctx.warp.flip_horizontal,
            scale: ctx.opts.scale,
        };
        match (ctx.choice.border, ctx.choice.interior) {
            (Border::Clamped, Interior::Fast(lanes)) => {
                // SAFETY: the choice's flags imply the CPU features; Clamped: sides >= 2.
                unsafe {
                    fast::interior_row::<T, O, C, true>(lanes, ctx.src, dst, &row, nc, (0, lay.w))
                }
            }
            _ => border_and_interior::<T, O, C>(ctx, dst, &row, nc),
        }
    }
}

/// The source rows that output row `q` reads lie between its two ends' coordinates.
#[inline(always)]
fn source_rows<T: Pixel, O: WarpOut>(ctx: &Ctx<'_, T, O>, m: &SamplingMap, q: usize) -> (f64, f64) {
    let t = m.offset[0] + ctx.src_row(q) as f64 * m.a[0][0];
    let (e0, e1) = (
        t + ctx.src_col(0) as f64 * m.a[0][1],
        t + ctx.src_col(ctx.lay.w - 1) as f64 * m.a[0][1],
    );
    (e0.min(e1), e0.max(e1))
}

/// No geometric factor: an exact copy, flips as permutations (spec §5.2, §7).
#[inline(always)]
fn copy_rows<T: Pixel, O: WarpOut>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    nc: usize,
    rows: (usize, usize),
) {
    let (lay, src, sc) = (ctx.lay, ctx.src, ctx.sc);
    for r in rows.0..rows.1 {
        let rr = ctx.src_row(r);
        for col in 0..lay.w {
            let (o, i) = (lay.at(r - rows.0, col), lay.at(rr, ctx.src_col(col)));
            for ch in 0..nc {
                dst[o + ch * lay.chs].write(O::from_f64(src[i + ch * lay.chs].to_f64()) * sc);
            }
        }
    }
}

/// One row under scipy's boundary rules: the left border, the interior span by the
/// choice's interior path, then the right border.
///
/// Left to right in memory, so that a 3-channel lane write (see
/// [`KernelChoice::pixel_lanes`]) that spills one element into the next pixel is always
/// followed by that pixel's own write; the right border runs after the span, and so
/// rewrites any element the span's last pixel touched.
#[inline(always)]
fn border_and_interior<T: Pixel, O: WarpOut, const C: usize>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    row: &OutRow,
    nc: usize,
) {
    let lay = ctx.lay;
    let last = [(lay.h - 1) as f64, (lay.w - 1) as f64];
    let (lo, hi) = exact::interior_span(row.base, row.a, last, lay.w);
    // The span in output columns, walked left to right in memory.
    let (out_lo, out_hi) = if row.flip_h {
        (lay.w - hi, lay.w - lo)
    } else {
        (lo, hi)
    };
    for col in 0..out_lo {
        exact::border_col(ctx, dst, row, nc, col);
    }
    match ctx.choice.interior {
        // SAFETY: the choice's flags imply the CPU features; out_lo..out_hi is this row's
        // interior span.
        Interior::Fast(lanes) => unsafe {
            fast::interior_row::<T, O, C, false>(lanes, ctx.src, dst, row, nc, (out_lo, out_hi))
        },
        Interior::Exact { span4 } => {
            exact::interior_row::<T, O, C>(ctx, dst, row, nc, (out_lo, out_hi), span4)
        }
        Interior::Copy => unreachable!("the copy has no map"),
    }
    for col in out_hi..lay.w {
        exact::border_col(ctx, dst, row, nc, col);
    }
}
