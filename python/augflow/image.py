"""Keras' ``ImageDataGenerator`` and its iterators, backed by augflow's Rust batch engine.

This layer only maps arguments: Keras' names and defaults in, numpy arrays out. Every
check, every random draw and every pixel is augflow's.
"""

import json
import os
import threading
import warnings

import numpy as np

from . import _augflow
from ._augment import iterator_pipeline
from ._errors import SequenceIndexError
from ._iterator import Iterator, _integer, _shard
from ._targets import FlowTargets

__all__ = [
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "DirectoryIterator",
    "SequenceIndexError",
]

# Pixel types augflow reads as they are (a uint8 dataset stays uint8, without a copy).
_PIXEL_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)

# Constructor arguments that Keras treats as truth values.
_BOOL_ARGS = (
    "featurewise_center",
    "samplewise_center",
    "featurewise_std_normalization",
    "samplewise_std_normalization",
    "zca_whitening",
    "horizontal_flip",
    "vertical_flip",
)


def _jsonable(name, value):
    """``value`` as plain JSON data (numpy scalars and arrays, tuples become lists)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(name, v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(
        f"invalid `{name}`: got {value!r} of type {type(value).__name__}; "
        "expected a number, a string, a list of numbers or None"
    )


def _dtype_name(dtype):
    """Keras' ``dtype`` argument (a name, a numpy type or dtype) as a numpy name."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(
            f"invalid `dtype`: got {dtype!r}; expected \"float32\", \"float64\" or \"uint8\""
        ) from None


