#!/usr/bin/python3
"""tests/runtime/nan_cases.py: NaN/Inf activations through the reduction ops.

  nan_cases.py gen DIR            writes DIR/CASE/model.onnx and DIR/CASE/io.h
                                  for every case; prints the case names
  nan_cases.py check CASE OUT     checks OUT (the text nanrun.c printed: "rc N",
                                  then per output "out I DTYPE NUMEL" and one
                                  value a line, float32 as C99 %a);
                                  prints "PASS CASE" or "FAIL CASE: why" and
                                  "NOTE CASE: ..." lines for documented,
                                  implementation-defined behaviour

Every case has one float32 input x whose rows (or columns, for the axis-0
Softmax) are the hostile patterns below.  What must hold (IEEE 754 and the
ONNX spec): run returns OK; every index output is in [0, n); a NaN in a
Softmax row gives NaN everywhere in it; a row without NaN gives exactly
what numpy gives in float32 (TopK: the same values in the same order,
ties at the lower index first; ArgMax/ArgMin: the first, or with
select_last_index the last, extreme element); the RMSNorm chain matches
numpy element by element, NaN where numpy has NaN.  Where IEEE composite
results differ from a limit (a +Inf in a Softmax row: NaN, or one-hot), or
NaN ordering is unspecified (TopK, ArgMax, ReduceMax of a row with NaN and
numbers), both are accepted and the choice is printed as a NOTE.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64
NAN, INF = float("nan"), float("inf")
ROWS = ["finite", "one_nan", "one_pinf", "one_ninf", "all_ninf", "pinf_and_ninf",
        "all_nan", "nan_and_pinf", "huge", "all_pinf", "nan_first"]


def patterns(n):
    rng = np.random.RandomState(n)
    x = np.zeros((len(ROWS), n), dtype=np.float32)
    for r, kind in enumerate(ROWS):
        row = rng.permutation(n).astype(np.float32) * 0.37 - n * 0.15  # distinct
        if kind == "one_nan":
            row[2] = NAN
        elif kind == "one_pinf":
            row[5 % n] = INF
        elif kind == "one_ninf":
            row[1] = -INF
        elif kind == "all_ninf":
            row[:] = -INF
        elif kind == "pinf_and_ninf":
            row[0], row[n - 1] = INF, -INF
        elif kind == "all_nan":
            row[:] = NAN
        elif kind == "nan_and_pinf":
            row[3], row[6 % n] = NAN, INF
        elif kind == "huge":
            row = row * np.float32(3e19)  # squares overflow float32
        elif kind == "all_pinf":
            row[:] = INF
        elif kind == "nan_first":
            row[0] = NAN
        x[r] = row
    return x


def vi(name, dt, shape):
    return helper.make_tensor_value_info(name, dt, shape)


def mk(nodes, x_shape, outs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", [vi("x", F, list(x_shape))], outs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def k_init(k):
    return numpy_helper.from_array(np.array([k], dtype=np.int64), "k")


# name -> (input array, model builder)
def cases():
    c = {}
    x8, x24 = patterns(8), patterns(24)
    R = len(ROWS)
    c["softmax"] = (x8, lambda: mk([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], x8.shape, [vi("y", F, [R, 8])]))
    c["softmax_axis0"] = (np.ascontiguousarray(x8.T), lambda: mk([helper.make_node("Softmax", ["x"], ["y"], axis=0)],
                                                                 (8, R), [vi("y", F, [8, R])]))
    c["logsoftmax"] = (x8, lambda: mk([helper.make_node("LogSoftmax", ["x"], ["y"], axis=-1)], x8.shape,
                                      [vi("y", F, [R, 8])]))
    for name, x, k, largest in (("topk3", x8, 3, 1), ("topk3_smallest", x8, 3, 0), ("topk_all", x8, 8, 1),
                                ("topk20_of_24", x24, 20, 1)):
        n = x.shape[1]
        c[name] = (x, (lambda k=k, largest=largest, n=n: mk(
            [helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1, largest=largest, sorted=1)], (R, n),
            [vi("v", F, [R, k]), vi("i", I64, [R, k])], [k_init(k)])))
    c["reducemax"] = (x8, lambda: mk([helper.make_node("ReduceMax", ["x"], ["y"], axes=[-1], keepdims=0)], x8.shape,
                                     [vi("y", F, [R])]))
    c["reducemax_all"] = (x8, lambda: mk([helper.make_node("ReduceMax", ["x"], ["y"], keepdims=0)], x8.shape,
                                         [vi("y", F, [])]))
    c["reducemin"] = (x8, lambda: mk([helper.make_node("ReduceMin", ["x"], ["y"], axes=[-1], keepdims=0)], x8.shape,
                                     [vi("y", F, [R])]))
    for name, op, last in (("argmax", "ArgMax", 0), ("argmax_last", "ArgMax", 1), ("argmin", "ArgMin", 0)):
        c[name] = (x8, (lambda op=op, last=last: mk(
            [helper.make_node(op, ["x"], ["y"], axis=-1, keepdims=0, select_last_index=last)], x8.shape,
            [vi("y", I64, [R])])))
    # the GPT-OSS RMSNorm chain, as models/gen_gptoss.py writes it (opset 21)
    w = (np.arange(8, dtype=np.float32) * 0.25 + 0.5)

    def rms():
        inits = [numpy_helper.from_array(np.array(2.0, np.float32), "two"),
                 numpy_helper.from_array(np.array([-1], np.int64), "axes"),
                 numpy_helper.from_array(np.array(1e-5, np.float32), "eps"),
                 numpy_helper.from_array(np.array(1.0, np.float32), "one"),
                 numpy_helper.from_array(w, "w")]
        nodes = [helper.make_node("Pow", ["x", "two"], ["p"]),
                 helper.make_node("ReduceMean", ["p", "axes"], ["m"], keepdims=1),
                 helper.make_node("Add", ["m", "eps"], ["a"]),
                 helper.make_node("Sqrt", ["a"], ["s"]),
                 helper.make_node("Div", ["one", "s"], ["r"]),
                 helper.make_node("Mul", ["x", "r"], ["xr"]),
                 helper.make_node("Mul", ["xr", "w"], ["y"])]
        return mk(nodes, x8.shape, [vi("y", F, [R, 8])], inits, opset=21)
    c["rmsnorm"] = (x8, rms)
    # the MoE router: TopK -> Softmax of the values, Gather of expert rows
    tab = np.arange(8 * 4, dtype=np.float32).reshape(8, 4)

    def router():
        nodes = [helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1, largest=1, sorted=1),
                 helper.make_node("Softmax", ["v"], ["w"], axis=-1),
                 helper.make_node("Gather", ["tab", "i"], ["g"], axis=0)]
        return mk(nodes, x8.shape, [vi("w", F, [R, 2]), vi("i", I64, [R, 2]), vi("g", F, [R, 2, 4])],
                  [k_init(2), numpy_helper.from_array(tab, "tab")])
    c["router"] = (x8, router)
    return c, {"w": w, "tab": tab}


def cfloat(v):
    if np.isnan(v):
        return "NAN"
    if np.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return "%.9gf" % v


def gen(d):
    cs, _ = cases()
    for name, (x, build) in cs.items():
        os.makedirs(os.path.join(d, name), exist_ok=True)
        with open(os.path.join(d, name, "model.onnx"), "wb") as f:
            f.write(build().SerializeToString())
        with open(os.path.join(d, name, "io.h"), "w") as f:
            f.write("/* generated by tests/runtime/nan_cases.py */\n#include <math.h>\n")
            f.write("static const float x_data[%d] = {%s};\n" % (x.size, ", ".join(cfloat(v) for v in x.ravel())))
        print(name)


def parse(path):
    lines = open(path).read().split("\n")
    rc, outs, i = None, [], 0
    while i < len(lines):
        t = lines[i].split()
        i += 1
        if not t:
            continue
        if t[0] == "rc":
            rc = int(t[1])
        elif t[0] == "out":
            dt, n = int(t[2]), int(t[3])
            vals = lines[i:i + n]
            i += n
            if dt == 1:
                outs.append(np.array([float.fromhex(v) for v in vals], dtype=np.float32))
            else:
                outs.append(np.array([int(v) for v in vals], dtype=np.int64))
    return rc, outs


def same(a, b, tol=1e-5):
    """element-wise: both NaN, or equal infinities, or close"""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False
    nan = np.isnan(a) | np.isnan(b)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    a, b = a[~nan], b[~nan]
    inf = np.isinf(a) | np.isinf(b)
    if not np.array_equal(a[inf], b[inf]):
        return False
    return bool(np.all(np.abs(a[~inf] - b[~inf]) <= tol * np.maximum(1, np.abs(b[~inf]))))


def np_softmax(x):
    with np.errstate(all="ignore"):
        m = x.max(axis=-1, keepdims=True)
        e = np.exp(x - m)
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def np_log_softmax(x):
    # x - max - log(sum(exp(x - max))), not log(softmax(x)): exp underflows
    # to 0 long before the log-softmax leaves float32 (the "huge" row)
    with np.errstate(all="ignore"):
        m = x.max(axis=-1, keepdims=True)
        return (x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))).astype(np.float32)


def check_softmax(rows, y, log=False):
    errs, notes = [], []
    for r, kind in enumerate(ROWS):
        x, got = rows[r], y[r]
        with np.errstate(all="ignore"):
            ref = np_log_softmax(x[None])[0] if log else np_softmax(x[None])[0]
        if np.isnan(x).any():
            if not np.isnan(got).all():
                errs.append("row %s: NaN input must give NaN everywhere, got %s" % (kind, got))
        elif np.isposinf(x).any():
            hot = np.isposinf(x).astype(np.float32) / np.isposinf(x).sum()
            if log:
                with np.errstate(all="ignore"):
                    hot = np.log(hot)
            if np.isnan(got).all():
                notes.append("row %s: NaN (IEEE composite)" % kind)
            elif same(got, hot):
                notes.append("row %s: one-hot on the +Inf (the limit)" % kind)
            else:
                errs.append("row %s: +Inf row gives %s (want NaN or one-hot)" % (kind, got))
        elif not same(got, ref):
            errs.append("row %s: got %s want %s" % (kind, got, ref))
    return errs, notes


def check_topk(x, k, largest, v, idx):
    errs, notes = [], []
    R, n = x.shape
    v, idx = v.reshape(R, k), idx.reshape(R, k)
    for r, kind in enumerate(ROWS):
        ii = idx[r]
        if ((ii < 0) | (ii >= n)).any():
            errs.append("row %s: index out of [0, %d): %s" % (kind, n, ii))
            continue
        if len(set(ii.tolist())) != k:
            errs.append("row %s: repeated index %s" % (kind, ii))
        if not np.array_equal(v[r].view(np.uint32), x[r][ii].view(np.uint32)):
            errs.append("row %s: values %s are not x[indices %s]" % (kind, v[r], ii))
        if np.isnan(x[r]).any():
            notes.append("row %s: NaN ranks at %s" % (kind, [j for j, t in enumerate(ii) if np.isnan(x[r][t])]))
            continue
        # no NaN: a stable sort (lower index first on ties)
        order = np.argsort(-x[r] if largest else x[r], kind="stable")[:k]
        if not np.array_equal(ii, order):
            errs.append("row %s: indices %s want %s" % (kind, ii, order))
    return errs, notes


def check(name, path):
    cs, aux = cases()
    x, _ = cs[name]
    rc, outs = parse(path)
    errs, notes = [], []
    R = len(ROWS)
    if rc != 0:
        errs.append("run returned %s" % rc)
    elif name in ("softmax", "logsoftmax"):
        errs, notes = check_softmax(x, outs[0].reshape(R, 8), log=name == "logsoftmax")
    elif name == "softmax_axis0":
        errs, notes = check_softmax(x.T, outs[0].reshape(8, R).T)
    elif name.startswith("topk"):
        k = {"topk3": 3, "topk3_smallest": 3, "topk_all": 8, "topk20_of_24": 20}[name]
        errs, notes = check_topk(x, k, name != "topk3_smallest", outs[0], outs[1])
    elif name in ("reducemax", "reducemin"):
        f, nf = (np.max, np.nanmax) if name == "reducemax" else (np.min, np.nanmin)
        for r, kind in enumerate(ROWS):
            got = outs[0][r]
            if np.isnan(x[r]).all():
                if not np.isnan(got):
                    errs.append("row %s: all NaN gives %s" % (kind, got))
            elif np.isnan(x[r]).any():
                if np.isnan(got):
                    notes.append("row %s: NaN propagates" % kind)
                elif got == nf(x[r]):
                    notes.append("row %s: NaN ignored (%s)" % (kind, got))
                else:
                    errs.append("row %s: got %s, want NaN or %s" % (kind, got, nf(x[r])))
            elif got != f(x[r]):
                errs.append("row %s: got %s want %s" % (kind, got, f(x[r])))
    elif name == "reducemax_all":
        got = outs[0][0]
        if not (np.isnan(got) or got == np.nanmax(x)):
            errs.append("got %s, want NaN or %s" % (got, np.nanmax(x)))
        notes.append("NaN %s" % ("propagates" if np.isnan(got) else "ignored"))
    elif name.startswith("arg"):
        last = name == "argmax_last"
        for r, kind in enumerate(ROWS):
            got = int(outs[0][r])
            row = x[r]
            if not 0 <= got < 8:
                errs.append("row %s: index %d out of [0, 8)" % (kind, got))
                continue
            if np.isnan(row).any():
                notes.append("row %s: %d%s" % (kind, got, " (a NaN)" if np.isnan(row[got]) else ""))
                continue
            ext = row.max() if name != "argmin" else row.min()
            hits = np.nonzero(row == ext)[0]
            want = int(hits[-1] if last else hits[0])
            if got != want:
                errs.append("row %s: got %d want %d" % (kind, got, want))
    elif name == "rmsnorm":
        with np.errstate(all="ignore"):
            m = (x ** np.float32(2)).mean(axis=-1, keepdims=True, dtype=np.float32)
            ref = x * (np.float32(1) / np.sqrt(m + np.float32(1e-5))) * aux["w"]
        y = outs[0].reshape(R, 8)
        for r, kind in enumerate(ROWS):
            if kind == "huge" and not same(y[r], ref[r]):
                # a kernel that accumulates in double avoids the overflow
                with np.errstate(all="ignore"):
                    x64 = x[r].astype(np.float64)
                    alt = x64 / np.sqrt((x64 * x64).mean() + 1e-5) * aux["w"]
                if same(y[r], alt, 1e-4):
                    notes.append("row huge: no float32 overflow (double accumulation)")
                    continue
            if not same(y[r], ref[r], 1e-5):
                errs.append("row %s: got %s want %s" % (kind, y[r], ref[r]))
    elif name == "router":
        w, idx, g = outs[0].reshape(R, 2), outs[1].reshape(R, 2), outs[2].reshape(R, 2, 4)
        e1, n1 = check_topk(x, 2, 1, np.take_along_axis(x, np.clip(idx, 0, 7), 1).ravel(), idx.ravel())
        errs += e1
        notes += n1
        for r, kind in enumerate(ROWS):
            ok = ((idx[r] >= 0) & (idx[r] < 8)).all()
            if ok and not np.array_equal(g[r], aux["tab"][idx[r]]):
                errs.append("row %s: Gather rows %s differ" % (kind, idx[r]))
            v = x[r][np.clip(idx[r], 0, 7)]
            if np.isnan(v).any() and not np.isnan(w[r]).all():
                errs.append("row %s: NaN among the top-k values %s but weights %s" % (kind, v, w[r]))
    else:
        errs.append("unknown case")
    for s in notes:
        print("NOTE %s: %s" % (name, s))
    if errs:
        print("FAIL %s: %s" % (name, "; ".join(errs)))
        return 1
    print("PASS %s" % name)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
