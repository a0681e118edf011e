"""Masks and boxes read from files in Python: `flow_from_dataframe(..., mask_col=)` pairs each
image with its mask file, `flow_from_coco` reads boxes from a COCO detection file; both move
with their images' draws, and bad files are `ValueError`s naming them."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import augflow
from test_targets import blobs, near_an_edge

H, W = 24, 20


@pytest.fixture
def segmentation(tmp_path):
    """6 grey images of rectangles and their masks (1 where the image is bright), as PNG
    files under images/ and masks/, and the dataframe that pairs them."""
    x = blobs(6, seed=3)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    rows = []
    for i, img in enumerate(x):
        Image.fromarray(np.repeat(img, 3, axis=2)).save(tmp_path / "images" / f"{i}.png")
        Image.fromarray((img[..., 0] > 127).astype(np.uint8)).save(tmp_path / "masks" / f"{i}.png")
        rows.append({"filename": f"images/{i}.png", "mask": f"masks/{i}.png"})
    return tmp_path, pd.DataFrame(rows)


@pytest.mark.parametrize("geometry", ["corrected", "keras"])
def test_mask_files_move_with_their_images(segmentation, geometry):
    root, df = segmentation
    gen = augflow.ImageDataGenerator(rotation_range=40, zoom_range=0.2, width_shift_range=0.2,
                                     horizontal_flip=True, fill_mode="constant",
                                     rescale=1 / 255, geometry=geometry)
    it = gen.flow_from_dataframe(df, directory=root, class_mode=None, target_size=(H, W),
                                 batch_size=6, seed=4, mask_col="mask", mask_value=0)
    xb, t = it[0]
    m = t["masks"][..., 0]
    assert (t["masks"].shape, t["masks"].dtype) == ((6, H, W, 1), np.uint8)
    thresholded = (xb[..., 0] > 0.5).astype(np.uint8)
    wrong = thresholded != m
    assert not (wrong & ~near_an_edge(thresholded, m)).any(), "a mask pixel far from an edge moved"
    unmoved = augflow.ImageDataGenerator().flow_from_dataframe(
        df, directory=root, class_mode=None, target_size=(H, W), batch_size=6, seed=4,
        mask_col="mask")[0][1]["masks"][..., 0]
    assert (m != unmoved).mean() > 0.05, "the draws moved the masks (the test can see a mistake)"
    assert it[0][1]["masks"].tobytes() == t["masks"].tobytes(), "the same batch twice"


def test_a_missing_mask_column_or_file_is_named(segmentation):
    root, df = segmentation
    gen = augflow.ImageDataGenerator()
    with pytest.raises(ValueError, match="mask_col"):
        gen.flow_from_dataframe(df, directory=root, class_mode=None, mask_col="nope")
    (root / "masks" / "2.png").unlink()
    it = gen.flow_from_dataframe(df, directory=root, class_mode=None, target_size=(H, W),
                                 mask_col="mask", validate_filenames=False, shuffle=False)
    with pytest.raises(FileNotFoundError, match="2.png"):  # as Keras' load_img
        it[0]


def test_a_mask_value_the_masks_cannot_hold_is_named(segmentation):
    root, df = segmentation
    gen = augflow.ImageDataGenerator(fill_mode="constant")
    with pytest.raises(ValueError, match="mask_value"):
        gen.flow_from_dataframe(df, directory=root, class_mode=None, target_size=(H, W),
                                mask_col="mask", mask_value=300)[0]


@pytest.fixture
def coco(tmp_path):
    """Two 40x30 images, each black with one bright box, and their COCO file (the second
    image also has a crowd box, and a third image has no annotation)."""
    boxes = {1: [4, 6, 12, 8], 2: [20, 10, 10, 14]}
    images = []
    for i, (x, y, w, h) in boxes.items():
        img = np.zeros((30, 40, 3), np.uint8)
        img[y:y + h, x:x + w] = 255
        Image.fromarray(img).save(tmp_path / f"{i}.png")
        images.append({"id": i, "file_name": f"{i}.png", "width": 40, "height": 30})
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / "3.png")
    images.append({"id": 3, "file_name": "3.png", "width": 40, "height": 30})
    annotations = [{"id": 10 + i, "image_id": i, "bbox": b, "category_id": 7 if i == 1 else 3,
                    "iscrowd": 0} for i, b in boxes.items()]
    annotations.append({"id": 99, "image_id": 2, "bbox": [0, 0, 5, 5], "category_id": 3,
                        "iscrowd": 1})
    doc = {"images": images, "annotations": annotations,
           "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "car"}]}
    (tmp_path / "train.json").write_text(json.dumps(doc))
    return tmp_path


def test_coco_boxes_land_on_their_bright_rectangles(coco):
    gen = augflow.ImageDataGenerator(horizontal_flip=True, vertical_flip=True)
    it = gen.flow_from_coco(coco, coco / "train.json", target_size=(15, 20), batch_size=3,
                            shuffle=False, seed=1)
    assert it.category_ids == [3, 7] and it.class_names == ["car", "dog"]
    xb, t = it[0]
    assert [len(b) for b in t["bboxes"]] == [1, 1, 0]  # the crowd box is skipped
    assert [l.tolist() for l in t["bbox_labels"]] == [[1], [0], []]
    for img, b in zip(xb, t["bboxes"]):
        for x0, y0, x1, y1 in b:
            rows, cols = np.nonzero(img[..., 0] > 127)
            assert abs(cols.min() - x0) <= 1 and abs(cols.max() + 1 - x1) <= 1
            assert abs(rows.min() - y0) <= 1 and abs(rows.max() + 1 - y1) <= 1
    assert t["bboxes_padded"].shape == (3, 1, 4) and t["bbox_counts"].tolist() == [1, 1, 0]
    crowd = gen.flow_from_coco(coco, coco / "train.json", include_crowd=True, shuffle=False)
    assert [len(b) for b in crowd[0][1]["bboxes"]] == [1, 2, 0]


def test_coco_boxes_come_in_the_asked_format(coco):
    it = augflow.ImageDataGenerator().flow_from_coco(coco, coco / "train.json",
                                                      target_size=(30, 40), shuffle=False,
                                                      bbox_format="yolo")
    b = it[0][1]["bboxes"][0][0]
    assert np.allclose(b, [(4 + 6) / 40, (6 + 4) / 30, 12 / 40, 8 / 30])


def test_bad_coco_files_are_named(coco, tmp_path):
    gen = augflow.ImageDataGenerator()
    doc = json.loads((coco / "train.json").read_text())
    doc["annotations"][0]["image_id"] = 42
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="42"):
        gen.flow_from_coco(coco, bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        gen.flow_from_coco(coco, bad)
    with pytest.raises(ValueError, match="bbox_format"):
        gen.flow_from_coco(coco, coco / "train.json", bbox_format="voc")
    with pytest.raises(ValueError, match="min_area"):
        gen.flow_from_coco(coco, coco / "train.json", min_area="big")
