"""The GIL is released while a batch is built: other Python threads run meanwhile."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import augflow


def test_a_preprocessing_function_runs_on_a_worker_while_the_caller_waits_in_getitem(images):
    """The workers that build a batch call the Python function; they can only take the GIL
    because the thread inside `__getitem__` released it (else this would never signal)."""
    inside, proceed = threading.Event(), threading.Event()
    seen = []

    def fn(x):
        seen.append(threading.get_ident())
        inside.set()
        proceed.wait(10)
        return x * 2

    # Several samples: rayon hands them to its workers (a single one would run inline).
    it = augflow.ImageDataGenerator(preprocessing_function=fn).flow(images, batch_size=4,
                                                                    shuffle=False)
    result = []
    caller = threading.Thread(target=lambda: result.append(it[0]), daemon=True)
    caller.start()
    assert inside.wait(10), "the preprocessing function never ran: the GIL was held"
    assert caller.is_alive()  # still inside __getitem__
    proceed.set()
    caller.join(10)
    np.testing.assert_array_equal(result[0], images[:4].astype(np.float32) * 2)
    assert caller.ident not in seen


def test_another_python_thread_makes_progress_while_a_batch_is_built():
    """While one thread is inside `__getitem__`, the main thread keeps running Python code
    for most of that time. Were the GIL held, it could run at most one switch interval
    (5 ms) at either end of the call."""
    x = np.full((64, 192, 192, 3), 100, np.uint8)
    it = augflow.ImageDataGenerator(rotation_range=30, zoom_range=0.2).flow(x, batch_size=64,
                                                                          seed=0)
    for _ in range(5):  # grow the work until the call lasts long enough to tell
        marks, window, done = [], [], threading.Event()

        def build():
            t0 = time.perf_counter()
            it[0]
            window.extend([t0, time.perf_counter()])
            done.set()

        worker = threading.Thread(target=build)
        worker.start()
        while not done.is_set():
            marks.append(time.perf_counter())
        worker.join()
        t0, t1 = window
        inside = [m for m in marks if t0 < m < t1]
        if t1 - t0 >= 0.2:
            break
        x = np.concatenate([x, x])
        it = augflow.ImageDataGenerator(rotation_range=30).flow(x, batch_size=len(x), seed=0)
    assert t1 - t0 >= 0.2, "the batch was too quick to measure"
    assert inside, "the main thread never ran while the batch was built"
    covered = inside[-1] - inside[0]
    assert covered > 0.5 * (t1 - t0), (covered, t1 - t0)


SET_THREADS = """
import numpy as np, augflow
augflow.set_num_threads({n})
it = augflow.ImageDataGenerator(rotation_range=20).flow(np.zeros((8, 6, 6, 3), np.uint8), seed=1)
it[0]
try:
    augflow.set_num_threads(2)
    late = "accepted"
except RuntimeError as err:
    late = "refused" if "before the first batch" in str(err) else str(err)
print(augflow.get_num_threads(), late)
"""


@pytest.mark.parametrize("n", [1, 3])
def test_set_num_threads_sizes_the_pool_before_the_first_batch(n):
    out = subprocess.run([sys.executable, "-c", SET_THREADS.format(n=n)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == [str(n), "refused"]


def test_set_num_threads_rejects_a_bad_count():
    for bad in (0, -2):
        with pytest.raises(ValueError, match="n"):
            augflow.set_num_threads(bad)



OVERLAP = """
import threading, time, numpy as np, augflow
augflow.set_num_threads(2)
# Channels-first images are warped whole, each on one pool thread (never cut into bands).
x = (np.arange(16 * 3 * 384 * 384) % 251).astype(np.uint8).reshape(16, 3, 384, 384)
gen = augflow.ImageDataGenerator(rotation_range=30, zoom_range=0.2, shear_range=10,
                                 data_format="channels_first")
its = [gen.flow(x, batch_size=1, seed=s) for s in (1, 2)]
its[0][0], its[1][0]  # the pool starts
data = np.random.default_rng(0).random(1_500_000)

def build(it):
    for _ in range(4):
        for i in range(len(it)):
            it[i]

def sort(_):  # the control: numpy releases the GIL while it sorts
    for _ in range(12):
        np.sort(data)

def timed(work, *args):
    threads = [threading.Thread(target=work, args=(a,)) for a in args]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0

runs = [(timed(build, its[0]), timed(build, *its), timed(sort, 0), timed(sort, 0, 1))
        for _ in range(7)]
print(*(min(r[k] for r in runs) for k in range(4)))  # best of seven: the least disturbed
"""


def test_two_python_threads_build_batches_in_less_time_than_one_after_the_other():
    """Two Python threads, each building 64 one-image batches, finish in under 1.6x the time
    one thread takes for its 64 (2x when the calls run one after the other, 1x when they
    overlap fully), or under the numpy control's ratio plus 0.35 where that is higher (at
    most 1.9x). Times are the best of seven runs, to be robust on a loaded machine.

    Each batch holds one channels-first image, which augflow warps whole on one pool
    thread, so a caller keeps one of the pool's two threads busy; the second caller can fill
    the other only if the first released the GIL while it waited for its batch. The pool
    has two threads because with one the two callers would queue on it whatever the GIL
    does (measured: 2.1x). Where the machine has no free core for a second thread, which a
    numpy control measured in the same runs shows (two threads sorting, GIL released, are
    not faster either), the overlap cannot be seen and the test is skipped with the figures;
    test_another_python_thread_makes_progress_while_a_batch_is_built checks the released
    GIL without timing."""
    out = subprocess.run([sys.executable, "-c", OVERLAP], capture_output=True, text=True,
                         check=True, timeout=120)
    one, two, sort_one, sort_two = map(float, out.stdout.split())
    figures = (f"batches: one thread {one:.3f} s, two at once {two:.3f} s; numpy sorts: one "
               f"thread {sort_one:.3f} s, two at once {sort_two:.3f} s")
    if sort_two >= 1.5 * sort_one and two >= 1.6 * one:
        pytest.skip(f"no free core for a second thread on this machine ({figures})")
    # A partly busy machine slows two threads of anything: the bound follows the control
    # (numpy's own overlap, plus a margin), never above 1.9x (serialised calls take 2x).
    limit = min(1.9, max(1.6, sort_two / sort_one + 0.35))
    assert two < limit * one, f"{figures}; limit {limit:.2f}x"
