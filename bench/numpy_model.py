"""The benchmark's ONNX models (bench/make_models.py) evaluated in numpy, for the Python baselines."""
import numpy as np
import onnx
from onnx import numpy_helper


def load_weights(model_path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(model_path).graph.initializer}


def predict(weights, x):
    if "W1" in weights:
        h = np.maximum(x @ weights["W1"] + weights["B1"], 0)
        h = np.maximum(h @ weights["W2"] + weights["B2"], 0)
        return h @ weights["W3"] + weights["B3"]
    return x @ weights["W"] + weights["B"]
