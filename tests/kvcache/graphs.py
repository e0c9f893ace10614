#!/usr/bin/python3
"""graphs.py DIR: small attention language models written the way other
exporters (torch.onnx, hand-written graphs) write them: int64 token ids
[1, T], MatMul attention with Transpose, a causal mask added before the
Softmax, logits [1, T, V].

  causal.onnx   the mask hides key > query: NAME_step can be derived
  nomask.onnx   no mask: every query sees every key; refused
  leaky.onnx    a mask off by one (query q also sees key q+1); refused
  notlm.onnx    float input: not a language model at all
"""
import os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

T, V, H, NH = 8, 32, 16, 2
D = H // NH
rng = np.random.default_rng(3)


def const(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def model(mask, float_input=False):
    inits = [
        const("emb", rng.standard_normal((V, H)).astype(np.float32)),
        const("wq", (rng.standard_normal((H, H)) / 4).astype(np.float32)),
        const("wk", (rng.standard_normal((H, H)) / 4).astype(np.float32)),
        const("wv", (rng.standard_normal((H, H)) / 4).astype(np.float32)),
        const("wo", (rng.standard_normal((H, V)) / 4).astype(np.float32)),
        const("heads", np.array([1, T, NH, D], np.int64)),
        const("back", np.array([1, T, H], np.int64)),
        const("scale", np.array(1 / np.sqrt(D), np.float32)),
    ]
    nodes = []
    if float_input:
        nodes.append(helper.make_node("Cast", ["ids_f"], ["ids"], to=TensorProto.INT64, name="cast"))
    nodes += [
        helper.make_node("Gather", ["emb", "ids"], ["x"], axis=0, name="embed"),
        helper.make_node("MatMul", ["x", "wq"], ["q0"], name="q_proj"),
        helper.make_node("MatMul", ["x", "wk"], ["k0"], name="k_proj"),
        helper.make_node("MatMul", ["x", "wv"], ["v0"], name="v_proj"),
    ]
    for n in "qkv":
        nodes.append(helper.make_node("Reshape", [n + "0", "heads"], [n + "1"], name=n + "_heads"))
    nodes += [
        helper.make_node("Transpose", ["q1"], ["q"], perm=[0, 2, 1, 3], name="q_t"),
        helper.make_node("Transpose", ["k1"], ["kt"], perm=[0, 2, 3, 1], name="k_t"),
        helper.make_node("Transpose", ["v1"], ["v"], perm=[0, 2, 1, 3], name="v_t"),
        helper.make_node("MatMul", ["q", "kt"], ["s0"], name="scores"),
        helper.make_node("Mul", ["s0", "scale"], ["s1"], name="scaled"),
    ]
    s = "s1"
    if mask is not None:
        inits.append(const("mask", mask.reshape(1, 1, T, T).astype(np.float32)))
        nodes.append(helper.make_node("Add", ["s1", "mask"], ["s2"], name="masked"))
        s = "s2"
    nodes += [
        helper.make_node("Softmax", [s], ["p"], axis=-1, name="softmax"),
        helper.make_node("MatMul", ["p", "v"], ["o0"], name="pv"),
        helper.make_node("Transpose", ["o0"], ["o1"], perm=[0, 2, 1, 3], name="o_t"),
        helper.make_node("Reshape", ["o1", "back"], ["o"], name="o_merge"),
        helper.make_node("Add", ["o", "x"], ["r"], name="residual"),
        helper.make_node("MatMul", ["r", "wo"], ["logits"], name="lm_head"),
    ]
    inp = helper.make_tensor_value_info("ids_f" if float_input else "ids",
                                        TensorProto.FLOAT if float_input else TensorProto.INT64, [1, T])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, T, V])
    g = helper.make_graph(nodes, "attn", [inp], [out], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests/kvcache/graphs.py")
    onnx.checker.check_model(m)
    return m


q, k = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
causal = np.where(k > q, np.float32(-1e30), np.float32(0))
leaky = np.where(k > q + 1, np.float32(-1e30), np.float32(0))
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
onnx.save(model(causal), os.path.join(d, "causal.onnx"))
onnx.save(model(None), os.path.join(d, "nomask.onnx"))
onnx.save(model(leaky), os.path.join(d, "leaky.onnx"))
onnx.save(model(causal, float_input=True), os.path.join(d, "notlm.onnx"))
