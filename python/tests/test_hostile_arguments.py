"""Every argument of the public API, given hostile values drawn by hypothesis: each call
either works or raises an ordinary Python exception (Keras' types), never a crash, a hang or
a Rust panic (pyo3's `PanicException` is a `BaseException`, so it fails these tests).

CI installs hypothesis; without it this module is skipped with the reason."""

import inspect
import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (CI installs it)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import augflow  # noqa: E402
from augflow.keras.preprocessing import image as keras_image  # noqa: E402

# What a caller may get back for a bad value: Keras' exception types.
EXPECTED = (ValueError, TypeError, NotImplementedError, IndexError, KeyError, OverflowError,
            OSError)

HOSTILE = st.one_of(
    st.sampled_from([None, True, False, 0, 1, -1, 2, 3, 2**31, 2**63, -(2**63), 2**70,
                     math.nan, math.inf, -math.inf, 1e308, -1e-308, 0.5, -0.5, 255.0,
                     "", "nearest", "keras", "channels_first", "float16", "\x00", "é" * 3,
                     [], [1], [1, 2], [2, 1], [math.nan, 1.0], [1, 2, 3], (0, 0), (1, 1e9),
                     {}, {"a": 1}, b"bytes", object(), np.float32(math.nan), np.int64(-5),
                     np.zeros(0), np.ones((2, 2)), np.array([1.0, math.inf])]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=6),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
)
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
IMAGES = np.arange(6 * 5 * 7 * 3, dtype=np.uint8).reshape(6, 5, 7, 3)


def _names(func, skip=()):
    return [n for n, p in inspect.signature(func).parameters.items()
            if n not in ("self",) + tuple(skip) and p.kind is not p.VAR_KEYWORD]


def _survives(call):
    try:
        result = call()
    except EXPECTED:
        return None
    return result


GENERATOR_ARGS = _names(augflow.ImageDataGenerator.__init__, skip=("preprocessing_function",))


@SETTINGS
@given(name=st.sampled_from(GENERATOR_ARGS), value=HOSTILE, drop_in=st.booleans())
def test_a_hostile_generator_argument_raises_or_augments(name, value, drop_in):
    cls = keras_image.ImageDataGenerator if drop_in else augflow.ImageDataGenerator
    gen = _survives(lambda: cls(**{name: value}))
    if gen is None:
        return
    it = _survives(lambda: gen.flow(IMAGES, np.arange(6), batch_size=4, seed=1))
    if it is not None:
        batch = _survives(lambda: it[0])
        if batch is not None:
            assert batch[0].shape[0] == 4
    _survives(lambda: gen.random_transform(IMAGES[0].astype(np.float32), seed=3))


FLOW_ARGS = _names(augflow.ImageDataGenerator.flow, skip=("save_to_dir",))


@SETTINGS
@given(name=st.sampled_from(FLOW_ARGS), value=HOSTILE)
def test_a_hostile_flow_argument_raises_or_serves_batches(name, value):
    kwargs = {"x": IMAGES, "y": np.arange(6), "batch_size": 4, "seed": 1, name: value}
    gen = augflow.ImageDataGenerator(rotation_range=10, validation_split=0.5)
    it = _survives(lambda: gen.flow(**kwargs))
    if it is None:
        return
    for i in (0, len(it) - 1):
        _survives(lambda: it[i])
    _survives(lambda: it[len(it)])  # past the end: Keras' error, an IndexError


TRANSFORM_KEYS = ["theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal",
                  "flip_vertical", "channel_shift_intensity", "brightness"]


@SETTINGS
@given(params=st.dictionaries(st.sampled_from(TRANSFORM_KEYS + ["bogus"]), HOSTILE, max_size=4),
       order=st.sampled_from([0, 1]))
def test_hostile_transform_parameters_raise_or_give_finite_pixels(params, order):
    gen = augflow.ImageDataGenerator(interpolation_order=order)
    out = _survives(lambda: gen.apply_transform(IMAGES[0].astype(np.float32), params))
    if out is not None:
        assert out.shape == (5, 7, 3)
        assert np.isfinite(out).all(), params


@SETTINGS
@given(value=HOSTILE, name=st.sampled_from(["target_size", "color_mode", "classes",
                                            "class_mode", "batch_size", "seed",
                                            "interpolation", "subset", "follow_links",
                                            "keep_aspect_ratio"]))
def test_a_hostile_directory_argument_raises_or_serves_batches(class_folder_module, name, value):
    gen = augflow.ImageDataGenerator(validation_split=0.5)
    it = _survives(lambda: gen.flow_from_directory(class_folder_module, **{name: value}))
    if it is not None and len(it) > 0:
        _survives(lambda: it[0])


@pytest.fixture(scope="module")
def class_folder_module(tmp_path_factory):
    from PIL import Image
    root = tmp_path_factory.mktemp("classes")
    for k, cls in enumerate(("a", "b")):
        (root / cls).mkdir()
        for i in range(3):
            Image.fromarray(np.full((6, 9, 3), 40 * i + k, np.uint8)).save(root / cls / f"{i}.png")
    return root


LAYER_ARGS = sorted(
    (name, arg)
    for name, cls in augflow.layers.LAYERS.items()
    for arg in inspect.signature(cls).parameters
    if arg != "kwargs"
)


@settings(SETTINGS, max_examples=600)
@given(layer_arg=st.sampled_from(LAYER_ARGS), value=HOSTILE, seed=st.integers(0, 2**64 - 1))
def test_a_hostile_layer_argument_raises_or_augments(layer_arg, value, seed):
    """Each Keras 3 layer with one hostile argument (the others from test_layers' examples)
    raises Keras' exception types when made, or augments an image and a batch."""
    from test_layers import EXAMPLES

    name, arg = layer_arg
    cls = augflow.layers.LAYERS[name]
    layer = _survives(lambda: cls(**dict(EXAMPLES[name], **{arg: value})))
    if layer is None:
        return
    pipe = augflow.layers.Pipeline([layer])
    x = IMAGES.astype(np.float32)
    out = _survives(lambda: pipe(x, labels=np.eye(6, dtype=np.float32), seed=seed))
    if out is not None:
        assert out[0].shape[0] == 6 and out[1].shape == (6, 6)
    with pytest.raises(ValueError, match="index"):  # index + 5 is past 2**64 - 1
        pipe(x, seed=seed, index=2**64 - 5)
    if not pipe.has_batch_layer:
        _survives(lambda: pipe(IMAGES[0], seed=seed, epoch=2**64 - 1, index=2**64 - 1))
