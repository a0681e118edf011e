"""Keras 2.9's image utilities (``keras.utils.image_utils``, spec §15): ``array_to_img``,
``img_to_array``, ``load_img``, ``save_img`` and ``smart_resize``.

As in Keras, ``array_to_img`` and ``load_img`` return PIL images and ``save_img`` writes
through PIL, so their results are Keras' own, resampling filters included. Pillow is imported
only when one of them is called.
"""

import io
import os
import pathlib
import warnings

import numpy as np

# Keras' `_PIL_INTERPOLATION_METHODS`, in its order (the order of its error message).
_PIL_FILTERS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
# tf.image.resize's methods that augflow's `smart_resize` does not implement.
_TF_ONLY_METHODS = ("bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _pil_image(function):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            f"Could not import PIL.Image. The use of `{function}` requires PIL: "
            "pip install Pillow"
        ) from None
    return Image


def _data_format(data_format, word):
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            f"{word} data_format: {data_format!r}; expected \"channels_last\" or "
            "\"channels_first\""
        )
    return data_format


def _stretch_to_255(x):
    """``array_to_img``'s ``scale=True``: ``x - min``, divided by the new max when it is
    not 0, times 255, in ``x``'s float type. Returns a new array."""
    x = x - np.min(x)
    x_max = np.max(x)
    if x_max != 0:
        x /= x_max
    x *= 255
    return x


def _check_image(x):
    if x.ndim != 3:
        raise ValueError(
            "Expected image array to have rank 3 (single image). "
            f"Got array with shape: {x.shape}"
        )


