#!/usr/bin/python3
"""spec.py M.h > spec.h: the outputs of a model compiled with -n P, as C
arrays for harness.c (dtype, full-window dims, and the axis of positions,
where the full shape has T and the one-position shape has 1)."""
import re, sys

h = open(sys.argv[1]).read()
DT = {"f32": 1, "u8": 2, "i8": 3, "u16": 4, "i16": 5, "i32": 6, "i64": 7, "bool": 9, "f16": 10, "f64": 11}

def shape(s):
    m = re.match(r"([a-z0-9]+)\[([0-9,]*)\]", s)
    return DT[m.group(1)], [int(x) for x in m.group(2).split(",") if x]

full = [shape(m) for m in re.findall(r"/\* output \d+ '.*?' (\S+) \*/", h)]
step = [shape(m) for m in re.findall(r"_STEP_OUT_\w+_NUMEL \d+ /\* '.*?' at one position: (\S+) \*/", h)]
assert full and len(full) == len(step), "no step outputs in %s" % sys.argv[1]
print("#define NOUT %d" % len(full))
axis, dims = [], []
for (dt, f), (_, s) in zip(full, step):
    a = next(i for i in range(len(f)) if f[i] != s[i])
    axis.append(a)
    outer = 1
    for d in f[:a]:
        outer *= d
    inner = 1
    for d in f[a + 1:]:
        inner *= d
    dims.append((outer, f[a], inner))
print("static const int out_dtype[NOUT] = {%s};" % ", ".join(str(d) for d, _ in full))
print("static const long out_outer[NOUT] = {%s};" % ", ".join(str(o) for o, _, _ in dims))
print("static const long out_inner[NOUT] = {%s};" % ", ".join(str(i) for _, _, i in dims))
print("static const int out_axis[NOUT] = {%s};" % ", ".join(str(a) for a in axis))
