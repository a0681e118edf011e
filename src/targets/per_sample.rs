//! Targets a source holds per sample: a `(k_i, d)` array of rows (boxes, keypoints) and one
//! class id per row for every image, checked once against the images.

use ndarray::{Array2, ArrayView2};

use crate::{Error, Result};

/// Every sample's rows and their class ids.
#[derive(Debug, Clone)]
pub(crate) struct PerSample {
    rows: Vec<Array2<f32>>,
    labels: Vec<Vec<i64>>,
}

impl PerSample {
    /// Checks that `rows` and `labels` (named `name` and `{name}_labels` in errors) hold one
    /// entry per image of `n`, one label per row, and that `check(rows_i, i)` accepts each
    /// sample's rows.
    pub(crate) fn new(
        name: &str,
        rows: Vec<Array2<f32>>,
        labels: Vec<Vec<i64>>,
        n: usize,
        check: impl Fn(ArrayView2<'_, f32>, usize) -> Result<()>,
    ) -> Result<Self> {
        let label_name = format!("{name}_labels");
        for (what, len) in [(name, rows.len()), (label_name.as_str(), labels.len())] {
            if len != n {
                return Err(Error::LengthMismatch {
                    name: what.into(),
                    got: len,
                    other: "x".into(),
                    expected: n,
                });
            }
        }
        for (i, (r, l)) in rows.iter().zip(&labels).enumerate() {
            check(r.view(), i)?;
            if l.len() != r.nrows() {
                return Err(Error::LengthMismatch {
                    name: format!("{label_name}[{i}]"),
                    got: l.len(),
                    other: format!("{name}[{i}]"),
                    expected: r.nrows(),
                });
            }
        }
        Ok(PerSample { rows, labels })
    }

    /// Sample `i`'s rows and labels.
    pub(crate) fn get(&self, i: usize) -> (ArrayView2<'_, f32>, &[i64]) {
        (self.rows[i].view(), &self.labels[i])
    }

    /// A short description, for a configuration fingerprint.
    pub(crate) fn describe(&self) -> String {
        let total: usize = self.labels.iter().map(Vec::len).sum();
        format!("{total} rows over {} samples", self.rows.len())
    }
}
