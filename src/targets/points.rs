//! Where a point of the input image lands in the output: the inverse of the warp's sampling
//! map, followed by the flips. Every target (boxes, keypoints) moves through it.
//!
//! Coordinates are **pixel corners**: pixel `(row r, column c)` covers `[c, c + 1) × [r, r + 1)`,
//! so an image of width `W` spans `x ∈ [0, W]`, and the centre of pixel `c` is `x = c + 0.5`.
//! This is the convention of albumentations' `pascal_voc` and of torchvision's boxes.

use crate::transform::{Geometry, TransformParams, sampling_map};

/// The forward map of one sample's geometric transform, for points in pixel-corner
/// coordinates `(x, y)` of an `h × w` image.
///
/// The warp samples output pixel centre `(r, c)` at input `a · (r, c) + offset`; a point
/// therefore moves by the inverse of that map, then by the flips, which the warp applies
/// after resampling.
///
/// ```
/// use augflow::targets::PointMap;
/// use augflow::{Geometry, TransformParams};
///
/// // A horizontal flip of a 10-pixel-wide image mirrors x about the centre: x -> 10 - x.
/// let p = TransformParams { flip_horizontal: true, ..Default::default() };
/// let map = PointMap::new(&p, 8, 10, Geometry::Corrected).unwrap();
/// assert_eq!(map.apply(2.0, 3.0), (8.0, 3.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointMap {
    /// Row-major 2×2 inverse of the sampling matrix, over `(row, col)` pixel-centre indices.
    inverse: [[f64; 2]; 2],
    /// The sampling map's offset, `(row, col)`.
    offset: [f64; 2],
    h: f64,
    w: f64,
    flip_horizontal: bool,
    flip_vertical: bool,
}

impl PointMap {
    /// The map of `params` for an `h × w` image under `geometry`; `None` when the transform
    /// squashes the image onto a line or a point (a singular matrix: nothing of the input is
    /// visible at a definite place).
    pub fn new(params: &TransformParams, h: usize, w: usize, geometry: Geometry) -> Option<Self> {
        let (inverse, offset) = match sampling_map(params, h, w, geometry) {
            None => ([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]),
            Some(m) => {
                let [[a, b], [c, d]] = m.a;
                let det = a * d - b * c;
                if !det.is_finite() || det.abs() < 1e-12 {
                    return None;
                }
                ([[d / det, -b / det], [-c / det, a / det]], m.offset)
            }
        };
        Some(PointMap {
            inverse,
            offset,
            h: h as f64,
            w: w as f64,
            flip_horizontal: params.flip_horizontal,
            flip_vertical: params.flip_vertical,
        })
    }

    /// Where the input point `(x, y)` (pixel corners) lands in the output.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        // To pixel-centre indices (row, col), through the inverse map, and back.
        let (row, col) = (y - 0.5 - self.offset[0], x - 0.5 - self.offset[1]);
        let m = &self.inverse;
        let r = m[0][0] * row + m[0][1] * col;
        let c = m[1][0] * row + m[1][1] * col;
        let (mut x, mut y) = (c + 0.5, r + 0.5);
        if self.flip_horizontal {
            x = self.w - x;
        }
        if self.flip_vertical {
            y = self.h - y;
        }
        (x, y)
    }

    /// The output image's size `(h, w)` (the same as the input's).
    pub fn size(&self) -> (f64, f64) {
        (self.h, self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_geometry_points_stay_put() {
        let map = PointMap::new(&TransformParams::default(), 5, 7, Geometry::Keras).unwrap();
        assert_eq!(map.apply(1.25, 4.5), (1.25, 4.5));
    }

    #[test]
    fn a_shift_moves_points_the_way_the_content_moves() {
        // tx > 0 samples to the right: content, and so points, move left (spec §20 G1).
        let p = TransformParams {
            tx: 2.0,
            ..Default::default()
        };
        let map = PointMap::new(&p, 6, 6, Geometry::Corrected).unwrap();
        assert_eq!(map.apply(4.0, 1.0), (2.0, 1.0));
    }

    #[test]
    fn a_half_turn_maps_a_corner_to_the_opposite_corner() {
        let p = TransformParams {
            theta: 180.0,
            ..Default::default()
        };
        let map = PointMap::new(&p, 4, 6, Geometry::Corrected).unwrap();
        let (x, y) = map.apply(0.0, 0.0);
        assert!(
            (x - 6.0).abs() < 1e-9 && (y - 4.0).abs() < 1e-9,
            "({x}, {y})"
        );
    }

    #[test]
    fn a_singular_transform_has_no_point_map() {
        let p = TransformParams {
            shear: 90.0, // cos 90° = 0: rows collapse
            ..Default::default()
        };
        assert!(PointMap::new(&p, 4, 4, Geometry::Corrected).is_none());
    }
}
