"""Compare two folders of ONNX TensorProto outputs (.pb) of a GPT-OSS graph.

    /usr/bin/python3 tests/gptoss/compare.py REF_DIR GOT_DIR LABEL

Bars (from the issue): logits v_0 max|diff| <= 1e-4, hidden states <= 2e-4,
other per-block debug tensors <= 4.5e-4 (the seeds' MoE bar), top-k expert
indices identical (the match rate is printed, as the seeds' routing harness
does).  Prints one line per tensor group and exits 1 on any failure.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, numpy_helper


def load(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    ref_dir, got_dir, label = sys.argv[1], sys.argv[2], sys.argv[3]
    names = sorted(n[:-3] for n in os.listdir(ref_dir) if n.endswith(".pb"))
    failed = 0
    worst = {"logits": 0.0, "hidden": 0.0, "debug": 0.0}
    idx_total = idx_same = 0
    for n in names:
        gp = os.path.join(got_dir, n + ".pb")
        if not os.path.exists(gp):
            print(f"FAIL {label}: output {n} missing")
            failed += 1
            continue
        r, g = load(os.path.join(ref_dir, n + ".pb")), load(gp)
        if r.shape != g.shape:
            print(f"FAIL {label}: {n} shape {g.shape}, expected {r.shape}")
            failed += 1
            continue
        if n.endswith("topk_idx"):
            idx_total += r.size
            idx_same += int((r == g).sum())
            continue
        d = float(np.max(np.abs(r.astype(np.float64) - g.astype(np.float64)))) if r.size else 0.0
        if not np.isfinite(d):
            d = float("inf")
        kind = "logits" if n == "v_0" else "hidden" if n.startswith("hidden_") else "debug"
        worst[kind] = max(worst[kind], d)
    bars = {"logits": 1e-4, "hidden": 2e-4, "debug": 4.5e-4}
    for kind, bar in bars.items():
        ok = worst[kind] <= bar
        print(f"{'ok  ' if ok else 'FAIL'} {label}: {kind} max|diff| {worst[kind]:.3g} (bar {bar:g})")
        failed += not ok
    if idx_total:
        rate = idx_same / idx_total
        ok = idx_same == idx_total
        print(f"{'ok  ' if ok else 'FAIL'} {label}: top-k expert indices match rate {rate:.4f} ({idx_same}/{idx_total})")
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
