import numpy as np
import pytest


@pytest.fixture
def images():
    """20 distinct uint8 images of 8x10x3: sample i, row r, col c, channel k holds
    (7*i + 3*r + 5*c + k) % 256, so every sample can be recognised."""
    i, r, c, k = np.indices((20, 8, 10, 3))
    return ((7 * i + 3 * r + 5 * c + k) % 256).astype(np.uint8)


@pytest.fixture
def class_folder(tmp_path):
    """A folder with classes `cats` (3 images) and `dogs` (2 images) of 20x16 RGB PNGs,
    the image of class c, index i filled with (40*i, 100*c, 7)."""
    from PIL import Image

    root = tmp_path / "data"
    for c, (name, n) in enumerate([("cats", 3), ("dogs", 2)]):
        (root / name).mkdir(parents=True)
        for i in range(n):
            img = np.zeros((16, 20, 3), np.uint8)
            img[...] = (40 * i, 100 * c, 7)
            Image.fromarray(img).save(root / name / f"{i}.png")
    return root
