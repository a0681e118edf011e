"""Replay of the conformance set's iterator cases (Keras 2.9's `flow`) through the Python
API: batch contents, `y`, `sample_weight`, `x_misc`, splits and Keras' split error."""

import builtins
import json
import os
import pathlib
import re

import numpy as np
import pytest

import augflow

# `../shared/conformance` from the repository root, as the Rust runner reads it.
ROOT = pathlib.Path(
    os.environ.get(
        "AUGFLOW_CONFORMANCE",
        pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "conformance",
    )
)


def _cases(kind):
    if not (ROOT / "index.json").exists():
        return []
    cases = json.loads((ROOT / "index.json").read_text())["cases"]
    return [c for c in cases if c["kind"] == kind and not c.get("informational")]


def _load(name):
    return np.load(ROOT / name)


def _flow(case, subset=None):
    inputs = case["flow_inputs"]
    x = _load(inputs["x"])
    if "x_misc" in inputs:
        x = (x, [_load(m) for m in inputs["x_misc"]])
    flow = case["flow"]
    gen = augflow.ImageDataGenerator(**case["generator"], geometry="keras", kernel="exact")
    return gen.flow(
        x,
        _load(inputs["y"]) if "y" in inputs else None,
        batch_size=flow["batch_size"],
        shuffle=flow["shuffle"],
        sample_weight=_load(inputs["sample_weight"]) if "sample_weight" in inputs else None,
        seed=flow.get("seed"),
        subset=subset,
    )


def _check_batches(it, batches, tol):
    assert len(it) == len(batches)
    for i, want in enumerate(batches):
        got = it[i]
        xs = got[0] if isinstance(got, tuple) else got
        misc = []
        if isinstance(xs, list):
            xs, *misc = xs
        np.testing.assert_allclose(xs, _load(want["x"]), atol=tol["atol"], rtol=tol["rtol"])
        assert xs.dtype.name == want["x_dtype"]
        if "y" in want:
            np.testing.assert_array_equal(got[1], want["y"])
        if "sample_weight" in want:
            np.testing.assert_array_equal(got[2], want["sample_weight"])
        for m, w in zip(misc, want.get("x_misc", [])):
            np.testing.assert_array_equal(m, w)


@pytest.mark.parametrize("case", _cases("iterator"), ids=lambda c: c["id"])
def test_iterator_case(case):
    if "subsets" in case:
        for subset, part in case["subsets"].items():
            _check_batches(_flow(case, subset), part["batches"], case["tolerance"])
    else:
        _check_batches(_flow(case), case["batches"], case["tolerance"])


@pytest.mark.parametrize("case", _cases("iterator_error"), ids=lambda c: c["id"])
def test_iterator_error_case(case):
    exc = getattr(builtins, case["raises"]["type"])
    first_sentence = case["raises"]["message"].split(". ")[0]
    with pytest.raises(exc, match=re.escape(first_sentence)):
        _flow(case, case["flow"]["subset"])


def _compare(got, case, expected_file, mask_file=None):
    """The Rust runner's rule: `|got - expected| <= atol + rtol*|expected|` everywhere, but
    for up to `max_mismatched_elements` elements, all on the fragile mask when there is one."""
    tol = case["tolerance"]
    exp = _load(expected_file).astype(np.float64)
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == exp.shape
    err = np.abs(got - exp)
    bad = ~((err <= tol["atol"] + tol.get("rtol", 0.0) * np.abs(exp)) | (np.isnan(got) & np.isnan(exp)))
    allowed = tol.get("max_mismatched_elements", 0)
    if mask_file is not None:
        off_mask = int((bad & (_load(mask_file) == 0)).sum())
        assert off_mask == 0, f"{off_mask} elements off the fragile mask, max err {err[~bad].max() if (~bad).any() else 0}"
    assert int(bad.sum()) <= allowed, f"{int(bad.sum())} mismatches (max |err| {err.max()}), {allowed} allowed"


def _keras_generator(case):
    return augflow.ImageDataGenerator(**case["generator"], geometry="keras", kernel="exact")


@pytest.mark.parametrize("case", _cases("apply_transform"), ids=lambda c: c["id"])
def test_apply_transform_case(case):
    got = _keras_generator(case).apply_transform(_load(case["input"]), case["params"])
    _compare(got, case, case["expected"], case.get("fragile_mask"))


@pytest.mark.parametrize("case", _cases("standardize"), ids=lambda c: c["id"])
def test_standardize_case(case):
    x = _load(case["input"]).astype(np.float32)
    got = _keras_generator(case).standardize(x)
    assert got is x  # in place, as Keras
    _compare(got, case, case["expected"])


@pytest.mark.parametrize("case", _cases("fit_standardize"), ids=lambda c: c["id"])
def test_fit_standardize_case(case):
    gen = _keras_generator(case)
    gen.fit(_load(case["fit_input"]), **case["fit_args"])
    for key in ("mean", "std"):
        if key in case.get("fitted", {}):
            want = case["fitted"][key]
            _compare(getattr(gen, key), case, want["file"])
    x = _load(case["input"]).astype(np.float32)
    for i in range(len(x)):
        gen.standardize(x[i])
    _compare(x, case, case["expected"])


def _informational(kind):
    if not (ROOT / "index.json").exists():
        return []
    cases = json.loads((ROOT / "index.json").read_text())["cases"]
    return [c for c in cases if c["kind"] == kind and c.get("informational")]


@pytest.mark.parametrize("case", _informational("iterator"), ids=lambda c: c["id"])
def test_informational_shuffle_case_has_keras_structure(case):
    """Keras' own shuffled indices come from numpy's RandomState, which augflow does not
    use (its README says so): the case is replayed for its structure. Every epoch is a
    permutation of the samples, in `len` batches, reshuffled between epochs, and the same
    seed gives the same epochs."""
    x = _load(case["flow_inputs"]["x"])
    y = _load(case["flow_inputs"]["y"])
    flow = case["flow"]

    def epochs():
        it = augflow.ImageDataGenerator().flow(x, y, batch_size=flow["batch_size"],
                                               shuffle=flow["shuffle"], seed=flow["seed"])
        assert len(it) == case["len"]
        orders = []
        for _ in case["epoch_orders"]:
            orders.append([int(v) for b in range(len(it)) for v in it[b][1]])
            it.on_epoch_end()
        return orders

    orders = epochs()
    for order, keras_order in zip(orders, case["epoch_orders"]):
        assert sorted(order) == sorted(keras_order) == list(range(len(x)))
    assert orders[0] != orders[1]
    assert epochs() == orders


def test_the_conformance_set_is_found():
    counts = {k: len(_cases(k)) for k in
              ("apply_transform", "standardize", "fit_standardize", "iterator", "iterator_error")}
    assert counts == {"apply_transform": 212, "standardize": 17, "fit_standardize": 9,
                      "iterator": 3, "iterator_error": 1}, (ROOT, counts)
    assert len(_informational("iterator")) == 1  # 242 + 1 = the 243 cases
