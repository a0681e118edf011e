"""Input arrays are borrowed, never copied: a 1 GB ``uint8`` dataset iterated with ``flow``
adds less than two batches to the peak resident memory."""

import subprocess
import sys
import textwrap

import numpy as np

# 6644 images of 224x224x3 uint8: 1.0 GB. Batches of 32 float32 images: 19.3 MB each.
N, SHAPE, BATCH = 6644, (224, 224, 3), 32

PEAK_RSS = textwrap.dedent("""
    import sys, numpy as np, augflow

    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise SystemExit(f"no {key} in /proc/self/status")

    x = np.load(sys.argv[1], mmap_mode="r")
    assert x.dtype == np.uint8 and x.nbytes >= 10**9, (x.dtype, x.nbytes)
    # Read every page, so that the whole dataset is resident before the baseline: from
    # here on a copy of it would show as new memory, not as pages faulted in.
    checksum = int(x.sum(dtype=np.uint64))
    it = augflow.ImageDataGenerator(horizontal_flip=True, rotation_range=10).flow(
        x, batch_size=int(sys.argv[2]), seed=0)
    try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # then VmHWM also counts what came before: the check only gets stricter
    baseline = status("VmRSS")
    for i in range(len(it)):
        it[i]  # one batch alive at a time, as a training loop that consumes it
    print(status("VmHWM") - baseline, status("VmRSS"), checksum)
""")


def test_a_1gb_uint8_memmap_adds_less_than_two_batches_to_peak_rss(tmp_path):
    """The dataset is a memory-mapped ``.npy`` file (its pages are the page cache's, not
    1 GB of anonymous memory), read completely before the baseline is taken, and measured in
    a fresh interpreter through ``/proc/self/status``. Every batch is built; a copy of the
    dataset (1 GB), or its float32 conversion (4 GB), would exceed the bound 25 to 100
    times over."""
    path = tmp_path / "images.npy"
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(N, *SHAPE))
    try:
        for start in range(0, N, 512):  # distinct, nonzero data, written in 77 MB slices
            x[start:start + 512] = (np.arange(start, min(start + 512, N)) % 251 + 1).astype(
                np.uint8)[:, None, None, None]
        x.flush()
        expected_checksum = int(sum((i % 251 + 1) for i in range(N))) * int(np.prod(SHAPE))
        del x
        out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(path), str(BATCH)],
                             capture_output=True, text=True, timeout=120)
    finally:
        path.unlink()
    assert out.returncode == 0, out.stderr
    added, rss, checksum = map(int, out.stdout.split())
    assert checksum == expected_checksum  # the data the child read is the data written
    assert rss >= 10**9  # the dataset was resident during the measurement
    batch_bytes = BATCH * int(np.prod(SHAPE)) * np.dtype(np.float32).itemsize
    assert added < 2 * batch_bytes, f"peak RSS grew by {added} bytes; a batch is {batch_bytes}"
