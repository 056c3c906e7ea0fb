#!/usr/bin/python3
# Usage: /usr/bin/python3 bench/make_flavor_models.py <out-dir>: writes <out-dir>/model-xgb (XGBRegressor, 50 trees,
# depth 6) and <out-dir>/model-torch (Linear(10,64), ReLU, Linear(64,1), eval mode), both on f0..f9 (double), in the
# layout MLflow 2.12's xgboost and pytorch flavors write (see tests/conformance/flavors/models), without MLflow.
import os
import platform
import sys

import cloudpickle
import numpy as np
import pandas as pd
import torch
import xgboost

out = sys.argv[1]
rng = np.random.default_rng(3)
X = pd.DataFrame(rng.normal(size=(5000, 10)), columns=["f%d" % i for i in range(10)])
y = np.sin(X["f0"]) + X["f1"] * X["f2"] + X.to_numpy() @ rng.normal(size=10)
# The signature MLflow infers from such a frame: it is what makes the module send float64 columns.
cols = ", ".join('{"type": "double", "name": "f%d", "required": true}' % i for i in range(10))


def write_mlmodel(d, flavors, output):
    with open(os.path.join(d, "MLmodel"), "w") as f:
        f.write("flavors:\n%smlflow_version: 2.12.2\nsignature:\n  inputs: '[%s]'\n  outputs: '[%s]'\n  params: null\n"
                % (flavors, cols, output))


d = os.path.join(out, "model-xgb")
os.makedirs(d, exist_ok=True)
model = xgboost.XGBRegressor(n_estimators=50, max_depth=6, random_state=0).fit(X, y)
model.save_model(os.path.join(d, "model.xgb"))  # what mlflow.xgboost.save_model calls for model_format "xgb"
write_mlmodel(d, "  python_function:\n    data: model.xgb\n    loader_module: mlflow.xgboost\n    python_version: %s\n"
                 "  xgboost:\n    code: null\n    data: model.xgb\n    model_class: xgboost.sklearn.XGBRegressor\n"
                 "    model_format: xgb\n    xgb_version: %s\n" % (platform.python_version(), xgboost.__version__),
              '{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}')

d = os.path.join(out, "model-torch")
os.makedirs(os.path.join(d, "data"), exist_ok=True)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)).eval()
# mlflow.pytorch.save_model: the whole module, pickled with cloudpickle, and the pickle module's name beside it.
torch.save(net, os.path.join(d, "data", "model.pth"), pickle_module=cloudpickle)
with open(os.path.join(d, "data", "pickle_module_info.txt"), "w") as f:
    f.write("mlflow.pytorch.pickle_module")
write_mlmodel(d, "  python_function:\n    config:\n      device: null\n    data: data\n    loader_module: mlflow.pytorch\n"
                 "    pickle_module_name: mlflow.pytorch.pickle_module\n    python_version: %s\n"
                 "  pytorch:\n    code: null\n    model_data: data\n    pytorch_version: %s\n"
                 % (platform.python_version(), torch.__version__),
              '{"type": "float", "name": 0, "required": true}')
