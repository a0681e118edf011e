"""Masks, boxes and keypoints that move with their images through `flow(...)`'s
albumentations-like keywords: each through its own image's draw, in the caller's dtypes,
reproducible, sharded, resumable and picklable like the images; bad targets are
`ValueError`s naming the argument and the image."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import augflow

H, W = 24, 20


def blobs(n, seed=0):
    """`n` single-channel uint8 images of 0 and 255: a few random rectangles each, so a
    mask `image > 127` has edges in every direction."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, H, W, 1), np.uint8)
    for i in range(n):
        for _ in range(3):
            r0, c0 = rng.integers(0, H - 6), rng.integers(0, W - 6)
            x[i, r0:r0 + rng.integers(4, 10), c0:c0 + rng.integers(4, 10)] = 255
    return x


def near_an_edge(a, b):
    """Where either 0/1 map has both values within one pixel (a 3x3 neighbourhood)."""
    def mixed(m):
        p = np.pad(m, [(0, 0), (1, 1), (1, 1)], mode="edge")
        shifts = [p[:, 1 + dr:1 + dr + m.shape[1], 1 + dc:1 + dc + m.shape[2]]
                  for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
        return np.max(shifts, axis=0) != np.min(shifts, axis=0)
    return mixed(a) | mixed(b)


@pytest.mark.parametrize("geometry", ["corrected", "keras"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_a_thresholded_mask_stays_the_thresholded_warped_image(geometry, fill_mode, data_format):
    x = blobs(12)
    masks = (x[..., 0] > 127).astype(np.uint8)
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    gen = augflow.ImageDataGenerator(
        rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=10,
        zoom_range=0.2, horizontal_flip=True, vertical_flip=True, fill_mode=fill_mode,
        rescale=1 / 255, geometry=geometry, data_format=data_format)
    xb, t = gen.flow(x, batch_size=12, seed=5, masks=masks)[0]
    image = xb[:, 0] if data_format == "channels_first" else xb[..., 0]
    thresholded = (image > 0.5).astype(np.uint8)
    m = t["masks"]
    assert (m.shape, m.dtype) == ((12, H, W), np.uint8)
    assert set(np.unique(m)) <= {0, 1}
    wrong = thresholded != m
    assert not (wrong & ~near_an_edge(thresholded, m)).any(), "a mask pixel far from any edge moved"
    assert wrong.mean() < 0.05
    moved = t["masks"] != masks[gen.flow(x, batch_size=12, seed=5).batch_indices(0)]
    assert moved.mean() > 0.1, "the draws moved the masks (the test would see a mistake)"


@pytest.mark.parametrize("geometry", ["corrected", "keras"])
@pytest.mark.parametrize("fill_mode", ["constant", "reflect"])
def test_masks_equal_keras_two_generator_pattern_with_the_same_seed(geometry, fill_mode):
    """Keras' recipe (a second generator over the masks, same arguments and seed, nearest
    sampling, cval as the mask's fill) gives the masks `masks=` gives, bit for bit."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 16, 20, 3), dtype=np.uint8)
    masks = rng.integers(0, 5, (12, 16, 20)).astype(np.uint8)
    args = dict(rotation_range=40, width_shift_range=0.2, zoom_range=0.3, shear_range=10,
                horizontal_flip=True, fill_mode=fill_mode, geometry=geometry)
    images = augflow.ImageDataGenerator(**args).flow(x, batch_size=12, seed=3)[0]
    keras_masks = augflow.ImageDataGenerator(interpolation_order=0, cval=7, **args).flow(
        masks[..., None], batch_size=12, seed=3)[0]
    joint = augflow.ImageDataGenerator(**args).flow(x, batch_size=12, seed=3, masks=masks,
                                                    mask_value=7)
    xb, t = joint[0]
    np.testing.assert_array_equal(xb, images)
    np.testing.assert_array_equal(t["masks"], keras_masks[..., 0].astype(np.uint8))
    assert (t["masks"] != masks[joint.batch_indices(0)]).mean() > 0.1, "the draws moved them"


def mirrored(index, xb, x, flip):
    """Whether each image of a batch is its source image flipped by `flip`, or as is."""
    out = []
    for k, j in enumerate(index):
        if np.array_equal(xb[k], x[j]):
            out.append(False)
        else:
            assert np.array_equal(xb[k], flip(x[j])), f"sample {j} is neither as is nor flipped"
            out.append(True)
    return out


def test_a_horizontal_flip_mirrors_boxes_and_keypoints_exactly(images):
    n, h, w = images.shape[:3]
    rng = np.random.default_rng(1)
    boxes, points = [], []
    for i in range(n):
        k = i % 3
        x0, y0 = rng.uniform(0, w / 2, k).round(2), rng.uniform(0, h / 2, k).round(2)
        boxes.append(np.stack([x0, y0, x0 + 1.5, y0 + 2.25], axis=1).astype(np.float32))
        points.append(rng.uniform(0.1, [w - 0.1, h - 0.1], (k + 1, 2)).astype(np.float32))
    labels = [np.arange(len(b)) + 10 * i for i, b in enumerate(boxes)]
    it = augflow.ImageDataGenerator(horizontal_flip=True).flow(
        images, batch_size=n, seed=3, bboxes=boxes, bbox_labels=labels, keypoints=points)
    xb, t = it[0]
    index = it.batch_indices(0)
    flipped = mirrored(index, xb, images.astype(np.float32), lambda a: a[:, ::-1])
    assert any(flipped) and not all(flipped)
    for k, (j, f) in enumerate(zip(index, flipped)):
        b, p = boxes[j].astype(np.float64), points[j].astype(np.float64)
        if f:
            b = np.stack([w - b[:, 2], b[:, 1], w - b[:, 0], b[:, 3]], axis=1)
            p = np.stack([w - p[:, 0], p[:, 1]], axis=1)
        np.testing.assert_array_equal(t["bboxes"][k], b.astype(np.float32).reshape(-1, 4))
        np.testing.assert_array_equal(t["bbox_labels"][k], labels[j])
        np.testing.assert_array_equal(t["keypoints"][k], p.astype(np.float32))
        np.testing.assert_array_equal(t["keypoint_labels"][k], np.arange(len(points[j])))
        assert t["keypoint_visible"][k].all()


@pytest.mark.parametrize("fmt", ["coco", "yolo", "albumentations"])
def test_a_vertical_flip_mirrors_boxes_in_every_format(images, fmt):
    n, h, w = images.shape[:3]
    written = {  # pascal_voc [1, 2, 5, 6]
        "coco": [[1.0, 2.0, 4.0, 4.0]],
        "yolo": [[3.0 / w, 4.0 / h, 4.0 / w, 4.0 / h]],
        "albumentations": [[1.0 / w, 2.0 / h, 5.0 / w, 6.0 / h]],
    }
    mirror = {  # y -> h - y: rows 2..6 become rows h-6..h-2
        "coco": [[1.0, h - 6.0, 4.0, 4.0]],
        "yolo": [[3.0 / w, (h - 4.0) / h, 4.0 / w, 4.0 / h]],
        "albumentations": [[1.0 / w, (h - 6.0) / h, 5.0 / w, (h - 2.0) / h]],
    }
    it = augflow.ImageDataGenerator(vertical_flip=True).flow(
        images, batch_size=n, seed=4, bboxes=[written[fmt]] * n, bbox_format=fmt)
    xb, t = it[0]
    flipped = mirrored(it.batch_indices(0), xb, images.astype(np.float32), lambda a: a[::-1])
    assert any(flipped) and not all(flipped)
    for k, f in enumerate(flipped):
        want = np.array(mirror[fmt] if f else written[fmt], np.float32)
        np.testing.assert_allclose(t["bboxes"][k], want, rtol=0, atol=1e-6)


GEN = dict(rotation_range=30, width_shift_range=0.3, zoom_range=0.2, horizontal_flip=True,
           fill_mode="constant")


def targets_of(n, seed=2):
    """Masks, boxes (some partly near the border) and keypoints for `n` images."""
    rng = np.random.default_rng(seed)
    masks = rng.integers(0, 4, (n, 8, 10)).astype(np.int64)
    boxes, points = [], []
    for i in range(n):
        x0 = rng.uniform(0, 5, i % 4)
        y0 = rng.uniform(0, 4, i % 4)
        boxes.append(np.stack([x0, y0, x0 + 4, y0 + 3], axis=1))
        points.append(rng.uniform(0, [10, 8], (3, 2)))
    return dict(masks=masks, mask_value=-1, bboxes=boxes, keypoints=points,
                bbox_labels=[list(range(len(b))) for b in boxes], remove_invisible=False)


def per_sample(it, batches=None):
    """`{sample index: bytes of its image and every target}` over the batches of `it`."""
    out = {}
    for b in batches if batches is not None else range(len(it)):
        xb, t = it[b]
        for k, j in enumerate(it.batch_indices(b)):
            parts = [xb[k], t["masks"][k]] + [t[key][k] for key in (
                "bboxes", "bbox_labels", "keypoints", "keypoint_labels", "keypoint_visible")]
            out[j] = [(a.dtype.str, a.shape, a.tobytes()) for a in parts]
    return out


def test_a_sample_gets_the_same_targets_for_any_batch_size_and_request_order(images):
    gen = augflow.ImageDataGenerator(**GEN)
    x = images[:, :8]
    kw = targets_of(20)
    a = gen.flow(x, batch_size=3, seed=9, **kw)
    b = gen.flow(x, batch_size=7, seed=9, **kw)
    by_3 = per_sample(a)
    by_7 = per_sample(b, reversed(range(len(b))))
    assert by_3.keys() == set(range(20))
    assert by_3 == by_7
    t = a[0][1]
    assert t["masks"].dtype == np.int64
    assert set(np.unique(t["masks"])) <= {-1, 0, 1, 2, 3}
    assert (t["masks"] == -1).any(), "the constant fill shows `mask_value`"
    assert not all(v.all() for v in t["keypoint_visible"]), "points left the image"


def test_a_subset_serves_the_targets_of_its_own_samples(images):
    gen = augflow.ImageDataGenerator(validation_split=0.25)  # no draw: targets stay put
    kw = targets_of(20)
    it = gen.flow(images[:, :8], np.arange(20), batch_size=15, seed=2, subset="training",
                  ignore_class_split=True, **kw)
    xb, yb, t = it[0]
    index = it.batch_indices(0)
    assert sorted(index) == list(range(5, 20)) and index != sorted(index)
    np.testing.assert_array_equal(yb, index)
    np.testing.assert_array_equal(t["masks"], kw["masks"][index])
    for k, j in enumerate(index):
        np.testing.assert_allclose(t["bboxes"][k], kw["bboxes"][j].reshape(-1, 4), atol=1e-5)
        np.testing.assert_array_equal(t["bbox_labels"][k], kw["bbox_labels"][j])
        np.testing.assert_allclose(t["keypoints"][k], kw["keypoints"][j], atol=1e-5)


def test_padded_boxes_hold_the_ragged_ones_and_their_counts(images):
    it = augflow.ImageDataGenerator(**GEN).flow(images[:, :8], batch_size=8, seed=1,
                                                **targets_of(20))
    t = it[0][1]
    counts = [len(b) for b in t["bboxes"]]
    assert t["bbox_counts"].tolist() == counts
    assert t["bboxes_padded"].shape == (8, max(counts), 4)
    for k, c in enumerate(counts):
        np.testing.assert_array_equal(t["bboxes_padded"][k, :c], t["bboxes"][k])
        np.testing.assert_array_equal(t["bbox_labels_padded"][k, :c], t["bbox_labels"][k])
        assert (t["bboxes_padded"][k, c:] == 0).all()
        assert (t["bbox_labels_padded"][k, c:] == -1).all()


def test_max_bboxes_pads_every_batch_to_one_shape_keeping_the_first_boxes(images):
    kw = targets_of(20)
    fixed = augflow.ImageDataGenerator(**GEN).flow(images[:, :8], batch_size=8, seed=1,
                                                   max_bboxes=2, **kw)
    shapes = set()
    for b in range(len(fixed)):
        t = fixed[b][1]
        shapes.add((t["bboxes_padded"].shape[1:], t["bbox_labels_padded"].shape[1:]))
        for k, boxes in enumerate(t["bboxes"]):
            c = min(len(boxes), 2)
            assert t["bbox_counts"][k] == c
            np.testing.assert_array_equal(t["bboxes_padded"][k, :c], boxes[:c])
            np.testing.assert_array_equal(t["bbox_labels_padded"][k, :c], t["bbox_labels"][k][:c])
    assert shapes == {((2, 4), (2,))}
    assert max(len(b) for b in fixed[0][1]["bboxes"]) == 3, "ragged boxes keep them all"


def test_removing_invisible_points_keeps_exactly_the_visible_ones_with_their_labels(images):
    gen = augflow.ImageDataGenerator(width_shift_range=0.5, height_shift_range=0.5)
    kw = targets_of(20)
    del kw["remove_invisible"]
    kept = gen.flow(images[:, :8], batch_size=20, seed=6, remove_invisible=False, **kw)[0][1]
    dropped = gen.flow(images[:, :8], batch_size=20, seed=6, **kw)[0][1]
    hidden = 0
    for k in range(20):
        v = kept["keypoint_visible"][k]
        hidden += (~v).sum()
        np.testing.assert_array_equal(dropped["keypoints"][k], kept["keypoints"][k][v])
        np.testing.assert_array_equal(dropped["keypoint_labels"][k], kept["keypoint_labels"][k][v])
        assert dropped["keypoint_visible"][k].all()
        outside = kept["keypoints"][k][~v]
        assert ((outside < 0) | (outside >= [10, 8])).any(axis=1).all()
    assert hidden > 0


def test_batches_with_targets_end_with_their_dict_and_keep_keras_tuples_otherwise(images):
    gen = augflow.ImageDataGenerator()
    y, w = np.arange(20), np.ones(20)
    masks = np.zeros((20, 8, 10, 2), np.float32)
    assert isinstance(gen.flow(images)[0], np.ndarray)
    assert len(gen.flow(images, y, sample_weight=w)[0]) == 3
    xb, t = gen.flow(images, masks=masks, batch_size=4)[0]
    assert xb.shape == (4, 8, 10, 3) and set(t) == {"masks"}
    assert t["masks"].shape == (4, 8, 10, 2) and t["masks"].dtype == np.float32
    xb, yb, t = gen.flow(images, y, masks=masks, batch_size=4)[0]
    assert yb.shape == (4,)
    xb, yb, wb, t = gen.flow(images, y, sample_weight=w, keypoints=[[[1, 1]]] * 20)[0]
    assert set(t) == {"keypoints", "keypoint_labels", "keypoint_visible", "keypoints_padded",
                      "keypoint_labels_padded", "keypoint_visible_padded", "keypoint_counts"}


@pytest.mark.parametrize("dtype, mask_value", [
    (np.bool_, 1), (np.int8, -5), (np.uint16, 700), (np.int32, 70000), (np.float64, 0.25),
])
def test_masks_come_back_in_their_dtype_with_their_values(images, dtype, mask_value):
    rng = np.random.default_rng(0)
    masks = rng.integers(0, 2, (20, 8, 10)).astype(dtype)
    gen = augflow.ImageDataGenerator(rotation_range=45, fill_mode="constant")
    m = gen.flow(images, batch_size=20, masks=masks, mask_value=mask_value)[0][1]["masks"]
    assert m.dtype == masks.dtype and m.shape == masks.shape
    assert set(np.unique(m).tolist()) == {0, 1, mask_value}


TARGETS_DIGEST = textwrap.dedent("""
    import hashlib, numpy as np, augflow
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 16, 16, 3), dtype=np.uint8)
    boxes = [[[1, 1, 9, 9], [4, 2, 15, 12]]] * 40
    it = augflow.ImageDataGenerator(rotation_range=30, zoom_range=0.2, horizontal_flip=True).flow(
        x, batch_size=16, seed=4, masks=x[..., 0] // 64, bboxes=boxes,
        keypoints=[[[3.5, 4.5], [12, 8]]] * 40, remove_invisible=False)
    h = hashlib.sha256()
    for b in range(len(it)):
        xb, t = it[b]
        for a in [xb, t["masks"], t["bboxes_padded"], *t["keypoints"], *t["keypoint_visible"]]:
            h.update(a.tobytes())
    print(h.hexdigest())
""")


def test_targets_do_not_depend_on_the_thread_count():
    digests = set()
    for threads in ("1", "3"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", TARGETS_DIGEST], capture_output=True,
                             text=True, env=env, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1 and len(digests.pop()) == 64, digests


def test_shards_split_an_epoch_of_targets_as_the_unsharded_iterator(images):
    gen = augflow.ImageDataGenerator(**GEN)
    x, kw = images[:, :8], targets_of(20)
    whole = per_sample(gen.flow(x, batch_size=4, seed=3, **kw))
    merged = {}
    for r in range(3):
        shard = gen.flow(x, batch_size=4, seed=3, num_shards=3, shard_index=r,
                         shard_remainder="uneven", **kw)
        part = per_sample(shard)
        assert not merged.keys() & part.keys()
        merged.update(part)
    assert merged == whole


def test_a_run_with_targets_resumes_from_its_state_and_pickles(images):
    gen = augflow.ImageDataGenerator(**GEN)
    x, kw = images[:, :8], targets_of(20)

    def batch_bytes(batch):
        xb, t = batch
        arrays = [xb, t["masks"], *t["bboxes"], *t["keypoints"], *t["keypoint_labels"]]
        return [a.tobytes() for a in arrays]

    it = gen.flow(x, batch_size=6, **kw)
    for _ in range(3):
        next(it)
    state = json.loads(json.dumps(it.state_dict()))
    copy = pickle.loads(pickle.dumps(it))
    want = [batch_bytes(next(it)) for _ in range(3)]  # across the epoch's end
    fresh = gen.flow(x, batch_size=6, **kw)
    fresh.load_state_dict(state)
    assert [batch_bytes(next(fresh)) for _ in range(3)] == want
    assert [batch_bytes(next(copy)) for _ in range(3)] == want
    without_masks = gen.flow(x, batch_size=6, **dict(kw, masks=None))
    with pytest.raises(ValueError, match="config"):
        without_masks.load_state_dict(state)


N = 4
GOOD = dict(bboxes=[[[1, 1, 4, 4]]] * N, keypoints=[[[1, 1]]] * N,
            masks=np.zeros((N, 8, 10), np.uint8))


def with_(**changes):
    return {k: v for k, v in dict(GOOD, **changes).items() if v is not None}


@pytest.mark.parametrize("kwargs, message", [
    (with_(bboxes=[[[1, 1, 4, 4]]] * 3), r"`bboxes` has length 3 but `x` has length 4"),
    (with_(bbox_labels=[[0], [1, 2], [0], [0]]), r"`bbox_labels\[1\]` has length 2 but `bboxes\[1\]`"),
    (with_(bboxes=[[[1, 1, 4, 4]], [[1, 1, 4, 4]], [[np.nan, 1, 4, 4]], []]), r"`bboxes`.*sample 2.*finite"),
    (with_(bboxes=[[], [[5, 1, 2, 4]], [], []]), r"`bboxes`.*box 0 of sample 1.*x_max > x_min"),
    (with_(bboxes=[[], [], [], [[0, 0, 11, 4]]]), r"`bboxes`.*sample 3.*inside the image"),
    (with_(bboxes=[[[1, 1, 4]]] * N), r"`bboxes` has shape \[1, 3\]; expected \(n, 4\) boxes of sample 0"),
    (with_(bboxes=[[1, 1, 4, 4]] * N), r"`bboxes\[0\]`.*shape \(4,\).*\(k, 4\)"),
    (with_(bboxes=np.zeros(3)), r"`bboxes\[0\]`"),
    (with_(bboxes="boxes"), r"`bboxes`: got str"),
    (with_(bbox_format="xyxy"), r"`bbox_format`: got \"xyxy\""),
    (with_(bbox_format=3), r"`bbox_format`: got 3"),
    (dict(GOOD, bbox_format="yolo", bboxes=[[[0.5, 0.5, 0.4, 1.5]]] * N), r"`bboxes`.*sample 0, yolo\).*inside the image"),
    (with_(bbox_labels=[[0.5]] * N), r"`bbox_labels\[0\]`: got \[0.5\]"),
    (with_(bbox_labels=[np.array([2**64 - 1], np.uint64)] * N), r"`bbox_labels\[0\]`.*int64"),
    (with_(masks=np.zeros((N, 8, 10)), mask_value=1e300), r"`mask_value`: got 10{300}; expected a value of the masks' dtype \(float32"),
    (with_(bboxes=None, bbox_labels=[[0]] * N), r"`bbox_labels`: given without `bboxes`"),
    (with_(min_visibility=1.5), r"`min_visibility`: got 1.5"),
    (with_(min_area="big"), r"`min_area`: got 'big'"),
    (with_(max_bboxes=0), r"`max_bboxes`: got 0; expected an integer >= 1"),
    (with_(bboxes=None, max_bboxes=4), r"`max_bboxes`: given without `bboxes`"),
    (with_(masks=np.zeros((N, 8, 9), np.uint8)), r"`masks` has shape \[4, 8, 9\]; expected \(4, 8, 10\)"),
    (with_(masks=np.zeros((N + 1, 8, 10), np.uint8)), r"`masks` has shape \[5, 8, 10\]"),
    (with_(mask_value=300), r"`mask_value`: got 300"),
    (with_(masks=np.zeros((N, 8, 10), np.int8), mask_value=200), r"`mask_value`: got 200.*int8"),
    (with_(masks=np.full((N, 8, 10), 2**40)), r"`masks`: got int64 ids from 0 to 1099511627776"),
    (with_(masks=np.zeros((N, 8, 10), "U1")), r"`masks`: got an array of dtype <U1"),
    (with_(keypoints=[[[1, np.inf]]] * N), r"`keypoints`.*point 0 of sample 0.*finite"),
    (with_(keypoints=[[[1, 1, 0]]] * N), r"`keypoints` has shape \[1, 3\]"),
    (with_(keypoint_labels=[[0, 1]] * N), r"`keypoint_labels\[0\]` has length 2 but `keypoints\[0\]`"),
])
def test_bad_targets_are_value_errors_naming_the_argument_and_the_image(images, kwargs, message):
    gen = augflow.ImageDataGenerator()
    with pytest.raises(ValueError, match=message):
        gen.flow(images[:N, :8], **kwargs)


def test_the_docstring_example_of_flow_with_targets_runs():
    import doctest

    import augflow.image

    result = doctest.testmod(augflow.image)
    assert result.attempted >= 3 and result.failed == 0


def test_padded_keypoints_hold_each_samples_points_labels_and_flags(images):
    gen = augflow.ImageDataGenerator(width_shift_range=0.5, height_shift_range=0.5)
    kw = targets_of(20)
    del kw["remove_invisible"]
    for remove in (True, False):
        t = gen.flow(images[:, :8], batch_size=5, seed=6, remove_invisible=remove, **kw)[0][1]
        counts = t["keypoint_counts"]
        m = max(len(p) for p in t["keypoints"])
        assert t["keypoints_padded"].shape == (5, m, 2)
        assert t["keypoint_labels_padded"].shape == t["keypoint_visible_padded"].shape == (5, m)
        for k in range(5):
            c = len(t["keypoints"][k])
            assert counts[k] == c
            np.testing.assert_array_equal(t["keypoints_padded"][k, :c], t["keypoints"][k])
            np.testing.assert_array_equal(t["keypoint_labels_padded"][k, :c], t["keypoint_labels"][k])
            np.testing.assert_array_equal(t["keypoint_visible_padded"][k, :c], t["keypoint_visible"][k])
            assert (t["keypoints_padded"][k, c:] == 0).all()
            assert (t["keypoint_labels_padded"][k, c:] == -1).all()
            assert not t["keypoint_visible_padded"][k, c:].any()
        if not remove:  # nothing dropped: every image keeps all its points, one shape
            assert len(set(counts.tolist())) == 1


def test_channels_first_masks_come_back_channels_first_with_the_same_draws(images):
    x = images[:, :8]
    masks = np.stack([(x[..., 0] > 100), (x[..., 1] % 3 == 0)], axis=-1).astype(np.uint8)
    kw = dict(rotation_range=30, zoom_range=0.2, horizontal_flip=True)
    last = augflow.ImageDataGenerator(**kw).flow(x, batch_size=5, seed=2, masks=masks)[0][1]
    gen = augflow.ImageDataGenerator(data_format="channels_first", **kw)
    x_first = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    first = gen.flow(x_first, batch_size=5, seed=2, masks=masks.transpose(0, 3, 1, 2))[0][1]
    assert first["masks"].shape == (5, 2, 8, 10)
    np.testing.assert_array_equal(first["masks"].transpose(0, 2, 3, 1), last["masks"])
    flat = gen.flow(x_first, batch_size=5, seed=2, masks=masks[..., 0])[0][1]["masks"]
    np.testing.assert_array_equal(flat, last["masks"][..., 0])
