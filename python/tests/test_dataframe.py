"""`flow_from_dataframe` over a pandas DataFrame (pandas is imported only there)."""

import subprocess
import sys

import numpy as np
import pytest

import augflow

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame(class_folder):
    df = pd.DataFrame({
        "filename": ["cats/0.png", "dogs/1.png", "cats/2.png", "missing.png"],
        "class": ["cat", "dog", "cat", "dog"],
        "score": [0.5, 1.5, 2.5, 3.5],
        "w": [1.0, 2.0, 3.0, 4.0],
    })
    return df, class_folder


def test_categorical_batches_and_keras_attributes(frame):
    df, root = frame
    it = augflow.ImageDataGenerator().flow_from_dataframe(
        df, directory=root, target_size=(4, 5), batch_size=2, shuffle=False, weight_col="w")
    assert it.filenames == ["cats/0.png", "dogs/1.png", "cats/2.png"]  # missing.png dropped
    assert it.class_indices == {"cat": 0, "dog": 1}
    np.testing.assert_array_equal(it.classes, [0, 1, 0])
    assert (it.n, len(it), it.image_shape) == (3, 2, (4, 5, 3))
    x, y, w = it[0]
    assert x.shape == (2, 4, 5, 3)
    np.testing.assert_array_equal(y, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(w, [1.0, 2.0])


def test_raw_and_sparse_modes(frame):
    df, root = frame
    gen = augflow.ImageDataGenerator()
    _, y = gen.flow_from_dataframe(df, root, y_col="score", class_mode="raw",
                                   target_size=(4, 4), shuffle=False)[0]
    np.testing.assert_allclose(np.ravel(y), [0.5, 1.5, 2.5])
    _, y = gen.flow_from_dataframe(df, root, class_mode="sparse", target_size=(4, 4),
                                   shuffle=False)[0]
    np.testing.assert_array_equal(y, [0, 1, 0])
    x = gen.flow_from_dataframe(df, root, class_mode=None, target_size=(4, 4), shuffle=False)[0]
    assert isinstance(x, np.ndarray) and len(x) == 3


def test_multi_label_rows_are_lists(frame):
    df, root = frame
    df = df.copy()
    df["class"] = [["cat"], ["cat", "dog"], ["dog"], ["dog"]]
    it = augflow.ImageDataGenerator().flow_from_dataframe(df, root, target_size=(4, 4),
                                                          shuffle=False)
    _, y = it[0]
    np.testing.assert_array_equal(y, [[1, 0], [1, 1], [0, 1]])


def test_bad_columns_name_the_argument(frame):
    df, root = frame
    gen = augflow.ImageDataGenerator()
    for kwargs, name in [({"x_col": "path"}, "x_col"), ({"y_col": "label"}, "y_col"),
                         ({"weight_col": "weight"}, "weight_col")]:
        with pytest.raises(ValueError, match=name):
            gen.flow_from_dataframe(df, root, **kwargs)
    with pytest.raises(ValueError, match="dataframe"):
        gen.flow_from_dataframe({"filename": []}, root)


def test_pandas_is_imported_only_by_flow_from_dataframe():
    code = "import sys, augflow; augflow.ImageDataGenerator(); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
