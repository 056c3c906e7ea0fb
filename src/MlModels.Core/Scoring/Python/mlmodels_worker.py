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
    def __init__(self, predict):
        self._predict = predict

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
    return _Wrapped(lambda data, params: fn(data, **params) if params and _accepts(fn, next(iter(params))) else fn(data))


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


BUILTIN = {"mlflow.sklearn": _load_sklearn, "mlflow.pyfunc.model": _load_python_model}


def load(path, conf, flavors, mlflow_can_load=True):
    code = conf.get("code")
    if code:
        sys.path.insert(0, os.path.join(path, code))
    try:
        import mlflow.pyfunc  # noqa: F401 - full fidelity when MLflow is installed
        if mlflow_can_load and not getattr(sys.modules.get("mlflow"), "__mlmodels_stub__", False):
            model = mlflow.pyfunc.load_model(path)
            return (lambda data, params: model.predict(data, params=params) if params else model.predict(data)), "mlflow"
    except ImportError:
        pass
    loader = conf.get("loader_module") or conf.get("main")
    if loader in BUILTIN:
        return BUILTIN[loader](path, conf, flavors).predict, "builtin:" + loader
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
                node = encode(result, blobs)
                send({"ok": True, "result": node}, b"".join(blobs))
            elif op == "ping":
                send({"ok": True})
            else:
                send({"ok": False, "error": "unknown op %r" % op, "type": "ProtocolError", "stage": "protocol"})
        except Exception as e:  # noqa: BLE001 - every failure goes back to the host as a message
            send(_failure(e, stage))


if __name__ == "__main__":
    main()
