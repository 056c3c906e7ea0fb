#!/usr/bin/python3
# Usage: /usr/bin/python3 bench/python_flavor_limit.py <xgb|torch> <model-dir> <in.csv> <batch>
# The limit for the flavors benchmark: the predict MLflow's xgboost / pytorch pyfunc wrapper runs, on the same rows
# already in memory in Python (a float64 DataFrame). Prints the wall and CPU seconds of one call on all the rows, then
# the wall seconds of the same rows in slices of <batch> (the worker's batching, with no transfer).
import os
import sys
import time

import numpy as np
import pandas as pd

kind, model_dir, src, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == "xgb":
    import xgboost
    model = xgboost.XGBRegressor()
    model.load_model(os.path.join(model_dir, "model.xgb"))
    predict = model.predict
else:
    import torch
    model = torch.load(os.path.join(model_dir, "data", "model.pth"))

    def predict(df):
        # mlflow.pytorch's _PyTorchWrapper.predict for a DataFrame on the CPU.
        with torch.no_grad():
            preds = model(torch.from_numpy(df.values.astype(np.float32)))
        return pd.DataFrame(preds.numpy(), index=df.index)

df = pd.read_csv(src).astype("float64")
predict(df.head(10))
start, cpu = time.perf_counter(), time.process_time()
predict(df)
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
start = time.perf_counter()
for i in range(0, len(df), batch):
    predict(df.iloc[i:i + batch])
print(wall, cpu, time.perf_counter() - start)
