#!/usr/bin/env python3
"""Work and weight traffic of one synthetic GPT-OSS forward pass (models/configs.py).

usage: model_stats.py --config tiny|small|20b-2layer [--blob-bytes N] [--sh]

Prints JSON (or shell assignments with --sh):
  T                   tokens per run (the fixed window)
  weight_elems        every weight element of the model (models/gen_gptoss.py weight_specs)
  token_elems         weight elements one token touches: all but the embedding table (one row)
                      and the E-K experts it does not route to
  flops_per_run       2 * T * (matmul weight elements one token uses: qkv, out, gate, K experts'
                      mlp1 and mlp2, unembedding) + attention (QK^T and PV over the full T x T
                      window: 4 * T * T * NH * D per layer). Elementwise work is not counted.
  bytes_per_elem      blob bytes / weight elements (with --blob-bytes; folded tables are included,
                      so this is a slight overestimate)
  token_bytes         what one decode step with a KV cache must read: the weights it uses in the
                      formats --weights auto gives these models (MoE experts MXFP4, 17 bytes per
                      32 values; everything else bf16), one embedding row
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
from configs import get_config  # noqa: E402


def prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def weight_shapes(c):
    """(name, shape) of every weight: the same list as gen_gptoss.weight_specs, without numpy/onnx."""
    H, E, I, V, NH, D, QKV = c["H"], c["E"], c["I"], c["V"], c["NH"], c["D"], c["QKV"]
    out = [("embedding", (V, H))]
    for i in range(c["L"]):
        p = "block%d." % i
        out += [(p + "attn_norm_scale", (H,)), (p + "qkv_w", (H, QKV)), (p + "qkv_b", (QKV,)),
                (p + "sinks", (NH,)), (p + "out_w", (NH * D, H)), (p + "out_b", (H,)),
                (p + "mlp_norm_scale", (H,)), (p + "gate_w", (H, E)), (p + "gate_b", (E,)),
                (p + "mlp1_w", (E, 2 * I, H)), (p + "mlp1_b", (E, 2 * I)),
                (p + "mlp2_w", (E, H, I)), (p + "mlp2_b", (E, H))]
    out += [("final_norm_scale", (H,)), ("unembedding", (H, V))]
    return out


def stats(name, blob_bytes=None):
    c = get_config(name)
    H, E, K, T, NH, D, L = c["H"], c["E"], c["K"], c["T"], c["NH"], c["D"], c["L"]
    total = token = matmul = 0
    tbytes = 0.0  # what a step reads in --weights auto formats: experts MXFP4, the rest bf16
    for wname, shape in weight_shapes(c):
        n = prod(shape)
        total += n
        base = wname.split(".")[-1]
        if base == "embedding":
            token += H
            tbytes += 2 * H
            continue
        used = n * K // E if base.startswith("mlp") else n
        token += used
        tbytes += used * (17 / 32 if base in ("mlp1_w", "mlp2_w") else 2)
        if base.endswith("_w") or base == "unembedding":
            matmul += used
    r = {
        "config": name, "T": T, "weight_elems": total, "token_elems": token,
        "flops_per_run": 2 * T * matmul + 4 * T * T * NH * D * L,
    }
    if blob_bytes:
        r["bytes_per_elem"] = blob_bytes / total
        r["token_bytes"] = int(tbytes)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--blob-bytes", type=int)
    ap.add_argument("--sh", action="store_true")
    a = ap.parse_args()
    r = stats(a.config, a.blob_bytes)
    if a.sh:
        for k, v in r.items():
            print("%s=%s" % (k, v))
    else:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
