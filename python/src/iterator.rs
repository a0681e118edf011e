//! `_Iterator`: one Python class over every augflow iterator (arrays, folders), whatever
//! its pixel and output types. Batches are built with the GIL released and handed to Python
//! as numpy arrays that own augflow's buffers.

use std::sync::RwLock;

use augflow::iterators::{
    BatchIterator, BatchSource, ClassFolders, CocoImages, CsvRows, FileSource, IteratorState, Shard,
};
use augflow::{Batch, Result, Sequence};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::convert::{dyn_to_numpy, owned_to_numpy};
use crate::errors::{ErrSlot, sequence_index_error, to_pyerr};
use crate::targets::{batch_targets, python_names};

/// What a folder iterator knows besides its batches.
pub struct FilesInfo {
    pub filenames: Vec<String>,
    pub filepaths: Vec<String>,
    /// The class indices of each file (several for a multi-label row).
    pub classes: Vec<Vec<usize>>,
    pub class_names: Vec<String>,
    pub class_mode: String,
    /// The COCO category id of each class (COCO iterators only).
    pub category_ids: Option<Vec<i64>>,
}

/// A batch of any output type Python gets.
pub enum AnyBatch {
    F32(Batch<f32>),
    F64(Batch<f64>),
    U8(Batch<u8>),
}

/// The output element types Python gets: `float32`, `float64` and `uint8`.
pub trait Out: augflow::iterators::BatchElement + numpy::Element {
    /// Wraps a batch of this type.
    fn wrap(b: Batch<Self>) -> AnyBatch;
}
impl Out for f32 {
    fn wrap(b: Batch<f32>) -> AnyBatch {
        AnyBatch::F32(b)
    }
}
impl Out for f64 {
    fn wrap(b: Batch<f64>) -> AnyBatch {
        AnyBatch::F64(b)
    }
}
impl Out for u8 {
    fn wrap(b: Batch<u8>) -> AnyBatch {
        AnyBatch::U8(b)
    }
}

/// What a source tells Python besides its batches.
pub trait SourceInfo {
    /// The files, classes and class mode of a folder source; `None` for arrays.
    fn files<O>(_it: &BatchIterator<Self, O>) -> Option<FilesInfo>
    where
        Self: Sized,
    {
        None
    }
}
impl<T: augflow::transform::Pixel> SourceInfo for augflow::iterators::ArraySource<T> {}
impl SourceInfo for FileSource<ClassFolders> {
    fn files<O>(it: &BatchIterator<Self, O>) -> Option<FilesInfo> {
        Some(FilesInfo {
            filenames: texts(it.filenames()),
            filepaths: texts(it.filepaths()),
            classes: it.classes().iter().map(|&c| vec![c]).collect(),
            class_names: it.class_names().to_vec(),
            class_mode: it.class_mode().name().to_string(),
            category_ids: None,
        })
    }
}
impl SourceInfo for FileSource<CsvRows> {
    fn files<O>(it: &BatchIterator<Self, O>) -> Option<FilesInfo> {
        Some(FilesInfo {
            filenames: it.filenames().to_vec(),
            filepaths: texts(it.filepaths()),
            classes: it.classes().to_vec(),
            class_names: it.class_names().to_vec(),
            class_mode: it.class_mode().name().to_string(),
            category_ids: None,
        })
    }
}

impl SourceInfo for FileSource<CocoImages> {
    /// The images, and the categories as classes (the box labels index them); COCO
    /// iterators have no `y`, so no image has a class.
    fn files<O>(it: &BatchIterator<Self, O>) -> Option<FilesInfo> {
        Some(FilesInfo {
            filenames: it.filenames().to_vec(),
            filepaths: texts(it.filepaths()),
            classes: Vec::new(),
            class_names: it.class_names().to_vec(),
            class_mode: "none".to_string(),
            category_ids: Some(it.category_ids().to_vec()),
        })
    }
}

