"""Writes the extra conformance cases of this folder (format: shared/conformance/README.md).

Pure Python (no numpy): the reference behaviour of each case is taken from the spec
(shared/spec/reference-semantics.md, §2 and §13), not from a run of Keras. Every generator is
`{}` or only `validation_split`, so `x` batches are the input samples as float32.

Run from this folder: python3 make_cases.py
"""
import json
import os
import struct

DTYPES = {"<f4": "f", "<f8": "d", "<i8": "q"}


def write_npy(path, values, shape, descr):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr,
        "(%s)" % ", ".join("%d" % d for d in shape) if len(shape) != 1 else "(%d,)" % shape[0],
    )
    pad = 64 - (10 + len(header) + 1) % 64
    header += " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), DTYPES[descr]), *values))


def size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def images(name, shape):
    """x[i, ...] = 100 * i + position: every sample distinct."""
    per = size(shape[1:])
    vals = [float(100 * (k // per) + k % per) for k in range(size(shape))]
    write_npy("inputs/%s.npy" % name, vals, shape, "<f4")
    return vals


def batch_x(name, vals, shape, idx):
    per = size(shape[1:])
    out = [v for i in idx for v in vals[i * per:(i + 1) * per]]
    path = "expected/%s.npy" % name
    write_npy(path, out, [len(idx)] + list(shape[1:]), "<f4")
    return {"x": path, "x_shape": [len(idx)] + list(shape[1:]), "x_dtype": "float32",
            "sample_index_from_x": idx}


os.makedirs("inputs", exist_ok=True)
os.makedirs("expected", exist_ok=True)
cases = []
exact = {"atol": 0.0, "rtol": 0.0}

# A 2-D y (one-hot rows): each batch's y is a list of rows.
shape = [6, 2, 2, 1]
x = images("onehot_x", shape)
onehot = [[1.0 if k == i % 3 else 0.0 for k in range(3)] for i in range(6)]
write_npy("inputs/onehot_y.npy", [v for r in onehot for v in r], [6, 3], "<f4")
cases.append({
    "id": "iterator/onehot_y_2d", "kind": "iterator", "generator": {},
    "flow": {"y": "one-hot (6, 3) float32", "batch_size": 4, "shuffle": False},
    "flow_inputs": {"x": "inputs/onehot_x.npy", "y": "inputs/onehot_y.npy"},
    "len": 2, "batch_indices": [[0, 1, 2, 3], [4, 5]],
    "batches": [dict(batch_x("onehot_b%d" % b, x, shape, idx), y=[onehot[i] for i in idx])
                for b, idx in enumerate([[0, 1, 2, 3], [4, 5]])],
    "dtype": "float32", "tolerance": exact,
    "notes": "spec §13 output table: y[idx] keeps its shape, (batch, 3)."})

# sample_weight under a validation split: Keras does not split it (spec §13 step 5), so the
# training batch holds the weights of rows 0, 1 while its samples are 2, 3.
shape = [4, 2, 2, 1]
x = images("split_x", shape)
y = [0, 1, 0, 1]
sw = [1.0, 2.0, 3.0, 4.0]
write_npy("inputs/split_y.npy", y, [4], "<i8")
write_npy("inputs/split_sw.npy", sw, [4], "<f8")
cases.append({
    "id": "iterator/validation_split_sample_weight", "kind": "iterator",
    "generator": {"validation_split": 0.5},
    "flow": {"y": "[0, 1, 0, 1]", "sample_weight": "[1, 2, 3, 4]", "batch_size": 2,
             "shuffle": False, "subset": ["training", "validation"]},
    "flow_inputs": {"x": "inputs/split_x.npy", "y": "inputs/split_y.npy",
                    "sample_weight": "inputs/split_sw.npy"},
    "split_idx": 2,
    "subsets": {
        "training": {"len": 1, "n": 2, "member_indices": [2, 3], "batch_indices": [[2, 3]],
                     "sample_weight_batch_indices": [[0, 1]],
                     "batches": [dict(batch_x("split_train_b0", x, shape, [2, 3]),
                                      y=[0, 1], sample_weight=[1.0, 2.0])]},
        "validation": {"len": 1, "n": 2, "member_indices": [0, 1], "batch_indices": [[0, 1]],
                       "sample_weight_batch_indices": [[0, 1]],
                       "batches": [dict(batch_x("split_val_b0", x, shape, [0, 1]),
                                        y=[0, 1], sample_weight=[1.0, 2.0])]},
    },
    "dtype": "float32", "tolerance": exact,
    "notes": "spec §13 step 5: sample_weight is not sliced, so the training subset's batch 0 "
             "has the weights of samples 0, 1 (Keras) where augflow keeps those of 2, 3."})


def error_case(id_, generator, flow, inputs, message, note):
    cases.append({"id": "iterator_error/" + id_, "kind": "iterator_error",
                  "generator": generator, "flow": flow, "flow_inputs": inputs,
                  "raises": {"type": "ValueError", "message": message}, "notes": note})


images("err_x", [4, 2, 2, 1])
write_npy("inputs/err_y4.npy", [0, 1, 0, 1], [4], "<i8")
write_npy("inputs/err_y3.npy", [0, 1, 0], [3], "<i8")
write_npy("inputs/err_y_sorted.npy", [0, 0, 1, 1], [4], "<i8")
write_npy("inputs/err_sw5.npy", [1.0] * 5, [5], "<f8")
write_npy("inputs/err_misc3.npy", [0, 1, 2], [3], "<i8")
write_npy("inputs/rank3_x.npy", [float(k) for k in range(22 * 3 * 5)], [22, 3, 5], "<f4")
plain = {"batch_size": 2, "shuffle": False}
error_case("x_rank_3", {}, plain, {"x": "inputs/rank3_x.npy"},
           "('Input data in `NumpyArrayIterator` should have rank 4. You passed an array with "
           "shape', (22, 3, 5))", "spec §13 step 7")
error_case("y_length", {}, plain, {"x": "inputs/err_x.npy", "y": "inputs/err_y3.npy"},
           "`x` (images tensor) and `y` (labels) should have the same length. Found: "
           "x.shape = (4, 2, 2, 1), y.shape = (3,)", "spec §13 step 3")
error_case("sample_weight_length", {}, plain,
           {"x": "inputs/err_x.npy", "y": "inputs/err_y4.npy",
            "sample_weight": "inputs/err_sw5.npy"},
           "`x` (images tensor) and `sample_weight` (sample weights) should have the same "
           "length. Found: x.shape = (4, 2, 2, 1), sample_weight.shape = (5,)",
           "spec §13 step 4")
error_case("x_misc_length", {}, plain,
           {"x": "inputs/err_x.npy", "x_misc": ["inputs/err_misc3.npy"]},
           "All of the arrays in `x` should have the same length. Found a pair with: "
           "len(x[0]) = 4, len(x[?]) = 3", "spec §13 step 2")
error_case("subset_name", {"validation_split": 0.5}, dict(plain, subset="testing"),
           {"x": "inputs/err_x.npy", "y": "inputs/err_y4.npy"},
           "('Invalid subset name:', 'testing', '; expected \"training\" or \"validation\".')",
           "spec §13 step 5")
error_case("validation_split_range", {"validation_split": 1.5}, dict(plain, subset="training"),
           {"x": "inputs/err_x.npy", "y": "inputs/err_y4.npy"},
           "`validation_split` must be strictly between 0 and 1.  Received: 1.5",
           "spec §2 step 5: raised by the generator's constructor")
error_case("class_split_sorted_labels", {"validation_split": 0.5},
           dict(plain, subset="validation"),
           {"x": "inputs/err_x.npy", "y": "inputs/err_y_sorted.npy"},
           "Training and validation subsets have different number of classes after the split. "
           "If your numpy arrays are sorted by the label, you might want to shuffle them.",
           "spec §13 step 5: {0} against {1}")

with open("index.json", "w") as f:
    json.dump({"cases": cases}, f, indent=1)
    f.write("\n")
print(len(cases), "cases")
