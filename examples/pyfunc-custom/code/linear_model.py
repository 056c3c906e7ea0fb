"""A loader module in the early pyfunc layout: _load_pyfunc(data_path) returns an object with predict()."""
import json
import os


class LinearModel:
    def __init__(self, weights, bias):
        self.weights = weights
        self.bias = bias

    def predict(self, df):
        cols = list(self.weights)
        return [self.bias + sum(self.weights[c] * float(row[c]) for c in cols) for _, row in df[cols].iterrows()]


def _load_pyfunc(data_path):
    with open(os.path.join(data_path, "weights.json")) as f:
        spec = json.load(f)
    return LinearModel(spec["weights"], spec["bias"])
