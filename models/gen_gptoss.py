#!/usr/bin/python3
"""Generate synthetic GPT-OSS ONNX graphs with the structure of the jax2onnx exports.

See models/README.md and /work/shared/docs/GPT-OSS-GRAPHS.md.

  /usr/bin/python3 models/gen_gptoss.py --config tiny|small|20b-2layer \
      --layout flat|flat-unique|nested|equinox --out PATH.onnx \
      [--emit-hidden-states] [--emit-block-debug] [--seed N]

Weights are random but deterministic (seed, tensor name, chunk index) and are generated
chunk by chunk, so the flat layouts can be streamed to PATH.onnx.data without holding the
whole model in memory (needed for 20b-2layer, ~11 GB of float32).
"""
import argparse
import math
import os
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from configs import get_config  # noqa: E402

OPSET = 21
IR_VERSION = 10
EXTERNAL_THRESHOLD = 1024  # bytes
DUP_NAMES = ("add_out_5", "add_out_6", "select_out_1", "select_out_2")
CHUNK_ELEMS = 1 << 24  # elements per generated chunk (64 MiB of float32)

# --------------------------------------------------------------------------------------
# Weights (shared with reference.py)
# --------------------------------------------------------------------------------------

FP4_GRID = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], dtype=np.float32)
_FP4_MID = (FP4_GRID[1:] + FP4_GRID[:-1]) / 2


def round_bf16(x):
    """Round float32 to the nearest bfloat16 (ties to even) and return float32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def bf16_bits(x):
    """float32 (already bf16-representable) -> uint16 bit patterns."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    return (x.view(np.uint32) >> 16).astype(np.uint16)


