//! `_Augment`: a Keras 3 layer pipeline (`augflow::augment::Augment`) followed by an
//! optional batch-level `MixUp` or `CutMix`, for `augflow.layers`. Layers arrive as the
//! JSON list of `{"class_name", "config"}` dicts that the Python classes record; every
//! check is the library's, its errors named after the layer and the argument.

use augflow::augment::{
    Augment, BoxFormat, Boxes, CutMix, CutMixParams, Keypoints, MixUp, MixUpParams, Op, Params,
    Sample,
};
use augflow::rng::{SampleRng, Stream, sample_rng, stream_rng};
use augflow::transform::Pixel;
use ndarray::{Array2, Array3, ArrayView4, ArrayViewD, Axis, Ix4};
use numpy::{
    Element, PyArrayDyn, PyArrayMethods, PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyNotImplementedError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::convert::{owned_to_numpy, shape_of};
use crate::errors::invalid;

/// The batch-level layers, which mix pairs of samples and their labels.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "class_name", content = "config")]
enum BatchOp {
    MixUp(MixUp),
    CutMix(CutMix),
}

/// A batch layer's draw, under Keras' transformation keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum BatchParams {
    MixUp(MixUpParams),
    CutMix(CutMixParams),
}

impl BatchOp {
    /// Draws for a batch of `[n, h, w]`; with `n = 0` it only checks the arguments.
    fn draw(&self, rng: &mut SampleRng, [n, h, w]: [usize; 3]) -> augflow::Result<BatchParams> {
        Ok(match self {
            BatchOp::MixUp(m) => BatchParams::MixUp(m.draw(rng, n)?),
            BatchOp::CutMix(c) => BatchParams::CutMix(c.draw(rng, [n, h, w])?),
        })
    }

    fn apply(
        &self,
        p: &BatchParams,
        images: ndarray::ArrayViewMut4<'_, f32>,
        labels: Option<ndarray::ArrayViewMut2<'_, f32>>,
    ) -> augflow::Result<()> {
        match (self, p) {
            (BatchOp::MixUp(m), BatchParams::MixUp(p)) => m.apply(p, images, labels),
            (BatchOp::CutMix(c), BatchParams::CutMix(p)) => c.apply(p, images, labels),
            _ => Err(augflow::Error::InvalidParameter {
                name: "params",
                value: format!("{p:?}"),
                expected: "the draw of the pipeline's batch layer".into(),
            }),
        }
    }
}

/// Keras' `get_config()` keys that do not change what a batch layer computes (the library
/// drops the same ones for per-sample layers in `Op::from_keras`).
const BOOKKEEPING: [&str; 5] = ["name", "trainable", "dtype", "seed", "data_format"];

/// The error of `layer` (`what` names it) as Python raises it: `ValueError` naming the layer
/// and the argument (`NotImplementedError` for what augflow does not implement).
fn layer_error(what: &str, layer: &Value, err: augflow::Error) -> PyErr {
    let class = layer.get("class_name").cloned().unwrap_or(Value::Null);
    if let augflow::Error::InvalidParameter { name: "layer", .. } = err
        && let Some(msg) = culprit(&class, layer.get("config"))
    {
        return PyValueError::new_err(format!("{what}: {msg}"));
    }
    match err {
        augflow::Error::Unsupported { .. } => {
            PyNotImplementedError::new_err(format!("{what}: {err}"))
        }
        _ => PyValueError::new_err(format!("{what}: {err}")),
    }
}

/// Which argument a layer cannot be read with: each is read alone (a missing field is then
/// the only error a good one gives), so the message names it.
fn culprit(class: &Value, config: Option<&Value>) -> Option<String> {
    let known = |c: &Value| {
        let probe = json!({"class_name": class, "config": c});
        let err = match class.as_str() {
            Some("MixUp" | "CutMix") => serde_json::from_value::<BatchOp>(probe).err(),
            _ => serde_json::from_value::<Op>(probe).err(),
        };
        err.map(|e| e.to_string())
            .filter(|e| !e.contains("missing field"))
    };
    if let Some(e) = known(&json!({})) {
        return Some(format!(
            "unknown layer {class} ({e}); augflow.layers lists the layers implemented"
        ));
    }
    let config = config?.as_object()?;
    config
        .iter()
        .filter(|(k, _)| !BOOKKEEPING.contains(&k.as_str()))
        .find_map(|(k, v)| {
            let e = known(&json!({ k: v }))?;
            Some(format!("invalid `{k}`: got {v}; {e}"))
        })
}