/// Paths as Python strings (lossy where they are not UTF-8).
fn texts(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

/// An augflow iterator with its types erased.
pub trait Batches: Send + Sync {
    fn len(&self) -> usize;
    fn get(&self, idx: usize) -> Result<AnyBatch>;
    fn set_epoch(&mut self, epoch: u64);
    fn epoch(&self) -> u64;
    fn seed(&self) -> u64;
    fn num_samples(&self) -> usize;
    fn batch_size(&self) -> usize;
    fn shuffle(&self) -> bool;
    fn image_shape(&self) -> [usize; 3];
    fn batch_indices(&self, idx: usize) -> Result<Vec<usize>>;
    fn files(&self) -> Option<FilesInfo>;
    fn batch_padding(&self, idx: usize) -> Result<usize>;
    fn shard(&self) -> Option<Shard>;
    fn state(&self, position: usize) -> IteratorState;
    fn restore(&mut self, state: &IteratorState) -> Result<usize>;
}

impl<S: BatchSource + SourceInfo + 'static, O: Out> Batches for BatchIterator<S, O> {
    fn len(&self) -> usize {
        Sequence::len(self)
    }
    fn get(&self, idx: usize) -> Result<AnyBatch> {
        Sequence::get(self, idx).map(O::wrap)
    }
    fn set_epoch(&mut self, epoch: u64) {
        BatchIterator::set_epoch(self, epoch)
    }
    fn epoch(&self) -> u64 {
        self.current_epoch()
    }
    fn seed(&self) -> u64 {
        BatchIterator::seed(self)
    }
    fn num_samples(&self) -> usize {
        BatchIterator::num_samples(self)
    }
    fn batch_size(&self) -> usize {
        BatchIterator::batch_size(self)
    }
    fn shuffle(&self) -> bool {
        self.options().shuffle
    }
    fn image_shape(&self) -> [usize; 3] {
        BatchIterator::image_shape(self)
    }
    fn batch_indices(&self, idx: usize) -> Result<Vec<usize>> {
        BatchIterator::batch_indices(self, idx).map(<[usize]>::to_vec)
    }
    fn files(&self) -> Option<FilesInfo> {
        S::files(self)
    }
    fn batch_padding(&self, idx: usize) -> Result<usize> {
        BatchIterator::batch_padding(self, idx)
    }
    fn shard(&self) -> Option<Shard> {
        self.options().shard
    }
    fn state(&self, position: usize) -> IteratorState {
        BatchIterator::state(self, position)
    }
    fn restore(&mut self, state: &IteratorState) -> Result<usize> {
        BatchIterator::restore(self, state)
    }
}

/// Keras' iterators (`NumpyArrayIterator`, `DirectoryIterator`) as one native class; the
/// Python classes of the same names wrap it.
#[pyclass(frozen, module = "augflow._augflow", name = "_Iterator")]
pub struct PyIter {
    inner: RwLock<Box<dyn Batches>>,
    errors: ErrSlot,
    /// How many boxes a batch's `bboxes_padded` holds per sample; `None`: the batch's most.
    max_boxes: Option<usize>,
}

impl PyIter {
    pub fn new(inner: Box<dyn Batches>, errors: ErrSlot) -> Self {
        PyIter {
            inner: RwLock::new(inner),
            errors,
            max_boxes: None,
        }
    }

    /// Pads every batch's boxes to `max_boxes` per sample (see [`batch_targets`]).
    pub fn with_max_boxes(mut self, max_boxes: Option<usize>) -> Self {
        self.max_boxes = max_boxes;
        self
    }

    /// Runs `f` on the iterator without the GIL: every lock is taken with the GIL
    /// released, so a worker that needs the GIL (a `preprocessing_function`) never waits on
    /// a thread that holds it while waiting for the lock.
    fn read<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&dyn Batches) -> R + Send) -> R {
        py.detach(|| f(&**self.inner.read().unwrap_or_else(|e| e.into_inner())))
    }

    fn write<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut dyn Batches) -> R + Send) -> R {
        py.detach(|| f(&mut **self.inner.write().unwrap_or_else(|e| e.into_inner())))
    }
}

#[pymethods]
impl PyIter {
    fn __len__(&self, py: Python<'_>) -> usize {
        self.read(py, |it| it.len())
    }

    /// Batch `idx` of the current epoch, in Keras' tuple shape.
    fn get(&self, py: Python<'_>, idx: isize) -> PyResult<Py<PyAny>> {
        let len = self.__len__(py);
        let Ok(i) = usize::try_from(idx) else {
            let msg = format!("Asked to retrieve element {idx}, but the Sequence has length {len}");
            return Err(sequence_index_error(py, msg));
        };
        self.errors.take();
        let batch = self.read(py, |it| it.get(i));
        let batch = batch.map_err(|e| to_pyerr(py, python_names(e), Some(&self.errors)))?;
        batch_to_py(py, batch, self.max_boxes)
    }

    fn on_epoch_end(&self, py: Python<'_>) {
        self.write(py, |it| it.set_epoch(it.epoch() + 1))
    }

    fn set_epoch(&self, py: Python<'_>, epoch: u64) {
        self.write(py, |it| it.set_epoch(epoch))
    }

    #[getter]
    fn epoch(&self, py: Python<'_>) -> u64 {
        self.read(py, |it| it.epoch())
    }
    #[getter]
    fn seed(&self, py: Python<'_>) -> u64 {
        self.read(py, |it| it.seed())
    }
    #[getter]
    fn n(&self, py: Python<'_>) -> usize {
        self.read(py, |it| it.num_samples())
    }
    #[getter]
    fn batch_size(&self, py: Python<'_>) -> usize {
        self.read(py, |it| it.batch_size())
    }
    #[getter]
    fn shuffle(&self, py: Python<'_>) -> bool {
        self.read(py, |it| it.shuffle())
    }
    #[getter]
    fn image_shape(&self, py: Python<'_>) -> (usize, usize, usize) {
        let [a, b, c] = self.read(py, |it| it.image_shape());
        (a, b, c)
    }

