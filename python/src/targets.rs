//! The targets `flow` moves with its images (masks, bounding boxes, keypoints) across the
//! boundary: read from the dict the Python layer builds out of `flow`'s keywords, handed to
//! the library's flow builder, and each batch's targets handed back as a dict. Errors of the
//! library that name a target are renamed to the Python keyword.

use augflow::targets::{BatchBoxes, BatchKeypoints, BoxFormat, BoxOptions, OutsidePoints};
use augflow::transform::Pixel;
use augflow::{DynArray, Error};
use ndarray::{Array1, Array2};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{dyn_from_numpy, dyn_to_numpy, owned_to_numpy};

/// Per image, its `(k, d)` rows (boxes or keypoints) and one class id per row.
type Rows = (Vec<Array2<f32>>, Vec<Vec<i64>>);

/// What `flow` was given to move with its images, checked by the library when it builds.
pub struct FlowTargets {
    masks: Option<DynArray>,
    mask_value: f64,
    boxes: Option<Rows>,
    box_options: BoxOptions,
    keypoints: Option<Rows>,
    outside_points: OutsidePoints,
    /// How many boxes each batch's `bboxes_padded` holds per sample (`None`: its most).
    pub max_boxes: Option<usize>,
}

/// The value of `key` in the dict the Python layer built (every key is always there).
fn item<'py, T: pyo3::conversion::FromPyObjectOwned<'py>>(
    d: &Bound<'py, PyDict>,
    key: &str,
) -> PyResult<T> {
    match d.get_item(key)? {
        Some(v) => v.extract::<T>().map_err(Into::into),
        None => Err(pyo3::exceptions::PyKeyError::new_err(key.to_string())),
    }
}

/// Python's per-image rows and labels (float32 `(k, d)` and int64 `(k,)` arrays, already
/// shaped by the Python layer) as the library takes them.
fn rows(d: &Bound<'_, PyDict>, rows_key: &str, labels_key: &str) -> PyResult<Option<Rows>> {
    let rows: Option<Vec<PyReadonlyArray2<'_, f32>>> = item(d, rows_key)?;
    let Some(rows) = rows else {
        return Ok(None);
    };
    let labels: Vec<PyReadonlyArray1<'_, i64>> = item(d, labels_key)?;
    Ok(Some((
        rows.iter().map(|r| r.as_array().to_owned()).collect(),
        labels.iter().map(|l| l.as_array().to_vec()).collect(),
    )))
}

impl FlowTargets {
    /// Reads the dict `{"masks", "mask_value", "bboxes", "bbox_labels", "bbox_format",
    /// "min_area", "min_visibility", "max_bboxes", "keypoints", "keypoint_labels",
    /// "remove_invisible"}`.
    pub fn from_dict(d: &Bound<'_, PyDict>) -> PyResult<Self> {
        let masks: Option<Bound<'_, PyAny>> = item(d, "masks")?;
        let format: String = item(d, "bbox_format")?;
        let format: BoxFormat = format
            .parse()
            .map_err(|e| crate::errors::to_pyerr(d.py(), python_names(e), None))?;
        let remove_invisible: bool = item(d, "remove_invisible")?;
        let max_boxes: Option<i64> = item(d, "max_bboxes")?;
        let max_boxes = max_boxes
            .map(|m| {
                usize::try_from(m)
                    .ok()
                    .filter(|&m| m >= 1)
                    .ok_or_else(|| crate::errors::invalid("max_bboxes", m, "an integer >= 1"))
            })
            .transpose()?;
        Ok(FlowTargets {
            masks: masks.map(|m| dyn_from_numpy("masks", &m)).transpose()?,
            mask_value: item(d, "mask_value")?,
            boxes: rows(d, "bboxes", "bbox_labels")?,
            box_options: BoxOptions::new(format)
                .min_area(item(d, "min_area")?)
                .min_visibility(item(d, "min_visibility")?),
            keypoints: rows(d, "keypoints", "keypoint_labels")?,
            outside_points: if remove_invisible {
                OutsidePoints::Drop
            } else {
                OutsidePoints::MarkInvisible
            },
            max_boxes,
        })
    }

    /// How boxes are read and filtered (`bbox_format`, `min_area`, `min_visibility`).
    pub fn box_options(&self) -> BoxOptions {
        self.box_options
    }

    /// `b` with these targets attached (the library checks them when `b` builds).
    pub fn attach<T: Pixel, O>(
        self,
        mut b: augflow::iterators::FlowBuilder<T, O>,
    ) -> augflow::iterators::FlowBuilder<T, O> {
        if let Some(m) = self.masks {
            b = b.masks(m).mask_cval(self.mask_value);
        }
        if let Some((rows, labels)) = self.boxes {
            b = b.boxes(rows, labels);
        }
        if let Some((rows, labels)) = self.keypoints {
            b = b.keypoints(rows, labels);
        }
        b.box_options(self.box_options)
            .outside_points(self.outside_points)
    }
}

