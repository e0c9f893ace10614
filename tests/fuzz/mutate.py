#!/usr/bin/env python3
"""mutate.py SRC_DIR OUT_DIR [COUNT]: structured mutants of ONNX models for the fuzz corpus.

libFuzzer mutates bytes; most byte flips break the protobuf framing or land in
weight data.  These mutants change the graph in ways that stay well-formed
protobuf but stress the compiler's checks: attribute values at the edges,
odd dims and dtypes on inputs and initializers, dropped or extra node inputs,
swapped op types, wrong opsets, use-before-definition, self-loops, empty and
duplicate names, scalar/empty tensors.  Deterministic (seeded).
"""
import os
import random
import sys

import onnx
from onnx import TensorProto, helper

EDGE_INTS = [0, 1, -1, 2, -2, 7, 64, 2**31 - 1, -(2**31), 2**62, -(2**63), 2**63 - 1]
DTYPES = [TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL, TensorProto.FLOAT16,
          TensorProto.BFLOAT16, TensorProto.DOUBLE, TensorProto.UINT8, TensorProto.INT8, TensorProto.STRING, 0, 99]
OPS = ["Add", "MatMul", "Gather", "Reshape", "Transpose", "Concat", "Slice", "Softmax", "ReduceSum", "Cast",
       "Unsqueeze", "Squeeze", "Expand", "Where", "TopK", "Split", "Gemm", "LayerNormalization", "Range",
       "ConstantOfShape", "Shape", "Tile", "Pad", "CumSum", "Einsum", "Flatten", "Identity", "Trilu", "Mul",
       "ArgMax", "GatherElements", "ScatterND", "GatherND", "Resize", "NotAnOp"]


def set_dims(vi, dims):
    t = vi.type.tensor_type
    del t.shape.dim[:]
    for d in dims:
        dd = t.shape.dim.add()
        if isinstance(d, str):
            dd.dim_param = d
        else:
            dd.dim_value = d


def mut_attr(m, r):
    nodes = [n for n in m.graph.node if n.attribute]
    if not nodes:
        return False
    n = r.choice(nodes)
    a = r.choice(n.attribute)
    if a.type == onnx.AttributeProto.INT:
        a.i = r.choice(EDGE_INTS)
    elif a.type == onnx.AttributeProto.INTS:
        k = r.randrange(4)
        if k == 0 and a.ints:
            a.ints[r.randrange(len(a.ints))] = r.choice(EDGE_INTS)
        elif k == 1:
            del a.ints[:]
        elif k == 2:
            a.ints.extend([r.choice(EDGE_INTS)] * r.randrange(1, 12))
        else:
            a.ints[:] = [r.choice([-1, 0, 1, 2, 3]) for _ in range(len(a.ints))]
    elif a.type == onnx.AttributeProto.FLOAT:
        a.f = r.choice([0.0, -1.0, 1e30, float("nan"), float("inf"), -float("inf"), 1e-45])
    elif a.type == onnx.AttributeProto.FLOATS:
        a.floats.extend([float("nan")] * r.randrange(1, 4))
    elif a.type == onnx.AttributeProto.STRING:
        a.s = r.choice([b"", b"nonsense", b"\xff" * 8, a.s * 40])
    elif a.type == onnx.AttributeProto.TENSOR:
        t = a.t
        k = r.randrange(3)
        if k == 0:
            del t.dims[:]
        elif k == 1:
            t.dims.append(r.choice([0, 3, 2**40]))
        else:
            t.data_type = r.choice(DTYPES)
    else:
        # wrong attribute type for its name
        a.type = onnx.AttributeProto.INT
        a.i = r.choice(EDGE_INTS)
    return True


def mut_input_shape(m, r):
    vis = list(m.graph.input) + list(m.graph.output)
    if not vis:
        return False
    vi = r.choice(vis)
    t = vi.type.tensor_type
    k = r.randrange(6)
    if k == 0:
        set_dims(vi, [])
    elif k == 1:
        set_dims(vi, [0] * max(1, len(t.shape.dim)))
    elif k == 2:
        set_dims(vi, [2**40, 2**40, 16])
    elif k == 3:
        set_dims(vi, ["N"] * r.randrange(1, 4))
    elif k == 4:
        set_dims(vi, [1] * r.randrange(7, 12))
    else:
        t.elem_type = r.choice(DTYPES)
    return True


