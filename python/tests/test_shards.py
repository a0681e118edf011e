"""Shards for data-parallel training: `num_shards`, `shard_index`, `shard_remainder` on
every `flow*` method. Shards are disjoint, cover the epoch, and serve the same bits as the
unsharded iterator."""

import numpy as np
import pytest

import augflow

GEN = dict(rotation_range=20, width_shift_range=0.2, horizontal_flip=True)


def samples(it):
    """`{sample index: (image, label)}` of one epoch of `it`, padding left out, and the
    number of padded samples."""
    out, pads = {}, 0
    for b in range(len(it)):
        x, y = it[b]
        pad = it.batch_padding(b)
        pads += pad
        keep = len(x) - pad
        for i, j in enumerate(it.batch_indices(b)[:keep]):
            assert j not in out, f"sample {j} served twice by one shard"
            out[j] = (x[i], y[i])
    return out, pads


def assert_same_samples(shards, whole):
    merged = {}
    for part in shards:
        assert not merged.keys() & part.keys(), "two shards serve the same sample"
        merged.update(part)
    assert merged.keys() == whole.keys()
    for j, (x, y) in whole.items():
        assert merged[j][0].tobytes() == x.tobytes(), f"sample {j}: other pixels in its shard"
        np.testing.assert_array_equal(merged[j][1], y)


@pytest.mark.parametrize("num_shards", [1, 2, 3, 7])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_flow_shards_cover_the_epoch_with_identical_bits(images, num_shards, batch_size):
    gen = augflow.ImageDataGenerator(**GEN)
    y = np.arange(20)
    kw = dict(batch_size=batch_size, seed=7)
    whole, _ = samples(gen.flow(images, y, **kw))
    parts = [gen.flow(images, y, num_shards=num_shards, shard_index=k, **kw)
             for k in range(num_shards)]
    assert {len(p) for p in parts} == {len(parts[0])}, "pad gives every shard as many batches"
    got = [samples(p) for p in parts]
    assert_same_samples([g for g, _ in got], whole)
    assert sum(pads for _, pads in got) == -20 % num_shards


def test_shard_k_takes_every_kth_position_of_the_global_order(images):
    gen = augflow.ImageDataGenerator(**GEN)
    whole = gen.flow(images, batch_size=20, seed=3)
    order = whole.batch_indices(0)
    for k in range(3):
        shard = gen.flow(images, batch_size=20, seed=3, num_shards=3, shard_index=k,
                         shard_remainder="uneven")
        assert shard.batch_indices(0) == order[k::3]
        assert (shard.num_shards, shard.shard_index, shard.shard_remainder) == (3, k, "uneven")


@pytest.mark.parametrize("policy, sizes", [("pad", [7, 7, 7]), ("drop", [6, 6, 6]),
                                           ("uneven", [7, 7, 6])])
def test_remainder_policies(images, policy, sizes):
    gen = augflow.ImageDataGenerator()
    got = [gen.flow(images, batch_size=32, num_shards=3, shard_index=k,
                    shard_remainder=policy)[0].shape[0] for k in range(3)]
    assert got == sizes


def test_subset_is_split_first_then_sharded(images):
    gen = augflow.ImageDataGenerator(validation_split=0.25, **GEN)
    y = np.arange(20)
    kw = dict(batch_size=3, seed=2, subset="training", ignore_class_split=True)
    whole, _ = samples(gen.flow(images, y, **kw))
    assert len(whole) == 15
    parts = [samples(gen.flow(images, y, num_shards=2, shard_index=k, **kw))[0]
             for k in range(2)]
    assert_same_samples(parts, whole)


def test_directory_and_dataframe_shards(class_folder):
    pd = pytest.importorskip("pandas")
    gen = augflow.ImageDataGenerator(**GEN)
    kw = dict(target_size=(6, 6), batch_size=2, seed=4, class_mode="sparse")
    frame = pd.DataFrame({"filename": ["cats/0.png", "cats/1.png", "dogs/0.png", "dogs/1.png",
                                       "cats/2.png"],
                          "class": ["cat", "cat", "dog", "dog", "cat"]})
    for make in (lambda **a: gen.flow_from_directory(class_folder, **kw, **a),
                 lambda **a: gen.flow_from_dataframe(frame, class_folder, **kw, **a)):
        whole, _ = samples(make())
        parts = [samples(make(num_shards=2, shard_index=k))[0] for k in range(2)]
        assert_same_samples(parts, whole)


@pytest.mark.parametrize("kw, name, value", [
    (dict(num_shards=0), "num_shards", "0"),
    (dict(num_shards=-2), "num_shards", "-2"),
    (dict(num_shards=2, shard_index=2), "shard_index", "2"),
    (dict(num_shards=2, shard_index=-1), "shard_index", "-1"),
    (dict(num_shards=2, shard_remainder="even"), "shard_remainder", '"even"'),
    (dict(shard_remainder=None), "shard_remainder", "None"),
])
def test_bad_shard_arguments_raise_value_error_naming_them(images, class_folder, kw, name,
                                                           value):
    gen = augflow.ImageDataGenerator()
    for make in (lambda: gen.flow(images, **kw),
                 lambda: gen.flow_from_directory(class_folder, **kw)):
        with pytest.raises(ValueError, match=f"invalid `{name}`: got {value}; expected"):
            make()


def test_shard_arguments_are_keyword_only(images):
    with pytest.raises(TypeError):
        augflow.ImageDataGenerator().flow(images, None, 32, True, None, None, None, "", "png",
                                          False, None, 2)


def test_a_pickled_shard_stays_the_same_shard(images):
    import pickle

    it = augflow.ImageDataGenerator(**GEN).flow(images, batch_size=4, num_shards=3,
                                                shard_index=2, shard_remainder="drop")
    copy = pickle.loads(pickle.dumps(it))
    assert (copy.num_shards, copy.shard_index, copy.shard_remainder) == (3, 2, "drop")
    assert copy[1].tobytes() == it[1].tobytes()
