"""The model module of MLflow's first pyfunc layout: load_pyfunc(data_path) returns an object with predict()."""
import json


class LinearModel:
    def __init__(self, weights, bias):
        self.weights = weights
        self.bias = bias

    def predict(self, df):
        cols = list(self.weights)
        return [self.bias + sum(self.weights[c] * float(row[c]) for c in cols) for _, row in df[cols].iterrows()]


def load_pyfunc(data_path):
    with open(data_path) as f:
        spec = json.load(f)
    return LinearModel(spec["weights"], spec["bias"])
