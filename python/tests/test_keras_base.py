"""augflow's iterators derive from Keras' dataset class when Keras is importable (chosen when
`augflow` is imported), so `model.fit` takes them as its own. CI has no Keras: each test
injects a stand-in `keras` module into `sys.modules` of a fresh interpreter before
`import augflow`."""

import subprocess
import sys
import textwrap

import pytest

CHECK = textwrap.dedent("""
    import pickle, sys, types
    import numpy as np

    keras = types.ModuleType("keras")
    keras.utils = types.ModuleType("keras.utils")
    sys.modules["keras"], sys.modules["keras.utils"] = keras, keras.utils

    class PyDataset:  # Keras 3's constructor and the property its adapter reads
        def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
            self._workers = workers

        @property
        def workers(self):
            return self._workers

    class Sequence:  # Keras 2's: iterating it walks its batches once
        def __iter__(self):
            return (self[i] for i in range(len(self)))

    if sys.argv[1] in ("keras3", "both"):
        keras.utils.PyDataset = PyDataset
    if sys.argv[1] in ("keras2", "both"):
        keras.utils.Sequence = Sequence
    import augflow

    x = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4, 1)
    it = augflow.ImageDataGenerator().flow(x, np.arange(5), batch_size=2, shuffle=False)
    bases = [c.__name__ for c in type(it).__mro__ if c in (PyDataset, Sequence)]
    last_x, last_y = it[2]
    endless = [next(it)[1].tolist() for _ in range(4)]  # augflow's endless next(), not Keras'
    copy = pickle.loads(pickle.dumps(it))
    print(bases, getattr(it, "workers", None), len(it), last_x.shape, last_y.tolist(),
          endless, isinstance(copy, type(it)), getattr(copy, "workers", None))
""")


@pytest.mark.parametrize(
    "installed, bases, workers",
    [
        ("keras3", "['PyDataset']", "1"),
        ("both", "['PyDataset']", "1"),  # Keras 3 also has Sequence (an alias): PyDataset wins
        ("keras2", "['Sequence']", "None"),
        ("neither", "[]", "None"),
    ],
)
def test_iterators_derive_from_the_installed_keras_dataset_class(installed, bases, workers):
    out = subprocess.run([sys.executable, "-c", CHECK, installed], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        bases, workers, "3", "(1,", "4,", "4,", "1)", "[4]",
        "[[0,", "1],", "[2,", "3],", "[4],", "[0,", "1]]", "True", workers,
    ]
