"""Every argument: Keras' names and defaults, and bad values raise a Python exception
naming the argument (never a crash)."""

import inspect

import numpy as np
import pytest

import augflow

KERAS_29_DEFAULTS = {
    "featurewise_center": False,
    "samplewise_center": False,
    "featurewise_std_normalization": False,
    "samplewise_std_normalization": False,
    "zca_whitening": False,
    "zca_epsilon": 1e-6,
    "rotation_range": 0,
    "width_shift_range": 0.0,
    "height_shift_range": 0.0,
    "brightness_range": None,
    "shear_range": 0.0,
    "zoom_range": 0.0,
    "channel_shift_range": 0.0,
    "fill_mode": "nearest",
    "cval": 0.0,
    "horizontal_flip": False,
    "vertical_flip": False,
    "rescale": None,
    "preprocessing_function": None,
    "data_format": None,
    "validation_split": 0.0,
    "interpolation_order": 1,
    "dtype": None,
}


def test_constructor_has_every_keras_argument_with_its_default():
    params = inspect.signature(augflow.ImageDataGenerator).parameters
    for name, default in KERAS_29_DEFAULTS.items():
        assert name in params, name
        assert params[name].default == default, name
    assert params["geometry"].default == "corrected"
    assert params["kernel"].default == "fast"


def keras_part(func):
    """The parameters a Keras caller can pass (augflow's own are keyword-only)."""
    params = inspect.signature(func).parameters
    return {k: p for k, p in params.items() if p.kind is not p.KEYWORD_ONLY}


def test_flow_and_flow_from_directory_have_keras_signatures():
    flow = keras_part(augflow.ImageDataGenerator.flow)
    assert list(flow)[1:] == [
        "x", "y", "batch_size", "shuffle", "sample_weight", "seed", "save_to_dir",
        "save_prefix", "save_format", "ignore_class_split", "subset",
    ]
    ffd = keras_part(augflow.ImageDataGenerator.flow_from_directory)
    assert list(ffd)[1:] == [
        "directory", "target_size", "color_mode", "classes", "class_mode", "batch_size",
        "shuffle", "seed", "save_to_dir", "save_prefix", "save_format", "follow_links",
        "subset", "interpolation", "keep_aspect_ratio",
    ]
    assert ffd["target_size"].default == (256, 256)
    assert ffd["interpolation"].default == "nearest"
    shards = {"num_shards": 1, "shard_index": 0, "shard_remainder": "pad", "pipeline": None}
    targets = {  # flow's targets, under albumentations' names and defaults
        "masks": None, "mask_value": 0, "bboxes": None, "bbox_labels": None,
        "bbox_format": "pascal_voc", "min_area": 0.0, "min_visibility": 0.0, "max_bboxes": None,
        "keypoints": None, "keypoint_labels": None, "remove_invisible": True,
    }
    for method in ("flow", "flow_from_directory", "flow_from_dataframe"):
        params = inspect.signature(getattr(augflow.ImageDataGenerator, method)).parameters
        extra = {k: p.default for k, p in params.items() if p.kind is p.KEYWORD_ONLY}
        want = {
            "flow": dict(shards, **targets),
            "flow_from_directory": shards,
            "flow_from_dataframe": dict(shards, mask_col=None, mask_value=0),  # mask files
        }[method]
        assert extra == want, method


def test_every_argument_accepts_a_keras_value():
    gen = augflow.ImageDataGenerator(
        featurewise_center=True, samplewise_center=1, featurewise_std_normalization=True,
        samplewise_std_normalization=True, zca_whitening=False, zca_epsilon=1e-5,
        rotation_range=np.int64(20), width_shift_range=[-2, 0, 2], height_shift_range=3,
        brightness_range=(0.8, 1.2), shear_range=np.float32(5.0), zoom_range=[0.9, 1.1],
        channel_shift_range=10.0, fill_mode="reflect", cval=1.5, horizontal_flip=True,
        vertical_flip=True, rescale=1 / 255, preprocessing_function=lambda x: x,
        data_format="channels_last", validation_split=0.2, interpolation_order=0,
        dtype=np.float64, geometry="keras",
    )
    assert gen.rotation_range == 20
    assert gen.dtype == "float64"
    assert gen.samplewise_center is True


def test_keras_overrides_are_applied_to_the_attributes():
    gen = augflow.ImageDataGenerator(zca_whitening=True, featurewise_std_normalization=True)
    assert gen.featurewise_center is True
    assert gen.featurewise_std_normalization is False


BAD_GENERATOR_ARGS = [
    ("rotation_range", -1),
    ("rotation_range", float("nan")),
    ("rotation_range", "ten"),
    ("width_shift_range", float("inf")),
    ("width_shift_range", "a"),
    ("height_shift_range", [1, "b"]),
    ("zoom_range", [1.0, 2.0, 3.0]),
    ("brightness_range", 0.5),
    ("brightness_range", [float("nan"), 1.0]),
    ("shear_range", -3),
    ("channel_shift_range", -1),
    ("fill_mode", "mirror"),
    ("fill_mode", 3),
    ("cval", float("nan")),
    ("rescale", float("inf")),
    ("rescale", "1/255"),
    ("data_format", "nhwc"),
    ("validation_split", 1.0),
    ("validation_split", -0.1),
    ("interpolation_order", -1),
    ("dtype", "int8"),
    ("dtype", "no-such-type"),
    ("zca_epsilon", -1.0),
    ("geometry", "exact"),
    ("kernel", "slow"),
    ("kernel", True),
    ("preprocessing_function", 42),
    ("rotation_range", object()),
]


