//! Helpers of the target tests (tests/targets.rs, tests/target_files.rs,
//! tests/pipeline_targets.rs): where a warped image shows its bright pixels, and the
//! one-pixel band along an edge of a binary image.

use ndarray::{Array3, ArrayView3};

/// The `(row, column)` of the brightest pixel (the first of equals), `None` when all are 0.
#[allow(dead_code)] // tests/target_files.rs has no bright dots
pub fn brightest(img: ArrayView3<'_, f32>) -> Option<(usize, usize)> {
    let (mut best, mut spot) = (0.0_f32, None);
    for ((r, c, _), &v) in img.indexed_iter() {
        if v > best {
            (best, spot) = (v, Some((r, c)));
        }
    }
    spot
}

/// The pixel-corner bounds `[x0, y0, x1, y1]` of the pixels above half brightness.
pub fn bright_bounds(img: &Array3<f32>) -> Option<[f64; 4]> {
    let mut b: Option<[f64; 4]> = None;
    for ((r, c, _), &v) in img.indexed_iter() {
        if v > 127.5 {
            let (x, y) = (c as f64, r as f64);
            b = Some(match b {
                None => [x, y, x + 1.0, y + 1.0],
                Some(b) => [
                    b[0].min(x),
                    b[1].min(y),
                    b[2].max(x + 1.0),
                    b[3].max(y + 1.0),
                ],
            });
        }
    }
    b
}

/// Whether pixel `(r, c)` of a binary `(H, W, 1)` image has both values in its 3×3
/// neighbourhood: the one-pixel band along an edge.
pub fn on_an_edge(binary: &Array3<bool>, r: usize, c: usize) -> bool {
    let (h, w) = (binary.shape()[0], binary.shape()[1]);
    let rows = r.saturating_sub(1)..(r + 2).min(h);
    let cols = c.saturating_sub(1)..(c + 2).min(w);
    let near = binary.slice(ndarray::s![rows, cols, 0]);
    near.iter().any(|&t| t) && near.iter().any(|&t| !t)
}
