#!/usr/bin/python3
# The Python side of the whole-command benchmark: what `mlflow models predict -m DIR -i in.csv -t csv -o out.json`
# does for an sklearn model, without MLflow (not installable here): start Python, import pandas and scikit-learn,
# read the MLmodel, load the pickle, read the CSV, convert the columns as the signature says, predict, write MLflow's JSON.
# Usage: /usr/bin/python3 bench/python_predict_cli.py <model-dir> <in.csv> <out.json>; time the whole process.
import json
import os
import pickle
import sys

import pandas as pd
import sklearn  # noqa: F401  (mlflow.sklearn imports it before unpickling)
import yaml

model_dir, src, dst = sys.argv[1:4]
with open(os.path.join(model_dir, "MLmodel")) as f:
    meta = yaml.safe_load(f)
with open(os.path.join(model_dir, meta["flavors"]["python_function"]["model_path"]), "rb") as f:
    model = pickle.load(f)
df = pd.read_csv(src)
columns = json.loads(meta["signature"]["inputs"])
df = df[[c["name"] for c in columns]].astype({c["name"]: "float64" for c in columns})
with open(dst, "w") as f:
    json.dump({"predictions": model.predict(df).tolist()}, f)
