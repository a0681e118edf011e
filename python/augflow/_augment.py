"""``augflow.layers.Pipeline``: Keras 3 layers run by augflow's Rust ``Augment``."""

import json

import numpy as np

from . import _augflow

__all__ = ["Pipeline"]


def _layer_object(layer):
    """A layer object from a layer or its ``{"class_name", "config"}`` dict."""
    from .layers import LAYERS, Layer

    if isinstance(layer, Layer):
        return layer
    if isinstance(layer, dict) and "class_name" in layer:
        cls = LAYERS.get(layer["class_name"])
        if cls is None:
            raise ValueError(
                f"invalid `layers`: unknown layer {layer['class_name']!r}; expected one of "
                f"{sorted(LAYERS)}"
            )
        return cls.from_config(layer.get("config", {}))
    raise ValueError(
        f"invalid `layers`: got {layer!r}; expected augflow.layers objects or "
        "{'class_name', 'config'} dicts"
    )


def _pixels(x):
    """``x`` as a float32 or uint8 array (other dtypes are converted to float32)."""
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.uint8):
        x = x.astype(np.float32)
    return x


def _labels(labels):
    if labels is None:
        return None
    labels = np.ascontiguousarray(labels, dtype=np.float32)
    if labels.ndim != 2:
        raise ValueError(
            f"invalid `labels`: got shape {labels.shape}; expected (N, num_classes) float labels"
        )
    return labels


