"""``numpy_function``: TensorFlow's ``tf.numpy_function`` without TensorFlow, run under the
output contract of augflow's Rust ``UserFn`` (spec §17)."""

import numpy as np

from . import _augflow

__all__ = ["numpy_function"]

# The dtypes augflow's arrays hold (the Rust `DType`), by NumPy name.
_SUPPORTED = (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
    "float32", "float64",
)
_INT32 = np.iinfo(np.int32)


def _declared_dtype(where, value):
    """The NumPy name of one entry of ``Tout``: a NumPy dtype, a dtype name, a Python type
    (``float`` is float64, as in NumPy) or a TensorFlow ``DType`` (by its ``as_numpy_dtype``)."""
    value = getattr(value, "as_numpy_dtype", value)
    try:
        name = None if value is None else np.dtype(value).name
    except TypeError:
        name = None
    if name is None:
        raise TypeError(
            f"invalid `{where}`: got {value!r}; expected a dtype such as np.float32 or \"uint8\""
        )
    if name not in _SUPPORTED:
        raise ValueError(
            f"invalid `{where}`: got {name}; expected one of {', '.join(_SUPPORTED)}"
        )
    return name


def _as_input(where, value):
    """One entry of ``inp`` as the array the function receives. Arrays and NumPy scalars pass
    as they are (no copy); Python numbers and lists become arrays as ``tf.convert_to_tensor``
    makes them: floats float32, integers int32 (int64 beyond int32's range)."""
    if isinstance(value, np.ndarray):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"invalid `{where}`: got {value!r}; expected an array or a value numpy can convert "
            f"to one ({err})"
        ) from err
    if isinstance(value, np.generic):
        return array
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64 and (
        array.size == 0 or (array.min() >= _INT32.min and array.max() <= _INT32.max)
    ):
        return array.astype(np.int32)
    return array


def _as_array(value):
    """A returned value as an array in the machine's byte order (a byte-swapped float32 is
    still float32, as a tensor made from it would be)."""
    array = np.asarray(value)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _as_outputs(returned):
    """What the function returned as a list of arrays, TensorFlow's way: a list or tuple is
    one value per entry, ``None`` is no value, anything else is one value."""
    if returned is None:
        return []
    if isinstance(returned, (list, tuple)):
        return [_as_array(v) for v in returned]
    return [_as_array(returned)]


def numpy_function(func, inp, Tout, stateful=True, name=None):
    """Calls a Python function on numpy arrays and checks what it returns
    (``tf.numpy_function``, spec §17).

    ``func(*inp)`` runs at once, in the calling thread (as in TensorFlow's eager mode). What
    it returns, a list or tuple of values, one value, or None for none, is checked against
    ``Tout`` by augflow's ``UserFn`` contract, the one Rust pipelines use: first the number of
    values, then each dtype exactly (nothing is cast; a float64 result where float32 is
    declared is an error, with the fix in the message). The Rust contract is reused through
    the extension, so both languages give the same checks and the same messages; each value
    returned is copied once into augflow's memory, as TensorFlow copies it into a tensor.

    Args:
        func: A Python callable taking ``len(inp)`` numpy arrays.
        inp: A list or tuple of inputs. Arrays and NumPy scalars are passed as they are,
            without a copy; Python numbers and lists are converted as TensorFlow converts
            them (floats to float32, integers to int32).
        Tout: A dtype (NumPy dtype, dtype name, Python type or ``tf.DType``), or a list or
            tuple of them, one per value ``func`` returns. augflow's arrays hold bool,
            (u)int8 to (u)int64, float32 and float64.
        stateful: A bool. True (TensorFlow's default) promises nothing about the function;
            TensorFlow uses False to let its graph optimizer merge or drop calls. Here every
            call runs, so both behave the same; the value is checked and kept for the
            contract (a stateful ``UserFn`` never runs two calls at once).
        name: A str or None: the name in error messages (None: ``func.__name__``).

    Returns:
        One numpy array when ``Tout`` is a single dtype, a list of arrays when it is a list or
        tuple (as TensorFlow returns tensors).

    Raises:
        TypeError: when ``func`` is not callable, ``inp`` is not a list or tuple, ``Tout``
            holds something that is not a dtype, ``stateful`` is not a bool or ``name`` is
            neither a str nor None.
        ValueError: when ``Tout`` names a dtype augflow cannot hold, or when ``func`` returns
            the wrong number of values or a value of another dtype: the message names the
            position, the dtype returned and the one expected
            (``"0-th value returned by f is float64, but expects float32"``).
        Exception: whatever ``func`` raises, unchanged, with its traceback.

    Example:
        >>> import numpy as np
        >>> from augflow.pipeline import numpy_function
        >>> numpy_function(lambda a: a * 2, [np.arange(3, dtype=np.float32)], np.float32)
        array([0., 2., 4.], dtype=float32)
    """
    if not callable(func):
        raise TypeError(f"invalid `func`: got {func!r}; expected a callable")
    if not isinstance(inp, (list, tuple)):
        raise TypeError(
            f"invalid `inp`: got {type(inp).__name__}; expected a list or tuple of arrays"
        )
    if not isinstance(stateful, bool):
        raise TypeError(f"invalid `stateful`: got {stateful!r}; expected True or False")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"invalid `name`: got {name!r}; expected a str or None")
    single = not isinstance(Tout, (list, tuple))
    if single:
        declared = [_declared_dtype("Tout", Tout)]
    else:
        declared = [_declared_dtype(f"Tout[{i}]", t) for i, t in enumerate(Tout)]
    args = [_as_input(f"inp[{i}]", v) for i, v in enumerate(inp)]
    label = name if name is not None else getattr(func, "__name__", type(func).__name__)
    outputs = _augflow.numpy_function(
        lambda: _as_outputs(func(*args)), declared, stateful, label
    )
    return outputs[0] if single else outputs
