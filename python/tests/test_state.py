"""`state_dict()` / `load_state_dict()`: a run stopped anywhere, saved through JSON and
resumed in a fresh iterator serves exactly the batches an uninterrupted run serves."""

import json
import random
import re

import numpy as np
import pytest

import augflow

GEN = dict(rotation_range=30, zoom_range=0.2, channel_shift_range=10.0, horizontal_flip=True)


def as_bytes(batch):
    """Every array of a batch (`x`, `(x, y)`, `([x, extra], y, w)`), as bytes."""
    if isinstance(batch, np.ndarray):
        return [batch.dtype.str, batch.shape, batch.tobytes()]
    return [as_bytes(part) for part in batch]


def run(make, batches, stop):
    """`batches` batches of `next()`: uninterrupted, and stopped after `stop` then resumed in
    a fresh iterator from the state saved through JSON."""
    whole = make()
    expected = [as_bytes(next(whole)) for _ in range(batches)]
    first = make()
    got = [as_bytes(next(first)) for _ in range(stop)]
    saved = json.dumps(first.state_dict())
    del first  # "killed"
    fresh = make()
    fresh.load_state_dict(json.loads(saved))
    got += [as_bytes(next(fresh)) for _ in range(batches - stop)]
    return expected, got


# Stops drawn at random once; two epochs so that stops at and across the epoch's end count.
STOPS = sorted(random.Random(15).sample(range(1, 12), 5)) + [5, 6]


@pytest.mark.parametrize("stop", STOPS)
def test_kill_and_resume_is_bit_identical(images, stop):
    gen = augflow.ImageDataGenerator(**GEN)
    y = np.arange(20) % 4
    make = lambda: gen.flow(images, y, batch_size=7, seed=11)  # 3 batches an epoch
    assert len(make()) == 3
    expected, got = run(make, 12, stop)
    assert got == expected


@pytest.mark.parametrize("stop", [1, 4, 7])
@pytest.mark.parametrize("k", [0, 2])
def test_kill_and_resume_a_shard(images, stop, k):
    gen = augflow.ImageDataGenerator(**GEN)
    make = lambda: gen.flow(images, batch_size=3, seed=5, num_shards=3, shard_index=k)
    expected, got = run(make, 9, stop)
    assert got == expected


def test_resume_without_a_seed_takes_the_saved_one(images):
    gen = augflow.ImageDataGenerator(**GEN)
    make = lambda: gen.flow(images, batch_size=6)  # each draws its own seed from the OS
    first = make()
    next(first)
    fresh = make()
    fresh.load_state_dict(json.loads(json.dumps(first.state_dict())))
    assert fresh.seed == first.seed
    assert [as_bytes(next(fresh)) for _ in range(5)] == [as_bytes(next(first)) for _ in range(5)]


def test_resume_a_folder_iterator(class_folder):
    gen = augflow.ImageDataGenerator(**GEN)
    make = lambda: gen.flow_from_directory(class_folder, target_size=(6, 6), batch_size=2,
                                           seed=9, num_shards=2, shard_index=1)
    expected, got = run(make, 4, 1)
    assert got == expected


def test_resume_a_dataframe_iterator(class_folder):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"filename": ["cats/0.png", "dogs/1.png", "cats/2.png", "dogs/0.png"],
                          "class": ["cat", "dog", "cat", "dog"]})
    gen = augflow.ImageDataGenerator(**GEN)
    # Each iterator writes the columns to its own temporary CSV file: the state must not
    # depend on that file's name.
    make = lambda: gen.flow_from_dataframe(frame, class_folder, target_size=(6, 6),
                                           batch_size=3, seed=2)
    expected, got = run(make, 4, 3)
    assert got == expected


def test_state_dict_is_plain_json_data(images):
    it = augflow.ImageDataGenerator(**GEN).flow(images, batch_size=8, seed=4, num_shards=2,
                                                shard_index=1, shard_remainder="drop")
    next(it)
    it[1]  # asked by index: not counted as consumed
    state = it.state_dict()
    assert json.loads(json.dumps(state)) == state
    assert (state["seed"], state["epoch"], state["position"]) == (4, 0, 1)
    assert state["shard"] == {"count": 2, "index": 1, "remainder": "drop"}
    assert isinstance(state["config"], dict)