def mut_initializer(m, r):
    if not m.graph.initializer:
        return False
    t = r.choice(m.graph.initializer)
    k = r.randrange(6)
    if k == 0:
        t.dims.append(2)  # data no longer matches dims
    elif k == 1:
        t.data_type = r.choice(DTYPES)
    elif k == 2:
        del t.dims[:]
        t.dims.extend([0])
        t.ClearField("raw_data")
        for f in ("float_data", "int64_data", "int32_data", "double_data"):
            t.ClearField(f)
    elif k == 3:
        t.name = r.choice(["", m.graph.initializer[0].name])
    elif k == 4:
        # external data pointing to the tiny model's weights, possibly out of range
        t.ClearField("raw_data")
        for f in ("float_data", "int64_data", "int32_data", "double_data"):
            t.ClearField(f)
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        for key, val in (("location", r.choice(["tiny.onnx.data", "missing.bin", "../tiny.onnx.data", "/etc/hostname", ""])),
                         ("offset", str(r.choice([0, 4096, 632832, -5, 2**62]))),
                         ("length", str(r.choice([0, 16, -1, 2**62])))):
            e = t.external_data.add()
            e.key, e.value = key, val
    else:
        # giant dims on a scalar
        del t.dims[:]
        t.dims.extend([2**31, 2**31, 4])
    return True


def mut_node_inputs(m, r):
    if not m.graph.node:
        return False
    n = r.choice(m.graph.node)
    k = r.randrange(5)
    if k == 0 and n.input:
        del n.input[r.randrange(len(n.input))]
    elif k == 1:
        n.input.append(r.choice(list(n.input) + [""] if n.input else [""]))
    elif k == 2 and n.input:
        n.input[r.randrange(len(n.input))] = ""
    elif k == 3 and n.output:
        n.input.append(n.output[0])  # self loop
    else:
        n.output.append(r.choice(["", "extra_out"] + list(n.output)))
    return True


def mut_op(m, r):
    if not m.graph.node:
        return False
    n = r.choice(m.graph.node)
    k = r.randrange(3)
    if k == 0:
        n.op_type = r.choice(OPS)
    elif k == 1:
        n.domain = r.choice(["com.microsoft", "ai.onnx", "local", "ai.onnx.ml"])
    else:
        n.op_type = ""
    return True


def mut_opset(m, r):
    for o in m.opset_import:
        o.version = r.choice([1, 6, 11, 13, 99, 0, -1])
    if r.random() < 0.3:
        del m.opset_import[:]
    return True


def mut_order(m, r):
    ns = list(m.graph.node)
    if len(ns) < 2:
        if ns and ns[0].output and ns[0].input:
            ns[0].input[0] = ns[0].output[0]
            return True
        return False
    r.shuffle(ns)
    del m.graph.node[:]
    m.graph.node.extend(ns)
    return True


def mut_names(m, r):
    k = r.randrange(4)
    if k == 0 and m.graph.output:
        m.graph.output[0].name = r.choice(["", "does_not_exist"] + [i.name for i in m.graph.input])
    elif k == 1 and m.graph.input:
        m.graph.input.append(m.graph.input[0])  # duplicate input
    elif k == 2 and m.graph.node:
        for n in m.graph.node:
            for i in range(len(n.output)):
                n.output[i] = "same"
    else:
        del m.graph.output[:]
    return True


def mut_function(m, r):
    """Wrap the first node into a local function called twice (and maybe recursively)."""
    if not m.graph.node:
        return False
    n = m.graph.node[0]
    f = helper.make_function("local", "F", list(n.input), list(n.output), [n],
                             [helper.make_opsetid("", 17)] + ([helper.make_opsetid("local", 1)]))
    if r.random() < 0.3:
        # recursion
        f.node.append(helper.make_node("F", list(n.output), ["rec"], domain="local"))
    call = helper.make_node("F", list(n.input), list(n.output), domain="local")
    m.graph.node[0].CopyFrom(call)
    m.functions.append(f)
    m.opset_import.append(helper.make_opsetid("local", 1))
    return True


MUTATORS = [mut_attr, mut_attr, mut_input_shape, mut_initializer, mut_node_inputs, mut_op, mut_opset,
            mut_order, mut_names, mut_function]


def main():
    src, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    r = random.Random(1234)
    files = sorted(f for f in os.listdir(src) if f.endswith(".onnx") and not f.startswith("mut_"))
    if not files:
        return
    made = 0
    tries = 0
    while made < count and tries < count * 5:
        tries += 1
        f = r.choice(files)
        try:
            m = onnx.load(os.path.join(src, f), load_external_data=False)
        except Exception:
            continue
        for _ in range(r.randrange(1, 4)):
            r.choice(MUTATORS)(m, r)
        try:
            data = m.SerializeToString()
        except Exception:
            continue
        if len(data) > 1 << 20:
            continue
        with open(os.path.join(out, "mut_%04d_%s" % (made, f)), "wb") as fh:
            fh.write(data)
        made += 1
    print("mutants:", made)


if __name__ == "__main__":
    main()
