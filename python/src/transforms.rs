//! Keras' per-image methods of `ImageDataGenerator`: `fit`, `standardize`,
//! `get_random_transform`, `apply_transform`, `random_transform`, run without the GIL.

use augflow::generator::FitOptions;
use augflow::rng::{os_seed, sample_rng};
use augflow::transform::{OutPixel, Pixel};
use augflow::{ImageDataGenerator, TransformParams};
use ndarray::{Array3, Ix3, Ix4};
use numpy::{Element, PyArrayDyn, PyArrayMethods};
use pyo3::prelude::*;

use crate::convert::{owned_to_numpy, shape_of};
use crate::errors::invalid;

/// Keras' `fit(x, augment, rounds, seed)` on a 4-D array of any pixel type.
pub fn fit(
    datagen: &mut ImageDataGenerator,
    x: &Bound<'_, PyAny>,
    opts: FitOptions,
) -> PyResult<augflow::Result<()>> {
    fn go<T: Pixel + Element>(
        d: &mut ImageDataGenerator,
        x: &Bound<'_, PyAny>,
        opts: FitOptions,
    ) -> Option<PyResult<augflow::Result<()>>> {
        let a = x.cast::<PyArrayDyn<T>>().ok()?;
        Some((|| {
            let ro = a
                .try_readonly()
                .map_err(|e| invalid("x", e, "an array not borrowed for writing"))?;
            let view = ro
                .as_array()
                .into_dimensionality::<Ix4>()
                .map_err(|_| invalid("x", shape_of(x), "a rank-4 array of images (N, H, W, C)"))?;
            Ok(x.py().detach(|| d.fit_with(view, opts)))
        })())
    }
    go::<u8>(datagen, x, opts)
        .or_else(|| go::<u16>(datagen, x, opts))
        .or_else(|| go::<f32>(datagen, x, opts))
        .or_else(|| go::<f64>(datagen, x, opts))
        .unwrap_or_else(|| {
            Err(invalid(
                "x",
                shape_of(x),
                "an array of uint8, uint16, float32 or float64",
            ))
        })
}

/// Keras' `standardize(x)`, in place on a float32 or float64 image or batch.
pub fn standardize(
    datagen: &ImageDataGenerator,
    x: &Bound<'_, PyAny>,
) -> PyResult<augflow::Result<()>> {
    fn go<O: OutPixel + Element>(
        d: &ImageDataGenerator,
        x: &Bound<'_, PyAny>,
    ) -> Option<PyResult<augflow::Result<()>>> {
        let a = x.cast::<PyArrayDyn<O>>().ok()?;
        Some((|| {
            let mut rw = a
                .try_readwrite()
                .map_err(|e| invalid("x", e, "a writable array"))?;
            let mut view = rw.as_array_mut();
            Ok(x.py().detach(|| match view.ndim() {
                3 => d.standardize(
                    view.view_mut()
                        .into_dimensionality::<Ix3>()
                        .expect("rank 3"),
                ),
                4 => d.standardize_batch(
                    view.view_mut()
                        .into_dimensionality::<Ix4>()
                        .expect("rank 4"),
                ),
                _ => Err(augflow::Error::Shape {
                    name: "x",
                    shape: view.shape().to_vec(),
                    expected: "an image (rank 3) or a batch of images (rank 4)".into(),
                }),
            }))
        })())
    }
    go::<f32>(datagen, x)
        .or_else(|| go::<f64>(datagen, x))
        .unwrap_or_else(|| Err(invalid("x", shape_of(x), "a float32 or float64 array")))
}

/// Keras' `get_random_transform(img_shape, seed)`: the parameters, as a JSON object with
/// Keras' keys. Without a seed, one is drawn from the OS.
pub fn random_params(
    datagen: &ImageDataGenerator,
    height: usize,
    width: usize,
    seed: Option<u64>,
) -> TransformParams {
    let mut rng = sample_rng(seed.unwrap_or_else(os_seed), 0, 0);
    datagen.random_transform_params(height, width, &mut rng)
}

/// Keras' `apply_transform(x, params)` on one image of any pixel type; the result has the
/// generator's dtype.
pub fn apply(
    py: Python<'_>,
    datagen: &ImageDataGenerator,
    x: &Bound<'_, PyAny>,
    params: &TransformParams,
) -> PyResult<augflow::Result<Py<PyAny>>> {
    let f64_out = datagen.config().dtype == augflow::DType::F64;
    fn go<T: Pixel + Element, O: OutPixel + Element>(
        py: Python<'_>,
        d: &ImageDataGenerator,
        x: &Bound<'_, PyAny>,
        p: &TransformParams,
    ) -> Option<PyResult<augflow::Result<Py<PyAny>>>> {
        let a = x.cast::<PyArrayDyn<T>>().ok()?;
        Some((|| {
            let ro = a
                .try_readonly()
                .map_err(|e| invalid("x", e, "an array not borrowed for writing"))?;
            let view = ro
                .as_array()
                .into_dimensionality::<Ix3>()
                .map_err(|_| invalid("x", shape_of(x), "a rank-3 image (H, W, C)"))?;
            let out: augflow::Result<Array3<O>> = py.detach(|| d.apply_transform(view, p));
            Ok(out.map(|o| owned_to_numpy(py, o)))
        })())
    }
    by_output(
        py,
        datagen,
        x,
        params,
        f64_out,
        go::<u8, f32>,
        go::<u8, f64>,
    )
    .or_else(|| {
        by_output(
            py,
            datagen,
            x,
            params,
            f64_out,
            go::<u16, f32>,
            go::<u16, f64>,
        )
    })
    .or_else(|| {
        by_output(
            py,
            datagen,
            x,
            params,
            f64_out,
            go::<f32, f32>,
            go::<f32, f64>,
        )
    })
    .or_else(|| {
        by_output(
            py,
            datagen,
            x,
            params,
            f64_out,
            go::<f64, f32>,
            go::<f64, f64>,
        )
    })
    .unwrap_or_else(|| {
        Err(invalid(
            "x",
            shape_of(x),
            "an array of uint8, uint16, float32 or float64",
        ))
    })
}

type Go<'py> = fn(
    Python<'py>,
    &ImageDataGenerator,
    &Bound<'py, PyAny>,
    &TransformParams,
) -> Option<PyResult<augflow::Result<Py<PyAny>>>>;

/// Calls the `float32` or `float64` output variant of one input type.
fn by_output<'py>(
    py: Python<'py>,
    d: &ImageDataGenerator,
    x: &Bound<'py, PyAny>,
    p: &TransformParams,
    f64_out: bool,
    f32_variant: Go<'py>,
    f64_variant: Go<'py>,
) -> Option<PyResult<augflow::Result<Py<PyAny>>>> {
    if f64_out {
        f64_variant(py, d, x, p)
    } else {
        f32_variant(py, d, x, p)
    }
}
