#!/usr/bin/python3
# The least work mlflow.evaluate(model_type="regressor") does for an ONNX regressor, done with pandas and scikit-learn:
# read the CSV (pandas.read_csv), predict with an equivalent scikit-learn model (a LinearRegression holding the ONNX
# graph's weights), and MLflow 2.12's regressor metrics through scikit-learn's functions. Imports are not timed.
# Usage: /usr/bin/python3 bench/python_evaluate_limit.py <linear.onnx> <data.csv> <target column>
import json
import sys
import time

import numpy as np
import onnx
import pandas as pd
from onnx import numpy_helper
from sklearn import metrics as m
from sklearn.linear_model import LinearRegression

weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(sys.argv[1]).graph.initializer}
model = LinearRegression()
model.coef_ = weights["W"][:, 0].astype(np.float64)
model.intercept_ = float(weights["B"][0])
model.n_features_in_ = model.coef_.shape[0]

start = time.perf_counter()
cpu = time.process_time()
df = pd.read_csv(sys.argv[2])
y = df.pop(sys.argv[3]).to_numpy()
p = model.predict(df.to_numpy())
metrics = {"example_count": len(y), "mean_absolute_error": m.mean_absolute_error(y, p), "mean_squared_error": m.mean_squared_error(y, p),
           "root_mean_squared_error": m.mean_squared_error(y, p, squared=False), "sum_on_target": float(np.sum(y)),
           "mean_on_target": float(np.sum(y)) / len(y), "r2_score": m.r2_score(y, p), "max_error": m.max_error(y, p),
           "mean_absolute_percentage_error": m.mean_absolute_percentage_error(y, p)}
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu, "metrics": metrics}))
