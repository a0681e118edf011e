//! The contact sheet's layout: one row per image under a label with its file name, the
//! original first in a marked frame, then its augmented versions; every image letterboxed
//! (aspect ratio kept) in a square cell, with gutters between cells.

use ndarray::{Array3, ArrayView3, Axis, s};

/// Space between cells and around the sheet, in pixels.
pub const GUTTER: usize = 6;
/// Height of the label band above each row: the 7-pixel font at scale 2, plus margins.
pub const LABEL: usize = 2 * GLYPH_H + 6;
/// The sheet's background.
const BACKGROUND: [u8; 3] = [32, 32, 32];
/// The frame around the original column.
const ACCENT: [u8; 3] = [255, 170, 0];
/// The labels' colour.
const INK: [u8; 3] = [235, 235, 235];

/// An empty sheet for `rows` images of `versions` augmented versions each, in cells of `cell`
/// pixels: `(height, width)` = `(GUTTER + rows (LABEL + cell + GUTTER), GUTTER + (versions + 1)
/// (cell + GUTTER))`.
pub fn blank(rows: usize, versions: usize, cell: usize) -> Array3<u8> {
    let h = GUTTER + rows * (LABEL + cell + GUTTER);
    let w = GUTTER + (versions + 1) * (cell + GUTTER);
    let mut sheet = Array3::<u8>::zeros((h, w, 3));
    fill(&mut sheet, 0..h, 0..w, BACKGROUND);
    sheet
}

/// The size `(h, w)` that fits an `h × w` image into a `cell × cell` square, aspect kept.
pub fn fitted(h: usize, w: usize, cell: usize) -> (usize, usize) {
    let scale = (cell as f64 / h as f64).min(cell as f64 / w as f64);
    let side = |v: usize| ((v as f64 * scale).round() as usize).clamp(1, cell);
    (side(h), side(w))
}

/// Writes `label` above row `row`.
pub fn label(sheet: &mut Array3<u8>, row: usize, cell: usize, label: &str) {
    let top = GUTTER + row * (LABEL + cell + GUTTER) + 2;
    let max_chars = (sheet.shape()[1] - 2 * GUTTER) / (2 * (GLYPH_W + 1));
    draw_text(sheet, top, GUTTER, 2, label, max_chars);
}

/// Copies an image (at most `cell × cell`, any channel count) centred into cell
/// `(row, col)`, as RGB; column 0 gets the accent frame that marks the original.
pub fn put(sheet: &mut Array3<u8>, row: usize, col: usize, cell: usize, img: ArrayView3<'_, u8>) {
    let top = GUTTER + row * (LABEL + cell + GUTTER) + LABEL;
    let left = GUTTER + col * (cell + GUTTER);
    if col == 0 {
        let f = GUTTER / 2;
        fill(
            sheet,
            top - f..top + cell + f,
            left - f..left + cell + f,
            ACCENT,
        );
        fill(sheet, top..top + cell, left..left + cell, BACKGROUND);
    }
    let (h, w, c) = img.dim();
    let (y0, x0) = (top + (cell - h) / 2, left + (cell - w) / 2);
    let mut dst = sheet.slice_mut(s![y0..y0 + h, x0..x0 + w, ..]);
    for k in 0..3 {
        // Grey is repeated on the three channels; alpha is dropped.
        let src = if c < 3 { 0 } else { k };
        dst.index_axis_mut(Axis(2), k)
            .assign(&img.index_axis(Axis(2), src));
    }
}

fn fill(
    sheet: &mut Array3<u8>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    rgb: [u8; 3],
) {
    let mut area = sheet.slice_mut(s![rows, cols, ..]);
    for (k, v) in rgb.into_iter().enumerate() {
        area.index_axis_mut(Axis(2), k).fill(v);
    }
}

const GLYPH_W: usize = 5;
const GLYPH_H: usize = 7;

