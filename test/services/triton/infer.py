"""tritonclient[http] against Vitals: metadata, then the same rows inferred as JSON and as binary tensors.

    python infer.py <host:port> <model> <rows.json> [<image model> <images.json>]      # prints one JSON line

With an image model: its input tensor (images.json, [n, c, h, w]) too, as JSON and as binary.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient

url, model, rows_file = sys.argv[1], sys.argv[2], sys.argv[3]
rows = np.array(json.load(open(rows_file)), dtype=np.float32)
client = httpclient.InferenceServerClient(url=url)
meta = client.get_model_metadata(model)
name = meta["inputs"][0]["name"]
out = {"live": client.is_server_live(), "ready": client.is_model_ready(model), "inputs": meta["inputs"], "outputs": [o["name"] for o in meta["outputs"]]}
for binary in (False, True):
    inp = httpclient.InferInput(name, list(rows.shape), "FP32")
    inp.set_data_from_numpy(rows, binary_data=binary)
    res = client.infer(model, [inp], outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=binary)])
    out["binary" if binary else "json"] = res.as_numpy("probabilities").tolist()
if len(sys.argv) > 5:
    image_model, images = sys.argv[4], np.array(json.load(open(sys.argv[5])), dtype=np.float32)
    image_meta = client.get_model_metadata(image_model)
    out["image"] = {}
    for binary in (False, True):
        inp = httpclient.InferInput(image_meta["inputs"][0]["name"], list(images.shape), "FP32")
        inp.set_data_from_numpy(images, binary_data=binary)
        output = image_meta["outputs"][0]["name"]
        res = client.infer(image_model, [inp], outputs=[httpclient.InferRequestedOutput(output, binary_data=binary)])
        out["image"]["binary" if binary else "json"] = res.as_numpy(output).tolist()
cfg = client.get_model_config(model)
out["config"] = {"name": cfg["name"], "platform": cfg["platform"], "max_batch_size": cfg["max_batch_size"], "dims": cfg["input"][0]["dims"]}
stats = client.get_inference_statistics(model)["model_stats"][0]
out["stats"] = {"inference_count": stats["inference_count"], "success": stats["inference_stats"]["success"]["count"]}
client.unload_model(model)
out["index_after_unload"] = [m["name"] for m in client.get_model_repository_index() if m.get("state") == "READY"]
client.load_model(model)
out["index_after_load"] = [m["name"] for m in client.get_model_repository_index() if m.get("state") == "READY"]
out["ready_after_load"] = client.is_model_ready(model)
try:
    client.get_model_metadata("no-such-model")
    out["missing"] = None
except Exception as e:  # InferenceServerException
    out["missing"] = str(e)
print(json.dumps(out))
