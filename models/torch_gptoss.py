#!/usr/bin/python3
"""A second exporter: the synthetic GPT-OSS model as a torch module, exported by torch.onnx.

  /usr/bin/python3 models/torch_gptoss.py --config tiny|small --out PATH.onnx [--seed N]

Same weights as gen_gptoss.py (its shared weight generator) and the same forward pass as
reference.py, but written the way a torch user writes it, so torch.onnx's exporter chooses
the graph: nn.Embedding, matmul attention with transposes and broadcasting (no Einsum),
masked_fill with a boolean causal/sliding-window buffer (a Where choosing -inf), topk,
expert weights gathered by indexing, strided slices for the SwiGLU halves.  Input: int64
token ids [T]; output: logits [T, V] (named v_0, like the jax2onnx exports).
Needs Debian's python3-torch (1.13, opset 17).
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from configs import get_config  # noqa: E402
from gen_gptoss import all_weights, rope_cos_sin  # noqa: E402


class GptOss(torch.nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        self.cfg = cfg
        T, W = cfg["T"], cfg["W"]
        t = lambda a: torch.tensor(np.asarray(a, dtype=np.float32))  # noqa: E731
        self.w = torch.nn.ParameterDict({k.replace(".", "_"): torch.nn.Parameter(t(v), requires_grad=False)
                                         for k, v in w.items()})
        cos, sin = rope_cos_sin(cfg, T)
        self.register_buffer("cos", t(cos)[:, None, :])
        self.register_buffer("sin", t(sin)[:, None, :])
        q = torch.arange(T)[:, None]
        k = torch.arange(T)[None, :]
        self.register_buffer("causal", k > q)
        self.register_buffer("sliding", (k > q) | (q - k > W))

    def p(self, name):
        return self.w[name.replace(".", "_")]

    def rms(self, x, scale):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg["rms_eps"]) * scale

    def rope(self, x):
        h = x.shape[-1] // 2
        x1, x2 = x[..., :h], x[..., h:]
        return torch.cat([x1 * self.cos - x2 * self.sin, x2 * self.cos + x1 * self.sin], dim=-1)

    def forward(self, ids):
        c = self.cfg
        T, NH, KV, D, K = c["T"], c["NH"], c["KV"], c["D"], c["K"]
        M = NH // KV
        lim = c["swiglu_limit"]
        x = torch.nn.functional.embedding(ids, self.p("embedding"))
        for i in range(c["L"]):
            b = "block%d." % i
            n1 = self.rms(x, self.p(b + "attn_norm_scale"))
            qkv = n1 @ self.p(b + "qkv_w") + self.p(b + "qkv_b")
            q = self.rope(qkv[:, :NH * D].reshape(T, NH, D))
            k = self.rope(qkv[:, NH * D:(NH + KV) * D].reshape(T, KV, D))
            v = qkv[:, (NH + KV) * D:].reshape(T, KV, D)
            q = q.reshape(T, KV, M, D).permute(1, 2, 0, 3)          # [KV, M, T, D]
            kt = k.permute(1, 2, 0).unsqueeze(1)                    # [KV, 1, D, T]
            s = torch.matmul(q, kt) / math.sqrt(D)                  # [KV, M, T, T]
            s = s.masked_fill(self.sliding if i % 2 == 0 else self.causal, float("-inf"))
            sinks = self.p(b + "sinks").reshape(KV, M, 1, 1).expand(KV, M, T, 1)
            pr = torch.softmax(torch.cat([s, sinks], dim=-1), dim=-1)[..., :T]
            o = torch.matmul(pr, v.permute(1, 0, 2).unsqueeze(1))  # [KV, M, T, D]
            o = o.permute(2, 0, 1, 3).reshape(T, NH * D)
            h = x + o @ self.p(b + "out_w") + self.p(b + "out_b")
            n2 = self.rms(h, self.p(b + "mlp_norm_scale"))
            gl = n2 @ self.p(b + "gate_w") + self.p(b + "gate_b")
            vals, idx = torch.topk(gl, K, dim=-1)
            rw = torch.softmax(vals, dim=-1)
            w1 = self.p(b + "mlp1_w")[idx]                          # [T, K, 2I, H]
            t = torch.matmul(w1, n2[:, None, :, None]).squeeze(-1) + self.p(b + "mlp1_b")[idx]
            glu = torch.clamp(t[..., 0::2], max=lim)
            lin = torch.clamp(t[..., 1::2], -lim, lim)
            act = glu * torch.sigmoid(1.702 * glu) * (lin + 1)
            w2 = self.p(b + "mlp2_w")[idx]                          # [T, K, H, I]
            y = torch.matmul(w2, act[..., None]).squeeze(-1) + self.p(b + "mlp2_b")[idx]
            x = h + (y * rw[..., None]).sum(1)
        return self.rms(x, self.p("final_norm_scale")) @ self.p("unembedding")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cfg = get_config(a.config)
    m = GptOss(cfg, all_weights(cfg, a.seed)).eval()
    ids = torch.zeros(cfg["T"], dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(m, (ids,), a.out, input_names=["in_0"], output_names=["v_0"], opset_version=17,
                          do_constant_folding=True)
    print("wrote %s (torch %s)" % (a.out, torch.__version__))


if __name__ == "__main__":
    main()
