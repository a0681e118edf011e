//! Keypoints that move with their image: `(x, y)` in pixel corners, mapped through the
//! sample's [`PointMap`]; those that leave the image are dropped or marked invisible.

use ndarray::{Array2, Array3, ArrayView2};
use serde::{Deserialize, Serialize};

use super::PointMap;
use super::batch_boxes::{pad_rows, pad_values};
use crate::{Error, Result};

/// What happens to a keypoint the transform moves out of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutsidePoints {
    /// Leave it out (albumentations' `remove_invisible=True`).
    #[default]
    Drop,
    /// Keep it, at its moved coordinates, with its visibility flag cleared.
    MarkInvisible,
}

/// Keypoints after a transform: the kept points, their indices in the input (so labels can
/// follow) and whether each lies in the image.
#[derive(Debug, Clone, PartialEq)]
pub struct MovedPoints {
    /// `(m, 2)` points `(x, y)` in pixel corners.
    pub xy: Array2<f32>,
    /// For each kept point, its row in the input.
    pub kept: Vec<usize>,
    /// For each kept point, whether it lies in the image.
    pub visible: Vec<bool>,
}

/// The keypoints of a batch after their samples' draws, per sample: the points kept, their
/// class ids, and whether each lies in the image (all `true` unless the iterator keeps
/// points that left it, with [`OutsidePoints::MarkInvisible`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchKeypoints {
    /// Per sample, its `(k, 2)` points `(x, y)` in pixel corners.
    pub points: Vec<Array2<f32>>,
    /// Per sample, the class id of each point.
    pub labels: Vec<Vec<i64>>,
    /// Per sample, whether each point lies in the image.
    pub visible: Vec<Vec<bool>>,
}

impl BatchKeypoints {
    /// The points as one `(n, max_points, 2)` array padded with zeros, the labels as
    /// `(n, max_points)` padded with `-1`, the visibility flags padded with `false`, and each
    /// sample's count: for frameworks that want fixed shapes. `max_points` is the largest
    /// count in the batch when `None`; samples with more points keep their first ones.
    ///
    /// ```
    /// use augflow::targets::BatchKeypoints;
    /// let k = BatchKeypoints {
    ///     points: vec![ndarray::array![[1.5_f32, 2.5], [3.0, 4.0]], ndarray::Array2::zeros((0, 2))],
    ///     labels: vec![vec![7, 8], vec![]],
    ///     visible: vec![vec![true, false], vec![]],
    /// };
    /// let (points, labels, visible, counts) = k.padded(None);
    /// assert_eq!(points.shape(), &[2, 2, 2]);
    /// assert_eq!(labels, ndarray::array![[7, 8], [-1, -1]]);
    /// assert_eq!(visible, ndarray::array![[true, false], [false, false]]);
    /// assert_eq!(counts, [2, 0]);
    /// ```
    pub fn padded(
        &self,
        max_points: Option<usize>,
    ) -> (Array3<f32>, Array2<i64>, Array2<bool>, Vec<usize>) {
        let (points, counts) = pad_rows(&self.points, 2, max_points);
        let m = points.shape()[1];
        let labels = pad_values(&self.labels, m, -1);
        let visible = pad_values(&self.visible, m, false);
        (points, labels, visible, counts)
    }
}

/// Checks the `(n, 2)` keypoints of sample `sample`: the shape and finite coordinates
/// (points outside the image are allowed: they may be occluded or cropped already).
///
/// ```
/// use augflow::targets::check_keypoints;
/// assert!(check_keypoints(ndarray::array![[1.0_f32, 2.0]].view(), 0).is_ok());
/// let err = check_keypoints(ndarray::array![[f32::NAN, 2.0]].view(), 5).unwrap_err();
/// assert!(err.to_string().contains("sample 5"));
/// ```
pub fn check_keypoints(points: ArrayView2<'_, f32>, sample: usize) -> Result<()> {
    if points.ncols() != 2 {
        return Err(Error::Shape {
            name: "keypoints",
            shape: points.shape().to_vec(),
            expected: format!("(n, 2) points (x, y) of sample {sample}"),
        });
    }
    for (k, p) in points.outer_iter().enumerate() {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return Err(Error::invalid(
                "keypoints",
                format!("[{}, {}] (point {k} of sample {sample})", p[0], p[1]),
                "finite coordinates",
            ));
        }
    }
    Ok(())
}

