"""The targets ``flow`` moves with its images: masks, bounding boxes and keypoints, under
albumentations' keyword names.

This layer only shapes the arguments (one array per image, labels as int64, masks in a dtype
the engine carries) and puts each batch's masks back in the caller's shape and dtype; the
engine checks the values (sizes, NaN, boxes inside the image, ``x_max > x_min``) and moves
every target through its image's draw.
"""

import numpy as np

from ._iterator import _integer

# Mask dtypes the engine carries as they are.
_CARRIED = (np.uint8, np.uint16, np.float32)
# Integers a float32 holds exactly: wider ids are refused rather than rounded.
_EXACT_IN_FLOAT32 = 2**24
# Class ids are int64: wider unsigned ids are refused rather than wrapped.
_INT64_MAX = np.iinfo(np.int64).max


def _number(name, v):
    """``v`` as a float, or ``ValueError`` naming ``name``."""
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"invalid `{name}`: got {v!r}; expected a number") from None


def _mask_carrier(masks, mask_value):
    """The dtype the engine carries ``masks`` in, and ``mask_value`` as a value of it.

    ``uint8``, ``uint16`` and ``float32`` are carried as they are. Other integer and ``bool``
    masks are carried in the narrowest of ``uint8``, ``uint16`` that holds every value and
    ``mask_value`` (``float32``, which holds integers up to 2**24 exactly, for negative
    ids such as an ignore index of -100); other float masks in ``float32``.
    """
    dtype = masks.dtype
    if dtype.type in _CARRIED:
        return dtype, mask_value
    if np.issubdtype(dtype, np.floating):
        if abs(mask_value) <= float(np.finfo(np.float32).max):  # else the engine refuses it
            mask_value = float(np.float32(mask_value))
        return np.dtype(np.float32), mask_value
    if not (dtype == np.bool_ or np.issubdtype(dtype, np.integer)):
        raise ValueError(
            f"invalid `masks`: got an array of dtype {dtype}; expected integer, bool or "
            "float masks"
        )
    info = (0, 1) if dtype == np.bool_ else (np.iinfo(dtype).min, np.iinfo(dtype).max)
    if not (float(mask_value).is_integer() and info[0] <= mask_value <= info[1]):
        raise ValueError(
            f"invalid `mask_value`: got {mask_value!r}; expected a value of the masks' dtype "
            f"({dtype}: an integer from {info[0]} to {info[1]})"
        )
    lo = min(int(masks.min()), int(mask_value)) if masks.size else int(mask_value)
    hi = max(int(masks.max()), int(mask_value)) if masks.size else int(mask_value)
    for carrier in (np.uint8, np.uint16):
        if lo >= 0 and hi <= np.iinfo(carrier).max:
            return np.dtype(carrier), mask_value
    if -_EXACT_IN_FLOAT32 <= lo and hi <= _EXACT_IN_FLOAT32:
        return np.dtype(np.float32), mask_value
    raise ValueError(
        f"invalid `masks`: got {dtype} ids from {lo} to {hi} (with `mask_value`); expected "
        f"ids from 0 to 65535, or integers within +-2**24"
    )


def _per_image(name, rows, columns):
    """``rows`` (one ``(k, columns)`` array-like per image) as float32 arrays; an empty entry
    is an image without rows."""
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__len__"):
        raise ValueError(
            f"invalid `{name}`: got {type(rows).__name__}; expected a list with one "
            f"(k, {columns}) array per image"
        )
    out = []
    for i, r in enumerate(rows):
        try:
            a = np.asarray(r, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"invalid `{name}[{i}]`: got {r!r}; expected a (k, {columns}) array of "
                f"numbers for image {i} ({err})"
            ) from None
        if a.size == 0:
            a = a.reshape(0, columns)
        if a.ndim != 2:
            raise ValueError(
                f"invalid `{name}[{i}]`: got an array of shape {a.shape}; expected "
                f"(k, {columns}): one row per target of image {i}"
            )
        out.append(a)
    return out


