#!/usr/bin/python3
# The Python path the benchmark compares against: pandas read_csv, the same model in numpy, to_csv.
# Usage: /usr/bin/python3 bench/python_baseline.py <model.onnx> <in.csv> <out.csv>; prints the seconds taken.
import sys
import time

import numpy as np
import onnx
import pandas as pd
from onnx import numpy_helper

model, src, dst = sys.argv[1:4]
weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(model).graph.initializer}
start = time.perf_counter()
x = pd.read_csv(src).to_numpy(dtype=np.float32)
if "W1" in weights:
    h = np.maximum(x @ weights["W1"] + weights["B1"], 0)
    h = np.maximum(h @ weights["W2"] + weights["B2"], 0)
    y = h @ weights["W3"] + weights["B3"]
else:
    y = x @ weights["W"] + weights["B"]
pd.DataFrame({"output": y.reshape(-1)}).to_csv(dst, index=False)
print(time.perf_counter() - start)
