//! The kernels behind Keras' module-level functions (`apply_affine_transform`,
//! `apply_channel_shift`, `apply_brightness_shift` and the `random_*` helpers): one image,
//! the library's warp and photometric code, no GIL while it runs.

use augflow::transform::{
    OutPixel, Pixel, Warp, WarpOptions, apply_brightness, apply_channel_shift, sampling_map,
};
use augflow::{DataFormat, FillMode, Geometry, Interpolation, TransformParams};
use ndarray::{Array3, Ix3};
use numpy::{Element, PyArrayDyn, PyArrayMethods};
use pyo3::prelude::*;

use crate::convert::{owned_to_numpy, shape_of};
use crate::errors::{invalid, to_pyerr};

/// `(theta, tx, ty, shear, zx, zy)`, Keras' arguments (spec §5.2).
type Factors = (f64, f64, f64, f64, f64, f64);

/// Warps one rank-3 image (`channels_first`: `(C, H, W)`, else `(H, W, C)`) with scipy's
/// arithmetic, bit for bit (spec §5.3–5.5). The result is `float32` for a `float32` input and
/// `float64` otherwise; `None` when no factor is active (Keras then returns `x` itself).
#[pyfunction]
#[pyo3(signature = (x, factors, fill_mode, cval, order, channels_first))]
pub fn affine_transform(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    factors: Factors,
    fill_mode: &str,
    cval: f64,
    order: i64,
    channels_first: bool,
) -> PyResult<Option<Py<PyAny>>> {
    let err = |e| to_pyerr(py, e, None);
    let (theta, tx, ty, shear, zx, zy) = factors;
    let params = TransformParams {
        theta,
        tx,
        ty,
        shear,
        zx,
        zy,
        ..Default::default()
    };
    params.validate().map_err(err)?;
    let fill_mode: FillMode = fill_mode.parse().map_err(err)?;
    let order =
        u32::try_from(order).map_err(|_| invalid("order", order, "0 (nearest) or 1 (bilinear)"))?;
    let interpolation = Interpolation::from_order(order).map_err(err)?;
    let format = if channels_first {
        DataFormat::ChannelsFirst
    } else {
        DataFormat::ChannelsLast
    };
    let shape = image_shape(x)?;
    let (h, w, _) = format.hwc(shape);
    let Some(map) = sampling_map(&params, h, w, Geometry::Keras) else {
        return Ok(None);
    };
    let warp = Warp {
        map: Some(map),
        ..Default::default()
    };
    let opts = WarpOptions::default()
        .fill_mode(fill_mode)
        .cval(cval)
        .interpolation(interpolation)
        .data_format(format);
    let out = warp_any(py, x, &warp, &opts)?.map_err(err)?;
    Ok(Some(out))
}

/// The shape of a rank-3 numpy array, or a `ValueError` naming `x`.
fn image_shape(x: &Bound<'_, PyAny>) -> PyResult<[usize; 3]> {
    let a = x
        .cast::<numpy::PyUntypedArray>()
        .map_err(|_| invalid("x", x.get_type(), "a numpy array"))?;
    let s = numpy::PyUntypedArrayMethods::shape(a);
    match s {
        [a, b, c] => Ok([*a, *b, *c]),
        _ => Err(invalid("x", shape_of(x), "a rank-3 image")),
    }
}

type Warped = augflow::Result<Py<PyAny>>;

/// [`augflow::transform::warp`] on an array of any pixel type augflow reads.
fn warp_any(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    warp: &Warp,
    opts: &WarpOptions,
) -> PyResult<Warped> {
    fn go<T: Pixel + Element, O: OutPixel + Element>(
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        warp: &Warp,
        opts: &WarpOptions,
    ) -> Option<PyResult<Warped>> {
        let a = x.cast::<PyArrayDyn<T>>().ok()?;
        Some((|| {
            let ro = a
                .try_readonly()
                .map_err(|e| invalid("x", e, "an array not borrowed for writing"))?;
            let view = ro
                .as_array()
                .into_dimensionality::<Ix3>()
                .map_err(|_| invalid("x", shape_of(x), "a rank-3 image"))?;
            let out: augflow::Result<Array3<O>> =
                py.detach(|| augflow::transform::warp(view, warp, opts));
            Ok(out.map(|o| owned_to_numpy(py, o)))
        })())
    }
    go::<f32, f32>(py, x, warp, opts)
        .or_else(|| go::<f64, f64>(py, x, warp, opts))
        .or_else(|| go::<u8, f64>(py, x, warp, opts))
        .or_else(|| go::<u16, f64>(py, x, warp, opts))
        .unwrap_or_else(|| {
            Err(invalid(
                "x",
                shape_of(x),
                "an array of uint8, uint16, float32 or float64",
            ))
        })
}

/// Keras' channel shift (spec §6), in place on a rank-3 `float32` or `float64` array:
/// `clip(x + intensity, min(x), max(x))`.
#[pyfunction]
pub fn channel_shift(x: &Bound<'_, PyAny>, intensity: f64) -> PyResult<()> {
    if !intensity.is_finite() {
        return Err(invalid("intensity", intensity, "a finite number"));
    }
    in_place(
        x,
        |v| apply_channel_shift(v, intensity),
        |v| apply_channel_shift(v, intensity),
    )
}

/// Keras' brightness through PIL (spec §8), in place on a rank-3 `(H, W, C)` array with
/// 1, 3 or 4 channels (Keras passes `float32`): bytes truncated, blended with black.
#[pyfunction]
pub fn brightness(py: Python<'_>, x: &Bound<'_, PyAny>, factor: f64) -> PyResult<()> {
    let last = DataFormat::ChannelsLast;
    in_place(
        x,
        |v| apply_brightness(v, factor, true, last),
        |v| apply_brightness(v, factor, true, last),
    )?
    .map_err(|e| to_pyerr(py, e, None))
}

/// Runs `f32_fn` or `f64_fn` on a writable rank-3 array, without the GIL.
fn in_place<R: Send>(
    x: &Bound<'_, PyAny>,
    f32_fn: impl FnOnce(ndarray::ArrayViewMut3<'_, f32>) -> R + Send,
    f64_fn: impl FnOnce(ndarray::ArrayViewMut3<'_, f64>) -> R + Send,
) -> PyResult<R> {
    fn go<T: Element, R: Send>(
        x: &Bound<'_, PyAny>,
        f: impl FnOnce(ndarray::ArrayViewMut3<'_, T>) -> R + Send,
    ) -> PyResult<R> {
        let a = x.cast::<PyArrayDyn<T>>()?;
        let mut rw = a
            .try_readwrite()
            .map_err(|e| invalid("x", e, "a writable array"))?;
        let view = rw
            .as_array_mut()
            .into_dimensionality::<Ix3>()
            .map_err(|_| invalid("x", shape_of(x), "a rank-3 image"))?;
        Ok(x.py().detach(|| f(view)))
    }
    if x.cast::<PyArrayDyn<f32>>().is_ok() {
        go(x, f32_fn)
    } else if x.cast::<PyArrayDyn<f64>>().is_ok() {
        go(x, f64_fn)
    } else {
        Err(invalid("x", shape_of(x), "a float32 or float64 array"))
    }
}
