"""The class augflow's iterators derive from, chosen once, when ``augflow`` is imported, so
that Keras' ``model.fit`` takes them as its own kind of dataset:

- ``keras.utils.PyDataset`` when Keras 3 is importable;
- ``keras.utils.Sequence`` under Keras 2 (the class of ``tf.keras.utils.Sequence`` since
  TensorFlow 2.6), else ``tensorflow.keras.utils.Sequence`` for older TensorFlow;
- ``object`` when neither is installed: augflow needs neither.

Importing Keras costs what it costs (its backend loads too); without Keras nothing is paid.
"""

__all__ = ["SequenceBase"]


def _import_quietly(name):
    """The module ``name``, or None when it is missing or fails to import: a broken Keras or
    TensorFlow install must not break augflow."""
    import importlib

    try:
        return importlib.import_module(name)
    except Exception:  # ImportError, and whatever a half-installed backend raises
        return None


def _sequence_base():
    keras = _import_quietly("keras")
    utils = getattr(keras, "utils", None)
    for name in ("PyDataset", "Sequence"):
        base = getattr(utils, name, None)
        if isinstance(base, type):
            return base
    if keras is None:
        tf_keras = _import_quietly("tensorflow.keras.utils")
        base = getattr(tf_keras, "Sequence", None)
        if isinstance(base, type):
            return base
    return object


SequenceBase = _sequence_base()
"""``keras.utils.PyDataset``, a Keras 2 ``Sequence`` or ``object`` (see the module)."""