/// The library's name of each target argument, and the Python keyword for it.
const PYTHON_NAMES: [(&str, &str); 5] = [
    ("boxes_labels", "bbox_labels"),
    ("boxes", "bboxes"),
    ("keypoints_labels", "keypoint_labels"),
    ("mask_cval", "mask_value"),
    ("box format", "bbox_format"),
];

/// `name` with a library target name (alone or indexed, as `boxes[3]`) replaced by the
/// Python keyword.
fn rename(name: &str) -> Option<(&'static str, &str)> {
    PYTHON_NAMES.iter().find_map(|&(lib, py)| {
        let rest = name.strip_prefix(lib)?;
        (rest.is_empty() || rest.starts_with('[')).then_some((py, rest))
    })
}

/// `err` naming `flow`'s Python keywords (`bboxes`, `bbox_labels`, `keypoint_labels`,
/// `mask_value`, `bbox_format`) where the library names its own arguments.
pub fn python_names(err: Error) -> Error {
    let fixed = |name: &'static str| rename(name).map_or(name, |(py, _)| py);
    let indexed = |name: String| match rename(&name) {
        Some((py, rest)) => format!("{py}{rest}"),
        None => name,
    };
    match err {
        Error::InvalidParameter {
            name,
            value,
            expected,
        } => Error::InvalidParameter {
            name: fixed(name),
            value,
            expected,
        },
        Error::Shape {
            name,
            shape,
            expected,
        } => Error::Shape {
            name: fixed(name),
            shape,
            expected,
        },
        Error::LengthMismatch {
            name,
            got,
            other,
            expected,
        } => Error::LengthMismatch {
            name: indexed(name),
            got,
            other: indexed(other),
            expected,
        },
        other => other,
    }
}

/// A batch's targets as the dict `flow` documents, or `None` when the source has none:
/// `masks` (stacked), `bboxes` / `bbox_labels` (per-sample lists) with `bboxes_padded`,
/// `bbox_labels_padded` and `bbox_counts` (padded to `max_boxes` per sample, or to the
/// batch's most), and `keypoints` / `keypoint_labels` / `keypoint_visible` (per-sample
/// lists) with `keypoints_padded`, `keypoint_labels_padded`, `keypoint_visible_padded` and
/// `keypoint_counts` (padded to the batch's most).
pub fn batch_targets<'py>(
    py: Python<'py>,
    masks: Option<DynArray>,
    boxes: Option<BatchBoxes>,
    keypoints: Option<BatchKeypoints>,
    max_boxes: Option<usize>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    if masks.is_none() && boxes.is_none() && keypoints.is_none() {
        return Ok(None);
    }
    let d = PyDict::new(py);
    let list = |arrays: Vec<Py<PyAny>>| PyList::new(py, arrays);
    if let Some(m) = masks {
        d.set_item("masks", dyn_to_numpy(py, m)?)?;
    }
    if let Some(b) = boxes {
        let (padded, padded_labels, counts) = b.padded(max_boxes);
        let rows = b.boxes.into_iter().map(|r| owned_to_numpy(py, r));
        d.set_item("bboxes", list(rows.collect())?)?;
        let labels = b
            .labels
            .into_iter()
            .map(|l| owned_to_numpy(py, Array1::from(l)));
        d.set_item("bbox_labels", list(labels.collect())?)?;
        let counts: Array1<i64> = counts.into_iter().map(|c| c as i64).collect();
        d.set_item("bboxes_padded", owned_to_numpy(py, padded))?;
        d.set_item("bbox_labels_padded", owned_to_numpy(py, padded_labels))?;
        d.set_item("bbox_counts", owned_to_numpy(py, counts))?;
    }
    if let Some(k) = keypoints {
        let (padded, padded_labels, padded_visible, counts) = k.padded(None);
        let counts: Array1<i64> = counts.into_iter().map(|c| c as i64).collect();
        d.set_item("keypoints_padded", owned_to_numpy(py, padded))?;
        d.set_item("keypoint_labels_padded", owned_to_numpy(py, padded_labels))?;
        d.set_item(
            "keypoint_visible_padded",
            owned_to_numpy(py, padded_visible),
        )?;
        d.set_item("keypoint_counts", owned_to_numpy(py, counts))?;
        let rows = k.points.into_iter().map(|r| owned_to_numpy(py, r));
        d.set_item("keypoints", list(rows.collect())?)?;
        let labels = k
            .labels
            .into_iter()
            .map(|l| owned_to_numpy(py, Array1::from(l)));
        d.set_item("keypoint_labels", list(labels.collect())?)?;
        let visible = k
            .visible
            .into_iter()
            .map(|v| owned_to_numpy(py, Array1::from(v)));
        d.set_item("keypoint_visible", list(visible.collect())?)?;
    }
    Ok(Some(d))
}