class ImageDataGenerator:
    """Generate batches of tensor image data with real-time data augmentation.

    Keras 2.9's ``ImageDataGenerator``, every argument under its name and with its default,
    plus ``geometry``: ``"corrected"`` (the default: the true image centre, and
    ``width_shift_range`` shifts horizontally) or ``"keras"`` (Keras 2.9's geometry,
    quirks included), and ``kernel``: ``"fast"`` (the default: scipy's sampling points and
    taps, ``float32`` weights, within about 1e-4 of scipy's values on a 0..255 scale) or
    ``"exact"`` (scipy's arithmetic bit for bit; with ``geometry="keras"``, Keras 2.9's
    numbers exactly). Bad values raise ``ValueError`` naming the argument, the value and
    what is accepted.

    Args:
        featurewise_center: Set input mean to 0 over the dataset, feature-wise.
        samplewise_center: Set each sample mean to 0.
        featurewise_std_normalization: Divide inputs by std of the dataset, feature-wise.
        samplewise_std_normalization: Divide each input by its std.
        zca_whitening: Apply ZCA whitening.
        zca_epsilon: Epsilon for ZCA whitening.
        rotation_range: Degree range for random rotations.
        width_shift_range: Float (fraction of width if < 1, pixels otherwise), int or list.
        height_shift_range: Float (fraction of height if < 1, pixels otherwise), int or list.
        brightness_range: Tuple or list of two floats: range of the brightness factor.
        shear_range: Shear angle in degrees, counter-clockwise.
        zoom_range: Float ``z`` for ``[1 - z, 1 + z]``, or ``[lower, upper]``.
        channel_shift_range: Range for random channel shifts.
        fill_mode: One of ``"constant"``, ``"nearest"``, ``"reflect"``, ``"wrap"``.
        cval: Value used for points outside the boundaries when ``fill_mode="constant"``.
        horizontal_flip: Randomly flip inputs horizontally.
        vertical_flip: Randomly flip inputs vertically.
        rescale: Rescaling factor, applied after all other transformations (None or 0: off).
        preprocessing_function: A callable run on each augmented image (a rank-3 numpy
            array); it returns an array of the same shape. An exception it raises comes back
            to the caller unchanged, traceback included.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        validation_split: Fraction of images reserved for validation (strictly in (0, 1)).
        interpolation_order: 0 (nearest) or 1 (bilinear) for the affine warp.
        dtype: Dtype of the generated arrays: ``"float32"`` (default), ``"float64"``, or
            ``"uint8"`` for pixel batches the model normalizes: values rounded half up and
            saturated to 0..255, as scipy writes an integer image; ``rescale`` and the
            normalizations are refused with it (a ``ValueError`` naming ``dtype``).
        geometry: ``"corrected"`` (default) or ``"keras"``.
        kernel: ``"fast"`` (default) or ``"exact"`` (bit for bit scipy's, several times
            slower for bilinear ``float32`` output).

    Example:
        >>> import numpy as np, augflow
        >>> datagen = augflow.ImageDataGenerator(rotation_range=20, horizontal_flip=True)
        >>> it = datagen.flow(np.zeros((10, 8, 8, 3), np.uint8), np.arange(10), batch_size=4, seed=1)
        >>> x, y = it[0]
        >>> x.shape, x.dtype.name, len(it)
        ((4, 8, 8, 3), 'float32', 3)
    """

    def __init__(
        self,
        featurewise_center=False,
        samplewise_center=False,
        featurewise_std_normalization=False,
        samplewise_std_normalization=False,
        zca_whitening=False,
        zca_epsilon=1e-6,
        rotation_range=0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        brightness_range=None,
        shear_range=0.0,
        zoom_range=0.0,
        channel_shift_range=0.0,
        fill_mode="nearest",
        cval=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        rescale=None,
        preprocessing_function=None,
        data_format=None,
        validation_split=0.0,
        interpolation_order=1,
        dtype=None,
        geometry="corrected",
        kernel="fast",
    ):
        args = dict(locals())
        del args["self"]
        self._kwargs = dict(args)  # for pickling: the generator is rebuilt from them
        del args["preprocessing_function"]
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise ValueError(
                f"invalid `preprocessing_function`: got {preprocessing_function!r}; "
                "expected a callable or None"
            )
        config = {}
        for name, value in args.items():
            if name in _BOOL_ARGS:
                value = bool(value)
            elif name == "dtype" and value is not None:
                value = _dtype_name(value)
            if value is None and name in ("data_format", "dtype"):
                continue  # Keras' None: the backend's default (channels_last, float32)
            config[name] = _jsonable(name, value)
        self._native = _augflow._Generator(json.dumps(config), preprocessing_function)
        self.preprocessing_function = preprocessing_function
        # The effective configuration (after Keras' overrides) as attributes, as in Keras.
        for name, value in json.loads(self._native.config_json()).items():
            setattr(self, name, value)
        self.channel_axis, self.row_axis, self.col_axis = (
            (1, 2, 3) if self.data_format == "channels_first" else (3, 1, 2)
        )
        self.mean = self.std = self.zca_whitening_matrix = None

    def __getstate__(self):
        stats = {k: getattr(self, k) for k in ("mean", "std", "zca_whitening_matrix")}
        return {"kwargs": self._kwargs, "stats": stats}

    def __setstate__(self, state):
        self.__init__(**state["kwargs"])
        stats = state["stats"]
        for name, value in stats.items():
            setattr(self, name, value)
        flat = [None if stats[k] is None else np.asarray(stats[k], np.float32).ravel().tolist()
                for k in ("mean", "std")]
        zca = stats["zca_whitening_matrix"]
        self._native.set_stats(*flat, None if zca is None else np.asarray(zca, np.float64))

    def flow(
        self,
        x,
        y=None,
        batch_size=32,
        shuffle=True,
        sample_weight=None,
        seed=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        ignore_class_split=False,
        subset=None,
        *,
        num_shards=1,
        shard_index=0,
        shard_remainder="pad",
        masks=None,
        mask_value=0,
        bboxes=None,
        bbox_labels=None,
        bbox_format="pascal_voc",
        min_area=0.0,
        min_visibility=0.0,
        max_bboxes=None,
        keypoints=None,
        keypoint_labels=None,
        remove_invisible=True,
        pipeline=None,
    ):
        """Takes data and label arrays, generates batches of augmented data.

        ``x`` is a rank-4 array of images, or a tuple ``(images, misc)`` whose second item
        is an array or a list of arrays passed along untouched (batches are then
        ``([x, *misc], y)``). ``uint8``, ``uint16``, ``float32`` and ``float64`` images are
        read in place, without a copy, whatever their strides (a slice, a transposed view,
        a read-only array, ``np.load(path, mmap_mode="r")``: only the images a batch uses
        are read); other dtypes are converted once to the generator's dtype, and an
        unaligned or byte-swapped array is copied once with a warning.

        Returns a ``NumpyArrayIterator`` yielding ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)`` batches, as Keras.

        Beyond Keras, for data-parallel training (one process per shard, as torch's
        ``DistributedSampler``): ``num_shards=k, shard_index=r`` serves only shard ``r`` of
        each epoch's order. Shards are disjoint and a sample is transformed identically
        whichever shard reads it; a ``subset`` is split first, then sharded.
        ``shard_remainder`` says what happens when an epoch does not divide by ``k``:
        ``"pad"`` (default) repeats samples so every shard has as many batches
        (``batch_padding(i)`` counts them), ``"drop"`` drops the last ones, ``"uneven"``
        keeps every sample once. ``flow_from_directory`` and ``flow_from_dataframe`` take
        the same arguments.

        Beyond Keras, targets that move with their images (albumentations' names), each
        through its own image's draw. Coordinates are pixel corners: pixel ``(r, c)`` covers
        ``[c, c+1) x [r, r+1)`` (albumentations' keypoints are pixel indices: add 0.5).

        - ``masks``: ``(N, H, W)``, or ``(N, H, W, K)`` (``(N, K, H, W)`` under
          ``data_format="channels_first"``), integer, bool or float. Nearest sampling (ids are never blended), the
          generator's ``fill_mode``, ``mask_value`` (default 0) where ``"constant"`` fills,
          no photometric step. Batches give them in the given shape and dtype; ids outside
          0..65535 must be integers within +-2**24, float64 values pass through float32.
        - ``bboxes``: one ``(k_i, 4)`` array per image in ``bbox_format`` (``"pascal_voc"``
          pixel corners, ``"coco"`` pixel x, y, w, h, ``"yolo"`` normalised centre and size,
          ``"albumentations"`` normalised corners); ``bbox_labels``: one sequence of
          integer class ids per image (default: each box's index in its image). Moved boxes
          are the enclosing box of the moved corners, clipped to the image, and dropped with
          their labels when their visible area is below ``min_area`` pixels or below
          ``min_visibility`` of their whole area, or nothing of them is visible.
        - ``keypoints``: one ``(k_i, 2)`` array ``(x, y)`` per image; ``keypoint_labels`` as
          ``bbox_labels``. Points leaving the image are dropped (``remove_invisible=True``)
          or kept and flagged.

        Beyond Keras, ``pipeline``: an ``augflow.layers.Pipeline`` of Keras 3 layers (or a
        list of them) run on every sample after the generator's own transform (skipped when
        the generator is left at its defaults, so the pipeline replaces it); batches take the
        pipeline's output size (``pipeline.output_size(H, W)``) and stay a pure function of
        ``(seed, epoch, index)``: with the default generator, sample ``i`` of the dataset is
        ``pipeline(x[i], seed=seed, epoch=epoch, index=i)`` bit for bit, at any thread count.
        A last batch layer (``MixUp``, ``CutMix``) runs on each batch and mixes ``y``
        (``(N, num_classes)`` labels), drawing from ``(seed, epoch, batch index)`` (times
        ``num_shards`` plus ``shard_index`` when sharded). ``masks`` and ``bboxes`` move
        through the pipeline with their images, and so do ``keypoints`` (each layer's exact
        geometry; those that leave the image or land on its fill are invisible);
        ``flow_from_directory`` and ``flow_from_dataframe`` take ``pipeline`` too (a pipeline
        that crops or resizes reads each file at its stored size: one resampling pass).

        With targets, each batch ends with a dict of them: ``(x, targets)``,
        ``(x, y, targets)`` or ``(x, y, sample_weight, targets)``. Its keys, for the
        targets given: ``"masks"``; ``"bboxes"`` (a list of ``(k_i, 4)`` float32 arrays),
        ``"bbox_labels"`` (a list of int64 arrays), ``"bboxes_padded"`` ``(n, max_k, 4)``
        zero-padded, ``"bbox_labels_padded"`` ``(n, max_k)`` padded with -1,
        ``"bbox_counts"`` ``(n,)``, where ``max_k`` is ``max_bboxes`` (fixed shapes; a
        sample's boxes past it are left out there, not from ``"bboxes"``) or, by default,
        the batch's most; ``"keypoints"``, ``"keypoint_labels"`` and
        ``"keypoint_visible"`` (lists of ``(k_i, 2)``, int64 and bool arrays), with
        ``"keypoints_padded"`` ``(n, max_p, 2)``, ``"keypoint_labels_padded"`` (-1),
        ``"keypoint_visible_padded"`` (False) and ``"keypoint_counts"``, ``max_p`` the
        batch's most (fixed shapes with ``remove_invisible=False``). Bad targets
        raise ``ValueError`` naming the argument, the image and the value.

        >>> import numpy as np, augflow
        >>> gen = augflow.ImageDataGenerator(horizontal_flip=True)
        >>> x = np.zeros((2, 10, 10, 3), np.uint8)
        >>> it = gen.flow(x, batch_size=2, shuffle=False, seed=0, masks=np.zeros((2, 10, 10), np.int64),
        ...               bboxes=[[[1, 2, 4, 6]], np.zeros((0, 4))], bbox_labels=[[7], []])
        >>> xb, t = it[0]
        >>> t["masks"].shape, t["masks"].dtype.name, t["bbox_labels"][0].tolist(), t["bbox_counts"].tolist()
        ((2, 10, 10), 'int64', [7], [1, 0])
        """
        return NumpyArrayIterator(
            x,
            y,
            self,
            batch_size=batch_size,
            shuffle=shuffle,
            sample_weight=sample_weight,
            seed=seed,
            save_to_dir=save_to_dir,
            save_prefix=save_prefix,
            save_format=save_format,
            subset=subset,
            ignore_class_split=ignore_class_split,
            num_shards=num_shards,
            shard_index=shard_index,
            shard_remainder=shard_remainder,
            masks=masks,
            mask_value=mask_value,
            bboxes=bboxes,
            bbox_labels=bbox_labels,
            bbox_format=bbox_format,
            min_area=min_area,
            min_visibility=min_visibility,
            max_bboxes=max_bboxes,
            keypoints=keypoints,
            keypoint_labels=keypoint_labels,
            remove_invisible=remove_invisible,
            pipeline=pipeline,
        )

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Fits the statistics of the featurewise and ZCA steps (Keras' ``fit``) on a rank-4
        array of images; ``rescale`` applies first. Sets ``mean``, ``std`` and
        ``zca_whitening_matrix`` as Keras does. Iterators made before keep their statistics.
        """
        x = _images(x, self.dtype)
        self._native.fit(x, bool(augment), _integer("rounds", rounds), _integer("seed", seed))
        stats = self._native.stats()
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = -1
        for name in ("mean", "std"):
            if stats[name] is not None:
                setattr(self, name, stats[name].reshape(shape))
        if stats["zca_whitening_matrix"] is not None:
            self.zca_whitening_matrix = stats["zca_whitening_matrix"]

    def standardize(self, x):
        """Applies the normalization configuration in place to an image or a batch, and
        returns it (Keras' ``standardize``). A non-float array is converted first."""
        if not (isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64)
                and x.flags.c_contiguous and x.flags.writeable):
            x = np.array(x, dtype=self.dtype)
        self._native.standardize(x)
        return x

    def get_random_transform(self, img_shape, seed=None):
        """Random parameters of one augmentation, as the dict Keras returns."""
        row, col = self.row_axis - 1, self.col_axis - 1
        try:
            height, width = int(img_shape[row]), int(img_shape[col])
        except (TypeError, ValueError, IndexError):
            raise ValueError(
                f"invalid `img_shape`: got {img_shape!r}; expected the shape of an image"
            ) from None
        return json.loads(self._native.get_random_transform(height, width, seed))

    def apply_transform(self, x, transform_parameters):
        """Applies the transform given by a dict with Keras' keys (``theta``, ``tx``, ``ty``,
        ``shear``, ``zx``, ``zy``, ``flip_horizontal``, ``flip_vertical``,
        ``channel_shift_intensity``, ``brightness``) to one image."""
        params = {k: _jsonable(k, v) for k, v in dict(transform_parameters).items()}
        return self._native.apply_transform(_images(x, self.dtype), json.dumps(params))

    def random_transform(self, x, seed=None):
        """Applies one random augmentation to one image (Keras' ``random_transform``)."""
        x = _images(x, self.dtype)
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def flow_from_directory(
        self,
        directory,
        target_size=(256, 256),
        color_mode="rgb",
        classes=None,
        class_mode="categorical",
        batch_size=32,
        shuffle=True,
        seed=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        follow_links=False,
        subset=None,
        interpolation="nearest",
        keep_aspect_ratio=False,
        *,
        num_shards=1,
        shard_index=0,
        shard_remainder="pad",
        pipeline=None,
    ):
        """Takes the path to a directory (one sub-folder per class) and generates batches
        of augmented data, decoded and resized in parallel without the GIL.

        Returns a ``DirectoryIterator`` yielding ``(x, y)`` batches (``x`` alone with
        ``class_mode=None``). ``num_shards``, ``shard_index`` and ``shard_remainder`` shard
        every epoch as in ``flow``. Files are read as batches are built (streamed), never
        all at once. ``pipeline``: Keras 3 layers run on every sample, as in ``flow``.
        """
        return DirectoryIterator(
            directory,
            self,
            target_size=target_size,
            color_mode=color_mode,
            classes=classes,
            class_mode=class_mode,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            save_to_dir=save_to_dir,
            save_prefix=save_prefix,
            save_format=save_format,
            follow_links=follow_links,
            subset=subset,
            interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio,
            num_shards=num_shards,
            shard_index=shard_index,
            shard_remainder=shard_remainder,
            pipeline=pipeline,
        )

    def flow_from_dataframe(
        self,
        dataframe,
        directory=None,
        x_col="filename",
        y_col="class",
        weight_col=None,
        target_size=(256, 256),
        color_mode="rgb",
        classes=None,
        class_mode="categorical",
        batch_size=32,
        shuffle=True,
        seed=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        subset=None,
        interpolation="nearest",
        validate_filenames=True,
        keep_aspect_ratio=False,
        *,
        num_shards=1,
        shard_index=0,
        shard_remainder="pad",
        mask_col=None,
        mask_value=0,
        pipeline=None,
        **kwargs,
    ):
        """Takes a pandas DataFrame (one row per image: the file in ``x_col``, the label or
        labels in ``y_col``) and generates batches of augmented data, as Keras. A list
        cell in ``y_col`` is a multi-label row. Rows whose file is missing are dropped with
        one warning (``validate_filenames=True``). ``num_shards``, ``shard_index`` and
        ``shard_remainder`` shard every epoch as in ``flow``; images are read as batches
        are built (streamed). ``mask_col`` names a column of mask files (class ids, of
        each image's size): each batch then ends with ``{"masks": (n, H, W, 1)}``
        (``(n, 1, H, W)`` channels-first), moved
        with the images as ``flow``'s ``masks``, ``mask_value`` where a constant fill shows."""
        for name in ("has_ext", "sort", "drop_duplicates"):
            if name in kwargs:
                warnings.warn(
                    f"the `{name}` argument has been deprecated and will be removed in future versions",
                    DeprecationWarning,
                    stacklevel=2,
                )
        unknown = set(kwargs) - {"has_ext", "sort", "drop_duplicates"}
        if unknown:
            raise TypeError(f"flow_from_dataframe() got unexpected arguments {sorted(unknown)}")
        from ._dataframe import DataFrameIterator

        return DataFrameIterator(
            dataframe,
            directory,
            self,
            x_col=x_col,
            y_col=y_col,
            weight_col=weight_col,
            target_size=target_size,
            color_mode=color_mode,
            classes=classes,
            class_mode=class_mode,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            save_to_dir=save_to_dir,
            save_prefix=save_prefix,
            save_format=save_format,
            subset=subset,
            interpolation=interpolation,
            validate_filenames=validate_filenames,
            keep_aspect_ratio=keep_aspect_ratio,
            num_shards=num_shards,
            shard_index=shard_index,
            shard_remainder=shard_remainder,
            mask_col=mask_col,
            mask_value=mask_value,
            pipeline=pipeline,
        )

    def flow_from_coco(self, images_dir, annotations, target_size=(256, 256), **kwargs):
        """The images of the COCO detection file ``annotations`` (under ``images_dir``), in
        batches ``(x, targets)`` with each image's boxes moved through its draw; the
        keywords and ``targets`` are ``CocoIterator``'s (see its docstring)."""
        from ._coco import CocoIterator

        return CocoIterator(images_dir, annotations, self, target_size, **kwargs)


def _images(x, dtype, strided=False):
    """``x`` as an array augflow reads in place: pixel dtypes stay as they are; others are
    converted to ``dtype``; an unaligned or byte-swapped array (with ``strided=False``, also
    a non-contiguous one) is copied once, with a warning."""
    try:
        x = np.asarray(x)
        if x.dtype.type not in _PIXEL_DTYPES:
            x = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"invalid `x`: got {type(x).__name__}; expected an array of images ({err})"
        ) from err
    if x.size == 0:
        return np.ascontiguousarray(x)  # nothing to copy; `flow` reports the empty array
    contiguous = x.flags.c_contiguous or strided
    if not (contiguous and x.flags.aligned and x.dtype.isnative):
        needs = "an aligned, native-endian"
        if not strided:
            needs = "a C-contiguous, aligned, native-endian"
        fix = "np.require(x, requirements='A')" if strided else "np.ascontiguousarray(x)"
        warnings.warn(
            f"augflow: `x` (shape {x.shape}, dtype {x.dtype}) is not {needs} array; "
            f"it is copied once. Pass {fix} to avoid the copy.",
            stacklevel=4,
        )
        x = np.require(x, dtype=x.dtype.newbyteorder("="), requirements=["C", "A"])
    return x


