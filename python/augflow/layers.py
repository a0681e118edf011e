"""Keras 3's augmentation layers (and torchvision's ``RandomResizedCrop``) on augflow's engine.

Each class takes ``keras.layers``' arguments under their names and defaults and records
them as Keras serializes a layer (``{"class_name", "config"}``); the arguments are checked
by augflow's Rust library when the layer is made (``ValueError`` naming the argument and
the value). A ``Pipeline`` of layers augments numpy images, reproducibly per
``(seed, epoch, index)``, and ``ImageDataGenerator().flow(..., pipeline=...)`` (and
``flow_from_directory`` / ``flow_from_dataframe``) runs it on every sample.

>>> import numpy as np
>>> from augflow import layers
>>> pipe = layers.Pipeline([layers.RandomResizedCrop(16), layers.RandomFlip("horizontal"),
...                         layers.RandomColorJitter(brightness_factor=0.4, contrast_factor=0.4),
...                         layers.Rescaling(1 / 255)])
>>> x = np.random.default_rng(0).integers(0, 256, (4, 30, 40, 3), dtype=np.uint8)
>>> out = pipe(x, seed=42)
>>> out.shape, out.dtype.name
((4, 16, 16, 3), 'float32')
>>> params = pipe.draw(x, seed=42)          # one entry per layer, Keras' transformation keys
>>> bool((pipe.apply(x, params) == out).all())
True
"""

import inspect
import json

import numpy as np

from . import _augflow


_REQUIRED = inspect.Parameter.empty
# Keras' base-layer keywords a config may hold besides the layer's own arguments.
_BASE_KEYWORDS = ("name", "dtype", "trainable", "bounding_box_format")


def _jsonable(value):
    """``value`` as JSON types (tuples and numpy arrays become lists, numpy scalars numbers)."""
    def default(v):
        if isinstance(v, (np.ndarray, np.generic)):
            return v.tolist()
        raise TypeError(f"{type(v).__name__} is not a JSON value")

    return json.loads(json.dumps(value, default=default))


class Layer:
    """A Keras 3 layer's configuration, as Keras serializes it.

    Its subclasses (one per layer, listed in ``LAYERS``) take the layer's arguments; an
    object only records them. ``get_config()`` gives the config dict, ``from_config(config)``
    makes the layer again (also from Keras' own ``layer.get_config()``), and
    ``to_dict()`` the ``{"class_name", "config"}`` form augflow's Rust ``Augment`` reads.
    Layers run inside a ``Pipeline``.
    """

    class_name = None
    _converters = {}

    def __init__(self, *args, **kwargs):
        if self.class_name is None:
            raise TypeError("Layer is a base class: make one of augflow.layers.LAYERS")
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        config = dict(bound.arguments)
        extra = config.pop("kwargs", {})
        unknown = sorted(set(extra) - set(_BASE_KEYWORDS))
        if unknown:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {self.class_name}: "
                f"{ {k: extra[k] for k in unknown} }"
            )
        config.update(extra)
        if "data_format" in config and config["data_format"] is None:
            config["data_format"] = "channels_last"  # Keras' image_data_format() default
        for name, convert in self._converters.items():
            config[name] = convert(config[name])
        self._config = _jsonable(config)
        _augflow.check_layer(json.dumps(self.to_dict()))

    def get_config(self):
        """The layer's arguments as a dict (Keras' ``get_config()``)."""
        return json.loads(json.dumps(self._config))

    @classmethod
    def from_config(cls, config):
        """The layer made from ``get_config()``'s dict (Keras' own configs too)."""
        return cls(**config)

    def to_dict(self):
        """``{"class_name": ..., "config": ...}``, the form Keras serializes layers in."""
        return {"class_name": self.class_name, "config": self.get_config()}

    def __eq__(self, other):
        return type(self) is type(other) and self._config == other._config

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{self.class_name}({args})"


def _size_pair(value):
    """torchvision's ``size``: ``n`` or ``(n,)`` means ``(n, n)``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value), int(value)]
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return [value[0], value[0]]
    return value


def _mode_name(value):
    """torchvision's ``InterpolationMode.BILINEAR`` as its name, ``"bilinear"``."""
    return getattr(value, "value", value)


