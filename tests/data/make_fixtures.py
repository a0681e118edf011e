"""Writes the .npy/.npz fixtures of tests/pipeline.rs with NumPy (independent of augflow).

Run: python tests/data/make_fixtures.py  (numpy 2.x; the files are committed).
"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

def p(name):
    return os.path.join(here, name)

# Every dtype augflow supports, values 0..5 reshaped to (2, 3); bools alternate.
arrays = {}
for dt in ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
           "int64", "float32", "float64"]:
    a = np.arange(6).reshape(2, 3)
    arrays[dt] = (a % 2 == 1) if dt == "bool" else a.astype(dt)
# Negative and fractional values where the dtype allows them.
arrays["int64"] = np.array([[-3, 0, 2**40], [7, -1, 5]], dtype="int64")
arrays["float64"] = np.array([[0.1, -2.5, 1e300], [3.0, -0.0, 42.125]], dtype="float64")
np.savez(p("all_dtypes.npz"), **arrays)

# The numpy_input_fn example of spec §16 / TF docs: age float64, height int64, y int64.
np.savez(p("people.npz"),
         age=np.array([1.0, 2.0, 3.0, 4.0]),
         height=np.array([160, 170, 180, 190], dtype=np.int64),
         label=np.array([0, 1, 0, 1], dtype=np.int64))

np.save(p("f32_fortran.npy"), np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4)))
np.save(p("i16_big_endian.npy"), np.array([1, -2, 300], dtype=">i2"))
np.savez_compressed(p("compressed.npz"), a=np.arange(3))
np.save(p("complex.npy"), np.array([1 + 2j], dtype=np.complex64))
