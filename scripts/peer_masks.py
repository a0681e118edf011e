#!/usr/bin/env python3
"""albumentations with one uint8 mask per image on the standard workload: the peers' side of
augflow bench's "with mask" row, run by scripts/compare-peers.sh with the peers' python.

The same data, pipeline and batches as the peer bench's `albu_div255` row (it imports
bench.py from the peer-bench folder), with `mask=` passed beside each image: the mask is 1
where the image's first channel is above 127 (as augflow's bench makes it), and the batch's
masks are stacked into a uint8 buffer as the images are into a float32 one.

Usage: peer_masks.py PEER_BENCH_DIR --json OUT [--small] [--repeats N] [--threads 1,2]
Each thread count runs in a fresh subprocess, with the thread variables set before import.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def worker(peer_dir, n, size, batch, repeats, threads):
    sys.path.insert(0, peer_dir)
    import bench  # the peer bench: its data and pipeline, not a copy of them
    import cv2
    import numpy as np
    cv2.setNumThreads(threads)
    x = bench.make_data(n, size)
    masks = (x[..., 0] > 127).astype(np.uint8)
    aug = bench.albu_pipeline(normalize=False)
    scale = np.float32(1.0 / 255.0)
    rs = np.random.RandomState(0)

    def epoch():
        order = rs.permutation(n)
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            out = np.empty((len(idx),) + x.shape[1:], dtype=np.float32)
            out_m = np.empty((len(idx),) + masks.shape[1:], dtype=np.uint8)
            for i, j in enumerate(idx):
                r = aug(image=x[j], mask=masks[j])
                np.multiply(r["image"], scale, out=out[i])
                out_m[i] = r["mask"]
        return out, out_m

    for j in range(min(n, 16)):
        aug(image=x[j], mask=masks[j])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("peer_dir")
    ap.add_argument("--json", required=True)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    n, size, batch = 512, 64 if a.small else 224, 32
    if a.worker:
        times = worker(os.path.abspath(a.peer_dir), n, size, batch, a.repeats, a.worker)
        print("RESULT " + json.dumps(times))
        return
    results = []
    for t in [int(v) for v in a.threads.split(",")]:
        env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(t)
        cmd = [sys.executable, __file__, a.peer_dir, "--json", a.json, "--worker", str(t),
               "--repeats", str(a.repeats)] + (["--small"] if a.small else [])
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
        if p.returncode != 0 or not line:
            sys.exit(f"albu_mask threads={t} FAILED rc={p.returncode}\n{p.stderr[-2000:]}")
        times = json.loads(line[-1][len("RESULT "):])
        rate = n / statistics.median(times)
        results.append({"row": "albu_mask", "threads": t, "images_per_s": rate})
        print(f"  done albu_mask       threads={t}: {rate:10.1f} img/s", flush=True)
    with open(a.json, "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