@pytest.mark.parametrize("name,value", BAD_GENERATOR_ARGS, ids=lambda v: repr(v)[:30])
def test_bad_generator_argument_raises_value_error_naming_it(name, value):
    with pytest.raises(ValueError) as err:
        augflow.ImageDataGenerator(**{name: value})
    assert name in str(err.value)


def test_a_keras_value_augflow_does_not_implement_is_not_implemented_error_naming_it():
    with pytest.raises(NotImplementedError, match="interpolation_order"):
        augflow.ImageDataGenerator(interpolation_order=3)


def test_unknown_argument_is_a_type_error():
    with pytest.raises(TypeError):
        augflow.ImageDataGenerator(rotation=20)


BAD_FLOW_ARGS = [
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": -3}, ValueError, "batch_size"),
    ({"seed": -1}, ValueError, "seed"),
    ({"subset": "test"}, ValueError, "subset"),
    ({"subset": "training"}, ValueError, "subset"),  # no validation_split
    ({"save_format": "gif"}, ValueError, "save_format"),
    ({"y": np.arange(19)}, ValueError, "y"),
    ({"sample_weight": np.ones(21)}, ValueError, "sample_weight"),
    ({"y": np.array(["a"] * 20, dtype=object)}, ValueError, "y"),
    ({"batch_size": "big"}, TypeError, "batch_size"),
]


@pytest.mark.parametrize("kwargs,exc,name", BAD_FLOW_ARGS, ids=lambda v: repr(v)[:40])
def test_bad_flow_argument_raises_naming_it(images, kwargs, exc, name):
    with pytest.raises(exc) as err:
        augflow.ImageDataGenerator().flow(images, **kwargs)
    assert name in str(err.value)


BAD_X = [
    (np.zeros((4, 8, 8), np.uint8), "x"),  # rank 3
    (np.zeros((0, 8, 8, 3), np.uint8), "x"),  # empty
    (np.array([["a", "b"]]), "x"),
    ("not an array", "x"),
    ((np.zeros((4, 8, 8, 3), np.uint8), np.arange(3)), "x"),  # misc of another length
]


@pytest.mark.parametrize("x,name", BAD_X, ids=lambda v: repr(v)[:40])
def test_bad_x_raises_value_error_naming_it(x, name):
    with pytest.raises(ValueError) as err:
        augflow.ImageDataGenerator().flow(x)
    assert name in str(err.value)


BAD_DIRECTORY_ARGS = [
    ({"target_size": (0, 8)}, ValueError, "target_size"),
    ({"target_size": 8}, ValueError, "target_size"),
    ({"target_size": (-1, 8)}, ValueError, "target_size"),
    ({"color_mode": "cmyk"}, ValueError, "color_mode"),
    ({"class_mode": "onehot"}, ValueError, "class_mode"),
    ({"class_mode": "raw"}, ValueError, "class_mode"),
    ({"interpolation": "cubic"}, ValueError, "interpolation"),
    ({"classes": ["cats", "birds"]}, (OSError, ValueError), "birds"),
    ({"subset": "validation"}, ValueError, "subset"),
    ({"batch_size": 0}, ValueError, "batch_size"),
]


@pytest.mark.parametrize("kwargs,exc,name", BAD_DIRECTORY_ARGS, ids=lambda v: repr(v)[:40])
def test_bad_directory_argument_raises_naming_it(class_folder, kwargs, exc, name):
    with pytest.raises(exc) as err:
        augflow.ImageDataGenerator().flow_from_directory(class_folder, **kwargs)
    assert name in str(err.value)


def test_missing_directory_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        augflow.ImageDataGenerator().flow_from_directory(tmp_path / "nowhere")
    assert "nowhere" in str(err.value)


def test_index_past_the_end_raises_keras_error_that_is_also_an_index_error(images):
    it = augflow.ImageDataGenerator().flow(images, batch_size=8)
    for idx in (3, 100, -1):
        with pytest.raises(ValueError) as err:
            it[idx]
        assert isinstance(err.value, IndexError)
        assert str(err.value) == f"Asked to retrieve element {idx}, but the Sequence has length 3"


def test_an_exception_in_preprocessing_function_comes_back_with_its_traceback(images):
    def boom(x):
        raise ZeroDivisionError("from the user's function")

    it = augflow.ImageDataGenerator(preprocessing_function=boom).flow(images, batch_size=4)
    with pytest.raises(ZeroDivisionError, match="from the user's function") as err:
        it[0]
    frames = [f.name for f in err.traceback]
    assert "boom" in frames


def test_preprocessing_function_returning_a_wrong_shape_is_a_value_error(images):
    it = augflow.ImageDataGenerator(preprocessing_function=lambda x: x[:2]).flow(images)
    with pytest.raises(ValueError, match="preprocessing_function"):
        it[0]
