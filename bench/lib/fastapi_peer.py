"""The FastAPI + onnxruntime peer of bench/serving.mjs: what a plain Python model server does for one
tabular prediction. One route, the same path and body as Vitals: parse the JSON, a float32 row in the
model's feature order, one onnxruntime session.run (1 intra-op thread per worker), the probabilities.
Run by bench/lib/fastapi-peer.mjs:  uvicorn fastapi_peer:app --workers N  with PEER_ONNX and PEER_FEATURES.
"""
import json
import os

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, HTTPException, Request

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
session = ort.InferenceSession(os.environ["PEER_ONNX"], options, providers=["CPUExecutionProvider"])
features = json.loads(os.environ["PEER_FEATURES"])
input_name = os.environ.get("PEER_INPUT", "input")
output_name = os.environ.get("PEER_OUTPUT", "probabilities")

app = FastAPI()


@app.post("/api/v1/ml-models/predict")
async def predict(request: Request):
    body = await request.json()
    row = body.get("features") if isinstance(body, dict) else None
    if not isinstance(row, dict):
        raise HTTPException(status_code=400, detail="features missing")
    x = np.array([[float(row[f]) for f in features]], dtype=np.float32)
    (out,) = session.run([output_name], {input_name: x})
    return {"probabilities": out[0].tolist()}
