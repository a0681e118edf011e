"""The transforms of `augflow.keras.preprocessing.image` (Keras 2.9's module functions):
signatures, Keras' results (spec formulas, golden values and the conformance set), numpy's
global generator, Keras' errors."""

import inspect
import json
import os
import pathlib

import numpy as np
import pytest

from augflow.keras.preprocessing import image

CONFORMANCE = pathlib.Path(
    os.environ.get(
        "AUGFLOW_CONFORMANCE",
        pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "conformance",
    )
)
GEOMETRY = {"theta", "tx", "ty", "shear", "zx", "zy"}
LAST = dict(row_axis=0, col_axis=1, channel_axis=2)  # an (H, W, C) image

# Keras 2.9's signatures (keras/preprocessing/image.py, keras/utils/image_utils.py).
KERAS_SIGNATURES = {
    "array_to_img": "(x, data_format=None, scale=True, dtype=None)",
    "img_to_array": "(img, data_format=None, dtype=None)",
    "load_img": "(path, grayscale=False, color_mode='rgb', target_size=None, "
                "interpolation='nearest', keep_aspect_ratio=False)",
    "save_img": "(path, x, data_format=None, file_format=None, scale=True, **kwargs)",
    "smart_resize": "(x, size, interpolation='bilinear')",
    "apply_affine_transform": "(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1, "
                              "col_axis=2, channel_axis=0, fill_mode='nearest', cval=0.0, "
                              "order=1)",
    "apply_brightness_shift": "(x, brightness, scale=True)",
    "apply_channel_shift": "(x, intensity, channel_axis=0)",
    "random_rotation": "(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode='nearest', "
                       "cval=0.0, interpolation_order=1)",
    "random_shift": "(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, "
                    "fill_mode='nearest', cval=0.0, interpolation_order=1)",
    "random_shear": "(x, intensity, row_axis=1, col_axis=2, channel_axis=0, "
                    "fill_mode='nearest', cval=0.0, interpolation_order=1)",
    "random_zoom": "(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, "
                   "fill_mode='nearest', cval=0.0, interpolation_order=1)",
    "random_channel_shift": "(x, intensity_range, channel_axis=0)",
    "random_brightness": "(x, brightness_range, scale=True)",
}


def _cases(only):
    index = json.loads((CONFORMANCE / "index.json").read_text())
    return [c for c in index["cases"] if c["kind"] == "apply_transform"
            and c["params"] and set(c["params"]) <= only]


def _case_arrays(case):
    return np.load(CONFORMANCE / case["input"]), np.load(CONFORMANCE / case["expected"])


def test_every_keras_name_is_exported_with_keras_signature():
    classes = {"ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator",
               "DataFrameIterator"}
    assert set(image.__all__) == classes | set(KERAS_SIGNATURES)
    for name, signature in KERAS_SIGNATURES.items():
        function = getattr(image, name)
        assert str(inspect.signature(function)) == signature, name
        assert function.__doc__, name


def test_the_conformance_cases_used_here_are_found():
    assert len(_cases(GEOMETRY)) == 172
    assert len(_cases({"channel_shift_intensity"})) == 4
    assert len(_cases({"brightness"})) == 4


@pytest.mark.parametrize("case", _cases(GEOMETRY) if CONFORMANCE.exists() else [],
                         ids=lambda c: c["id"])
def test_apply_affine_transform_gives_keras_result(case):
    x, expected = _case_arrays(case)
    g = case["generator"]
    kw = dict(fill_mode=g["fill_mode"], cval=g["cval"], order=g["interpolation_order"])
    out = image.apply_affine_transform(x, **case["params"], **LAST, **kw)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=case["tolerance"]["atol"], rtol=0)
    # The default axes are Keras' channels-first ones.
    first = image.apply_affine_transform(x.transpose(2, 0, 1), **case["params"], **kw)
    np.testing.assert_array_equal(first, out.transpose(2, 0, 1))


def test_golden_values_of_the_spec():
    """Spec §20 G1 (3x4 image, Keras' transposed centre) and §5.4 (4x4, theta=90)."""
    x = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    zoomed = image.apply_affine_transform(x, zx=2, order=0, **LAST)
    assert zoomed[..., 0].tolist() == [[0, 1, 3, 3], [4, 5, 7, 7], [8, 9, 11, 11]]
    np.testing.assert_array_equal(image.apply_affine_transform(x, zy=2, order=0, **LAST), x)
    turned = image.apply_affine_transform(x, theta=180, **LAST)
    assert turned[..., 0].tolist() == [[10, 9, 8, 8], [10, 9, 8, 8], [6, 5, 4, 4]]
    square = np.arange(16, dtype=np.float64).reshape(1, 4, 4)  # (C, H, W): the defaults
    out = image.apply_affine_transform(square, theta=90, order=0)
    assert out.dtype == np.float64
    assert out[0].tolist() == [[3, 7, 11, 15], [2, 6, 10, 14], [1, 5, 9, 13], [0, 4, 8, 12]]


