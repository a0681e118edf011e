#!/usr/bin/env python3
"""Rows of scripts/compare-peers.sh measured in the peers' Python process, on the peer
bench's data (it imports bench.py from the peer-bench folder, so the data and albumentations'
pipeline are the bench's own, not copies):

  albu_mask             albumentations' `albu_div255` row with `mask=` beside each image: the
                        mask is 1 where the image's first channel is above 127 (as augflow's
                        bench makes it); masks stacked into a uint8 batch, images into float32
  augflow_python        augflow's Python package: `augflow.ImageDataGenerator(...)` with the
                        workload's arguments, `.flow(x, batch_size=32, seed=0)`, every batch
  augflow_python_keras  the same through the Keras drop-in
                        (`augflow.keras.preprocessing.image`): Keras' geometry, fast kernel
  augflow_python_exact  the drop-in with `kernel="exact"`: Keras' numbers bit for bit
  albu_imagenet         the ImageNet recipe on 375x500 uint8 images (as `augflow
                        bench-recipe`): A.RandomResizedCrop(224), A.HorizontalFlip,
                        A.ColorJitter(0.4, 0.4, 0.4, 0), A.Normalize (ImageNet mean/std) into
                        float32 batches of 224x224
  albu_randaugment      albumentations' nearest RandAugment(num_ops=2): A.RandomResizedCrop,
                        then A.SomeOf(2) of affine/colour ops at RandAugment's default
                        magnitude, then A.Normalize

Usage: peer_rows.py PEER_BENCH_DIR --json OUT --rows ROW[,ROW...] [--small] [--repeats N]
       [--threads 1,2]
Each (row, thread count) runs in a fresh subprocess, with the thread variables set before
import; augflow's pool is sized with `augflow.set_num_threads`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def albu_mask(bench, x, batch, threads):
    import cv2
    import numpy as np
    cv2.setNumThreads(threads)
    masks = (x[..., 0] > 127).astype(np.uint8)
    aug = bench.albu_pipeline(normalize=False)
    scale = np.float32(1.0 / 255.0)
    rs = np.random.RandomState(0)
    n = len(x)

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

    for j in range(min(n, 16)):
        aug(image=x[j], mask=masks[j])
    return epoch


def _augflow_epoch(generator_class, bench, x, batch, threads, **extra):
    import augflow
    augflow.set_num_threads(threads)
    a = bench.AUG
    gen = generator_class(rotation_range=a["rotation"], width_shift_range=a["shift"],
                          height_shift_range=a["shift"], shear_range=a["shear"],
                          zoom_range=a["zoom"], horizontal_flip=True, fill_mode="nearest",
                          rescale=1.0 / 255.0, **extra)
    it = gen.flow(x, batch_size=batch, seed=0)

    def epoch():
        for i in range(len(it)):
            it[i]
        it.on_epoch_end()

    it[0]
    return epoch


def augflow_python(bench, x, batch, threads):
    import augflow
    return _augflow_epoch(augflow.ImageDataGenerator, bench, x, batch, threads)


def augflow_python_keras(bench, x, batch, threads):
    from augflow.keras.preprocessing.image import ImageDataGenerator
    return _augflow_epoch(ImageDataGenerator, bench, x, batch, threads)


def augflow_python_exact(bench, x, batch, threads):
    from augflow.keras.preprocessing.image import ImageDataGenerator
    return _augflow_epoch(ImageDataGenerator, bench, x, batch, threads, kernel="exact")


def _recipe_data(n):
    import numpy as np
    return np.random.RandomState(0).randint(0, 256, size=(n, 375, 500, 3), dtype=np.uint8)


def _albu_epoch(aug, n, batch, threads):
    import cv2
    import numpy as np
    cv2.setNumThreads(threads)
    x = _recipe_data(n)
    rs = np.random.RandomState(0)

    def epoch():
        order = rs.permutation(n)
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            out = np.empty((len(idx), 224, 224, 3), dtype=np.float32)
            for i, j in enumerate(idx):
                out[i] = aug(image=x[j])["image"]

    for j in range(min(n, 16)):
        aug(image=x[j])
    return epoch


def albu_imagenet(bench, x, batch, threads):
    import albumentations as A
    aug = A.Compose([A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip(),
                     A.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0),
                     A.Normalize()])
    return _albu_epoch(aug, len(x), batch, threads)


def albu_randaugment(bench, x, batch, threads):
    import albumentations as A
    ops = [A.Affine(rotate=(-30, 30), p=1), A.Affine(shear=(-17, 17), p=1),
           A.Affine(translate_percent=(-0.3, 0.3), p=1), A.RandomBrightnessContrast(p=1),
           A.ColorJitter(saturation=0.5, brightness=0, contrast=0, hue=0, p=1),
           A.Sharpen(p=1), A.Posterize(p=1), A.Solarize(p=1), A.Equalize(p=1),
           A.InvertImg(p=1), A.AutoContrast(p=1)]
    aug = A.Compose([A.RandomResizedCrop(size=(224, 224)), A.SomeOf(ops, n=2),
                     A.Normalize()])
    return _albu_epoch(aug, len(x), batch, threads)


ROWS = {f.__name__: f for f in (albu_mask, augflow_python, augflow_python_keras,
                                augflow_python_exact, albu_imagenet, albu_randaugment)}


def worker(peer_dir, row, n, size, batch, repeats, threads):
    sys.path.insert(0, peer_dir)
    import bench
    epoch = ROWS[row](bench, bench.make_data(n, size), batch, threads)
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
    ap.add_argument("--rows", required=True)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    n, size, batch = 512, 64 if a.small else 224, 32
    if a.worker:
        row, t = a.worker.split(":")
        times = worker(os.path.abspath(a.peer_dir), row, n, size, batch, a.repeats, int(t))
        print("RESULT " + json.dumps(times))
        return
    rows = a.rows.split(",")
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        sys.exit(f"peer_rows: unknown rows {unknown}; known: {', '.join(ROWS)}")
    results = []
    for row in rows:
        for t in [int(v) for v in a.threads.split(",")]:
            env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env[k] = str(t)
            cmd = [sys.executable, __file__, a.peer_dir, "--json", a.json, "--rows", row,
                   "--worker", f"{row}:{t}", "--repeats", str(a.repeats)]
            cmd += ["--small"] if a.small else []
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
            line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
            if p.returncode != 0 or not line:
                sys.exit(f"{row} threads={t} FAILED rc={p.returncode}\n{p.stderr[-2000:]}")
            times = json.loads(line[-1][len("RESULT "):])
            rate = n / statistics.median(times)
            results.append({"row": row, "threads": t, "images_per_s": rate})
            print(f"  done {row:<22} threads={t}: {rate:10.1f} img/s", flush=True)
    with open(a.json, "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
