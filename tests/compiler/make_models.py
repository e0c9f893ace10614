#!/usr/bin/python3
"""tests/compiler/make_models.py OUTDIR: the small models of the compiler tests.

Writes, deterministically (fixed seeds, no timestamps):
  OUTDIR/NAME.onnx                  every model (good ones and bad ones)
  OUTDIR/NAME.in<i>.pb, .out<i>.pb  inputs and expected outputs of the models
                                    that tests/compiler/run.sh also runs
  OUTDIR/*.data, OUTDIR/sub/...     external data files and odd inputs

Needs onnx and numpy (/usr/bin/python3 has them).  The models are built
with onnx.helper and never passed through onnx.checker: many are broken on
purpose.
"""
import os
import sys

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

OPSET = 17
F = TensorProto.FLOAT
I64 = TensorProto.INT64
I32 = TensorProto.INT32

out = sys.argv[1] if len(sys.argv) > 1 else "build/compiler-tests"
os.makedirs(out, exist_ok=True)


def path(name):
    return os.path.join(out, name)


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def model(nodes, inputs, outputs, inits=(), functions=(), name="g", opset=OPSET):
    g = helper.make_graph(list(nodes), name, list(inputs), list(outputs), list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset),
                                           helper.make_opsetid("local", 1)],
                          producer_name="gptossc-tests")
    m.ir_version = 8
    for f in functions:
        m.functions.append(f)
    return m


