"""`fit`, `standardize`, `get_random_transform`, `apply_transform`, `random_transform`, and
pickling of generators and iterators."""

import pickle

import numpy as np
import pytest

import augflow


def test_get_random_transform_has_keras_keys_and_replays_from_its_seed():
    gen = augflow.ImageDataGenerator(rotation_range=30, width_shift_range=0.1, zoom_range=0.2,
                                     horizontal_flip=True, brightness_range=(0.5, 1.5))
    p = gen.get_random_transform((16, 20, 3), seed=3)
    assert set(p) == {"theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal",
                      "flip_vertical", "channel_shift_intensity", "brightness"}
    assert p == gen.get_random_transform((16, 20, 3), seed=3)
    assert -30 <= p["theta"] <= 30 and p["theta"] != 0


def test_apply_transform_of_identity_and_flip(images):
    gen = augflow.ImageDataGenerator()
    img = images[0]
    np.testing.assert_array_equal(gen.apply_transform(img, {}), img.astype(np.float32))
    flipped = gen.apply_transform(img, {"flip_horizontal": True})
    np.testing.assert_array_equal(flipped, img[:, ::-1].astype(np.float32))
    with pytest.raises(ValueError, match="transform_parameters"):
        gen.apply_transform(img, {"theta": "ten"})


def test_random_transform_is_apply_transform_of_get_random_transform(images):
    gen = augflow.ImageDataGenerator(rotation_range=40, fill_mode="reflect")
    img = images[1]
    want = gen.apply_transform(img, gen.get_random_transform(img.shape, seed=9))
    np.testing.assert_array_equal(gen.random_transform(img, seed=9), want)


def test_fit_then_standardize_centres_the_dataset(images):
    gen = augflow.ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    x = images.astype(np.float32)
    gen.fit(images)
    assert gen.mean.shape == (1, 1, 3) and gen.std.shape == (1, 1, 3)
    np.testing.assert_allclose(gen.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-4)
    out = gen.standardize(x.copy())
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-3)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-3)
    batch = gen.flow(images, batch_size=20, shuffle=False)[0]
    np.testing.assert_allclose(batch, out, atol=1e-5)


def test_standardize_before_fit_is_an_error_naming_the_flag():
    gen = augflow.ImageDataGenerator(featurewise_center=True)
    with pytest.raises(ValueError, match="featurewise_center"):
        gen.standardize(np.zeros((4, 4, 3), np.float32))


def test_fit_rejects_a_bad_array():
    gen = augflow.ImageDataGenerator(featurewise_center=True)
    with pytest.raises(ValueError, match="x"):
        gen.fit(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="rounds"):
        gen.fit(np.zeros((2, 4, 4, 3), np.float32), rounds=-1)


def _double(x):
    return x * 2


def test_a_generator_pickles_with_its_arguments_and_fitted_statistics(images):
    gen = augflow.ImageDataGenerator(featurewise_center=True, rotation_range=10,
                                     preprocessing_function=_double)
    gen.fit(images)
    copy = pickle.loads(pickle.dumps(gen))
    np.testing.assert_array_equal(copy.mean, gen.mean)
    a = gen.flow(images, batch_size=4, seed=1)[0]
    np.testing.assert_array_equal(copy.flow(images, batch_size=4, seed=1)[0], a)


def test_an_iterator_pickles_at_its_epoch_and_serves_the_same_batches(images):
    gen = augflow.ImageDataGenerator(rotation_range=20)
    it = gen.flow((images, np.arange(20)), np.arange(20) % 3, batch_size=6)  # unseeded
    it.on_epoch_end()
    next(it)
    copy = pickle.loads(pickle.dumps(it))
    assert (copy.seed, copy.epoch) == (it.seed, 1)
    for got, want in zip(next(copy), next(it)):
        if isinstance(want, list):
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_array_equal(got, want)


def test_a_directory_iterator_pickles(class_folder):
    it = augflow.ImageDataGenerator(rotation_range=20).flow_from_directory(
        class_folder, target_size=(8, 8), batch_size=2)
    copy = pickle.loads(pickle.dumps(it))
    assert copy.filenames == it.filenames
    np.testing.assert_array_equal(copy[1][0], it[1][0])