/// Draws `text` (at most `max_chars`, cut with `~`) at `(top, left)`, each font pixel a
/// `scale × scale` square. Letters are drawn in capitals; a character without a glyph is `?`.
fn draw_text(
    sheet: &mut Array3<u8>,
    top: usize,
    left: usize,
    scale: usize,
    text: &str,
    max_chars: usize,
) {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() > max_chars {
        chars.truncate(max_chars.saturating_sub(1));
        chars.push('~');
    }
    for (n, ch) in chars.into_iter().enumerate() {
        let x = left + n * (GLYPH_W + 1) * scale;
        for (r, bits) in glyph(ch).iter().enumerate() {
            for col in 0..GLYPH_W {
                if bits & (1 << (GLYPH_W - 1 - col)) != 0 {
                    let (y, x) = (top + r * scale, x + col * scale);
                    fill(sheet, y..y + scale, x..x + scale, INK);
                }
            }
        }
    }
}

/// The 5×7 rows of `ch` (bit 4 is the leftmost pixel).
fn glyph(ch: char) -> [u8; GLYPH_H] {
    let ch = ch.to_ascii_uppercase();
    FONT.iter()
        .find(|(c, _)| *c == ch)
        .or_else(|| FONT.iter().find(|(c, _)| *c == '?'))
        .map(|(_, g)| *g)
        .unwrap_or([0; GLYPH_H])
}

#[rustfmt::skip]
const FONT: [(char, [u8; GLYPH_H]); 44] = [
    ('A', [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11]),
    ('B', [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E]),
    ('C', [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E]),
    ('D', [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E]),
    ('E', [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F]),
    ('F', [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10]),
    ('G', [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F]),
    ('H', [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11]),
    ('I', [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E]),
    ('J', [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C]),
    ('K', [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11]),
    ('L', [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F]),
    ('M', [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11]),
    ('N', [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11]),
    ('O', [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E]),
    ('P', [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10]),
    ('Q', [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D]),
    ('R', [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11]),
    ('S', [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E]),
    ('T', [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04]),
    ('U', [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E]),
    ('V', [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04]),
    ('W', [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A]),
    ('X', [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11]),
    ('Y', [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04]),
    ('Z', [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F]),
    ('0', [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E]),
    ('1', [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E]),
    ('2', [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F]),
    ('3', [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E]),
    ('4', [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02]),
    ('5', [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E]),
    ('6', [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E]),
    ('7', [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08]),
    ('8', [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E]),
    ('9', [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C]),
    ('.', [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C]),
    ('_', [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F]),
    ('-', [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00]),
    ('~', [0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00]),
    ('[', [0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E]),
    (']', [0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E]),
    (' ', [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
    ('?', [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_keep_their_aspect_ratio_in_the_cell() {
        assert_eq!(fitted(30, 40, 16), (12, 16));
        assert_eq!(fitted(40, 30, 16), (16, 12));
        assert_eq!(fitted(5, 5, 16), (16, 16));
        assert_eq!(fitted(1, 1000, 16), (1, 16));
    }

    #[test]
    fn a_letterboxed_image_is_centred_and_the_original_is_framed() {
        let cell = 10;
        let mut sheet = blank(1, 1, cell);
        assert_eq!(
            sheet.dim(),
            (
                GUTTER + LABEL + cell + GUTTER,
                GUTTER + 2 * (cell + GUTTER),
                3
            )
        );
        let img = Array3::<u8>::from_elem((4, 10, 1), 200);
        put(&mut sheet, 0, 0, cell, img.view());
        put(&mut sheet, 0, 1, cell, img.view());
        let top = GUTTER + LABEL;
        // Rows 3..7 of the cell hold the image; the bands above and below are background.
        assert_eq!(sheet[[top + 3, GUTTER, 0]], 200);
        assert_eq!(sheet[[top + 2, GUTTER, 0]], BACKGROUND[0]);
        assert_eq!(sheet[[top + 7, GUTTER, 0]], BACKGROUND[0]);
        // The original's frame is in the gutter around column 0 only.
        assert_eq!(sheet[[top - 1, GUTTER, 0]], ACCENT[0]);
        assert_eq!(sheet[[top - 1, GUTTER + cell + GUTTER, 0]], BACKGROUND[0]);
    }

    #[test]
    fn labels_are_drawn_and_cut_to_the_width() {
        let mut sheet = blank(1, 1, 10);
        label(&mut sheet, 0, 10, "cat_01.png");
        let band = sheet.slice(s![GUTTER..GUTTER + LABEL, .., 0]);
        assert!(band.iter().any(|&v| v == INK[0]));
        assert_eq!(glyph('a'), glyph('A'));
        assert_eq!(glyph('é'), glyph('?'));
    }
}