def _labels(name, labels, rows):
    """One int64 class-id array per image; ``None``: each row's index in its image, so
    the rows that survive a transform can be told apart."""
    if labels is None:
        return [np.arange(len(r), dtype=np.int64) for r in rows]
    if isinstance(labels, (str, bytes, dict)) or not hasattr(labels, "__len__"):
        raise ValueError(
            f"invalid `{name}`: got {type(labels).__name__}; expected a list with one "
            "sequence of integer class ids per image"
        )
    out = []
    for i, l in enumerate(labels):
        a = np.asarray(l)
        if a.size == 0:
            a = np.zeros(0, np.int64)
        integers = a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer)
        if a.ndim != 1 or not integers or (a.size and a.max() > _INT64_MAX):
            raise ValueError(
                f"invalid `{name}[{i}]`: got {l!r}; expected a sequence of integer class "
                f"ids (int64), one per row of image {i}"
            )
        out.append(a.astype(np.int64))
    return out


class FlowTargets:
    """What ``flow`` moves with its images, shaped for the native layer (``hand_over``),
    and the step that gives each batch's masks back in the caller's shape and dtype."""

    def __init__(
        self,
        masks,
        mask_value,
        bboxes,
        bbox_labels,
        bbox_format,
        min_area,
        min_visibility,
        max_bboxes,
        keypoints,
        keypoint_labels,
        remove_invisible,
    ):
        for name, given, rows_name, rows in (
            ("bbox_labels", bbox_labels, "bboxes", bboxes),
            ("max_bboxes", max_bboxes, "bboxes", bboxes),
            ("keypoint_labels", keypoint_labels, "keypoints", keypoints),
        ):
            if given is not None and rows is None:
                raise ValueError(f"invalid `{name}`: given without `{rows_name}`")
        if not isinstance(bbox_format, str):
            raise ValueError(
                f"invalid `bbox_format`: got {bbox_format!r}; expected \"pascal_voc\", "
                "\"coco\", \"yolo\" or \"albumentations\""
            )
        numbers = {name: _number(name, v) for name, v in (
            ("mask_value", mask_value), ("min_area", min_area), ("min_visibility", min_visibility))}
        self._mask_dtype = self._mask_shape = None
        if masks is not None:
            try:
                masks = np.asarray(masks)
            except (TypeError, ValueError) as err:
                raise ValueError(f"invalid `masks`: {err}; expected an array") from None
            carrier, numbers["mask_value"] = _mask_carrier(masks, numbers["mask_value"])
            self._mask_dtype, self._mask_shape = masks.dtype, masks.shape[1:]
            masks = np.ascontiguousarray(masks, dtype=carrier)
        if bboxes is not None:
            bboxes = _per_image("bboxes", bboxes, 4)
            bbox_labels = _labels("bbox_labels", bbox_labels, bboxes)
        if keypoints is not None:
            keypoints = _per_image("keypoints", keypoints, 2)
            keypoint_labels = _labels("keypoint_labels", keypoint_labels, keypoints)
        if masks is None and bboxes is None and keypoints is None:
            self._native = None  # Keras' batches, unchanged
            return
        self._native = dict(
            masks=masks,
            bboxes=bboxes,
            bbox_labels=bbox_labels,
            bbox_format=bbox_format,
            max_bboxes=_integer("max_bboxes", max_bboxes),
            keypoints=keypoints,
            keypoint_labels=keypoint_labels,
            remove_invisible=bool(remove_invisible),
            **numbers,
        )

    def hand_over(self):
        """The dict ``_Generator.flow`` takes (``None`` when no target is given), once:
        the engine keeps its own copy, so the arrays shaped here are let go."""
        native, self._native = self._native, None
        return native

    def restore(self, batch):
        """Puts the masks of ``batch`` (its last item, the targets dict) back in the shape
        and dtype ``masks`` had (the engine gives ``(n, H, W, K)``, or ``(n, K, H, W)``
        channels-first, in the dtype it carries: a ``(N, H, W)`` mask comes as ``K = 1``),
        in place. Without masks, does nothing."""
        if self._mask_dtype is None:
            return
        targets = batch[-1]
        m = targets["masks"].reshape((-1,) + self._mask_shape)
        targets["masks"] = m.astype(self._mask_dtype, copy=False)
