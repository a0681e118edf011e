"""Keras 2.9's image utilities in `augflow.keras.preprocessing.image`: `array_to_img`,
`img_to_array`, `load_img`, `save_img` (PIL images, spec §15) and `smart_resize`
(tf.image.resize's arithmetic, without TensorFlow)."""

import io
import pathlib

import numpy as np
import pytest

from augflow.keras.preprocessing import image

from PIL import Image  # a test dependency: CI installs Pillow


def test_array_to_img_stretches_to_0_255_and_picks_keras_modes():
    x = np.array([[[-1.0, 0.0, 1.0], [0.5, 0.5, 0.5]]])  # (1, 2, 3)
    img = image.array_to_img(x)
    assert img.mode == "RGB" and img.size == (2, 1)
    # (x + 1) / 2 * 255, truncated to bytes.
    assert np.asarray(img).tolist() == [[[0, 127, 255], [191, 191, 191]]]
    raw = image.array_to_img(np.full((2, 2, 1), 7.9), scale=False)
    assert raw.mode == "L" and np.asarray(raw).tolist() == [[7, 7], [7, 7]]
    wide = image.array_to_img(np.full((2, 2, 1), 300.0), scale=False)
    assert wide.mode == "I" and np.asarray(wide)[0, 0] == 300
    rgba = image.array_to_img(np.zeros((4, 2, 2)), data_format="channels_first")
    assert rgba.mode == "RGBA" and rgba.size == (2, 2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: image.array_to_img(np.zeros((2, 2))), "rank 3 .*shape: \\(2, 2\\)"),
        (lambda: image.array_to_img(np.zeros((2, 2, 2))), "Unsupported channel number: 2"),
        (lambda: image.array_to_img(np.zeros((2, 2, 3)), data_format="nchw"),
         "Invalid data_format: 'nchw'"),
        (lambda: image.img_to_array(np.zeros((2, 2, 3)), data_format="nhwc"),
         "Unknown data_format: 'nhwc'"),
        (lambda: image.img_to_array(np.zeros((1, 2, 2, 3))), "Unsupported image shape"),
    ],
)
def test_conversion_errors_are_keras_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_img_to_array_gives_float32_in_the_data_format():
    img = Image.fromarray(np.arange(6, dtype=np.uint8).reshape(2, 3))  # mode L
    x = image.img_to_array(img)
    assert x.dtype == np.float32 and x.shape == (2, 3, 1)
    assert x[..., 0].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert image.img_to_array(img, data_format="channels_first").shape == (1, 2, 3)
    rgb = Image.fromarray(np.zeros((2, 3, 3), np.uint8))
    assert image.img_to_array(rgb, "channels_first", dtype="uint8").shape == (3, 2, 3)
    assert image.img_to_array(rgb, dtype="float64").dtype == np.float64


@pytest.fixture
def photo(tmp_path):
    """A 10x20 RGBA PNG whose red channel is the column index times 10."""
    a = np.zeros((10, 20, 4), np.uint8)
    a[..., 0] = np.arange(20) * 10
    a[..., 1] = np.arange(10)[:, None] * 20
    a[..., 3] = 200
    path = tmp_path / "photo.png"
    Image.fromarray(a).save(path)
    return path, a


def test_load_img_reads_paths_bytes_and_buffers_in_the_color_mode(photo):
    path, a = photo
    for source in (path, str(path), str(path).encode(), io.BytesIO(path.read_bytes())):
        img = image.load_img(source)
        assert img.mode == "RGB" and img.size == (20, 10)
        np.testing.assert_array_equal(np.asarray(img), a[..., :3])
    assert np.asarray(image.load_img(path, color_mode="rgba")).tolist() == a.tolist()
    grey = image.load_img(path, color_mode="grayscale")
    expected = Image.fromarray(a).convert("L")
    assert grey.mode == "L" and np.asarray(grey).tolist() == np.asarray(expected).tolist()
    with pytest.warns(UserWarning, match="grayscale is deprecated"):
        assert image.load_img(path, grayscale=True).mode == "L"


