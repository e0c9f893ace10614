#!/usr/bin/python3
"""Structural checks of generated graphs (no ORT needed).

  /usr/bin/python3 models/tools/check_structure.py FLAT.onnx FLAT_UNIQUE.onnx [NESTED.onnx]

- flat: counts duplicate value names, checks that resolving every input to the latest preceding
  definition gives exactly the wiring of the flat-unique twin.
- nested: callers listed before callees, every call resolves to a function, attribute refs.
"""
import collections
import sys

import onnx


def dups(m):
    c = collections.Counter(o for n in m.graph.node for o in n.output)
    return {k: v for k, v in c.items() if v > 1}


def latest_def_wiring(m):
    """Return node list as (op, [producer index or graph-level name for each input])."""
    last = {}
    res = []
    for i, n in enumerate(m.graph.node):
        ins = [("node", last[x][0], last[x][1]) if x in last else ("ext", x) for x in n.input]
        res.append((n.op_type, ins))
        for j, o in enumerate(n.output):
            last[o] = (i, j)
    return res


def main():
    flat = onnx.load(sys.argv[1], load_external_data=False)
    uniq = onnx.load(sys.argv[2], load_external_data=False)
    d = dups(flat)
    print("flat duplicate outputs:", d)
    print("flat-unique duplicate outputs:", dups(uniq))
    same = latest_def_wiring(flat) == latest_def_wiring(uniq)
    print("latest-preceding-definition wiring of flat == flat-unique wiring:", same)
    ops = collections.Counter(n.op_type for n in flat.graph.node)
    print("flat op histogram:", dict(sorted(ops.items())))
    nexts = sum(1 for t in flat.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL)
    print("flat initializers: %d (%d external)" % (len(flat.graph.initializer), nexts))
    if len(sys.argv) > 3:
        m = onnx.load(sys.argv[3], load_external_data=False)
        idx = {(f.domain, f.name): i for i, f in enumerate(m.functions)}
        order_ok = True
        for i, f in enumerate(m.functions):
            for n in f.node:
                if n.domain.startswith("custom."):
                    j = idx[(n.domain, n.op_type)]
                    order_ok &= j > i
        print("nested: %d functions, main graph nodes %s" % (len(m.functions),
                                                           [(n.op_type, n.domain) for n in m.graph.node]))
        print("nested: callers before callees:", order_ok)
        refs = [(f.domain, n.op_type, a.name, a.ref_attr_name) for f in m.functions for n in f.node
                for a in n.attribute if a.ref_attr_name]
        print("nested: attribute refs:", refs[:3], "... total", len(refs))
        print("nested: function list:", [f.domain for f in m.functions])


if __name__ == "__main__":
    main()
