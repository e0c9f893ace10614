"""Write a model whose external data is larger than 2 GB, streaming (never
all in memory): y = x[4,K] @ W[K,N] + b, W bf16-exact random, about 2.4 GB.

    /usr/bin/python3 tests/slow/make_big.py OUT.onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

K, N = 2048, 294912  # 2048 * 294912 * 4 bytes = 2.25 GiB


def main():
    out = sys.argv[1]
    data = out + ".data"
    rng = np.random.default_rng(0)
    with open(data, "wb") as f:
        for k0 in range(0, K, 64):
            block = rng.standard_normal((64, N), dtype=np.float32) * 0.02
            u = block.view(np.uint32)
            u &= np.uint32(0xFFFF0000)  # bf16-exact
            f.write(block.tobytes())
        boff = f.tell()
        f.write(np.zeros(N, np.float32).tobytes())
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[K, N], data_location=TensorProto.EXTERNAL)
    for key, val in (("location", os.path.basename(data)), ("offset", "0"), ("length", str(K * N * 4))):
        w.external_data.add(key=key, value=val)
    b = TensorProto(name="b", data_type=TensorProto.FLOAT, dims=[N], data_location=TensorProto.EXTERNAL)
    for key, val in (("location", os.path.basename(data)), ("offset", str(boff)), ("length", str(N * 4))):
        b.external_data.add(key=key, value=val)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"]), helper.make_node("Add", ["y", "b"], ["z"])],
        "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, K])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [4, N])], [w, b])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), out)


if __name__ == "__main__":
    main()
