//! `_Generator`: augflow's `ImageDataGenerator` built from Keras' keyword arguments, and
//! its `flow` and `flow_from_directory`.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use augflow::array::DType;
use augflow::augment::Augment;
use augflow::generator::FitOptions;
use augflow::iterators::{IteratorBuilder, ShardRemainder, SourceSpec, Subset};
use augflow::transform::Pixel;
use augflow::{GeneratorConfig, ImageDataGenerator, SaveFormat, TransformParams};
use ndarray::Array1;
use numpy::Element;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};

use crate::convert::{dyn_from_numpy, owned_to_numpy};
use crate::errors::{ErrSlot, invalid, to_pyerr};
use crate::iterator::{Batches, PyIter, SourceInfo};
use crate::preprocess::PyPreprocess;
use crate::source::NumpyImages;
use crate::targets::{FlowTargets, python_names};
use crate::transforms;

/// Keras' `ImageDataGenerator` (the Python class `augflow.ImageDataGenerator` wraps it).
#[pyclass(frozen, module = "augflow._augflow", name = "_Generator")]
pub struct PyGenerator {
    /// Written by `fit` only; iterators take a copy (cheap: the big parts are shared).
    datagen: RwLock<ImageDataGenerator>,
    errors: ErrSlot,
}

/// The options every iterator shares, read from Python's arguments.
struct Common {
    batch_size: usize,
    shuffle: bool,
    seed: Option<u64>,
    subset: Option<Subset>,
    save: Option<(PathBuf, String, SaveFormat)>,
    /// `(num_shards, shard_index, shard_remainder)`; `None` for one shard (the whole epoch).
    shard: Option<(usize, usize, ShardRemainder)>,
    /// The Keras 3 layers run on every sample after the generator's transform.
    pipeline: Option<Augment>,
}

/// The per-sample layers of an `augflow.layers.Pipeline`, as the JSON list its
/// `per_sample_json()` gives (`None`: no pipeline).
fn parse_pipeline(py: Python<'_>, json: Option<&str>) -> PyResult<Option<Augment>> {
    json.map(|j| Augment::from_json(j).map_err(|e| to_pyerr(py, e, None)))
        .transpose()
}

/// Python's `(num_shards, shard_index, shard_remainder)` arguments.
type ShardArgs = (i128, i128, String);

/// The shard to serve, or `None` for one shard (every policy then serves the whole epoch,
/// so the iterator, and its state, is exactly the unsharded one).
fn parse_shard(
    py: Python<'_>,
    (num_shards, index, policy): ShardArgs,
) -> PyResult<Option<(usize, usize, ShardRemainder)>> {
    let policy: ShardRemainder = policy.parse().map_err(|e| to_pyerr(py, e, None))?;
    let count = usize::try_from(num_shards)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| invalid("num_shards", num_shards, "an integer >= 1"))?;
    let index = usize::try_from(index)
        .ok()
        .filter(|&i| i < count)
        .ok_or_else(|| {
            let expected = format!("an integer from 0 to num_shards - 1 ({})", count - 1);
            invalid("shard_index", index, &expected)
        })?;
    Ok((count > 1).then_some((count, index, policy)))
}

