"""MlModels Python worker: loads one MLflow python_function model and scores batches sent over stdin/stdout.

Framing (both ways): 4-byte little-endian header length, a UTF-8 JSON header, then the binary payload the header
describes. Tables travel by column: numeric columns as raw little-endian arrays, other columns as one JSON list.
The protocol owns the real stdout; anything the model prints goes to stderr, which the host shows as verbose output.
"""
import importlib
import inspect
import io
import json
import os
import struct
import sys
import traceback
import types
import warnings

PROTO_IN = sys.stdin.buffer
PROTO_OUT = os.fdopen(os.dup(1), "wb")
try:
    # Larger pipes (Linux: F_SETPIPE_SZ) move a batch in fewer wake-ups; the default 64 KB makes a 4 MB batch ~60 trips.
    import fcntl
    for _fd in (0, PROTO_OUT.fileno()):
        fcntl.fcntl(_fd, 1031, 1 << 20)
except (ImportError, OSError, ValueError):
    pass
os.dup2(2, 1)  # C-level and Python prints from the model go to stderr, never into the protocol
sys.stdout = sys.stderr

NUMERIC = {"float64": "<f8", "float32": "<f4", "int64": "<i8", "int32": "<i4", "int16": "<i2", "int8": "i1",
           "uint8": "u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8", "bool": "?"}