/// The keypoints of one sample after its transform. A point is in the image when
/// `0 <= x < W` and `0 <= y < H`. A `map` of `None` (a singular transform) leaves no point
/// at a definite place: all are dropped (or, with `MarkInvisible`, kept where they were and
/// marked invisible).
///
/// ```
/// use augflow::targets::{OutsidePoints, PointMap, transform_keypoints};
/// use augflow::{Geometry, TransformParams};
///
/// let p = TransformParams { tx: 3.0, ..Default::default() }; // content moves 3 pixels left
/// let map = PointMap::new(&p, 8, 8, Geometry::Corrected);
/// let points = ndarray::array![[5.5_f32, 1.5], [1.5, 1.5]];
/// let moved = transform_keypoints(points.view(), map.as_ref(), OutsidePoints::MarkInvisible);
/// assert_eq!(moved.xy, ndarray::array![[2.5_f32, 1.5], [-1.5, 1.5]]);
/// assert_eq!(moved.visible, [true, false]);
/// let moved = transform_keypoints(points.view(), map.as_ref(), OutsidePoints::Drop);
/// assert_eq!(moved.kept, [0]);
/// ```
pub fn transform_keypoints(
    points: ArrayView2<'_, f32>,
    map: Option<&PointMap>,
    outside: OutsidePoints,
) -> MovedPoints {
    let mut values = Vec::with_capacity(points.len());
    let (mut kept, mut visible) = (Vec::new(), Vec::new());
    for (k, p) in points.outer_iter().enumerate() {
        let (x, y, inside) = match map {
            Some(m) => {
                let (x, y) = m.apply(f64::from(p[0]), f64::from(p[1]));
                let (h, w) = m.size();
                (x, y, (0.0..w).contains(&x) && (0.0..h).contains(&y))
            }
            None => (f64::from(p[0]), f64::from(p[1]), false),
        };
        if !inside && outside == OutsidePoints::Drop {
            continue;
        }
        values.extend([x as f32, y as f32]);
        kept.push(k);
        visible.push(inside);
    }
    let xy = Array2::from_shape_vec((kept.len(), 2), values).expect("2 values per kept point");
    MovedPoints { xy, kept, visible }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Geometry, TransformParams};

    #[test]
    fn flips_mirror_keypoints_exactly() {
        let p = TransformParams {
            flip_horizontal: true,
            flip_vertical: true,
            ..Default::default()
        };
        let map = PointMap::new(&p, 6, 10, Geometry::Keras);
        let moved = transform_keypoints(
            ndarray::array![[0.5_f32, 0.5], [9.25, 3.0]].view(),
            map.as_ref(),
            OutsidePoints::Drop,
        );
        assert_eq!(moved.xy, ndarray::array![[9.5_f32, 5.5], [0.75, 3.0]]);
    }

    #[test]
    fn a_singular_transform_drops_or_hides_every_point() {
        let points = ndarray::array![[1.0_f32, 1.0]];
        let dropped = transform_keypoints(points.view(), None, OutsidePoints::Drop);
        assert!(dropped.kept.is_empty());
        let hidden = transform_keypoints(points.view(), None, OutsidePoints::MarkInvisible);
        assert_eq!((hidden.kept, hidden.visible), (vec![0], vec![false]));
    }

    #[test]
    fn keypoints_of_the_wrong_shape_are_refused() {
        let err = check_keypoints(ndarray::Array2::<f32>::zeros((3, 3)).view(), 2).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Shape {
                    name: "keypoints",
                    ..
                }
            ),
            "{err}"
        );
    }
}
