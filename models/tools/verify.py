#!/usr/bin/python3
"""Generate every layout for a config, run it with onnxruntime-node and compare to reference.py.

  /usr/bin/python3 models/tools/verify.py --config tiny [--seed 0] [--tokens 1,2,...] [--work DIR]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
sys.path.insert(0, MODELS)
from configs import get_config  # noqa: E402

PY = "/usr/bin/python3"
NP = {"float32": np.float32, "int64": np.int64, "int32": np.int32}


def load_ort(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    return {k: np.fromfile(os.path.join(d, k + ".bin"), dtype=NP[m["type"]]).reshape(m["dims"])
            for k, m in meta.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokens", default=None)
    ap.add_argument("--work", default="/tmp/gptoss_verify")
    ap.add_argument("--layouts", default="flat,flat-unique,nested,equinox")
    a = ap.parse_args()
    cfg = get_config(a.config)
    T = cfg["T"]
    if a.tokens:
        toks = [int(t) for t in a.tokens.split(",")]
    else:
        rng = np.random.default_rng(1234)
        toks = [int(t) for t in rng.integers(0, cfg["V"], size=T)]
    toks = (toks + [0] * T)[:T]
    tstr = ",".join(map(str, toks))
    work = os.path.join(a.work, "%s_s%d" % (a.config, a.seed))
    os.makedirs(work, exist_ok=True)
    refdir = os.path.join(work, "ref")
    subprocess.check_call([PY, os.path.join(MODELS, "reference.py"), "--config", a.config, "--seed",
                           str(a.seed), "--tokens", tstr, "--out", refdir])
    ref = {}
    for f in os.listdir(refdir):
        t = onnx.TensorProto()
        t.ParseFromString(open(os.path.join(refdir, f), "rb").read())
        ref[t.name] = numpy_helper.to_array(t)
    ok = True
    for layout in a.layouts.split(","):
        path = os.path.join(work, "%s_%s.onnx" % (a.config, layout))
        subprocess.check_call([PY, os.path.join(MODELS, "gen_gptoss.py"), "--config", a.config, "--layout",
                               layout, "--seed", str(a.seed), "--out", path, "--emit-hidden-states",
                               "--emit-block-debug"], stdout=subprocess.DEVNULL)
        od = os.path.join(work, "ort_" + layout)
        r = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), path, tstr, od],
                           capture_output=True, text=True)
        if layout == "flat":
            msg = r.stdout.strip()
            refused = r.returncode != 0 and "Duplicate definition" in msg
            print("%-12s ORT refused as expected: %s | %s" % (layout, refused, msg))
            ok &= refused
            continue
        if r.returncode != 0:
            print("%-12s ORT FAILED: %s %s" % (layout, r.stdout, r.stderr))
            ok = False
            continue
        got = load_ort(od)
        worst = {}
        for k, v in ref.items():
            g = got[k]
            assert g.shape == v.shape, (k, g.shape, v.shape)
            if k.endswith("topk_idx"):
                worst[k] = float(np.sum(g != v))
            else:
                worst[k] = float(np.max(np.abs(g.astype(np.float64) - v)))
        lg = worst["v_0"]
        hid = max(v for k, v in worst.items() if k.startswith("hidden_"))
        dbg = max(v for k, v in worst.items() if k.startswith("b") and not k.endswith("topk_idx"))
        idx = sum(v for k, v in worst.items() if k.endswith("topk_idx"))
        good = lg <= 1e-4 and idx == 0
        ok &= good
        print("%-12s logits max|diff| %.3g  hidden %.3g  debug %.3g  topk_idx mismatches %d  %s"
              % (layout, lg, hid, dbg, idx, "OK" if good else "FAIL"))
    print("ALL OK" if ok else "SOME FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