def _layer(class_name, signature, doc, converters=None):
    """The ``Layer`` subclass ``class_name`` with ``signature`` (``(name, default)`` pairs;
    ``_REQUIRED`` for none) and docstring ``doc``."""
    params = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
        for name, default in signature
    ]
    params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
    sig = inspect.Signature(params)
    cls = type(class_name, (Layer,), {
        "__doc__": f"``{class_name}``: {doc}",
        "__module__": __name__,
        "__signature__": sig,
        "class_name": class_name,
        "_converters": dict(converters or {}),
    })
    return cls


R = _REQUIRED
VR = (0, 255)
_GEOM = (("fill_mode", "reflect"), ("interpolation", "bilinear"), ("seed", None),
         ("fill_value", 0.0), ("data_format", None))
_COLOUR = (("value_range", VR), ("seed", None), ("data_format", None))
_SEEDED = (("seed", None), ("data_format", None))

# The table: one row per layer, `Name = _layer("Name", ((argument, default), ...), doc)`
# with Keras 3's names, arguments and defaults (`R`: required). Adding a layer the Rust
# library implements is one row here; `python -m augflow._layer_stubs` then rewrites
# layers.pyi, the signatures IDEs show.
RandomFlip = _layer(
    "RandomFlip", (("mode", "horizontal_and_vertical"), *_SEEDED),
    "Flips images left-right (``mode='horizontal'``), top-bottom or both.")
RandomTranslation = _layer(
    "RandomTranslation", (("height_factor", R), ("width_factor", R), *_GEOM),
    "Shifts by fractions of the height and width drawn from the factors.")
RandomRotation = _layer(
    "RandomRotation", (("factor", R), *_GEOM), "Rotates by a drawn fraction of a turn.")
RandomZoom = _layer(
    "RandomZoom", (("height_factor", R), ("width_factor", None), *_GEOM),
    "Zooms by ``1 + factor`` (negative factors zoom in).")
RandomShear = _layer(
    "RandomShear", (("x_factor", 0.0), ("y_factor", 0.0), *_GEOM), "Shears along x and y.")
RandomCrop = _layer(
    "RandomCrop", (("height", R), ("width", R), *_SEEDED),
    "Crops a random ``height x width`` window.")
CenterCrop = _layer(
    "CenterCrop", (("height", R), ("width", R), ("data_format", None)),
    "Crops the central ``height x width`` window.")
Resizing = _layer(
    "Resizing", (("height", R), ("width", R), ("interpolation", "bilinear"),
                 ("crop_to_aspect_ratio", False), ("pad_to_aspect_ratio", False),
                 ("fill_mode", "constant"), ("fill_value", 0.0), ("antialias", False),
                 ("data_format", None)),
    "Resizes to ``height x width``, optionally cropping or padding to its aspect ratio.")
RandomPerspective = _layer(
    "RandomPerspective", (("factor", 1.0), ("scale", 1.0), ("interpolation", "bilinear"),
                          ("fill_value", 0.0), *_SEEDED),
    "Moves the corners by up to ``scale`` half-sizes, with probability ``factor``.")
RandomResizedCrop = _layer(
    "RandomResizedCrop", (("size", R), ("scale", (0.08, 1.0)), ("ratio", (3 / 4, 4 / 3)),
                          ("interpolation", "bilinear"), ("antialias", True)),
    "torchvision's: a crop of area fraction ``scale`` and log-uniform aspect ``ratio`` (10 "
    "tries, then the centre-crop fallback) resized to ``size`` (an int: a square).",
    {"size": _size_pair, "interpolation": _mode_name})
RandomContrast = _layer(
    "RandomContrast", (("factor", R), *_COLOUR),
    "Scales the contrast by ``1 + U(-lower, upper)``, clipped.")
RandomBrightness = _layer(
    "RandomBrightness", (("factor", R), *_COLOUR), "Adds ``U(factor) * (hi - lo)``, clipped.")
RandomSaturation = _layer(
    "RandomSaturation", (("factor", R), *_COLOUR), "Scales the HSV saturation.")
RandomHue = _layer("RandomHue", (("factor", R), *_COLOUR), "Shifts the hue.")
RandomColorJitter = _layer(
    "RandomColorJitter", (("value_range", VR), ("brightness_factor", None),
                          ("contrast_factor", None), ("saturation_factor", None),
                          ("hue_factor", None), *_SEEDED),
    "Brightness, contrast, saturation and hue, in that order, each when its factor is set.")
