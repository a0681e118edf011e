"""`flow`: Keras' batch shapes, augflow's determinism, and images read in place."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import augflow


def test_batches_hold_the_samples_of_batch_indices_in_keras_shapes(images):
    y = np.arange(20) * 10
    w = np.linspace(0, 1, 20)
    it = augflow.ImageDataGenerator().flow(images, y, batch_size=8, shuffle=False, sample_weight=w)
    assert len(it) == 3
    assert (it.n, it.batch_size, it.shuffle, it.image_shape) == (20, 8, False, (8, 10, 3))
    x, yb, wb = it[2]
    assert x.shape == (4, 8, 10, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x, images[16:].astype(np.float32))
    np.testing.assert_array_equal(yb, y[16:])
    assert yb.dtype == y.dtype
    np.testing.assert_array_equal(wb, w[16:])


def test_x_alone_without_y_and_misc_arrays_as_keras(images):
    gen = augflow.ImageDataGenerator()
    x = gen.flow(images, batch_size=5, shuffle=False)[0]
    assert isinstance(x, np.ndarray) and x.shape == (5, 8, 10, 3)
    idx = np.arange(20)
    (xs, misc), yb = gen.flow((images, idx), np.arange(20) % 2, batch_size=5, seed=3)[1]
    np.testing.assert_array_equal(xs, images[misc].astype(np.float32))
    np.testing.assert_array_equal(yb, misc % 2)
    (xs, m1, m2) = gen.flow((images, [idx, -idx]), batch_size=5, seed=3)[0]
    np.testing.assert_array_equal(m2, -m1)


def test_same_seed_gives_identical_batches_in_any_order(images):
    gen = augflow.ImageDataGenerator(rotation_range=30, zoom_range=0.2, horizontal_flip=True,
                                     channel_shift_range=20)
    a = gen.flow(images, np.arange(20), batch_size=6, seed=42)
    b = gen.flow(images, np.arange(20), batch_size=6, seed=42)
    second = b[2]
    first = [a[i] for i in range(len(a))]
    np.testing.assert_array_equal(first[2][0], second[0])
    np.testing.assert_array_equal(first[2][1], second[1])
    assert a.seed == 42
    c = gen.flow(images, np.arange(20), batch_size=6, seed=43)
    assert not np.array_equal(c[0][0], first[0][0])


def test_an_unseeded_iterator_reports_the_seed_that_replays_it(images):
    gen = augflow.ImageDataGenerator(rotation_range=30)
    a = gen.flow(images, batch_size=6)
    b = gen.flow(images, batch_size=6, seed=a.seed)
    np.testing.assert_array_equal(a[1], b[1])


def test_epochs_reshuffle_and_next_runs_on_endlessly(images):
    it = augflow.ImageDataGenerator().flow(images, np.arange(20), batch_size=8, seed=5)
    order0 = np.concatenate([next(it)[1] for _ in range(3)])
    order1 = np.concatenate([next(it)[1] for _ in range(3)])
    assert sorted(order0) == sorted(order1) == list(range(20))
    assert list(order0) != list(order1)
    assert it.epoch == 1
    it.reset()
    assert it.epoch == 0
    np.testing.assert_array_equal(np.concatenate([next(it)[1] for _ in range(3)]), order0)
    it.on_epoch_end()
    np.testing.assert_array_equal(np.concatenate([it[i][1] for i in range(3)]), order1)


def test_validation_split_serves_keras_parts(images):
    gen = augflow.ImageDataGenerator(validation_split=0.25)
    y = np.arange(20) % 2
    idx = np.arange(20)
    val = gen.flow((images, idx), y, subset="validation", shuffle=False, batch_size=20)
    train = gen.flow((images, idx), y, subset="training", shuffle=False, batch_size=20)
    assert (val.n, train.n) == (5, 15)
    np.testing.assert_array_equal(val[0][0][1], np.arange(5))
    np.testing.assert_array_equal(train[0][0][1], np.arange(5, 20))


def test_a_split_with_different_classes_on_each_side_is_keras_value_error(images):
    gen = augflow.ImageDataGenerator(validation_split=0.25)
    y = np.arange(20)
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(images, y, subset="training")
    assert gen.flow(images, y, subset="training", ignore_class_split=True).n == 15


def test_images_are_read_in_place_not_copied(images):
    """The iterator reads the caller's buffer: a change to the array shows in the next batch."""
    it = augflow.ImageDataGenerator().flow(images, batch_size=4, shuffle=False)
    assert it.x is images
    images[:4] = 7
    assert (it[0] == 7).all()
    del images
    assert it[0].shape == (4, 8, 10, 3)  # the iterator keeps the array alive


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_pixel_dtypes_are_kept(images, dtype):
    x = images.astype(dtype)
    it = augflow.ImageDataGenerator().flow(x, shuffle=False)
    assert it.x.dtype == dtype and it.x is x
    np.testing.assert_array_equal(it[0], x.astype(np.float32))


def test_other_dtypes_are_converted_to_the_generator_dtype(images):
    it = augflow.ImageDataGenerator(dtype="float64").flow(images.astype(np.int64), shuffle=False)
    assert it.x.dtype == np.float64
    assert it[0].dtype == np.float64


def test_a_byte_swapped_array_is_copied_once_with_a_warning(images):
    swapped = images.astype(">u2")
    with pytest.warns(UserWarning, match="copied once"):
        it = augflow.ImageDataGenerator().flow(swapped, shuffle=False)
    np.testing.assert_array_equal(it[0], swapped.astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        augflow.ImageDataGenerator().flow(images)


def test_batches_own_augflows_buffer(images):
    """Output arrays wrap the buffer augflow filled (no copy): numpy does not own the data,
    a Rust container object does, and the array is writable and C-contiguous."""
    x = augflow.ImageDataGenerator().flow(images, shuffle=False)[0]
    assert not x.flags.owndata
    assert x.base is not None and not isinstance(x.base, np.ndarray)
    assert x.flags.c_contiguous and x.flags.writeable



DIGEST = textwrap.dedent("""
    import hashlib, numpy as np, augflow
    x = (np.arange(64 * 24 * 24 * 3) % 251).astype(np.uint8).reshape(64, 24, 24, 3)
    gen = augflow.ImageDataGenerator(rotation_range=40, width_shift_range=0.2, zoom_range=0.3,
                                     shear_range=10, horizontal_flip=True, brightness_range=(0.5, 1.5))
    it = gen.flow(x, np.arange(64), batch_size=16, seed=11)
    h = hashlib.sha256()
    for e in range(2):
        for i in range(len(it)):
            xb, yb = it[i]
            h.update(xb.tobytes()); h.update(yb.tobytes())
        it.on_epoch_end()
    print(h.hexdigest())
""")


def test_batches_do_not_depend_on_the_thread_count():
    digests = set()
    for threads in ("1", "2", "3"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", DIGEST], capture_output=True, text=True,
                             env=env, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1, digests