/// A batch layer from its Keras dict, bookkeeping keys dropped, arguments checked.
fn batch_op(what: &str, mut layer: Value) -> PyResult<BatchOp> {
    if let Some(config) = layer.get_mut("config").and_then(Value::as_object_mut) {
        if let Some(f) = config.get("data_format")
            && f != "channels_last"
        {
            let err = augflow::Error::Unsupported {
                name: "data_format",
                value: f.to_string(),
                reason: "augment ops take channels-last (H, W, C) images".into(),
            };
            return Err(layer_error(what, &layer, err));
        }
        config.retain(|k, _| !BOOKKEEPING.contains(&k.as_str()));
    }
    let op: BatchOp = serde_json::from_value(layer.clone()).map_err(|e| {
        let err = augflow::Error::InvalidParameter {
            name: "layer",
            value: layer.to_string(),
            expected: e.to_string(),
        };
        layer_error(what, &layer, err)
    })?;
    op.draw(&mut sample_rng(0, 0, 0), [0, 1, 1])
        .map_err(|e| layer_error(what, &layer, e))?;
    Ok(op)
}

/// One layer read from its Keras dict: a per-sample op or a batch layer.
enum Layer {
    PerSample(Op),
    Batch(BatchOp),
}

/// Reads and checks one layer; errors start with `what`.
fn parse_layer(layer: Value, what: &str) -> PyResult<Layer> {
    let class = layer.get("class_name").and_then(Value::as_str);
    if matches!(class, Some("MixUp" | "CutMix")) {
        return batch_op(what, layer).map(Layer::Batch);
    }
    let op = Op::from_keras(layer.clone()).map_err(|e| layer_error(what, &layer, e))?;
    Ok(Layer::PerSample(op))
}

fn class_of(layer: &Value) -> String {
    let class = layer.get("class_name").and_then(Value::as_str);
    class.unwrap_or("?").to_string()
}

/// The per-sample layers as an `Augment`, and the batch layer when the last one is one.
fn parse_layers(json: &str) -> PyResult<(Augment, Option<BatchOp>)> {
    let layers: Vec<Value> = serde_json::from_str(json)
        .map_err(|e| invalid("layers", json, &format!("a JSON list of layers ({e})")))?;
    let mut aug = Augment::new();
    let mut batch = None;
    let last = layers.len().saturating_sub(1);
    for (i, layer) in layers.into_iter().enumerate() {
        let what = format!("layer {i} ({})", class_of(&layer));
        match parse_layer(layer, &what)? {
            Layer::Batch(_) if i != last => {
                return Err(PyValueError::new_err(format!(
                    "{what}: a batch layer mixes whole batches; it must be the pipeline's last layer"
                )));
            }
            Layer::Batch(op) => batch = Some(op),
            Layer::PerSample(op) => {
                aug = aug
                    .with(op)
                    .map_err(|e| PyValueError::new_err(format!("{what}: {e}")))?
            }
        }
    }
    Ok((aug, batch))
}

/// Checks one layer's Keras dict (JSON), as a pipeline of it would: a `ValueError` naming
/// the layer and the argument otherwise.
#[pyfunction]
pub fn check_layer(layer: &str) -> PyResult<()> {
    let value: Value = serde_json::from_str(layer)
        .map_err(|e| invalid("layer", layer, &format!("a JSON layer dict ({e})")))?;
    let what = class_of(&value);
    parse_layer(value, &what).map(|_| ())
}