def test_swapped_row_and_column_axes_transpose_the_image():
    x = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    params = dict(theta=20, tx=1.5, zy=1.2, fill_mode="reflect")
    out = image.apply_affine_transform(x, **params, **LAST)
    swapped = image.apply_affine_transform(
        x.transpose(1, 0, 2), row_axis=1, col_axis=0, channel_axis=2, **params)
    np.testing.assert_allclose(swapped, out.transpose(1, 0, 2), atol=1e-5)


def test_no_active_factor_returns_the_input_itself():
    x = np.ones((3, 4, 5), np.float32)
    assert image.apply_affine_transform(x) is x
    assert image.apply_affine_transform(x, zx=1.0, theta=0.0) is x


def test_integer_images_keep_their_dtype_rounded_as_scipy_rounds():
    x = (np.arange(60).reshape(3, 4, 5) * 4).astype(np.uint8)
    out = image.apply_affine_transform(x, theta=33, fill_mode="constant", cval=-7)
    exact = image.apply_affine_transform(x.astype(np.float64), theta=33, fill_mode="constant",
                                         cval=-7)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.clip(np.floor(exact + 0.5), 0, 255))
    signed = image.apply_affine_transform(x.astype(np.int32) - 100, theta=33)
    assert signed.dtype == np.int32
    assert signed.min() < 0
    with pytest.raises(ValueError, match="`x`.*complex64"):
        image.apply_affine_transform(x.astype(np.complex64), theta=33)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(row_axis=1, col_axis=1), ValueError, "must be distinct"),
        (dict(row_axis=1, col_axis=3), ValueError, r"Invalid axis' indices: \{3\}"),
        (dict(row_axis=0, col_axis=2, channel_axis=1), ValueError, "`channel_axis` is 1"),
        (dict(fill_mode="mirror"), NotImplementedError, "fill_mode"),
        (dict(fill_mode="bogus"), ValueError, "fill_mode.*nearest"),
        (dict(order=3), NotImplementedError, "interpolation_order"),
        (dict(order=-1), ValueError, "order"),
        (dict(theta=float("nan")), ValueError, "theta"),
    ],
)
def test_bad_arguments_raise_keras_exception_types(kwargs, error, match):
    with pytest.raises(error, match=match):
        image.apply_affine_transform(np.zeros((3, 4, 5), np.float32), **{"theta": 10, **kwargs})


@pytest.mark.parametrize("shape", [(4, 5), (1, 3, 4, 5)])
def test_a_wrong_rank_is_a_value_error_naming_x(shape):
    x = np.zeros(shape, np.float32)
    for call in (lambda: image.apply_affine_transform(x, theta=3),
                 lambda: image.random_shift(x, 0.1, 0.1),
                 lambda: image.apply_channel_shift(x, 3.0)):
        with pytest.raises(ValueError, match="`x` has shape"):
            call()
    with pytest.raises(ValueError, match="rank 3"):
        image.apply_brightness_shift(x, 1.2)


def _draws(seed, *ranges, size=None):
    rs = np.random.RandomState(seed)
    return [rs.uniform(lo, hi, size) for lo, hi in ranges], rs


def _same_stream(rs):
    """The global generator is where a private one with the same draws is."""
    assert np.random.random() == rs.random()


def test_random_rotation_draws_from_numpy_global_generator():
    x = np.random.default_rng(1).random((3, 9, 9)).astype(np.float32)
    np.random.seed(42)
    out = image.random_rotation(x, 30, fill_mode="constant")
    # Spec §1.1: seed(42) -> uniform(-30, 30) = -7.527592869158251.
    expected = image.apply_affine_transform(x, theta=-7.527592869158251, fill_mode="constant")
    np.testing.assert_array_equal(out, expected)
    _, rs = _draws(42, (-30, 30))
    _same_stream(rs)


def test_random_shift_draws_tx_from_hrg_first():
    x = np.random.default_rng(2).random((6, 10, 3)).astype(np.float32)
    np.random.seed(7)
    out = image.random_shift(x, 0.2, 0.3, **LAST)
    (u_h, u_w), rs = _draws(7, (-0.3, 0.3), (-0.2, 0.2))
    expected = image.apply_affine_transform(x, tx=u_h * 6, ty=u_w * 10, **LAST)
    np.testing.assert_array_equal(out, expected)
    _same_stream(rs)


def test_random_shear_and_zoom_draw_as_keras():
    x = np.random.default_rng(3).random((2, 8, 8)).astype(np.float32)
    np.random.seed(5)
    sheared = image.random_shear(x, 20, interpolation_order=0)
    np.random.seed(5)
    zoomed = image.random_zoom(x, (0.5, 1.5), fill_mode="wrap")
    (s,), _ = _draws(5, (-20, 20))
    (z,), rs = _draws(5, (0.5, 1.5), size=2)
    np.testing.assert_array_equal(
        sheared, image.apply_affine_transform(x, shear=s, order=0))
    np.testing.assert_array_equal(
        zoomed, image.apply_affine_transform(x, zx=z[0], zy=z[1], fill_mode="wrap"))
    _same_stream(rs)


