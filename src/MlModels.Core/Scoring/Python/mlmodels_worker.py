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

def decode_frame(header, payload):
    import numpy as np
    import pandas as pd
    cols, offset = {}, 0
    for c in header["columns"]:
        blob = payload[offset:offset + c["nbytes"]]
        offset += c["nbytes"]
        if c["dtype"] in NUMERIC:
            values = np.frombuffer(blob, dtype=NUMERIC[c["dtype"]])  # a view of the request buffer, no copy
        else:
            values = json.loads(bytes(blob).decode("utf-8"))
            if c["dtype"] == "datetime64[ns]":
                values = pd.to_datetime(values)
        if c.get("missing"):
            values = pd.Series(values, dtype=object)
            values[c["missing"]] = None
        cols[c["name"]] = values
    return pd.DataFrame(cols, columns=[c["name"] for c in header["columns"]])


def encode_result(result):
    import numpy as np
    import pandas as pd
    if isinstance(result, pd.Series):
        result = result.to_frame(name=0)  # one unnamed prediction column, whatever the series was called
    if isinstance(result, np.ndarray) and result.ndim in (1, 2) and result.dtype.kind in "fiub":
        arr = result.reshape(len(result), -1) if result.ndim == 2 else result.reshape(-1, 1)
        if result.ndim == 1:
            result = pd.DataFrame({0: result})
        else:
            result = pd.DataFrame(arr)
    if isinstance(result, list) and result and all(isinstance(x, (int, float, bool, str)) for x in result):
        result = pd.DataFrame({0: result})
    if isinstance(result, pd.DataFrame):
        columns, blobs = [], []
        for name in result.columns:
            s = result[name]
            dt = str(s.dtype)
            if dt in NUMERIC:
                blob = np.ascontiguousarray(s.to_numpy()).astype(NUMERIC[dt], copy=False).tobytes()
            else:
                dt = "object"
                blob = json.dumps([_plain(v) for v in s.tolist()], allow_nan=True).encode("utf-8")
            columns.append({"name": str(name), "dtype": dt, "nbytes": len(blob)})
            blobs.append(blob)
        return {"kind": "frame", "rows": len(result), "columns": columns}, b"".join(blobs)
    return {"kind": "json"}, json.dumps(_plain(result), allow_nan=True).encode("utf-8")


def _plain(v):
    import numpy as np
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.generic,)):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def decode_json_input(payload):
    import numpy as np
    data = json.loads(payload.decode("utf-8"))
    if isinstance(data, dict):
        return {k: np.array(v) for k, v in data.items()}
    return np.array(data)


def main():
    predict = None
    while True:
        try:
            header, payload = receive()
        except EOFError:
            return
        op = header.get("op")
        try:
            if op == "load":
                predict, how = load(header["path"], header["conf"], header.get("flavors") or {}, header.get("mlflow", True))
                import platform
                send({"ok": True, "how": how, "python": platform.python_version()})
            elif op == "predict":
                data = decode_frame(header, payload) if header.get("input") == "frame" else decode_json_input(payload)
                result = predict(data, header.get("params") or None)
                out, blob = encode_result(result)
                out["ok"] = True
                send(out, blob)
            elif op == "ping":
                send({"ok": True})
            else:
                send({"ok": False, "error": "unknown op %r" % op, "type": "ProtocolError"})
        except Exception as e:  # noqa: BLE001 - every failure goes back to the host as a message
            send({"ok": False, "error": str(e), "type": type(e).__name__, "module": getattr(e, "name", None),
                  "traceback": traceback.format_exc()})


if __name__ == "__main__":
    main()
