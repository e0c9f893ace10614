"""Per-tensor comparison of intermediate values, gptossc against ONNX Runtime.

    /usr/bin/python3 tests/gptoss/taps.py MODEL.onnx --tokens 1,2,3,... [--tap NAME]... [--tap-all]

Like the seeds' --compare-block-debug: the named values (or, with
--tap-all, every node output) become extra outputs in both runtimes
(gptossc --tap, and a copy of the model with extra graph outputs for ONNX
Runtime); prints max and mean |diff| per tensor, worst first.  The model's
value names must be unique (use the flat-unique twin of a flat export).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--tap", action="append", default=[])
    ap.add_argument("--tap-all", action="store_true")
    a = ap.parse_args()
    m = onnx.load(a.model, load_external_data=False)
    taps = list(a.tap)
    if a.tap_all:
        consts = {n.output[0] for n in m.graph.node if n.op_type == "Constant"}
        taps += [o for n in m.graph.node for o in n.output if o and o not in consts]
    outs = {o.name for o in m.graph.output}
    taps = [t for t in dict.fromkeys(taps) if t not in outs]
    for t in taps:
        m.graph.output.append(helper.make_empty_tensor_value_info(t))
    work = tempfile.mkdtemp(prefix="taps-")
    copy = os.path.join(os.path.dirname(os.path.abspath(a.model)), ".taps-" + os.path.basename(a.model))
    onnx.save(m, copy)
    toks = np.array([int(x) for x in a.tokens.split(",")], dtype=np.int32)
    inp = os.path.join(work, "in_0.pb")
    with open(inp, "wb") as f:
        f.write(numpy_helper.from_array(toks, m.graph.input[0].name).SerializeToString())
    try:
        subprocess.run(["node", os.path.join(TOP, "tests/ort/ort_run.js"), copy, "-i", inp, "-O", work + "/ort"], check=True)
        cmd = [os.path.join(TOP, "gptossc"), "run", a.model, "-i", inp, "-O", work + "/c"]
        for t in taps:
            cmd += ["--tap", t]
        subprocess.run(cmd, check=True)
    finally:
        os.unlink(copy)
    rows = []
    for t in [o.name for o in m.graph.output]:
        fn = t.replace("/", "_") + ".pb"
        r, g = load_pb(os.path.join(work, "ort", fn)), load_pb(os.path.join(work, "c", fn))
        if r.size == 0:
            continue
        d = np.abs(r.astype(np.float64) - g.astype(np.float64))
        d[np.isnan(d) & np.isnan(r) & np.isnan(g)] = 0
        rows.append((float(np.nanmax(d)), float(np.nanmean(d)), t, str(r.dtype), r.shape))
    rows.sort(reverse=True)
    print(f"{'max|diff|':>12} {'mean|diff|':>12}  tensor")
    for mx, mean, t, dt, shape in rows:
        print(f"{mx:12.3g} {mean:12.3g}  {t} {dt}{list(shape)}")
    print(f"{len(rows)} tensors compared; worst max|diff| {rows[0][0] if rows else 0:.3g}")


if __name__ == "__main__":
    sys.exit(main())