def save(m, name):
    with open(path(name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def write_bytes(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def save_io(name, ins, outs):
    """Inputs and expected outputs as TensorProto files for `gptossc run`."""
    for i, (n, a) in enumerate(ins):
        write_bytes("%s.in%d.pb" % (name, i), numpy_helper.from_array(a, n).SerializeToString())
    for i, (n, a) in enumerate(outs):
        write_bytes("%s.out%d.pb" % (name, i), numpy_helper.from_array(a, n).SerializeToString())


def const(out_name, arr, name=None):
    return helper.make_node("Constant", [], [out_name], name=name or out_name,
                            value=numpy_helper.from_array(np.asarray(arr), out_name))


def ref_attr(name, ref, typ):
    a = AttributeProto()
    a.name = name
    a.ref_attr_name = ref
    a.type = typ
    return a


def node(op, ins, outs, name, domain=None, **attrs):
    n = helper.make_node(op, ins, outs, name=name, **attrs)
    if domain:
        n.domain = domain
    return n


rng = np.random.RandomState(1234)


def randf(*shape):
    return rng.uniform(-2, 2, size=shape).astype(np.float32)


def leaky(x, a):
    return np.where(x >= 0, x, x * np.float32(a)).astype(np.float32)


# ---------------------------------------------------------------- inlining
def inline_nested():
    """Nested local functions, listed callers first.  Every function has an
    internal value 't'; so does the main graph.  Inner reads two attributes
    by reference (a Constant's value_float and LeakyRelu's alpha); the second
    call of Inner omits 'slope', so LeakyRelu falls back to its default 0.01.
    Outer is called twice, Inner four times, Scale four times."""
    scale = helper.make_function(
        "local", "Scale", ["x"], ["y"],
        [const("t", np.array([2.0], np.float32), name="two"),
         node("Mul", ["x", "t"], ["y"], "mul")],
        [helper.make_opsetid("", OPSET)])
    inner_c = helper.make_node("Constant", [], ["t"], name="alpha_const")
    inner_c.attribute.append(ref_attr("value_float", "alpha", AttributeProto.FLOAT))
    inner_l = helper.make_node("LeakyRelu", ["m"], ["r"], name="leaky")
    inner_l.attribute.append(ref_attr("alpha", "slope", AttributeProto.FLOAT))
    inner = helper.make_function(
        "local", "Inner", ["x"], ["y"],
        [inner_c, node("Mul", ["x", "t"], ["m"], "mul"), inner_l,
         node("Scale", ["r"], ["y"], "scale", domain="local")],
        [helper.make_opsetid("", OPSET), helper.make_opsetid("local", 1)],
        attributes=["alpha", "slope"])
    outer = helper.make_function(
        "local", "Outer", ["x"], ["y"],
        [node("Inner", ["x"], ["t"], "in1", domain="local", alpha=0.5, slope=0.2),
         node("Inner", ["t"], ["u"], "in2", domain="local", alpha=3.0),
         node("Add", ["u", "x"], ["y"], "add")],
        [helper.make_opsetid("", OPSET), helper.make_opsetid("local", 1)])
    m = model([node("Outer", ["X"], ["t"], "outer1", domain="local"),
               node("Outer", ["t"], ["Y"], "outer2", domain="local")],
              [vi("X", F, [2, 4])], [vi("Y", F, [2, 4])],
              functions=[outer, inner, scale])
    save(m, "inline_nested")

    def f_inner(x, alpha, slope):
        return leaky(x * np.float32(alpha), slope) * np.float32(2)

    def f_outer(x):
        t = f_inner(x, 0.5, 0.2)
        return f_inner(t, 3.0, 0.01) + x

    x = randf(2, 4)
    save_io("inline_nested", [("X", x)], [("Y", f_outer(f_outer(x)))])


def inline_unnamed():
    """A call node without a name, a function output left unused by the
    caller, and an omitted optional input: names stay unique per site."""
    f = helper.make_function(
        "local", "Pair", ["a", "b"], ["s", "d"],
        [node("Add", ["a", "b"], ["s"], ""), node("Sub", ["a", "b"], ["d"], "")],
        [helper.make_opsetid("", OPSET)])
    m = model([node("Pair", ["X", "X"], ["s1"], "", domain="local"),
               node("Pair", ["s1", "X"], ["s2", "d2"], "", domain="local"),
               node("Mul", ["s2", "d2"], ["Y"], "mul")],
              [vi("X", F, [3])], [vi("Y", F, [3])], functions=[f])
    save(m, "inline_unnamed")
    x = randf(3)
    save_io("inline_unnamed", [("X", x)], [("Y", (3 * x) * x)])


# ---------------------------------------------------------------- uniquify
def dup_defs():
    """'h' is defined three times, 'X' (a graph input) is redefined: each
    consumer reads the latest preceding definition; the graph output 'h'
    reads the last one."""
    m = model([node("Relu", ["X"], ["h"], "relu"),
               node("Neg", ["h"], ["h"], "neg"),
               node("Abs", ["h"], ["k"], "abs"),
               node("Add", ["h", "k"], ["h"], "add"),
               node("Sigmoid", ["X"], ["X"], "sig"),
               node("Mul", ["X", "h"], ["z"], "mul")],
              [vi("X", F, [5])], [vi("h", F, [5]), vi("k", F, [5]), vi("z", F, [5])])
    save(m, "dup_defs")
    x = np.array([-2, -0.5, 0, 0.5, 2], np.float32)
    h1 = np.maximum(x, 0)
    h2 = -h1
    k = np.abs(h2)
    h3 = h2 + k
    z = (1 / (1 + np.exp(-x))).astype(np.float32) * h3
    save_io("dup_defs", [("X", x)], [("h", h3), ("k", k), ("z", z.astype(np.float32))])


def cnames():
    """Names that are not C identifiers, or that collide once sanitised,
    with C keywords, or with the generated code's own names (c, A, W, t,
    p): every input and output needs a distinct valid C identifier."""
    ins = ["a.1", "a_1", "int", "1x", "c", "a-1", "_x", "__y", "W", "x", "static"]
    nodes = [node("Add", ["a.1", "a_1"], ["a 1"], "n0"),
             node("Mul", ["int", "1x"], ["float"], "n1"),
             node("Add", ["c", "x"], ["p"], "n2"),
             node("Add", ["a-1", "_x"], ["t"], "n3"),
             node("Mul", ["__y", "W"], ["A"], "n4"),
             node("Neg", ["x"], ["x.1"], "n5"),
             node("Neg", ["static"], ["1"], "n6")]
    outs = ["a 1", "float", "p", "t", "A", "x.1", "1"]
    save(model(nodes, [vi(n, F, [2]) for n in ins], [vi(n, F, [2]) for n in outs]), "cnames")


def cnames_wrapper():
    """An input named 'in' and an output named 'out': the names of the
    arrays inside the generated <p>_run wrapper."""
    save(model([node("Neg", ["in"], ["out"], "neg")], [vi("in", F, [2])], [vi("out", F, [2])]),
         "cnames_wrapper")


def cnames_case():
    """Inputs 'x' and 'X' of different sizes: valid distinct C names, but
    the header's upper-cased macros (<P>_IN_X_NUMEL) must differ too."""
    save(model([node("Neg", ["x"], ["y"], "n0"), node("Neg", ["X"], ["Y"], "n1")],
               [vi("x", F, [2]), vi("X", F, [3])], [vi("y", F, [2]), vi("Y", F, [3])]),
         "cnames_case")


# ---------------------------------------------------------------- folding
def fold_shape():
    """Shape of an input feeds a Reshape through a Cast chain (i64 -> f32 ->
    i64): all folded, the Reshape becomes a view."""
    m = model([node("Shape", ["X"], ["s"], "shape"),
               node("Cast", ["s"], ["sf"], "cast_f", to=F),
               node("Cast", ["sf"], ["si"], "cast_i", to=I64),
               node("Reshape", ["Z", "si"], ["zr"], "reshape"),
               node("Add", ["X", "zr"], ["Y"], "add")],
              [vi("X", F, [2, 3, 4]), vi("Z", F, [24])], [vi("Y", F, [2, 3, 4])])
    save(m, "fold_shape")


def fold_concat_reshape():
    """A Concat of int64 Constants is the shape of a Reshape."""
    w = randf(4, 5)
    m = model([const("d0", np.array([-1], np.int64)),
               const("d1", np.array([4], np.int64)),
               node("Concat", ["d0", "d1"], ["shape"], "concat", axis=0),
               node("Reshape", ["X", "shape"], ["x2"], "reshape"),
               node("MatMul", ["x2", "W"], ["Y"], "matmul")],
              [vi("X", F, [2, 3, 4])], [vi("Y", F, [6, 5])],
              inits=[numpy_helper.from_array(w, "W")])
    save(m, "fold_concat_reshape")
    x = randf(2, 3, 4)
    save_io("fold_concat_reshape", [("X", x)], [("Y", x.reshape(6, 4) @ w)])


def causal_mask_np(s):
    r = np.arange(s).reshape(s, 1)
    c = np.arange(s).reshape(1, s)
    return np.where(0 < c - r, np.float32(-np.inf), np.float32(0)).astype(np.float32)


def fold_mask():
    """A causal mask from a constant arange: Reshape to a row and a column,
    Sub, Less, Where(-inf, 0); only the final Add runs."""
    s = 4
    m = model([const("ar", np.arange(s, dtype=np.int64)),
               const("rshape", np.array([s, 1], np.int64)),
               const("cshape", np.array([1, s], np.int64)),
               node("Reshape", ["ar", "rshape"], ["rows"], "rows"),
               node("Reshape", ["ar", "cshape"], ["cols"], "cols"),
               node("Sub", ["cols", "rows"], ["diff"], "sub"),
               const("zero_i", np.array(0, np.int64)),
               node("Less", ["zero_i", "diff"], ["future"], "less"),
               const("neg_inf", np.array(-np.inf, np.float32)),
               const("zero_f", np.array(0, np.float32)),
               node("Where", ["future", "neg_inf", "zero_f"], ["mask"], "where"),
               node("Add", ["X", "mask"], ["Y"], "add")],
              [vi("X", F, [2, s, s])], [vi("Y", F, [2, s, s])])
    save(m, "fold_mask")
    x = randf(2, s, s)
    save_io("fold_mask", [("X", x)], [("Y", x + causal_mask_np(s))])


def fold_mask_range():
    """The same mask from Range and Unsqueeze (the exporter's form)."""
    s = 4
    m = model([const("start", np.array(0, np.int64)),
               const("delta", np.array(1, np.int64)),
               node("Shape", ["X"], ["xs"], "shape", start=-1),
               node("Squeeze", ["xs"], ["len"], "squeeze"),
               node("Range", ["start", "len", "delta"], ["ar"], "range"),
               const("ax1", np.array([1], np.int64)),
               const("ax0", np.array([0], np.int64)),
               node("Unsqueeze", ["ar", "ax1"], ["rows"], "rows"),
               node("Unsqueeze", ["ar", "ax0"], ["cols"], "cols"),
               node("Sub", ["cols", "rows"], ["diff"], "sub"),
               const("zero_i", np.array(0, np.int64)),
               node("Less", ["zero_i", "diff"], ["future"], "less"),
               const("neg_inf", np.array(-np.inf, np.float32)),
               const("zero_f", np.array(0, np.float32)),
               node("Where", ["future", "neg_inf", "zero_f"], ["mask"], "where"),
               node("Add", ["X", "mask"], ["Y"], "add")],
              [vi("X", F, [2, s, s])], [vi("Y", F, [2, s, s])])
    save(m, "fold_mask_range")
    x = randf(2, s, s)
    save_io("fold_mask_range", [("X", x)], [("Y", x + causal_mask_np(s))])


def fold_cast_chain():
    """Cast chains of constants: i64 -> f32 -> f16 -> f32 (exact), and
    f32 2.7 -> i32 (truncates to 2) -> f32."""
    m = model([const("k", np.array([1, 2, 3], np.int64)),
               node("Cast", ["k"], ["kf"], "c1", to=F),
               node("Cast", ["kf"], ["kh"], "c2", to=TensorProto.FLOAT16),
               node("Cast", ["kh"], ["kf2"], "c3", to=F),
               node("Mul", ["X", "kf2"], ["xm"], "mul"),
               const("q", np.array([2.7], np.float32)),
               node("Cast", ["q"], ["qi"], "c4", to=I32),
               node("Cast", ["qi"], ["qf"], "c5", to=F),
               node("Add", ["xm", "qf"], ["Y"], "add")],
              [vi("X", F, [2, 3])], [vi("Y", F, [2, 3])])
    save(m, "fold_cast_chain")
    x = randf(2, 3)
    save_io("fold_cast_chain", [("X", x)], [("Y", x * np.array([1, 2, 3], np.float32) + 2)])


def rotary_tables(s, d):
    inv = (1.0 / (10000 ** (np.arange(0, d, 2, dtype=np.float32) / d))).astype(np.float32)
    pos = np.arange(s, dtype=np.float32).reshape(s, 1)
    return pos, inv.reshape(1, d // 2), (pos @ inv.reshape(1, d // 2)).astype(np.float32)


def fold_rotary():
    """Rotary embedding with the halves as separate inputs: the cos/sin
    tables (MatMul of positions and inverse frequencies, Cos, Sin) fold."""
    s, d = 4, 8
    pos, inv, fr = rotary_tables(s, d)
    m = model([const("pos", pos), const("inv_freq", inv),
               node("MatMul", ["pos", "inv_freq"], ["freqs"], "freqs"),
               node("Cos", ["freqs"], ["cos"], "cos"),
               node("Sin", ["freqs"], ["sin"], "sin"),
               node("Mul", ["X1", "cos"], ["a"], "m1"),
               node("Mul", ["X2", "sin"], ["b"], "m2"),
               node("Sub", ["a", "b"], ["Y1"], "y1"),
               node("Mul", ["X2", "cos"], ["c"], "m3"),
               node("Mul", ["X1", "sin"], ["e"], "m4"),
               node("Add", ["c", "e"], ["Y2"], "y2")],
              [vi("X1", F, [s, d // 2]), vi("X2", F, [s, d // 2])],
              [vi("Y1", F, [s, d // 2]), vi("Y2", F, [s, d // 2])])
    save(m, "fold_rotary")
    x1, x2 = randf(s, d // 2), randf(s, d // 2)
    c, sn = np.cos(fr), np.sin(fr)
    save_io("fold_rotary", [("X1", x1), ("X2", x2)],
            [("Y1", (x1 * c - x2 * sn).astype(np.float32)), ("Y2", (x2 * c + x1 * sn).astype(np.float32))])


def fold_rotary_full():
    """Rotary embedding as exported: Range, Unsqueeze, Concat of the
    frequencies, Slice and Concat for rotate_half."""
    s, d = 4, 8
    pos, inv, fr = rotary_tables(s, d)
    m = model([const("start", np.array(0, np.int64)),
               const("limit", np.array(s, np.int64)),
               const("delta", np.array(1, np.int64)),
               node("Range", ["start", "limit", "delta"], ["ar"], "range"),
               node("Cast", ["ar"], ["arf"], "cast", to=F),
               const("ax1", np.array([1], np.int64)),
               node("Unsqueeze", ["arf", "ax1"], ["pos"], "unsq"),
               const("inv_freq", inv),
               node("MatMul", ["pos", "inv_freq"], ["freqs"], "freqs"),
               node("Concat", ["freqs", "freqs"], ["emb"], "emb", axis=-1),
               node("Cos", ["emb"], ["cos"], "cos"),
               node("Sin", ["emb"], ["sin"], "sin"),
               const("h0", np.array([0], np.int64)),
               const("h1", np.array([d // 2], np.int64)),
               const("h2", np.array([d], np.int64)),
               const("axl", np.array([-1], np.int64)),
               node("Slice", ["X", "h0", "h1", "axl"], ["x1"], "slice1"),
               node("Slice", ["X", "h1", "h2", "axl"], ["x2"], "slice2"),
               node("Neg", ["x2"], ["nx2"], "neg"),
               node("Concat", ["nx2", "x1"], ["rot"], "rot", axis=-1),
               node("Mul", ["X", "cos"], ["a"], "m1"),
               node("Mul", ["rot", "sin"], ["b"], "m2"),
               node("Add", ["a", "b"], ["Y"], "add")],
              [vi("X", F, [2, s, d])], [vi("Y", F, [2, s, d])])
    save(m, "fold_rotary_full")
    x = randf(2, s, d)
    emb = np.concatenate([fr, fr], -1)
    rot = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], -1)
    save_io("fold_rotary_full", [("X", x)], [("Y", (x * np.cos(emb) + rot * np.sin(emb)).astype(np.float32))])


# ---------------------------------------------------------------- simplify
def simplify_dce():
    """A dead chain (Exp -> Neg, never read), an Identity chain, a Dropout
    whose mask is unused, an unused initializer and a dead Constant."""
    m = model([node("Relu", ["X"], ["a"], "relu"),
               node("Exp", ["a"], ["dead1"], "exp_dead"),
               node("Neg", ["dead1"], ["dead2"], "neg_dead"),
               const("unused_c", np.array([1, 2], np.float32)),
               node("Identity", ["a"], ["b"], "id1"),
               node("Identity", ["b"], ["c"], "id2"),
               node("Dropout", ["c"], ["d", "dmask"], "drop"),
               node("Abs", ["d"], ["e"], "abs"),
               node("Add", ["e", "unused_w"], ["dead3"], "add_dead"),
               node("Identity", ["e"], ["Y"], "id_out")],
              [vi("X", F, [4])], [vi("Y", F, [4])],
              inits=[numpy_helper.from_array(np.ones(4, np.float32), "unused_w")])
    save(m, "simplify_dce")


def simplify_dedupe():
    """Equal constants merged: two Constants and an initializer with the
    same f32[4] bytes; not merged: the same bytes as f32[1,4] (other shape),
    and i32 1065353216 vs f32 1.0 (same bytes, other dtype)."""
    v = np.array([1, 2, 3, 4], np.float32)
    m = model([const("c1", v), const("c2", v.copy()),
               node("Add", ["X", "c1"], ["a"], "add1"),
               node("Add", ["a", "c2"], ["b"], "add2"),
               node("Add", ["b", "w"], ["c"], "add3"),
               const("c4", v.reshape(1, 4)),
               node("Add", ["c", "c4"], ["Y"], "add4"),
               const("one_f", np.array([1.0], np.float32)),
               const("one_i", np.array([1065353216], np.int32)),
               node("Add", ["X", "one_f"], ["Z"], "add5"),
               node("Add", ["XI", "one_i"], ["ZI"], "add6")],
              [vi("X", F, [4]), vi("XI", I32, [1])],
              [vi("Y", F, [1, 4]), vi("Z", F, [4]), vi("ZI", I32, [1])],
              inits=[numpy_helper.from_array(v.copy(), "w")])
    save(m, "simplify_dedupe")
    x = randf(4)
    xi = np.array([5], np.int32)
    save_io("simplify_dedupe", [("X", x), ("XI", xi)],
            [("Y", (x + 4 * v).reshape(1, 4)), ("Z", x + 1), ("ZI", xi + 1065353216)])


def init_as_input():
    """An initializer also listed as a graph input (older exporters): it is
    a constant, not an input of the generated code."""
    w = np.array([1, -2, 3], np.float32)
    m = model([node("Mul", ["X", "W"], ["Y"], "mul")],
              [vi("X", F, [3]), vi("W", F, [3])], [vi("Y", F, [3])],
              inits=[numpy_helper.from_array(w, "W")])
    save(m, "init_as_input")
    x = randf(3)
    save_io("init_as_input", [("X", x)], [("Y", x * w)])


def outputs_const():
    """An output that is a constant (nothing computes it at run time)."""
    c = np.array([7, 8, 9], np.float32)
    m = model([node("Relu", ["X"], ["Y"], "relu"), const("C", c)],
              [vi("X", F, [3])], [vi("Y", F, [3]), vi("C", F, [3])])
    save(m, "outputs_const")
    x = np.array([-1, 0, 2], np.float32)
    save_io("outputs_const", [("X", x)], [("Y", np.maximum(x, 0)), ("C", c)])


def outputs_dup():
    """The same value listed twice as a graph output."""
    m = model([node("Relu", ["X"], ["Y"], "relu")], [vi("X", F, [3])],
              [vi("Y", F, [3]), vi("Y", F, [3])])
    save(m, "outputs_dup")
    x = np.array([-1, 0, 2], np.float32)
    y = np.maximum(x, 0)
    save_io("outputs_dup", [("X", x)], [("Y", y), ("Y", y)])


def outputs_input():
    """A graph input that is also a graph output (passed through)."""
    m = model([node("Relu", ["X"], ["Y"], "relu")], [vi("X", F, [3])],
              [vi("Y", F, [3]), vi("X", F, [3])])
    save(m, "outputs_input")
    x = np.array([-1, 0, 2], np.float32)
    save_io("outputs_input", [("X", x)], [("Y", np.maximum(x, 0)), ("X", x)])


# ---------------------------------------------------------------- good models for the other tests
def good():
    """A small model with weights, folding and a function: determinism,
    output safety and the usage-error cases use it."""
    w = randf(2, 4)
    save(model([node("Mul", ["X", "W"], ["h"], "mul"),
                const("b", np.array([0.5, -1, 2, 3], np.float32)),
                node("Add", ["h", "b"], ["h2"], "add"),
                node("Relu", ["h2"], ["Y"], "relu")],
               [vi("X", F, [2, 4])], [vi("Y", F, [2, 4])],
               inits=[numpy_helper.from_array(w, "W")]), "good")


def symbolic():
    save(model([node("Relu", ["X"], ["Y"], "relu")],
               [vi("X", F, ["batch", 4])], [vi("Y", F, ["batch", 4])]), "symbolic")


# ---------------------------------------------------------------- bad inputs
def relu_model(inits=(), extra_nodes=(), inputs=None):
    return model([node("Relu", ["X"], ["Y"], "relu")] + list(extra_nodes),
                 inputs or [vi("X", F, [4])], [vi("Y", F, [4])], inits=inits)


def external(name, loc, offset=None, length=None, dims=(4,), dtype=F):
    t = TensorProto()
    t.name = "W"
    t.data_type = dtype
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, val in (("location", loc), ("offset", offset), ("length", length)):
        if val is not None:
            e = t.external_data.add()
            e.key = k
            e.value = str(val)
    save(model([node("Add", ["X", "W"], ["Y"], "add")], [vi("X", F, [4])], [vi("Y", F, [4])],
               inits=[t]), name)


def bad():
    good_bytes = model([node("MatMul", ["X", "W"], ["Y"], "mm")], [vi("X", F, [2, 64])],
                       [vi("Y", F, [2, 64])],
                       inits=[numpy_helper.from_array(randf(64, 64), "W")]).SerializeToString()
    write_bytes("bad_truncated.onnx", good_bytes[:len(good_bytes) // 2])
    write_bytes("bad_random.onnx", bytes(np.random.RandomState(7).randint(0, 256, 4096).astype(np.uint8)))
    write_bytes("zero_bytes.onnx", b"")
    # external data: w16.data holds 16 bytes = 4 floats
    write_bytes("w16.data", np.arange(4, dtype=np.float32).tobytes())
    external("ext_ok", "w16.data", 0, 16)
    external("bad_ext_missing", "nonexistent.data")
    external("bad_ext_short", "w16.data", 8, 16)
    external("bad_ext_offset", "w16.data", 64)
    external("bad_ext_length", "w16.data", 0, 12)
    external("bad_ext_escape", "../../etc/passwd")
    external("bad_ext_absolute", "/etc/passwd")
    t = numpy_helper.from_array(np.ones(4, np.float32), "W")
    t.raw_data = t.raw_data[:12]
    save(model([node("Add", ["X", "W"], ["Y"], "add")], [vi("X", F, [4])], [vi("Y", F, [4])],
               inits=[t]), "bad_raw_size")
    t = TensorProto(name="W", data_type=F, dims=[-4])
    save(model([node("Add", ["X", "W"], ["Y"], "add")], [vi("X", F, [4])], [vi("Y", F, [4])],
               inits=[t]), "bad_negative_dim")
    save(relu_model(inputs=[vi("X", F, [-4])]), "bad_negative_input_dim")
    t = TensorProto(name="W", data_type=99, dims=[4], raw_data=b"\0" * 16)
    save(model([node("Add", ["X", "W"], ["Y"], "add")], [vi("X", F, [4])], [vi("Y", F, [4])],
               inits=[t]), "bad_dtype")
    save(model([node("Relu", ["X"], ["Y"], "relu")], [vi("X", 99, [4])], [vi("Y", F, [4])]),
         "bad_input_dtype")
    save(model([node("Add", ["X", "ghost"], ["Y"], "add")], [vi("X", F, [4])], [vi("Y", F, [4])]),
         "bad_undefined")
    save(model([node("Add", ["X", "b"], ["a"], "n1"), node("Add", ["X", "a"], ["b"], "n2"),
                node("Relu", ["b"], ["Y"], "n3")], [vi("X", F, [4])], [vi("Y", F, [4])]),
         "bad_cycle")
    save(model([node("Relu", ["X"], ["h"], "relu")], [vi("X", F, [4])], [vi("Y", F, [4])]),
         "bad_output_undefined")
    save(model([node("Add", ["X", "W"], ["Y"], "add")], [vi("X", F, [4])], [vi("Y", F, [4])],
               inits=[numpy_helper.from_array(np.ones(4, np.float32), "W"),
                      numpy_helper.from_array(np.zeros(4, np.float32), "W")]), "bad_dup_init")
    rec = helper.make_function("local", "Rec", ["x"], ["y"],
                               [node("Rec", ["x"], ["y"], "again", domain="local")],
                               [helper.make_opsetid("local", 1)])
    save(model([node("Rec", ["X"], ["Y"], "call", domain="local")], [vi("X", F, [4])],
               [vi("Y", F, [4])], functions=[rec]), "bad_recursive")
    ping = helper.make_function("local", "Ping", ["x"], ["y"],
                                [node("Pong", ["x"], ["y"], "pong", domain="local")],
                                [helper.make_opsetid("local", 1)])
    pong = helper.make_function("local", "Pong", ["x"], ["y"],
                                [node("Ping", ["x"], ["y"], "ping", domain="local")],
                                [helper.make_opsetid("local", 1)])
    save(model([node("Ping", ["X"], ["Y"], "call", domain="local")], [vi("X", F, [4])],
               [vi("Y", F, [4])], functions=[ping, pong]), "bad_mutual_recursion")
    save(model([node("Relu", ["X", "X"], ["Y"], "relu2")], [vi("X", F, [4])], [vi("Y", F, [4])]),
         "bad_too_many_inputs")
    save(model([node("Cast", ["X"], ["Y"], "cast", to=1.0)], [vi("X", F, [4])], [vi("Y", F, [4])]),
         "bad_attr_type")
    save(model([node("Add", ["X", "Z"], ["Y"], "add")], [vi("X", F, [2, 3]), vi("Z", F, [4, 3])],
               [vi("Y", F, [2, 3])]), "bad_broadcast")
    save(model([node("MatMul", ["X", "Z"], ["Y"], "mm")], [vi("X", F, [2, 3]), vi("Z", F, [4, 5])],
               [vi("Y", F, [2, 5])]), "bad_matmul")
    save(model([node("Einsum", ["X", "Z"], ["Y"], "einsum", equation="ij,jk->iq")],
               [vi("X", F, [2, 3]), vi("Z", F, [3, 5])], [vi("Y", F, [2, 5])]), "bad_einsum")
    save(model([const("idx", np.array([0, 5], np.int64)),
                node("Gather", ["X", "idx"], ["Y"], "gather", axis=0)],
               [vi("X", F, [3, 4])], [vi("Y", F, [2, 4])]), "bad_gather_index")
    save(model([const("idx", np.array([0, 5], np.int64)),
                node("Gather", ["D", "idx"], ["g"], "gather", axis=0),
                node("Add", ["X", "g"], ["Y"], "add")],
               [vi("X", F, [2, 4])], [vi("Y", F, [2, 4])],
               inits=[numpy_helper.from_array(randf(3, 4), "D")]), "bad_gather_index_fold")
    save(model([node("FooOp", ["X"], ["a"], "foo"), node("BarOp", ["a"], ["b"], "bar"),
                node("FooOp", ["b"], ["Y"], "foo2")], [vi("X", F, [4])], [vi("Y", F, [4])]),
         "bad_unknown_ops")
    f2 = helper.make_function("local", "Two", ["a", "b"], ["y"],
                              [node("Add", ["a", "b"], ["y"], "add")], [helper.make_opsetid("", OPSET)])
    save(model([node("Two", ["X", "X", "X"], ["Y"], "call", domain="local")], [vi("X", F, [4])],
               [vi("Y", F, [4])], functions=[f2]), "bad_function_arity")
    kc = helper.make_node("Constant", [], ["k"], name="k")
    kc.attribute.append(ref_attr("value_float", "alpha", AttributeProto.FLOAT))
    fk = helper.make_function("local", "Scaled", ["x"], ["y"],
                              [kc, node("Mul", ["x", "k"], ["y"], "mul")],
                              [helper.make_opsetid("", OPSET)], attributes=["alpha"])
    save(model([node("Scaled", ["X"], ["Y"], "call", domain="local")], [vi("X", F, [4])],
               [vi("Y", F, [4])], functions=[fk]), "bad_ref_attr_missing")
    os.makedirs(path("adir.onnx"), exist_ok=True)  # a folder, not a model
    # the input model named like an output of -o: m.bin with -o m.c
    write_bytes("victim.bin", open(path("good.onnx"), "rb").read())


def softmax_np(x, sink=None):
    if sink is not None:
        x = np.concatenate([x, sink], axis=-1)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return p[..., :p.shape[-1] - (sink is not None)]


def attn_sink():
    """GPT-OSS's attention (attn.c fuses it into one AttnChain): Einsum Q.K
    over grouped heads, scale, causal mask, a sink column (Concat, Softmax,
    Slice), Einsum P.V; 20 rows, two blocks of the kernel."""
    t, h, m, d = 20, 2, 2, 8
    mask = causal_mask_np(t).reshape(1, 1, t, t)
    sinks = randf(h, m, 1, 1) * np.ones((1, 1, t, 1), np.float32)
    m_ = model([node("Einsum", ["Q", "K"], ["s"], "qk", equation="qhmd,khmd->hmqk"),
                const("scale", np.array(0.35, np.float32)),
                node("Mul", ["s", "scale"], ["ss"], "scale_mul"),
                const("mask", mask),
                node("Add", ["ss", "mask"], ["sm"], "mask_add"),
                const("sinks", sinks),
                node("Concat", ["sm", "sinks"], ["sc"], "concat", axis=3),
                node("Softmax", ["sc"], ["pc"], "softmax", axis=3),
                const("st", np.array([0], np.int64)),
                const("en", np.array([t], np.int64)),
                const("ax", np.array([3], np.int64)),
                node("Slice", ["pc", "st", "en", "ax"], ["p"], "slice"),
                node("Einsum", ["p", "V"], ["O"], "pv", equation="hmqk,khmd->qhmd")],
               [vi("Q", F, [t, h, m, d]), vi("K", F, [t, h, m, d]), vi("V", F, [t, h, m, d])],
               [vi("O", F, [t, h, m, d])])
    save(m_, "attn_sink")
    q, k, v = randf(t, h, m, d), randf(t, h, m, d), randf(t, h, m, d)
    s = np.einsum("qhmd,khmd->hmqk", q, k) * np.float32(0.35) + mask
    o = np.einsum("hmqk,khmd->qhmd", softmax_np(s, sinks), v).astype(np.float32)
    save_io("attn_sink", [("Q", q), ("K", k), ("V", v)], [("O", o)])


def attn_lone():
    """K first in Q.K, a lone mask Add (no chain of one), Softmax without a
    sink, fewer keys than rows; then the same with nothing between Q.K and
    the softmax: both fused."""
    b, h, t, s_, d = 1, 2, 6, 12, 8
    mask = randf(1, 1, t, s_)
    m_ = model([node("Einsum", ["K", "Q"], ["s"], "qk", equation="bhkd,bhqd->bhqk"),
                const("mask", mask),
                node("Add", ["s", "mask"], ["sm"], "mask_add"),
                node("Softmax", ["sm"], ["p"], "softmax", axis=-1),
                node("Einsum", ["p", "V"], ["O"], "pv", equation="bhqk,bhkd->bhqd"),
                node("Einsum", ["Q", "K"], ["s2"], "qk2", equation="bhqd,bhkd->bhqk"),
                node("Softmax", ["s2"], ["p2"], "softmax2", axis=-1),
                node("Einsum", ["p2", "V"], ["O2"], "pv2", equation="bhqk,bhkd->bhqd")],
               [vi("Q", F, [b, h, t, d]), vi("K", F, [b, h, s_, d]), vi("V", F, [b, h, s_, d])],
               [vi("O", F, [b, h, t, d]), vi("O2", F, [b, h, t, d])])
    save(m_, "attn_lone")
    q, k, v = randf(b, h, t, d), randf(b, h, s_, d), randf(b, h, s_, d)
    s = np.einsum("bhkd,bhqd->bhqk", k, q)
    o = np.einsum("bhqk,bhkd->bhqd", softmax_np(s + mask), v).astype(np.float32)
    o2 = np.einsum("bhqk,bhkd->bhqd", softmax_np(s), v).astype(np.float32)
    save_io("attn_lone", [("Q", q), ("K", k), ("V", v)], [("O", o), ("O2", o2)])


def attn_unfused():
    """Attention that attn.c leaves alone: K stored [d, keys] (Q.K would not
    take the dot path), and d = 4 < 8."""
    t, d = 5, 8
    m_ = model([node("Einsum", ["Q", "K"], ["s"], "qk", equation="qd,dk->qk"),
                node("Softmax", ["s"], ["p"], "softmax", axis=-1),
                node("Einsum", ["p", "V"], ["O"], "pv", equation="qk,kd->qd"),
                node("Einsum", ["Q2", "K2"], ["s2"], "qk2", equation="qd,kd->qk"),
                node("Softmax", ["s2"], ["p2"], "softmax2", axis=-1),
                node("Einsum", ["p2", "V"], ["O2"], "pv2", equation="qk,kd->qd")],
               [vi("Q", F, [t, d]), vi("K", F, [d, t]), vi("V", F, [t, d]),
                vi("Q2", F, [t, 4]), vi("K2", F, [t, 4])],
               [vi("O", F, [t, d]), vi("O2", F, [t, d])])
    save(m_, "attn_unfused")


def main():
    inline_nested()
    inline_unnamed()
    dup_defs()
    cnames()
    cnames_wrapper()
    cnames_case()
    fold_shape()
    fold_concat_reshape()
    fold_mask()
    fold_mask_range()
    fold_cast_chain()
    fold_rotary()
    fold_rotary_full()
    simplify_dce()
    simplify_dedupe()
    init_as_input()
    outputs_const()
    outputs_dup()
    outputs_input()
    good()
    symbolic()
    bad()
    attn_sink()  # last: the models above keep their random values
    attn_lone()
    attn_unfused()


main()