def test_random_zoom_of_one_draws_nothing_and_checks_its_range():
    x = np.ones((1, 4, 4), np.float32)
    np.random.seed(9)
    assert image.random_zoom(x, [1, 1]) is x
    _same_stream(np.random.RandomState(9))
    with pytest.raises(ValueError, match=r"`zoom_range` should be a tuple or list of two "
                                         r"floats. Received: \[0.5, 1, 2\]"):
        image.random_zoom(x, [0.5, 1, 2])


def test_apply_channel_shift_clips_to_the_image_range():
    x = np.array([[[0, 10, 250]], [[30, 40, 100]]], np.float32)  # (2, 1, 3)
    out = image.apply_channel_shift(x, 20.0)
    np.testing.assert_array_equal(out, np.clip(x + 20, 0, 250))
    assert out.dtype == np.float32 and out is not x
    np.testing.assert_array_equal(image.apply_channel_shift(x, 20.0, channel_axis=2), out)
    ints = image.apply_channel_shift(x.astype(np.uint8), -5.5)
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints, np.clip(x - 5.5, 0, 250))
    with pytest.raises(ValueError, match="channel_axis"):
        image.apply_channel_shift(x, 1.0, channel_axis=3)


@pytest.mark.parametrize("case", _cases({"channel_shift_intensity"})
                         if CONFORMANCE.exists() else [], ids=lambda c: c["id"])
def test_apply_channel_shift_gives_keras_result(case):
    x, expected = _case_arrays(case)
    out = image.apply_channel_shift(x, case["params"]["channel_shift_intensity"], 2)
    np.testing.assert_allclose(out, expected, atol=case["tolerance"]["atol"], rtol=0)


def test_random_channel_shift_draws_as_keras():
    x = np.random.default_rng(4).random((3, 5, 5)).astype(np.float32) * 255
    np.random.seed(11)
    out = image.random_channel_shift(x, 50.0)
    (i,), rs = _draws(11, (-50.0, 50.0))
    np.testing.assert_array_equal(out, image.apply_channel_shift(x, i))
    _same_stream(rs)


@pytest.mark.parametrize("case", _cases({"brightness"}) if CONFORMANCE.exists() else [],
                         ids=lambda c: c["id"])
def test_apply_brightness_shift_without_scale_gives_keras_result(case):
    x, expected = _case_arrays(case)
    out = image.apply_brightness_shift(x, case["params"]["brightness"], scale=False)
    np.testing.assert_allclose(out, expected, atol=case["tolerance"]["atol"], rtol=0)


def test_channel_shift_then_brightness_golden_g4():
    """Spec §20 G4: ImageDataGenerator's order, channel shift then brightness."""
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3) * 20
    shifted = image.apply_channel_shift(x, 0.9932495575741829, channel_axis=2)
    out = image.apply_brightness_shift(shifted, 0.9353223926182769, scale=False)
    assert out.tolist() == [[[0, 18, 37], [56, 74, 93]], [[112, 130, 149], [168, 187, 205]]]


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("factor", [0.0, 0.45, 1.0, 1.7, -0.3])
def test_apply_brightness_shift_equals_keras_pil_path(channels, factor):
    """Keras' body, run with Pillow: array_to_img (scale), ImageEnhance, img_to_array."""
    from PIL import ImageEnhance

    x = np.random.default_rng(channels).random((6, 7, channels)) * 3 - 1  # float64, -1..2
    pil = ImageEnhance.Brightness(image.array_to_img(x, scale=True)).enhance(factor)
    expected = image.img_to_array(pil)
    out = image.apply_brightness_shift(x, factor)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    back = image.apply_brightness_shift(x, factor, scale=False)
    np.testing.assert_array_equal(back, expected / 255 * (x.max() - x.min()) + x.min())


def test_brightness_errors_are_keras_errors():
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        image.apply_brightness_shift(np.zeros((3, 3, 2), np.float32), 1.1)
    with pytest.raises(ValueError, match="brightness"):
        image.apply_brightness_shift(np.zeros((3, 3, 3), np.float32), float("inf"))
    with pytest.raises(ValueError, match=r"`brightness_range should be tuple or list of two "
                                         r"floats. Received: \(0.5,\)"):
        image.random_brightness(np.zeros((3, 3, 3), np.float32), (0.5,))


def test_random_brightness_draws_as_keras():
    x = np.random.default_rng(5).random((4, 4, 3)).astype(np.float32) * 255
    np.random.seed(13)
    out = image.random_brightness(x, (0.5, 1.5), scale=False)
    (u,), rs = _draws(13, (0.5, 1.5))
    np.testing.assert_array_equal(out, image.apply_brightness_shift(x, u, scale=False))
    _same_stream(rs)
