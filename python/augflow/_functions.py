"""Keras 2.9's module-level transforms of one image (``keras.preprocessing.image``):
``apply_affine_transform``, ``apply_channel_shift``, ``apply_brightness_shift`` and the
``random_*`` helpers.

The pixels are augflow's kernels (the warp reproduces scipy's ``affine_transform`` bit for
bit, spec §5.5); the ``random_*`` helpers draw their parameters from numpy's global
generator (``np.random.uniform``) exactly as Keras does, so ``np.random.seed`` makes them
repeatable and gives Keras' draws.
"""

import numpy as np

from . import _augflow
from ._imageio import _check_channels, _check_image, _stretch_to_255


def _check_axes(row_axis, col_axis, channel_axis):
    axes = {row_axis, col_axis, channel_axis}
    if len(axes) != 3:
        raise ValueError(
            "'row_axis', 'col_axis', and 'channel_axis' must be distinct; got "
            f"{row_axis}, {col_axis}, {channel_axis}"
        )
    invalid = axes.difference({0, 1, 2})
    if invalid:
        raise ValueError(
            f"Invalid axis' indices: {invalid}; the axes of a rank-3 image are 0, 1 and 2"
        )


def _rank3(x):
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(
            "Input arrays must be multi-channel 2D images: `x` has shape "
            f"{x.shape}; expected a rank-3 image"
        )
    return x


def _cast_like(out, dtype):
    """The warped values in the input's dtype, as scipy writes them: integers rounded half
    away from zero and clipped to the type's range."""
    if out.dtype == dtype:
        return out
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        out = np.clip(np.trunc(out + np.copysign(0.5, out)), info.min, info.max)
    return out.astype(dtype)


def apply_affine_transform(
    x,
    theta=0,
    tx=0,
    ty=0,
    shear=0,
    zx=1,
    zy=1,
    row_axis=1,
    col_axis=2,
    channel_axis=0,
    fill_mode="nearest",
    cval=0.0,
    order=1,
):
    """Applies an affine transformation specified by the parameters given.

    Keras 2.9's geometry and scipy's resampling, bit for bit (spec §5): the pivot is
    ``(H/2 - 0.5, W/2 - 0.5)`` taken as (column, row), which is the centre only for square
    images, ``tx > 0`` moves the content left and ``ty > 0`` up.

    Args:
        x: 3D numpy array, a single image. Mind the default axes: ``(C, H, W)``.
        theta: Rotation angle in degrees (counter-clockwise).
        tx: Width shift (pixels).
        ty: Height shift (pixels).
        shear: Shear angle in degrees.
        zx: Zoom in x direction (``> 1`` zooms out).
        zy: Zoom in y direction.
        row_axis: Index of the axis for rows.
        col_axis: Index of the axis for columns.
        channel_axis: Index of the axis for channels: 0 or 2.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        cval: Value used for points outside the boundaries with ``"constant"``.
        order: Interpolation order: 0 (nearest) or 1 (bilinear). Orders 2-5 raise
            ``NotImplementedError``.

    Returns:
        The transformed image, of ``x``'s dtype (integers rounded as scipy rounds them);
        ``x`` itself when no parameter is active.
    """
    _check_axes(row_axis, col_axis, channel_axis)
    x = _rank3(x)
    if channel_axis not in (0, 2):
        raise ValueError(
            "Channels are allowed and the first and last dimensions: `channel_axis` is "
            f"{channel_axis}; expected 0 or 2"
        )
    if x.dtype.kind not in "iuf":
        raise ValueError(
            f"invalid `x`: got an array of dtype {x.dtype}; expected integers or floats"
        )
    first = channel_axis == 0
    perm = (0, row_axis, col_axis) if first else (row_axis, col_axis, 2)
    src = x if x.dtype in (np.uint8, np.uint16, np.float32, np.float64) else x.astype(np.float64)
    factors = tuple(float(v) for v in (theta, tx, ty, shear, zx, zy))
    out = _augflow.affine_transform(
        src.transpose(perm), factors, fill_mode, float(cval), order, first
    )
    if out is None:
        return x
    return _cast_like(out.transpose(np.argsort(perm)), x.dtype)


def _affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, **f):
    return apply_affine_transform(
        x,
        row_axis=row_axis,
        col_axis=col_axis,
        channel_axis=channel_axis,
        fill_mode=fill_mode,
        cval=cval,
        order=interpolation_order,
        **f,
    )


def random_rotation(
    x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):
    """Performs a random rotation of a numpy image tensor.

    ``theta = np.random.uniform(-rg, rg)`` (numpy's global generator, as in Keras), then
    :func:`apply_affine_transform`.

    Args:
        x: Input tensor. Must be 3D.
        rg: Rotation range, in degrees.
        row_axis, col_axis, channel_axis: Axes of ``x`` (default ``(C, H, W)``).
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        cval: Value used for points outside the boundaries with ``"constant"``.
        interpolation_order: 0 or 1.

    Returns:
        Rotated numpy image tensor.
    """
    theta = np.random.uniform(-rg, rg)
    return _affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   theta=theta)


