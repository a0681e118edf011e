//! Boxes as the batch engine carries them: each batch's boxes after their samples' draws,
//! ragged or padded.

use ndarray::{Array2, Array3, s};

/// The boxes of a batch after their samples' draws: a `(k_i, 4)` array and `k_i` class ids
/// per sample (ragged), in the iterator's box format. Boxes that left the image, or fell
/// below `min_area` / `min_visibility`, are gone with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchBoxes {
    /// Per sample, its boxes.
    pub boxes: Vec<Array2<f32>>,
    /// Per sample, the class id of each of its boxes.
    pub labels: Vec<Vec<i64>>,
}

impl BatchBoxes {
    /// The boxes as one `(n, max_boxes, 4)` array, padded with zeros, the labels as
    /// `(n, max_boxes)` padded with `-1`, and each sample's count: for frameworks that want
    /// fixed shapes. `max_boxes` is the largest count in the batch when `None`; samples with
    /// more boxes than `max_boxes` keep their first ones.
    ///
    /// ```
    /// use augflow::targets::BatchBoxes;
    /// let b = BatchBoxes {
    ///     boxes: vec![ndarray::array![[1.0_f32, 1.0, 2.0, 2.0]], ndarray::Array2::zeros((0, 4))],
    ///     labels: vec![vec![3], vec![]],
    /// };
    /// let (boxes, labels, counts) = b.padded(None);
    /// assert_eq!(boxes.shape(), &[2, 1, 4]);
    /// assert_eq!(labels, ndarray::array![[3], [-1]]);
    /// assert_eq!(counts, [1, 0]);
    /// ```
    pub fn padded(&self, max_boxes: Option<usize>) -> (Array3<f32>, Array2<i64>, Vec<usize>) {
        let (boxes, counts) = pad_rows(&self.boxes, 4, max_boxes);
        let labels = pad_values(&self.labels, boxes.shape()[1], -1);
        (boxes, labels, counts)
    }
}

/// Per-sample `(k_i, d)` rows as one `(n, m, d)` array padded with zeros, and each sample's
/// count; `m` is `max_rows`, or the largest `k_i` when `None` (longer samples keep their
/// first rows).
pub(crate) fn pad_rows(
    rows: &[Array2<f32>],
    d: usize,
    max_rows: Option<usize>,
) -> (Array3<f32>, Vec<usize>) {
    let widest = rows.iter().map(|b| b.nrows()).max().unwrap_or(0);
    let m = max_rows.unwrap_or(widest);
    let mut out = Array3::zeros((rows.len(), m, d));
    let mut counts = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let k = r.nrows().min(m);
        out.slice_mut(s![i, ..k, ..]).assign(&r.slice(s![..k, ..]));
        counts.push(k);
    }
    (out, counts)
}

/// Per-sample values (one per row) as an `(n, m)` array, padded with `fill`.
pub(crate) fn pad_values<V: Copy>(values: &[Vec<V>], m: usize, fill: V) -> Array2<V> {
    let mut out = Array2::from_elem((values.len(), m), fill);
    for (i, v) in values.iter().enumerate() {
        for (j, &x) in v.iter().take(m).enumerate() {
            out[[i, j]] = x;
        }
    }
    out
}
