"""`augflow.keras.preprocessing.image`: Keras' names, Keras' geometry by default."""

import inspect

import numpy as np

import augflow
from augflow.keras.preprocessing import image


def test_the_classes_of_keras_preprocessing_image_are_there():
    for name in ("ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator",
                 "DataFrameIterator"):
        assert inspect.isclass(getattr(image, name)), name


def test_the_drop_in_defaults_to_keras_geometry_with_keras_arguments():
    params = inspect.signature(image.ImageDataGenerator).parameters
    assert params["geometry"].default == "keras"
    base = inspect.signature(augflow.ImageDataGenerator).parameters
    assert [p for p in params if p != "geometry"] == [p for p in base if p != "geometry"]
    assert image.ImageDataGenerator().geometry == "keras"


def test_keras_geometry_is_the_default_of_the_drop_in(images):
    """Keras 2.9 feeds `width_shift_range` to the row shift `ty` (the corrected geometry to
    `tx`), and turns about a transposed centre on non-square images."""
    keras = image.ImageDataGenerator(width_shift_range=0.3).get_random_transform((8, 10, 3), 1)
    fixed = augflow.ImageDataGenerator(width_shift_range=0.3).get_random_transform((8, 10, 3), 1)
    assert keras["tx"] == 0 and keras["ty"] != 0
    assert fixed["ty"] == 0 and fixed["tx"] == keras["ty"]
    params = {"theta": 30.0}
    rotated = image.ImageDataGenerator().apply_transform(images[0], params)
    assert not np.array_equal(rotated, augflow.ImageDataGenerator().apply_transform(images[0], params))
    x = image.ImageDataGenerator(rotation_range=10).flow(images, batch_size=4, seed=0)[0]
    assert x.shape == (4, 8, 10, 3)


def test_the_drop_in_is_fast_by_default_within_its_bound_of_keras_bits(images):
    """Keras' geometry with the fast kernel by default; `kernel="exact"` is Keras' numbers
    (the conformance replay checks those bit for bit), and the two differ by at most 1e-4
    on a 0..255 scale."""
    assert image.ImageDataGenerator().kernel == "fast"
    x = images[0].astype(np.float32) + np.linspace(0, 0.9, images[0].size, dtype=np.float32).reshape(images[0].shape)
    params = {"theta": 33.0, "tx": 1.3, "ty": -0.7, "zx": 1.1, "zy": 0.9, "shear": 5.0}
    fast = image.ImageDataGenerator().apply_transform(x, params)
    exact = image.ImageDataGenerator(kernel="exact").apply_transform(x, params)
    assert not np.array_equal(fast, exact)
    np.testing.assert_allclose(fast, exact, atol=1e-4, rtol=0)
