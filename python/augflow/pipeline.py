"""Input pipelines: TensorFlow's ``numpy_input_fn`` and ``numpy_function`` without TensorFlow.

``numpy_input_fn(x, y, ...)`` returns an ``input_fn``; each call of ``input_fn()`` is one
pass over the data (``num_epochs`` epochs), an iterator of batches of numpy arrays built by
augflow's Rust pipeline with the GIL released. ``numpy_function(func, inp, Tout)`` calls a
Python function on arrays and checks its outputs against ``Tout``.
"""

import numpy as np

from . import _augflow
from ._iterator import _integer
from ._user_function import numpy_function

__all__ = ["numpy_function", "numpy_input_fn"]


def _at_least(name, value, low):
    checked = _integer(name, value)
    if checked is None or checked < low:
        raise ValueError(f"invalid `{name}`: got {value!r}; expected an integer >= {low}")
    return checked


def _check_columns(name, value):
    if not isinstance(value, (dict, np.ndarray)):
        raise TypeError(f"{name} must be a dict or array; got {type(value).__name__}")


def numpy_input_fn(
    x,
    y=None,
    batch_size=128,
    num_epochs=1,
    shuffle=None,
    queue_capacity=1000,
    num_threads=1,
    *,
    seed=None,
):
    """Returns an input function that feeds dicts of numpy arrays into a model
    (``tf.compat.v1.estimator.inputs.numpy_input_fn``, spec §16).

    The rows ``0..N-1`` are cut into batches of ``batch_size`` that run across epoch
    boundaries (only the very last batch may be short): with ``shuffle=False`` exactly the
    row order repeated ``num_epochs`` times, as TensorFlow gives it with one thread; with
    ``shuffle=True`` every epoch a permutation of the rows, drawn from ``seed`` (unlike
    TensorFlow, repeatable). ``num_threads`` threads build batches ahead (at most
    ``queue_capacity`` rows); the output does not depend on them.

    Args:
        x: A numpy array, or a dict of names to numpy arrays with the same first dimension.
        y: None, a numpy array, or a dict of names to arrays (keys distinct from ``x``'s).
        batch_size: Rows per batch (>= 1).
        num_epochs: Passes over the data; None repeats forever.
        shuffle: Required, True or False: whether each epoch is shuffled.
        queue_capacity: Rows buffered ahead when ``num_threads > 1`` (>= 1).
        num_threads: Threads that build batches (>= 1).
        seed: Keyword-only, beyond TensorFlow: the shuffling seed (None: drawn from the OS
            for each pass; the pass's ``seed`` attribute gives it back).

    Returns:
        ``input_fn()``: each call checks ``x`` and ``y`` as TensorFlow does and returns an
        iterator of batches: ``features`` (the array for an array ``x``, else a dict in
        key order), or ``(features, target)`` when ``y`` is given. Its ``num_batches`` is
        the number of batches (None when endless).

    Raises:
        ValueError: when ``shuffle`` is not a bool (here), when an array is empty, lengths
            differ or keys repeat (at ``input_fn()``), as in TensorFlow.
        TypeError: when ``x`` or ``y`` is neither a dict nor an array (at ``input_fn()``).

    Example:
        >>> import numpy as np
        >>> from augflow.pipeline import numpy_input_fn
        >>> input_fn = numpy_input_fn({"a": np.arange(5)}, np.arange(5) * 10, batch_size=2,
        ...                           shuffle=False)
        >>> [(f["a"].tolist(), t.tolist()) for f, t in input_fn()]
        [([0, 1], [0, 10]), ([2, 3], [20, 30]), ([4], [40])]
    """
    if not isinstance(shuffle, bool):
        raise ValueError(
            "shuffle must be provided and explicitly set as boolean (it is recommended to "
            f"set it as True for training); got {shuffle}"
        )
    settings = (
        _at_least("batch_size", batch_size, 1),
        None if num_epochs is None else _at_least("num_epochs", num_epochs, 0),
        shuffle,
        _at_least("queue_capacity", queue_capacity, 1),
        _at_least("num_threads", num_threads, 1),
        None if seed is None else _at_least("seed", seed, 0),
    )

    def input_fn():
        _check_columns("x", x)
        if y is not None:
            _check_columns("y", y)
        return _augflow.input_fn(x, y, settings)

    return input_fn
