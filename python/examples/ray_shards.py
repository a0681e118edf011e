"""augflow on Ray: N Ray tasks each build one shard of the same augmented epoch.

Every task gets the images through Ray's object store (read in place, without a copy),
builds the same generator and ``flow`` with ``num_shards=N, shard_index=k``, and returns
the samples its shard served, padding removed. The driver checks that the shards together
are exactly the unsharded epoch, bit for bit: sample ``j``'s transform depends only on the
seed, the epoch and ``j``, never on which process reads it.

    python python/examples/ray_shards.py [NUM_SHARDS]

``ray.init()`` starts a local cluster, or joins the one ``RAY_ADDRESS`` names: the same
code runs on a real cluster.
"""

import sys

import numpy as np
import ray

import augflow

GENERATOR = dict(rotation_range=20, width_shift_range=0.1, zoom_range=0.1, horizontal_flip=True)
FLOW = dict(batch_size=8, seed=2026)


def epoch_samples(it, epoch):
    """Sample indices, images and labels that ``it`` serves in ``epoch``, padding removed."""
    it.set_epoch(epoch)
    index, xs, ys = [], [], []
    for b in range(len(it)):
        x, y = it[b]
        keep = len(x) - it.batch_padding(b)
        index += it.batch_indices(b)[:keep]
        xs.append(x[:keep])
        ys.append(y[:keep])
    return np.array(index), np.concatenate(xs), np.concatenate(ys)


@ray.remote
def augment_shard(x, y, num_shards, shard_index, epoch):
    """One Ray task: shard ``shard_index`` of ``num_shards`` of ``epoch``."""
    gen = augflow.ImageDataGenerator(**GENERATOR)
    it = gen.flow(x, y, num_shards=num_shards, shard_index=shard_index, **FLOW)
    return epoch_samples(it, epoch)


def sharded_epoch(x, y, num_shards, epoch=0):
    """Runs ``num_shards`` Ray tasks and merges their shards by sample index."""
    x_ref, y_ref = ray.put(x), ray.put(y)
    tasks = [augment_shard.remote(x_ref, y_ref, num_shards, k, epoch) for k in range(num_shards)]
    shards = ray.get(tasks)
    index = np.concatenate([s[0] for s in shards])
    order = np.argsort(index, kind="stable")
    merged = [np.concatenate([s[i] for s in shards])[order] for i in range(3)]
    return merged, [len(s[0]) for s in shards]


def unsharded_epoch(x, y, epoch=0):
    """The same epoch in one process, by sample index."""
    it = augflow.ImageDataGenerator(**GENERATOR).flow(x, y, **FLOW)
    index, xs, ys = epoch_samples(it, epoch)
    order = np.argsort(index, kind="stable")
    return [index[order], xs[order], ys[order]]


def main(num_shards=4):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(50, 16, 16, 3), dtype=np.uint8)
    y = np.arange(50) % 5
    ray.init(num_cpus=min(num_shards, 4))
    try:
        (index, xs, ys), sizes = sharded_epoch(x, y, num_shards, epoch=1)
    finally:
        ray.shutdown()
    ref_index, ref_x, ref_y = unsharded_epoch(x, y, epoch=1)
    same = (np.array_equal(index, ref_index) and xs.tobytes() == ref_x.tobytes()
            and np.array_equal(ys, ref_y))
    print(f"{num_shards} shards of {sizes} samples: "
          f"{'identical to' if same else 'DIFFERENT from'} the unsharded epoch")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4))