def test_load_img_resizes_with_pil_and_crops_for_the_aspect_ratio(photo):
    path, _ = photo
    img = image.load_img(path, target_size=(5, 5), interpolation="bilinear")
    ref = Image.open(path).convert("RGB").resize((5, 5), Image.Resampling.BILINEAR)
    assert img.size == (5, 5) and np.asarray(img).tolist() == np.asarray(ref).tolist()
    kept = np.asarray(image.load_img(path, target_size=(5, 5), keep_aspect_ratio=True))
    # The centred 10x10 crop (columns 5..14), sampled at nearest: columns 6, 8, ..., 14.
    assert kept[0, :, 0].tolist() == [60, 80, 100, 120, 140]
    same = image.load_img(path, target_size=(10, 20), interpolation="no-such-filter")
    assert same.size == (20, 10)  # Keras checks the filter only when it resizes


def test_load_img_errors_are_keras_errors(photo):
    path, _ = photo
    with pytest.raises(TypeError, match="path should be path-like or io.BytesIO, not"):
        image.load_img(42)
    with pytest.raises(ValueError, match='color_mode must be "grayscale", "rgb", or "rgba"'):
        image.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method cubic specified. "
                                         "Supported methods are nearest, bilinear"):
        image.load_img(path, target_size=(4, 4), interpolation="cubic")
    with pytest.raises(FileNotFoundError):
        image.load_img(path.with_name("missing.png"))


def test_save_img_writes_what_load_img_reads(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (6, 5, 3)).astype(np.float32)
    path = tmp_path / "x.png"
    image.save_img(path, x, scale=False)
    np.testing.assert_array_equal(image.img_to_array(image.load_img(path)), x)
    first = tmp_path / "first.png"
    image.save_img(first, x.transpose(2, 0, 1), data_format="channels_first", scale=False)
    assert first.read_bytes() == path.read_bytes()
    buffer = io.BytesIO()
    with pytest.warns(UserWarning, match="does not support RGBA"):
        image.save_img(buffer, np.zeros((4, 4, 4)), file_format="jpeg")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == "RGB"


def test_smart_resize_crops_the_centre_then_resizes():
    # 4x8 image whose value is the column: size (2, 2) keeps the centred 4x4 crop (cols 2..5).
    x = np.tile(np.arange(8, dtype=np.float32), (4, 1))[..., None]
    near = image.smart_resize(x, (2, 2), interpolation="nearest")
    assert near[..., 0].tolist() == [[3, 5], [3, 5]]
    out = image.smart_resize(x, (2, 2))
    assert out.dtype == np.float32 and out.shape == (2, 2, 1)
    # Half-pixel centres: output column j samples crop column 2j + 0.5, the mean of a pair.
    assert out[..., 0].tolist() == [[2.5, 4.5], [2.5, 4.5]]


def test_smart_resize_upsamples_with_half_pixel_centres_and_clamped_taps():
    x = np.array([[[0.0], [8.0]]], np.float64)  # (1, 2, 1)
    out = image.smart_resize(x, (2, 4))
    # Columns at positions -0.25, 0.25, 0.75, 1.25 of the 2 source columns.
    assert out.dtype == np.float32 and out[..., 0].tolist() == [[0, 2, 6, 8]] * 2
    batch = image.smart_resize(np.stack([x, x + 1]), (2, 4))
    assert batch.shape == (2, 2, 4, 1) and batch[1, 0, :, 0].tolist() == [1, 3, 7, 9]
    ints = image.smart_resize(np.arange(8, dtype=np.uint8).reshape(2, 4, 1), (1, 2),
                              interpolation="nearest")
    assert ints.dtype == np.uint8 and ints[..., 0].tolist() == [[5, 7]]


@pytest.mark.parametrize(
    "args, error, match",
    [
        (((4, 4, 3), (2, 2, 2)), ValueError, r"`size` to be a tuple of 2 integers"),
        (((4, 4), (2, 2)), ValueError, r"incorrect rank, of shape \(4, 4\)"),
        (((4, 4, 3), (2, 2), "bicubic"), NotImplementedError, "bicubic"),
        (((4, 4, 3), (2, 2), "cubic"), ValueError, "interpolation.*cubic"),
        (((4, 4, 3), (0, 2)), ValueError, "size"),
        (((1, 2, 3), (1, 4)), ValueError, "crop"),
    ],
)
def test_smart_resize_errors(args, error, match):
    shape, *rest = args
    with pytest.raises(error, match=match):
        image.smart_resize(np.zeros(shape, np.float32), *rest)


def test_pathlib_paths_are_resolved(tmp_path, photo, monkeypatch):
    path, a = photo
    monkeypatch.chdir(path.parent)
    img = image.load_img(pathlib.Path(path.name))
    np.testing.assert_array_equal(np.asarray(img), a[..., :3])
