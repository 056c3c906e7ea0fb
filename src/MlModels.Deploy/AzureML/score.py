"""Scoring script for Azure ML's inference server (azureml-inference-server-http), written by Export-MLModelAzureML.

init() loads the MLflow model with mlflow.pyfunc; run() takes the request form Azure ML documents for MLflow models,
{"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}, "params": {...}}, or tensors
({"input_data": [[...]]} or {"input_data": {"name": [[...]], ...}}), and returns the predictions as JSON values:
a list for arrays and series, a list of records for data frames.
"""
import json
import os

import numpy as np
import pandas as pd
import mlflow.pyfunc

# The model's folder inside the registered asset (model.yml's path) and beside this script in the exported folder.
MODEL_FOLDER = "model"

model = None


def _model_path():
    here = os.path.dirname(os.path.abspath(__file__))
    roots = [r for r in (os.getenv("AZUREML_MODEL_DIR"), here) if r]
    for root in roots:
        for candidate in (os.path.join(root, MODEL_FOLDER), root):
            if os.path.isfile(os.path.join(candidate, "MLmodel")):
                return candidate
        # Azure ML may mount the asset one level deeper, under the asset's own folder name.
        if os.path.isdir(root):
            for name in sorted(os.listdir(root)):
                if os.path.isfile(os.path.join(root, name, MODEL_FOLDER, "MLmodel")):
                    return os.path.join(root, name, MODEL_FOLDER)
    raise RuntimeError("No MLmodel file under " + ", ".join(roots))


def init():
    global model
    model = mlflow.pyfunc.load_model(_model_path())


def _parse(payload):
    if not isinstance(payload, dict) or "input_data" not in payload:
        raise ValueError('The request must be a JSON object with the key "input_data".')
    data = payload["input_data"]
    if isinstance(data, dict) and "data" in data:
        return pd.DataFrame(data["data"], columns=data.get("columns"), index=data.get("index"))
    if isinstance(data, dict):
        return {name: np.asarray(value) for name, value in data.items()}
    return np.asarray(data)


def _jsonable(predictions):
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, (pd.Series, np.ndarray)):
        return predictions.tolist()
    if isinstance(predictions, dict):
        return {name: _jsonable(value) for name, value in predictions.items()}
    return predictions


def run(raw_data):
    payload = json.loads(raw_data) if isinstance(raw_data, (str, bytes, bytearray)) else raw_data
    params = payload.get("params") if isinstance(payload, dict) else None
    data = _parse(payload)
    predictions = model.predict(data, params=params) if params else model.predict(data)
    return _jsonable(predictions)