def _check_same(gen, data_format, dtype):
    """An iterator's ``data_format`` and ``dtype`` are its generator's (Keras' ``None``)."""
    if data_format is not None and data_format != gen.data_format:
        raise ValueError(
            f"invalid `data_format`: got {data_format!r}; expected the generator's, {gen.data_format!r}"
        )
    if dtype is not None and _dtype_name(dtype) != gen.dtype:
        raise ValueError(f"invalid `dtype`: got {dtype!r}; expected the generator's, {gen.dtype!r}")


class NumpyArrayIterator(Iterator):
    """Keras' ``NumpyArrayIterator``: batches of augmented images from numpy arrays.

    The images are borrowed, never copied (the array is kept alive by the iterator); the
    labels, sample weights, extra arrays and targets (masks, boxes, keypoints: see
    ``ImageDataGenerator.flow``) are copied once.
    """

    def __init__(
        self,
        x,
        y,
        image_data_generator,
        batch_size=32,
        shuffle=False,
        sample_weight=None,
        seed=None,
        data_format=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        subset=None,
        ignore_class_split=False,
        dtype=None,
        *,
        num_shards=1,
        shard_index=0,
        shard_remainder="pad",
        masks=None,
        mask_value=0,
        bboxes=None,
        bbox_labels=None,
        bbox_format="pascal_voc",
        min_area=0.0,
        min_visibility=0.0,
        max_bboxes=None,
        keypoints=None,
        keypoint_labels=None,
        remove_invisible=True,
        pipeline=None,
    ):
        args = dict(locals())
        del args["self"]
        args.pop("__class__", None)
        gen = image_data_generator
        _check_same(gen, data_format, dtype)
        self._targets = FlowTargets(
            masks, mask_value, bboxes, bbox_labels, bbox_format, min_area, min_visibility,
            max_bboxes, keypoints, keypoint_labels, remove_invisible,
        )
        if isinstance(x, (tuple, list)):
            misc = x[1] if isinstance(x[1], list) else [x[1]]
            x_misc = [np.asarray(m) for m in misc]
            x = x[0]
        else:
            x_misc = []
        self.x = _images(x, gen.dtype, strided=True)
        self.x_misc = x_misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = gen
        self.data_format = gen.data_format
        self.dtype = gen.dtype
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        per_sample, mixer = iterator_pipeline(pipeline, gen.dtype)
        native = gen._native.flow(
            self.x,
            self.y,
            self.sample_weight,
            self.x_misc,
            _integer("batch_size", batch_size),
            bool(shuffle),
            _integer("seed", seed),
            None if save_to_dir is None else os.fspath(save_to_dir),
            save_prefix,
            save_format,
            bool(ignore_class_split),
            subset,
            _shard(num_shards, shard_index, shard_remainder),
            self._targets.hand_over(),
            per_sample,
        )
        super().__init__(native, mixer)
        self._args = args

    def __getitem__(self, idx):
        """Batch ``idx`` of the current epoch; with targets, its dict comes last."""
        batch = super().__getitem__(idx)
        self._targets.restore(batch)
        return batch


