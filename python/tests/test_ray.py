"""augflow on Ray (python/examples/ray_shards.py): Ray tasks on a local cluster each serve
one shard; together they are the unsharded epoch, bit for bit. Skipped without Ray."""

import importlib.util
import pathlib

import numpy as np
import pytest

ray = pytest.importorskip(
    "ray", reason="Ray is not installed (`pip install ray`); the Ray shard test is skipped")

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "ray_shards.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("ray_shards", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield module
    ray.shutdown()


@pytest.mark.parametrize("num_shards", [2, 3])
def test_ray_tasks_shards_are_the_unsharded_epoch(example, images, num_shards):
    y = np.arange(len(images)) % 3
    (index, xs, ys), sizes = example.sharded_epoch(images, y, num_shards, epoch=1)
    ref_index, ref_x, ref_y = example.unsharded_epoch(images, y, epoch=1)
    np.testing.assert_array_equal(index, np.arange(len(images)))
    np.testing.assert_array_equal(index, ref_index)
    assert xs.tobytes() == ref_x.tobytes()
    np.testing.assert_array_equal(ys, ref_y)
    assert sum(sizes) == len(images) and max(sizes) - min(sizes) <= 1
