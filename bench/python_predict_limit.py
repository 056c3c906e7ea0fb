#!/usr/bin/python3
# Usage: /usr/bin/python3 bench/python_predict_limit.py <model-dir> <in.csv>
# The limit for the worker benchmark: the model's own predict on the same rows, already in memory in Python.
import os
import pickle
import sys
import time

import pandas as pd

with open(os.path.join(sys.argv[1], "model.pkl"), "rb") as f:
    model = pickle.load(f)
df = pd.read_csv(sys.argv[2]).astype("float64")
model.predict(df.head(10))
start = time.perf_counter()
model.predict(df)
print(time.perf_counter() - start)
