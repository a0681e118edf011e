//! The x86-64 builds: the `#[target_feature]` functions the kernel is inlined into, and
//! every intrinsic the kernel uses. Each lane kernel does the scalar kernel's IEEE
//! operations in the same order, so a pixel gets the same bits on every path.
//!
//! - [`avx2`]: a pixel's 3 or 4 channels in one `f64x4` (the exact kernel), and two pixels
//!   per `f32x8` (the fast kernel);
//! - [`avx2_u8`]: the fast kernel on `u8` images, eight pixels per step (gathers);
//! - [`avx512_u8`]: the same, sixteen pixels per step;
//! - [`nearest_avx2`], [`nearest_avx512`]: the label kernel of masks (`nearest.rs`), with
//!   [`labels_u8`]'s gathers for one-channel byte masks.

use std::mem::MaybeUninit;

use super::kernel::{Ctx, by_channels};
use super::nearest::{LabelMap, label_rows};
use super::{Isa, Warp};
use crate::transform::{Pixel, WarpOut};

pub(crate) mod avx2;
pub(crate) mod avx2_u8;
pub(crate) mod avx512_u8;
pub(crate) mod labels_u8;
pub(crate) mod store;

/// The kernel ([`by_channels`]) compiled for AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn warp_avx2<T: Pixel, O: WarpOut>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    rows: (usize, usize),
) {
    // Rust never contracts `a * b + c` into an FMA, so this build rounds like the portable one.
    by_channels(ctx, dst, rows);
}

/// The kernel ([`by_channels`]) compiled for AVX-512 F, BW and VBMI (and AVX2, FMA).
#[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512vbmi")]
pub(crate) fn warp_avx512<T: Pixel, O: WarpOut>(
    ctx: &Ctx<'_, T, O>,
    dst: &mut [MaybeUninit<O>],
    rows: (usize, usize),
) {
    by_channels(ctx, dst, rows);
}

/// The label kernel ([`label_rows`]) compiled for AVX2: the interior's indices in lanes.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn nearest_avx2<M: Copy>(
    src: &[M],
    dst: &mut [MaybeUninit<M>],
    warp: &Warp,
    lm: &LabelMap<M>,
) {
    label_rows(src, dst, warp, lm, Isa::Avx2);
}

/// The label kernel ([`label_rows`]) compiled for AVX-512 F (and AVX2, FMA).
#[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512vbmi")]
pub(crate) fn nearest_avx512<M: Copy>(
    src: &[M],
    dst: &mut [MaybeUninit<M>],
    warp: &Warp,
    lm: &LabelMap<M>,
) {
    label_rows(src, dst, warp, lm, Isa::Avx512);
}

/// Asks the cache for the line at `p` (into L2 and up): a hint, which changes no value.
#[inline(always)]
pub(crate) fn prefetch(p: *const i8) {
    use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
    // SAFETY: SSE is part of x86-64; a prefetch never faults, whatever the address.
    unsafe { _mm_prefetch::<_MM_HINT_T1>(p) };
}
