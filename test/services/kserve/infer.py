"""KServe's InferenceRESTClient (the `kserve` package, V2 protocol) against Vitals: health, then each
model's tensor inferred as JSON, as binary in with JSON out, and binary both ways.

    python infer.py <base url> <cases.json>      # prints one JSON line

cases.json: [{"model": name, "input": tensor name, "output": tensor name, "shape": [...], "data": [flat floats]}]
"""
import asyncio
import json
import sys

import httpx
import numpy as np
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

base, cases = sys.argv[1], json.load(open(sys.argv[2]))


async def main():
    out = {}
    async with InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=60)) as client:
        out["live"] = await client.is_server_live(base)
        out["ready"] = await client.is_server_ready(base)
        for case in cases:
            model = case["model"]
            tensor = np.array(case["data"], dtype=np.float32).reshape(case["shape"])
            seen = {"model_ready": await client.is_model_ready(base, model)}
            for mode, binary_in, binary_out in (("json", False, False), ("binary_in", True, False), ("binary", True, True)):
                inp = InferInput(case["input"], list(tensor.shape), "FP32")
                inp.set_data_from_numpy(tensor, binary_data=binary_in)
                wanted = RequestedOutput(case["output"], parameters={"binary_data": True} if binary_out else None)
                headers = {}
                res = await client.infer(base, InferRequest(model, [inp], request_outputs=[wanted]), model_name=model, response_headers=headers)
                output = next(o for o in res.outputs if o.name == case["output"])
                seen[mode] = {"shape": list(output.shape), "data": output.as_numpy().astype(np.float64).flatten().tolist(), "binary_response": "inference-header-content-length" in headers}
            out[model] = seen
        try:
            await client.infer(base, InferRequest("no-such-model", [InferInput("x", [1], "FP32", [0.0])]), model_name="no-such-model")
            out["missing"] = None
        except httpx.HTTPStatusError as e:
            out["missing"] = {"status": e.response.status_code, "message": str(e)}
    print(json.dumps(out))


asyncio.run(main())