class Pipeline:
    """Keras 3 augmentation layers in order, as one augflow ``Augment``: geometric layers
    fuse into one resampling pass, element-wise colour layers into one pass over the pixels.

    ``Pipeline([layers.RandomResizedCrop(224), layers.RandomFlip("horizontal"), ...])``.
    The last layer may be a batch layer (``MixUp``, ``CutMix``), which needs a batch and
    mixes ``labels`` too. A call is a pure function of ``(seed, epoch, index)``: image ``i``
    of a batch is augmented exactly as the single image ``x[i]`` with ``index=index + i``,
    and as sample ``index + i`` of ``ImageDataGenerator().flow(..., pipeline=self)``; the
    batch layer draws from its own stream of ``(seed, epoch, index)``. The GIL is released
    and the images of a batch run on augflow's threads, with identical bits at any thread
    count.

    >>> import numpy as np
    >>> from augflow import layers
    >>> pipe = layers.Pipeline([layers.RandomRotation(0.1), layers.RandomContrast(0.3)])
    >>> x = np.full((6, 6, 3), 128, np.uint8)
    >>> bool((pipe(x, seed=1, index=3) == pipe(x[None], seed=1, index=3)[0]).all())
    True
    >>> layers.Pipeline.from_config(pipe.get_config()) == pipe
    True
    """

    def __init__(self, layers, name=None):
        self.layers = [_layer_object(layer) for layer in layers]
        self.name = name
        self._native = _augflow._Augment(self.to_json())

    # --- configuration --------------------------------------------------------------------

    def get_config(self):
        """Keras ``Sequential``'s form: ``{"name": ..., "layers": [layer dicts]}``, each
        ``{"class_name", "config"}``."""
        return {"name": self.name, "layers": [layer.to_dict() for layer in self.layers]}

    @classmethod
    def from_config(cls, config):
        """The pipeline of ``get_config()``'s dict (or of a plain list of layer dicts)."""
        if isinstance(config, dict):
            return cls(config.get("layers", []), name=config.get("name"))
        return cls(config)

    def to_json(self):
        """The layers as the JSON list augflow's Rust ``Augment::from_json`` reads."""
        return json.dumps([layer.to_dict() for layer in self.layers])

    @classmethod
    def from_json(cls, text):
        """The pipeline of ``to_json()``'s text."""
        return cls(json.loads(text))

    def output_size(self, height, width):
        """The ``(height, width)`` the pipeline gives an image of ``(height, width)``."""
        return self._native.output_size(int(height), int(width))

    @property
    def has_batch_layer(self):
        """Whether the last layer mixes batches (``MixUp``, ``CutMix``)."""
        return self._native.has_batch_layer()

    def __len__(self):
        return len(self.layers)

    def __eq__(self, other):
        return isinstance(other, Pipeline) and self.layers == other.layers

    def __repr__(self):
        return f"Pipeline({self.layers!r})"

    def __getstate__(self):
        return self.get_config()

    def __setstate__(self, state):
        self.__init__(state["layers"], name=state["name"])

    # --- running --------------------------------------------------------------------------

    def __call__(self, images, *, seed, epoch=0, index=0, labels=None, masks=None,
                 bboxes=None, bbox_labels=None, bbox_format="xyxy", keypoints=None,
                 keypoint_labels=None, remove_invisible=True):
        """Augments an image ``(H, W, C)`` or a batch ``(N, H, W, C)`` (``float32`` or
        ``uint8``; other dtypes are converted to ``float32``) and returns ``float32``.

        With ``labels`` (``(N, K)`` floats, for a batch layer), returns ``(images,
        labels)``. With ``masks`` (``(H, W)`` or ``(H, W, K)`` class ids) or ``bboxes``
        (``(k, 4)`` in ``bbox_format``, a Keras box format such as ``"xyxy"`` or
        ``"rel_yxyx"``; ``bbox_labels``: one int each, default their index) for a single
        image, returns albumentations' dict ``{"image", "mask", "bboxes", "bbox_labels"}``:
        geometric layers move them, colour layers leave them.

        With ``keypoints`` (``(k, 2)`` points ``(x, y)`` in pixel corners: albumentations'
        pixel indices plus 0.5; ``keypoint_labels``: one int each, default their index),
        the dict also holds ``"keypoints"`` and ``"keypoint_labels"``. Each layer moves
        them by its exact geometry; points that leave the image (or land on its fill) are
        left out, as albumentations' ``remove_invisible=True`` does, or with
        ``remove_invisible=False`` kept with ``"keypoint_visible"`` flags.
        """
        at = (_seed("seed", seed), _seed("epoch", epoch), _seed("index", index))
        points = _keypoints(keypoints, keypoint_labels, remove_invisible)
        if masks is not None or bboxes is not None or points is not None:
            return self._sample(images, None, at, masks, (bboxes, bbox_labels, bbox_format),
                                points)
        out, mixed = self._native.call(_pixels(images), *at, _labels(labels))
        return out if labels is None else (out, mixed)

    def draw(self, images, *, seed, epoch=0, index=0):
        """The parameters ``__call__`` would draw, without applying them: one entry per
        layer, each a dict under Keras' transformation keys (for a batch, a per-image
        layer's entry is the list of its images' dicts). ``apply`` replays them."""
        shape = np.shape(images)
        if self.has_batch_layer and len(shape) != 4:
            raise ValueError(
                f"invalid `x`: got shape {shape}; expected a batch (N, H, W, C): the pipeline "
                "ends with a batch layer"
            )
        at = (_seed("seed", seed), _seed("epoch", epoch), _seed("index", index))
        return json.loads(self._native.draw(_Shape(shape), *at))

    def apply(self, images, params, *, labels=None, masks=None, bboxes=None, bbox_labels=None,
              bbox_format="xyxy", keypoints=None, keypoint_labels=None, remove_invisible=True):
        """Applies ``params`` (from ``draw``, possibly stored or edited) to the images;
        returns what ``__call__`` returns."""
        text = json.dumps(params)
        points = _keypoints(keypoints, keypoint_labels, remove_invisible)
        if masks is not None or bboxes is not None or points is not None:
            return self._sample(images, text, (0, 0, 0), masks, (bboxes, bbox_labels, bbox_format),
                                points)
        out, mixed = self._native.apply(_pixels(images), text, _labels(labels))
        return out if labels is None else (out, mixed)

    def _sample(self, image, params, at, masks, boxes, points):
        """One image with its mask, boxes and/or keypoints, albumentations' dict out."""
        bboxes, bbox_labels, bbox_format = boxes
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 3:
            raise ValueError(
                f"invalid `images`: got shape {image.shape}; masks, bboxes and keypoints go with one "
                "image (H, W, C)"
            )
        mask, flat = None, False
        if masks is not None:
            mask = np.asarray(masks)
            flat = mask.ndim == 2
            mask = np.ascontiguousarray(mask[..., None] if flat else mask, dtype=np.int32)
        boxes = None
        if bboxes is not None:
            rows = np.asarray(bboxes, dtype=np.float32)
            rows = rows.reshape(0, 4) if rows.size == 0 else rows
            if rows.ndim != 2 or rows.shape[1] != 4:
                raise ValueError(
                    f"invalid `bboxes`: got shape {rows.shape}; expected (k, 4) boxes"
                )
            ids = list(range(len(rows))) if bbox_labels is None else [int(v) for v in bbox_labels]
            boxes = (rows, ids, str(bbox_format))
        xy = None if points is None else points[0]
        out, mask_out, boxes_out, ids_out, moved = self._native.sample(
            image, params, *at, mask, boxes, xy
        )
        result = {"image": out}
        if mask_out is not None:
            result["mask"] = mask_out[..., 0] if flat else mask_out
        if boxes_out is not None:
            result["bboxes"], result["bbox_labels"] = boxes_out, np.asarray(ids_out, np.int64)
        if moved is not None:
            _, ids, remove_invisible = points
            xy, visible = moved[0], np.asarray(moved[1], dtype=bool)
            keep = visible if remove_invisible else np.ones(len(visible), dtype=bool)
            result["keypoints"] = xy[keep]
            result["keypoint_labels"] = ids[keep]
            if not remove_invisible:
                result["keypoint_visible"] = visible
        return result


