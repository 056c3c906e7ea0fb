#!/usr/bin/python3
# The Python path the benchmark compares against: pandas read_csv, the same model in numpy, to_csv.
# Usage: /usr/bin/python3 bench/python_baseline.py <model.onnx> <in.csv> <out.csv>; prints the wall seconds taken, then the CPU seconds.
import sys
import time

import numpy as np
import pandas as pd

from numpy_model import load_weights, predict

model, src, dst = sys.argv[1:4]
weights = load_weights(model)
start, cpu = time.perf_counter(), time.process_time()
x = pd.read_csv(src).to_numpy(dtype=np.float32)
y = predict(weights, x)
pd.DataFrame({"output": y.reshape(-1)}).to_csv(dst, index=False)
print(time.perf_counter() - start, time.process_time() - cpu)
