"""`dtype="uint8"`: pixel batches for models that normalize themselves."""

import numpy as np
import pytest

import augflow


def _round_half_up(x):
    """scipy's rule for an integer output: t + 0.5, clamped to 0..255, truncated."""
    return np.clip(np.floor(x.astype(np.float64) + 0.5), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("kernel", ["fast", "exact"])
def test_uint8_batches_are_the_float_batches_rounded(images, kernel):
    args = dict(rotation_range=30, zoom_range=0.2, horizontal_flip=True, kernel=kernel)
    y = np.arange(len(images))
    x8, y8 = augflow.ImageDataGenerator(dtype="uint8", **args).flow(images, y, batch_size=7, seed=4)[1]
    float_dtype = "float32" if kernel == "fast" else "float64"
    xf, yf = augflow.ImageDataGenerator(dtype=float_dtype, **args).flow(images, y, batch_size=7, seed=4)[1]
    assert x8.dtype == np.uint8 and x8.shape == xf.shape
    np.testing.assert_array_equal(y8, yf)
    # Nearest fill (the default): every pixel comes from the kernel's own value.
    np.testing.assert_array_equal(x8, _round_half_up(xf))


def test_uint8_batches_are_the_same_in_any_order(images):
    gen = augflow.ImageDataGenerator(dtype=np.uint8, rotation_range=20, channel_shift_range=30)
    it = gen.flow(images, batch_size=6, seed=8)
    later = [it[i] for i in reversed(range(len(it)))][::-1]
    np.testing.assert_array_equal(np.concatenate(later), np.concatenate([it[i] for i in range(len(it))]))


def test_rescale_with_uint8_is_refused_naming_dtype():
    with pytest.raises(ValueError, match="dtype"):
        augflow.ImageDataGenerator(dtype="uint8", rescale=1 / 255)
    with pytest.raises(ValueError, match="dtype"):
        augflow.ImageDataGenerator(dtype="uint8", samplewise_center=True)