class DirectoryIterator(Iterator):
    """Keras' ``DirectoryIterator``: batches of augmented images read from a directory
    with one sub-folder per class, decoded and resized in parallel without the GIL."""

    def __init__(
        self,
        directory,
        image_data_generator,
        target_size=(256, 256),
        color_mode="rgb",
        classes=None,
        class_mode="categorical",
        batch_size=32,
        shuffle=True,
        seed=None,
        data_format=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        follow_links=False,
        subset=None,
        interpolation="nearest",
        keep_aspect_ratio=False,
        dtype=None,
        *,
        num_shards=1,
        shard_index=0,
        shard_remainder="pad",
        pipeline=None,
    ):
        args = dict(locals())
        del args["self"]
        args.pop("__class__", None)
        gen = image_data_generator
        _check_same(gen, data_format, dtype)
        height, width = _target_size(target_size)
        per_sample, mixer = iterator_pipeline(pipeline, gen.dtype)
        native = gen._native.flow_from_directory(
            os.fspath(directory),
            (height, width),
            color_mode,
            None if classes is None else list(classes),
            class_mode,
            _integer("batch_size", batch_size),
            bool(shuffle),
            _integer("seed", seed),
            None if save_to_dir is None else os.fspath(save_to_dir),
            save_prefix,
            save_format,
            bool(follow_links),
            subset,
            interpolation,
            bool(keep_aspect_ratio),
            _shard(num_shards, shard_index, shard_remainder),
            per_sample,
        )
        super().__init__(native, mixer)
        self._args = args
        info = native.files_info()
        self.directory = directory
        self.image_data_generator = gen
        self.target_size = tuple(target_size)
        self.color_mode = color_mode
        self.data_format = gen.data_format
        self.dtype = gen.dtype
        self.class_mode = class_mode
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        self.filenames = info["filenames"]
        self._filepaths = info["filepaths"]
        self.classes = info["classes"]
        self.class_indices = info["class_indices"]
        self.num_classes = len(self.class_indices)
        self.samples = len(self.filenames)

    @property
    def filepaths(self):
        """Full paths of the images, in the order of ``filenames``."""
        return self._filepaths

    @property
    def labels(self):
        """The class index of each file (Keras: ``classes``)."""
        return self.classes


def _target_size(target_size):
    try:
        height, width = target_size
    except (TypeError, ValueError):
        raise ValueError(
            f"invalid `target_size`: got {target_size!r}; expected a tuple (height, width)"
        ) from None
    return height, width

