//! Fusing the steps of consecutive geometric ops into one [`Resample`].

use super::{Border, Homography, Kernel, Resample, Step};

/// The window `x`, `y` (inclusive pixel ranges in the coordinates of an op's input) in
/// source coordinates, through the map `prefix` of the ops before it; the whole source image
/// when the prefix turns or tilts the image (a warp's fill then decides the border anyway).
fn window_in_source(
    prefix: &Homography,
    x: [i64; 2],
    y: [i64; 2],
    src: [usize; 2],
) -> ([i64; 2], [i64; 2]) {
    if !prefix.is_axis_aligned() {
        return ([0, src[1] as i64 - 1], [0, src[0] as i64 - 1]);
    }
    let (ax, ay) = prefix.apply(x[0] as f64, y[0] as f64);
    let (bx, by) = prefix.apply(x[1] as f64, y[1] as f64);
    // Outwards: a window edge between two source pixels was interpolated from both.
    let r = |a: f64, b: f64| [a.min(b).floor() as i64, a.max(b).ceil() as i64];
    (r(ax, bx), r(ay, by))
}

/// One resampling for the chain `steps` applied to a source of `[h, w]`: the product of
/// the maps, the last output size, the kernel (and antialias) of the last op that names
/// one, and the border of the last warp; without warps, the window of the last resize or
/// crop (the whole source by default), so resizes renormalise at the border as Keras'.
///
/// A chain that crops and then warps samples source pixels beyond the crop where the
/// one-op-at-a-time result shows the fill; both agree inside the crop.
pub(crate) fn fuse(steps: &[Step], src: [usize; 2]) -> Resample {
    let mut map = Homography::IDENTITY;
    let (mut kernel, mut antialias) = (None, false);
    let (mut fill, mut window) = (None, None);
    let mut out = src;
    for s in steps {
        if let Some(k) = s.kernel {
            kernel = Some(k);
            antialias = s.antialias;
        }
        match s.border {
            Some(b @ Border::Fill { .. }) => fill = Some(b),
            Some(Border::Window { x, y, value }) => {
                let (x, y) = window_in_source(&map, x, y, src);
                window = Some(Border::Window { x, y, value });
            }
            None => {}
        }
        map = map * s.map;
        out = s.out;
    }
    let whole = Border::Window {
        x: [0, src[1] as i64 - 1],
        y: [0, src[0] as i64 - 1],
        value: 0.0,
    };
    Resample {
        map,
        out,
        kernel: kernel.unwrap_or(Kernel::Nearest),
        antialias,
        border: fill.or(window).unwrap_or(whole),
        field: None,
    }
}

impl Resample {
    /// The same map for a segmentation mask: nearest sampling, the fill value cast to an
    /// integer class as Keras casts it to the mask's dtype.
    pub(crate) fn for_mask(&self) -> Resample {
        let border = match self.border {
            Border::Fill { mode, value } => Border::Fill {
                mode,
                value: value.trunc(),
            },
            Border::Window { x, y, value } => Border::Window {
                x,
                y,
                value: value.trunc(),
            },
        };
        Resample {
            kernel: Kernel::Nearest,
            antialias: false,
            border,
            ..self.clone()
        }
    }
}
