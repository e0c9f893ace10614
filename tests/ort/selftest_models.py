#!/usr/bin/python3
"""Build tiny ONNX models + .pb inputs/expected outputs for tests/ort/selftest.sh.

Needs onnx + numpy (Debian python3-onnx; run with /usr/bin/python3).
usage: selftest_models.py build OUTDIR
       selftest_models.py check OUTDIR SUBDIR NPZ
           (parses OUTDIR/SUBDIR/<k>.pb written by the JS side, compares with array k of OUTDIR/NPZ)
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]

# (name, numpy dtype, TensorProto type)
DTYPES = [
    ("f32", np.float32, TensorProto.FLOAT),
    ("u8", np.uint8, TensorProto.UINT8),
    ("i8", np.int8, TensorProto.INT8),
    ("u16", np.uint16, TensorProto.UINT16),
    ("i16", np.int16, TensorProto.INT16),
    ("i32", np.int32, TensorProto.INT32),
    ("i64", np.int64, TensorProto.INT64),
    ("b", np.bool_, TensorProto.BOOL),
    ("f16", np.float16, TensorProto.FLOAT16),
    ("f64", np.float64, TensorProto.DOUBLE),
    ("u32", np.uint32, TensorProto.UINT32),
    ("u64", np.uint64, TensorProto.UINT64),
]


def sample(np_dtype, shape, rng):
    n = int(np.prod(shape))
    if np_dtype == np.bool_:
        return (rng.integers(0, 2, n) == 1).reshape(shape)
    if np.issubdtype(np_dtype, np.floating):
        v = rng.standard_normal(n) * 100
        v[0] = -0.0
        if n > 2:
            v[1] = 1e-3
        return v.astype(np_dtype).reshape(shape)
    info = np.iinfo(np_dtype)
    v = rng.integers(0, 50, n).astype(np_dtype)
    v[0] = info.min
    v[-1] = info.max
    return v.reshape(shape)


def save(arr, path, name, raw=True):
    if raw:
        t = numpy_helper.from_array(arr, name)
    else:
        tt = helper.np_dtype_to_tensor_dtype(arr.dtype) if hasattr(helper, "np_dtype_to_tensor_dtype") \
            else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype]
        t = helper.make_tensor(name, tt, arr.shape, arr.flatten().tolist() if arr.dtype != np.float16 else arr.flatten(), raw=False)
        assert not t.raw_data
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def build(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    expected = {}

    # ---- model 1: Add(int64) + MatMul(float) + Identity on every dtype
    nodes = [
        helper.make_node("Add", ["a", "b"], ["sum"]),
        helper.make_node("MatMul", ["x", "w"], ["y"]),
        helper.make_node("Mul", ["a", "b"], ["prod"]),
    ]
    inputs = [
        helper.make_tensor_value_info("a", TensorProto.INT64, [2, 3]),
        helper.make_tensor_value_info("b", TensorProto.INT64, [2, 3]),
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3]),
    ]
    outputs = [
        helper.make_tensor_value_info("sum", TensorProto.INT64, [2, 3]),
        helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
        helper.make_tensor_value_info("prod", TensorProto.INT64, [2, 3]),
    ]
    a = np.array([[1, -2, 3], [2**40, -(2**50), 7]], dtype=np.int64)
    b = np.array([[10, 20, -30], [5, 3, -(2**62)]], dtype=np.int64)
    # small integer-valued floats: every product/sum is exact in float32, so ORT == numpy bit-exactly
    x = rng.integers(-8, 8, (2, 4)).astype(np.float32)
    w = rng.integers(-8, 8, (4, 3)).astype(np.float32) * np.float32(0.5)
    vals = {"a": a, "b": b, "x": x, "w": w}
    expected["sum"] = a + b
    expected["y"] = x @ w
    with np.errstate(over="ignore"):
        expected["prod"] = a * b  # wraps like int64 in ORT
    for nm, npdt, tpdt in DTYPES:
        arr = sample(npdt, (3, 2), rng)
        iname, oname = "in_" + nm, "out_" + nm
        nodes.append(helper.make_node("Identity", [iname], [oname]))
        inputs.append(helper.make_tensor_value_info(iname, tpdt, [3, 2]))
        outputs.append(helper.make_tensor_value_info(oname, tpdt, [3, 2]))
        vals[iname] = arr
        expected[oname] = arr
    g = helper.make_graph(nodes, "ort_selftest", inputs, outputs)
    m = helper.make_model(g, opset_imports=OPSET, producer_name="gptossc-selftest")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "basic.onnx"))
    os.makedirs(os.path.join(out, "in"), exist_ok=True)
    os.makedirs(os.path.join(out, "in_typed"), exist_ok=True)
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    for k, v in vals.items():
        save(v, os.path.join(out, "in", k + ".pb"), k, raw=True)
        save(v, os.path.join(out, "in_typed", k + ".pb"), k, raw=False)
    for k, v in expected.items():
        save(v, os.path.join(out, "expected", k + ".pb"), k, raw=True)
    np.savez(os.path.join(out, "expected.npz"), **expected)
    np.savez(os.path.join(out, "inputs.npz"), **vals)

    # ---- BFLOAT16 decode pair (ORT-node cannot feed bfloat16; only the decoder is tested)
    bf = np.array([[1.5, -2.0, 0.25], [0.0, -0.0, 3.0e38]], dtype=np.float32)
    bits = (bf.view(np.uint32) >> 16).astype(np.uint16)
    t = helper.make_tensor("bf", TensorProto.BFLOAT16, bf.shape, bits.tobytes(), raw=True)
    with open(os.path.join(out, "in", "bf16.pb"), "wb") as f:
        f.write(t.SerializeToString())
    t = TensorProto(name="bf", data_type=TensorProto.BFLOAT16, dims=list(bf.shape))
    t.int32_data.extend(int(v) for v in bits.flatten())
    with open(os.path.join(out, "in_typed", "bf16.pb"), "wb") as f:
        f.write(t.SerializeToString())

    # ---- generation models: in_0 int32 [T] -> v_0 float [T, V]
    T, V = 8, 11
    gen_specs = {
        # logits = onehot((x + 1) % V)
        "gen_next": [1],
        # logits = onehot((x + 1) % V) + onehot((x + 3) % V): ties -> lowest index must win
        "gen_tie": [1, 3],
    }
    gen_expected = {}
    for name, shifts in gen_specs.items():
        inits = [
            numpy_helper.from_array(np.array(V, dtype=np.int32), "V"),
            numpy_helper.from_array(np.arange(V, dtype=np.int64), "range_v"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "axes"),
        ]
        nodes = []
        terms = []
        for s in shifts:
            inits.append(numpy_helper.from_array(np.array(s, dtype=np.int32), f"k{s}"))
            nodes += [
                helper.make_node("Add", ["in_0", f"k{s}"], [f"p{s}"]),
                helper.make_node("Mod", [f"p{s}", "V"], [f"m{s}"]),
                helper.make_node("Cast", [f"m{s}"], [f"m64_{s}"], to=TensorProto.INT64),
                helper.make_node("Unsqueeze", [f"m64_{s}", "axes"], [f"u{s}"]),
                helper.make_node("Equal", [f"u{s}", "range_v"], [f"e{s}"]),
                helper.make_node("Cast", [f"e{s}"], [f"oh{s}"], to=TensorProto.FLOAT),
            ]
            terms.append(f"oh{s}")
        if len(terms) == 1:
            nodes.append(helper.make_node("Identity", terms, ["v_0"]))
        else:
            nodes.append(helper.make_node("Sum", terms, ["v_0"]))
        g = helper.make_graph(
            nodes, name,
            [helper.make_tensor_value_info("in_0", TensorProto.INT32, [T])],
            [helper.make_tensor_value_info("v_0", TensorProto.FLOAT, [T, V])],
            initializer=inits)
        m = helper.make_model(g, opset_imports=OPSET, producer_name="gptossc-selftest")
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, name + ".onnx"))

        def logits(win):
            l = np.zeros((T, V), np.float32)
            for s in shifts:
                l[np.arange(T), (win + s) % V] += 1
            return l

        for prompt, steps in [([3, 5], 12), ([9], 4), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5)]:
            seq = list(prompt)
            new = []
            for _ in range(steps):
                win = seq[-T:]
                pos = len(win) - 1
                arr = np.zeros(T, np.int32)
                arr[:len(win)] = win
                nxt = int(np.argmax(logits(arr)[pos]))  # numpy: first max on ties
                seq.append(nxt)
                new.append(nxt)
            gen_expected.setdefault(name, []).append(
                {"tokens": ",".join(map(str, prompt)), "steps": steps, "expected": ",".join(map(str, new))})
    with open(os.path.join(out, "gen_expected.json"), "w") as f:
        json.dump(gen_expected, f)
    # shell-friendly list: model|tokens|steps|expected
    with open(os.path.join(out, "gen_cases.txt"), "w") as f:
        for name, cases in gen_expected.items():
            for c in cases:
                f.write(f"{name}|{c['tokens']}|{c['steps']}|{c['expected']}\n")


def check(out, sub, npz):
    """Parse .pb files written by the JS side with onnx's protobuf; compare to numpy bit-exactly."""
    exp = np.load(os.path.join(out, npz))
    bad = 0
    for k in exp.files:
        p = os.path.join(out, sub, k + ".pb")
        t = TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        got = numpy_helper.to_array(t)
        want = exp[k]
        same = (t.name == k and got.dtype == want.dtype and got.shape == want.shape
                and got.tobytes() == want.tobytes())
        print(("ok" if same else "FAIL") + f" numpy-check {sub}/{k} dtype={got.dtype} shape={got.shape}"
              + ("" if same else f" name={t.name!r} got={got!r} want={want!r}"))
        bad += not same
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"] and len(sys.argv) == 3:
        build(sys.argv[2])
    elif sys.argv[1:2] == ["check"] and len(sys.argv) == 5:
        sys.exit(check(*sys.argv[2:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
