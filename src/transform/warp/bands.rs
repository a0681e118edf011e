//! Bands: a large channels-last image is cut into bands of rows that rayon may run on
//! several threads, so that a batch smaller than the pool (or one image warped alone) still
//! uses every core, and a batch's last images are shared out.

use std::mem::MaybeUninit;

use crate::transform::pixel::Layout;

/// Runs `f` on every band of output rows of an image of `lay` (its part of `dst` and its
/// rows `(from, to)`), on the current rayon pool, or once on the whole image (`(0, h)`)
/// where [`band_rows`] does not cut it. The kernel computes every pixel the same way in any
/// band, so the result does not depend on the cut.
pub(crate) fn for_each_band<O: Send>(
    lay: Layout,
    dst: &mut [MaybeUninit<O>],
    f: impl Fn(&mut [MaybeUninit<O>], (usize, usize)) + Sync,
) {
    match band_rows(lay, rayon::current_num_threads()) {
        Some(band) => {
            use rayon::prelude::*;
            dst.par_chunks_mut(band * lay.rs)
                .enumerate()
                .for_each(|(k, part)| {
                    let r0 = k * band;
                    f(part, (r0, (r0 + band).min(lay.h)));
                });
        }
        None => f(dst, (0, lay.h)),
    }
}

/// Images with fewer pixels are not cut into bands (the cut would cost more than it gains).
const BAND_MIN_PIXELS: usize = 128 * 128;
/// The fewest rows in a band.
const BAND_MIN_ROWS: usize = 16;

/// The rows per band for an image of `lay` on a pool of `threads` (two bands per thread, so
/// that stealing can even out the load), or `None` to warp it whole: small images,
/// channels-first layouts (a band of rows is not contiguous there) and one thread.
pub(crate) fn band_rows(lay: Layout, threads: usize) -> Option<usize> {
    if lay.chs != 1 || threads < 2 || lay.h * lay.w < BAND_MIN_PIXELS {
        return None;
    }
    let bands = (2 * threads).min(lay.h / BAND_MIN_ROWS);
    (bands >= 2).then(|| lay.h.div_ceil(bands))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::DataFormat;

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
}