/// One draw of a whole call: per sample, one `Params` per per-sample layer; the batch
/// layer's draw when there is one.
struct Draw {
    samples: Vec<Vec<Params>>,
    batch: Option<BatchParams>,
}

impl Draw {
    /// Keras-like: one entry per layer; for a batch, a per-sample layer's entry is the list
    /// of its per-image draws. `batched`: the images are a rank-4 batch.
    fn to_json(&self, batched: bool) -> String {
        let mut layers: Vec<Value> = Vec::new();
        let ops = self.samples.first().map_or(0, Vec::len);
        for j in 0..ops {
            if batched {
                layers.push(Value::Array(
                    self.samples.iter().map(|s| value(&s[j])).collect(),
                ));
            } else {
                layers.push(value(&self.samples[0][j]));
            }
        }
        if let Some(b) = &self.batch {
            layers.push(value(b));
        }
        Value::Array(layers).to_string()
    }
}

/// A draw as a JSON value (these plain structs of numbers always serialize).
fn value<T: Serialize>(p: &T) -> Value {
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// `entry` read as `T`, or a `ValueError` naming the layer of `params`.
fn read<T: DeserializeOwned>(entry: &Value, j: usize) -> PyResult<T> {
    serde_json::from_value(entry.clone()).map_err(|e| {
        invalid(
            &format!("params[{j}]"),
            entry,
            &format!("the draw of layer {j}, as draw() returns it ({e})"),
        )
    })
}

/// The pipeline behind `augflow.layers.Pipeline`.
#[pyclass(frozen, module = "augflow._augflow", name = "_Augment")]
pub struct PyAugment {
    aug: Augment,
    batch: Option<BatchOp>,
}

/// `(N, H, W, C)` images of any pixel type, a single `(H, W, C)` image as a batch of one.
fn batch_view<'a, T: Pixel>(x: ArrayViewD<'a, T>, name: &str) -> PyResult<ArrayView4<'a, T>> {
    let x = match x.ndim() {
        3 => x.insert_axis(Axis(0)),
        _ => x,
    };
    let shape = x.shape().to_vec();
    x.into_dimensionality::<Ix4>().map_err(|_| {
        let what = "an image (H, W, C) or a batch (N, H, W, C)";
        invalid(name, format!("an array of shape {shape:?}"), what)
    })
}

impl PyAugment {
    fn ops(&self) -> usize {
        self.aug.ops().len()
    }

    /// The draw of a call on `n` images of `[h, w, c]`: image `i` from
    /// `sample_rng(seed, epoch, index + i)`, the batch layer from the `Stream::Other`
    /// stream of `(seed, epoch, index)`.
    fn draw_for(&self, n: usize, shape: [usize; 3], at: [u64; 3]) -> augflow::Result<Draw> {
        let [seed, epoch, index] = at;
        if index.checked_add(n.saturating_sub(1) as u64).is_none() {
            return Err(augflow::Error::InvalidParameter {
                name: "index",
                value: index.to_string(),
                expected: format!("an index whose batch of {n} ends below 2**64"),
            });
        }
        let samples = (0..n as u64)
            .map(|i| {
                self.aug
                    .draw(&mut sample_rng(seed, epoch, index + i), shape)
            })
            .collect::<augflow::Result<_>>()?;
        let out = self.aug.output_size([shape[0], shape[1]]);
        let batch = self
            .batch
            .as_ref()
            .map(|b| {
                b.draw(
                    &mut stream_rng(seed, Stream::Other, epoch, index),
                    [n, out[0], out[1]],
                )
            })
            .transpose()?;
        Ok(Draw { samples, batch })
    }

