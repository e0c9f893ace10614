#!/usr/bin/python3
"""Independent numpy forward pass of the synthetic GPT-OSS models (does not read the ONNX file).

  /usr/bin/python3 models/reference.py --config tiny --tokens 1,2,3,... [--seed N] --out DIR

Regenerates the weights with gen_gptoss.weight_chunks (shared weight generator only) and
computes the forward pass in float64, writing float32 (int64 for top-k indices) TensorProto
files DIR/v_0.pb, DIR/hidden_<i>.pb and DIR/b<i>_<name>.pb. The token count must equal T.
"""
import argparse
import math
import os
import sys

import numpy as np
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from configs import get_config  # noqa: E402
from gen_gptoss import all_weights  # noqa: E402


def yarn_cos_sin(cfg, T):
    D = cfg["D"]
    base = cfg["rope_theta"]
    sf = cfg["rope_scaling_factor"]
    freq = np.power(base, np.arange(0, D, 2, dtype=np.float64) / D)
    conc = 1.0
    inv = 1.0 / freq
    if sf > 1.0:
        conc = 0.1 * math.log(sf) + 1.0
        dh = D / 2
        ctx = cfg["initial_context_length"]
        low = dh * math.log(ctx / (cfg["rope_ntk_beta"] * 2 * math.pi)) / math.log(base)
        high = dh * math.log(ctx / (cfg["rope_ntk_alpha"] * 2 * math.pi)) / math.log(base)
        ramp = np.clip((np.arange(dh) - low) / (high - low), 0.0, 1.0)
        extrap_w = 1.0 - ramp
        inv = (1.0 / (sf * freq)) * ramp + (1.0 / freq) * extrap_w
    ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    return np.cos(ang) * conc, np.sin(ang) * conc


def rms(x, scale, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * scale


def rope(x, cos, sin):  # x [T, h, D]
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    c, s = cos[:, None, :], sin[:, None, :]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)


def softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def forward(cfg, seed, tokens):
    T, H, NH, KV, D, E, K, I, W = (cfg[k] for k in ("T", "H", "NH", "KV", "D", "E", "K", "I", "W"))
    M = NH // KV
    lim = cfg["swiglu_limit"]
    eps = cfg["rms_eps"]
    w = {k: v.astype(np.float64) for k, v in all_weights(cfg, seed).items()}
    tokens = np.asarray(tokens, dtype=np.int64)
    assert tokens.shape == (T,), "need exactly T=%d tokens" % T
    tokens = np.where(tokens < 0, tokens + cfg["V"], tokens)
    x = w["embedding"][tokens]
    cos, sin = yarn_cos_sin(cfg, T)
    qi = np.arange(T)[:, None]
    ki = np.arange(T)[None, :]
    out = {}
    for i in range(cfg["L"]):
        p = "block%d." % i
        n1 = rms(x, w[p + "attn_norm_scale"], eps)
        qkv = n1 @ w[p + "qkv_w"] + w[p + "qkv_b"]
        q = qkv[:, :NH * D].reshape(T, NH, D)
        k = qkv[:, NH * D:(NH + KV) * D].reshape(T, KV, D)
        v = qkv[:, (NH + KV) * D:].reshape(T, KV, D)
        q = rope(q, cos, sin).reshape(T, KV, M, D)
        k = rope(k, cos, sin)
        bad = ki > qi
        if i % 2 == 0:
            bad = bad | (qi - ki > W)
        s = np.einsum("qhmd,khd->hmqk", q, k) / math.sqrt(D)
        s = np.where(bad[None, None], -np.inf, s)
        sk = np.broadcast_to(w[p + "sinks"].reshape(KV, M, 1, 1), (KV, M, T, 1))
        pr = softmax(np.concatenate([s, sk], axis=3), 3)[..., :T]
        o = np.einsum("hmqk,khd->qhmd", pr, v).reshape(T, NH * D)
        a = o @ w[p + "out_w"] + w[p + "out_b"]
        h = x + a
        n2 = rms(h, w[p + "mlp_norm_scale"], eps)
        gl = n2 @ w[p + "gate_w"] + w[p + "gate_b"]
        idx = np.argsort(-gl, axis=1, kind="stable")[:, :K]
        vals = np.take_along_axis(gl, idx, axis=1)
        rw = softmax(vals, 1)
        t = np.einsum("tkoh,th->tko", w[p + "mlp1_w"][idx], n2) + w[p + "mlp1_b"][idx]
        glu = np.minimum(t[..., 0::2], lim)
        lin = np.clip(t[..., 1::2], -lim, lim)
        act = glu / (1.0 + np.exp(-1.702 * glu)) * (lin + 1.0)
        y = np.einsum("tkhi,tki->tkh", w[p + "mlp2_w"][idx], act) + w[p + "mlp2_b"][idx]
        mo = np.einsum("tkh,tk->th", y, rw)
        x = h + mo
        out["hidden_%d" % i] = x
        for key, val in (("attn_in", n1), ("attn_out", a), ("moe_in", n2), ("gate_logits", gl),
                         ("topk_idx", idx), ("topk_w", rw), ("moe_out", mo)):
            out["b%d_%s" % (i, key)] = val
    xn = rms(x, w["final_norm_scale"], eps)
    out["v_0"] = xn @ w["unembedding"]
    return {k: (v.astype(np.int64) if k.endswith("topk_idx") else v.astype(np.float32)) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--tokens", required=True, help="comma separated token ids (exactly T of them)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cfg = get_config(a.config)
    toks = [int(t) for t in a.tokens.split(",") if t.strip() != ""]
    res = forward(cfg, a.seed, toks)
    os.makedirs(a.out, exist_ok=True)
    for k, v in res.items():
        with open(os.path.join(a.out, k + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, name=k).SerializeToString())
    print("wrote %d tensors to %s; argmax(v_0[-1]) = %d" % (len(res), a.out, int(np.argmax(res["v_0"][-1]))))


if __name__ == "__main__":
    main()