    /// The sample indices of batch `idx` of the current epoch.
    fn batch_indices(&self, py: Python<'_>, idx: usize) -> PyResult<Vec<usize>> {
        self.read(py, |it| it.batch_indices(idx))
            .map_err(|e| to_pyerr(py, e, None))
    }

    /// How many of the last samples of batch `idx` are a shard's padding.
    fn batch_padding(&self, py: Python<'_>, idx: usize) -> PyResult<usize> {
        self.read(py, |it| it.batch_padding(idx))
            .map_err(|e| to_pyerr(py, e, None))
    }

    /// `(num_shards, shard_index, shard_remainder)`: `(1, 0, "pad")` when unsharded.
    #[getter]
    fn shard(&self, py: Python<'_>) -> (usize, usize, String) {
        let shard = self.read(py, |it| it.shard());
        let s = shard.unwrap_or_else(|| Shard::new(1, 0).expect("one shard is valid"));
        let policy = serde_json::to_value(s.remainder_policy()).expect("a policy serializes");
        let policy = policy.as_str().unwrap_or_default().to_string();
        (s.count(), s.index(), policy)
    }

    /// The state after `position` batches of the current epoch, as JSON.
    fn state_json(&self, py: Python<'_>, position: usize) -> String {
        let state = self.read(py, |it| it.state(position));
        serde_json::to_string(&state).expect("an iterator state serializes")
    }

    /// Continues the run the JSON `state` describes; returns the position of the next batch.
    fn restore_json(&self, py: Python<'_>, state: &str) -> PyResult<usize> {
        let state: IteratorState = serde_json::from_str(state).map_err(|e| {
            let expected = format!("a dict made by state_dict() ({e})");
            crate::errors::invalid("state", state, &expected)
        })?;
        self.write(py, |it| it.restore(&state))
            .map_err(|e| to_pyerr(py, e, None))
    }

    /// `filenames`, `filepaths`, `classes`, `class_indices`, `class_mode` of a folder
    /// iterator, or `None`.
    fn files_info<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(info) = self.read(py, |it| it.files()) else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("filenames", info.filenames)?;
        d.set_item("filepaths", info.filepaths)?;
        if info.classes.iter().all(|c| c.len() == 1) {
            let classes: Vec<i32> = info.classes.iter().map(|c| c[0] as i32).collect();
            d.set_item(
                "classes",
                owned_to_numpy(py, ndarray::Array1::from(classes)),
            )?;
        } else {
            d.set_item("classes", info.classes)?; // multi-label rows: a list of lists, as Keras
        }
        let indices = PyDict::new(py);
        for (k, name) in info.class_names.iter().enumerate() {
            indices.set_item(name, k)?;
        }
        d.set_item("class_indices", indices)?;
        d.set_item("class_mode", info.class_mode)?;
        d.set_item("class_names", info.class_names)?;
        if let Some(ids) = info.category_ids {
            d.set_item("category_ids", ids)?;
        }
        Ok(Some(d))
    }
}

/// A batch in Keras' shape: `x`, `(x, y)` or `(x, y, w)`, with `[x, *extras]` in place of
/// `x` when extra arrays travel with the images; when targets move with the images, their
/// dict ([`batch_targets`]) comes last: `(x, targets)`, `(x, y, targets)` or
/// `(x, y, w, targets)`.
fn batch_to_py(py: Python<'_>, batch: AnyBatch, max_boxes: Option<usize>) -> PyResult<Py<PyAny>> {
    match batch {
        AnyBatch::F32(b) => typed_batch_to_py(py, b, max_boxes),
        AnyBatch::F64(b) => typed_batch_to_py(py, b, max_boxes),
        AnyBatch::U8(b) => typed_batch_to_py(py, b, max_boxes),
    }
}

fn typed_batch_to_py<O: Out>(
    py: Python<'_>,
    b: Batch<O>,
    max_boxes: Option<usize>,
) -> PyResult<Py<PyAny>> {
    let x = owned_to_numpy(py, b.x);
    let x_part = if b.extras.is_empty() {
        x
    } else {
        let mut items = vec![x];
        for e in b.extras {
            items.push(dyn_to_numpy(py, e)?);
        }
        PyList::new(py, items)?.into_any().unbind()
    };
    let targets = batch_targets(py, b.masks, b.boxes, b.keypoints, max_boxes)?;
    let mut items = vec![x_part];
    if let Some(y) = b.y {
        items.push(dyn_to_numpy(py, y)?);
        if let Some(w) = b.sample_weight {
            items.push(dyn_to_numpy(py, w)?);
        }
    }
    match targets {
        Some(t) => items.push(t.into_any().unbind()),
        None if items.len() == 1 => return Ok(items.remove(0)),
        None => {}
    }
    Ok(PyTuple::new(py, items)?.into_any().unbind())
}