    /// Reads the list `draw()` returns, for `n` images (`batched`: a rank-4 batch).
    fn parse_draw(&self, json: &str, n: usize, batched: bool) -> PyResult<Draw> {
        let layers: Vec<Value> = serde_json::from_str(json)
            .map_err(|e| invalid("params", json, &format!("a list ({e})")))?;
        let expected = self.ops() + usize::from(self.batch.is_some());
        if layers.len() != expected {
            let what = format!("a list of {expected} entries, one per layer");
            return Err(invalid(
                "params",
                format!("a list of {}", layers.len()),
                &what,
            ));
        }
        let mut samples: Vec<Vec<Params>> = vec![Vec::with_capacity(self.ops()); n];
        for (j, entry) in layers[..self.ops()].iter().enumerate() {
            let per_image: Vec<Params> = match (batched, entry) {
                (true, Value::Array(v)) if v.len() == n => {
                    v.iter().map(|e| read(e, j)).collect::<PyResult<_>>()?
                }
                (true, _) => {
                    let what = format!("a list of {n} draws, one per image");
                    return Err(invalid(&format!("params[{j}]"), entry, &what));
                }
                (false, _) => vec![read(entry, j)?],
            };
            for (s, p) in samples.iter_mut().zip(per_image) {
                s.push(p);
            }
        }
        let batch = match self.batch {
            Some(_) => Some(read(&layers[self.ops()], self.ops())?),
            None => None,
        };
        Ok(Draw { samples, batch })
    }

    /// Runs `draw` on the images, the batch layer on the result and, when given, `labels`.
    fn apply_draw<T: Pixel>(
        &self,
        x: ArrayView4<'_, T>,
        draw: &Draw,
        labels: Option<&mut Array2<f32>>,
    ) -> augflow::Result<ndarray::Array4<f32>> {
        let outs = x
            .axis_iter(Axis(0))
            .into_par_iter()
            .zip(draw.samples.par_iter())
            .map(|(img, params)| {
                let img = img.mapv(|v| v.to_f64() as f32);
                Ok(self.aug.transform(params, Sample::new(img))?.image)
            })
            .collect::<augflow::Result<Vec<Array3<f32>>>>()?;
        let views: Vec<_> = outs.iter().map(|a| a.view()).collect();
        let mut out = ndarray::stack(Axis(0), &views).map_err(|e| augflow::Error::Shape {
            name: "x",
            shape: x.shape().to_vec(),
            expected: format!("images that all give one output size ({e})"),
        })?;
        if let (Some(b), Some(p)) = (&self.batch, &draw.batch) {
            b.apply(p, out.view_mut(), labels.map(|l| l.view_mut()))?;
        }
        Ok(out)
    }

    /// `__call__` (params `None`: drawn from `at`) or `apply` (params given) on any pixel
    /// type; `None` when `x` holds another dtype.
    fn run_typed<T: Pixel + Element>(
        &self,
        x: &Bound<'_, PyAny>,
        params: Option<&str>,
        at: [u64; 3],
        labels: Option<&mut Array2<f32>>,
    ) -> Option<PyResult<Py<PyAny>>> {
        let a = x.cast::<PyArrayDyn<T>>().ok()?;
        let py = x.py();
        Some((|| {
            let ro = a
                .try_readonly()
                .map_err(|e| invalid("x", e, "a readable array"))?;
            let batched = ro.ndim() == 4;
            let view = batch_view(ro.as_array(), "x")?;
            let (n, h, w, c) = view.dim();
            if n == 0 {
                return Err(invalid("x", shape_of(x), "at least one image"));
            }
            if self.batch.is_some() && !batched {
                return Err(invalid(
                    "x",
                    shape_of(x),
                    "a batch (N, H, W, C): the pipeline ends with a batch layer",
                ));
            }
            let draw = match params {
                Some(json) => self.parse_draw(json, n, batched)?,
                None => py
                    .detach(|| self.draw_for(n, [h, w, c], at))
                    .map_err(|e| crate::errors::to_pyerr(py, e, None))?,
            };
            let images = py
                .detach(|| self.apply_draw(view, &draw, labels))
                .map_err(|e| crate::errors::to_pyerr(py, e, None))?;
            Ok(if batched {
                owned_to_numpy(py, images)
            } else {
                owned_to_numpy(py, images.index_axis_move(Axis(0), 0))
            })
        })())
    }