RandomGrayscale = _layer(
    "RandomGrayscale", (("factor", 0.5), ("data_format", None), ("seed", None)),
    "Turns the image gray with probability ``factor``.")
RandomColorDegeneration = _layer(
    "RandomColorDegeneration", (("factor", R), *_COLOUR), "Blends towards grayscale.")
RandomSharpness = _layer(
    "RandomSharpness", (("factor", R), *_COLOUR), "Softens or sharpens with a 3x3 kernel.")
RandomInvert = _layer(
    "RandomInvert", (("factor", 1.0), *_COLOUR), "Inverts (``hi - x``) with a drawn probability.")
RandomPosterization = _layer(
    "RandomPosterization", (("factor", R), *_COLOUR), "Keeps a drawn number of high bits.")
Solarization = _layer(
    "Solarization", (("addition_factor", 0.0), ("threshold_factor", 0.0), *_COLOUR),
    "Adds a drawn value, then inverts what is above a drawn threshold.")
AutoContrast = _layer(
    "AutoContrast", (("value_range", VR), ("data_format", None)),
    "Stretches each channel to the full value range.")
Equalization = _layer(
    "Equalization", (("value_range", VR), ("bins", 256), ("data_format", None)),
    "Equalizes each channel's histogram (one histogram per image; Keras: per batch).")
RandomErasing = _layer(
    "RandomErasing", (("factor", 1.0), ("scale", (0.02, 0.33)), ("fill_value", None), *_COLOUR),
    "Erases a random rectangle (noise, or ``fill_value``) with a drawn probability.")
RandomGaussianBlur = _layer(
    "RandomGaussianBlur", (("factor", 1.0), ("kernel_size", 3), ("sigma", 1.0), *_COLOUR),
    "Blurs with a Gaussian of drawn sigma, with a drawn probability.")
Rescaling = _layer("Rescaling", (("scale", R), ("offset", 0.0)), "``x * scale + offset``.")
Normalization = _layer(
    "Normalization", (("axis", -1), ("mean", None), ("variance", None), ("invert", False)),
    "``(x - mean) / sqrt(variance)`` with constant statistics (no ``adapt``).")
RandAugment = _layer(
    "RandAugment", (("value_range", VR), ("num_ops", 2), ("factor", 0.5),
                    ("interpolation", "bilinear"), *_SEEDED),
    "``num_ops`` ops drawn per image (Keras: per batch) from Keras' list, magnitude ``factor``.")
AugMix = _layer(
    "AugMix", (("value_range", VR), ("num_chains", 3), ("chain_depth", 3), ("factor", 0.3),
               ("alpha", 1.0), ("all_ops", True), ("interpolation", "bilinear"), *_SEEDED),
    "``num_chains`` chains of ``chain_depth`` ops (Keras' list), blended with Dirichlet "
    "weights, then with the image by a Beta(``alpha``, ``alpha``) weight.")
RandomElasticTransform = _layer(
    "RandomElasticTransform", (("factor", 1.0), ("scale", 1.0), ("interpolation", "bilinear"),
                               ("fill_mode", "reflect"), ("fill_value", 0.0),
                               ("value_range", VR), *_SEEDED),
    "Moves every pixel by a smoothed random displacement field (magnitude ``scale``), with "
    "probability ``factor``; its own resampling pass after the fused geometric ops.")
TrivialAugmentWide = _layer(
    "TrivialAugmentWide", (("num_magnitude_bins", 31), ("interpolation", "nearest"),
                           ("fill", None)),
    "torchvision's: one op of its 14, drawn uniformly, at a uniformly drawn magnitude bin.",
    {"interpolation": _mode_name})
MixUp = _layer(
    "MixUp", (("alpha", 0.2), ("data_format", None), ("seed", None)),
    "Batch layer: mixes each image and its label with a partner's, weight ~ Beta(alpha, alpha).")
CutMix = _layer(
    "CutMix", (("factor", 1.0), ("seed", None), ("data_format", None)),
    "Batch layer: pastes a partner's rectangle; labels mixed by its area.")

del R, VR
LAYERS = {cls.class_name: cls for cls in Layer.__subclasses__()}
"""Every layer class by its Keras name."""

from ._augment import Pipeline  # noqa: E402  (it reads LAYERS)

__all__ = ["LAYERS", "Layer", "Pipeline", *LAYERS]
