#!/usr/bin/python3
# Usage: /usr/bin/python3 bench/make_sklearn_model.py <model-dir> [linear|forest]: a LinearRegression or a
# RandomForestRegressor (50 trees, depth 8) on f0..f9, in MLflow's layout (pickle).
import os
import platform
import pickle
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(1)
X = pd.DataFrame(rng.normal(size=(1000, 10)), columns=["f%d" % i for i in range(10)])
target = X.to_numpy() @ rng.normal(size=10)
kind = sys.argv[2] if len(sys.argv) > 2 else "linear"
model = (RandomForestRegressor(n_estimators=50, max_depth=8, random_state=0) if kind == "forest" else LinearRegression()).fit(X, target)
with open(os.path.join(d, "model.pkl"), "wb") as f:
    pickle.dump(model, f)
cols = ", ".join('{"type": "double", "name": "f%d", "required": true}' % i for i in range(10))
with open(os.path.join(d, "MLmodel"), "w") as f:
    f.write("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    predict_fn: predict\n"
            "    python_version: %s\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"
            "signature:\n  inputs: '[%s]'\n" % (platform.python_version(), cols))
