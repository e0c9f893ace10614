"""small_model.py OUT.onnx: the stand-in model tests/cross/run.sh uses while
models/tiny/tiny.onnx does not compile yet.  Same interface as a GPT-OSS
graph (in_0 int32[16] -> v_0 float[16,256]) with ops every build has:
Cast, Mul, Reshape, Sin, MatMul, Add."""
import sys
import numpy as np
from onnx import helper, TensorProto, numpy_helper, save

rng = np.random.default_rng(0)
T, D, V = 16, 64, 256
inits = [
    numpy_helper.from_array(rng.standard_normal((1, D)).astype(np.float32), 'E'),
    numpy_helper.from_array(rng.standard_normal((D, V)).astype(np.float32), 'W'),
    numpy_helper.from_array(rng.standard_normal((V,)).astype(np.float32), 'b'),
    numpy_helper.from_array(np.array([T, 1], dtype=np.int64), 'shp'),
    numpy_helper.from_array(np.array([0.37], dtype=np.float32), 'sc'),
]
nodes = [
    helper.make_node('Cast', ['in_0'], ['f'], to=TensorProto.FLOAT),
    helper.make_node('Mul', ['f', 'sc'], ['fs']),
    helper.make_node('Reshape', ['fs', 'shp'], ['r']),
    helper.make_node('Mul', ['r', 'E'], ['e']),
    helper.make_node('Sin', ['e'], ['s']),
    helper.make_node('MatMul', ['s', 'W'], ['m']),
    helper.make_node('Add', ['m', 'b'], ['a']),
    helper.make_node('Mul', ['a', 'sc'], ['v_0']),
]
g = helper.make_graph(nodes, 'cross_small',
                      [helper.make_tensor_value_info('in_0', TensorProto.INT32, [T])],
                      [helper.make_tensor_value_info('v_0', TensorProto.FLOAT, [T, V])], inits)
save(helper.make_model(g, opset_imports=[helper.make_operatorsetid('', 17)]), sys.argv[1])