def _check_channels(c):
    if c not in (1, 3, 4):
        raise ValueError(
            f"Unsupported channel number: {c}; an image has 1 (L), 3 (RGB) or 4 (RGBA) channels"
        )


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Converts a 3D numpy array to a PIL Image instance.

    Args:
        x: Input data, in any form that can be converted to a numpy array (rank 3).
        data_format: ``"channels_first"`` or ``"channels_last"`` (None: channels_last).
        scale: Whether to rescale the image such that minimum and maximum values are 0 and
            255 respectively.
        dtype: Dtype to convert ``x`` to first (None: float32).

    Returns:
        A PIL Image instance: RGBA for 4 channels, RGB for 3, L (or I when a value exceeds
        255) for 1.

    Raises:
        ImportError: if PIL is not available.
        ValueError: if the input has the wrong rank, data format or number of channels.
    """
    Image = _pil_image("array_to_img")
    data_format = _data_format(data_format, "Invalid")
    x = np.asarray(x, dtype="float32" if dtype is None else dtype)
    _check_image(x)
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = _stretch_to_255(x)
    c = x.shape[2]
    _check_channels(c)
    if c == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"))  # mode I
        return Image.fromarray(x[:, :, 0].astype("uint8"))  # mode L
    return Image.fromarray(x.astype("uint8"))  # RGB or RGBA


def img_to_array(img, data_format=None, dtype=None):
    """Converts a PIL Image instance (or anything numpy can read) to a numpy array.

    Args:
        img: Input PIL Image instance.
        data_format: ``"channels_first"`` or ``"channels_last"`` (None: channels_last).
        dtype: Dtype of the result (None: float32).

    Returns:
        A rank-3 numpy array: ``(H, W, C)``, or ``(C, H, W)`` for channels_first; a one-band
        image gets one channel.

    Raises:
        ValueError: if the data format or the image's shape is not supported.
    """
    data_format = _data_format(data_format, "Unknown")
    x = np.asarray(img, dtype="float32" if dtype is None else dtype)
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        shape = (1,) + x.shape if data_format == "channels_first" else x.shape + (1,)
        x = x.reshape(shape)
    else:
        raise ValueError(
            f"Unsupported image shape: {x.shape}; expected (H, W) or (H, W, C)"
        )
    return x


def _aspect_crop(h, w, th, tw):
    """The centred crop of an ``h x w`` image with the aspect ratio of ``th x tw``:
    ``(top, left, height, width)`` (``keep_aspect_ratio``, spec §15)."""
    crop_h = min(h, (w * th) // tw)
    crop_w = min(w, (h * tw) // th)
    return (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w


def _open(Image, path):
    if isinstance(path, io.BytesIO):
        return Image.open(path)
    if isinstance(path, (pathlib.Path, bytes, str, os.PathLike)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            return Image.open(io.BytesIO(f.read()))
    raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")


def _convert(img, color_mode):
    if color_mode == "grayscale":
        # A grayscale file of 16 or 32 bits keeps its depth, as in Keras.
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode in ("rgba", "rgb"):
        mode = color_mode.upper()
        return img if img.mode == mode else img.convert(mode)
    raise ValueError(
        f'color_mode must be "grayscale", "rgb", or "rgba"; got {color_mode!r}'
    )


def load_img(
    path,
    grayscale=False,
    color_mode="rgb",
    target_size=None,
    interpolation="nearest",
    keep_aspect_ratio=False,
):
    """Loads an image into PIL format (Keras' ``load_img``, decoded by Pillow).

    Args:
        path: Path to the image file (str, bytes, ``os.PathLike``) or an ``io.BytesIO``.
        grayscale: Deprecated; use ``color_mode="grayscale"``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``: the mode of the result.
        target_size: None (the file's size) or ``(img_height, img_width)``.
        interpolation: PIL filter used when the size differs: ``"nearest"``,
            ``"bilinear"``, ``"bicubic"``, ``"hamming"``, ``"box"`` or ``"lanczos"``.
        keep_aspect_ratio: Crop the centre of the image to the aspect ratio of
            ``target_size`` before resizing.

    Returns:
        A PIL Image instance.

    Raises:
        ImportError: if PIL is not available.
        TypeError: if ``path`` is not path-like nor an ``io.BytesIO``.
        ValueError: if ``color_mode`` or ``interpolation`` is not supported.
    """
    if grayscale:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"')
        color_mode = "grayscale"
    Image = _pil_image("load_img")
    img = _convert(_open(Image, path), color_mode)
    if target_size is None:
        return img
    th, tw = target_size
    if img.size == (tw, th):
        return img
    if interpolation not in _PIL_FILTERS:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported methods "
            f"are {', '.join(_PIL_FILTERS)}"
        )
    resample = getattr(Image.Resampling, interpolation.upper())
    if not keep_aspect_ratio:
        return img.resize((tw, th), resample)
    w, h = img.size
    top, left, crop_h, crop_w = _aspect_crop(h, w, th, tw)
    return img.resize((tw, th), resample, box=(left, top, left + crop_w, top + crop_h))


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image stored as a numpy array to a path or file object.

    Args:
        path: Path or file object.
        x: Numpy array (rank 3).
        data_format: ``"channels_first"`` or ``"channels_last"`` (None: channels_last).
        file_format: Optional file format (``"png"``, ``"jpeg"``, ...); None: from the
            file name.
        scale: Whether to rescale image values to be within ``[0, 255]``.
        **kwargs: Additional keyword arguments passed to ``PIL.Image.save()``.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format in ("jpg", "jpeg"):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def smart_resize(x, size, interpolation="bilinear"):
    """Resizes images to a target size without aspect ratio distortion (Keras'
    ``smart_resize``): crops the largest centred window with the aspect ratio of ``size``,
    then resizes it as ``tf.image.resize`` does (half-pixel centres, no antialiasing, the
    arithmetic in float32), without TensorFlow.

    Args:
        x: Image ``(height, width, channels)`` or batch ``(batch, height, width, channels)``.
        size: ``(height, width)``, the target size.
        interpolation: ``"bilinear"`` (float32 result) or ``"nearest"`` (the input's dtype).
            TensorFlow's other methods raise ``NotImplementedError``.

    Returns:
        A numpy array of shape ``(size[0], size[1], channels)`` (with the batch axis first
        for a batch).
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    img = np.asarray(x)
    if img.ndim not in (3, 4):
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or "
            "`(batch_size, height, width, channels)`, but got input with incorrect rank, "
            f"of shape {img.shape}."
        )
    if interpolation in _TF_ONLY_METHODS:
        raise NotImplementedError(
            f"smart_resize: interpolation={interpolation!r} is a tf.image.resize method "
            "augflow does not implement; use \"bilinear\" or \"nearest\""
        )
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(
            f"invalid `interpolation`: got {interpolation!r}; expected \"bilinear\" or "
            "\"nearest\""
        )
    th, tw = (int(s) for s in size)
    if th <= 0 or tw <= 0:
        raise ValueError(f"invalid `size`: got {size}; expected two integers >= 1")
    h, w = img.shape[-3], img.shape[-2]
    f32 = np.float32
    # Keras computes the crop through float32 (the same numbers as `_aspect_crop` for
    # sizes below 2**24).
    crop_h = min(h, int(f32(w * th) / f32(tw)))
    crop_w = min(w, int(f32(h * tw) / f32(th)))
    if crop_h == 0 or crop_w == 0:
        raise ValueError(
            f"invalid `size`: got {size} for an image of {h}x{w}; the crop with its aspect "
            f"ratio is {crop_h}x{crop_w}, empty"
        )
    top, left = int(f32(h - crop_h) / f32(2)), int(f32(w - crop_w) / f32(2))
    img = img[..., top : top + crop_h, left : left + crop_w, :]
    if interpolation == "nearest":
        rows = _nearest_taps(crop_h, th)
        cols = _nearest_taps(crop_w, tw)
        return img[..., rows[:, None], cols[None, :], :]
    return _bilinear(img.astype(np.float32, copy=False), th, tw)


def _nearest_taps(n_in, n_out):
    """tf.image.resize's nearest source index (half-pixel centres): ``floor((i + 0.5) *
    scale)`` in float32, clamped."""
    scale = np.float32(n_in) / np.float32(n_out)
    i = (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale
    return np.clip(np.floor(i).astype(np.int64), 0, n_in - 1)


def _bilinear_taps(n_in, n_out):
    """tf.image.resize's bilinear taps and weights along one axis (float32)."""
    scale = np.float32(n_in) / np.float32(n_out)
    pos = (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    low = np.floor(pos)
    lower = np.maximum(low.astype(np.int64), 0)
    upper = np.minimum(np.ceil(pos).astype(np.int64), n_in - 1)
    return lower, upper, (pos - low).astype(np.float32)


def _bilinear(img, th, tw):
    y0, y1, wy = _bilinear_taps(img.shape[-3], th)
    x0, x1, wx = _bilinear_taps(img.shape[-2], tw)
    wx = wx[:, None]
    top, bottom = img[..., y0, :, :], img[..., y1, :, :]
    top = top[..., x0, :] + (top[..., x1, :] - top[..., x0, :]) * wx
    bottom = bottom[..., x0, :] + (bottom[..., x1, :] - bottom[..., x0, :]) * wx
    return top + (bottom - top) * wy[:, None, None]
