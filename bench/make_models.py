#!/usr/bin/python3
# Builds the benchmark's ONNX models with Debian's python3-onnx: a linear model and a small MLP, 10 float inputs.
# Usage: /usr/bin/python3 bench/make_models.py <out-dir>
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(42)


def init(name, a):
    return numpy_helper.from_array(a.astype(np.float32), name)


def write(name, nodes, inits):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 10])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 1])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlmodels-bench")
    m.ir_version = 8
    save(m, os.path.join(out, name + ".onnx"))


write("linear", [helper.make_node("Gemm", ["input", "W", "B"], ["output"])],
      [init("W", rng.normal(size=(10, 1))), init("B", rng.normal(size=(1,)))])
write("mlp", [
    helper.make_node("Gemm", ["input", "W1", "B1"], ["h1"]), helper.make_node("Relu", ["h1"], ["r1"]),
    helper.make_node("Gemm", ["r1", "W2", "B2"], ["h2"]), helper.make_node("Relu", ["h2"], ["r2"]),
    helper.make_node("Gemm", ["r2", "W3", "B3"], ["output"]),
], [init("W1", rng.normal(size=(10, 64)) * 0.3), init("B1", rng.normal(size=(64,))), init("W2", rng.normal(size=(64, 64)) * 0.1),
    init("B2", rng.normal(size=(64,))), init("W3", rng.normal(size=(64, 1))), init("B3", rng.normal(size=(1,)))])
print("models in", out)
