"""`augflow.pipeline.numpy_input_fn`: TensorFlow's argument names, checks and batch order
(spec §16), numpy arrays out."""

import itertools

import numpy as np
import pytest

from augflow.pipeline import numpy_input_fn


def _rows(input_fn):
    return [b.tolist() for b in input_fn()]


@pytest.mark.parametrize(
    "n, batch_size, num_epochs, expected",
    [
        (5, 2, 1, [[0, 1], [2, 3], [4]]),
        (3, 2, 3, [[0, 1], [2, 0], [1, 2], [0, 1], [2]]),
        (2, 128, 2, [[0, 1, 0, 1]]),
        (4, 3, 0, []),
    ],
)
def test_unshuffled_batches_run_across_epochs_as_in_tensorflow(n, batch_size, num_epochs,
                                                               expected):
    fn = numpy_input_fn(np.arange(n), batch_size=batch_size, num_epochs=num_epochs,
                        shuffle=False)
    assert _rows(fn) == expected
    assert _rows(fn) == expected  # every call of input_fn is a new pass


def test_dicts_give_dicts_in_key_order_with_their_dtypes():
    x = {"b": np.arange(4, dtype=np.uint8), "a": np.arange(8, dtype=np.float32).reshape(4, 2)}
    y = np.array([10, 11, 12, 13])
    batches = list(numpy_input_fn(x, y, batch_size=3, shuffle=False)())
    features, target = batches[0]
    assert list(features) == ["a", "b"]
    assert features["b"].dtype == np.uint8 and features["b"].tolist() == [0, 1, 2]
    assert features["a"].dtype == np.float32 and features["a"].shape == (3, 2)
    assert target.dtype == y.dtype and target.tolist() == [10, 11, 12]
    assert batches[1][1].tolist() == [13]
    (feats, targets), = numpy_input_fn(x, {"t": y}, batch_size=4, shuffle=False)()
    assert targets["t"].tolist() == y.tolist() and feats["b"].tolist() == [0, 1, 2, 3]


def test_shuffled_epochs_are_permutations_repeatable_by_seed():
    fn = numpy_input_fn(np.arange(10), batch_size=4, num_epochs=3, shuffle=True, seed=5)
    first = np.concatenate(list(fn()))
    for epoch in first.reshape(3, 10):
        assert sorted(epoch.tolist()) == list(range(10))
    assert np.array_equal(first, np.concatenate(list(fn())))
    assert not np.array_equal(first[:10], np.arange(10))
    threads = numpy_input_fn(np.arange(10), batch_size=4, num_epochs=3, shuffle=True, seed=5,
                             num_threads=3, queue_capacity=8)
    assert np.array_equal(first, np.concatenate(list(threads())))


def test_unseeded_passes_report_their_seed():
    fn = numpy_input_fn(np.arange(6), batch_size=6, shuffle=True)
    run = fn()
    replay = numpy_input_fn(np.arange(6), batch_size=6, shuffle=True, seed=run.seed)()
    assert next(run).tolist() == next(replay).tolist()


def test_endless_when_num_epochs_is_none():
    it = numpy_input_fn(np.arange(3), batch_size=2, num_epochs=None, shuffle=False)()
    assert it.num_batches is None
    assert [b.tolist() for b in itertools.islice(it, 4)] == [[0, 1], [2, 0], [1, 2], [0, 1]]


def test_shuffle_must_be_an_explicit_bool():
    with pytest.raises(ValueError, match=r"shuffle must be provided and explicitly set as "
                                         r"boolean .*; got None"):
        numpy_input_fn(np.arange(3))
    with pytest.raises(ValueError, match="got 1"):
        numpy_input_fn(np.arange(3), shuffle=1)


@pytest.mark.parametrize(
    "x, y, error, match",
    [
        ([1, 2, 3], None, TypeError, "x must be a dict or array; got list"),
        (np.arange(3), (1, 2, 3), TypeError, "y must be a dict or array; got tuple"),
        ({}, None, ValueError, "x cannot be an empty dict"),
        (np.zeros((0, 2)), None, ValueError, "x cannot be an empty array"),
        (np.arange(3), {}, ValueError, "y cannot be empty dict"),
        ({"a": np.arange(3)}, {"a": np.arange(3)}, ValueError,
         "1 duplicate keys are found in both x and y"),
        ({"a": np.arange(3), "b": np.arange(4)}, None, ValueError,
         "Length of tensors in x and y is mismatched"),
        (np.arange(3), np.arange(2), ValueError, "Length of tensors in x and y is mismatched"),
        ({"a": np.array(["s", "t"])}, None, ValueError, r"x\['a'\]"),
    ],
)
def test_data_errors_are_tensorflow_errors_at_input_fn_call(x, y, error, match):
    fn = numpy_input_fn(x, y, shuffle=False)  # the data is checked when input_fn is called
    with pytest.raises(error, match=match):
        fn()


@pytest.mark.parametrize("name, value", [("batch_size", 0), ("num_epochs", -1),
                                         ("queue_capacity", 0), ("num_threads", 0),
                                         ("batch_size", None)])
def test_bad_settings_name_the_argument(name, value):
    with pytest.raises(ValueError, match=f"`{name}`"):
        numpy_input_fn(np.arange(3), shuffle=False, **{name: value})
    with pytest.raises(TypeError, match="`batch_size`"):
        numpy_input_fn(np.arange(3), shuffle=False, batch_size=2.5)


def test_the_module_is_an_attribute_of_the_package():
    import augflow

    assert augflow.pipeline.numpy_input_fn is numpy_input_fn
