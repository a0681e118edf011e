"""`augflow.pipeline.numpy_function`: TensorFlow's `tf.numpy_function` calling convention,
checked by the Rust `UserFn` output contract (spec §17)."""

import traceback

import numpy as np
import pytest

from augflow.pipeline import numpy_function


def test_a_single_tout_returns_one_array_computed_from_the_inputs():
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    b = np.full((2, 3), 10, np.uint8)
    out = numpy_function(lambda x, y: x + y, [a, b], np.uint8)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, a + b)


def test_a_list_tout_returns_a_list_in_order_with_each_dtype():
    x = np.linspace(0, 1, 5, dtype=np.float32)

    def split(v):
        return (v * 2, (v > 0.5).astype(np.int64), v.astype(np.float64))

    out = numpy_function(split, (x,), [np.float32, "int64", float])
    assert isinstance(out, list) and len(out) == 3
    assert [o.dtype for o in out] == [np.float32, np.int64, np.float64]
    np.testing.assert_array_equal(out[0], x * 2)
    assert out[1].tolist() == [0, 0, 0, 1, 1]
    np.testing.assert_array_equal(out[2], x.astype(np.float64))


def test_the_function_receives_the_callers_array_without_a_copy():
    a = np.arange(4, dtype=np.int32)
    seen = []
    numpy_function(lambda v: seen.append(v) or v, [a], np.int32)
    assert seen[0] is a


def test_python_numbers_become_arrays_as_tensorflow_converts_them():
    seen = {}

    def record(f, i, big):
        seen.update(f=f.dtype, i=i.dtype, big=big.dtype)

    assert numpy_function(record, [1.5, [1, 2], 2**40], []) == []
    assert seen == {"f": np.float32, "i": np.int32, "big": np.int64}


def test_a_function_returning_none_has_no_outputs():
    assert numpy_function(lambda: None, [], []) == []


def test_a_float64_result_where_float32_is_declared_names_index_dtypes_and_the_fix():
    x = np.ones(3, np.float32)

    def scale(v):
        return v, v * np.float64(0.5) + np.zeros(3)  # the float64 trap, second output

    with pytest.raises(ValueError) as err:
        numpy_function(scale, [x], [np.float32, np.float32], name="scale")
    msg = str(err.value)
    assert "1-th value returned by scale is float64, but expects float32" in msg
    assert "float64-vs-float32" in msg


def test_an_integer_dtype_mismatch_is_refused_without_a_cast():
    with pytest.raises(ValueError, match="0-th value returned by to_int is int64, but "
                                         "expects uint8"):
        numpy_function(lambda v: v.astype(np.int64), [np.zeros(2, np.uint8)], np.uint8,
                       name="to_int")


@pytest.mark.parametrize("value, dtype", [(np.zeros(2, complex), "complex128"),
                                          ("abc", "str96"), ([object()], "object")])
def test_an_unsupported_returned_dtype_is_a_mismatch_at_its_index(value, dtype):
    with pytest.raises(ValueError, match=f"0-th value returned by f is {dtype}, but "
                                         "expects float64"):
        numpy_function(lambda: value, [], np.float64, name="f")


def test_a_byte_swapped_result_counts_as_its_dtype():
    swapped = np.arange(3, dtype=">f4")
    out = numpy_function(lambda: swapped, [], np.float32)
    assert out.dtype == np.float32 and out.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    "returned, tout, got, expected",
    [
        (lambda: (np.zeros(1), np.zeros(1)), np.float64, 2, 1),
        (lambda: np.zeros(1), [np.float64, np.float64], 1, 2),
        (lambda: None, np.float64, 0, 1),
        (lambda: [np.zeros(1), np.zeros(1, complex)], [np.float64], 2, 1),
    ],
)
def test_the_wrong_number_of_values_names_both_counts(returned, tout, got, expected):
    with pytest.raises(ValueError, match=f"f returns {got} values, but expects to see "
                                         f"{expected} values."):
        numpy_function(returned, [], tout, name="f")


def test_the_function_name_is_the_default_label():
    def my_step():
        return np.zeros(1, np.int8)

    with pytest.raises(ValueError, match="0-th value returned by my_step is int8"):
        numpy_function(my_step, [], np.uint8)


def test_an_exception_in_the_function_propagates_with_its_traceback():
    class Boom(Exception):
        pass

    def inner_failure(v):
        raise Boom(f"bad value {v.tolist()}")

    with pytest.raises(Boom, match=r"bad value \[1, 2\]") as err:
        numpy_function(inner_failure, [np.array([1, 2])], np.int64)
    frames = [f.name for f in traceback.extract_tb(err.value.__traceback__)]
    assert "inner_failure" in frames


@pytest.mark.parametrize(
    "kwargs, exc, needle",
    [
        (dict(func=3), TypeError, "`func`: got 3; expected a callable"),
        (dict(inp=np.zeros(3)), TypeError, "`inp`: got ndarray; expected a list or tuple"),
        (dict(inp=[[1, [2, 3]]]), ValueError, "`inp[0]`"),
        (dict(Tout=None), TypeError, "`Tout`: got None; expected a dtype"),
        (dict(Tout=[np.float32, "nonsense"]), TypeError, "`Tout[1]`: got 'nonsense'"),
        (dict(Tout=np.complex64), ValueError, "`Tout`: got complex64; expected one of"),
        (dict(Tout="float16"), ValueError, "`Tout`: got float16"),
        (dict(stateful="yes"), TypeError, "`stateful`: got 'yes'; expected True or False"),
        (dict(name=7), TypeError, "`name`: got 7; expected a str or None"),
    ],
)
def test_bad_arguments_raise_naming_the_argument_and_value(kwargs, exc, needle):
    calls = []
    args = dict(func=lambda *a: calls.append(a), inp=[np.zeros(2)], Tout=[], stateful=True,
                name=None)
    args.update(kwargs)
    with pytest.raises(exc) as err:
        numpy_function(**args)
    assert needle in str(err.value)
    assert calls == []  # refused before the function ran


@pytest.mark.parametrize("stateful", [True, False])
def test_stateful_and_stateless_calls_both_run_every_time(stateful):
    calls = []

    def count(v):
        calls.append(1)
        return v

    for _ in range(3):
        numpy_function(count, [np.zeros(1, np.float32)], np.float32, stateful=stateful)
    assert len(calls) == 3