def random_shift(
    x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):
    """Performs a random spatial shift of a numpy image tensor.

    As in Keras 2.9: ``tx = np.random.uniform(-hrg, hrg) * H`` is drawn first, then
    ``ty = np.random.uniform(-wrg, wrg) * W``; ``tx`` moves the content horizontally, so
    ``hrg`` gives horizontal shifts and ``wrg`` vertical ones (spec §11, §5.4).

    Args:
        x: Input tensor. Must be 3D.
        wrg: Width shift range, as a float fraction of the width.
        hrg: Height shift range, as a float fraction of the height.
        row_axis, col_axis, channel_axis: Axes of ``x`` (default ``(C, H, W)``).
        fill_mode, cval, interpolation_order: As in :func:`random_rotation`.

    Returns:
        Shifted numpy image tensor.
    """
    x = _rank3(x)
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return _affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   tx=tx, ty=ty)


def random_shear(
    x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):
    """Performs a random spatial shear of a numpy image tensor.

    ``shear = np.random.uniform(-intensity, intensity)`` degrees, then
    :func:`apply_affine_transform`.

    Args:
        x: Input tensor. Must be 3D.
        intensity: Transformation intensity in degrees.
        row_axis, col_axis, channel_axis: Axes of ``x`` (default ``(C, H, W)``).
        fill_mode, cval, interpolation_order: As in :func:`random_rotation`.

    Returns:
        Sheared numpy image tensor.
    """
    shear = np.random.uniform(-intensity, intensity)
    return _affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   shear=shear)


def _check_pair(name, value):
    if len(value) != 2:
        raise ValueError(
            f"`{name}` should be a tuple or list of two floats. Received: {value}"
        )


def random_zoom(
    x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
    interpolation_order=1,
):
    """Performs a random spatial zoom of a numpy image tensor.

    ``zx, zy = np.random.uniform(lo, hi, 2)`` unless ``zoom_range`` is ``(1, 1)`` (then
    nothing is drawn), then :func:`apply_affine_transform`.

    Args:
        x: Input tensor. Must be 3D.
        zoom_range: Tuple of floats; zoom range for width and height.
        row_axis, col_axis, channel_axis: Axes of ``x`` (default ``(C, H, W)``).
        fill_mode, cval, interpolation_order: As in :func:`random_rotation`.

    Returns:
        Zoomed numpy image tensor.

    Raises:
        ValueError: if ``zoom_range`` isn't a tuple of two floats.
    """
    _check_pair("zoom_range", zoom_range)
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return _affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                   zx=zx, zy=zy)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Performs a channel shift: ``clip(x + intensity, min(x), max(x))``, the same shift for
    every channel, the min and max over the whole image (spec §6).

    Args:
        x: Input tensor. Must be 3D.
        intensity: Transformation intensity.
        channel_axis: Index of axis for channels in the input tensor.

    Returns:
        A new array: float32 for a float32 input, float64 otherwise.
    """
    x = _rank3(x)
    if not -3 <= channel_axis < 3:
        raise ValueError(
            f"invalid `channel_axis`: got {channel_axis!r}; expected an axis of a rank-3 "
            "image (0, 1 or 2)"
        )
    out = np.array(x, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    _augflow.channel_shift(out, float(intensity))
    return out


def random_channel_shift(x, intensity_range, channel_axis=0):
    """Performs a random channel shift: ``np.random.uniform(-intensity_range,
    intensity_range)``, then :func:`apply_channel_shift`.

    Args:
        x: Input tensor. Must be 3D.
        intensity_range: Transformation intensity.
        channel_axis: Index of axis for channels in the input tensor.

    Returns:
        Numpy image tensor.
    """
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis)


def apply_brightness_shift(x, brightness, scale=True):
    """Performs a brightness shift, as Keras 2.9 does it through PIL (spec §8), without
    needing PIL.

    The image (channels last, 1, 3 or 4 channels) is cast to float32, stretched to 0..255
    when ``scale`` is true or its values leave 0..255, truncated to bytes and blended with
    black by ``brightness`` (1 keeps it, 0 makes it black, alpha untouched). With
    ``scale=False`` an image outside 0..255 is mapped back to its range.

    Args:
        x: Input tensor. Must be 3D, channels last.
        brightness: Float. The new brightness value.
        scale: Whether to rescale the image such that minimum and maximum values are 0 and
            255 respectively.

    Returns:
        Numpy image tensor (float32).

    Raises:
        ValueError: if the image is not rank 3 or has another number of channels.
    """
    x = np.asarray(x)
    _check_image(x)
    _check_channels(x.shape[2])
    x_min, x_max = np.min(x), np.max(x)
    local_scale = (x_min < 0) or (x_max > 255)
    img = np.array(x, dtype=np.float32)
    if local_scale or scale:
        img = _stretch_to_255(img)
    _augflow.brightness(img, float(brightness))
    if not scale and local_scale:
        img = img / 255 * (x_max - x_min) + x_min
    return img


def random_brightness(x, brightness_range, scale=True):
    """Performs a random brightness shift: ``np.random.uniform(*brightness_range)``, then
    :func:`apply_brightness_shift`.

    Args:
        x: Input tensor. Must be 3D.
        brightness_range: Tuple of floats; brightness range.
        scale: Whether to rescale the image such that minimum and maximum values are 0 and
            255 respectively.

    Returns:
        Numpy image tensor.

    Raises:
        ValueError: if ``brightness_range`` isn't a tuple of two floats.
    """
    if len(brightness_range) != 2:
        raise ValueError(
            "`brightness_range should be tuple or list of two floats. "
            f"Received: {brightness_range}"
        )
    u = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u, scale)
