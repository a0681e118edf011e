"""`augflow.layers`: Keras 3's layers under their names and arguments, a `Pipeline` of them
(reproducible per (seed, epoch, index), replayable from its draw) and `flow(..., pipeline=)`."""

import json
import os
import pathlib
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

import augflow
from augflow import layers

REPO = pathlib.Path(__file__).resolve().parents[2]
# `../shared/conformance-keras3` from the repository root, as the Rust runner reads it.
KERAS3 = pathlib.Path(
    os.environ.get("AUGFLOW_CONFORMANCE_KERAS3", REPO.parent / "shared" / "conformance-keras3")
)

# One valid construction per layer (its required arguments and a non-default one).
EXAMPLES = {
    "RandomFlip": dict(mode="horizontal"),
    "RandomTranslation": dict(height_factor=0.1, width_factor=(-0.2, 0.3)),
    "RandomRotation": dict(factor=0.1, fill_mode="constant"),
    "RandomZoom": dict(height_factor=0.2, width_factor=-0.1),
    "RandomShear": dict(x_factor=0.2),
    "RandomCrop": dict(height=6, width=5),
    "CenterCrop": dict(height=6, width=5),
    "Resizing": dict(height=12, width=9, crop_to_aspect_ratio=True),
    "RandomPerspective": dict(factor=0.5, scale=0.3),
    "RandomResizedCrop": dict(size=7, scale=(0.5, 1.0)),
    "RandomContrast": dict(factor=0.3),
    "RandomBrightness": dict(factor=0.2),
    "RandomSaturation": dict(factor=(0.2, 0.8)),
    "RandomHue": dict(factor=0.1),
    "RandomColorJitter": dict(brightness_factor=0.4, contrast_factor=0.4, saturation_factor=0.4),
    "RandomGrayscale": dict(factor=0.2),
    "RandomColorDegeneration": dict(factor=0.5),
    "RandomSharpness": dict(factor=0.5),
    "RandomInvert": dict(factor=0.5),
    "RandomPosterization": dict(factor=(2, 6)),
    "Solarization": dict(addition_factor=0.1, threshold_factor=0.5),
    "AutoContrast": dict(value_range=(0, 1)),
    "Equalization": dict(bins=64),
    "RandomErasing": dict(factor=0.5, fill_value=0.0),
    "RandomGaussianBlur": dict(kernel_size=5, sigma=(0.5, 2.0)),
    "Rescaling": dict(scale=1 / 255, offset=-0.5),
    "Normalization": dict(mean=np.array([123.675, 116.28, 103.53]),
                          variance=[3409.98, 3262.69, 3291.76]),
    "RandAugment": dict(num_ops=3, factor=0.4),
    "AugMix": dict(num_chains=2, chain_depth=2, factor=0.4),
    "RandomElasticTransform": dict(factor=0.8, scale=0.5),
    "TrivialAugmentWide": dict(num_magnitude_bins=15),
    "MixUp": dict(alpha=0.4),
    "CutMix": dict(factor=0.5),
}