/// `GeneratorConfig` from a JSON object of Keras' argument names. Each argument is read on
/// its own first, so that a bad value is reported under its name.
fn parse_config(json: &str) -> PyResult<GeneratorConfig> {
    let map: Map<String, Value> =
        serde_json::from_str(json).map_err(|e| invalid("config", json, &e.to_string()))?;
    for (k, v) in &map {
        let one: Map<String, Value> = [(k.clone(), v.clone())].into_iter().collect();
        serde_json::from_value::<GeneratorConfig>(Value::Object(one)).map_err(|e| {
            pyo3::exceptions::PyValueError::new_err(format!("invalid `{k}`: got {v}; {e}"))
        })?;
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// A non-negative integer argument, or a `ValueError` naming it.
fn count<I: TryInto<u64> + std::fmt::Display + Copy>(name: &str, v: I) -> PyResult<u64> {
    v.try_into()
        .map_err(|_| invalid(name, v, "an integer >= 0 (and < 2**64)"))
}

impl Common {
    #[allow(clippy::too_many_arguments)]
    fn parse(
        py: Python<'_>,
        batch_size: i64,
        shuffle: bool,
        seed: Option<i128>,
        subset: Option<&str>,
        save_to_dir: Option<PathBuf>,
        save_prefix: String,
        save_format: &str,
        shard: ShardArgs,
        pipeline: Option<&str>,
    ) -> PyResult<Common> {
        let err = |e| to_pyerr(py, e, None);
        let subset = subset.map(str::parse::<Subset>).transpose().map_err(err)?;
        let format = save_format.parse::<SaveFormat>().map_err(err)?;
        Ok(Common {
            batch_size: count("batch_size", batch_size)? as usize,
            shuffle,
            seed: seed.map(|s| count("seed", s)).transpose()?,
            subset,
            save: save_to_dir.map(|d| (d, save_prefix, format)),
            shard: parse_shard(py, shard)?,
            pipeline: parse_pipeline(py, pipeline)?,
        })
    }

    /// Applies the options and builds the iterator in the generator's output dtype.
    fn build<S>(&self, b: IteratorBuilder<S>, dtype: DType) -> augflow::Result<Box<dyn Batches>>
    where
        S: SourceSpec,
        S::Source: SourceInfo + 'static,
    {
        let mut b = b.batch_size(self.batch_size).shuffle(self.shuffle);
        if let Some(seed) = self.seed {
            b = b.seed(seed);
        }
        if let Some(s) = self.subset {
            b = b.subset(s);
        }
        if let Some((dir, prefix, format)) = &self.save {
            b = b.save_to_dir(dir, prefix.as_str(), *format);
        }
        if let Some((count, index, policy)) = self.shard {
            b = b.shard(count, index).shard_remainder(policy);
        }
        if let Some(aug) = &self.pipeline {
            b = b.pipeline(aug.clone());
        }
        match dtype {
            DType::F64 => Ok(Box::new(b.output::<f64>().build()?)),
            DType::U8 => Ok(Box::new(b.output::<u8>().build()?)),
            _ => Ok(Box::new(b.output::<f32>().build()?)),
        }
    }
}

/// The arrays that travel with `flow`'s images, and the targets that move with them.
struct Travel {
    y: Option<augflow::DynArray>,
    sample_weight: Option<augflow::DynArray>,
    extras: Vec<augflow::DynArray>,
    targets: Option<FlowTargets>,
}

impl PyGenerator {
    /// A copy of the generator as it is now (after any `fit`).
    fn current(&self) -> ImageDataGenerator {
        self.datagen
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `flow` over `x` borrowed as an array of `T`, or `None` when `x` holds another dtype
    /// (`t` is then untouched; otherwise its targets move into the iterator, uncopied).
    /// The library's `flow` makes Keras' checks (lengths, the classes of both sides of a
    /// split) and reads the images in place.
    fn flow_typed<T: Pixel + Element>(
        &self,
        x: &Bound<'_, PyAny>,
        t: &mut Travel,
        c: &Common,
        ignore_split: bool,
    ) -> Option<PyResult<Box<dyn Batches>>> {
        x.cast::<numpy::PyArray4<T>>().ok()?;
        let py = x.py();
        Some((|| {
            let datagen = self.current();
            let mut b = datagen
                .flow(NumpyImages::<T>::borrow(x)?)
                .ignore_class_split(ignore_split);
            if let Some(y) = &t.y {
                b = b.y(y.clone());
            }
            if let Some(w) = &t.sample_weight {
                b = b.sample_weight(w.clone());
            }
            for e in &t.extras {
                b = b.extra(e.clone());
            }
            if let Some(targets) = t.targets.take() {
                b = targets.attach(b);
            }
            c.build(b, datagen.config().dtype)
                .map_err(|e| to_pyerr(py, python_names(e), Some(&self.errors)))
        })())
    }
}

#[pymethods]
impl PyGenerator {
    /// `config`: a JSON object of Keras' argument names (every one optional).
    #[new]
    #[pyo3(signature = (config, preprocessing_function=None))]
    fn new(
        py: Python<'_>,
        config: &str,
        preprocessing_function: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let cfg = parse_config(config)?;
        let errors = ErrSlot::default();
        let mut builder = augflow::generator::ImageDataGeneratorBuilder::from_config(cfg);
        if let Some(func) = preprocessing_function {
            let p = PyPreprocess {
                func,
                errors: errors.clone(),
            };
            builder = builder.preprocess(Arc::new(p));
        }
        let datagen = builder.build().map_err(|e| to_pyerr(py, e, None))?;
        Ok(PyGenerator {
            datagen: RwLock::new(datagen),
            errors,
        })
    }

    /// The effective configuration (after Keras' overrides), as JSON.
    fn config_json(&self) -> PyResult<String> {
        serde_json::to_string(self.current().config())
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
    }

    /// Keras' `flow`; the Python layer has already split `x = (images, [misc...])` and
    /// turned every input into a numpy array. `targets`: the masks, boxes and keypoints to
    /// move with the images, as the dict [`FlowTargets::from_dict`] reads, or `None`.
    #[pyo3(signature = (x, y, sample_weight, extras, batch_size, shuffle, seed, save_to_dir, save_prefix, save_format, ignore_class_split, subset, shard, targets=None, pipeline=None))]
    #[allow(clippy::too_many_arguments)]
    fn flow(
        &self,
        x: &Bound<'_, PyAny>,
        y: Option<&Bound<'_, PyAny>>,
        sample_weight: Option<&Bound<'_, PyAny>>,
        extras: Vec<Bound<'_, PyAny>>,
        batch_size: i64,
        shuffle: bool,
        seed: Option<i128>,
        save_to_dir: Option<PathBuf>,
        save_prefix: String,
        save_format: &str,
        ignore_class_split: bool,
        subset: Option<&str>,
        shard: ShardArgs,
        targets: Option<&Bound<'_, PyDict>>,
        pipeline: Option<&str>,
    ) -> PyResult<PyIter> {
        let py = x.py();
        let c = Common::parse(
            py,
            batch_size,
            shuffle,
            seed,
            subset,
            save_to_dir,
            save_prefix,
            save_format,
            shard,
            pipeline,
        )?;
        let mut t = Travel {
            y: y.map(|a| dyn_from_numpy("y", a)).transpose()?,
            sample_weight: sample_weight
                .map(|a| dyn_from_numpy("sample_weight", a))
                .transpose()?,
            extras: extras
                .iter()
                .map(|a| dyn_from_numpy("x[1]", a))
                .collect::<PyResult<_>>()?,
            targets: targets.map(FlowTargets::from_dict).transpose()?,
        };
        let max_boxes = t.targets.as_ref().and_then(|t| t.max_boxes);
        let it = self
            .flow_typed::<u8>(x, &mut t, &c, ignore_class_split)
            .or_else(|| self.flow_typed::<u16>(x, &mut t, &c, ignore_class_split))
            .or_else(|| self.flow_typed::<f32>(x, &mut t, &c, ignore_class_split))
            .or_else(|| self.flow_typed::<f64>(x, &mut t, &c, ignore_class_split))
            .unwrap_or_else(|| {
                Err(invalid(
                    "x",
                    crate::convert::shape_of(x),
                    "a 4-D numpy array of uint8, uint16, float32 or float64",
                ))
            })?;
        Ok(PyIter::new(it, self.errors.clone()).with_max_boxes(max_boxes))
    }

    /// Keras' `flow_from_directory`.
    #[pyo3(signature = (directory, target_size, color_mode, classes, class_mode, batch_size, shuffle, seed, save_to_dir, save_prefix, save_format, follow_links, subset, interpolation, keep_aspect_ratio, shard, pipeline=None))]
    #[allow(clippy::too_many_arguments)]
    fn flow_from_directory(
        &self,
        py: Python<'_>,
        directory: PathBuf,
        target_size: (i64, i64),
        color_mode: &str,
        classes: Option<Vec<String>>,
        class_mode: Option<&str>,
        batch_size: i64,
        shuffle: bool,
        seed: Option<i128>,
        save_to_dir: Option<PathBuf>,
        save_prefix: String,
        save_format: &str,
        follow_links: bool,
        subset: Option<&str>,
        interpolation: &str,
        keep_aspect_ratio: bool,
        shard: ShardArgs,
        pipeline: Option<&str>,
    ) -> PyResult<PyIter> {
        let c = Common::parse(
            py,
            batch_size,
            shuffle,
            seed,
            subset,
            save_to_dir,
            save_prefix,
            save_format,
            shard,
            pipeline,
        )?;
        let err = |e| to_pyerr(py, e, None);
        let (h, w) = target_size;
        let size = |v: i64| count("target_size", v).map(|v| v as usize);
        let datagen = self.current();
        let mut b = datagen
            .flow_from_directory(directory)
            .target_size(size(h)?, size(w)?)
            .color_mode(color_mode.parse().map_err(err)?)
            .class_mode(class_mode.unwrap_or("none").parse().map_err(err)?)
            .follow_links(follow_links)
            .interpolation(interpolation.parse().map_err(err)?)
            .keep_aspect_ratio(keep_aspect_ratio);
        if let Some(classes) = classes {
            b = b.classes(classes);
        }
        let it = py
            .detach(|| c.build(b, datagen.config().dtype))
            .map_err(|e| to_pyerr(py, e, Some(&self.errors)))?;
        Ok(PyIter::new(it, self.errors.clone()))
    }

    /// Keras' `flow_from_dataframe`; the Python layer has written the dataframe's columns
    /// to the CSV file `csv`.
    #[pyo3(signature = (csv, directory, x_col, y_cols, y_col_is_list, weight_col, target_size, color_mode, classes, class_mode, batch_size, shuffle, seed, save_to_dir, save_prefix, save_format, subset, interpolation, validate_filenames, keep_aspect_ratio, shard, mask=None, pipeline=None))]
    #[allow(clippy::too_many_arguments)]
    fn flow_from_dataframe(
        &self,
        py: Python<'_>,
        csv: PathBuf,
        directory: Option<PathBuf>,
        x_col: String,
        y_cols: Vec<String>,
        y_col_is_list: bool,
        weight_col: Option<String>,
        target_size: (i64, i64),
        color_mode: &str,
        classes: Option<Vec<String>>,
        class_mode: Option<&str>,
        batch_size: i64,
        shuffle: bool,
        seed: Option<i128>,
        save_to_dir: Option<PathBuf>,
        save_prefix: String,
        save_format: &str,
        subset: Option<&str>,
        interpolation: &str,
        validate_filenames: bool,
        keep_aspect_ratio: bool,
        shard: ShardArgs,
        mask: Option<(String, f64)>,
        pipeline: Option<&str>,
    ) -> PyResult<PyIter> {
        let c = Common::parse(
            py,
            batch_size,
            shuffle,
            seed,
            subset,
            save_to_dir,
            save_prefix,
            save_format,
            shard,
            pipeline,
        )?;
        let err = |e| to_pyerr(py, e, None);
        let size = |v: i64| count("target_size", v).map(|v| v as usize);
        let datagen = self.current();
        let mut b = datagen
            .flow_from_dataframe(csv)
            .x_col(x_col)
            .target_size(size(target_size.0)?, size(target_size.1)?)
            .color_mode(color_mode.parse().map_err(err)?)
            .class_mode(class_mode.unwrap_or("none").parse().map_err(err)?)
            .interpolation(interpolation.parse().map_err(err)?)
            .keep_aspect_ratio(keep_aspect_ratio)
            .validate_filenames(validate_filenames)
            // A string cell is one label, as in Keras; list cells are lists.
            .multi_label_separator(None);
        b = match (y_col_is_list, y_cols.as_slice()) {
            (false, [one]) => b.y_col(one.as_str()),
            _ => b.y_cols(y_cols),
        };
        if let Some(dir) = directory {
            b = b.directory(dir);
        }
        if let Some(w) = weight_col {
            b = b.weight_col(w);
        }
        if let Some(classes) = classes {
            b = b.classes(classes);
        }
        if let Some((column, fill)) = mask {
            b = b.mask_col(column).mask_cval(fill);
        }
        let it = py
            .detach(|| c.build(b, datagen.config().dtype))
            .map_err(|e| to_pyerr(py, python_names(e), Some(&self.errors)))?;
        Ok(PyIter::new(it, self.errors.clone()))
    }

    /// `flow_from_coco`: the images of a COCO detection file, each batch with its images'
    /// boxes moved through their draws (see the Python method's docstring).
    #[pyo3(signature = (images_dir, annotations, target_size, color_mode, batch_size, shuffle, seed, subset, interpolation, keep_aspect_ratio, shard, targets, include_crowd))]
    #[allow(clippy::too_many_arguments)]
    fn flow_from_coco(
        &self,
        py: Python<'_>,
        images_dir: PathBuf,
        annotations: PathBuf,
        target_size: (i64, i64),
        color_mode: &str,
        batch_size: i64,
        shuffle: bool,
        seed: Option<i128>,
        subset: Option<&str>,
        interpolation: &str,
        keep_aspect_ratio: bool,
        shard: ShardArgs,
        targets: &Bound<'_, PyDict>,
        include_crowd: bool,
    ) -> PyResult<PyIter> {
        let png = "png".to_string();
        let c = Common::parse(
            py,
            batch_size,
            shuffle,
            seed,
            subset,
            None,
            png.clone(),
            &png,
            shard,
            None,
        )?;
        let err = |e| to_pyerr(py, e, None);
        let size = |v: i64| count("target_size", v).map(|v| v as usize);
        let targets = FlowTargets::from_dict(targets)?;
        let max_boxes = targets.max_boxes;
        let datagen = self.current();
        let b = datagen
            .flow_from_coco(images_dir, annotations)
            .target_size(size(target_size.0)?, size(target_size.1)?)
            .color_mode(color_mode.parse().map_err(err)?)
            .interpolation(interpolation.parse().map_err(err)?)
            .keep_aspect_ratio(keep_aspect_ratio)
            .include_crowd(include_crowd)
            .box_options(targets.box_options());
        let it = py
            .detach(|| c.build(b, datagen.config().dtype))
            .map_err(|e| to_pyerr(py, python_names(e), Some(&self.errors)))?;
        Ok(PyIter::new(it, self.errors.clone()).with_max_boxes(max_boxes))
    }

    /// Keras' `fit(x, augment, rounds, seed)`.
    #[pyo3(signature = (x, augment=false, rounds=1, seed=None))]
    fn fit(
        &self,
        x: &Bound<'_, PyAny>,
        augment: bool,
        rounds: i64,
        seed: Option<i128>,
    ) -> PyResult<()> {
        let py = x.py();
        let opts = FitOptions {
            augment,
            rounds: count("rounds", rounds)? as usize,
            seed: seed.map(|s| count("seed", s)).transpose()?,
        };
        // Fit a copy without holding the lock (the fit runs without the GIL), then swap.
        let mut datagen = self.current();
        transforms::fit(&mut datagen, x, opts)?.map_err(|e| to_pyerr(py, e, None))?;
        *self.datagen.write().unwrap_or_else(|e| e.into_inner()) = datagen;
        Ok(())
    }

    /// The fitted `mean` and `std` (one value per channel) and `zca_whitening_matrix`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let datagen = self.current();
        let stats = datagen.stats();
        d.set_item(
            "mean",
            stats
                .mean
                .clone()
                .map(|v| owned_to_numpy(py, Array1::from(v))),
        )?;
        d.set_item(
            "std",
            stats
                .std
                .clone()
                .map(|v| owned_to_numpy(py, Array1::from(v))),
        )?;
        let zca = stats
            .zca_whitening_matrix
            .as_ref()
            .map(|m| owned_to_numpy(py, (**m).clone()));
        d.set_item("zca_whitening_matrix", zca)?;
        Ok(d)
    }

    /// Keras' `standardize(x)`, in place on a float32/float64 image or batch.
    fn standardize(&self, x: &Bound<'_, PyAny>) -> PyResult<()> {
        let datagen = self.current();
        transforms::standardize(&datagen, x)?.map_err(|e| to_pyerr(x.py(), e, Some(&self.errors)))
    }

    /// Keras' `get_random_transform`, as JSON with Keras' keys.
    #[pyo3(signature = (height, width, seed=None))]
    fn get_random_transform(
        &self,
        height: i64,
        width: i64,
        seed: Option<i128>,
    ) -> PyResult<String> {
        let seed = seed.map(|s| count("seed", s)).transpose()?;
        let (h, w) = (count("img_shape", height)?, count("img_shape", width)?);
        let params = transforms::random_params(&self.current(), h as usize, w as usize, seed);
        serde_json::to_string(&params).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Keras' `apply_transform(x, transform_parameters)`; `params` is JSON with Keras' keys.
    fn apply_transform(&self, x: &Bound<'_, PyAny>, params: &str) -> PyResult<Py<PyAny>> {
        let params: TransformParams = serde_json::from_str(params)
            .map_err(|e| invalid("transform_parameters", params, &e.to_string()))?;
        let datagen = self.current();
        transforms::apply(x.py(), &datagen, x, &params)?.map_err(|e| to_pyerr(x.py(), e, None))
    }

    /// Replaces the fitted statistics (e.g. restored by unpickling).
    #[pyo3(signature = (mean, std, zca_whitening_matrix))]
    fn set_stats(
        &self,
        mean: Option<Vec<f32>>,
        std: Option<Vec<f32>>,
        zca_whitening_matrix: Option<numpy::PyReadonlyArray2<'_, f64>>,
    ) {
        let zca = zca_whitening_matrix.map(|m| Arc::new(m.as_array().to_owned()));
        let stats = augflow::generator::FitStats {
            mean,
            std,
            zca_whitening_matrix: zca,
        };
        self.datagen
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set_stats(stats);
    }
}
