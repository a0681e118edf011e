"""`flow` reads the caller's images in place, whatever their strides: slices, transposed
and reversed views, read-only arrays and memory-mapped `.npy` files are not copied (as
Keras, which holds `x` itself), and give the batches of a contiguous copy, bit for bit."""

import warnings

import numpy as np
import pytest

import augflow

GEN = dict(rotation_range=25, zoom_range=0.2, horizontal_flip=True, channel_shift_range=5.0)


def views(images):
    """Non-contiguous views of distinct images, by name."""
    chw = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    return {
        "every other column": images[:, :, ::2],
        "reversed samples and rows": images[::-1, ::-1],
        "every other sample": images[::2],
        "one channel": images[..., 1:2],
        "channels-first transposed": chw.transpose(0, 2, 3, 1),
        "fortran order": np.asfortranarray(images),
        "float32 column slice": images.astype(np.float32)[:, 1:7],
    }


@pytest.mark.parametrize("name", list(views(np.zeros((2, 2, 2, 3)))))
def test_a_strided_view_gives_the_batches_of_its_copy_without_a_copy(images, name):
    view = views(images)[name]
    gen = augflow.ImageDataGenerator(**GEN)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "copied once" warning
        it = gen.flow(view, batch_size=4, seed=3)
    assert it.x is view
    copy = gen.flow(np.ascontiguousarray(view), batch_size=4, seed=3)
    for b in range(len(it)):
        assert it[b].tobytes() == copy[b].tobytes()


def test_a_strided_view_is_read_in_place(images):
    view = images[::-1, :, ::2]
    it = augflow.ImageDataGenerator().flow(view, batch_size=4, shuffle=False)
    before = it[0].copy()
    images[-1] = 200  # row 0 of the view
    after = it[0]
    assert (after[0] == 200).all()
    np.testing.assert_array_equal(after[1:], before[1:])


def test_a_read_only_array_is_read_in_place(images):
    images.setflags(write=False)
    it = augflow.ImageDataGenerator(**GEN).flow(images, batch_size=4, seed=1)
    assert it.x is images
    assert it[0].shape == (4, 8, 10, 3)


def test_a_memory_mapped_npy_is_read_in_place(images, tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, images)
    mapped = np.load(path, mmap_mode="r")
    gen = augflow.ImageDataGenerator(**GEN)
    it = gen.flow(mapped, batch_size=4, seed=6)
    np.testing.assert_array_equal(it.x, images)
    assert it[2].tobytes() == gen.flow(images, batch_size=4, seed=6)[2].tobytes()
    # Write the file through another map: the iterator sees it, so it holds no copy.
    writer = np.load(path, mmap_mode="r+")
    writer[:] = 0
    writer.flush()
    plain = augflow.ImageDataGenerator().flow(mapped, batch_size=20, shuffle=False)
    assert (plain[0] == 0).all()
    del mapped, writer
    assert it[0].shape == (4, 8, 10, 3)  # the iterator keeps the map alive