def test_a_state_saved_after_on_epoch_end_resumes_at_that_epoch(images):
    """Keras' `fit` asks batches by index and calls `on_epoch_end`: the epoch is the state."""
    gen = augflow.ImageDataGenerator(**GEN)
    it = gen.flow(images, batch_size=8, seed=4)
    it.on_epoch_end()
    it.on_epoch_end()
    fresh = gen.flow(images, batch_size=8, seed=4)
    fresh.load_state_dict(it.state_dict())
    assert fresh.epoch == 2
    assert fresh[1].tobytes() == it[1].tobytes()


@pytest.mark.parametrize("other, differs", [
    (dict(batch_size=5), "batch_size (state 4, here 5)"),
    (dict(num_shards=2, shard_index=1), "shard (state None"),
    (dict(shuffle=False), "shuffle"),
    (dict(x_shape=(20, 8, 10, 1)), "image_shape"),
    (dict(x_dtype=np.float32), "source"),
    (dict(rotation_range=10), "generator"),
])
def test_a_state_from_another_configuration_is_refused(images, other, differs):
    state = augflow.ImageDataGenerator(**GEN).flow(images, batch_size=4, seed=1).state_dict()
    gen = augflow.ImageDataGenerator(**dict(GEN, rotation_range=other.pop("rotation_range", 30)))
    x = images[..., :1].copy() if "x_shape" in other else images
    x = x.astype(other.pop("x_dtype", np.uint8))
    other.pop("x_shape", None)
    it = gen.flow(x, **dict(dict(batch_size=4, seed=1), **other))
    with pytest.raises(ValueError, match="invalid `state`: got a state whose configuration "
                                         "differs in .*" + re.escape(differs)):
        it.load_state_dict(state)


@pytest.mark.parametrize("state, what", [
    ([1, 2], "got list"),
    ({"seed": 1}, "expected a dict made by state_dict()"),
    ({"seed": object()}, "not JSON data"),
])
def test_a_malformed_state_raises_value_error(images, state, what):
    it = augflow.ImageDataGenerator().flow(images)
    with pytest.raises(ValueError, match=r"invalid `state`: .*" + re.escape(what)):
        it.load_state_dict(state)


def test_a_state_past_the_epoch_is_refused(images):
    it = augflow.ImageDataGenerator().flow(images, batch_size=10, seed=1)
    state = dict(it.state_dict(), position=3)
    with pytest.raises(ValueError, match="3"):
        it.load_state_dict(state)


def test_set_epoch_moves_to_the_first_batch_of_that_epoch(images):
    gen = augflow.ImageDataGenerator(**GEN)
    it = gen.flow(images, batch_size=8, seed=4)
    next(it)
    it.set_epoch(2)
    assert (it.epoch, it.state_dict()["position"]) == (2, 0)
    other = gen.flow(images, batch_size=8, seed=4)
    other.on_epoch_end()
    other.on_epoch_end()
    assert next(it).tobytes() == other[0].tobytes()
    with pytest.raises(ValueError, match="invalid `epoch`: got -1; expected an integer >= 0"):
        it.set_epoch(-1)


def test_the_readme_ddp_loop_resumes_every_rank(images):
    """The torch DDP recipe of the README without torch: two ranks step in lock-step from
    `start = epoch * len + position`, checkpoint every rank's state at a step, and resume."""
    gen = augflow.ImageDataGenerator(**GEN)
    world, epochs = 2, 3
    make = lambda rank: gen.flow(images, batch_size=4, seed=42, num_shards=world,
                                 shard_index=rank)

    def loop(trains, checkpoint=None, stop=None):
        if checkpoint is not None:
            for rank, train in enumerate(trains):
                train.load_state_dict(checkpoint[rank])
        served, saved = [[] for _ in trains], None
        starts = {t.epoch * len(t) + t.state_dict()["position"] for t in trains}
        assert len(starts) == 1, "every rank resumes at the same step"
        for step in range(starts.pop(), epochs * len(trains[0])):
            for rank, train in enumerate(trains):
                served[rank].append(next(train).tobytes())
            if step == stop:
                saved = json.loads(json.dumps([t.state_dict() for t in trains]))
                break
        return served, saved

    whole, _ = loop([make(r) for r in range(world)])
    assert len(whole[0]) == epochs * 3
    for stop in (1, 2, 5):
        first, saved = loop([make(r) for r in range(world)], stop=stop)
        rest, _ = loop([make(r) for r in range(world)], checkpoint=saved)
        assert [a + b for a, b in zip(first, rest)] == whole


def test_the_docstring_examples_of_shards_and_state_run():
    import doctest

    import augflow._iterator

    result = doctest.testmod(augflow._iterator)
    assert result.attempted >= 5 and result.failed == 0
