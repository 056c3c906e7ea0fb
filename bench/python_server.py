#!/usr/bin/python3
# The Python side of the server benchmark: MLflow's serving stack (FastAPI + uvicorn + pandas), scoring the same
# ONNX model's weights in numpy (Debian has no onnxruntime for Python).
# Usage: /usr/bin/python3 bench/python_server.py <model.onnx> <port>
import sys

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from numpy_model import load_weights, predict

weights = load_weights(sys.argv[1])
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
    y = predict(weights, x)
    out = pd.DataFrame({"output": y.reshape(-1)})
    return JSONResponse({"predictions": out.to_dict(orient="records")})


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