def _warn(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write("MLMODELS-WARNING: %s: %s\n" % (category.__name__, message))
    sys.stderr.flush()


warnings.showwarning = _warn


def read_exact(n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        r = PROTO_IN.readinto(view[got:])
        if not r:
            raise EOFError()
        got += r
    return view


def receive():
    (length,) = struct.unpack("<I", read_exact(4))
    header = json.loads(bytes(read_exact(length)).decode("utf-8"))
    payload = read_exact(header.get("payload", 0)) if header.get("payload", 0) else b""
    return header, payload


def send(header, payload=b""):
    # Marks the end of this request's output on stderr, so the host hands it to the call that caused it.
    sys.stderr.write("\x1emlmodels-reply\n")
    sys.stderr.flush()
    header["payload"] = len(payload)
    data = json.dumps(header, allow_nan=True).encode("utf-8")
    PROTO_OUT.write(struct.pack("<I", len(data)) + data)
    if payload:
        PROTO_OUT.write(payload)
    PROTO_OUT.flush()


# ---- loading -------------------------------------------------------------------------------------------------

class _Context:
    """Stands in for mlflow.pyfunc.PythonModelContext when MLflow is not installed."""

    def __init__(self, artifacts, model_config):
        self.artifacts = artifacts
        self.model_config = model_config or {}


def _install_mlflow_stub():
    """Lets a cloudpickled mlflow.pyfunc.PythonModel unpickle without MLflow: the base class is found by name."""
    if "mlflow" in sys.modules:
        return
    mlflow = types.ModuleType("mlflow")
    pyfunc = types.ModuleType("mlflow.pyfunc")
    model = types.ModuleType("mlflow.pyfunc.model")

    class PythonModel:
        def load_context(self, context):
            pass

    class PythonModelContext(_Context):
        pass

    PythonModel.__module__ = "mlflow.pyfunc.model"
    model.PythonModel = PythonModel
    model.PythonModelContext = PythonModelContext
    pyfunc.PythonModel = PythonModel
    pyfunc.PythonModelContext = PythonModelContext
    pyfunc.model = model
    mlflow.pyfunc = pyfunc
    mlflow.__mlmodels_stub__ = True
    sys.modules.update({"mlflow": mlflow, "mlflow.pyfunc": pyfunc, "mlflow.pyfunc.model": model})


def _accepts(fn, name):
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _Wrapped:
    def __init__(self, predict, estimator=None):
        self._predict = predict
        self.estimator = estimator

    def predict(self, data, params=None):
        return self._predict(data, params)


def _load_sklearn(path, conf, flavors):
    sk = flavors.get("sklearn") or {}
    rel = conf.get("model_path") or conf.get("data") or sk.get("pickled_model")
    fmt = sk.get("serialization_format", "cloudpickle")
    with open(os.path.join(path, rel), "rb") as f:
        if fmt == "cloudpickle":
            import cloudpickle
            model = cloudpickle.load(f)
        elif fmt == "skops":
            import skops.io
            model = skops.io.load(f, trusted=sk.get("skops_trusted_types"))
        else:
            import pickle
            model = pickle.load(f)
    fn = getattr(model, conf.get("predict_fn") or "predict")
    return _Wrapped(lambda data, params: fn(data, **params) if params and _accepts(fn, next(iter(params))) else fn(data), model)


def _load_python_model(path, conf, flavors):
    import cloudpickle
    _install_mlflow_stub()
    rel = conf.get("python_model") or "python_model.pkl"
    with open(os.path.join(path, rel), "rb") as f:
        python_model = cloudpickle.load(f)
    artifacts = {}
    for name, spec in (conf.get("artifacts") or {}).items():
        p = spec.get("path") if isinstance(spec, dict) else spec
        artifacts[name] = os.path.join(path, p)
    context = _Context(artifacts, conf.get("model_config"))
    if hasattr(python_model, "load_context"):
        python_model.load_context(context)
    predict = python_model.predict
    names = [p for p in inspect.signature(predict).parameters]
    takes_context = bool(names) and names[0] == "context"
    takes_params = "params" in names

    def run(data, params):
        args = (context, data) if takes_context else (data,)
        return predict(*args, params=params) if takes_params else predict(*args)

    return _Wrapped(run)


# ---- MLflow's own flavor modules, loaded without MLflow --------------------------------------------------------
# Each does what that module's _load_pyfunc and its pyfunc wrapper's predict do in MLflow 2.12; the MLmodel's
# flavor attributes say what to load. tests/conformance/flavors holds MLflow's recorded answers they are held to.

class LoaderError(Exception):
    """The model cannot be loaded here, for a reason the message names (not a missing pip distribution)."""


def _release(version):
    """(major, minor, patch) of a version string, ignoring local and pre-release parts ("1.13.0a0+dfsg")."""
    import re
    parts = []
    for piece in str(version).split("+")[0].split(".")[:3]:
        m = re.match(r"\d+", piece)
        parts.append(int(m.group(0)) if m else 0)
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


def _warn_version(library, installed, saved):
    """MLflow warns when the library differs from the one the model was saved with; scoring goes on."""
    if saved and installed and str(saved).split("+")[0] != str(installed).split("+")[0]:
        warnings.warn("%s %s is installed; the model was saved with %s %s. Predictions may differ."
                      % (library, installed, library, saved), UserWarning)


# The xgboost release that first reads each model_format (json since 1.0; Universal Binary JSON since 1.6).
XGB_FORMATS = {"xgb": (0, 0, 0), "deprecated": (0, 0, 0), "json": (1, 0, 0), "ubj": (1, 6, 0)}


def check_xgb_format(model_format, version):
    needed = XGB_FORMATS.get(model_format or "xgb")
    if needed is None:
        raise LoaderError("Unknown xgboost model_format %r (known: %s)." % (model_format, ", ".join(sorted(XGB_FORMATS))))
    if _release(version) < needed:
        raise LoaderError("The model is saved in xgboost's %r format, which needs xgboost %s or later; this Python has "
                          "xgboost %s. Install a newer xgboost (the model pins its version in requirements.txt)."
                          % (model_format, ".".join(map(str, needed)), version))


def _class_from_string(name):
    module, _, cls = name.rpartition(".")
    return getattr(importlib.import_module(module), cls)


class _XGBWrapper:
    def __init__(self, model):
        self.xgb_model = model

    def predict(self, data, params=None):
        import xgboost as xgb
        # A native Booster predicts from a DMatrix; the sklearn-API classes take the frame itself. Params are not passed.
        if isinstance(self.xgb_model, xgb.Booster):
            return self.xgb_model.predict(xgb.DMatrix(data))
        return self.xgb_model.predict(data)


def _load_xgboost(path, conf, flavors):
    import xgboost
    xc = flavors.get("xgboost") or {}
    check_xgb_format(xc.get("model_format"), xgboost.__version__)
    _warn_version("xgboost", xgboost.__version__, xc.get("xgb_version"))
    # MLflow before 1.22 wrote no model_class: those models are native Boosters.
    model = _class_from_string(xc.get("model_class") or "xgboost.core.Booster")()
    model.load_model(os.path.join(path, xc.get("data") or conf.get("data")))
    return _XGBWrapper(model)


def _install_pickle_module_stub():
    """mlflow.pytorch.pickle_module without MLflow: cloudpickle's names with pickle's Unpickler, as torch.load needs."""
    if "mlflow.pytorch.pickle_module" in sys.modules:
        return
    import pickle
    import cloudpickle
    _install_mlflow_stub()
    pytorch = sys.modules.get("mlflow.pytorch") or types.ModuleType("mlflow.pytorch")
    pm = types.ModuleType("mlflow.pytorch.pickle_module")
    for name in dir(cloudpickle):
        if not name.startswith("_"):
            setattr(pm, name, getattr(cloudpickle, name))
    pm.Unpickler = pickle.Unpickler
    pm.load, pm.loads = pickle.load, pickle.loads
    pytorch.pickle_module = pm
    sys.modules["mlflow"].pytorch = pytorch
    sys.modules.update({"mlflow.pytorch": pytorch, "mlflow.pytorch.pickle_module": pm})


class _TorchWrapper:
    def __init__(self, model, device):
        self.pytorch_model = model
        self.device = device

    def predict(self, data, params=None):
        import numpy as np
        import pandas as pd
        import torch
        if isinstance(data, pd.DataFrame):
            inp = data.values.astype(np.float32)
        elif isinstance(data, np.ndarray):
            inp = data
        elif isinstance(data, (list, dict)):
            raise TypeError("The PyTorch flavor does not support List or Dict input types. "
                            "Please use a pandas.DataFrame or a numpy.ndarray")
        else:
            raise TypeError("Input data should be pandas.DataFrame or numpy.ndarray")
        with torch.no_grad():
            preds = self.pytorch_model(torch.from_numpy(inp).to(self.device), **(params or {}))
            if self.device != "cpu":
                preds = preds.to("cpu")
            if not isinstance(preds, torch.Tensor):
                raise TypeError("Expected PyTorch model to output a single output tensor, but got output of type '%s'"
                                % type(preds))
            if isinstance(data, pd.DataFrame):
                out = pd.DataFrame(preds.numpy())
                out.index = data.index
                return out
            return preds.numpy()


def _load_pytorch(path, conf, flavors):
    import torch
    tc = flavors.get("pytorch") or {}
    _warn_version("torch", torch.__version__, tc.get("pytorch_version"))
    device = (conf.get("config") or {}).get("device")
    if device is None:
        device = os.environ.get("MLFLOW_DEFAULT_PREDICTION_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    data = os.path.join(path, conf.get("data") or tc.get("model_data") or "data")
    kwargs = {"map_location": device}
    if os.path.isdir(data):
        info = os.path.join(data, "pickle_module_info.txt")
        name = open(info).read().strip() if os.path.exists(info) else "mlflow.pytorch.pickle_module"
        if name == "mlflow.pytorch.pickle_module" and getattr(sys.modules.get("mlflow"), "__mlmodels_stub__", True):
            _install_pickle_module_stub()
        kwargs["pickle_module"] = importlib.import_module(name)
        data = os.path.join(data, "model.pth")
    try:
        model = torch.load(data, **kwargs)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in ("torch", "cloudpickle", "numpy"):
            raise
        raise LoaderError("The pickled PyTorch model refers to the Python module %r, which is not importable. Ship the "
                          "code that defines the model with the model (log_model(..., code_paths=[...]); it goes to "
                          "the model's code folder, which the worker puts first on sys.path) or install it into this "
                          "Python." % e.name)
    if isinstance(model, dict):
        raise LoaderError("%s holds a state dict, not a model: MLflow's python_function cannot score it either. Save the "
                          "nn.Module itself with mlflow.pytorch.save_model." % data)
    return _TorchWrapper(model, device)


class _StatsmodelsWrapper:
    def __init__(self, results):
        self.statsmodels_model = results

    def predict(self, dataframe, params=None):
        from statsmodels.tsa.base.tsa_model import TimeSeriesModel
        if isinstance(self.statsmodels_model.model, TimeSeriesModel):
            # MLflow's convention for time series: one row with the start and end of the forecast.
            if dataframe.shape[0] != 1 or not ("start" in dataframe.columns and "end" in dataframe.columns):
                raise ValueError("prediction dataframes for a TimeSeriesModel must have exactly one row and include "
                                 "columns called start and end")
            return self.statsmodels_model.predict(start=dataframe["start"][0], end=dataframe["end"][0])
        return self.statsmodels_model.predict(dataframe)


def _load_statsmodels(path, conf, flavors):
    import statsmodels
    import statsmodels.iolib.api as smio
    sc = flavors.get("statsmodels") or {}
    _warn_version("statsmodels", statsmodels.__version__, sc.get("statsmodels_version"))
    return _StatsmodelsWrapper(smio.load_pickle(os.path.join(path, conf.get("data") or sc.get("data"))))


BUILTIN = {"mlflow.sklearn": _load_sklearn, "mlflow.pyfunc.model": _load_python_model,
           "mlflow.xgboost": _load_xgboost, "mlflow.pytorch": _load_pytorch, "mlflow.statsmodels": _load_statsmodels}


# The raw scikit-learn estimator of an mlflow.sklearn model, for predict_proba (MLflow's evaluator takes class
# probabilities from the raw model, never through pyfunc); None for other loaders.
ESTIMATOR = {}


def load(path, conf, flavors, mlflow_can_load=True):
    ESTIMATOR.clear()
    code = conf.get("code")
    if code:
        sys.path.insert(0, os.path.join(path, code))
    try:
        import mlflow.pyfunc  # noqa: F401 - full fidelity when MLflow is installed
        if mlflow_can_load and not getattr(sys.modules.get("mlflow"), "__mlmodels_stub__", False):
            model = mlflow.pyfunc.load_model(path)
            if conf.get("loader_module") == "mlflow.sklearn":
                raw = getattr(model, "_model_impl", None)
                ESTIMATOR["model"] = getattr(raw, "sklearn_model", raw)
            return (lambda data, params: model.predict(data, params=params) if params else model.predict(data)), "mlflow"
    except ImportError:
        pass
    loader = conf.get("loader_module") or conf.get("main")
    if loader in BUILTIN:
        wrapped = BUILTIN[loader](path, conf, flavors)
        if loader == "mlflow.sklearn":
            ESTIMATOR["model"] = wrapped.estimator
        return wrapped.predict, "builtin:" + loader
    data = conf.get("data") or conf.get("model_path")
    module = importlib.import_module(loader)
    # MLflow's first pyfunc layout named the model module's function load_pyfunc; later ones _load_pyfunc.
    load_pyfunc = getattr(module, "_load_pyfunc", None) or module.load_pyfunc
    model = load_pyfunc(os.path.join(path, data) if data else path)
    fn = getattr(model, "predict")
    return (lambda d, params: fn(d, params=params) if params and _accepts(fn, "params") else fn(d)), "loader:" + loader


# ---- data ----------------------------------------------------------------------------------------------------
#
# Inputs and results travel as a tree of nodes in the header; each leaf names the bytes it takes from the payload,
# in order. Numeric arrays are raw little-endian bytes; other values are JSON.
#   frame  {"kind": "frame", "rows", "columns": [{"name", "dtype", "nbytes"}], "positional"}
#   ndarray{"kind": "ndarray", "dtype", "shape", "nbytes"}
#   series {"kind": "series", "name", "dtype", "nbytes"}      (results only)
#   dict   {"kind": "dict", "items": [{"key", "value": node}]}
#   json   {"kind": "json", "nbytes", "form"}                  (inputs: numpy's reading of a request value, as MLflow's)


class InputError(Exception):
    """The input could not be turned into what the model takes (MLflow answers BAD_REQUEST)."""


class _Reader:
    def __init__(self, payload):
        self.payload = payload
        self.offset = 0

    def take(self, n):
        blob = self.payload[self.offset:self.offset + n]
        self.offset += n
        return blob


def _array(node, blob):
    import numpy as np
    dtype = node["dtype"]
    if dtype in NUMERIC:
        values = np.frombuffer(blob, dtype=NUMERIC[dtype])  # a view of the request buffer, no copy
    else:
        values = np.array(json.loads(bytes(blob).decode("utf-8")), dtype=object)
        if dtype == "datetime64[ns]":
            values = values.astype("datetime64[ns]")
        elif dtype == "str":
            values = values.astype(str)
    shape = node.get("shape")
    return values.reshape(shape) if shape is not None else values


def _request_value(value, form):
    """What MLflow's parse_tf_serving_input makes of a request value for a model without a signature."""
    import numpy as np
    try:
        if form == "unified":
            return value
        if isinstance(value, dict):
            return {k: np.array(v) for k, v in value.items()}
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            return [{k: np.array(v) for k, v in x.items()} for x in value]
        return np.array(value)
    except Exception as e:  # noqa: BLE001 - numpy refuses ragged or mixed data
        raise InputError("Invalid input. %s" % e)


def decode(node, reader):
    import pandas as pd
    kind = node["kind"]
    if kind == "frame":
        cols = {}
        for i, c in enumerate(node["columns"]):
            cols[i if node.get("positional") else c["name"]] = _array(c, reader.take(c["nbytes"]))
        names = list(cols.keys())
        if not names:
            return pd.DataFrame(index=range(node.get("rows", 0)))
        return pd.DataFrame(cols, columns=names)
    if kind == "ndarray":
        return _array(node, reader.take(node["nbytes"]))
    if kind == "dict":
        return {item["key"]: decode(item["value"], reader) for item in node["items"]}
    if kind == "json":
        return _request_value(json.loads(bytes(reader.take(node["nbytes"])).decode("utf-8")), node.get("form"))
    raise InputError("unknown input kind %r" % kind)


def _raw(values):
    """(dtype name, bytes) for a numeric array, else None."""
    import numpy as np
    dt = str(values.dtype)
    if dt in NUMERIC:
        return dt, np.ascontiguousarray(values).astype(NUMERIC[dt], copy=False).tobytes()
    return None


def _values(values, blobs):
    raw = _raw(values)
    if raw:
        blobs.append(raw[1])
        return {"dtype": raw[0], "nbytes": len(raw[1])}
    blob = json.dumps(_plain(values.tolist()), allow_nan=True).encode("utf-8")
    blobs.append(blob)
    return {"dtype": "object", "nbytes": len(blob)}


def encode(result, blobs):
    """A node describing the model's result, keeping its kind and names; its bytes go to blobs."""
    import numpy as np
    import pandas as pd
    if isinstance(result, pd.DataFrame):
        columns = []
        for i, name in enumerate(result.columns):
            col = _values(result.iloc[:, i].to_numpy(), blobs)
            col["name"] = name if isinstance(name, str) else _key(name)
            columns.append(col)
        return {"kind": "dataframe", "rows": len(result), "columns": columns}
    if isinstance(result, pd.Series):
        node = _values(result.to_numpy(), blobs)
        node.update({"kind": "series", "name": None if result.name is None else _key(result.name)})
        return node
    if isinstance(result, np.ndarray):
        node = _values(result.reshape(-1), blobs)
        node.update({"kind": "ndarray", "shape": list(result.shape)})
        return node
    if isinstance(result, dict):
        return {"kind": "dict", "items": [{"key": _key(k), "value": encode(v, blobs)} for k, v in result.items()]}
    blob = json.dumps(_plain(result), allow_nan=True).encode("utf-8")
    blobs.append(blob)
    return {"kind": "json", "nbytes": len(blob)}


def _key(k):
    """A dict key as json.dump writes it (1 -> "1", True -> "true")."""
    if isinstance(k, str):
        return k
    try:
        return json.dumps({k: 0})[2:-5]
    except TypeError:
        return str(k)


def _plain(v):
    import numpy as np
    import pandas as pd
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.DataFrame):
        return _plain(v.to_dict(orient="records"))
    if isinstance(v, pd.Series):
        return _plain(pd.DataFrame(v).to_dict(orient="records"))
    if isinstance(v, dict):
        return {_key(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def probabilities(data):
    """(float64 array, classes) of predict_proba on the raw estimator, or (None, reason) when there is none."""
    import numpy as np
    model = ESTIMATOR.get("model")
    if model is None:
        return None, "the model is not an mlflow.sklearn model, so its class probabilities are not known"
    fn = getattr(model, "predict_proba", None)
    if fn is None:
        return None, "the model (%s) has no predict_proba" % type(model).__name__
    try:
        import xgboost
        if isinstance(model, xgboost.XGBModel):
            # MLflow's evaluator passes validate_features=False to xgboost's sklearn API as well.
            return np.asarray(fn(data, validate_features=False), dtype="float64"), _plain(list(getattr(model, "classes_", [])))
    except ImportError:
        pass
    classes = getattr(model, "classes_", None)
    if classes is None and hasattr(model, "steps"):
        classes = getattr(model.steps[-1][1], "classes_", None)
    return np.asarray(fn(data), dtype="float64"), _plain(list(classes) if classes is not None else [])


def _failure(e, stage):
    return {"ok": False, "error": str(e), "type": type(e).__name__, "module": getattr(e, "name", None),
            "traceback": traceback.format_exc(), "stage": stage}


def main():
    predict = None
    while True:
        try:
            header, payload = receive()
        except EOFError:
            return
        op = header.get("op")
        stage = op
        try:
            if op == "load":
                predict, how = load(header["path"], header["conf"], header.get("flavors") or {}, header.get("mlflow", True))
                import platform
                send({"ok": True, "how": how, "python": platform.python_version()})
            elif op == "predict":
                stage = "input"
                data = decode(header["input"], _Reader(payload))
                stage = "predict"
                result = predict(data, header.get("params") or None)
                stage = "output"
                blobs = []
                reply = {"ok": True, "result": encode(result, blobs)}
                if header.get("proba"):
                    stage = "probabilities"
                    values, classes = probabilities(data)
                    if values is None:
                        reply["proba_missing"] = classes
                    else:
                        reply["proba"] = encode(values, blobs)
                        reply["classes"] = classes
                send(reply, b"".join(blobs))
            elif op == "ping":
                send({"ok": True})
            else:
                send({"ok": False, "error": "unknown op %r" % op, "type": "ProtocolError", "stage": "protocol"})
        except Exception as e:  # noqa: BLE001 - every failure goes back to the host as a message
            send(_failure(e, stage))


if __name__ == "__main__":
    main()