def _keypoints(keypoints, labels, remove_invisible):
    """``(points (k, 2) float32, labels (k,) int64, remove_invisible)``, or ``None``."""
    if keypoints is None:
        return None
    xy = np.asarray(keypoints, dtype=np.float32)
    xy = xy.reshape(0, 2) if xy.size == 0 else xy
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"invalid `keypoints`: got shape {xy.shape}; expected (k, 2) points (x, y)")
    ids = np.arange(len(xy)) if labels is None else np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(ids) != len(xy):
        raise ValueError(
            f"invalid `keypoint_labels`: got {len(ids)} labels; expected one per keypoint ({len(xy)})"
        )
    return np.ascontiguousarray(xy), ids.astype(np.int64), bool(remove_invisible)


class _Shape:
    """Something with a ``shape``, for ``draw`` (which needs only the images' shape)."""

    def __init__(self, shape):
        self.shape = tuple(int(v) for v in shape)


def _seed(name, value):
    """A non-negative integer below 2**64, or a ``ValueError`` naming it."""
    import operator

    try:
        v = operator.index(value)
    except TypeError:
        raise ValueError(f"invalid `{name}`: got {value!r}; expected an integer >= 0") from None
    if not 0 <= v < 2**64:
        raise ValueError(f"invalid `{name}`: got {v}; expected an integer >= 0 (and < 2**64)")
    return v


def iterator_pipeline(pipeline, dtype):
    """A ``flow*`` method's ``pipeline`` (a ``Pipeline``, a list of layers or ``None``) as
    ``(per-sample layers as JSON for the Rust iterator, or None; the batch layer as a
    Pipeline, or None)``. A batch layer mixes float32 batches only."""
    if pipeline is None:
        return None, None
    if not isinstance(pipeline, Pipeline):
        pipeline = Pipeline(pipeline)
    if not pipeline.has_batch_layer:
        return pipeline.to_json(), None
    if dtype != "float32":
        raise ValueError(
            f"invalid `pipeline`: its last layer, {pipeline.layers[-1].class_name}, mixes "
            f"float32 batches; the generator's dtype is {dtype}"
        )
    per_sample = pipeline.layers[:-1]
    return (Pipeline(per_sample).to_json() if per_sample else None), Pipeline(pipeline.layers[-1:])


def mix_batch(mixer, batch, at):
    """Runs the batch layer ``mixer`` (a one-layer ``Pipeline``) on an iterator's batch —
    ``x``, ``(x, y)`` or ``(x, y, sample_weight)``, ``x`` possibly ``[images, *misc]`` — drawing
    from ``at = (seed, epoch, index)``; ``y`` must be ``(N, K)`` labels, which it mixes."""
    parts = list(batch) if isinstance(batch, tuple) else [batch]
    x = parts[0]
    images = x[0] if isinstance(x, list) else x
    y = parts[1] if len(parts) > 1 else None
    if y is not None and np.ndim(y) != 2:
        raise ValueError(
            f"invalid `y`: got labels of shape {np.shape(y)}; {mixer.layers[0].class_name} "
            "mixes (N, num_classes) labels (one-hot, or class_mode='categorical')"
        )
    seed, epoch, index = at
    if y is None:
        images = mixer(images, seed=seed, epoch=epoch, index=index)
    else:
        images, parts[1] = mixer(images, seed=seed, epoch=epoch, index=index, labels=y)
    parts[0] = [images, *x[1:]] if isinstance(x, list) else images
    return tuple(parts) if isinstance(batch, tuple) else parts[0]
