"""`flow_from_directory`: Keras' attributes and batches over a folder the test writes."""

import numpy as np

import augflow


def test_attributes_as_keras(class_folder):
    it = augflow.ImageDataGenerator().flow_from_directory(
        class_folder, target_size=(8, 10), batch_size=2, shuffle=False)
    assert it.class_indices == {"cats": 0, "dogs": 1}
    assert it.num_classes == 2
    assert it.filenames == ["cats/0.png", "cats/1.png", "cats/2.png", "dogs/0.png", "dogs/1.png"]
    assert it.filepaths == [str(class_folder / f) for f in it.filenames]
    np.testing.assert_array_equal(it.classes, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(it.labels, it.classes)
    assert (it.n, it.samples, len(it), it.image_shape) == (5, 5, 3, (8, 10, 3))


def test_batches_hold_the_decoded_images_and_one_hot_labels(class_folder):
    it = augflow.ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        class_folder, target_size=(8, 10), batch_size=4, shuffle=False)
    x, y = it[0]
    assert x.shape == (4, 8, 10, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[1, 0, 0], np.array([40, 0, 7]) / 255, rtol=1e-6)
    np.testing.assert_allclose(x[3, 0, 0], np.array([0, 100, 7]) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, [[1, 0], [1, 0], [1, 0], [0, 1]])


def test_class_modes_give_keras_tuples(class_folder):
    gen = augflow.ImageDataGenerator()
    kw = dict(target_size=(4, 4), batch_size=5, shuffle=False)
    x = gen.flow_from_directory(class_folder, class_mode=None, **kw)[0]
    assert isinstance(x, np.ndarray) and x.shape == (5, 4, 4, 3)
    _, y = gen.flow_from_directory(class_folder, class_mode="sparse", **kw)[0]
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1])
    x, y = gen.flow_from_directory(class_folder, class_mode="input", **kw)[0]
    np.testing.assert_array_equal(x, y)
    x = gen.flow_from_directory(class_folder, color_mode="grayscale", class_mode=None, **kw)[0]
    assert x.shape == (5, 4, 4, 1)


def test_classes_argument_and_subset(class_folder):
    gen = augflow.ImageDataGenerator(validation_split=0.5)
    it = gen.flow_from_directory(class_folder, classes=["dogs"], target_size=(4, 4),
                                 subset="training")
    assert it.class_indices == {"dogs": 0}
    assert it.filenames == ["dogs/1.png"]


def test_save_to_dir_writes_every_augmented_sample(class_folder, tmp_path):
    out = tmp_path / "aug"
    it = augflow.ImageDataGenerator(rotation_range=10).flow_from_directory(
        class_folder, target_size=(8, 8), batch_size=5, seed=1, save_to_dir=out,
        save_prefix="aug", save_format="jpeg")
    it[0]
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 5
    assert all(f.startswith("aug") and f.endswith(".jpeg") for f in files)
