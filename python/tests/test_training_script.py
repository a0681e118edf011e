"""A Keras 2.9 training script runs end to end with only its import line changed:
`flow` with a validation split and ZCA (`fit`), `flow_from_directory` with `save_to_dir`,
and Keras 3's `model.fit` on augflow's iterators (JAX backend). CI installs keras and jax;
without them the test is skipped with the reason."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).parent / "scripts" / "keras_training.py"
KERAS_IMPORT = "from keras.preprocessing.image import ImageDataGenerator\n"
AUGFLOW_IMPORT = "from augflow.keras.preprocessing.image import ImageDataGenerator\n"


def test_the_keras_script_changed_only_in_its_import_trains(tmp_path):
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("keras and jax are not installed (CI installs them)")
    original = SCRIPT.read_text()
    assert original.count(KERAS_IMPORT) == 1
    script = tmp_path / "train.py"
    script.write_text(original.replace(KERAS_IMPORT, AUGFLOW_IMPORT))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                         text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    # 48 images, a quarter for validation (Keras' split): 36 and 12, in batches of 8.
    assert (seen["train_batches"], seen["val_batches"]) == (5, 2)
    assert len(seen["losses"]) == 2 and len(seen["val_losses"]) == 2
    assert all(v == v and v < 10 for v in seen["losses"] + seen["val_losses"])  # finite
    assert seen["zca_shape"] == [12 * 12 * 3, 12 * 12 * 3]
    assert seen["class_indices"] == {"cats": 0, "dogs": 1}
    assert seen["folder_samples"] == 10
    assert seen["saved"] == 10  # one epoch of 10 images, each saved once
