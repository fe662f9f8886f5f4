"""The FastAPI + Pillow + numpy + onnxruntime peer of bench/image-serving.mjs: what a plain Python
model server does for an image. The same routes and bodies as Vitals: `/predict` (multipart field
`file`) and `/predict/batch` (JSON {"images": [base64, ...]}). Preprocessing as Vitals' encodeImage
(src/serving/image-input.ts): decode, resize to the spec's size ignoring the aspect ratio with a
Lanczos-3 filter (Pillow's LANCZOS; sharp's default kernel is libvips' lanczos3: the two differ by
a grey level here and there), grey replicated to 3 channels, pixels / 255, (x - mean) / std, NCHW.
One onnxruntime session per worker, 1 intra-op thread. Run by bench/lib/fastapi-peer.mjs:
uvicorn fastapi_image_peer:app --workers N  with PEER_ONNX, PEER_IMAGE_SPEC and PEER_LABELS.
"""
import base64
import io
import json
import os

import numpy as np
import onnxruntime as ort
from fastapi import Body, FastAPI, File, HTTPException, UploadFile
from PIL import Image

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
session = ort.InferenceSession(os.environ["PEER_ONNX"], options, providers=["CPUExecutionProvider"])
spec = json.loads(os.environ["PEER_IMAGE_SPEC"])
labels = json.loads(os.environ["PEER_LABELS"])
W, H, C = spec["width"], spec["height"], spec["channels"]
mean = np.array(spec["mean"], dtype=np.float32).reshape(-1, 1, 1)
std = np.array(spec["std"], dtype=np.float32).reshape(-1, 1, 1)
input_name = session.get_inputs()[0].name
output_name = session.get_outputs()[0].name

app = FastAPI()


def preprocess(data: bytes) -> np.ndarray:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as err:
        raise HTTPException(status_code=400, detail=f"could not decode the image ({err})")
    # Resize in the image's own mode (one band for a grey radiograph), then to the model's channels.
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB" if C == 3 else "L")
    img = img.resize((W, H), Image.Resampling.LANCZOS)
    x = np.asarray(img, dtype=np.float32) * (1 / 255)
    x = x[None] if x.ndim == 2 else x.transpose(2, 0, 1)
    if x.shape[0] != C:
        x = np.repeat(x, C, axis=0) if x.shape[0] == 1 else x.mean(axis=0, keepdims=True)
    return (x - mean) / std


def answer(probs: np.ndarray) -> dict:
    k = int(np.argmax(probs))
    return {"prediction": labels[k], "confidence": float(probs[k]), "probabilities": dict(zip(labels, probs.tolist()))}


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/predict")
async def predict(file: UploadFile = File(...)):
    x = preprocess(await file.read())[None]
    (out,) = session.run([output_name], {input_name: x})
    return answer(out[0])


@app.post("/predict/batch")
async def predict_batch(body: dict = Body(...)):
    images = body.get("images")
    if not isinstance(images, list) or not images:
        raise HTTPException(status_code=400, detail="images missing")
    x = np.stack([preprocess(base64.b64decode(s)) for s in images])
    (out,) = session.run([output_name], {input_name: x})
    return {"batch_size": len(images), "predictions": [answer(p) for p in out]}