def _image(n=None, h=12, w=14, c=3, seed=0):
    shape = (h, w, c) if n is None else (n, h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_every_layer_has_an_example_and_a_docstring():
    assert sorted(EXAMPLES) == sorted(layers.LAYERS)
    for cls in layers.LAYERS.values():
        assert cls.__doc__ and cls.class_name in cls.__doc__


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_layer_config_round_trips(name):
    cls = layers.LAYERS[name]
    layer = cls(**EXAMPLES[name])
    config = layer.get_config()
    json.dumps(config)  # plain JSON values
    assert cls.from_config(config) == layer
    assert cls.from_config(config).get_config() == config
    for key, value in EXAMPLES[name].items():
        expected = np.asarray(value).tolist()
        if name == "RandomResizedCrop" and key == "size":
            expected = [value, value]  # torchvision: an int is a square
        assert config[key] == expected, (key, config[key])
    pipe = layers.Pipeline([layer])
    assert layers.Pipeline.from_json(pipe.to_json()) == pipe
    assert layers.Pipeline.from_config(pipe.get_config()) == pipe
    assert pickle.loads(pickle.dumps(pipe)) == pipe


def _keras_cases():
    if not (KERAS3 / "index.json").exists():
        return []
    return json.loads((KERAS3 / "index.json").read_text())["cases"]


def test_the_conformance_set_is_found():
    assert (KERAS3 / "index.json").exists(), f"no conformance-keras3 set at {KERAS3}"


def _channels_last(case):
    return case["config"].get("data_format", "channels_last") == "channels_last"


def _configurable(case):
    """A case whose config augflow takes: channels last; no boxes for the batch layers
    (MixUp's boxes are not implemented)."""
    batch_boxes = case["layer"] in ("MixUp", "CutMix") and "bounding_box_format" in case["config"]
    return case["layer"] in layers.LAYERS and _channels_last(case) and not batch_boxes


@pytest.mark.parametrize("case", [c for c in _keras_cases() if _configurable(c)],
                         ids=lambda c: c["id"])
def test_keras_own_get_config_is_accepted_with_the_same_argument_names(case):
    """Keras 3.15.1's `layer.get_config()` makes the layer: the argument names are Keras'."""
    cls = layers.LAYERS[case["layer"]]
    config = case["config"]
    layer = cls.from_config(config)
    assert set(config) <= set(layer.get_config())
    own = set(cls.__signature__.parameters) - {"kwargs"}
    # No argument Keras does not have (Keras leaves `seed` out of some configs).
    assert own - set(config) <= {"seed"}, own - set(config)


def _deterministic_cases():
    """Cases of layers without a random draw: Keras' output from the config and the input."""
    for c in _keras_cases():
        if c["layer"] not in ("CenterCrop", "Resizing", "AutoContrast", "Equalization",
                              "Rescaling", "Normalization"):
            continue
        out = c["outputs"].get("images")
        if out is None or out["dtype"] != "float32":
            continue
        if _channels_last(c):
            yield c


@pytest.mark.parametrize("case", list(_deterministic_cases()), ids=lambda c: c["id"])
def test_a_pipeline_gives_keras_values_on_the_conformance_cases(case):
    out = case["outputs"]["images"]
    x = np.load(KERAS3 / case["inputs"]["images"]["file"])
    pipe = layers.Pipeline([layers.LAYERS[case["layer"]].from_config(case["config"])])
    expected = np.load(KERAS3 / out["file"])
    if case["layer"] == "Equalization":
        # Keras equalizes with one histogram over the batch, augflow per image: the batch
        # goes in as one tall image (as the Rust runner replays it).
        got = pipe(x.reshape(1, -1, *x.shape[2:]), seed=0).reshape(x.shape)
    else:
        got = pipe(x, seed=0)
    assert got.shape == expected.shape
    fragile = np.zeros(expected.shape, bool)
    if out.get("fragile_mask"):
        fragile = np.load(KERAS3 / out["fragile_mask"]).astype(bool)
    err = np.abs(got.astype(np.float64) - expected)[~fragile]
    assert err.max(initial=0) <= out["atol"], err.max()


RECIPE = [
    layers.RandomResizedCrop(10),
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
    layers.RandomColorJitter(brightness_factor=0.4, contrast_factor=0.4, saturation_factor=0.4),
    layers.RandAugment(num_ops=2),
    layers.RandomErasing(factor=0.5),
    layers.Normalization(mean=[123.675, 116.28, 103.53], variance=[3409.98, 3262.69, 3291.76]),
]


def test_call_is_draw_then_apply_and_the_draw_survives_json():
    pipe = layers.Pipeline(RECIPE)
    x = _image(5)
    out = pipe(x, seed=3, epoch=2, index=10)
    params = pipe.draw(x, seed=3, epoch=2, index=10)
    assert len(params) == len(RECIPE) and all(len(p) == 5 for p in params)
    assert params[0][0]["class_name"] == "RandomResizedCrop"
    stored = json.loads(json.dumps(params))
    np.testing.assert_array_equal(pipe.apply(x, stored), out)
    one = pipe.draw(x[2], seed=3, epoch=2, index=12)
    assert one == [p[2] for p in params]
    np.testing.assert_array_equal(pipe.apply(x[2], one), out[2])


def test_a_call_is_a_pure_function_of_seed_epoch_and_index():
    pipe = layers.Pipeline(RECIPE)
    x = _image(4)
    a = pipe(x, seed=7, epoch=1, index=20)
    np.testing.assert_array_equal(a, pipe(x, seed=7, epoch=1, index=20))
    np.testing.assert_array_equal(a, pipe(x.astype(np.float32), seed=7, epoch=1, index=20))
    for i in range(4):  # image i of a batch is the single image at index + i
        np.testing.assert_array_equal(a[i], pipe(x[i], seed=7, epoch=1, index=20 + i))
    for other in (dict(seed=8, epoch=1, index=20), dict(seed=7, epoch=2, index=20),
                  dict(seed=7, epoch=1, index=21)):
        assert not np.array_equal(a, pipe(x, **other)), other
    assert a.dtype == np.float32 and a.shape == (4, 10, 10, 3)
    assert pipe.output_size(12, 14) == (10, 10)


@pytest.mark.parametrize("make, argument", [
    (lambda: layers.RandomHue(factor=2.0), "factor"),
    (lambda: layers.RandomContrast(factor="a lot"), "factor"),
    (lambda: layers.RandomRotation(0.1, fill_mode="bogus"), "fill_mode"),
    (lambda: layers.RandomFlip(mode="diagonal"), "mode"),
    (lambda: layers.Resizing(12, 10, interpolation="area51"), "interpolation"),
    (lambda: layers.RandomCrop(0, 10), "height"),
    (lambda: layers.Equalization(bins=1), "bins"),
    (lambda: layers.RandomBrightness(0.2, value_range=(255, 0)), "value_range"),
    (lambda: layers.RandomResizedCrop(224, scale=(0.9, 0.1)), "scale"),
    (lambda: layers.RandomGaussianBlur(kernel_size=0), "kernel_size"),
    (lambda: layers.MixUp(alpha=-1.0), "alpha"),
    (lambda: layers.CutMix(factor=3.0), "factor"),
    (lambda: layers.Normalization(mean=[1, 2, 3], variance=[1, -1, 1]), "variance"),
    (lambda: layers.Normalization(), "mean"),
])
def test_bad_arguments_raise_value_error_naming_them(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        make()


def test_torchvision_arguments_of_random_resized_crop():
    class InterpolationMode:  # torchvision.transforms.InterpolationMode.BICUBIC, without torch
        value = "bicubic"

    layer = layers.RandomResizedCrop([32], interpolation=InterpolationMode())
    assert layer.get_config()["size"] == [32, 32]
    assert layer.get_config()["interpolation"] == "bicubic"
    assert layers.Pipeline([layer]).output_size(100, 80) == (32, 32)


def test_unknown_keywords_and_layer_order_are_refused():
    with pytest.raises(TypeError, match="factr"):
        layers.RandomHue(0.1, factr=0.1)
    with pytest.raises(TypeError):
        layers.RandomContrast()  # factor is required, as in Keras
    with pytest.raises(ValueError, match="last layer"):
        layers.Pipeline([layers.MixUp(), layers.RandomFlip()])
    with pytest.raises(ValueError, match="RandomTwist"):
        layers.Pipeline([{"class_name": "RandomTwist", "config": {}}])
    with pytest.raises(NotImplementedError, match="data_format"):
        layers.RandomInvert(data_format="channels_first")
    pipe = layers.Pipeline([layers.RandomInvert()])
    with pytest.raises(ValueError, match="seed"):
        pipe(_image(), seed=-1)
    with pytest.raises(ValueError, match="`x`"):
        pipe(np.zeros((2, 3), np.float32), seed=0)
    with pytest.raises(ValueError, match="params"):
        pipe.apply(_image(), [])
    with pytest.raises(ValueError, match="at least one image"):
        pipe(np.zeros((0, 4, 4, 3), np.uint8), seed=0)
    with pytest.raises(ValueError, match="mask"):
        pipe(_image(), seed=0, masks=np.zeros((3, 3), np.int32))
    with pytest.raises(ValueError, match="bboxes"):
        pipe(_image(), seed=0, bboxes=[[1, 2, 3]])
    with pytest.raises(ValueError, match="bbox_format"):
        pipe(_image(), seed=0, bboxes=[[1, 2, 3, 4]], bbox_format="pascal_voc")


def test_mixup_mixes_images_and_labels_with_its_draw():
    pipe = layers.Pipeline([layers.RandomFlip("horizontal"), layers.MixUp(alpha=0.4)])
    x = _image(6).astype(np.float32)
    y = np.eye(6, dtype=np.float32)
    out, mixed = pipe(x, labels=y, seed=5)
    params = pipe.draw(x, seed=5)
    mix = params[1]
    lam = np.asarray(mix["mix_weight"], np.float32)
    perm = np.asarray(mix["permutation_order"])
    assert sorted(perm.tolist()) == list(range(6))
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, rtol=1e-6)
    expected_y = lam[:, None] * y + (1 - lam[:, None]) * y[perm]
    np.testing.assert_allclose(mixed, expected_y, rtol=1e-6)
    out2, mixed2 = pipe.apply(x, params, labels=y)
    np.testing.assert_array_equal(out, out2)
    np.testing.assert_array_equal(mixed, mixed2)
    with pytest.raises(ValueError, match="batch"):
        pipe(x[0], seed=5)
    with pytest.raises(ValueError, match="batch"):
        pipe.draw(x[0], seed=5)


def test_masks_and_boxes_move_with_a_flip():
    pipe = layers.Pipeline([layers.RandomFlip("horizontal"), layers.RandomBrightness(0.2)])
    h, w = 8, 10
    image = _image(h=h, w=w).astype(np.float32)
    mask = np.arange(h * w, dtype=np.int64).reshape(h, w) % 7
    boxes = np.array([[1, 2, 4, 6], [0, 0, 10, 8]], np.float32)
    flipped = 0
    for seed in range(8):
        out = pipe(image, seed=seed, masks=mask, bboxes=boxes, bbox_labels=[3, 5])
        np.testing.assert_array_equal(out["image"], pipe(image, seed=seed))
        assert out["mask"].shape == (h, w)
        assert out["bbox_labels"].tolist() == [3, 5]
        if pipe.draw(image, seed=seed)[0]["flips"]:
            flipped += 1
            np.testing.assert_array_equal(out["mask"], mask[:, ::-1])
            np.testing.assert_allclose(out["bboxes"], [[6, 2, 9, 6], [0, 0, 10, 8]])
        else:
            np.testing.assert_array_equal(out["mask"], mask)
            np.testing.assert_allclose(out["bboxes"], boxes)
    assert 0 < flipped < 8


def test_keypoints_land_on_their_bright_pixel_and_flips_mirror_them_exactly():
    pipe = layers.Pipeline([layers.RandomFlip("horizontal_and_vertical"),
                            layers.RandomRotation(0.1, fill_mode="constant"),
                            layers.RandomResizedCrop((20, 24), scale=(0.6, 1.0))])
    h, w = 26, 30
    kept = 0
    for seed in range(12):
        x, y = 6 + seed, 5 + seed // 2
        image = np.zeros((h, w, 1), np.float32)
        image[y, x] = 255
        out = pipe(image, seed=seed, keypoints=[[x + 0.5, y + 0.5], [-3, 2]],
                   keypoint_labels=[40 + seed, 9], remove_invisible=False)
        assert out["keypoint_labels"].tolist() == [40 + seed, 9]
        assert out["keypoint_visible"][1] == False  # noqa: E712 (started outside)
        dropped = pipe(image, seed=seed, keypoints=[[x + 0.5, y + 0.5], [-3, 2]])
        if not out["keypoint_visible"][0]:
            assert len(dropped["keypoints"]) == 0
            continue
        kept += 1
        np.testing.assert_array_equal(dropped["keypoints"], out["keypoints"][:1])
        r, c = np.unravel_index(np.argmax(out["image"][..., 0]), (20, 24))
        np.testing.assert_allclose(out["keypoints"][0], [c + 0.5, r + 0.5], atol=1.0)
    assert kept > 6
    flip = layers.Pipeline([layers.RandomFlip("horizontal_and_vertical")])
    point = np.array([[3.25, 7.5]], np.float32)
    for seed in range(6):
        moved = flip(np.zeros((10, 16, 3), np.float32), seed=seed, keypoints=point)["keypoints"]
        assert moved.tolist() in ([[3.25, 7.5]], [[16 - 3.25, 10 - 7.5]])
    with pytest.raises(ValueError, match="keypoint_labels"):
        flip(np.zeros((4, 4, 3), np.float32), seed=0, keypoints=point, keypoint_labels=[1, 2])


def test_flow_moves_keypoints_through_a_pipeline(images):
    pipe = layers.Pipeline([layers.RandomFlip("horizontal"), layers.RandomResizedCrop((6, 5))])
    points = [[[2.5, 3.5], [40.0, 1.0]]] * len(images)
    it = augflow.ImageDataGenerator().flow(images, batch_size=8, shuffle=False, seed=4,
                                           keypoints=points, remove_invisible=False,
                                           pipeline=pipe)
    xb, t = it[0]
    assert xb.shape == (8, 6, 5, 3)
    for j in range(8):  # the iterator and the Python call move each point alike
        one = pipe(images[j], seed=4, index=j, keypoints=points[j], remove_invisible=False)
        np.testing.assert_array_equal(t["keypoints"][j], one["keypoints"])
        np.testing.assert_array_equal(t["keypoint_visible"][j], one["keypoint_visible"])
        assert not t["keypoint_visible"][j][1]


def test_flow_with_a_pipeline_serves_the_pipeline_output_for_each_sample(images):
    pipe = layers.Pipeline([layers.RandomResizedCrop((6, 5)), layers.RandomFlip(),
                            layers.RandomContrast(0.3)])
    it = augflow.ImageDataGenerator().flow(images, batch_size=8, shuffle=False, seed=11,
                                           pipeline=pipe)
    xb = it[1]
    assert xb.shape == (8, *pipe.output_size(8, 10), 3) == (8, 6, 5, 3)
    for j in range(8):  # the Rust iterator and the Python call agree bit for bit
        np.testing.assert_array_equal(xb[j], pipe(images[8 + j], seed=11, epoch=0, index=8 + j))
    again = pickle.loads(pickle.dumps(it))
    np.testing.assert_array_equal(again[1], xb)



def test_a_state_resumes_only_with_the_same_pipeline(images):
    def flow(*layer_list):
        return augflow.ImageDataGenerator().flow(images, batch_size=4, seed=2,
                                                 pipeline=list(layer_list) or None)

    it = flow(layers.RandomResizedCrop(6), layers.RandomFlip())
    next(it), next(it)
    state = json.loads(json.dumps(it.state_dict()))
    same = flow(layers.RandomResizedCrop(6), layers.RandomFlip())
    same.load_state_dict(state)
    np.testing.assert_array_equal(next(same), next(it))
    for other in (flow(layers.RandomResizedCrop(6)), flow()):
        with pytest.raises(ValueError, match="pipeline"):
            other.load_state_dict(state)

def test_flow_runs_a_last_batch_layer_on_each_batch_and_mixes_y(images):
    y = np.eye(4, dtype=np.float32)[np.arange(20) % 4]
    per_sample = [layers.RandomFlip("horizontal"), layers.RandomContrast(0.2)]
    mixed = augflow.ImageDataGenerator().flow(
        images, y, batch_size=6, seed=9, pipeline=per_sample + [layers.CutMix()])
    plain = augflow.ImageDataGenerator().flow(images, y, batch_size=6, seed=9,
                                              pipeline=per_sample)
    cutmix = layers.Pipeline([layers.CutMix()])
    for b in (0, 3):  # the last batch holds 2 samples
        xb, yb = mixed[b]
        expected_x, expected_y = cutmix(*plain[b][:1], labels=plain[b][1], seed=9, index=b)
        np.testing.assert_array_equal(xb, expected_x)
        np.testing.assert_array_equal(yb, expected_y)
        np.testing.assert_allclose(yb.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="`y`"):
        augflow.ImageDataGenerator().flow(images, np.arange(20), pipeline=[layers.MixUp()])[0]
    with pytest.raises(ValueError, match="dtype"):
        augflow.ImageDataGenerator(dtype="uint8").flow(images, y, pipeline=[layers.MixUp()])


THREADS = """
import sys, numpy as np, augflow
from augflow import layers
augflow.set_num_threads({n})
i, r, c, k = np.indices((20, 8, 10, 3))
x = ((7 * i + 3 * r + 5 * c + k) % 256).astype(np.uint8)
y = np.eye(4, dtype=np.float32)[np.arange(20) % 4]
pipe = layers.Pipeline([layers.RandomResizedCrop(6), layers.RandomRotation(0.2),
                        layers.RandAugment(), layers.RandomErasing(), layers.MixUp()])
it = augflow.ImageDataGenerator(horizontal_flip=True).flow(x, y, batch_size=7, seed=3,
                                                           pipeline=pipe)
batches = [it[b] for b in range(len(it))]
np.save(sys.argv[1], np.concatenate([xb for xb, _ in batches]))
np.save(sys.argv[1] + ".y.npy", np.concatenate([yb for _, yb in batches]))
"""


def test_flow_with_a_pipeline_is_identical_at_one_and_two_threads(tmp_path):
    outs = []
    for n in (1, 2):
        path = tmp_path / f"{n}.npy"
        subprocess.run([sys.executable, "-c", THREADS.format(n=n), str(path)], check=True,
                       timeout=120)
        outs.append((np.load(path), np.load(f"{path}.y.npy")))
    assert outs[0][0].shape == (20, 6, 6, 3) and outs[0][1].shape == (20, 4)
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


def test_flow_from_directory_and_dataframe_take_a_pipeline(class_folder):
    pd = pytest.importorskip("pandas")
    pipe = layers.Pipeline([layers.RandomResizedCrop(9), layers.RandomFlip()])
    gen = augflow.ImageDataGenerator()
    it = gen.flow_from_directory(class_folder, batch_size=5, seed=1, pipeline=pipe)
    xb, _ = it[0]
    assert xb.shape == (5, 9, 9, 3)
    files = sorted(str(p.relative_to(class_folder)) for p in class_folder.rglob("*.png"))
    df = pd.DataFrame({"filename": files, "class": [f.split(os.sep)[0] for f in files]})
    it = gen.flow_from_dataframe(df, directory=class_folder, batch_size=5, seed=1,
                                 pipeline=pipe)
    xb, _ = it[0]
    assert xb.shape == (5, 9, 9, 3)


def test_the_layer_stubs_are_up_to_date():
    from augflow._layer_stubs import stub_text

    stub = REPO / "python" / "augflow" / "layers.pyi"
    if not stub.exists():
        pytest.skip("not run from the repository")
    fix = "run: python -m augflow._layer_stubs > python/augflow/layers.pyi"
    assert stub.read_text() == stub_text(), fix


def test_the_readme_example_runs():
    readme = REPO / "README.md"
    if not readme.exists():
        pytest.skip("not run from the repository")
    section = readme.read_text().split("### Keras 3 layers from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