def quant_mxfp4(x):
    """Round to MXFP4 along the last axis: blocks of 32, e2m1 codes, one 2^e scale per block."""
    shp = x.shape
    assert shp[-1] % 32 == 0
    b = x.reshape(shp[:-1] + (shp[-1] // 32, 32)).astype(np.float32)
    amax = np.max(np.abs(b), axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        e = np.ceil(np.log2(np.where(amax > 0, amax, 1.0) / 6.0))
    e = np.clip(e, -126, 127)
    scale = np.exp2(e).astype(np.float32)
    y = np.abs(b) / scale
    idx = np.searchsorted(_FP4_MID, y)  # nearest grid point (ties go up)
    q = np.sign(b) * FP4_GRID[np.minimum(idx, 7)] * scale
    return q.reshape(shp).astype(np.float32)


def weight_specs(cfg):
    """Ordered list of (name, shape, kind, std). Shapes are the ONNX (Gemm B = [in, out]) layouts."""
    H, E, I, V, NH, D, QKV = cfg["H"], cfg["E"], cfg["I"], cfg["V"], cfg["NH"], cfg["D"], cfg["QKV"]
    specs = [("embedding", (V, H), "normal", 0.02)]
    for i in range(cfg["L"]):
        p = "block%d." % i
        specs += [
            (p + "attn_norm_scale", (H,), "scale", 0.05),
            (p + "qkv_w", (H, QKV), "normal", 0.02),
            (p + "qkv_b", (QKV,), "normal", 0.02),
            (p + "sinks", (NH,), "normal", 1.0),
            (p + "out_w", (NH * D, H), "normal", 0.02),
            (p + "out_b", (H,), "normal", 0.02),
            (p + "mlp_norm_scale", (H,), "scale", 0.05),
            (p + "gate_w", (H, E), "normal", 0.1),
            (p + "gate_b", (E,), "normal", 0.1),
            (p + "mlp1_w", (E, 2 * I, H), "mxfp4", 2.5 / math.sqrt(H)),
            (p + "mlp1_b", (E, 2 * I), "normal", 0.5),
            (p + "mlp2_w", (E, H, I), "mxfp4", 0.5 / math.sqrt(I)),
            (p + "mlp2_b", (E, H), "normal", 0.02),
        ]
    specs += [("final_norm_scale", (H,), "scale", 0.05), ("unembedding", (H, V), "normal", 0.02)]
    return specs


def spec_by_name(cfg):
    return {s[0]: s for s in weight_specs(cfg)}


def rows_per_chunk(shape):
    inner = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return max(1, CHUNK_ELEMS // max(inner, 1))


def weight_chunks(spec, seed):
    """Yield float32 chunks (split along axis 0) of one weight tensor, deterministically."""
    name, shape, kind, std = spec
    rows = rows_per_chunk(shape)
    key = zlib.crc32(name.encode())
    for ci, r0 in enumerate(range(0, shape[0], rows)):
        r1 = min(shape[0], r0 + rows)
        cshape = (r1 - r0,) + tuple(shape[1:])
        rng = np.random.default_rng(np.random.SeedSequence([seed, key, ci]))
        x = rng.standard_normal(cshape, dtype=np.float32)
        if kind == "scale":
            x = round_bf16(1.0 + np.float32(std) * x)
        elif kind == "mxfp4":
            x = quant_mxfp4(np.float32(std) * x)
        else:
            x = round_bf16(np.float32(std) * x)
        yield np.ascontiguousarray(x, dtype=np.float32)


def get_weight(cfg, seed, name):
    spec = spec_by_name(cfg)[name]
    return np.concatenate(list(weight_chunks(spec, seed)), axis=0).reshape(spec[1])


def all_weights(cfg, seed):
    return {s[0]: get_weight(cfg, seed, s[0]) for s in weight_specs(cfg)}


# --------------------------------------------------------------------------------------
# Baked tables
# --------------------------------------------------------------------------------------

def rope_cos_sin(cfg, n):
    """YaRN rotary tables [n, D/2] (gpt-oss reference), times the concentration."""
    D = cfg["D"]
    base, sf = cfg["rope_theta"], cfg["rope_scaling_factor"]
    alpha, beta, ctx = cfg["rope_ntk_alpha"], cfg["rope_ntk_beta"], cfg["initial_context_length"]
    freq = base ** (np.arange(0, D, 2, dtype=np.float64) / D)
    if sf > 1.0:
        conc = 0.1 * math.log(sf) + 1.0
        d_half = D / 2
        low = d_half * math.log(ctx / (beta * 2 * math.pi)) / math.log(base)
        high = d_half * math.log(ctx / (alpha * 2 * math.pi)) / math.log(base)
        assert 0 < low < high < d_half - 1
        interp = 1.0 / (sf * freq)
        extrap = 1.0 / freq
        ramp = (np.arange(d_half, dtype=np.float64) - low) / (high - low)
        mask = 1 - np.clip(ramp, 0, 1)
        inv_freq = interp * (1 - mask) + extrap * mask
    else:
        conc = 1.0
        inv_freq = 1.0 / freq
    t = np.arange(n, dtype=np.float64)
    f = np.outer(t, inv_freq)
    return (np.cos(f) * conc).astype(np.float32), (np.sin(f) * conc).astype(np.float32)


def attn_mask(T, W, sliding):
    q = np.arange(T)[:, None]
    k = np.arange(T)[None, :]
    bad = k > q
    if sliding:
        bad = bad | (q - k > W)
    return np.where(bad, -np.inf, 0.0).astype(np.float32).reshape(1, 1, T, T)


# --------------------------------------------------------------------------------------
# Graph building
# --------------------------------------------------------------------------------------

_OUT_BASE = {"Where": "select_out", "Constant": "constant_out"}


class Global:
    def __init__(self, cfg, layout, seed, data_path):
        self.cfg, self.layout, self.seed = cfg, layout, seed
        self.nested = layout == "nested"
        self.specs = spec_by_name(cfg)
        self.data_path = data_path
        self.data_file = None
        self.data_off = 0
        self.initializers = []
        self.functions = []
        self.fn_counts = {}
        self.node_count = 0
        self.table_cache = {}
        self._full = {}
        self.skip_data = False

    def data_write(self, b):
        if self.skip_data:
            off = self.data_off
            self.data_off += len(b)
            return off
        if self.data_file is None:
            self.data_file = open(self.data_path, "wb")
        off = self.data_off
        self.data_file.write(b)
        self.data_off += len(b)
        return off

    def add_initializer(self, arr_or_chunks, shape, dtype, nbytes):
        """Add initializer const_N. arr_or_chunks: iterable of numpy chunks in storage dtype."""
        name = "const_%d" % len(self.initializers)
        t = TensorProto()
        t.name = name
        t.data_type = dtype
        t.dims.extend(shape)
        if nbytes >= EXTERNAL_THRESHOLD:
            if self.skip_data:  # graph only: reserve the range, never generate the values
                off = self.data_off
                self.data_off += nbytes
            else:
                off = None
                for c in arr_or_chunks:
                    o = self.data_write(np.ascontiguousarray(c).tobytes())
                    off = o if off is None else off
            assert off is not None
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", os.path.basename(self.data_path)), ("offset", str(off)),
                         ("length", str(nbytes))):
                e = t.external_data.add()
                e.key, e.value = k, v
        else:
            t.raw_data = b"".join(np.ascontiguousarray(c).tobytes() for c in arr_or_chunks)
        self.initializers.append(t)
        return name

    def full_weight(self, wname):
        if wname not in self._full:
            self._full[wname] = np.concatenate(
                list(weight_chunks(self.specs[wname], self.seed)), axis=0).reshape(self.specs[wname][1])
        return self._full[wname]


class Ctx:
    """Emits nodes either into the main graph or into one FunctionProto body."""

    def __init__(self, g, attr_names=(), attr_vals=None):
        self.g = g
        self.nodes = []
        self.counters = {}
        self.attr_names = list(attr_names)  # function attributes (nested mode)
        self.attr_vals = dict(attr_vals or {})  # inline attribute values (flat modes)
        self.domains = []
        self.block = None

    # ---- names
    def fresh(self, op_type):
        base = _OUT_BASE.get(op_type, op_type.lower() + "_out")
        while True:
            n = self.counters.get(base, 0)
            self.counters[base] = n + 1
            name = "%s_%d" % (base, n)
            if name not in DUP_NAMES:
                return name

    def dup_name(self, base, block):
        if self.g.layout in ("flat", "nested"):
            return base
        return "%s__%d" % (base, block)

    # ---- nodes
    def op(self, op_type, inputs, n_out=1, out=None, domain="", **attrs):
        if out is None:
            outs = [self.fresh(op_type) for _ in range(n_out)]
        else:
            outs = [out] if isinstance(out, str) else list(out)
        self.g.node_count += 1
        node = helper.make_node(op_type, list(inputs), outs,
                                name="%s_%d" % (op_type, self.g.node_count), domain=domain, **attrs)
        self.nodes.append(node)
        return outs[0] if n_out == 1 else outs

    def const(self, arr):
        arr = np.asarray(arr)
        t = numpy_helper.from_array(arr)
        return self.op("Constant", [], value=t)

    def scalar_f(self, v):
        return self.const(np.array(v, dtype=np.float32))

    def scalar_i64(self, v):
        return self.const(np.array(v, dtype=np.int64))

    def shape_vec(self, vals):
        """Exporter idiom: Concat of one-element int64 Constant nodes."""
        parts = [self.const(np.array([v], dtype=np.int64)) for v in vals]
        return self.op("Concat", parts, axis=0)

    def attr_float(self, name):
        if self.g.nested and name in self.attr_names:
            a = onnx.AttributeProto()
            a.name = "value_float"
            a.type = onnx.AttributeProto.FLOAT
            a.ref_attr_name = name
            out = self.fresh("Constant")
            self.g.node_count += 1
            node = helper.make_node("Constant", [], [out], name="Constant_%d" % self.g.node_count)
            node.attribute.append(a)
            self.nodes.append(node)
            return out
        return self.op("Constant", [], value_float=float(self.attr_vals[name]))

    # ---- tensors
    def table(self, key, arr):
        """A baked float32 (non-parameter) tensor: initializer in graph layouts, Constant in functions."""
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if self.g.nested:
            return self.const(arr)
        if key not in self.g.table_cache:
            self.g.table_cache[key] = self.g.add_initializer([arr], arr.shape, TensorProto.FLOAT, arr.nbytes)
        return self.g.table_cache[key]

    def weight(self, wname, transposed=False):
        """A model parameter as float32 value (layout dependent)."""
        g = self.g
        spec = g.specs[wname]
        shape = spec[1]
        if g.layout in ("flat", "flat-unique"):
            nbytes = int(np.prod(shape)) * 4
            return g.add_initializer(weight_chunks(spec, g.seed), shape, TensorProto.FLOAT, nbytes)
        w = g.full_weight(wname)
        if g.nested:
            return self.const(w)
        # equinox: bf16 initializer (+ optional [out,in] storage) followed by Cast
        if transposed:
            w = np.ascontiguousarray(w.T)
        bits = bf16_bits(w)
        init = g.add_initializer([bits], w.shape, TensorProto.BFLOAT16, bits.nbytes)
        return self.op("Cast", [init], to=TensorProto.FLOAT)

    def linear(self, x, wname, bname=None):
        if self.g.layout == "equinox":
            wt = self.weight(wname, transposed=True)  # [out, in]
            w = self.op("Transpose", [wt], perm=[1, 0])
            y = self.op("MatMul", [x, w])
        else:
            w = self.weight(wname)
            if bname is None:
                return self.op("Gemm", [x, w])
            c0 = self.scalar_f(0.0)
            y = self.op("Gemm", [x, w, c0], alpha=1.0, beta=0.0)
        if bname is not None:
            y = self.op("Add", [y, self.weight(bname)])
        return y

    # ---- call sites (inline or local function)
    def call(self, fname, fn, inputs, attrs=None):
        attrs = dict(attrs or {})
        g = self.g
        if not g.nested:
            sub_vals = dict(self.attr_vals)
            sub_vals.update(attrs)
            saved = self.attr_vals
            self.attr_vals = sub_vals
            outs = fn(self, list(inputs))
            self.attr_vals = saved
            return outs
        n = g.fn_counts.get(fname, 0) + 1
        g.fn_counts[fname] = n
        domain = "custom.%s.%d" % (fname, n)
        slot = len(g.functions)
        g.functions.append(None)  # callers before callees
        sub = Ctx(g, attr_names=list(attrs))
        fin = ["f_in_%d" % i for i in range(len(inputs))]
        fouts = list(fn(sub, fin))
        seen = set()
        for j, o in enumerate(fouts):  # function outputs must be distinct body values
            if o in seen or o in fin:
                fouts[j] = sub.op("Identity", [o])
            seen.add(fouts[j])
        fp = onnx.FunctionProto()
        fp.name = fname
        fp.domain = domain
        fp.input.extend(fin)
        fp.output.extend(fouts)
        fp.attribute.extend(list(attrs))
        fp.node.extend(sub.nodes)
        fp.opset_import.extend([helper.make_opsetid("", OPSET)] +
                               [helper.make_opsetid(d, 1) for d in sub.domains])
        g.functions[slot] = fp
        self.domains.append(domain)
        base = fname.lower() + "_out"
        outs = []
        for _ in fouts:
            k = self.counters.get(base, 0)
            self.counters[base] = k + 1
            outs.append("%s_%d" % (base, k))
        self.g.node_count += 1
        node = helper.make_node(fname, list(inputs), outs, name="%s_%d" % (fname, self.g.node_count),
                                domain=domain, **attrs)
        self.nodes.append(node)
        return outs


# ---- model pieces ---------------------------------------------------------------------

def rmsnorm_fn(scale_name):
    def fn(c, ins):
        x = ins[0]
        p = c.op("Pow", [x, c.scalar_f(2.0)])
        m = c.op("ReduceMean", [p, c.const(np.array([-1], dtype=np.int64))], keepdims=1)
        a = c.op("Add", [m, c.attr_float("epsilon")])
        s = c.op("Sqrt", [a])
        r = c.op("Div", [c.scalar_f(1.0), s])
        y = c.op("Mul", [x, r])
        return [c.op("Mul", [y, c.weight(scale_name)])]
    return fn


def embedding_fn(cfg):
    def fn(c, ins):
        idx = ins[0]
        lt = c.op("Less", [idx, c.const(np.array(0, dtype=np.int32))])
        ad = c.op("Add", [idx, c.const(np.array(cfg["V"], dtype=np.int32))])
        sel = c.op("Where", [lt, ad, idx])
        return [c.op("Gather", [c.weight("embedding"), sel], axis=0)]
    return fn


def rotary(c, x, cos, sin, half):
    x1, x2 = c.op("Split", [x, c.shape_vec([half, half])], n_out=2, axis=-1)
    y1 = c.op("Sub", [c.op("Mul", [x1, cos]), c.op("Mul", [x2, sin])])
    y2 = c.op("Add", [c.op("Mul", [x2, cos]), c.op("Mul", [x1, sin])])
    return c.op("Concat", [y1, y2], axis=-1)


def attention_fn(cfg, i):
    T, NH, KV, M, D, W = cfg["T"], cfg["NH"], cfg["KV"], cfg["M"], cfg["D"], cfg["W"]
    p = "block%d." % i
    sliding = (i % 2 == 0)

    def fn(c, ins):
        x = ins[0]
        qkv = c.linear(x, p + "qkv_w", p + "qkv_b")
        ax1 = lambda: c.shape_vec([1])  # noqa: E731
        q = c.op("Slice", [qkv, c.shape_vec([0]), c.shape_vec([NH * D]), ax1()])
        k = c.op("Slice", [qkv, c.shape_vec([NH * D]), c.shape_vec([(NH + KV) * D]), ax1()])
        v = c.op("Slice", [qkv, c.shape_vec([(NH + KV) * D]), c.shape_vec([(NH + 2 * KV) * D]), ax1()])
        q = c.op("Reshape", [q, c.shape_vec([T, NH, D])])
        k = c.op("Reshape", [k, c.shape_vec([T, KV, D])])
        v = c.op("Reshape", [v, c.shape_vec([T, KV, D])])
        # rotary tables
        if c.g.layout == "equinox":
            n = cfg["initial_context_length"]
            cs, sn = rope_cos_sin(cfg, n)
            tabs = []
            for key, tab in (("rope_cos_full", cs), ("rope_sin_full", sn)):
                t = c.table(key, tab)
                t = c.op("Slice", [t, c.shape_vec([0]), c.shape_vec([T]), c.shape_vec([0])])
                tabs.append(c.op("Unsqueeze", [t, c.const(np.array([1], dtype=np.int64))]))
            cos, sin = tabs
        else:
            cs, sn = rope_cos_sin(cfg, T)
            cos = c.table("rope_cos", cs.reshape(T, 1, D // 2))
            sin = c.table("rope_sin", sn.reshape(T, 1, D // 2))
        q = rotary(c, q, cos, sin, D // 2)
        k = rotary(c, k, cos, sin, D // 2)
        q = c.op("Reshape", [q, c.shape_vec([T, KV, M, D])])
        k = c.op("Expand", [c.op("Reshape", [k, c.shape_vec([T, KV, 1, D])]), c.shape_vec([T, KV, M, D])])
        v = c.op("Expand", [c.op("Reshape", [v, c.shape_vec([T, KV, 1, D])]), c.shape_vec([T, KV, M, D])])
        s = c.op("Einsum", [q, k], equation="qhmd,khmd->hmqk")
        s = c.op("Mul", [s, c.scalar_f(1.0 / math.sqrt(D))])
        if c.g.layout == "equinox":
            r = c.op("Range", [c.scalar_i64(0), c.scalar_i64(T), c.scalar_i64(1)])
            rq = c.op("Unsqueeze", [r, c.const(np.array([1], dtype=np.int64))])
            rk = c.op("Unsqueeze", [r, c.const(np.array([0], dtype=np.int64))])
            diff = c.op("Sub", [rq, rk])
            bad = c.op("Less", [diff, c.scalar_i64(0)])
            if sliding:
                far = c.op("Greater", [diff, c.scalar_i64(W)])
                bad = c.op("Or", [bad, far])
            mk = c.op("Where", [bad, c.scalar_f(-np.inf), c.scalar_f(0.0)])
            mask = c.op("Unsqueeze", [mk, c.const(np.array([0, 1], dtype=np.int64))])
        else:
            mask = c.table("mask_sliding" if sliding else "mask_causal", attn_mask(T, W, sliding))
        s = c.op("Add", [s, mask])
        sinks = c.op("Reshape", [c.weight(p + "sinks"), c.shape_vec([KV, M, 1, 1])])
        sinks = c.op("Expand", [sinks, c.shape_vec([KV, M, T, 1])])
        s = c.op("Concat", [s, sinks], axis=3)
        wts = c.op("Softmax", [s], axis=3)
        wts = c.op("Slice", [wts, c.shape_vec([0]), c.shape_vec([T]), c.shape_vec([3])])
        o = c.op("Einsum", [wts, v], equation="hmqk,khmd->qhmd")
        o = c.op("Reshape", [o, c.shape_vec([T, NH * D])])
        return [c.linear(o, p + "out_w", p + "out_b")]
    return fn


def mlp_fn(cfg, i, debug):
    T, E, K, I, H = cfg["T"], cfg["E"], cfg["K"], cfg["I"], cfg["H"]
    lim = cfg["swiglu_limit"]
    p = "block%d." % i

    def fn(c, ins):
        x = ins[0]
        gl = c.linear(x, p + "gate_w", p + "gate_b")  # [T,E]
        vals, idx = c.op("TopK", [gl, c.const(np.array([K], dtype=np.int64))], n_out=2,
                         axis=1, largest=1, sorted=1)
        idx32 = c.op("Cast", [idx], to=TensorProto.INT32)
        idx64 = c.op("Cast", [idx32], to=TensorProto.INT64)
        rw = c.op("Softmax", [vals], axis=1)  # [T,K]

        def norm_idx(add_name, sel_name):
            lt = c.op("Less", [idx64, c.scalar_i64(0)])
            ad = c.op("Add", [idx64, c.scalar_i64(E)], out=c.dup_name(add_name, i))
            return c.op("Where", [lt, ad, idx64], out=c.dup_name(sel_name, i))

        sel1 = norm_idx("add_out_5", "select_out_1")
        w1 = c.op("Gather", [c.weight(p + "mlp1_w"), sel1], axis=0)  # [T,K,2I,H]
        b1 = c.op("Gather", [c.weight(p + "mlp1_b"), sel1], axis=0)  # [T,K,2I]
        h = c.op("Einsum", [w1, x], equation="tkoh,th->tko")
        h = c.op("Add", [h, b1])
        # SwiGLU on interleaved columns
        r = c.op("Range", [c.scalar_i64(0), c.scalar_i64(I), c.scalar_i64(1)])
        r2 = c.op("Mul", [r, c.scalar_i64(2)])
        ev = c.op("Add", [r2, c.scalar_i64(0)])
        od = c.op("Add", [r2, c.scalar_i64(1)])
        glu = c.op("Gather", [h, ev], axis=2)
        lin = c.op("Gather", [h, od], axis=2)
        glu = c.op("Clip", [glu, "", c.scalar_f(lim)])
        lin = c.op("Clip", [lin, c.scalar_f(-lim), c.scalar_f(lim)])
        sg = c.op("Sigmoid", [c.op("Mul", [glu, c.scalar_f(1.702)])])
        og = c.op("Mul", [glu, sg])
        act = c.op("Mul", [og, c.op("Add", [lin, c.scalar_f(1.0)])])  # [T,K,I]
        sel2 = norm_idx("add_out_6", "select_out_2")
        w2 = c.op("Gather", [c.weight(p + "mlp2_w"), sel2], axis=0)  # [T,K,H,I]
        b2 = c.op("Gather", [c.weight(p + "mlp2_b"), sel2], axis=0)  # [T,K,H]
        y = c.op("Einsum", [w2, act], equation="tkhi,tki->tkh")
        y = c.op("Add", [y, b2])
        out = c.op("Einsum", [y, rw], equation="tkh,tk->th")
        if debug:
            return [out, gl, idx64, rw]
        return [out]
    return fn


def block_fn(cfg, i, debug):
    p = "block%d." % i
    eps = cfg["rms_eps"]

    def fn(c, ins):
        x = ins[0]
        n1 = c.call("RMSNorm", rmsnorm_fn(p + "attn_norm_scale"), [x], {"epsilon": eps})[0]
        a = c.call("AttentionCore", attention_fn(cfg, i), [n1])[0]
        h = c.op("Add", [x, a])
        n2 = c.call("RMSNorm", rmsnorm_fn(p + "mlp_norm_scale"), [h], {"epsilon": eps})[0]
        mo = c.call("MLPBlockCore", mlp_fn(cfg, i, debug), [n2])
        out = c.op("Add", [h, mo[0]])
        if debug:
            return [out, n1, a, n2, mo[1], mo[2], mo[3], mo[0]]
        return [out]
    return fn


DEBUG_KEYS = ("attn_in", "attn_out", "moe_in", "gate_logits", "topk_idx", "topk_w", "moe_out")


def output_specs(cfg, hidden, debug):
    T, H, V, E, K = cfg["T"], cfg["H"], cfg["V"], cfg["E"], cfg["K"]
    outs = [("v_0", TensorProto.FLOAT, [T, V])]
    if hidden:
        outs += [("hidden_%d" % i, TensorProto.FLOAT, [T, H]) for i in range(cfg["L"])]
    if debug:
        shp = dict(attn_in=[T, H], attn_out=[T, H], moe_in=[T, H], gate_logits=[T, E],
                   topk_idx=[T, K], topk_w=[T, K], moe_out=[T, H])
        for i in range(cfg["L"]):
            for k in DEBUG_KEYS:
                outs.append(("b%d_%s" % (i, k), TensorProto.INT64 if k == "topk_idx" else TensorProto.FLOAT,
                             shp[k]))
    return outs


def transformer_fn(cfg, hidden, debug):
    def fn(c, ins):
        x = c.call("TokenEmbedding", embedding_fn(cfg), [ins[0]])[0]
        hs, dbg = [], []
        for i in range(cfg["L"]):
            c.block = i
            r = c.call("TransformerBlock", block_fn(cfg, i, debug), [x])
            x = r[0]
            hs.append(x)
            dbg += r[1:]
        c.block = None
        xn = c.call("RMSNorm", rmsnorm_fn("final_norm_scale"), [x], {"epsilon": cfg["rms_eps"]})[0]
        logits = c.linear(xn, "unembedding")
        outs = [logits]
        if hidden:
            outs += hs
        if debug:
            outs += dbg
        return outs
    return fn


def build(cfg, layout, out_path, seed=0, hidden=False, debug=False, skip_data=False):
    data_path = out_path + ".data"
    g = Global(cfg, layout, seed, data_path)
    g.skip_data = skip_data
    if os.path.exists(data_path):
        os.remove(data_path)
    main = Ctx(g)
    outs = main.call("GPTOSS_Transformer", transformer_fn(cfg, hidden, debug), ["in_0"])
    ospecs = output_specs(cfg, hidden, debug)
    assert len(outs) == len(ospecs)
    # name the graph outputs: rename values (each is a unique, non-duplicated name)
    rename = {}
    extra = []
    for o, (name, _, _) in zip(outs, ospecs):
        if o in rename or o in DUP_NAMES:
            extra.append(helper.make_node("Identity", [o], [name], name="Identity_out_" + name))
        else:
            rename[o] = name
    for n in main.nodes:
        for j, v in enumerate(n.input):
            if v in rename:
                n.input[j] = rename[v]
        for j, v in enumerate(n.output):
            if v in rename:
                n.output[j] = rename[v]
    main.nodes += extra
    if g.data_file is not None:
        g.data_file.close()
    graph = helper.make_graph(
        main.nodes, "gptoss_%s_%s" % (cfg["name"], layout),
        [helper.make_tensor_value_info("in_0", TensorProto.INT32, [cfg["T"]])],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in ospecs],
        initializer=g.initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    opsets += [helper.make_opsetid(f.domain, 1) for f in g.functions]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="gptossc-models-gen",
                              producer_version="1")
    model.ir_version = IR_VERSION
    if g.functions:
        model.functions.extend(g.functions)
    with open(out_path, "wb") as f:
        f.write(model.SerializeToString())
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, choices=["tiny", "small", "20b-2layer"])
    ap.add_argument("--layout", default="flat", choices=["flat", "flat-unique", "nested", "equinox"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--emit-hidden-states", action="store_true")
    ap.add_argument("--emit-block-debug", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-data", action="store_true",
                    help="flat layouts: write only the .onnx (external offsets as if the data existed)")
    a = ap.parse_args(argv)
    cfg = get_config(a.config)
    if a.config == "20b-2layer" and a.layout not in ("flat", "flat-unique"):
        ap.error("20b-2layer is only supported (streamed) for the flat and flat-unique layouts")
    d = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(d, exist_ok=True)
    build(cfg, a.layout, a.out, seed=a.seed, hidden=a.emit_hidden_states, debug=a.emit_block_debug,
          skip_data=a.skip_data)
    sz = os.path.getsize(a.out)
    dsz = os.path.getsize(a.out + ".data") if os.path.exists(a.out + ".data") else 0
    print("wrote %s (%d bytes) + .data (%d bytes)" % (a.out, sz, dsz))


if __name__ == "__main__":
    main()