    /// `run_typed` for a `uint8` or `float32` `x`: the images and the (mixed) labels.
    fn run_any(
        &self,
        x: &Bound<'_, PyAny>,
        params: Option<&str>,
        at: [u64; 3],
        mut labels: Option<Array2<f32>>,
    ) -> PyResult<(Py<PyAny>, Option<Py<PyAny>>)> {
        let images = match self.run_typed::<u8>(x, params, at, labels.as_mut()) {
            Some(r) => r?,
            None => self
                .run_typed::<f32>(x, params, at, labels.as_mut())
                .unwrap_or_else(|| {
                    let what = "a float32 or uint8 numpy array (H, W, C) or (N, H, W, C)";
                    Err(invalid("x", shape_of(x), what))
                })?,
        };
        Ok((images, labels.map(|l| owned_to_numpy(x.py(), l))))
    }
}

/// Boxes from Python: `(k, 4)` float32 in a Keras box format, one int label each.
type PyBoxes<'py> = (PyReadonlyArray2<'py, f32>, Vec<i32>, String);

/// `sample`'s result: the image, the mask, the boxes and their labels, the keypoints
/// `(k, 2)` and whether each still shows the image.
type SampleOut = (
    Py<PyAny>,
    Option<Py<PyAny>>,
    Option<Py<PyAny>>,
    Option<Vec<i32>>,
    Option<(Py<PyAny>, Vec<bool>)>,
);

#[pymethods]
impl PyAugment {
    /// `layers`: the JSON list of the layers' `{"class_name", "config"}` dicts.
    #[new]
    fn new(layers: &str) -> PyResult<Self> {
        let (aug, batch) = parse_layers(layers)?;
        Ok(PyAugment { aug, batch })
    }

    /// The `(height, width)` the pipeline gives an image of `(height, width)`.
    fn output_size(&self, height: usize, width: usize) -> (usize, usize) {
        let [h, w] = self.aug.output_size([height, width]);
        (h, w)
    }

    /// The per-sample layers only, as the JSON list the iterators take.
    fn per_sample_json(&self) -> String {
        self.aug.to_json()
    }

    /// Whether the pipeline ends with a batch layer (`MixUp`, `CutMix`).
    fn has_batch_layer(&self) -> bool {
        self.batch.is_some()
    }

    /// Draws for `x` and applies: `(images, mixed labels)`.
    #[pyo3(signature = (x, seed, epoch, index, labels=None))]
    fn call(
        &self,
        x: &Bound<'_, PyAny>,
        seed: u64,
        epoch: u64,
        index: u64,
        labels: Option<PyReadonlyArray2<'_, f32>>,
    ) -> PyResult<(Py<PyAny>, Option<Py<PyAny>>)> {
        let labels = labels.map(|l| l.as_array().to_owned());
        self.run_any(x, None, [seed, epoch, index], labels)
    }

    /// Draws for `x` without applying: the draw as JSON.
    fn draw(&self, x: &Bound<'_, PyAny>, seed: u64, epoch: u64, index: u64) -> PyResult<String> {
        let shape: Vec<usize> = x.getattr("shape")?.extract()?;
        let batched = shape.len() == 4;
        let dims: [usize; 4] = match shape.as_slice() {
            [h, w, c] => [1, *h, *w, *c],
            [n, h, w, c] => [*n, *h, *w, *c],
            _ => {
                let what = "an image (H, W, C) or a batch (N, H, W, C)";
                return Err(invalid("x", format!("an array of shape {shape:?}"), what));
            }
        };
        let [n, h, w, c] = dims;
        let py = x.py();
        py.detach(|| {
            let draw = self.draw_for(n, [h, w, c], [seed, epoch, index])?;
            Ok(draw.to_json(batched))
        })
        .map_err(|e| crate::errors::to_pyerr(py, e, None))
    }

    /// Applies a draw (the JSON of `draw()`): `(images, mixed labels)`.
    #[pyo3(signature = (x, params, labels=None))]
    fn apply(
        &self,
        x: &Bound<'_, PyAny>,
        params: &str,
        labels: Option<PyReadonlyArray2<'_, f32>>,
    ) -> PyResult<(Py<PyAny>, Option<Py<PyAny>>)> {
        let labels = labels.map(|l| l.as_array().to_owned());
        self.run_any(x, Some(params), [0, 0, 0], labels)
    }

