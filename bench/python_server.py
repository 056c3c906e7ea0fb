#!/usr/bin/python3
# The Python side of the server benchmark: MLflow's serving stack (FastAPI + uvicorn + pandas), scoring the same
# ONNX model's weights in numpy (Debian has no onnxruntime for Python).
# Usage: /usr/bin/python3 bench/python_server.py <model.onnx> <port>
import sys

import numpy as np
import onnx
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from onnx import numpy_helper

weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(sys.argv[1]).graph.initializer}
app = FastAPI()


@app.get("/ping")
def ping():
    return "\n"


@app.post("/invocations")
async def invocations(request: Request):
    body = await request.json()
    split = body["dataframe_split"]
    df = pd.DataFrame(split["data"], columns=split["columns"])
    x = df.to_numpy(dtype=np.float32)
    if "W1" in weights:
        h = np.maximum(x @ weights["W1"] + weights["B1"], 0)
        h = np.maximum(h @ weights["W2"] + weights["B2"], 0)
        y = h @ weights["W3"] + weights["B3"]
    else:
        y = x @ weights["W"] + weights["B"]
    out = pd.DataFrame({"output": y.reshape(-1)})
    return JSONResponse({"predictions": out.to_dict(orient="records")})


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
