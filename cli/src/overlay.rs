//! Targets drawn over a sheet's cell: a mask as a translucent colour per class id, boxes as
//! 2-pixel rectangles in their class's colour, so a target that does not follow its image
//! shows at a glance.

use ndarray::{Array3, ArrayView2, ArrayView3, Axis, s};

/// Colours of the classes: mask id `k ≥ 1` gets `PALETTE[(k - 1) % 8]`, box class index `k`
/// gets `PALETTE[k % 8]` (so mask id 1 and box class 0, each the first class, share red).
pub const PALETTE: [[u8; 3]; 8] = [
    [230, 25, 75],
    [60, 180, 75],
    [0, 130, 200],
    [255, 225, 25],
    [145, 30, 180],
    [70, 240, 240],
    [245, 130, 48],
    [240, 50, 230],
];
/// The colour of the mask's fill value (`--mask-cval`, e.g. an "ignore" id 255) when it is
/// not 0.
pub const FILL_COLOUR: [u8; 3] = [255, 255, 255];
/// How much of a mask's colour shows over the image.
const ALPHA: f32 = 0.5;
/// The width of a box's edge, in pixels.
const EDGE: usize = 2;

/// The colour of mask class id `id` (≥ 1).
pub fn mask_colour(id: u16) -> [u8; 3] {
    PALETTE[(usize::from(id) - 1) % PALETTE.len()]
}

/// The colour of box class index `label`.
pub fn box_colour(label: i64) -> [u8; 3] {
    PALETTE[label.rem_euclid(PALETTE.len() as i64) as usize]
}

/// An `(H, W, C)` image of 1, 3 or 4 channels as RGB (grey repeated, alpha dropped).
pub fn rgb(img: ArrayView3<'_, u8>) -> Array3<u8> {
    let (h, w, c) = img.dim();
    Array3::from_shape_fn((h, w, 3), |(r, col, k)| {
        img[[r, col, if c < 3 { 0 } else { k }]]
    })
}

/// Blends the class ids `ids` (one per pixel of `img`) over the RGB image: id 0 is background
/// and left alone, `fill` (when not 0) is drawn in [`FILL_COLOUR`], every other id in its
/// [`mask_colour`].
pub fn draw_mask(img: &mut Array3<u8>, ids: ArrayView2<'_, u16>, fill: u16) {
    for ((r, c), &id) in ids.indexed_iter() {
        if id == 0 {
            continue;
        }
        let colour = if id == fill {
            FILL_COLOUR
        } else {
            mask_colour(id)
        };
        for (k, v) in colour.into_iter().enumerate() {
            let px = &mut img[[r, c, k]];
            *px = (f32::from(*px) * (1.0 - ALPHA) + f32::from(v) * ALPHA).round() as u8;
        }
    }
}

/// Draws each box (`x0, y0, x1, y1` in pixel corners of `img`) as a rectangle whose
/// [`EDGE`]-pixel border lies just inside the box, in its label's [`box_colour`].
pub fn draw_boxes(img: &mut Array3<u8>, boxes: ArrayView2<'_, f32>, labels: &[i64]) {
    let (h, w, _) = img.dim();
    for (b, &label) in boxes.outer_iter().zip(labels) {
        let span = |lo: f32, hi: f32, n: usize| {
            let first = (lo.floor().max(0.0) as usize).min(n - 1);
            let end = (hi.ceil().max(0.0) as usize).clamp(first + 1, n);
            (first, end)
        };
        let (x0, x1) = span(b[0], b[2], w);
        let (y0, y1) = span(b[1], b[3], h);
        let colour = box_colour(label);
        let (ex, ey) = (EDGE.min(x1 - x0), EDGE.min(y1 - y0));
        paint(img, y0..y0 + ey, x0..x1, colour);
        paint(img, y1 - ey..y1, x0..x1, colour);
        paint(img, y0..y1, x0..x0 + ex, colour);
        paint(img, y0..y1, x1 - ex..x1, colour);
    }
}

fn paint(
    img: &mut Array3<u8>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    rgb: [u8; 3],
) {
    let mut area = img.slice_mut(s![rows, cols, ..]);
    for (k, v) in rgb.into_iter().enumerate() {
        area.index_axis_mut(Axis(2), k).fill(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn background_stays_and_classes_and_fill_get_their_colours() {
        let mut img = Array3::<u8>::zeros((1, 3, 3));
        draw_mask(&mut img, array![[0_u16, 1, 255]].view(), 255);
        assert_eq!(img.slice(s![0, 0, ..]).to_vec(), [0, 0, 0]);
        assert_eq!(img.slice(s![0, 1, ..]).to_vec(), [115, 13, 38]);
        assert_eq!(img.slice(s![0, 2, ..]).to_vec(), [128, 128, 128]);
    }

    #[test]
    fn a_box_edge_lies_inside_the_box_and_its_inside_is_untouched() {
        let mut img = Array3::<u8>::zeros((10, 10, 3));
        draw_boxes(&mut img, array![[2.0_f32, 3.0, 8.0, 9.0]].view(), &[1]);
        let painted = Array2::from_shape_fn((10, 10), |(r, c)| img[[r, c, 1]] == 180);
        assert!(painted[[3, 2]] && painted[[8, 7]] && painted[[4, 3]] && painted[[7, 6]]);
        assert!(!painted[[2, 2]] && !painted[[5, 5]] && !painted[[3, 8]] && !painted[[9, 7]]);
    }
}