    /// One float32 `(H, W, C)` image with a class-id mask `(H, W, K)`, boxes and/or
    /// keypoints `(k, 2)`, drawn from `(seed, epoch, index)` or given `params`: `(image,
    /// mask, boxes, box labels, (keypoints, visible))`.
    #[pyo3(signature = (x, params, seed, epoch, index, mask=None, boxes=None, keypoints=None))]
    #[allow(clippy::too_many_arguments)]
    fn sample(
        &self,
        py: Python<'_>,
        x: PyReadonlyArray3<'_, f32>,
        params: Option<&str>,
        seed: u64,
        epoch: u64,
        index: u64,
        mask: Option<PyReadonlyArray3<'_, i32>>,
        boxes: Option<PyBoxes<'_>>,
        keypoints: Option<PyReadonlyArray2<'_, f32>>,
    ) -> PyResult<SampleOut> {
        if self.batch.is_some() {
            let what = "a pipeline without a batch layer (MixUp, CutMix mix batches)";
            return Err(invalid("masks/bboxes", "given", what));
        }
        let err = |e| crate::errors::to_pyerr(py, e, None);
        let image = x.as_array().to_owned();
        let (h, w, c) = image.dim();
        let mut sample = Sample::new(image);
        if let Some(m) = mask {
            sample = sample.with_mask(m.as_array().to_owned()).map_err(err)?;
        }
        if let Some((b, labels, format)) = boxes {
            let format: BoxFormat = serde_json::from_value(Value::String(format.clone()))
                .map_err(|e| invalid("bbox_format", &format, &e.to_string()))?;
            if b.shape()[1] != 4 {
                return Err(invalid("bboxes", shape_of(b.as_any()), "(k, 4) boxes"));
            }
            let rows: Vec<[f32; 4]> = b
                .as_array()
                .rows()
                .into_iter()
                .map(|r| [r[0], r[1], r[2], r[3]])
                .collect();
            sample = sample.with_boxes(Boxes::new(format, rows, labels).map_err(err)?);
        }
        if let Some(k) = keypoints {
            if k.shape()[1] != 2 {
                return Err(invalid(
                    "keypoints",
                    shape_of(k.as_any()),
                    "(k, 2) points (x, y)",
                ));
            }
            let xy: Vec<[f32; 2]> = k
                .as_array()
                .rows()
                .into_iter()
                .map(|r| [r[0], r[1]])
                .collect();
            sample = sample.with_keypoints(Keypoints::new(xy).map_err(err)?);
        }
        let draw = match params {
            Some(json) => self.parse_draw(json, 1, false)?,
            None => self
                .draw_for(1, [h, w, c], [seed, epoch, index])
                .map_err(err)?,
        };
        let params = &draw.samples[0];
        let out = py
            .detach(|| self.aug.transform(params, sample))
            .map_err(err)?;
        let mask = out.mask.map(|m| owned_to_numpy(py, m));
        let (boxes, labels) = match out.boxes {
            Some(b) => {
                let flat: Vec<f32> = b.boxes.iter().flatten().copied().collect();
                let arr = Array2::from_shape_vec((b.boxes.len(), 4), flat)
                    .map_err(|e| invalid("bboxes", e, "(k, 4) boxes"))?;
                (Some(owned_to_numpy(py, arr)), Some(b.labels))
            }
            None => (None, None),
        };
        let points = match out.keypoints {
            Some(k) => {
                let flat: Vec<f32> = k.xy.iter().flatten().copied().collect();
                let arr = Array2::from_shape_vec((k.xy.len(), 2), flat)
                    .map_err(|e| invalid("keypoints", e, "(k, 2) points"))?;
                Some((owned_to_numpy(py, arr), k.visible))
            }
            None => None,
        };
        Ok((owned_to_numpy(py, out.image), mask, boxes, labels, points))
    }
}
